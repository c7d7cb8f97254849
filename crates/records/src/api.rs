//! The records' part of `/api/v1`: `GET /reports/calls` (a [`ReportDocument`]: the [`Report`] with the
//! ticket store's escalations per department and level, what the web pages chart)
//! and `GET /calls` (call records, a page at a time). The same tokens, roles and error shape as the
//! ticket API (`tickets::api`), whose state the routes share; the record store comes as an extension.
//!
//! Who sees what: reports are statistics ([`Action::Stats`]): an officer's report is forced to their own
//! department and holds no queue or agent figures. Call records are the call centre's: supervisors and
//! admins see them whole; agents see them with the caller's number masked (`*********3210`: they have
//! no need for the identities of calls they did not take); officers and integrations not at all.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::{Json, http::HeaderValue, http::header, response::IntoResponse, response::Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tickets::api::extract::ApiQuery;
use tickets::api::{Action, ApiError, ApiState, Caller};
use tickets::model::Role;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::escalation::{LevelFigures, escalations};
use crate::model::{CallRecord, Outcome, mask_number};
use crate::report::{Granularity, QueueTarget, Report, ReportSpec};
use crate::store::{CallQuery, RecordStore};

/// The longest period one report covers.
pub const MAX_REPORT_DAYS: i64 = 366;
/// The longest period reported per hour.
pub const MAX_HOURLY_DAYS: i64 = 31;
/// Largest page of call records.
pub const MAX_CALLS_PAGE: u32 = 500;

/// What the records routes need besides the ticket API's state.
#[derive(Debug, Clone)]
pub struct RecordsApi {
    pub store: RecordStore,
    /// Reports group by this zone's local hours and days; dates in queries are its dates.
    pub time_zone: Tz,
    /// The service-level target of a queue not in `queues`.
    pub service_level_seconds: u32,
    /// Each queue's targets (the call centre's `queues.toml`).
    pub queues: Arc<BTreeMap<String, QueueTarget>>,
}

/// The routes with their operations, to merge into the ticket API's router before it gets its
/// state (`tickets::api::router_with`).
pub fn routes(records: RecordsApi) -> OpenApiRouter<ApiState> {
    paths().layer(Extension(records))
}

/// The routes without their store: what the OpenAPI document of them is made from.
pub fn paths() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(calls))
}

/// What `GET /reports/calls` answers (and `helpline report --json` prints): the report, and the
/// complaints and overdue ones per department and level (all complaints, now: see
/// [`escalation`](crate::escalation)).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportDocument {
    #[serde(flatten)]
    pub report: Report,
    pub escalations: Vec<LevelFigures>,
}

/// `from` and `to` are local dates, both included; without them, today.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The first local date (default today).
    pub from: Option<NaiveDate>,
    /// The last local date, included (default `from`); at most 366 days after it.
    pub to: Option<NaiveDate>,
    /// `hour` or `day` (default: `hour` for one day, else `day`); `hour` for at most 31 days.
    #[param(value_type = Option<Granularity>)]
    pub by: Option<String>,
    pub department: Option<String>,
    pub language: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
}

/// The instants of local dates `from..=to` in `zone`, checked.
pub fn period(
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    if to < from {
        return Err(format!("to ({to}) is before from ({from})"));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_REPORT_DAYS {
        return Err(format!(
            "{days} days asked for; a report covers at most {MAX_REPORT_DAYS}"
        ));
    }
    let start = |date: NaiveDate| {
        zone.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("{date} has no midnight in {zone}"))
    };
    let next = to
        .succ_opt()
        .ok_or_else(|| format!("{to} is the last date there is"))?;
    Ok((start(from)?, start(next)?))
}

