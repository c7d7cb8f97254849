//! Who is calling and what they may do: [`Caller`] (a live session's or API token's identity,
//! from `Authorization: Bearer <secret>` or the `helpline_session` cookie), the [`Action`]s a
//! request can take, the role matrix [`allowed`] and an integration's scopes, and the
//! object-level checks that keep officers to their own department and integrations to the tickets
//! they filed.
//!
//! Failed credentials are throttled per client address: after
//! [`AccountsConfig::bearer_per_client`](crate::accounts::AccountsConfig) failures the address is
//! answered 429 with `Retry-After` without a look-up, and the lockout is audited.
//!
//! CSRF: the session cookie is `SameSite=Strict`, and a request it authenticates that is not
//! GET/HEAD/OPTIONS must also carry `X-CSRF-Token` with the token the login answered — which
//! another site's page can neither read nor send (a custom header needs a CORS preflight, which
//! this server never grants). Bearer-authenticated requests need no CSRF token: a browser never
//! adds a bearer by itself.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::{
    self, AccountEvent, CSRF_HEADER, Credential, Failure, Gate, Identity, Principal,
    SESSION_COOKIE, SESSION_PREFIX, Scope,
};
use crate::model::{Role, Ticket};
use crate::service::ApiClient;
use crate::store::hash_token;

use super::ApiState;
use super::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    identity: Identity,
}

impl Caller {
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// How the audit trail names this caller: the person, the integration, a legacy token.
    pub(crate) fn actor(&self) -> String {
        self.identity.actor()
    }

    /// How the audit trail names this caller recording something the citizen said (feedback).
    pub(crate) fn actor_for_citizen(&self) -> String {
        format!("{} on the citizen's behalf", self.identity.actor())
    }

    /// The client this caller files tickets as (idempotency keys are per client).
    pub(crate) fn client(&self) -> ApiClient {
        ApiClient {
            key: self.identity.client_key(),
            actor: self.identity.actor(),
        }
    }

    pub fn role(&self) -> Role {
        self.identity.role
    }

    pub fn department(&self) -> Option<&str> {
        self.identity.department_code.as_deref()
    }

    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if !allowed(self.role(), action) {
            return Err(ApiError::forbidden(format!(
                "a {} may not {}",
                self.role(),
                action.describe()
            )));
        }
        if self.role() == Role::Integration {
            let granted = match action {
                Action::ReadDepartments => true,
                Action::Create => self.identity.has_scope(Scope::File),
                Action::Read => {
                    self.identity.has_scope(Scope::ReadOwn)
                        || self.identity.has_scope(Scope::PersonalData)
                }
                Action::ReadStatus => self.identity.has_scope(Scope::ReadStatus),
                Action::List => self.identity.has_scope(Scope::PersonalData),
                _ => false,
            };
            if !granted {
                return Err(ApiError::forbidden(format!(
                    "this integration's token has no scope to {}",
                    action.describe()
                )));
            }
        }
        Ok(())
    }

    /// Object-level check: an officer reaches only tickets of their own department, an
    /// integration without `tickets:personal_data` only the tickets it filed. Others are answered
    /// "not found", exactly as for a number that does not exist.
    pub(crate) fn check_ticket(&self, ticket: &Ticket) -> Result<(), ApiError> {
        let hidden = match self.role() {
            Role::Officer => self.department() != Some(ticket.department_code.as_str()),
            Role::Integration => {
                !self.identity.has_scope(Scope::PersonalData)
                    && ticket.filed_by.as_deref() != Some(self.identity.client_key().as_str())
            }
            _ => false,
        };
        if hidden {
            return Err(ApiError::not_found(format!("no ticket {}", ticket.number)));
        }
        Ok(())
    }
}

/// Why a request was not let in: an [`ApiError`] (401, 403, 5xx), or throttled (429).
#[derive(Debug)]
pub enum Refusal {
    Error(ApiError),
    /// Too many failures from this client or for this login: wait this long.
    Throttled(Duration),
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        Refusal::Error(err)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Error(err) => err.into_response(),
            Refusal::Throttled(wait) => throttled(wait),
        }
    }
}

