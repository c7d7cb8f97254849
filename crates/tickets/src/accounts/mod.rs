//! Accounts: named users (agent, supervisor, officer of a department, admin) with argon2id
//! passwords; sessions made by logging in (a random secret, stored only as its SHA-256, with an
//! absolute lifetime and an idle timeout); API tokens that belong to a user or to a named
//! integration (see [`crate::tokens`]); the scopes that narrow what an integration may do; and
//! the failed-login and failed-token throttles ([`throttle`]). Every change to an account, every
//! login, logout and lockout goes into the account audit (`account_audit`), naming the person.
//!
//! [`Accounts`] is the runtime part the API holds (settings, the password hasher, the throttles);
//! the functions here are what the API and the command line both call.

pub mod agent;
pub mod password;
pub mod throttle;

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::departments::is_valid_department_code;
use crate::error::StoreError;
use crate::model::Role;
use crate::store::{Store, hash_token};
use crate::validate;

pub use password::Hasher;
pub use throttle::{Failure, Throttle, ThrottlePolicy};

/// Prefix of a session secret (an API token's is [`crate::tokens::TOKEN_PREFIX`]).
pub const SESSION_PREFIX: &str = "hls_";
/// The browser's session cookie.
pub const SESSION_COOKIE: &str = "helpline_session";
/// The header a cookie-authenticated unsafe request (POST, PATCH, PUT, DELETE) must carry, with
/// the `csrf_token` the login answered.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's `last_seen` is written at most this often (not on every request).
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// What can go wrong with accounts.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("too many logins at once; try again shortly")]
    Busy,
}

impl AccountError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AccountError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<crate::error::TicketError> for AccountError {
    fn from(err: crate::error::TicketError) -> Self {
        match err {
            crate::error::TicketError::Store(e) => AccountError::Store(e),
            crate::error::TicketError::Invalid { field, message } => {
                AccountError::Invalid { field, message }
            }
            other => AccountError::Hashing(other.to_string()),
        }
    }
}

/// Settings of sessions, tokens and throttles.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// A session ends this long after login, however busy.
    pub session_ttl: Duration,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// Mark the session cookie `Secure` (HTTPS only). Off only for the plain-HTTP demo.
    pub cookie_secure: bool,
    /// How long a new API token lives unless told otherwise.
    pub token_ttl: Duration,
    /// Failed logins per login name.
    pub login_per_name: ThrottlePolicy,
    /// Failed logins per client address.
    pub login_per_client: ThrottlePolicy,
    /// Unknown, revoked or expired bearers and cookies per client address.
    pub bearer_per_client: ThrottlePolicy,
}

/// The longest a token may be made to live.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

impl Default for AccountsConfig {
    fn default() -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        AccountsConfig {
            session_ttl: MINUTE * 60 * 8,
            session_idle: MINUTE * 30,
            cookie_secure: true,
            token_ttl: MINUTE * 60 * 24 * 90,
            login_per_name: ThrottlePolicy {
                max_failures: 5,
                window: MINUTE * 15,
                lockout: MINUTE * 15,
            },
            login_per_client: ThrottlePolicy {
                max_failures: 20,
                window: MINUTE * 15,
                lockout: MINUTE * 15,
            },
            bearer_per_client: ThrottlePolicy {
                max_failures: 20,
                window: MINUTE,
                lockout: MINUTE * 5,
            },
        }
    }
}

/// A named account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// An officer's department.
    pub department_code: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// How the audit trail names this person: role, login and name.
    pub fn audit_name(&self) -> String {
        format!("{}:{} ({})", self.role, self.login, self.display_name)
    }
}

/// What an integration token may do. Nothing is granted without a scope; no scope lets an
/// integration give feedback on a citizen's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    /// File tickets.
    #[serde(rename = "tickets:file")]
    File,
    /// Read the tickets it filed (and their notes).
    #[serde(rename = "tickets:read_own")]
    ReadOwn,
    /// Read the status of any complaint by its number (no personal data).
    #[serde(rename = "tickets:status")]
    ReadStatus,
    /// Bulk personal data: list tickets, search by phone number, read any ticket.
    #[serde(rename = "tickets:personal_data")]
    PersonalData,
}

