//! Reading back the traces files the commands write.

use std::path::Path;

use auscult::trace::{read_traces, Trace, TraceLine};

/// The finished traces of a traces file (failed items left out).
pub fn finished_traces(path: &Path) -> Vec<Trace> {
    read_traces(path)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
        .lines
        .into_iter()
        .filter_map(|line| match line {
            TraceLine::Done(trace) => Some(*trace),
            TraceLine::Failed(_) => None,
        })
        .collect()
}
