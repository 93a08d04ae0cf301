//! Argument lists for the `auscult` binary, built by what each argument is rather than spelled
//! out as `vec!["run", "--model", dir.to_str().unwrap(), …]` in every test: the model commands
//! (`run`, `forward`, `inspect`) take a checkpoint, a clip and a prompt, often from a fixture's
//! `cases.json`; the rest take files and options.

use std::ffi::OsStr;
use std::process::{Command, Output};

use super::binary::{auscult, auscult_command, expect_success};
use super::parity_cases::ParityCase;

/// An `auscult` command line, built argument by argument.
#[derive(Debug, Clone)]
pub struct CommandLine {
    args: Vec<String>,
}

impl CommandLine {
    /// The (sub)command's words, space-separated: `"run"`, `"label agree"`.
    pub fn new(command: &str) -> Self {
        CommandLine {
            args: command.split_whitespace().map(str::to_owned).collect(),
        }
    }

    /// One argument as it is: a positional file or a flag such as `--greedy`.
    pub fn arg(mut self, value: impl AsRef<OsStr>) -> Self {
        self.args.push(text(value.as_ref()));
        self
    }

    /// `name value`.
    pub fn option(self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.arg(name).arg(value)
    }

    /// More arguments as they are.
    pub fn args<S: AsRef<OsStr>>(mut self, extra: &[S]) -> Self {
        self.args
            .extend(extra.iter().map(|value| text(value.as_ref())));
        self
    }

    /// `--model <checkpoint folder>` (or, for `judge`, the judge model's name).
    pub fn model(self, model: impl AsRef<OsStr>) -> Self {
        self.option("--model", model)
    }

    /// `--audio <clip>`.
    pub fn audio(self, clip: impl AsRef<OsStr>) -> Self {
        self.option("--audio", clip)
    }

    /// `--prompt <text>`.
    pub fn prompt(self, text: &str) -> Self {
        self.option("--prompt", text)
    }

    /// `--out <path>`.
    pub fn out(self, path: impl AsRef<OsStr>) -> Self {
        self.option("--out", path)
    }

    /// `--max-new-tokens <count>`.
    pub fn max_new_tokens(self, count: usize) -> Self {
        self.option("--max-new-tokens", count.to_string())
    }

    /// A fixture case's clip and prompt, and its system turn when it has one.
    pub fn case(self, case: &ParityCase) -> Self {
        let with_clip = self.audio(case.clip_path()).prompt(&case.prompt);
        match &case.system {
            Some(system) => with_clip.option("--system", system),
            None => with_clip,
        }
    }

    /// The arguments, for APIs that take `&[&str]`.
    pub fn strs(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    /// The binary with these arguments, not started yet.
    pub fn command(&self) -> Command {
        auscult_command(&self.args)
    }

    /// Runs the binary with these arguments to the end.
    pub fn run(&self) -> Output {
        auscult(&self.args)
    }

    /// Runs the binary with these arguments and checks that it succeeded.
    pub fn succeeds(&self) -> Output {
        expect_success(self.run())
    }
}

/// An argument as text; the tests' paths are all UTF-8.
fn text(value: &OsStr) -> String {
    value
        .to_str()
        .unwrap_or_else(|| panic!("{value:?} is not UTF-8"))
        .to_owned()
}
