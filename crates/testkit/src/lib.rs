//! What the workspace's tests share (a dev-dependency of each crate's tests, never of the product).
//!
//! [`eventually`] is the one way a test waits for something another task does: asked again every
//! [`POLL`] until a deadline, after which the test FAILS, saying what it waited for and what it saw
//! last — never a fixed sleep standing in for a condition, never a loop that runs out and carries on.
//! It runs on tokio's clock, so a test with paused time advances through it.
//!
//! [`prometheus::parse`] reads a `/metrics` scrape strictly, as a Prometheus scraper would;
//! [`schema::check`] a JSON value against a schema of an OpenAPI document, strictly.

pub mod prometheus;
pub mod schema;

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

/// How often [`eventually`] asks again.
pub const POLL: Duration = Duration::from_millis(10);

/// Waits until `check` answers `Ok`, asking every [`POLL`], and returns its value. `check` answers
/// `Err(what it sees)` while the condition does not hold; if `timeout` passes first the test panics
/// with `what` (the condition waited for) and the last thing `check` saw.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let start = tokio::time::Instant::now();
/// let waited = testkit::eventually(Duration::from_secs(1), "50 ms to pass", || async {
///     let waited = start.elapsed();
///     if waited >= Duration::from_millis(50) { Ok(waited) } else { Err(waited) }
/// })
/// .await;
/// assert!(waited >= Duration::from_millis(50));
/// # }
/// ```
pub async fn eventually<T, E, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = match check().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("waited {timeout:?} for {what}; last seen: {seen:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn returns_the_value_once_the_condition_holds() {
        let asked = AtomicU32::new(0);
        let value = eventually(Duration::from_secs(1), "the third answer", || async {
            let n = asked.fetch_add(1, Ordering::SeqCst) + 1;
            if n == 3 { Ok(n * 10) } else { Err(n) }
        })
        .await;
        assert_eq!(value, 30);
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "waited 200ms for the impossible; last seen: \"not yet\"")]
    async fn fails_the_test_saying_what_it_waited_for() {
        eventually(Duration::from_millis(200), "the impossible", || async {
            Err::<(), _>("not yet")
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn asks_every_poll_until_the_deadline() {
        let asked = std::sync::Arc::new(AtomicU32::new(0));
        let counter = std::sync::Arc::clone(&asked);
        let outcome = tokio::spawn(async move {
            eventually(Duration::from_millis(100), "never", || async {
                counter.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(())
            })
            .await
        })
        .await;
        assert!(outcome.is_err(), "it failed the task");
        // At 0, 10, … 100 ms: once at the start, once a poll, once at the deadline.
        assert_eq!(asked.load(Ordering::SeqCst), 11);
    }
}
