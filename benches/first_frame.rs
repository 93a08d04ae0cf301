//! Time to first frame: from spawning `auscult` (no arguments: the bundled demo model run live
//! on the first bundled example) in a 100×30 pseudo-terminal until the example's question is on
//! the parsed screen, and until the run's answer is (the header's "predicted"). Then `q` and the
//! wait for exit, which are not timed. Benches build with the bench profile, so this is the
//! release binary. `cargo bench --bench first_frame`.

use std::io::{ErrorKind, Read, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const ROWS: u16 = 30;
const COLS: u16 = 100;
/// The first bundled example's question, as the header starts it.
fn question() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/traces.jsonl");
    let text = std::fs::read_to_string(path).expect("the bundled examples");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("one example")).expect("a trace");
    let question = first["benchmark"]["question"].as_str().expect("a question");
    question.chars().take(30).collect()
}
/// A first frame slower than this is a failure, not a measurement.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The screen as the program drew it, and whether its output has ended.
struct Screen {
    parser: vt100::Parser,
    closed: bool,
}

/// One run: spawn, wait for `wanted` on screen (timed: the question for the first frame,
/// "predicted:" for the finished live run), quit and wait for exit (not timed).
fn time_until(wanted: &str) -> Duration {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pty opens");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_auscult"));
    command.cwd(env!("CARGO_MANIFEST_DIR"));
    command.env("TERM", "xterm-256color");
    command.env_remove("NO_COLOR");
    let mut reader = pair.master.try_clone_reader().expect("the pty reads");
    let mut writer = pair.master.take_writer().expect("the pty writes");
    let shared = Arc::new((
        Mutex::new(Screen {
            parser: vt100::Parser::new(ROWS, COLS, 0),
            closed: false,
        }),
        Condvar::new(),
    ));
    let feed = Arc::clone(&shared);
    let reader_thread = std::thread::spawn(move || {
        let (screen, changed) = &*feed;
        let mut buf = [0u8; 8192];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let mut screen = screen.lock().unwrap_or_else(PoisonError::into_inner);
            screen.parser.process(&buf[..n]);
            drop(screen);
            changed.notify_all();
        }
        screen.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        changed.notify_all();
    });

    let start = Instant::now();
    let mut child = pair
        .slave
        .spawn_command(command)
        .expect("auscult starts in the pty");
    drop(pair.slave);
    let (screen, changed) = &*shared;
    let guard = screen.lock().unwrap_or_else(PoisonError::into_inner);
    let (guard, wait) = changed
        .wait_timeout_while(guard, TIMEOUT, |s| {
            !s.parser.screen().contents().contains(wanted)
        })
        .unwrap_or_else(PoisonError::into_inner);
    let elapsed = start.elapsed();
    if wait.timed_out() {
        let contents = guard.parser.screen().contents();
        drop(guard);
        let _ = child.kill();
        panic!("no {wanted:?} on screen after {TIMEOUT:?}; the screen shows\n{contents}");
    }
    drop(guard);

    writer.write_all(b"q").expect("q is typed");
    writer.flush().expect("q is typed");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be polled") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("auscult still runs {TIMEOUT:?} after q");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "auscult exited with {status:?}");
    reader_thread
        .join()
        .expect("the reader ends with the output");
    elapsed
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("first frame");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let question = question();
    group.bench_function("auscult, demo live run, 100x30 pty: first frame", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_until(&question)).sum())
    });
    group.bench_function("auscult, demo live run, 100x30 pty: answered", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_until("predicted:")).sum())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