impl Scope {
    pub const ALL: &'static [Scope] = &[
        Scope::File,
        Scope::ReadOwn,
        Scope::ReadStatus,
        Scope::PersonalData,
    ];
    /// What an integration token gets unless told otherwise.
    pub const DEFAULT: &'static [Scope] = &[Scope::File, Scope::ReadOwn, Scope::ReadStatus];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::File => "tickets:file",
            Scope::ReadOwn => "tickets:read_own",
            Scope::ReadStatus => "tickets:status",
            Scope::PersonalData => "tickets:personal_data",
        }
    }

    /// Comma-separated, for people.
    pub fn join_public(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Space-separated, as stored.
    pub(crate) fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A stored list (unknown names are dropped: a scope this build does not know grants nothing).
    pub(crate) fn split(text: &str) -> Vec<Scope> {
        text.split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, AccountError> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                AccountError::invalid(
                    "scope",
                    format!(
                        "{s:?} is not a scope; expected one of: {}",
                        Scope::join(Scope::ALL)
                    ),
                )
            })
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person, by session or by one of their tokens.
    User(User),
    /// A named integration (portal, WhatsApp bot, SMS gateway), by one of its tokens.
    Integration { name: String },
    /// A token made before accounts existed: it names neither a person nor an integration.
    LegacyToken { id: i64, label: String },
}

/// How the caller proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session {
        id: i64,
        /// SHA-256 of the session's CSRF token.
        csrf_hash: String,
        expires_at: DateTime<Utc>,
    },
    Token {
        id: i64,
    },
}

/// An authenticated caller's identity, resolved from a live session or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub principal: Principal,
    pub role: Role,
    pub department_code: Option<String>,
    /// An integration's scopes (empty for every other role, which its role alone governs).
    pub scopes: Vec<Scope>,
    pub credential: Credential,
}

