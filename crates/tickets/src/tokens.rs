//! API tokens: random secrets shown once at creation and stored only as their SHA-256. A token
//! belongs to a user (it acts as that person, with their current role; disabling the user stops
//! it) or to a named integration (role `integration`, narrowed by its [`Scope`]s), and it expires
//! ([`DEFAULT_TOKEN_TTL`] unless told otherwise, at most [`MAX_TOKEN_TTL`]). `helpline token
//! create|list|revoke` and the admin API call [`create_token`] and [`revoke_token`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::{
    self, AccountError, AccountEvent, MAX_TOKEN_TTL, Scope, chrono_duration, random_secret,
};
use crate::model::Role;
use crate::store::{Store, hash_token};
use crate::validate;

/// Prefix that makes a helpline token recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "hl_";

/// How long a token lives unless told otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// Whom a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenOwner {
    User {
        id: i64,
        login: String,
    },
    Integration {
        name: String,
    },
    /// Made before accounts existed (a role and a label only).
    Legacy,
}

/// A token's stored identity (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub owner: TokenOwner,
    /// The owner's role now (a user's current role; `integration` for an integration).
    pub role: Role,
    pub department_code: Option<String>,
    pub label: String,
    /// An integration's scopes.
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl TokenInfo {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A freshly created token: `token` is shown to the operator once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// Shown once.
    pub token: String,
    pub info: TokenInfo,
}

/// Whom a new token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTokenFor {
    /// A user, by login.
    User(String),
    /// A named integration with its scopes (empty: [`Scope::DEFAULT`]).
    Integration { name: String, scopes: Vec<Scope> },
}

/// A new random token: the prefix and 256 bits from the OS-seeded CSPRNG, hex-encoded.
pub fn generate_token() -> String {
    random_secret(TOKEN_PREFIX)
}

/// Creates a token for a user or an integration, living `ttl` (`None`: [`DEFAULT_TOKEN_TTL`]),
/// audited as done by `actor`.
pub async fn create_token(
    store: &Store,
    owner: NewTokenFor,
    label: Option<&str>,
    ttl: Option<Duration>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CreatedToken, AccountError> {
    let ttl = ttl.unwrap_or(DEFAULT_TOKEN_TTL);
    if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
        return Err(AccountError::invalid(
            "expires_in",
            format!(
                "a token lives between a minute and {} days",
                MAX_TOKEN_TTL.as_secs() / 86_400
            ),
        ));
    }
    let label = label
        .map(|l| validate::required_text("label", l, 100))
        .transpose()?;
    let expires_at = now + chrono_duration(ttl);
    let token = generate_token();
    let info = match owner {
        NewTokenFor::User(login) => {
            let user = accounts::user(store, &login).await?;
            if user.disabled {
                return Err(AccountError::Conflict(format!(
                    "user {:?} is disabled",
                    user.login
                )));
            }
            let label = label.unwrap_or_else(|| format!("{}'s token", user.login));
            store
                .insert_token(
                    &hash_token(&token),
                    Some(&user),
                    None,
                    &[],
                    &label,
                    now,
                    expires_at,
                )
                .await?
        }
        NewTokenFor::Integration { name, scopes } => {
            let name = accounts::login_name("integration", &name)?;
            let mut scopes = if scopes.is_empty() {
                Scope::DEFAULT.to_vec()
            } else {
                scopes
            };
            scopes.dedup();
            let label = label.unwrap_or_else(|| name.clone());
            store
                .insert_token(
                    &hash_token(&token),
                    None,
                    Some(&name),
                    &scopes,
                    &label,
                    now,
                    expires_at,
                )
                .await?
        }
    };
    store
        .record_account_event(
            &AccountEvent::new(
                now,
                actor,
                "token_created",
                Some(format!("token {}", info.id)),
            )
            .detail(format!(
                "{} until {}",
                owner_name(&info.owner),
                expires_at.to_rfc3339()
            )),
        )
        .await?;
    Ok(CreatedToken { token, info })
}

/// Revokes a token by id (audited); the next request with it answers 401.
pub async fn revoke_token(
    store: &Store,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    if !store.revoke_token(id, now).await? {
        return Err(AccountError::NotFound(format!(
            "no live token with id {id}"
        )));
    }
    store
        .record_account_event(&AccountEvent::new(
            now,
            actor,
            "token_revoked",
            Some(format!("token {id}")),
        ))
        .await?;
    Ok(())
}

/// `user asha`, `integration whatsapp`, `legacy token`.
pub fn owner_name(owner: &TokenOwner) -> String {
    match owner {
        TokenOwner::User { login, .. } => format!("user {login}"),
        TokenOwner::Integration { name } => format!("integration {name}"),
        TokenOwner::Legacy => "legacy token".to_owned(),
    }
}

/// `90d`, `12h`, `30m` (a whole number and a unit) as a duration.
pub fn parse_ttl(raw: &str) -> Result<Duration, AccountError> {
    let raw = raw.trim();
    let bad = || {
        AccountError::invalid(
            "expires_in",
            format!("{raw:?}: write a number and d, h or m, e.g. 90d, 12h, 30m"),
        )
    };
    let split = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = raw.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(bad()),
    };
    number
        .checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(hash_token(&a), a);
        assert_eq!(hash_token(&a).len(), 64);
    }

    #[test]
    fn lifetimes_parse() {
        assert_eq!(parse_ttl("90d").unwrap(), DEFAULT_TOKEN_TTL);
        assert_eq!(parse_ttl("12h").unwrap(), Duration::from_secs(12 * 3600));
        assert_eq!(parse_ttl(" 30m ").unwrap(), Duration::from_secs(1800));
        for bad in ["", "d", "90", "90 d", "-1d", "1y", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }
}
