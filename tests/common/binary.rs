//! Running the `auscult` binary the way a user does, and reading what it said: its output, the
//! success every passing command owes, and the error contract of a refused one (exit 1, one line
//! starting `error: `, no panic).

use std::ffi::OsStr;
use std::process::{Command, Output};

/// The `auscult` binary with `args`, not started yet (for a test that sets its environment or
/// its standard streams).
pub fn auscult_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auscult"));
    command.args(args);
    command
}

/// Runs the `auscult` binary with `args` to the end.
pub fn auscult<S: AsRef<OsStr>>(args: &[S]) -> Output {
    auscult_command(args)
        .output()
        .expect("the auscult binary runs")
}

/// `output`, once checked to be a success (exit status 0); panics with its stderr otherwise.
pub fn expect_success(output: Output) -> Output {
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

/// What the run printed on stderr (invalid UTF-8 replaced, for failure messages).
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What the run printed on stdout, which must be UTF-8.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Checks the error contract of a failed run (exit code 1, one line starting `error: `, no
/// panic, each of `fragments` in it) and returns the message.
pub fn expect_one_line_error(output: &Output, fragments: &[&str]) -> String {
    let message = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; stderr: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert_eq!(message.lines().count(), 1, "one line: {message:?}");
    assert!(message.starts_with("error: "), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment:?} in {message}");
    }
    message
}
