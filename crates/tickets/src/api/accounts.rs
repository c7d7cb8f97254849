//! Accounts over HTTP: `POST /login` (a session, as an HttpOnly `SameSite=Strict` cookie for the
//! browser and as a bearer for API clients, with the CSRF token cookie-authenticated writes must
//! send), `POST /logout`, `GET /me`; and for admins, users (`/users`) and API tokens (`/tokens`).
//! Failed logins are throttled per login name and per client address (429 with `Retry-After`),
//! each lockout audited; the rules themselves are [`crate::accounts`]'.

use std::net::IpAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::agent::{self, AgentProfile, AgentProfileInput};
use crate::accounts::{
    self, AccountError, AccountEvent, Credential, Failure, Gate, NewUser, Principal,
    SESSION_COOKIE, Scope, User,
};
use crate::model::Role;
use crate::tokens::{self, CreatedToken, NewTokenFor, TokenInfo};

use super::ApiState;
use super::auth::{Action, Caller, client_addr, client_key, throttled};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{BadRequest, Conflict, IdPath, LoginPath, NotFound, Unauthorized};

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Store(e) => e.into(),
            AccountError::Invalid { field, message } => ApiError::invalid(field, message),
            AccountError::Conflict(m) => ApiError::conflict("conflict", m),
            AccountError::NotFound(m) => ApiError::not_found(m),
            AccountError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "too many logins at once; try again shortly",
            ),
            e @ AccountError::Hashing(_) => ApiError::internal(e.to_string()),
        }
    }
}

/// The client's address, when the server passes connect info (`None` in tests that call the
/// router directly).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(parts)))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login: String,
    pub password: String,
}

/// What a login answers. `session` is the bearer for API clients (the browser gets it as the
/// cookie as well); `csrf_token` goes in `X-CSRF-Token` on cookie-authenticated writes.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginView {
    /// Bearer for API clients (also set as the HttpOnly cookie).
    pub session: String,
    /// Send as X-CSRF-Token on cookie-authenticated writes.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout_seconds: u64,
    pub user: User,
}

/// Whom the caller is, for the desktop's header line.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub actor: String,
    pub role: Role,
    pub department_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(pattern = "^[a-z0-9._-]{2,64}$")]
    pub login: String,
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    pub role: Role,
    /// An officer's department (officers only).
    #[schema(pattern = "^[A-Z]{2,6}$")]
    pub department_code: Option<String>,
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// The login of the user the token acts as; or
    pub user: Option<String>,
    /// the name of the integration it is for (with `scopes`; default the narrow ones).
    pub integration: Option<String>,
    #[serde(default)]
    pub scopes: Vec<Scope>,
    #[schema(max_length = 100)]
    pub label: Option<String>,
    /// `90d`, `12h`, `30m`; default 90 days, at most 366.
    #[schema(pattern = "^[0-9]+[dhm]$")]
    pub expires_in: Option<String>,
}

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub expired: bool,
}

fn session_cookie(value: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    );
    // Our secrets are hex and the attributes fixed: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Log in: a session (cookie and bearer).
