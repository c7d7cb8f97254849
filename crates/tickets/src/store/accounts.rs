//! The accounts' queries, part of [`Store`]: users, sessions, API tokens and the account audit
//! (migration 3). The types are [`crate::accounts`]' and [`crate::tokens`]'; the rules (who may,
//! what expires when) are theirs too — these only read and write.

use chrono::{DateTime, Utc};

use super::{Backend, Store, corrupt};
use crate::accounts::{AccountEvent, Credential, Identity, Principal, Scope, User};
use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;
use crate::model::Role;
use crate::tokens::{TokenInfo, TokenOwner};

const USER_COLUMNS: &str =
    "u.id, u.login, u.display_name, u.role, u.department_code, u.disabled_at, u.created_at";

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: i64,
    login: String,
    display_name: String,
    role: String,
    department_code: Option<String>,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            role: parse_role(&self.role, || format!("user {}", self.id))?,
            id: self.id,
            login: self.login,
            display_name: self.display_name,
            department_code: self.department_code,
            disabled: self.disabled_at.is_some(),
            created_at: from_millis(self.created_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct CredentialRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    csrf_hash: String,
    last_seen_at: i64,
    expires_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
}

/// A live session as stored: its user is not disabled and it is not revoked (whether it is past
/// its time is [`crate::accounts::session_identity`]'s to say).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: i64,
    pub csrf_hash: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

const TOKEN_SELECT: &str = "SELECT t.id, t.role, t.department_code, t.label, t.created_at, \
    t.expires_at, t.integration, t.scopes, t.user_id, u.login AS user_login, \
    u.display_name AS user_display_name, u.role AS user_role, \
    u.department_code AS user_department_code, u.disabled_at AS user_disabled_at, \
    u.created_at AS user_created_at \
    FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id";

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    id: i64,
    role: String,
    department_code: Option<String>,
    label: String,
    created_at: i64,
    expires_at: Option<i64>,
    integration: Option<String>,
    scopes: Option<String>,
    user_id: Option<i64>,
    user_login: Option<String>,
    user_display_name: Option<String>,
    user_role: Option<String>,
    user_department_code: Option<String>,
    user_disabled_at: Option<i64>,
    user_created_at: Option<i64>,
}

impl TokenRow {
    /// The token, and its user (if it belongs to one).
    fn into_info(self) -> Result<(TokenInfo, Option<User>), StoreError> {
        let id = self.id;
        let user = match (self.user_id, self.user_login, self.user_role) {
            (Some(user_id), Some(login), Some(role)) => Some(User {
                id: user_id,
                login,
                display_name: self.user_display_name.unwrap_or_default(),
                role: parse_role(&role, || format!("user {user_id}"))?,
                department_code: self.user_department_code,
                disabled: self.user_disabled_at.is_some(),
                created_at: from_millis(self.user_created_at.unwrap_or(0)),
            }),
            (Some(user_id), _, _) => {
                return Err(corrupt(format!("token {id}: user {user_id} is missing")));
            }
            _ => None,
        };
        let (owner, role, department_code) = match (&user, self.integration) {
            (Some(user), _) => (
                TokenOwner::User {
                    id: user.id,
                    login: user.login.clone(),
                },
                user.role,
                user.department_code.clone(),
            ),
            (None, Some(name)) => (TokenOwner::Integration { name }, Role::Integration, None),
            (None, None) => (
                TokenOwner::Legacy,
                parse_role(&self.role, || format!("token {id}"))?,
                self.department_code,
            ),
        };
        let scopes = if role == Role::Integration {
            Scope::split(self.scopes.as_deref().unwrap_or_default())
        } else {
            Vec::new()
        };
        let info = TokenInfo {
            id,
            owner,
            role,
            department_code,
            label: self.label,
            scopes,
            created_at: from_millis(self.created_at),
            expires_at: self.expires_at.map(from_millis),
        };
        Ok((info, user))
    }
}

