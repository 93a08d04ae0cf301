//! Helpers shared by the integration tests, one idea a file: where the inputs are ([`paths`]),
//! running the binary and its error contract ([`binary`]), building its command lines
//! ([`command_line`]), the parity fixtures' cases and the comparisons made with them
//! ([`parity_cases`], [`parity_checks`]), copies of fixture folders ([`folder_copy`]), reading
//! traces back ([`traces`]), bounded waits on child processes ([`polling`]), regenerating
//! committed files ([`update_mode`]), a scripted chat server ([`openai_server`]) and the binary in
//! a pseudo-terminal ([`pty`]). The names most tests use are re-exported here.

#![allow(dead_code)]

pub mod binary;
pub mod command_line;
pub mod folder_copy;
pub mod openai_server;
pub mod parity_cases;
pub mod parity_checks;
pub mod paths;
pub mod polling;
#[cfg(unix)]
pub mod pty;
pub mod traces;
pub mod update_mode;

pub use binary::{auscult, auscult_command, expect_one_line_error, stderr, stdout};
pub use command_line::CommandLine;
pub use parity_cases::{parity_case, parity_cases, token_ids};
pub use parity_checks::{check_greedy_generation, max_abs_difference};
pub use paths::{fixture, repo_path};
pub use traces::finished_traces;
