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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConfirmationsQuery {
    /// Default `call_back`.
    pub state: Option<ConfirmationState>,
    /// Page size.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Entries to skip.
    pub offset: Option<u64>,
}

/// Confirmation calls in one state, the oldest change first.
///
/// By default those that reached nobody and wait on an agent's call-back list. Roles: agent,
/// supervisor, admin, officer (their department's only); integrations with the personal-data
/// scope.
#[utoipa::path(get, path = "/confirmations", tag = "tickets", operation_id = "list_confirmations", params(ConfirmationsQuery), responses(
    (status = 200, description = "A page of confirmation calls", body = PageBody<Confirmation>),
))]
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