fn parse_role(text: &str, what: impl Fn() -> String) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|e| corrupt(format!("{}: {e}", what())))
}

impl Store {
    // ----- users -------------------------------------------------------------------------------

    /// Stores a new user; `None` if the login is taken.
    pub async fn insert_user(
        &self,
        login: &str,
        display_name: &str,
        role: Role,
        department_code: Option<&str>,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        if let Some(code) = department_code
            && self.department(code).await?.is_none()
        {
            return Err(StoreError::UnknownDepartment(code.to_owned()));
        }
        let at = to_millis(now);
        let inserted: Option<(i64,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO users (login, display_name, role, department_code, password_hash, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (login) DO NOTHING RETURNING id",
            )
            .bind(login)
            .bind(display_name)
            .bind(role.as_str())
            .bind(department_code)
            .bind(password_hash)
            .bind(at)
            .fetch_optional(pool)
            .await
        })?;
        Ok(inserted.map(|(id,)| User {
            id,
            login: login.to_owned(),
            display_name: display_name.to_owned(),
            role,
            department_code: department_code.map(str::to_owned),
            disabled: false,
            created_at: from_millis(at),
        }))
    }

    /// Every user, by login.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login");
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1");
        let row: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(login).fetch_optional(pool).await
        })?;
        row.map(UserRow::into_user).transpose()
    }

    /// A user with their password hash, for the login check.
    pub async fn user_credentials(
        &self,
        login: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = $1");
        let row: Option<CredentialRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(login).fetch_optional(pool).await
        })?;
        row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
            .transpose()
    }

    pub async fn set_password_hash(
        &self,
        user_id: i64,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(to_millis(now))
                .bind(user_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Disables a user and ends their sessions, in one transaction; false if already disabled.
    pub async fn disable_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let at = to_millis(now);
        on_pool!(self, |pool| transaction!(pool, None, |tx| {
            let done = sqlx::query(
                "UPDATE users SET disabled_at = $1, updated_at = $1 \
                 WHERE id = $2 AND disabled_at IS NULL",
            )
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            done == 1
        }))
    }

    // ----- sessions ----------------------------------------------------------------------------

    pub async fn insert_session(
        &self,
        user_id: i64,
        secret_hash: &str,
        csrf_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        client: Option<&str>,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO sessions (secret_hash, csrf_hash, user_id, created_at, last_seen_at, \
                 expires_at, client) VALUES ($1, $2, $3, $4, $4, $5, $6) RETURNING id",
            )
            .bind(secret_hash)
            .bind(csrf_hash)
            .bind(user_id)
            .bind(to_millis(now))
            .bind(to_millis(expires_at))
            .bind(client)
            .fetch_one(pool)
            .await
        })?;
        Ok(id)
    }

    /// The session with this secret's hash, if not revoked and its user not disabled.
    pub async fn session_by_hash(
        &self,
        secret_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT s.id AS session_id, s.csrf_hash, s.last_seen_at, s.expires_at, {USER_COLUMNS} \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.secret_hash = $1 AND s.revoked_at IS NULL AND u.disabled_at IS NULL"
        );
        let row: Option<SessionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(secret_hash)
                .fetch_optional(pool)
                .await
        })?;
        row.map(|r| {
            Ok(SessionRecord {
                id: r.session_id,
                csrf_hash: r.csrf_hash,
                last_seen_at: from_millis(r.last_seen_at),
                expires_at: from_millis(r.expires_at),
                user: r.user.into_user()?,
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.stamp(
            "UPDATE sessions SET last_seen_at = $1 WHERE id = $2",
            now,
            id,
        )
        .await
        .map(|_| ())
    }

    /// Ends a session; false if it had ended already.
    pub async fn revoke_session(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let sql = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        Ok(self.stamp(sql, now, id).await? == 1)
    }

    /// Ends every session of a user; returns how many were live.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
        self.stamp(sql, now, user_id).await
    }

    /// Runs `sql`, an `UPDATE` with `$1` = the instant `at` and `$2` = a row's id; returns how
    /// many rows it changed.
    async fn stamp(&self, sql: &str, at: DateTime<Utc>, id: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(to_millis(at))
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(StoreError::from)
    }

    /// Deletes sessions that ended before `before`; returns how many.
    pub async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(to_millis(before))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(StoreError::from)
    }

    // ----- API tokens --------------------------------------------------------------------------

    /// Stores a token's hash for a user (its role and department are the user's) or an
    /// integration; the caller shows the token once and forgets it.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_token(
        &self,
        token_hash: &str,
        user: Option<&User>,
        integration: Option<&str>,
        scopes: &[Scope],
        label: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<TokenInfo, StoreError> {
        let role = user.map_or(Role::Integration, |u| u.role);
        let scopes_text = (role == Role::Integration).then(|| Scope::join(scopes));
        let (id,): (i64,) = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO api_tokens (token_hash, role, department_code, label, created_at, \
                 user_id, integration, scopes, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(token_hash)
            .bind(role.as_str())
            .bind(user.and_then(|u| u.department_code.clone()))
            .bind(label)
            .bind(to_millis(now))
            .bind(user.map(|u| u.id))
            .bind(integration)
            .bind(scopes_text)
            .bind(to_millis(expires_at))
            .fetch_one(pool)
            .await
        })?;
        self.token(id)
            .await?
            .ok_or_else(|| corrupt(format!("token {id} vanished after insert")))
    }

    pub async fn token(&self, id: i64) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!("{TOKEN_SELECT} WHERE t.id = $1");
        let row: Option<TokenRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })?;
        Ok(row.map(TokenRow::into_info).transpose()?.map(|(t, _)| t))
    }

    /// Every token not revoked, oldest first — expired ones included (they say so) — identities
    /// only, never secrets.
    pub async fn live_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = format!("{TOKEN_SELECT} WHERE t.revoked_at IS NULL ORDER BY t.id");
        let rows: Vec<TokenRow> =
            on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|r| r.into_info().map(|(t, _)| t))
            .collect()
    }

    /// Who a token is: `None` unless it is live — not revoked, not expired at `now`, and its
    /// user (if it has one) not disabled.
    pub async fn token_identity(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Identity>, StoreError> {
        let sql = format!(
            "{TOKEN_SELECT} WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2)"
        );
        let row: Option<TokenRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(token_hash)
                .bind(to_millis(now))
                .fetch_optional(pool)
                .await
        })?;
        let Some((info, user)) = row.map(TokenRow::into_info).transpose()? else {
            return Ok(None);
        };
        let principal = match (user, info.owner) {
            (Some(user), _) if user.disabled => return Ok(None),
            (Some(user), _) => Principal::User(user),
            (None, TokenOwner::Integration { name }) => Principal::Integration { name },
            (None, _) => Principal::LegacyToken {
                id: info.id,
                label: info.label,
            },
        };
        Ok(Some(Identity {
            principal,
            role: info.role,
            department_code: info.department_code,
            scopes: info.scopes,
            credential: Credential::Token { id: info.id },
        }))
    }

    /// Revokes a token by id; returns whether one was live.
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        Ok(self.stamp(sql, now, id).await? == 1)
    }

    // ----- account audit -----------------------------------------------------------------------

    pub async fn record_account_event(&self, event: &AccountEvent) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO account_audit (at, actor, action, subject, detail, client) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(to_millis(event.at))
            .bind(&event.actor)
            .bind(&event.action)
            .bind(&event.subject)
            .bind(&event.detail)
            .bind(&event.client)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The newest `limit` entries of the account audit, newest first.
    pub async fn account_events(&self, limit: u32) -> Result<Vec<AccountEvent>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at, actor, action, subject, detail, client FROM account_audit \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(at, actor, action, subject, detail, client)| AccountEvent {
                    at: from_millis(at),
                    actor,
                    action,
                    subject,
                    detail,
                    client,
                },
            )
            .collect())
    }
}
