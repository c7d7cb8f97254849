//! The call centre over HTTP, under `/api/v1/centre`, with the accounts of the tickets API (the same
//! sessions, roles and errors):
//!
//! - agents (`take calls`): `POST /centre/me/login` (`{"phone": …}`, else their profile's),
//!   `/centre/me/logout`, `/centre/me/pause` (`{"reason": "lunch"}`), `/centre/me/resume`,
//!   `/centre/me/call` (click to call: `{"callback": <slot>}` or `{"ticket": <number>}` — the
//!   ACD rings the agent's phone, then the citizen's, and bridges them; audited),
//!   `/centre/me/disposition` (ends the wrap-up; `{"code": …}`, one of [`DISPOSITIONS`], is
//!   audited with the call), `/centre/me/hold`, `/centre/me/hangup` (ends the call for both sides), `/centre/me/transfer` (`{"to": …, "tickets": […]}`:
//!   the complaints filed during the call are noted beside the call's own);
//! - supervisors (`supervise`): `POST /centre/agents/{login}/pause`, `/centre/agents/{login}/logout`,
//!   `POST /centre/calls/{call}/move` (`{"queue": …}` or `{"agent": …}`) — each audited with the
//!   supervisor's name;
//! - supervisors: `GET /centre/complaints` (the wallboard's complaints: overdue per department and
//!   level, escalations today);
//! - both: `GET /centre/callbacks` (the virtual-hold call-back slots: an agent's own list — assigned
//!   to them, or unassigned in their queues and skills — with the numbers of those not theirs
//!   masked; a supervisor's, all of them);
//! - both: `GET /centre` (the picture now; callers' numbers masked for agents) and
//!   `GET /centre/events`, a Server-Sent Events stream: a `snapshot` event, then `agent`, `queue`
//!   and `ivr` (the calls in the IVR now, when the number changed) events as they happen. A reader
//!   that falls [`super::LIVE_CAPACITY`] events behind gets a fresh `snapshot` instead of what it
//!   missed; the call centre never waits for a reader.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tickets::accounts::{AccountEvent, Principal};
use tickets::api::extract::{ApiJson, ApiPath};
use tickets::api::openapi::{Conflict, LoginPath, NotFound};
use tickets::api::{Action, ApiError, ApiState, Caller};
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CentreError, CentreHandle, Snapshot};

/// The time zone whose day "today" is (`records.time_zone`).
#[derive(Debug, Clone, Copy)]
struct Zone(chrono_tz::Tz);

/// The routes, to merge into the tickets API (`tickets::api::router_with`); `zone`: whose day
/// "escalations today" counts.
pub fn routes(centre: CentreHandle, zone: chrono_tz::Tz) -> OpenApiRouter<ApiState> {
    paths()
        .layer(Extension(centre))
        .layer(Extension(Zone(zone)))
}

/// The routes with their operations, without the centre: what the OpenAPI document of them is
/// made from.
pub fn paths() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(snapshot))
        .routes(routes!(complaints))
        .routes(routes!(events))
        .routes(routes!(callbacks))
        .routes(routes!(call_now))
        .routes(routes!(log_in))
        .routes(routes!(log_out))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(disposition))
        .routes(routes!(hold))
        .routes(routes!(hang_up))
        .routes(routes!(transfer))
        .routes(routes!(complete_transfer))
        .routes(routes!(cancel_transfer))
        .routes(routes!(supervise))
        .routes(routes!(force_pause))
        .routes(routes!(force_log_out))
        .routes(routes!(move_call))
}

/// `{call}`: a call's id in a path.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct CallPath {
    #[allow(dead_code)]
    call: String,
}

