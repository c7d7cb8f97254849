//! Agent profiles' queries, part of [`Store`] (migration 4). The rules are
//! [`crate::accounts::agent`]'s; these only read and write.

use super::{Backend, Store};
use crate::accounts::agent::AgentProfile;
use crate::clock::{from_millis, to_millis};
use crate::error::StoreError;

#[derive(Debug, sqlx::FromRow)]
struct ProfileRow {
    login: String,
    phone: Option<String>,
    languages: String,
    departments: String,
    helplines: String,
    updated_at: i64,
}

impl From<ProfileRow> for AgentProfile {
    fn from(row: ProfileRow) -> Self {
        let list = |text: &str| text.split_whitespace().map(str::to_owned).collect();
        AgentProfile {
            login: row.login,
            phone: row.phone,
            languages: list(&row.languages),
            departments: list(&row.departments),
            helplines: list(&row.helplines),
            updated_at: from_millis(row.updated_at),
        }
    }
}

const PROFILE_SELECT: &str = "SELECT u.login, p.phone, p.languages, p.departments, p.helplines, \
    p.updated_at FROM agent_profiles p JOIN users u ON u.id = p.user_id";

impl Store {
    /// Creates or replaces user `user_id`'s agent profile.
    pub async fn upsert_agent_profile(
        &self,
        user_id: i64,
        profile: &AgentProfile,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO agent_profiles \
                 (user_id, phone, languages, departments, helplines, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, \
                 languages = excluded.languages, departments = excluded.departments, \
                 helplines = excluded.helplines, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(&profile.phone)
            .bind(profile.languages.join(" "))
            .bind(profile.departments.join(" "))
            .bind(profile.helplines.join(" "))
            .bind(to_millis(profile.updated_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The agent profile of the user with this login, if they have one.
    pub async fn agent_profile(&self, login: &str) -> Result<Option<AgentProfile>, StoreError> {
        let sql = format!("{PROFILE_SELECT} WHERE u.login = $1");
        let row: Option<ProfileRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(login).fetch_optional(pool).await
        })?;
        Ok(row.map(AgentProfile::from))
    }

    /// Every agent profile of a user who is not disabled, by login: who may log in to the call
    /// centre.
    pub async fn agent_profiles(&self) -> Result<Vec<AgentProfile>, StoreError> {
        let sql = format!("{PROFILE_SELECT} WHERE u.disabled_at IS NULL ORDER BY u.login");
        let rows: Vec<ProfileRow> =
            on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(AgentProfile::from).collect())
    }
}
