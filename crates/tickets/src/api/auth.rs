//! Who is calling and what they may do: [`Caller`] (a live token's identity, from
//! `Authorization: Bearer <token>`), the [`Action`]s a request can take and the role matrix
//! [`allowed`], and the object-level check that keeps officers to their own department.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::model::{Role, Ticket};
use crate::store::{TokenInfo, hash_token};

use super::ApiState;
use super::error::ApiError;

/// The authenticated caller: a live token's identity.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

impl Caller {
    /// How the audit trail names this caller.
    pub(crate) fn actor(&self) -> String {
        format!("{}:{}", self.0.role, self.0.label)
    }

    pub fn role(&self) -> Role {
        self.0.role
    }

    pub fn department(&self) -> Option<&str> {
        self.0.department_code.as_deref()
    }

    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if allowed(self.0.role, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} token may not {}",
                self.0.role,
                action.describe()
            )))
        }
    }

    /// Object-level check: an officer reaches only tickets of their own department. Others are
    /// answered "not found", exactly as for a number that does not exist.
    pub(crate) fn check_ticket(&self, ticket: &Ticket) -> Result<(), ApiError> {
        if self.0.role == Role::Officer
            && self.department() != Some(ticket.department_code.as_str())
        {
            return Err(ApiError::not_found(format!("no ticket {}", ticket.number)));
        }
        Ok(())
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be Bearer <token>")
            })?;
        let info = state
            .service
            .store()
            .token_by_hash(&hash_token(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
        Ok(Caller(info))
    }
}

/// What a request wants to do, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    ChangeStatus,
    Assign,
    Escalate,
    AddNote,
    Feedback,
    ReadAudit,
    ReadRecording,
    ReadDepartments,
    ConfigureDepartment,
    Stats,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::Create => "create tickets",
            Action::Read => "read tickets",
            Action::ChangeStatus => "change a ticket's status",
            Action::Assign => "assign tickets",
            Action::Escalate => "escalate tickets",
            Action::AddNote => "add notes",
            Action::Feedback => "record feedback",
            Action::ReadAudit => "read audit trails",
            Action::ReadRecording => "download recordings",
            Action::ReadDepartments => "list departments",
            Action::ConfigureDepartment => "configure departments",
            Action::Stats => "read statistics",
        }
    }
}

/// The role matrix. Agents take complaints and feedback; supervisors run the floor; officers work
/// their department's tickets; integrations (portal, WhatsApp bot, SMS gateway) file and follow;
/// admins do everything.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Supervisor => action != ConfigureDepartment,
        Role::Agent => matches!(
            action,
            Create | Read | AddNote | Feedback | ReadRecording | ReadDepartments
        ),
        Role::Officer => matches!(
            action,
            Read | ChangeStatus | AddNote | ReadAudit | ReadRecording | ReadDepartments | Stats
        ),
        Role::Integration => matches!(action, Create | Read | Feedback | ReadDepartments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix_keeps_each_role_in_its_lane() {
        assert!(!allowed(Role::Agent, Action::Assign));
        assert!(!allowed(Role::Officer, Action::Create));
        assert!(!allowed(Role::Integration, Action::ReadAudit));
        assert!(!allowed(Role::Supervisor, Action::ConfigureDepartment));
        assert!(allowed(Role::Admin, Action::ConfigureDepartment));
    }
}
