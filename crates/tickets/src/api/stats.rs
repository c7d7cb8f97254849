//! Statistics: the headline figures (optionally for one department) and the per-department report.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::model::{DepartmentFigures, Role, TicketStats};
use crate::validate;

use super::ApiState;
use super::auth::{Action, Caller};
use super::error::ApiError;
use super::extract::ApiQuery;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Only this department.
    #[param(pattern = "^[A-Z]{2,6}$")]
    pub department: Option<String>,
}

/// Headline figures: share disposed, share satisfied, counts by status and level, overdue.
///
/// Roles: supervisor, admin, officer (own department).
#[utoipa::path(get, path = "/stats", tag = "stats", params(StatsQuery), responses(
    (status = 200, description = "The figures", body = TicketStats),
))]
pub(crate) async fn stats(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<TicketStats>, ApiError> {
    caller.require(Action::Stats)?;
    let department = q
        .department
        .map(|d| validate::department_code(&d))
        .transpose()?;
    let department = match caller.role() {
        Role::Officer => {
            if department.is_some() && department.as_deref() != caller.department() {
                return Err(ApiError::forbidden(
                    "officers see only their own department's figures",
                ));
            }
            caller.department().map(str::to_owned)
        }
        _ => department,
    };
    let now = state.service.clock().now();
    Ok(Json(
        state
            .service
            .store()
            .stats(department.as_deref(), now)
            .await?,
    ))
}

/// The headline figures per department.
///
/// Same roles as `/stats`: supervisors and admins see every department with tickets; an officer
/// sees only their own department's row (none if it has no tickets yet). Ordered by code.
#[utoipa::path(get, path = "/stats/departments", tag = "stats", responses(
    (status = 200, description = "One row per department with tickets", body = Vec<DepartmentFigures>),
))]
pub(crate) async fn department_stats(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<DepartmentFigures>>, ApiError> {
    caller.require(Action::Stats)?;
    let now = state.service.clock().now();
    let mut report = state.service.store().department_report(now).await?;
    if caller.role() == Role::Officer {
        let own = caller.department();
        report.retain(|d| Some(d.code.as_str()) == own);
    }
    Ok(Json(report))
}