/// The local date of `now` in `zone`.
pub fn today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// A report of the calls, queues and agents of a period, with the complaints per department and
/// level.
///
/// Roles: supervisor, admin, officer (their department's, without queue or agent figures).
#[utoipa::path(get, path = "/reports/calls", tag = "records", params(ReportQuery), responses(
    (status = 200, description = "The report", body = ReportDocument),
))]
async fn report(
    State(state): State<ApiState>,
    Extension(records): Extension<RecordsApi>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Stats)?;
    let now = state.service.clock().now();
    let today = today(records.time_zone, now);
    let (from_date, to_date) = (q.from.unwrap_or(today), q.to.or(q.from).unwrap_or(today));
    let (from, to) =
        period(records.time_zone, from_date, to_date).map_err(|e| ApiError::invalid("to", e))?;
    let days = (to_date - from_date).num_days() + 1;
    let granularity = match q.by.as_deref() {
        None if days == 1 => Granularity::Hour,
        None => Granularity::Day,
        Some(by) => by.parse().map_err(|e: String| ApiError::invalid("by", e))?,
    };
    if granularity == Granularity::Hour && days > MAX_HOURLY_DAYS {
        return Err(ApiError::invalid(
            "by",
            format!("by=hour covers at most {MAX_HOURLY_DAYS} days; ask by=day"),
        ));
    }
    let department = match caller.role() {
        Role::Officer => {
            let own = caller.department().map(str::to_owned);
            if q.department.is_some() && q.department != own {
                return Err(ApiError::forbidden(
                    "officers see only their own department's figures",
                ));
            }
            own
        }
        _ => q.department,
    };
    let officer = caller.role() == Role::Officer;
    let spec = ReportSpec {
        granularity,
        service_level_seconds: records.service_level_seconds,
        queues: records.queues.as_ref().clone(),
        department,
        language: q.language,
        queue: q.queue,
        agent: q.agent,
        ..ReportSpec::new(from, to, records.time_zone, now)
    };
    let escalations = escalations(state.service.store(), spec.department.as_deref(), now)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut report: Report = records
        .store
        .report(spec)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if officer {
        report.queues.clear();
        report.agents.clear();
    }
    Ok(no_store(Json(ReportDocument {
        report,
        escalations,
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// The first local date (default today).
    pub from: Option<NaiveDate>,
    /// The last local date, included (default `from`).
    pub to: Option<NaiveDate>,
    /// Only this kind of outcome (`complaint_filed`, `to_agent`, `transferred` …).
    pub outcome: Option<String>,
    pub language: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

/// A page of call records.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallsPage {
    pub calls: Vec<CallRecord>,
    pub limit: u32,
    pub offset: u64,
    /// Whether the caller's numbers are masked for this role.
    pub masked: bool,
}

/// Call records of a period, a page at a time.
///
/// Roles: supervisor, admin; agents with the callers' numbers masked.
#[utoipa::path(get, path = "/calls", tag = "records", params(CallsQuery), responses(
    (status = 200, description = "A page of call records", body = CallsPage),
))]
async fn calls(
    State(state): State<ApiState>,
    Extension(records): Extension<RecordsApi>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallsQuery>,
) -> Result<Response, ApiError> {
    let masked = match caller.role() {
        Role::Supervisor | Role::Admin => false,
        Role::Agent => true,
        other => {
            return Err(ApiError::forbidden(format!(
                "a {other} token may not read call records"
            )));
        }
    };
    let now = state.service.clock().now();
    let today = today(records.time_zone, now);
    let (from, to) = period(
        records.time_zone,
        q.from.unwrap_or(today),
        q.to.or(q.from).unwrap_or(today),
    )
    .map_err(|e| ApiError::invalid("to", e))?;
    if let Some(outcome) = &q.outcome
        && !Outcome::KINDS.contains(&outcome.as_str())
    {
        return Err(ApiError::invalid(
            "outcome",
            format!("must be one of {}", Outcome::KINDS.join(", ")),
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_CALLS_PAGE {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {MAX_CALLS_PAGE}"),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    let query = CallQuery {
        from: Some(from),
        to: Some(to),
        language: q.language,
        queue: q.queue,
        agent: q.agent,
        outcome: q.outcome,
        limit: Some(limit),
        offset,
    };
    let mut calls = records
        .store
        .calls(&query)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if masked {
        for call in &mut calls {
            call.caller = mask_number(&call.caller);
            call.caller_raw = mask_number(&call.caller_raw);
        }
    }
    Ok(no_store(Json(CallsPage {
        calls,
        limit,
        offset,
        masked,
    })))
}

/// Personal data and figures of the day: never kept by a cache.
fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
