//! What the load benchmark reads about its own process from `/proc` (Linux): CPU time (user + system, all
//! threads, and the system part apart) and resident memory. The engine runs in the benchmark's process and the simulator in another,
//! so these are the engine's figures.

use std::time::Duration;

/// Kernel clock ticks per second for `/proc/<pid>/stat` times (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: u64 = 100;

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// User + system CPU time of every thread so far.
    pub cpu: Duration,
    /// Of which in the kernel (system time: syscalls, page faults, the scheduler on our behalf).
    pub system: Duration,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

/// Why `/proc` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The file could not be read (not Linux, or no `/proc`).
    #[error("cannot read {path}: {source}")]
    Read {
        path: &'static str,
        source: std::io::Error,
    },
    /// The file did not have the expected shape.
    #[error("cannot understand {path}: {what}")]
    Format {
        path: &'static str,
        what: &'static str,
    },
}

/// Reads this process's CPU time and RSS now.
pub fn sample() -> Result<ProcSample, ProcError> {
    let stat = read("/proc/self/stat")?;
    let status = read("/proc/self/status")?;
    let (user, system) = parse_cpu(&stat)?;
    Ok(ProcSample {
        cpu: user + system,
        system,
        rss_bytes: parse_rss(&status)?,
    })
}

/// File descriptors this process has open (sockets included): the engine should hold one WebSocket and a
/// small pool of HTTP connections, not one per call.
pub fn open_fds() -> Result<usize, ProcError> {
    const PATH: &str = "/proc/self/fd";
    std::fs::read_dir(PATH)
        .map(Iterator::count)
        .map_err(|source| ProcError::Read { path: PATH, source })
}

fn read(path: &'static str) -> Result<String, ProcError> {
    std::fs::read_to_string(path).map_err(|source| ProcError::Read { path, source })
}

/// `utime` and `stime` (fields 14 and 15) of `/proc/self/stat`: user and system time. The command name
/// (field 2) may contain spaces and parentheses, so fields are counted from the last `)`.
fn parse_cpu(stat: &str) -> Result<(Duration, Duration), ProcError> {
    const PATH: &str = "/proc/self/stat";
    let after_name = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or(ProcError::Format {
            path: PATH,
            what: "no command name",
        })?;
    // After the name: field 3 (state) is the first; utime is field 14, i.e. index 11 here.
    let mut fields = after_name.split_ascii_whitespace().skip(11);
    let mut next_ticks = || -> Result<u64, ProcError> {
        fields
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or(ProcError::Format {
                path: PATH,
                what: "no utime/stime",
            })
    };
    let ms = |ticks: u64| Duration::from_millis(ticks * 1000 / USER_HZ);
    let user = next_ticks()?;
    let system = next_ticks()?;
    Ok((ms(user), ms(system)))
}

/// `VmRSS:   1234 kB` of `/proc/self/status`, in bytes.
fn parse_rss(status: &str) -> Result<u64, ProcError> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .ok_or(ProcError::Format {
            path: "/proc/self/status",
            what: "no VmRSS line",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_read_after_the_command_name() {
        let stat = "4242 (tokio (rt) x) S 1 2 3 4 5 6 7 8 9 10 250 130 0 0 20 0 7 0";
        assert_eq!(
            parse_cpu(stat).unwrap(),
            (Duration::from_millis(2500), Duration::from_millis(1300))
        );
        assert!(parse_cpu("garbage").is_err());
    }

    #[test]
    fn rss_is_read_in_bytes() {
        let status = "Name:\thelpline\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\n";
        assert_eq!(parse_rss(status).unwrap(), 2048 * 1024);
        assert!(parse_rss("Name: x\n").is_err());
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample().unwrap();
        assert!(s.rss_bytes > 0);
        assert!(open_fds().unwrap() >= 3);
    }
}
