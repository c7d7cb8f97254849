//! Complaint number allocation that stays unique across engine nodes and through database outages.
//!
//! The payload space (see [`crate::number`]) is cut into blocks of [`BLOCK_SIZE`] numbers. A node
//! reserves whole blocks from the database's atomic counter, so no two nodes ever hold the same block.
//! It keeps `spare_blocks` untouched blocks reserved *ahead* and lists them in a small state file
//! (written atomically and fsync'd) beside its journal. Numbering always draws from the current block;
//! when that runs out, a spare is taken — and removed from the file *before* its first number is handed
//! out. So:
//! - while the database is away, the node keeps numbering from its spares (journal mode);
//! - after a restart, the half-used current block is abandoned (never reused) and a spare is taken,
//!   so a number can never be handed out twice, even if the crash came mid-block;
//! - gaps in the sequence are expected and harmless.
//!
//! The service holds the allocator behind a tokio mutex; `top_up` and `next` write the state file
//! on the blocking pool with that lock held (`crate::blocking`), never on an async worker.

use std::fs;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::OwnedMutexGuard;

use crate::blocking::with_lock_held;
use crate::error::{StoreError, TicketError};
use crate::number::{ComplaintNumber, PAYLOAD_BASE, PAYLOAD_END};
use crate::store::Store;

/// Numbers per block. Fixed for the life of a database: every node must use the same size.
pub const BLOCK_SIZE: u64 = 1000;
/// How many blocks the nine-digit payload space holds.
pub const MAX_BLOCKS: u64 = (PAYLOAD_END - PAYLOAD_BASE) / BLOCK_SIZE;

#[derive(Debug, Default, Serialize, Deserialize)]
struct AllocatorState {
    spare_blocks: Vec<u64>,
}

/// One node's number source. Not shared between processes: each node has its own state file.
#[derive(Debug)]
pub(crate) struct NumberAllocator {
    state_path: PathBuf,
    spare_target: usize,
    current: Option<Range<u64>>,
    spares: Vec<u64>,
}

impl NumberAllocator {
    /// Loads the spare list (if any) from `dir/numbers.json`.
    pub(crate) fn open(dir: &Path, spare_target: usize) -> Result<Self, TicketError> {
        let state_path = dir.join("numbers.json");
        let io_err = |source| TicketError::Journal {
            path: state_path.clone(),
            source,
        };
        let state: AllocatorState = match fs::read(&state_path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| TicketError::JournalCorrupt {
                    path: state_path.clone(),
                    line: 1,
                    message: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AllocatorState::default(),
            Err(e) => return Err(io_err(e)),
        };
        Ok(NumberAllocator {
            state_path,
            spare_target: spare_target.max(1),
            current: None,
            spares: state.spare_blocks,
        })
    }

    /// True when the node should reserve more blocks while it can.
    pub(crate) fn needs_top_up(&self) -> bool {
        self.spares.len() < self.spare_target
    }

    /// Adds the `count` blocks from `first` on to the spares and writes the list.
    fn add_spares(&mut self, first: u64, count: u64) -> Result<(), TicketError> {
        self.spares.extend(first..first + count);
        self.persist()
    }

    /// The next number of the current block, if it has one left (no I/O).
    fn next_in_block(&mut self) -> Option<Result<ComplaintNumber, TicketError>> {
        let payload = self.current.as_mut()?.next()?;
        Some(
            ComplaintNumber::from_payload(payload)
                .map_err(|_| TicketError::Store(StoreError::NumberSpaceExhausted)),
        )
    }

    /// The next number. Fails only when the current block and every spare are used up.
    pub(crate) fn next(&mut self) -> Result<ComplaintNumber, TicketError> {
        if let Some(number) = self.next_in_block() {
            return number;
        }
        if self.spares.is_empty() {
            return Err(TicketError::NumbersExhausted);
        }
        let block = self.spares.remove(0);
        // Forget the block on disk before using it, so a restart can never hand it out again.
        self.persist()?;
        let start = PAYLOAD_BASE + block * BLOCK_SIZE;
        self.current = Some(start..start + BLOCK_SIZE);
        self.next()
    }

    fn persist(&self) -> Result<(), TicketError> {
        let io_err = |source| TicketError::Journal {
            path: self.state_path.clone(),
            source,
        };
        let state = AllocatorState {
            spare_blocks: self.spares.clone(),
        };
        let bytes = serde_json::to_vec(&state).expect("a list of integers always serializes");
        let tmp = self.state_path.with_extension("json.tmp");
        {
            let mut file = fs::File::create(&tmp).map_err(io_err)?;
            file.write_all(&bytes).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
        }
        fs::rename(&tmp, &self.state_path).map_err(io_err)?;
        sync_dir(&self.state_path).map_err(io_err)
    }
}

/// The allocator with the service's lock held.
pub(crate) type Held = OwnedMutexGuard<NumberAllocator>;

/// Reserves blocks from the database until `spare_target` spares are held, then writes the new
/// list on the blocking pool, the lock held. On an error the lock is let go (a database that is
/// away leaves the allocator as it was).
pub(crate) async fn top_up(allocator: Held, store: &Store) -> Result<Held, TicketError> {
    let missing = allocator
        .spare_target
        .saturating_sub(allocator.spares.len()) as u64;
    if missing == 0 {
        return Ok(allocator);
    }
    let first = store.reserve_number_blocks(missing, MAX_BLOCKS).await?;
    let (allocator, ()) = with_lock_held(allocator, move |a| a.add_spares(first, missing)).await?;
    Ok(allocator)
}

/// The next number: from the current block in memory, or — when it is used up — from a spare,
/// struck off the list on disk first, on the blocking pool with the lock held.
pub(crate) async fn next(mut allocator: Held) -> Result<ComplaintNumber, TicketError> {
    if let Some(number) = allocator.next_in_block() {
        return number;
    }
    with_lock_held(allocator, NumberAllocator::next)
        .await
        .map(|(_, number)| number)
}

/// fsyncs the directory holding `path`, so a create or rename in it survives a power cut.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_spares_in_order_and_never_reuses_after_restart() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let mut a = NumberAllocator::open(dir, 2).unwrap();
        a.spares = vec![5, 9];
        a.persist().unwrap();
        let first = a.next().unwrap();
        assert_eq!(first.payload(), PAYLOAD_BASE + 5 * BLOCK_SIZE);
        assert_eq!(
            a.next().unwrap().payload(),
            PAYLOAD_BASE + 5 * BLOCK_SIZE + 1
        );
        assert!(a.needs_top_up());
        // Crash mid-block: the restarted allocator must not touch block 5 again.
        let mut b = NumberAllocator::open(dir, 2).unwrap();
        assert_eq!(b.next().unwrap().payload(), PAYLOAD_BASE + 9 * BLOCK_SIZE);
        let mut c = NumberAllocator::open(dir, 2).unwrap();
        assert!(matches!(c.next(), Err(TicketError::NumbersExhausted)));
    }

    #[test]
    fn a_block_yields_exactly_block_size_numbers() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let mut a = NumberAllocator::open(dir, 1).unwrap();
        a.spares = vec![0];
        let numbers: Vec<_> = (0..BLOCK_SIZE).map(|_| a.next().unwrap()).collect();
        let unique: std::collections::HashSet<_> = numbers.iter().collect();
        assert_eq!(unique.len() as u64, BLOCK_SIZE);
        assert!(matches!(a.next(), Err(TicketError::NumbersExhausted)));
    }
}