/// 429 with `Retry-After` (whole seconds, rounded up).
pub(crate) fn throttled(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!("too many failed attempts; try again in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// The client's address, when the server was started with connect info (`None` in tests that
/// call the router directly: they all count as one client).
pub(crate) fn client_addr(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The throttles' key for a client.
pub(crate) fn client_key(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

/// Longest secret looked at (ours are 68 characters).
const MAX_SECRET: usize = 200;

impl FromRequestParts<ApiState> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Refusal> {
        let (secret, via_cookie) = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let secret = value
                    .to_str()
                    .ok()
                    .and_then(|h| h.strip_prefix("Bearer "))
                    .map(str::trim)
                    .ok_or_else(|| {
                        ApiError::unauthorized("the Authorization header must be Bearer <token>")
                    })?;
                (secret.to_owned(), false)
            }
            None => match session_cookie(&parts.headers) {
                Some(secret) => (secret.to_owned(), true),
                None => {
                    return Err(ApiError::unauthorized(
                        "log in (POST /login) or send Authorization: Bearer <token>",
                    )
                    .into());
                }
            },
        };
        let addr = client_addr(parts);
        let client = client_key(addr);
        let accounts = &state.accounts;
        accounts
            .check(Gate::BearerClient, &client, Instant::now())
            .map_err(Refusal::Throttled)?;
        let store = state.service.store();
        let now = state.service.clock().now();
        let identity = if secret.is_empty() || secret.len() > MAX_SECRET {
            None
        } else if secret.starts_with(SESSION_PREFIX) {
            accounts::session_identity(store, accounts.config(), &secret, now)
                .await
                .map_err(ApiError::from)?
        } else {
            store
                .token_identity(&hash_token(&secret), now)
                .await
                .map_err(ApiError::from)?
        };
        let Some(identity) = identity else {
            tracing::warn!(client = %client, "refused an unknown, revoked or expired credential");
            if let Failure::LockedNow(wait) =
                accounts.fail(Gate::BearerClient, &client, Instant::now())
            {
                let event = AccountEvent::new(
                    now,
                    "system:auth-throttle",
                    "bearer_locked",
                    Some(client.clone()),
                )
                .detail(format!(
                    "too many failed credentials; locked {} s",
                    wait.as_secs()
                ))
                .client(Some(&client));
                if let Err(e) = store.record_account_event(&event).await {
                    tracing::warn!(error = %e, "could not audit a lockout");
                }
            }
            return Err(ApiError::unauthorized(
                "unknown, revoked or expired token or session; log in again",
            )
            .into());
        };
        if via_cookie && !parts.method.is_safe() {
            let Credential::Session { csrf_hash, .. } = &identity.credential else {
                return Err(ApiError::unauthorized("the cookie is not a session").into());
            };
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(hash_token);
            if sent.as_deref() != Some(csrf_hash.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a request authenticated by the session cookie must send X-CSRF-Token \
                     (the csrf_token of the login)",
                )
                .into());
            }
        }
        if let Principal::User(user) = &identity.principal {
            tracing::debug!(user = %user.login, "authenticated");
        }
        Ok(Caller { identity })
    }
}

/// What a request wants to do, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    /// Read one ticket (and its notes).
    Read,
    /// List or search tickets — by phone number too: bulk personal data.
    List,
    /// Read a complaint's status by its number (no personal data).
    ReadStatus,
    ChangeStatus,
    Assign,
    Escalate,
    AddNote,
    /// Record the citizen's feedback on their behalf (audited as such).
    Feedback,
    /// Mark an after-hours complaint's call-back done, with its outcome.
    CallBack,
    ReadAudit,
    ReadRecording,
    ReadDepartments,
    ConfigureDepartment,
    Stats,
    /// Users and API tokens.
    ManageAccounts,
    /// Set agents' profiles (phone, languages, departments, helplines).
    ManageAgents,
    /// Log in to the call centre and take calls.
    TakeCalls,
    /// Watch the floor and act on it: listen, whisper, barge, force a pause or a log-out, move
    /// a waiting call.
    Supervise,
    /// List the notifications' dead letters and retry one (SMS, webhooks).
    ManageNotifications,
    /// List the officers (whom a ticket can be assigned to).
    ListOfficers,
    /// Create, change and deactivate officers.
    ManageOfficers,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::Create => "create tickets",
            Action::Read => "read tickets",
            Action::List => "list or search tickets",
            Action::ReadStatus => "read a complaint's status",
            Action::ChangeStatus => "change a ticket's status",
            Action::Assign => "assign tickets",
            Action::Escalate => "escalate tickets",
            Action::AddNote => "add notes",
            Action::Feedback => "record feedback on a citizen's behalf",
            Action::CallBack => "mark a complaint called back",
            Action::ReadAudit => "read audit trails",
            Action::ReadRecording => "download recordings",
            Action::ReadDepartments => "list departments",
            Action::ConfigureDepartment => "configure departments",
            Action::Stats => "read statistics",
            Action::ManageAccounts => "manage users and tokens",
            Action::ManageAgents => "set agent profiles",
            Action::TakeCalls => "take calls",
            Action::Supervise => "supervise the call centre",
            Action::ManageNotifications => "list and retry failed notifications",
            Action::ListOfficers => "list officers",
            Action::ManageOfficers => "manage officers",
        }
    }
}

