//! The confirmation calls' lists (`GET /confirmations?state=call_back`): the complaints whose
//! confirmation calls reached nobody and wait on an agent's call-back list (the desk shows them),
//! or any other state. Bulk personal data (the complainants' numbers): `List` is required, and an
//! officer sees their own department's only.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::model::ConfirmationState;
use crate::store::Confirmation;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::ApiQuery;
use super::{ApiState, PageBody, PageQuery};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationsQuery {
    /// Default `call_back`.
    pub state: Option<ConfirmationState>,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

/// A page of confirmation calls in one state, the oldest change first.
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ConfirmationsQuery>,
) -> Result<Json<PageBody<Confirmation>>, ApiError> {
    caller.require(Action::List)?;
    let page = PageQuery::page(q.limit, q.offset)?;
    let wanted = q.state.unwrap_or(ConfirmationState::CallBack);
    let department = match caller.role() {
        crate::model::Role::Officer => Some(caller.department().unwrap_or_default().to_owned()),
        _ => None,
    };
    let (items, total) = state
        .service
        .store()
        .confirmations_page(wanted, department.as_deref(), page)
        .await?;
    Ok(Json(PageBody::new(items, total, page)))
}
