//! API tokens: random secrets shown once at creation and stored only as their SHA-256, each with a
//! role (and, for officers, a department). `helpline token create --role …` calls [`create_token`].

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::departments::is_valid_department_code;
use crate::error::TicketError;
use crate::model::Role;
use crate::store::{Store, TokenInfo, hash_token};
use crate::validate;

/// Prefix that makes a helpline token recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "hl_";

/// A freshly created token: `token` is shown to the operator once and never stored.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub token: String,
    pub info: TokenInfo,
}

/// A new random token: the prefix and 256 bits from the OS-seeded CSPRNG, hex-encoded.
pub fn generate_token() -> String {
    let secret: [u8; 32] = rand::random();
    format!("{TOKEN_PREFIX}{}", hex::encode(secret))
}

/// Creates a token. Officers must name their department; other roles must not.
pub async fn create_token(
    store: &Store,
    role: Role,
    department_code: Option<&str>,
    label: &str,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TicketError> {
    let label = validate::required_text("label", label, 100)?;
    match (role, department_code) {
        (Role::Officer, None) => {
            return Err(TicketError::invalid(
                "department",
                "an officer token needs --department CODE",
            ));
        }
        (Role::Officer, Some(code)) if !is_valid_department_code(code) => {
            return Err(TicketError::invalid(
                "department",
                format!("{code:?} is not a department code"),
            ));
        }
        (Role::Officer, Some(_)) => {}
        (_, Some(_)) => {
            return Err(TicketError::invalid(
                "department",
                "only officer tokens belong to a department",
            ));
        }
        (_, None) => {}
    }
    let token = generate_token();
    let info = store
        .insert_token(&hash_token(&token), role, department_code, &label, now)
        .await?;
    Ok(CreatedToken { token, info })
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
}
