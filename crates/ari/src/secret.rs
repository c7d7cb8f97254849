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
}

#[cfg(test)]
mod tests {
    use super::*;

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
