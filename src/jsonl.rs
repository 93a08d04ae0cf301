//! JSON Lines files that are only ever appended to (traces from `batch` and `demo eval`, a
//! judge's output): creating one or opening one to append after a line that a killed run cut off
//! (the file's name made durable), and appending a line durably.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Opens `path` for appending (creating it); a last line cut short by a killed run is closed
/// with a newline first, so the next line starts clean (readers report and skip the partial one).
pub fn open_for_append(path: &Path) -> Result<std::fs::File> {
    let existed = path.exists();
    let needs_newline = std::fs::read(path)
        .map(|bytes| !bytes.is_empty() && !bytes.ends_with(b"\n"))
        .unwrap_or(false);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open for appending", path.display()))?;
    if !existed {
        sync_new_name(path)?;
    }
    if needs_newline {
        file.write_all(b"\n")
            .with_context(|| format!("{}: cannot append", path.display()))?;
    }
    Ok(file)
}

/// Creates `path` empty (truncating what was there) for lines to be appended to, its name made
/// durable at once.
pub fn create(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    sync_new_name(path)?;
    Ok(file)
}

fn sync_new_name(path: &Path) -> Result<()> {
    crate::durable::sync_folder(crate::durable::folder_of(path))
        .with_context(|| format!("{}: cannot sync its folder", path.display()))
}

/// Appends `json` (one line, without its newline) and makes it durable before returning.
pub fn append_durably(file: &mut std::fs::File, json: &str) -> Result<()> {
    let mut line = String::with_capacity(json.len() + 1);
    line.push_str(json);
    line.push('\n');
    file.write_all(line.as_bytes())?;
    file.flush()?;
    file.sync_data()?;
    Ok(())
}
