//! Credentials for ARI. The password is wrapped in [`Secret`] so that it never reaches a log line, a
//! `Debug` dump or an error message by accident: the only way to read it is [`Secret::expose`].

use std::fmt;

/// A string that must not be printed. `Debug` and `Display` show `"***"`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it goes onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Log filter directives a process using this crate must add to its subscriber's filter, after the
/// operator's own, so that no level the operator picks prints a credential. tungstenite writes the raw
/// WebSocket upgrade request, `Authorization` header included, at `trace` (`tests/secrets.rs` shows it).
pub const SECRET_SAFE_LOG_DIRECTIVES: &[&str] = &["tungstenite::handshake::client=debug"];

/// ARI user name and password (Asterisk's `ari.conf` user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The ARI user name; not secret.
    pub user: String,
    /// The password, redacted in every printout.
    pub password: Secret,
}

impl Credentials {
    /// Credentials from a user name and a password.
    pub fn new(user: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header's value for HTTP basic authentication (`Basic base64(user:password)`),
    /// as REST requests and the WebSocket upgrade send it. It holds the password: wrapped so it is never
    /// printed.
    pub fn basic_authorization(&self) -> Secret {
        use base64::Engine as _;
        let pair = format!("{}:{}", self.user, self.password.expose());
        Secret(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_authorization_is_rfc_7617() {
        // The example of RFC 7617, section 2.
        let creds = Credentials::new("Aladdin", "open sesame");
        assert_eq!(
            creds.basic_authorization().expose(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(format!("{:?}", creds.basic_authorization()), "\"***\"");
    }

    #[test]
    fn password_never_printed() {
        let creds = Credentials::new("helpline", "s3cr3t-pw");
        let debug = format!("{creds:?}");
        assert!(!debug.contains("s3cr3t-pw"), "{debug}");
        assert!(debug.contains("helpline"));
        assert_eq!(format!("{}", creds.password), "***");
        assert_eq!(creds.password.expose(), "s3cr3t-pw");
    }
}
