//! Waiting, with a deadline, for something a child process does: a file it writes, its exit, a
//! screen it draws. The tests cannot be told when it happens, so they look again every
//! [`POLL_INTERVAL`]; what bounds the wait is the deadline, and running past it fails the test
//! with what was awaited, never a sleep that hopes the child was quick enough.

use std::time::{Duration, Instant};

/// How long to wait between two looks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Looks at `done` every [`POLL_INTERVAL`] until it holds (`Ok`) or `within` has passed
/// (`Err(waited)`), for a caller that has something to clean up before it fails.
pub fn poll_until(within: Duration, mut done: impl FnMut() -> bool) -> Result<(), Duration> {
    let started = Instant::now();
    loop {
        if done() {
            return Ok(());
        }
        if started.elapsed() > within {
            return Err(started.elapsed());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Waits until `done` holds; panics, naming `what` and saying `describe()` (the state it saw
/// last), once `within` has passed.
pub fn wait_until(
    what: &str,
    within: Duration,
    done: impl FnMut() -> bool,
    describe: impl FnOnce() -> String,
) {
    if let Err(waited) = poll_until(within, done) {
        panic!("waited {waited:?} for {what}: {}", describe());
    }
}
