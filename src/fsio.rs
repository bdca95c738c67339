//! Files written whole or not at all. Every file ganscope writes (summaries, CSVs, state files,
//! configs, images, recordings) goes to a temporary sibling first and is renamed over its name
//! when complete: a run killed mid-write leaves the old file or none, never half of one, so a
//! sweep never mistakes a truncated summary for a finished run.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary sibling `path` is written to: hidden, in the same directory (a rename within
/// one filesystem is atomic), and per process so two writers never share one.
pub fn part_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes.as_ref()))
}

/// Streams into `path` through `write`, whole or not at all: on any error (of `write` or of the
/// disk) the temporary file is removed and `path` is left as it was.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> io::Result<()> {
    let part = part_path(path);
    let result = (|| {
        let mut w = BufWriter::new(File::create(&part)?);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&part, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Renames a finished temporary file (written by an encoder that owns its file) over `path`.
pub fn finish(part: &Path, path: &Path) -> io::Result<()> {
    std::fs::rename(part, path).inspect_err(|_| {
        let _ = std::fs::remove_file(part);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_atomic(&path, "old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"half of the new")?;
            Err(io::Error::other("killed"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is removed");
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
