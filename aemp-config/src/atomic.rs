//! Replacing a file atomically while keeping the previous version as `FILE~`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::ConfigError;

/// Distinguishes temporary files of several writes from one process.
static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Replaces `path` with `contents`: writes a temporary file in the same directory, syncs it,
/// keeps the current file (if any) as `path~`, then renames the temporary file over `path`.
/// Readers see either the old or the new file, never a partial one. A symlink at `path` is
/// followed, so the file it points to is replaced.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    let target = follow_symlink(path);
    let fail = |step: &'static str| {
        move |source: io::Error| ConfigError::Write {
            path: path.to_path_buf(),
            step,
            source,
        }
    };

    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (temp_path, mut temp) =
        create_temp(&dir, &target).map_err(fail("creating the temporary file"))?;

    let written = temp
        .write_all(contents)
        .and_then(|()| temp.sync_all())
        .map_err(fail("writing the temporary file"))
        .and_then(|()| keep_backup(&target).map_err(fail("keeping the previous file as FILE~")))
        .and_then(|()| fs::rename(&temp_path, &target).map_err(fail("renaming into place")));
    drop(temp);
    if written.is_err() {
        // Best effort: the temporary file is useless now; the original file is untouched.
        let _ = fs::remove_file(&temp_path);
        return written;
    }
    sync_dir(&dir);
    Ok(())
}

/// The path a write should replace: the symlink's target when `path` is a symlink.
fn follow_symlink(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// The backup path of `path`: the same name with `~` appended.
pub(crate) fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("~");
    PathBuf::from(name)
}

/// Creates a new, empty temporary file beside `target` (owner-only permissions on Unix for a
/// new file, the current file's permissions otherwise).
fn create_temp(dir: &Path, target: &Path) -> io::Result<(PathBuf, File)> {
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "aemp-config".to_owned());
    let existing = fs::metadata(target).ok().map(|m| m.permissions());
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp_path = dir.join(format!(".{base}.tmp-{}-{n}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp_path) {
            Ok(file) => {
                if let Some(perms) = existing {
                    file.set_permissions(perms)?;
                }
                return Ok((temp_path, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Makes `path~` a copy of the current `path`, if `path` exists.
fn keep_backup(path: &Path) -> io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let backup = backup_path(path);
    match fs::remove_file(&backup) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // A hard link is instant and exact; fall back to a copy where links are not supported.
    if fs::hard_link(path, &backup).is_err() {
        fs::copy(path, &backup)?;
    }
    Ok(())
}

/// Makes the rename durable where the platform allows syncing a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!(dir = %dir.display(), error = %e, "could not sync directory after rename");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert!(!backup_path(&path).exists());

        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read(backup_path(&path)).unwrap(), b"one");

        write_atomic(&path, b"three").unwrap();
        assert_eq!(fs::read(backup_path(&path)).unwrap(), b"two");

        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn new_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        write_atomic(&path, b"secret").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn missing_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/rc");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("no/such/dir/rc"), "{err}");
    }
}