impl Identity {
    /// How the audit trail names the caller: the person (role, login, name), the integration, or
    /// a legacy token's label.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::User(user) => user.audit_name(),
            Principal::Integration { name } => format!("integration:{name}"),
            Principal::LegacyToken { id, label } => format!("{}:{label} (token {id})", self.role),
        }
    }

    /// The client the caller's idempotency keys and filed tickets belong to.
    pub fn client_key(&self) -> String {
        match &self.principal {
            Principal::User(user) => format!("user:{}", user.id),
            Principal::Integration { name } => format!("integration:{name}"),
            Principal::LegacyToken { id, .. } => format!("token:{id}"),
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Login names (and integration names): 2-64 characters of `a-z 0-9 . _ -`, lower-cased.
pub fn login_name(field: &'static str, raw: &str) -> Result<String, AccountError> {
    let name = raw.trim().to_ascii_lowercase();
    let ok = (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok {
        return Err(AccountError::invalid(
            field,
            format!("{raw:?}: use 2-64 characters a-z, 0-9, '.', '_' or '-'"),
        ));
    }
    Ok(name)
}

/// A role and department that go together: officers name theirs, nobody else does.
pub(crate) fn role_department(
    role: Role,
    department_code: Option<&str>,
) -> Result<Option<String>, AccountError> {
    match (role, department_code) {
        (Role::Officer, None) => Err(AccountError::invalid(
            "department",
            "an officer needs a department (e.g. JSV)",
        )),
        (Role::Officer, Some(code)) if !is_valid_department_code(code) => Err(
            AccountError::invalid("department", format!("{code:?} is not a department code")),
        ),
        (Role::Officer, Some(code)) => Ok(Some(code.to_owned())),
        (_, Some(_)) => Err(AccountError::invalid(
            "department",
            "only officers belong to a department",
        )),
        (_, None) => Ok(None),
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub department_code: Option<String>,
    pub password: String,
}

/// One entry of the account audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountEvent {
    pub at: DateTime<Utc>,
    /// Who did it (a person, `system:login-throttle`, …).
    pub actor: String,
    /// `user_created`, `password_set`, `user_disabled`, `login`, `logout`, `login_locked`,
    /// `bearer_locked`, `token_created`, `token_revoked`.
    pub action: String,
    /// What it was done to (a login, a token id, a client address).
    pub subject: Option<String>,
    pub detail: Option<String>,
    /// The client address it came from, when known.
    pub client: Option<String>,
}

impl AccountEvent {
    pub fn new(at: DateTime<Utc>, actor: &str, action: &str, subject: Option<String>) -> Self {
        AccountEvent {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject,
            detail: None,
            client: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn client(mut self, client: Option<&str>) -> Self {
        self.client = client.map(str::to_owned);
        self
    }
}

/// Creates a user (its password hashed), audited as done by `actor`.
pub async fn create_user(
    store: &Store,
    hasher: &Hasher,
    new: NewUser,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let login = login_name("login", &new.login)?;
    let display_name = validate::required_text("display_name", &new.display_name, 100)?;
    if new.role == Role::Integration {
        return Err(AccountError::invalid(
            "role",
            "an integration is not a person: give it a token (`token create --integration NAME`)",
        ));
    }
    let department = role_department(new.role, new.department_code.as_deref())?;
    let hash = hasher.hash(&new.password).await?;
    let user = store
        .insert_user(
            &login,
            &display_name,
            new.role,
            department.as_deref(),
            &hash,
            now,
        )
        .await?
        .ok_or_else(|| AccountError::Conflict(format!("there is already a user {login:?}")))?;
    store
        .record_account_event(
            &AccountEvent::new(now, actor, "user_created", Some(login)).detail(user.audit_name()),
        )
        .await?;
    Ok(user)
}

/// The user with this login, or [`AccountError::NotFound`].
pub async fn user(store: &Store, login: &str) -> Result<User, AccountError> {
    let login = login_name("login", login)?;
    store
        .user_by_login(&login)
        .await?
        .ok_or_else(|| AccountError::NotFound(format!("no user {login:?}")))
}

/// Sets a user's password; their sessions end (whoever knew the old one is logged out).
pub async fn set_password(
    store: &Store,
    hasher: &Hasher,
    login: &str,
    password: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let user = user(store, login).await?;
    let hash = hasher.hash(password).await?;
    store.set_password_hash(user.id, &hash, now).await?;
    store.revoke_user_sessions(user.id, now).await?;
    store
        .record_account_event(&AccountEvent::new(
            now,
            actor,
            "password_set",
            Some(user.login.clone()),
        ))
        .await?;
    Ok(user)
}

/// Disables a user: they cannot log in, their sessions end and their tokens stop working.
pub async fn disable_user(
    store: &Store,
    login: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let user = user(store, login).await?;
    if !store.disable_user(user.id, now).await? {
        return Err(AccountError::Conflict(format!(
            "user {:?} is already disabled",
            user.login
        )));
    }
    store
        .record_account_event(&AccountEvent::new(
            now,
            actor,
            "user_disabled",
            Some(user.login.clone()),
        ))
        .await?;
    Ok(User {
        disabled: true,
        ..user
    })
}

/// A session just made: `secret` and `csrf_token` are given to the client once, never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: i64,
    pub secret: String,
    pub csrf_token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// Checks a login and password; on success makes a session. `None` for a wrong password, an
/// unknown login or a disabled user alike (the caller cannot tell which; each costs one hash).
pub async fn login(
    store: &Store,
    hasher: &Hasher,
    config: &AccountsConfig,
    login: &str,
    password: &str,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<NewSession>, AccountError> {
    let found = match login_name("login", login) {
        Ok(login) => store.user_credentials(&login).await?,
        Err(_) => None,
    };
    let matches = hasher
        .verify(password, found.as_ref().map(|(_, hash)| hash.as_str()))
        .await?;
    let Some((user, _)) = found.filter(|(user, _)| matches && !user.disabled) else {
        return Ok(None);
    };
    let secret = random_secret(SESSION_PREFIX);
    let csrf_token = random_secret("");
    let expires_at = now + chrono_duration(config.session_ttl);
    let id = store
        .insert_session(
            user.id,
            &hash_token(&secret),
            &hash_token(&csrf_token),
            now,
            expires_at,
            client,
        )
        .await?;
    // Sessions long over are of no use to anyone: each login clears out a week-old backlog.
    store
        .prune_sessions(now - chrono::Duration::days(7))
        .await?;
    store
        .record_account_event(
            &AccountEvent::new(now, &user.audit_name(), "login", Some(user.login.clone()))
                .detail(format!("session {id}"))
                .client(client),
        )
        .await?;
    Ok(Some(NewSession {
        id,
        secret,
        csrf_token,
        user,
        expires_at,
    }))
}

/// The identity of a live session secret: not revoked, not past its lifetime, not idle longer
/// than allowed, its user not disabled. Refreshes its `last_seen` (at most once a minute).
pub async fn session_identity(
    store: &Store,
    config: &AccountsConfig,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<Identity>, AccountError> {
    let Some(session) = store.session_by_hash(&hash_token(secret)).await? else {
        return Ok(None);
    };
    if now >= session.expires_at
        || now - session.last_seen_at >= chrono_duration(config.session_idle)
    {
        return Ok(None);
    }
    if now - session.last_seen_at >= chrono_duration(TOUCH_EVERY) {
        store.touch_session(session.id, now).await?;
    }
    let user = session.user;
    Ok(Some(Identity {
        role: user.role,
        department_code: user.department_code.clone(),
        scopes: Vec::new(),
        principal: Principal::User(user),
        credential: Credential::Session {
            id: session.id,
            csrf_hash: session.csrf_hash,
            expires_at: session.expires_at,
        },
    }))
}

/// A random password for a generated account (the demo's): 24 hex digits, 96 bits.
pub fn random_password() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

/// A random secret: `prefix` and 256 bits from the OS-seeded CSPRNG, hex-encoded.
pub(crate) fn random_secret(prefix: &str) -> String {
    let secret: [u8; 32] = rand::random();
    format!("{prefix}{}", hex::encode(secret))
}

pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// What the API holds for accounts: settings, the password hasher and the throttles.
#[derive(Debug, Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: AccountsConfig,
    hasher: Hasher,
    login_names: Mutex<Throttle>,
    login_clients: Mutex<Throttle>,
    bearer_clients: Mutex<Throttle>,
}

/// Keys each throttle tracks at most (an attack from many addresses cannot grow memory past it).
const THROTTLE_KEYS: usize = 50_000;

/// Which throttle a failure counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    LoginName,
    LoginClient,
    BearerClient,
}

impl Accounts {
    pub fn new(config: AccountsConfig) -> Self {
        let throttle = |policy| Mutex::new(Throttle::new(policy, THROTTLE_KEYS));
        Accounts {
            inner: Arc::new(Inner {
                login_names: throttle(config.login_per_name),
                login_clients: throttle(config.login_per_client),
                bearer_clients: throttle(config.bearer_per_client),
                hasher: Hasher::default(),
                config,
            }),
        }
    }

    pub fn config(&self) -> &AccountsConfig {
        &self.inner.config
    }

    pub fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    fn throttle(&self, gate: Gate) -> std::sync::MutexGuard<'_, Throttle> {
        let mutex = match gate {
            Gate::LoginName => &self.inner.login_names,
            Gate::LoginClient => &self.inner.login_clients,
            Gate::BearerClient => &self.inner.bearer_clients,
        };
        // A panic while holding it cannot leave the counts inconsistent in a way that matters.
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` while `key` is locked at `gate`.
    pub fn check(&self, gate: Gate, key: &str, now: Instant) -> Result<(), Duration> {
        self.throttle(gate).check(key, now)
    }

    /// Counts a failure of `key` at `gate`.
    pub fn fail(&self, gate: Gate, key: &str, now: Instant) -> Failure {
        self.throttle(gate).fail(key, now)
    }

    /// Forgets `key`'s failures at `gate`.
    pub fn succeed(&self, gate: Gate, key: &str) {
        self.throttle(gate).succeed(key);
    }
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts::new(AccountsConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_scopes_and_departments_are_checked() {
        assert_eq!(login_name("login", " Asha.Verma ").unwrap(), "asha.verma");
        for bad in ["a", "asha verma", "asha@x", &"a".repeat(65), "ज्योति"] {
            assert!(login_name("login", bad).is_err(), "{bad}");
        }
        assert_eq!("tickets:read_own".parse::<Scope>().unwrap(), Scope::ReadOwn);
        assert!("tickets:feedback".parse::<Scope>().is_err());
        assert_eq!(
            Scope::split(&Scope::join(Scope::DEFAULT)),
            Scope::DEFAULT.to_vec()
        );
        assert_eq!(Scope::split("tickets:file bogus"), vec![Scope::File]);
        assert!(role_department(Role::Officer, None).is_err());
        assert!(role_department(Role::Officer, Some("jsv")).is_err());
        assert_eq!(
            role_department(Role::Officer, Some("JSV"))
                .unwrap()
                .as_deref(),
            Some("JSV")
        );
        assert!(role_department(Role::Agent, Some("JSV")).is_err());
    }

    #[test]
    fn the_audit_names_the_person() {
        let user = User {
            id: 4,
            login: "asha".into(),
            display_name: "Asha Verma".into(),
            role: Role::Agent,
            department_code: None,
            disabled: false,
            created_at: Utc::now(),
        };
        let identity = Identity {
            principal: Principal::User(user),
            role: Role::Agent,
            department_code: None,
            scopes: vec![],
            credential: Credential::Token { id: 9 },
        };
        assert_eq!(identity.actor(), "agent:asha (Asha Verma)");
        assert_eq!(identity.client_key(), "user:4");
        let bot = Identity {
            principal: Principal::Integration {
                name: "whatsapp".into(),
            },
            role: Role::Integration,
            scopes: Scope::DEFAULT.to_vec(),
            ..identity
        };
        assert_eq!(bot.actor(), "integration:whatsapp");
        assert_eq!(bot.client_key(), "integration:whatsapp");
        assert!(bot.has_scope(Scope::File) && !bot.has_scope(Scope::PersonalData));
    }
}
