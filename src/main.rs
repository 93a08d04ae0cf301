//! The `auscult` binary: parses the command line, runs it, and decides the exit code.
//!
//! Errors print as one line, `error: <file>: <what is wrong>`, with exit code 1; clap's usage
//! errors exit with 2.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: decoding allocates and frees the same few tensor
/// sizes every token, and glibc returns the large ones to the kernel each time, so every token
/// paid for fresh zeroed pages (page faults were about 5 % of decoding time under perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    pin_thread_count();
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

/// candle asks for its thread count before every CPU operation, and without `RAYON_NUM_THREADS`
/// that means reading `/proc/cpuinfo` each time (about 4 % of decoding time, measured with perf).
/// Its own answer is computed once here and pinned in the variable it reads first.
fn pin_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = candle_core::utils::get_num_threads();
        // Before any other thread exists, so setting the environment is sound.
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}