///
/// Sets the cookie helpline_session (HttpOnly, SameSite=Strict, Secure unless the demo).
#[utoipa::path(post, path = "/login", tag = "accounts", request_body = LoginBody, responses(
    (status = 200, description = "Logged in", body = LoginView),
    (status = 401, response = Unauthorized),
))]
pub(crate) async fn login(
    State(state): State<ApiState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let accounts = &state.accounts;
    let client = client_key(addr);
    let name: String = body
        .login
        .trim()
        .to_ascii_lowercase()
        .chars()
        .take(64)
        .collect();
    let started = Instant::now();
    for (gate, key) in [(Gate::LoginClient, &client), (Gate::LoginName, &name)] {
        if let Err(wait) = accounts.check(gate, key, started) {
            return Ok(throttled(wait));
        }
    }
    let store = state.service.store();
    let now = state.service.clock().now();
    let session = accounts::login(
        store,
        accounts.hasher(),
        accounts.config(),
        &body.login,
        &body.password,
        Some(&client),
        now,
    )
    .await?;
    let Some(session) = session else {
        tracing::warn!(login = %name, client = %client, "failed login");
        for (gate, key) in [(Gate::LoginName, &name), (Gate::LoginClient, &client)] {
            if let Failure::LockedNow(wait) = accounts.fail(gate, key, Instant::now()) {
                let subject = match gate {
                    Gate::LoginName => format!("login {key}"),
                    _ => format!("client {key}"),
                };
                let event =
                    AccountEvent::new(now, "system:login-throttle", "login_locked", Some(subject))
                        .detail(format!(
                            "too many failed logins; locked {} s",
                            wait.as_secs()
                        ))
                        .client(Some(&client));
                store.record_account_event(&event).await?;
            }
        }
        return Err(ApiError::unauthorized("wrong login or password"));
    };
    accounts.succeed(Gate::LoginName, &name);
    let ttl = accounts.config().session_ttl.as_secs();
    let cookie = session_cookie(&session.secret, ttl, accounts.config().cookie_secure);
    let view = LoginView {
        session: session.secret,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
        idle_timeout_seconds: accounts.config().session_idle.as_secs(),
        user: session.user,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(view)).into_response())
}

/// End this session.
///
/// Sessions only (a token is revoked instead).
#[utoipa::path(post, path = "/logout", tag = "accounts", responses(
    (status = 204, description = "Logged out; the cookie cleared"),
    (status = 400, response = BadRequest),
))]
pub(crate) async fn logout(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let Credential::Session { id, .. } = caller.identity().credential else {
        return Err(ApiError::bad_request(
            "an API token is not logged out: an admin revokes it (DELETE /tokens/{id})",
        ));
    };
    let now = state.service.clock().now();
    let store = state.service.store();
    store.revoke_session(id, now).await?;
    store
        .record_account_event(
            &AccountEvent::new(now, &caller.actor(), "logout", None)
                .detail(format!("session {id}")),
        )
        .await?;
    let cookie = session_cookie("", 0, state.accounts.config().cookie_secure);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Who the caller is.
#[utoipa::path(get, path = "/me", tag = "accounts", responses(
    (status = 200, description = "The caller", body = MeView),
))]
pub(crate) async fn me(caller: Caller) -> Json<MeView> {
    let identity = caller.identity();
    let (user, integration) = match &identity.principal {
        Principal::User(user) => (Some(user.clone()), None),
        Principal::Integration { name } => (None, Some(name.clone())),
        Principal::LegacyToken { .. } => (None, None),
    };
    Json(MeView {
        actor: identity.actor(),
        role: identity.role,
        department_code: identity.department_code.clone(),
        user,
        integration,
        scopes: identity.scopes.clone(),
        session_expires_at: match identity.credential {
            Credential::Session { expires_at, .. } => Some(expires_at),
            Credential::Token { .. } => None,
        },
    })
}

/// Users.
///
/// Roles: admin.
#[utoipa::path(get, path = "/users", tag = "accounts", responses(
    (status = 200, description = "Every user", body = Vec<User>),
))]
pub(crate) async fn list_users(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    caller.require(Action::ManageAccounts)?;
    Ok(Json(state.service.store().users().await?))
}

/// Create a user.
///
/// Roles: admin.
#[utoipa::path(post, path = "/users", tag = "accounts", request_body = NewUserBody, responses(
    (status = 201, description = "The user", body = User),
    (status = 409, response = Conflict),
))]
pub(crate) async fn create_user(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.require(Action::ManageAccounts)?;
    let user = accounts::create_user(
        state.service.store(),
        state.accounts.hasher(),
        NewUser {
            login: body.login,
            display_name: body.display_name,
            role: body.role,
            department_code: body.department_code,
            password: body.password,
        },
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Disable a user (sessions end, tokens stop).
///
/// Roles: admin.
#[utoipa::path(post, path = "/users/{login}/disable", tag = "accounts", params(LoginPath), responses(
    (status = 200, description = "The user, disabled", body = User),
    (status = 409, response = Conflict),
))]
pub(crate) async fn disable_user(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    caller.require(Action::ManageAccounts)?;
    let user = accounts::disable_user(
        state.service.store(),
        &login,
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok(Json(user))
}

/// Set a user's password (their sessions end).
///
/// Roles: admin.
#[utoipa::path(post, path = "/users/{login}/password", tag = "accounts", params(LoginPath),
    request_body = PasswordBody, responses(
    (status = 204, description = "Set"),
))]
pub(crate) async fn set_password(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::ManageAccounts)?;
    accounts::set_password(
        state.service.store(),
        state.accounts.hasher(),
        &login,
        &body.password,
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// API tokens not revoked.
///
/// Roles: admin.
#[utoipa::path(get, path = "/tokens", tag = "accounts", responses(
    (status = 200, description = "Every live token", body = Vec<TokenView>),
))]
pub(crate) async fn list_tokens(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    caller.require(Action::ManageAccounts)?;
    let now = state.service.clock().now();
    let tokens = state.service.store().live_tokens().await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|info| TokenView {
                expired: info.is_expired(now),
                info,
            })
            .collect(),
    ))
}