impl From<CentreError> for ApiError {
    fn from(err: CentreError) -> Self {
        use acd::AcdError as E;
        match err {
            CentreError::Unavailable => ApiError::unavailable("the call centre is not running"),
            e @ CentreError::NotOnCall(_) => ApiError::conflict("not_on_call", e.to_string()),
            e @ CentreError::NoSuchDestination(_) => ApiError::invalid("to", e.to_string()),
            CentreError::Refused(e @ (E::UnknownAgent(_) | E::UnknownCall(_))) => {
                ApiError::not_found(e.to_string())
            }
            CentreError::Refused(e @ E::UnknownQueue(_)) => {
                ApiError::invalid("queue", e.to_string())
            }
            CentreError::Refused(e) => ApiError::conflict("conflict", e.to_string()),
        }
    }
}

/// The caller's login, for `me` routes: a person's session or token.
fn me(caller: &Caller) -> Result<String, ApiError> {
    caller.require(Action::TakeCalls)?;
    match &caller.identity().principal {
        Principal::User(user) => Ok(user.login.clone()),
        _ => Err(ApiError::forbidden("only a person logs in to take calls")),
    }
}

#[utoipa::path(get, path = "/centre", tag = "centre", responses(
    (status = 200, description = "The call centre now (callers' numbers masked for agents but on their own call)", body = Snapshot),
))]
async fn snapshot(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<Json<Snapshot>, ApiError> {
    let supervisor = can_supervise(&caller)?;
    let mut snapshot = centre.snapshot().await?;
    if !supervisor {
        mask(&mut snapshot, login_of(&caller).as_deref());
    }
    Ok(Json(snapshot))
}

/// Supervisors see everything; agents see the floor with callers' numbers masked; others nothing.
fn can_supervise(caller: &Caller) -> Result<bool, ApiError> {
    if caller.require(Action::Supervise).is_ok() {
        return Ok(true);
    }
    caller.require(Action::TakeCalls)?;
    Ok(false)
}

/// An agent sees the floor with callers' numbers masked, but for the call they are on.
fn mask(snapshot: &mut Snapshot, me: Option<&str>) {
    for waiting in &mut snapshot.waiting {
        waiting.caller = records::mask_number(&waiting.caller);
    }
    for call in &mut snapshot.calls {
        if me.is_none() || call.agent.as_deref() != me {
            call.call.caller = records::mask_number(&call.call.caller);
        }
    }
}

/// The call-back slots a list shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallbacksBody {
    pub items: Vec<acd::CallbackSlot>,
}

