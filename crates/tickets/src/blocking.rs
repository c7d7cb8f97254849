//! File work (write, fsync, rename) off the async workers: a journal append or a number block
//! taken waits for the disk, often milliseconds, and a worker blocked that long stalls every call
//! task queued behind it. The journal and the allocator sit behind tokio mutexes; their file work
//! runs on tokio's blocking pool with the lock *held* — the guard travels with the work and comes
//! back — so the files see the changes in lock order, and a caller whose future is dropped half-way
//! (a request timeout) cannot let the next holder in before its write is done.

use tokio::sync::OwnedMutexGuard;

use crate::error::TicketError;

/// Runs `work` on the blocking pool with `guard` held and hands the guard back with the result.
/// On an error the guard is dropped (the lock let go) once the work has ended.
pub(crate) async fn with_lock_held<T, R>(
    mut guard: OwnedMutexGuard<T>,
    work: impl FnOnce(&mut T) -> Result<R, TicketError> + Send + 'static,
) -> Result<(OwnedMutexGuard<T>, R), TicketError>
where
    T: Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(move || work(&mut guard).map(|r| (guard, r)))
        .await
        .map_err(|e| TicketError::FileTask(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Mutex;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_lock_stays_held_until_the_work_is_done_even_if_the_caller_goes() {
        let shared = Arc::new(Mutex::new(Vec::<u32>::new()));
        let guard = Arc::clone(&shared).lock_owned().await;
        let slow = with_lock_held(guard, |v| {
            std::thread::sleep(Duration::from_millis(100));
            v.push(1);
            Ok(())
        });
        // The caller gives up long before the work ends.
        assert!(
            tokio::time::timeout(Duration::from_millis(10), slow)
                .await
                .is_err()
        );
        let next = Arc::clone(&shared).lock_owned().await;
        assert_eq!(
            *next,
            vec![1],
            "the next holder came in before the write was done"
        );
        let (next, len) = with_lock_held(next, |v| {
            v.push(2);
            Ok(v.len())
        })
        .await
        .unwrap();
        assert_eq!((len, next.as_slice()), (2, &[1, 2][..]));
    }

    #[tokio::test]
    async fn an_error_comes_back_and_lets_the_lock_go() {
        let shared = Arc::new(Mutex::new(0u8));
        let guard = Arc::clone(&shared).lock_owned().await;
        let failed = with_lock_held(guard, |_| -> Result<(), _> {
            Err(TicketError::NumbersExhausted)
        })
        .await;
        assert!(matches!(failed, Err(TicketError::NumbersExhausted)));
        assert!(shared.try_lock().is_ok());
    }
}
