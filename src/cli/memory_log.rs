//! `auscult run --memory-log FILE`: this process's resident memory at the points of a generation
//! where it changes (before loading, loaded, after the prompt, every 256 generated tokens, at the
//! end), one tab-separated line each, written as they happen, so a long chain's growth can be
//! read against what the KV cache and the captured rows should add.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

/// Generated tokens between two lines during decoding.
pub const TOKENS_BETWEEN_LINES: usize = 256;

/// An open memory log.
pub struct MemoryLog {
    file: BufWriter<File>,
    started: Instant,
}

impl MemoryLog {
    /// Creates `path` and writes its header and the `start` line.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("{}: cannot create the memory log", path.display()))?;
        let mut log = Self {
            file: BufWriter::new(file),
            started: Instant::now(),
        };
        writeln!(log.file, "stage\tgenerated_tokens\tseconds\tresident_mb")?;
        log.record("start", 0)?;
        Ok(log)
    }

    /// Writes one line: the stage, how many tokens have been generated, the seconds since the
    /// log was created and the resident size now (empty where the system does not say).
    pub fn record(&mut self, stage: &str, generated_tokens: usize) -> Result<()> {
        let resident = resident_bytes()
            .map(|bytes| format!("{:.1}", bytes as f64 / 1e6))
            .unwrap_or_default();
        writeln!(
            self.file,
            "{stage}\t{generated_tokens}\t{:.2}\t{resident}",
            self.started.elapsed().as_secs_f64()
        )?;
        self.file.flush()?;
        Ok(())
    }
}

/// This process's resident set size.
fn resident_bytes() -> Option<u64> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};
    let pid = sysinfo::get_current_pid().ok()?;
    let mut system = System::new_with_specifics(RefreshKind::nothing());
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_memory(),
    );
    system.process(pid).map(|process| process.memory())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_a_resident_size_that_grows_with_an_allocation() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("memory.tsv");
        let mut log = MemoryLog::create(&path)?;
        let held = std::hint::black_box(vec![1u8; 256 << 20]);
        log.record("allocated", 1)?;
        drop(held);
        let text = std::fs::read_to_string(&path)?;
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        assert_eq!(
            lines[0],
            ["stage", "generated_tokens", "seconds", "resident_mb"]
        );
        assert_eq!(
            (lines[1][0], lines[2][0], lines[2][1]),
            ("start", "allocated", "1")
        );
        let resident = |line: &[&str]| line[3].parse::<f64>().unwrap();
        assert!(resident(&lines[2]) > resident(&lines[1]) + 200.0, "{text}");
        Ok(())
    }
}
