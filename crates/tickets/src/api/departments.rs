//! Departments: the list, and an admin setting a department's SLA.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::error::StoreError;
use crate::model::Department;
use crate::validate;

use super::ApiState;
use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentBody {
    /// Days an officer has at each level.
    #[schema(minimum = 1, maximum = 365)]
    pub sla_days: u32,
}

/// `{code}`: a department's code in a path.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    #[param(pattern = "^[A-Z]{2,6}$")]
    pub code: String,
}

/// Departments with their SLA.
///
/// Roles: all roles.
#[utoipa::path(get, path = "/departments", tag = "departments", responses(
    (status = 200, description = "Every department", body = Vec<Department>),
))]
pub(crate) async fn departments(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<Department>>, ApiError> {
    caller.require(Action::ReadDepartments)?;
    Ok(Json(state.service.store().departments().await?))
}

/// Change a department's SLA (applies to due dates set from now on).
///
/// Roles: admin.
#[utoipa::path(patch, path = "/departments/{code}", tag = "departments", params(CodePath),
    request_body = DepartmentBody, responses(
    (status = 200, description = "The department", body = Department),
))]
pub(crate) async fn configure_department(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> Result<Json<Department>, ApiError> {
    caller.require(Action::ConfigureDepartment)?;
    let code = validate::department_code(&code)?;
    if !(1..=365).contains(&body.sla_days) {
        return Err(ApiError::invalid("sla_days", "must be 1..=365"));
    }
    let department = state
        .service
        .store()
        .set_department_sla(&code, body.sla_days)
        .await
        .map_err(|e| match e {
            StoreError::UnknownDepartment(c) => ApiError::not_found(format!("no department {c}")),
            other => other.into(),
        })?;
    tracing::info!(actor = %caller.actor(), code = %code, sla_days = body.sla_days, "department SLA changed");
    Ok(Json(department))
}
