//! Measures this machine's memory read bandwidth, the bound on decoding speed: a decoder reads
//! every weight once per generated token, so tokens/s can be at most bandwidth / weight bytes.
//!
//! `cargo run --release --example memory_bandwidth [GiB]` sums a large f32 array with one thread
//! per core and prints the best of several passes in GB/s (10^9 bytes per second).

use std::time::Instant;

fn main() {
    let gib: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1.0);
    let len = (gib * (1u64 << 30) as f64 / 4.0) as usize;
    let data: Vec<f32> = (0..len).map(|i| (i % 7) as f32).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = len.div_ceil(threads);
    let mut best = f64::MAX;
    for _ in 0..7 {
        let started = Instant::now();
        let total: f32 = std::thread::scope(|scope| {
            let handles: Vec<_> = data
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        // Eight independent accumulators so the adds are not the bottleneck.
                        let mut acc = [0f32; 8];
                        for block in part.chunks_exact(8) {
                            for (a, &x) in acc.iter_mut().zip(block) {
                                *a += x;
                            }
                        }
                        acc.iter().sum::<f32>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("summing thread"))
                .sum()
        });
        std::hint::black_box(total);
        best = best.min(started.elapsed().as_secs_f64());
    }
    let gb_per_second = (len * 4) as f64 / best / 1e9;
    println!(
        "threads {threads}, {:.2} GiB read, best pass {:.1} ms: {gb_per_second:.1} GB/s",
        gib,
        best * 1e3
    );
}
