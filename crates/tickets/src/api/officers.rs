//! The officers (`/officers`): whom a department's tickets are assigned to, level by level, and
//! how each is reminded of a complaint nearing or past its due time. Administrators create,
//! change and deactivate them (each in the account audit); supervisors and officers list them
//! (an officer their own department's), to assign a ticket by id.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::model::Role;
use crate::officers::{Officer, OfficerInput};
use crate::store::OfficerError;

use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::IdPath;
use super::{ApiState, PageBody};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfficersQuery {
    /// Only this department's (an officer always sees their own department's only).
    pub department: Option<String>,
    /// Also the deactivated ones (default: active only).
    pub all: Option<bool>,
}

impl From<OfficerError> for ApiError {
    fn from(err: OfficerError) -> Self {
        match err {
            OfficerError::Store(e) => e.into(),
            OfficerError::Invalid(problems) => ApiError::invalid("officer", problems.to_string()),
            OfficerError::NotFound(id) => ApiError::not_found(format!("no officer {id}")),
        }
    }
}

/// List officers, by department, level and id.
///
/// Roles: supervisor, admin; an officer sees their own department's. Active ones only unless
/// `all=true`.
#[utoipa::path(get, path = "/officers", tag = "officers", operation_id = "list_officers", params(OfficersQuery), responses(
    (status = 200, description = "The officers", body = PageBody<Officer>),
))]
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OfficersQuery>,
) -> Result<Json<PageBody<Officer>>, ApiError> {
    caller.require(Action::ListOfficers)?;
    let department = match caller.role() {
        Role::Officer => Some(caller.department().unwrap_or_default().to_owned()),
        _ => q.department,
    };
    let all = q.all.unwrap_or(false);
    let items: Vec<Officer> = state
        .service
        .store()
        .officers(department.as_deref())
        .await?
        .into_iter()
        .filter(|o| all || o.active)
        .collect();
    let total = items.len() as u64;
    let page = crate::model::Page {
        limit: u32::try_from(items.len()).unwrap_or(u32::MAX),
        offset: 0,
    };
    Ok(Json(PageBody::new(items, total, page)))
}

/// One officer.
///
/// Roles: supervisor, admin; an officer their own department's.
#[utoipa::path(get, path = "/officers/{id}", tag = "officers", params(IdPath), responses(
    (status = 200, description = "The officer", body = Officer),
))]
pub(crate) async fn get_one(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Officer>, ApiError> {
    caller.require(Action::ListOfficers)?;
    let officer = state
        .service
        .store()
        .officer(id)
        .await?
        .filter(|o| {
            caller.role() != Role::Officer || caller.department() == Some(&o.department_code)
        })
        .ok_or(OfficerError::NotFound(id))?;
    Ok(Json(officer))
}

/// Create an officer (name, department_code, level and phone required).
///
/// Roles: admin. The phone is normalised like a caller id (`098160 12345` → `+919816012345`);
/// every problem is reported at once. In the account audit (`officer_created`). Tickets of the
/// department assigned by free text to the officer's name (or id) by an earlier build are adopted.
#[utoipa::path(post, path = "/officers", tag = "officers", request_body = OfficerInput, responses(
    (status = 201, description = "The officer", body = Officer),
))]
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<OfficerInput>,
) -> Result<(axum::http::StatusCode, Json<Officer>), ApiError> {
    caller.require(Action::ManageOfficers)?;
    let now = state.service.clock().now();
    let officer = state
        .service
        .store()
        .create_officer(&body, &caller.actor(), now)
        .await?;
    tracing::info!(actor = %caller.actor(), officer = officer.id, "officer created");
    Ok((axum::http::StatusCode::CREATED, Json(officer)))
}

/// Change an officer: only the fields the body names.
///
/// Roles: admin. In the account audit (`officer_updated`, or `officer_deactivated` when `active`
/// becomes false).
#[utoipa::path(patch, path = "/officers/{id}", tag = "officers", params(IdPath),
    request_body = OfficerInput, responses(
    (status = 200, description = "The officer", body = Officer),
))]
pub(crate) async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OfficerInput>,
) -> Result<Json<Officer>, ApiError> {
    caller.require(Action::ManageOfficers)?;
    let now = state.service.clock().now();
    let officer = state
        .service
        .store()
        .update_officer(id, &body, &caller.actor(), now)
        .await?;
    Ok(Json(officer))
}

/// Deactivate an officer.
///
/// Roles: admin. No longer assigned, escalated to or reminded (the department's nodal officer is
/// reminded of their tickets); tickets keep their name. In the account audit
/// (`officer_deactivated`).
#[utoipa::path(post, path = "/officers/{id}/deactivate", tag = "officers", params(IdPath), responses(
    (status = 200, description = "The officer, inactive", body = Officer),
))]
pub(crate) async fn deactivate(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Officer>, ApiError> {
    caller.require(Action::ManageOfficers)?;
    let now = state.service.clock().now();
    let officer = state
        .service
        .store()
        .deactivate_officer(id, &caller.actor(), now)
        .await?;
    Ok(Json(officer))
}
