//! The `auscult` binary: parses the command line, runs it, and decides the exit code.
//!
//! Errors print as one line, `error: <file>: <what is wrong>`, with exit code 1; clap's usage
//! errors exit with 2.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = auscult::cli::Cli::parse();
    match auscult::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` joins the context chain into one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
