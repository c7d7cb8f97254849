//! Extractors whose rejections are [`ApiError`]s, so a bad body, query or path answers with the same
//! `{"error": …}` shape as every other failure. They are axum's own extractors, wrapped with
//! `#[derive(FromRequest)]` / `#[derive(FromRequestParts)]`.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

/// A JSON body (bad JSON → 400 `malformed_json`, wrong shape → 400, no JSON content type → 415,
/// too large → 413).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string (bad value or unknown parameter → 400).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters (→ 400 when they do not parse).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