/// An agent's call-back list of virtual-hold slots (theirs and the ones they could take), the
/// numbers of those not assigned to them masked like waiting callers'; a supervisor's, every slot.
#[utoipa::path(get, path = "/centre/callbacks", tag = "centre", responses(
    (status = 200, description = "The call-back slots on the caller's list (an agent's: theirs and their queues' unassigned ones their skills cover, the numbers not theirs masked; a supervisor's: all), queue by queue in queue order", body = CallbacksBody),
))]
async fn callbacks(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<Json<CallbacksBody>, ApiError> {
    if can_supervise(&caller)? {
        let items = centre.callbacks(None).await?;
        return Ok(Json(CallbacksBody { items }));
    }
    let login = me(&caller)?;
    let mut items = match centre.callbacks(Some(&login)).await {
        Ok(items) => items,
        // An agent the call centre has not seen yet (never logged in) has nothing on the list.
        Err(CentreError::Refused(acd::AcdError::UnknownAgent(_))) => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    for slot in &mut items {
        if slot.agent.as_ref().map(acd::AgentId::as_str) != Some(login.as_str()) {
            slot.info.number = records::mask_number(&slot.info.number);
        }
    }
    Ok(Json(CallbacksBody { items }))
}

/// One of the two.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// A call-back slot of `GET /centre/callbacks`.
    pub callback: Option<String>,
    /// A complaint whose complainant to call (an after-hours complaint, a satisfaction call that
    /// reached nobody): the number is the ticket's, never the page's.
    pub ticket: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallPlaced {
    /// The call's id in the call centre (the floor's `calls`).
    pub call: String,
}

/// Click to call: the ACD books a call-back for this agent now — their phone rung first, then the
/// citizen's, bridged — if they are available or in wrap-up (409 otherwise). Audited.
#[utoipa::path(post, path = "/centre/me/call", tag = "centre", request_body = CallBody, responses(
    (status = 202, description = "Placed: the agent's phone rings, then the citizen's", body = CallPlaced),
    (status = 404, response = NotFound), (status = 409, response = Conflict),
))]
async fn call_now(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiJson(body): ApiJson<CallBody>,
) -> Result<(StatusCode, Json<CallPlaced>), ApiError> {
    let login = me(&caller)?;
    let (call, target, subject) = match (body.callback, body.ticket) {
        (Some(slot), None) => (slot.clone(), acd::CallNowTarget::Slot, slot),
        (None, Some(number)) => {
            caller.require(Action::Read)?;
            let ticket = tickets::api::tickets::load_ticket(&state, &caller, &number).await?;
            if ticket.caller_number == "unknown" {
                return Err(ApiError::conflict(
                    "no_number",
                    format!("ticket {} has no number to call", ticket.number),
                ));
            }
            let now = state.service.clock().now();
            let call = format!("dial-{}-{}", ticket.number, now.timestamp_millis());
            let info = acd::CallInfo {
                number: ticket.caller_number.clone(),
                language: match ticket.language.as_str() {
                    "en" => acd::Language::En,
                    _ => acd::Language::Hi,
                },
                department: Some(ticket.department_code.clone()),
                helpline: acd::Helpline::Grievance,
                open_complaint: ticket.status.is_open(),
                complaints: vec![ticket.number.to_string()],
            };
            (
                call,
                acd::CallNowTarget::Citizen(info),
                ticket.number.to_string(),
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                "give one of `callback` (a call-back slot) or `ticket` (a complaint number)",
            ));
        }
    };
    centre
        .input(acd::Input::CallNow {
            agent: acd::AgentId::new(&login),
            call: acd::CallId::new(&call),
            target,
        })
        .await?;
    let event = AccountEvent::new(
        state.service.clock().now(),
        &caller.identity().actor(),
        "click_to_call",
        Some(subject),
    )
    .detail(call.clone());
    state.service.store().record_account_event(&event).await?;
    Ok((StatusCode::ACCEPTED, Json(CallPlaced { call })))
}

/// The wallboard's complaints: open ones overdue per department and level, and the escalations
/// made today.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintsBoard {
    pub at: chrono::DateTime<chrono::Utc>,
    /// When "today" began (local midnight in `records.time_zone`).
    pub since: chrono::DateTime<chrono::Utc>,
    /// Per department and level holding complaints (the reports' figures, as they stand now).
    pub levels: Vec<records::escalation::LevelFigures>,
    /// Escalations made today, per department and the level raised to.
    pub escalated_today: Vec<EscalatedToday>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EscalatedToday {
    pub department: String,
    pub level: u8,
    pub escalations: u64,
}

#[utoipa::path(get, path = "/centre/complaints", tag = "centre", responses(
    (status = 200, description = "The wallboard's complaints: overdue per department and level, escalations today", body = ComplaintsBoard),
))]
async fn complaints(
    State(state): State<ApiState>,
    Extension(Zone(zone)): Extension<Zone>,
    caller: Caller,
) -> Result<Json<ComplaintsBoard>, ApiError> {
    caller.require(Action::Supervise)?;
    let store = state.service.store();
    let now = state.service.clock().now();
    let since = start_of_day(zone, now);
    let levels = records::escalation::escalations(store, None, now).await?;
    let escalated_today = store
        .escalations_since(since)
        .await?
        .into_iter()
        .map(|(department, level, escalations)| EscalatedToday {
            department,
            level,
            escalations,
        })
        .collect();
    Ok(Json(ComplaintsBoard {
        at: now,
        since,
        levels,
        escalated_today,
    }))
}

/// Local midnight of `now`'s day in `zone` (the earliest, on a day that repeats an hour).
fn start_of_day(
    zone: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone as _;
    let day = now.with_timezone(&zone).date_naive();
    zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or(now, |t| t.with_timezone(&chrono::Utc))
}