/// The role matrix. Agents take complaints on calls: they file, find and read tickets, add notes
/// and record the citizen's feedback on their behalf; supervisors run the floor (everything
/// operational); officers work their department's tickets; integrations (portal, WhatsApp bot,
/// SMS gateway) file and follow, each further narrowed by its token's scopes and never recording
/// feedback; admins do everything, and alone manage users and tokens and configure departments.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Supervisor => !matches!(
            action,
            ConfigureDepartment | ManageAccounts | ManageNotifications | ManageOfficers
        ),
        Role::Agent => matches!(
            action,
            Create
                | Read
                | List
                | ReadStatus
                | AddNote
                | Feedback
                | CallBack
                | ReadRecording
                | ReadDepartments
                | TakeCalls
        ),
        Role::Officer => matches!(
            action,
            Read | List
                | ReadStatus
                | ChangeStatus
                | AddNote
                | ReadAudit
                | ReadRecording
                | ReadDepartments
                | Stats
                | ListOfficers
        ),
        Role::Integration => matches!(action, Create | Read | List | ReadStatus | ReadDepartments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Credential, Principal};

    #[test]
    fn role_matrix_keeps_each_role_in_its_lane() {
        assert!(!allowed(Role::Agent, Action::Assign));
        assert!(!allowed(Role::Officer, Action::Create));
        assert!(!allowed(Role::Officer, Action::Feedback));
        assert!(!allowed(Role::Integration, Action::ReadAudit));
        assert!(!allowed(Role::Integration, Action::Feedback));
        assert!(!allowed(Role::Supervisor, Action::ConfigureDepartment));
        assert!(!allowed(Role::Supervisor, Action::ManageAccounts));
        assert!(allowed(Role::Supervisor, Action::Escalate));
        assert!(allowed(Role::Supervisor, Action::ListOfficers));
        assert!(!allowed(Role::Supervisor, Action::ManageOfficers));
        assert!(!allowed(Role::Agent, Action::ListOfficers));
        assert!(allowed(Role::Agent, Action::Feedback));
        assert!(allowed(Role::Agent, Action::CallBack));
        assert!(allowed(Role::Supervisor, Action::CallBack));
        assert!(!allowed(Role::Officer, Action::CallBack));
        assert!(!allowed(Role::Integration, Action::CallBack));
        assert!(allowed(Role::Admin, Action::ConfigureDepartment));
        assert!(allowed(Role::Admin, Action::ManageAccounts));
        assert!(allowed(Role::Admin, Action::ManageNotifications));
        assert!(!allowed(Role::Supervisor, Action::ManageNotifications));
        assert!(!allowed(Role::Integration, Action::ManageNotifications));
        assert!(allowed(Role::Supervisor, Action::ManageAgents));
        assert!(allowed(Role::Supervisor, Action::Supervise));
        assert!(allowed(Role::Agent, Action::TakeCalls));
        assert!(!allowed(Role::Agent, Action::Supervise));
        assert!(!allowed(Role::Agent, Action::ManageAgents));
        assert!(!allowed(Role::Officer, Action::TakeCalls));
        assert!(!allowed(Role::Integration, Action::TakeCalls));
    }

    fn integration(scopes: &[Scope]) -> Caller {
        Caller {
            identity: Identity {
                principal: Principal::Integration { name: "bot".into() },
                role: Role::Integration,
                department_code: None,
                scopes: scopes.to_vec(),
                credential: Credential::Token { id: 1 },
            },
        }
    }

    #[test]
    fn an_integration_gets_only_what_its_scopes_say() {
        let narrow = integration(Scope::DEFAULT);
        for ok in [
            Action::Create,
            Action::Read,
            Action::ReadStatus,
            Action::ReadDepartments,
        ] {
            assert!(narrow.require(ok).is_ok(), "{ok:?}");
        }
        for no in [
            Action::List,
            Action::Feedback,
            Action::AddNote,
            Action::Stats,
        ] {
            assert!(narrow.require(no).is_err(), "{no:?}");
        }
        assert!(integration(&[]).require(Action::Create).is_err());
        let wide = integration(&[Scope::PersonalData]);
        assert!(wide.require(Action::List).is_ok());
        assert!(
            wide.require(Action::Feedback).is_err(),
            "no scope grants it"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; helpline_session=hls_abc ; x=y"),
        );
        assert_eq!(session_cookie(&headers), Some("hls_abc"));
        assert_eq!(session_cookie(&HeaderMap::new()), None);
        let response = throttled(Duration::from_millis(1500));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