/// Create a token for a user or an integration.
///
/// Roles: admin. Default lifetime 90 days, at most 366.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = NewTokenBody, responses(
    (status = 201, description = "The token, shown once", body = CreatedToken),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
pub(crate) async fn create_token(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(Action::ManageAccounts)?;
    let owner = match (body.user, body.integration) {
        (Some(login), None) if body.scopes.is_empty() => NewTokenFor::User(login),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "scopes",
                "are for integration tokens; a user's token has the user's role",
            ));
        }
        (None, Some(name)) => NewTokenFor::Integration {
            name,
            scopes: body.scopes,
        },
        _ => {
            return Err(ApiError::invalid(
                "user",
                "name either the user or the integration the token is for",
            ));
        }
    };
    let ttl = body
        .expires_in
        .as_deref()
        .map(tokens::parse_ttl)
        .transpose()?
        .or(Some(state.accounts.config().token_ttl));
    let created = tokens::create_token(
        state.service.store(),
        owner,
        body.label.as_deref(),
        ttl,
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke a token.
///
/// Roles: admin.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", params(IdPath), responses(
    (status = 204, description = "Revoked"),
))]
pub(crate) async fn revoke_token(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::ManageAccounts)?;
    tokens::revoke_token(
        state.service.store(),
        id,
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every agent profile of an enabled user.
///
/// Roles: admin, supervisor.
#[utoipa::path(get, path = "/agent-profiles", tag = "accounts", responses(
    (status = 200, description = "The profiles", body = Vec<AgentProfile>),
))]
pub(crate) async fn agent_profiles(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<AgentProfile>>, ApiError> {
    caller.require(Action::ManageAgents)?;
    Ok(Json(state.service.store().agent_profiles().await?))
}

/// A user's agent profile.
///
/// Roles: admin, supervisor; or the user themselves.
#[utoipa::path(get, path = "/users/{login}/agent", tag = "accounts", params(LoginPath), responses(
    (status = 200, description = "The profile", body = AgentProfile),
))]
pub(crate) async fn get_agent_profile(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
) -> Result<Json<AgentProfile>, ApiError> {
    let own = matches!(&caller.identity().principal, Principal::User(u) if u.login == login);
    if !own {
        caller.require(Action::ManageAgents)?;
    }
    Ok(Json(
        agent::agent_profile(state.service.store(), &login).await?,
    ))
}

/// Set a user's agent profile.
///
/// An agent or a supervisor: the phone, languages, departments and helplines of their calls.
/// Roles: admin, supervisor. Audited.
#[utoipa::path(put, path = "/users/{login}/agent", tag = "accounts", params(LoginPath),
    request_body = AgentProfileInput, responses(
    (status = 200, description = "The profile", body = AgentProfile),
))]
pub(crate) async fn set_agent_profile(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(login): ApiPath<String>,
    ApiJson(body): ApiJson<AgentProfileInput>,
) -> Result<Json<AgentProfile>, ApiError> {
    caller.require(Action::ManageAgents)?;
    let profile = agent::set_agent_profile(
        state.service.store(),
        &login,
        &body,
        &caller.actor(),
        state.service.clock().now(),
    )
    .await?;
    Ok(Json(profile))
}
