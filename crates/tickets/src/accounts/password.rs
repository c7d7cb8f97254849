//! Passwords: argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, 1 lane) in PHC string form,
//! a random 16-byte salt each. Hashing is CPU- and memory-heavy, so it runs on tokio's blocking pool
//! and at most [`Hasher::new`]'s `concurrent` hashes run at once: a burst of logins waits in line
//! instead of taking every core and 19 MiB each; one that waits longer than [`HASH_QUEUE_WAIT`] is
//! refused as [`AccountError::Busy`].

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use super::AccountError;

/// Longest a hash waits for its turn before the login is refused as busy.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Shortest and longest password accepted (the longest bounds the work one request can ask for).
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Hashes and verifies passwords off the async threads, a bounded number at a time.
#[derive(Debug, Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(concurrent: usize) -> Self {
        Hasher {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, AccountError> {
        check_password(password)?;
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `phc`. With `phc = None` (no such user) a hash is verified all
    /// the same, against a dummy, so an unknown login takes as long as a wrong password.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool, AccountError> {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Ok(false);
        }
        let password = password.to_owned();
        let phc = phc.map(str::to_owned);
        self.run(move || {
            let known = phc.is_some();
            let phc = match phc {
                Some(phc) => phc,
                None => dummy_hash()?.to_owned(),
            };
            let parsed = PasswordHash::new(&phc)
                .map_err(|e| AccountError::Hashing(format!("stored hash unreadable: {e}")))?;
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(matches && known)
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let permit = tokio::time::timeout(HASH_QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AccountError::Busy)?
            .map_err(|_| AccountError::Busy)?;
        let done = tokio::task::spawn_blocking(move || {
            let value = work();
            drop(permit);
            value
        })
        .await
        .map_err(|e| AccountError::Hashing(format!("hashing task failed: {e}")))?;
        Ok(done)
    }
}

impl Default for Hasher {
    /// Two at a time: the machines this runs on have few cores, and calls come first.
    fn default() -> Self {
        Hasher::new(2)
    }
}

/// A password's length is within [`MIN_PASSWORD_CHARS`]..=[`MAX_PASSWORD_CHARS`].
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(AccountError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}

fn hash_now(password: &str) -> Result<String, AccountError> {
    let salt: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AccountError::Hashing(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

fn dummy_hash() -> Result<&'static str, AccountError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let secret: [u8; 16] = rand::random();
    let hash = hash_now(&hex::encode(secret))?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let hasher = Hasher::default();
        let a = hasher.hash("correct horse battery").await.unwrap();
        let b = hasher.hash("correct horse battery").await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(
            hasher
                .verify("correct horse battery", Some(&a))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horse batterx", Some(&a))
                .await
                .unwrap()
        );
        assert!(
            !hasher.verify("correct horse battery", None).await.unwrap(),
            "no user: never a match"
        );
        assert!(
            !hasher
                .verify(&"x".repeat(MAX_PASSWORD_CHARS + 1), Some(&a))
                .await
                .unwrap()
        );
        assert!(matches!(
            hasher.hash("short").await,
            Err(AccountError::Invalid { .. })
        ));
    }
}
