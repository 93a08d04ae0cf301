//! Files written for a user are whole or absent after a crash or a power loss: the bytes go to a
//! temporary file in the same folder, which is synced, renamed over (or linked to) its name, and
//! the folder is synced so the new name itself survives. Lines appended to JSON Lines files are
//! made durable in `jsonl`; the annotation journal has its own discipline in `cafe::journal_file`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` whole, replacing what was there: a crash at any moment leaves the
/// old file or the new one, never a part.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let cannot = || format!("{}: cannot write", path.display());
    let file = synced_temporary(path, bytes).with_context(cannot)?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(cannot)?;
    sync_folder(folder_of(path)).with_context(cannot)
}

/// Writes `bytes` to `path` whole, which must not exist yet (it is never overwritten); a failed
/// write leaves nothing behind.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let file = synced_temporary(path, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    file.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| {
            format!(
                "{}: already exists (it is never overwritten)",
                path.display()
            )
        })?;
    sync_folder(folder_of(path)).with_context(|| format!("{}: cannot write", path.display()))
}

/// Makes the entries of `folder` (a file just created or renamed in it) durable. On systems
/// where a folder cannot be opened for syncing (Windows) this does nothing.
pub fn sync_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(folder)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
        Ok(())
    }
}

/// The folder a path's file lives in (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The bytes in a synced temporary file beside `path`, with the permissions the file would have
/// had: those of the file it replaces, or for a new one those any new file gets (0666 less the
/// umask; tempfile's own default, 0600, would hide traces from the rest of a lab's group).
fn synced_temporary(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".auscult-").suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with this mode, the umask applies as it does to any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(folder_of(path))?;
    if let Ok(existing) = std::fs::metadata(path) {
        file.as_file().set_permissions(existing.permissions())?;
    }
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new file gets the mode any new file gets; a replaced one keeps its own.
    #[cfg(unix)]
    #[test]
    fn written_files_keep_or_get_ordinary_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let ordinary = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        let new = dir.path().join("new.json");
        write(&new, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), ordinary);
        std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&new, b"two").unwrap();
        assert_eq!(mode(&new), 0o640);
    }

    #[test]
    fn write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the file itself: {names:?}");
    }

    #[test]
    fn write_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        write_new(&path, b"first").unwrap();
        let error = write_new(&path, b"second").unwrap_err();
        assert!(format!("{error:#}").contains("already exists"), "{error:#}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_folder_that_does_not_exist_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.json");
        let error = write(&path, b"x").unwrap_err();
        assert!(
            format!("{error}").contains("a.json: cannot write"),
            "{error}"
        );
    }
}
