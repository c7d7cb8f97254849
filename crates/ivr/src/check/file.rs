//! Opening the files a loader reads (scripts, the prompt manifest, prompts, the config) so that
//! no file can hang or exhaust it: anything but a regular file (a FIFO, a directory, a device) is
//! refused before it is opened — opening a FIFO for reading blocks until a writer comes — and a
//! file is read up to a size cap, never further, whatever its metadata said.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Opens `path` for reading if it is a regular file (symbolic links followed); refuses anything
/// else at once, with an error that says what it is.
pub fn open_regular_file(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = File::open(path)?;
    // The path may have been swapped between the two looks; the open file is what counts.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// Reads a regular file of at most `max_bytes` as UTF-8 text.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> io::Result<String> {
    let file = open_regular_file(path)?;
    let len = file.metadata()?.len();
    if len > max_bytes {
        return Err(too_large(len, max_bytes));
    }
    let mut text = String::new();
    // One byte past the cap tells a file that grew since the look from one that fits.
    file.take(max_bytes + 1).read_to_string(&mut text)?;
    let read = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if read > max_bytes {
        return Err(too_large(read, max_bytes));
    }
    Ok(text)
}

fn too_large(len: u64, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the file is {} bytes, more than the {} allowed",
            group(len),
            group(max)
        ),
    )
}

fn not_regular(meta: &std::fs::Metadata) -> io::Error {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else if is_fifo(&ft) {
        "a FIFO (named pipe)"
    } else {
        "not a regular file (a device or socket)"
    };
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what}, not a regular file: refused without reading it"),
    )
}

#[cfg(unix)]
fn is_fifo(ft: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ft.is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

/// `1234567` → `1,234,567`.
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ivr-file-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_048_576), "1,048,576");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_one_at_it_is_read() {
        let dir = scratch("cap");
        let path = dir.join("a.toml");
        std::fs::write(&path, "x".repeat(10)).unwrap();
        assert_eq!(read_regular_file(&path, 10).unwrap().len(), 10);
        let err = read_regular_file(&path, 9).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is 10 bytes, more than the 9 allowed"
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = scratch("dir");
        let err = read_regular_file(&dir, 100).unwrap_err();
        assert!(err.to_string().starts_with("a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = scratch("fifo");
        let path = dir.join("pipe.toml");
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        // Opening it would block for ever with no writer; the refusal comes first.
        let err = read_regular_file(&path, 100).unwrap_err();
        assert!(err.to_string().starts_with("a FIFO"), "{err}");
        assert!(open_regular_file(&path).is_err());
    }
}
