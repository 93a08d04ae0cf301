//! Time to first frame: from spawning `auscult` (no arguments: the bundled demo model run live
//! on the first bundled example) in a 100×30 pseudo-terminal until the example's question is on
//! the parsed screen, and until the run's answer is (the header's "predicted"). Then `q` and the
//! wait for exit, which are not timed. Benches build with the bench profile, so this is the
//! release binary. `cargo bench --bench first_frame`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

// The integration tests' pty harness: spawn in a 100×30 pty, parse the screen, wait (at most
// 10 s, then a panic with the screen), quit and check the terminal; it polls the child's exit
// with the tests' bounded waits.
#[allow(dead_code)]
#[path = "../tests/common/polling.rs"]
mod polling;
#[path = "../tests/common/pty.rs"]
mod pty;

/// The first bundled example's question, as the header starts it.
fn question() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/traces.jsonl");
    let text = std::fs::read_to_string(path).expect("the bundled examples");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("one example")).expect("a trace");
    let question = first["benchmark"]["question"].as_str().expect("a question");
    question.chars().take(30).collect()
}

/// One run: spawn, wait for `wanted` on screen (timed: the question for the first frame,
/// "predicted:" for the finished live run), quit and wait for exit (not timed).
fn time_until(wanted: &str) -> Duration {
    let start = Instant::now();
    let mut pty = pty::Pty::spawn(&[], &[]);
    pty.wait_for(wanted, |screen| screen.contents().contains(wanted));
    let elapsed = start.elapsed();
    pty.quit_cleanly();
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