fn login_of(caller: &Caller) -> Option<String> {
    match &caller.identity().principal {
        Principal::User(user) => Some(user.login.clone()),
        _ => None,
    }
}

#[utoipa::path(get, path = "/centre/events", tag = "centre", responses(
    (status = 200, description = "Server-Sent Events: a `snapshot` event (a Snapshot), then `agent`, `queue` and `ivr` events as they happen; a fresh `snapshot` for a reader that fell behind", content_type = "text/event-stream", body = String),
))]
async fn events(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let supervisor = can_supervise(&caller)?;
    let me = login_of(&caller);
    // Subscribed before the snapshot is taken: nothing falls between the two.
    let mut live = centre.subscribe();
    let first = centre.snapshot().await?;
    let stream = async_stream(move |tx| async move {
        let mut snapshot = Some(first);
        loop {
            if let Some(mut s) = snapshot.take() {
                if !supervisor {
                    mask(&mut s, me.as_deref());
                }
                if tx.send(json_event("snapshot", &s)).await.is_err() {
                    return;
                }
            }
            // A stream never ends by itself: it ends with the call centre (a node shutting down),
            // so the server's graceful shutdown is not held up by it and the page reconnects.
            let next = tokio::select! {
                () = centre.stopped() => return,
                next = live.recv() => next,
            };
            match next {
                Ok(event) => {
                    let name = match &event {
                        super::LiveEvent::Agent(_) => "agent",
                        super::LiveEvent::Queue { .. } => "queue",
                        super::LiveEvent::Ivr { .. } => "ivr",
                    };
                    if tx.send(json_event(name, &event)).await.is_err() {
                        return;
                    }
                }
                // Fell behind: start again from the picture now.
                Err(RecvError::Lagged(_)) => match centre.snapshot().await {
                    Ok(s) => snapshot = Some(s),
                    Err(_) => return,
                },
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn json_event(name: &str, value: &impl serde::Serialize) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event(name)
        .json_data(value)
        .unwrap_or_else(|_| Event::default().event(name).data("{}")))
}

/// A stream fed by a task through a small bounded channel: a reader that does not read holds one
/// task and a few events, never the call centre.
fn async_stream<F, Fut>(produce: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(produce(tx));
    tokio_stream_from(rx)
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CentreLogin)]
pub struct LoginBody {
    /// The phone to ring (a dial string); default: the agent profile's.
    pub phone: Option<String>,
}

#[utoipa::path(post, path = "/centre/me/login", tag = "centre", request_body(content = LoginBody, description = "Optional: without it, the agent profile's phone"), responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn log_in(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    // The body is optional: none (or `{}`) rings the profile's phone.
    let body: LoginBody = optional_body(&body)?;
    let profile = tickets::accounts::agent::agent_profile(state.service.store(), &login)
        .await
        .map_err(|_| {
            ApiError::forbidden(format!(
                "{login} has no agent profile: a supervisor sets one (helpline user agent)"
            ))
        })?;
    let phone = match body.phone {
        Some(phone) => tickets::accounts::agent::dial_string("phone", &phone)
            .map_err(|e| ApiError::invalid("phone", e.to_string()))?,
        None => profile.phone.clone().ok_or_else(|| {
            ApiError::invalid(
                "phone",
                "no phone in the agent profile: name the one to ring",
            )
        })?,
    };
    let departments: Vec<String> = if profile.departments.is_empty() {
        // No departments in the profile: every department.
        state
            .service
            .store()
            .departments()
            .await?
            .into_iter()
            .map(|d| d.code)
            .collect()
    } else {
        profile.departments.clone()
    };
    let skills = super::skills(&profile, departments)
        .map_err(|message| ApiError::invalid("helplines", message))?;
    centre
        .input(acd::Input::LogIn {
            agent: acd::AgentId::new(&login),
            phone,
            skills,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/centre/me/logout", tag = "centre", responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn log_out(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let agent = acd::AgentId::new(&me(&caller)?);
    centre.input(acd::Input::LogOut { agent }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// `break`, `lunch`, `training`, `meeting`, `outbound`, `system`.
    #[schema(value_type = PauseReasonName)]
    pub reason: String,
}

/// The pause reasons an agent or a supervisor may give, as the document names them: the ACD's
/// (`acd::PauseReason::ALL`) but `no_answer`, which is the ACD's own.
struct PauseReasonName;

impl utoipa::PartialSchema for PauseReasonName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(
                acd::PauseReason::ALL
                    .into_iter()
                    .filter(|r| *r != acd::PauseReason::NoAnswer)
                    .map(|r| r.as_str()),
            ))
            .into()
    }
}

impl utoipa::ToSchema for PauseReasonName {}

fn pause_reason(raw: &str) -> Result<acd::PauseReason, ApiError> {
    acd::PauseReason::ALL
        .into_iter()
        .find(|r| r.as_str() == raw && *r != acd::PauseReason::NoAnswer)
        .ok_or_else(|| {
            ApiError::invalid(
                "reason",
                "one of break, lunch, training, meeting, outbound, system",
            )
        })
}

#[utoipa::path(post, path = "/centre/me/pause", tag = "centre", request_body = PauseBody, responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn pause(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiJson(body): ApiJson<PauseBody>,
) -> Result<StatusCode, ApiError> {
    let agent = acd::AgentId::new(&me(&caller)?);
    let reason = pause_reason(&body.reason)?;
    centre.input(acd::Input::Pause { agent, reason }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/centre/me/resume", tag = "centre", responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn resume(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let agent = acd::AgentId::new(&me(&caller)?);
    centre.input(acd::Input::Resume { agent }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How an agent may say a call ended, when they end its wrap-up (the desktop's choices).
pub const DISPOSITIONS: [&str; 7] = [
    "resolved",
    "complaint_filed",
    "status_given",
    "transferred",
    "wrong_number",
    "silent",
    "abusive",
];

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionBody {
    /// One of [`DISPOSITIONS`]; audited with the call it ends.
    pub code: Option<String>,
}

#[utoipa::path(post, path = "/centre/me/disposition", tag = "centre", request_body(content = DispositionBody, description = "Optional: the call's disposition code"), responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn disposition(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    // The body is optional: none (or `{}`) only ends the wrap-up.
    let body: DispositionBody = optional_body(&body)?;
    let code = body
        .code
        .map(|code| {
            DISPOSITIONS
                .into_iter()
                .find(|known| *known == code)
                .ok_or_else(|| ApiError::invalid("code", DISPOSITIONS.join(", ")))
        })
        .transpose()?;
    // The call the wrap-up is for, read before it ends.
    let call = match code {
        Some(_) => centre
            .snapshot()
            .await?
            .agents
            .into_iter()
            .find(|a| a.agent == login)
            .and_then(|a| a.call),
        None => None,
    };
    centre
        .input(acd::Input::Disposition {
            agent: acd::AgentId::new(&login),
        })
        .await?;
    if let Some(code) = code {
        let event = AccountEvent::new(
            state.service.clock().now(),
            &caller.identity().actor(),
            "call_disposition",
            Some(call.unwrap_or(login)),
        )
        .detail(code);
        state.service.store().record_account_event(&event).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A JSON body that may be left out (or blank).
fn optional_body<T: Default + serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A supervisor's action, audited with their name before it is carried out.
async fn supervised(
    state: &ApiState,
    caller: &Caller,
    action: &str,
    subject: &str,
    detail: Option<String>,
) -> Result<String, ApiError> {
    caller.require(Action::Supervise)?;
    let actor = caller.identity().actor();
    let mut event = AccountEvent::new(
        state.service.clock().now(),
        &actor,
        action,
        Some(subject.to_owned()),
    );
    if let Some(detail) = detail {
        event = event.detail(detail);
    }
    state.service.store().record_account_event(&event).await?;
    Ok(actor)
}

#[utoipa::path(post, path = "/centre/agents/{login}/pause", tag = "centre", params(LoginPath), request_body = PauseBody, responses(
    (status = 204, description = "Done"), (status = 404, response = NotFound), (status = 409, response = Conflict),
))]
async fn force_pause(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<PauseBody>,
) -> Result<StatusCode, ApiError> {
    let reason = pause_reason(&body.reason)?;
    let supervisor = supervised(
        &state,
        &caller,
        "agent_force_paused",
        &login,
        Some(body.reason),
    )
    .await?;
    centre
        .input(acd::Input::ForcePause {
            agent: acd::AgentId::new(&login),
            reason,
            supervisor,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/centre/agents/{login}/logout", tag = "centre", params(LoginPath), responses(
    (status = 204, description = "Done"), (status = 404, response = NotFound), (status = 409, response = Conflict),
))]
async fn force_log_out(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let supervisor = supervised(&state, &caller, "agent_force_logged_out", &login, None).await?;
    centre
        .input(acd::Input::ForceLogOut {
            agent: acd::AgentId::new(&login),
            supervisor,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub queue: Option<String>,
    pub agent: Option<String>,
}

#[utoipa::path(post, path = "/centre/calls/{call}/move", tag = "centre", params(CallPath), request_body = MoveBody, responses(
    (status = 204, description = "Done"), (status = 404, response = NotFound), (status = 409, response = Conflict),
))]
async fn move_call(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiPath(call): ApiPath<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<StatusCode, ApiError> {
    let (to, detail) = match (body.queue, body.agent) {
        (Some(queue), None) => (
            acd::MoveTarget::Queue(queue.clone()),
            format!("to queue {queue}"),
        ),
        (None, Some(agent)) => (
            acd::MoveTarget::Agent(acd::AgentId::new(&agent)),
            format!("to agent {agent}"),
        ),
        _ => {
            return Err(ApiError::invalid(
                "queue",
                "name either a queue or an agent",
            ));
        }
    };
    let supervisor = supervised(&state, &caller, "call_moved", &call, Some(detail)).await?;
    centre
        .input(acd::Input::Move {
            call: acd::CallId::new(&call),
            to,
            supervisor,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    pub on: bool,
}

#[utoipa::path(post, path = "/centre/me/hold", tag = "centre", request_body = HoldBody, responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn hold(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    centre
        .on_call(&login, super::CallAction::Hold { on: body.on })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The agent ends the call they are on: both sides are hung up, the queue log says the agent
/// completed it, the agent goes to wrap-up. 409 `not_on_call` when they are on none.
#[utoipa::path(post, path = "/centre/me/hangup", tag = "centre", responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn hang_up(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    centre.on_call(&login, super::CallAction::Hangup).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The most complaints filed during a call that a transfer notes.
pub const MAX_TRANSFER_TICKETS: usize = 20;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// An integrated helpline (`181`, `1077`, `hrtc`, `gst`, `nasha`), `queue:NAME` or
    /// `phone:TECH/resource` (an officer's phone).
    pub to: String,
    /// Complaints the agent filed during the call, noted like the call's own.
    #[serde(default)]
    pub tickets: Vec<String>,
    /// `blind` (the default: the agent leaves at once) or `warm` (the agent talks to them first,
    /// then completes or cancels the transfer).
    pub mode: Option<String>,
}

/// A blind transfer with the ticket attached: the complaint numbers go on the channel for the
/// receiving side, and each complaint of the call gets a note saying where it went and who sent it.
#[utoipa::path(post, path = "/centre/me/transfer", tag = "centre", request_body = TransferBody, responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn transfer(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    let to = body.to.trim().to_owned();
    let action = match body.mode.as_deref() {
        None | Some("blind") => super::CallAction::Transfer { to: to.clone() },
        Some("warm") => super::CallAction::Consult { to: to.clone() },
        Some(_) => return Err(ApiError::invalid("mode", "blind or warm")),
    };
    let warm = matches!(action, super::CallAction::Consult { .. });
    let mut complaints = centre.on_call(&login, action).await?;
    // Bounded like any list from outside: a call's own complaints are a handful.
    for number in body.tickets.into_iter().take(MAX_TRANSFER_TICKETS) {
        if !complaints.contains(&number) {
            complaints.push(number);
        }
    }
    if warm {
        // Noted on the tickets when it is completed.
        return Ok(StatusCode::ACCEPTED);
    }
    note_transfer(&state, &caller, &complaints, &to).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseBody {
    /// The supervisor's own phone (a dial string).
    pub phone: String,
    /// `listen`, `whisper` or `barge`.
    #[schema(value_type = SuperviseMode)]
    pub mode: String,
}

/// How a supervisor joins an agent's call, as the document names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum SuperviseMode {
    Listen,
    Whisper,
    Barge,
}

#[utoipa::path(post, path = "/centre/agents/{login}/supervise", tag = "centre", params(LoginPath), request_body = SuperviseBody, responses(
    (status = 204, description = "Done"), (status = 404, response = NotFound), (status = 409, response = Conflict),
))]
async fn supervise(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<SuperviseBody>,
) -> Result<StatusCode, ApiError> {
    let mode = match body.mode.as_str() {
        "listen" => crate::engine::SuperviseMode::Listen,
        "whisper" => crate::engine::SuperviseMode::Whisper,
        "barge" => crate::engine::SuperviseMode::Barge,
        _ => return Err(ApiError::invalid("mode", "one of listen, whisper, barge")),
    };
    let phone = tickets::accounts::agent::dial_string("phone", &body.phone)
        .map_err(|e| ApiError::invalid("phone", e.to_string()))?;
    let supervisor = supervised(
        &state,
        &caller,
        "agent_supervised",
        &login,
        Some(format!("{} from {phone}", body.mode)),
    )
    .await?;
    centre
        .on_call(
            &login,
            super::CallAction::Supervise {
                supervisor,
                phone,
                mode,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/centre/me/transfer/complete", tag = "centre", responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn complete_transfer(
    State(state): State<ApiState>,
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    let complaints = centre
        .on_call(&login, super::CallAction::EndConsult { complete: true })
        .await?;
    note_transfer(
        &state,
        &caller,
        &complaints,
        "the consulted side (warm transfer)",
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/centre/me/transfer/cancel", tag = "centre", responses(
    (status = 204, description = "Done"), (status = 404, description = "The call centre does not know this agent (never logged in to take calls)", body = tickets::api::error::ErrorBody),
    (status = 409, response = Conflict),
))]
async fn cancel_transfer(
    Extension(centre): Extension<CentreHandle>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let login = me(&caller)?;
    centre
        .on_call(&login, super::CallAction::EndConsult { complete: false })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Each complaint of the call gets a note: where it went, and who sent it.
async fn note_transfer(state: &ApiState, caller: &Caller, complaints: &[String], to: &str) {
    let actor = caller.identity().actor();
    let now = state.service.clock().now();
    for number in complaints {
        let Ok(number) = number.parse::<tickets::ComplaintNumber>() else {
            continue;
        };
        let text = format!(
            "Call transferred to {to} by the agent; the complaint number went with the call."
        );
        if let Err(err) = state
            .service
            .store()
            .add_note(number, &actor, &text, now)
            .await
        {
            tracing::warn!(%err, %number, "transfer not noted on the ticket");
        }
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    fn documented<T: utoipa::PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_documented_pause_reasons_are_the_ones_taken() {
        let taken: Vec<&str> = acd::PauseReason::ALL
            .into_iter()
            .filter(|r| *r != acd::PauseReason::NoAnswer)
            .map(|r| r.as_str())
            .collect();
        assert_eq!(documented::<PauseReasonName>(), taken);
        for reason in &taken {
            assert!(pause_reason(reason).is_ok(), "{reason}");
        }
        assert!(pause_reason("no_answer").is_err(), "the ACD's own");
    }

    #[test]
    fn the_documented_supervise_modes_are_the_ones_taken() {
        assert_eq!(
            documented::<SuperviseMode>(),
            ["listen", "whisper", "barge"]
        );
    }
}
