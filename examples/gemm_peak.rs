//! The machine's `gemm` throughput on the products the host engine runs: each thread
//! multiplies its own 128-row chunk by a 512×512 layer, single-threaded, as the engine's
//! batch chunks do. Prints GFLOP/s, the ceiling against which `bench/compare.sh gan-toy`'s
//! figures are read (a gan_toy WGAN-GP step is ≈ 16.2 GFLOP; see README, Speed). Another
//! shape (`m n k`) gives the ceiling of smaller networks' products: `128 128 128` is what
//! the mlp128 workload's 128-row chunks run (≈ 204 MFLOP a step).
//!
//! `--replay FILE` times instead one step's own products, as `ganscope bench --products-out
//! FILE` logged them (shapes, layouts, in a chunk or alone), with nothing else around them:
//! the speed `gemm` allows that step, beside the peak above in the same process.
//!
//!     cargo run --release --example gemm_peak [threads] [m n k]
//!     cargo run --release --example gemm_peak -- --replay FILE [threads]

use ganscope::engine::host_ops::{Product, matmul};
use rayon::prelude::*;
use std::time::Instant;

/// The default peak: every thread its own `m×k · k×n` products, ≈ 27 GFLOP a thread a round.
fn peak(pool: &rayon::ThreadPool, threads: usize, (m, n, k): (usize, usize, usize)) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let reps = (2.7e10 / (2.0 * (m * n * k) as f64)).ceil() as usize;
    let start = Instant::now();
    pool.install(|| {
        (0..threads).into_par_iter().for_each(|_| {
            let mut c = vec![0.0f32; m * n];
            for _ in 0..reps {
                matmul(m, n, k, &mut c, false, &a, false, &b, false);
            }
        })
    });
    2.0 * (m * n * k) as f64 * reps as f64 * threads as f64 / start.elapsed().as_secs_f64() / 1e9
}

/// One step's products alone, through the engine's own `matmul`: the chunk products on every
/// thread at once (each thread runs the whole list, so a step's share is a `threads`-th of
/// that time), then the others as the engine runs them. Returns (GFLOP/s, GFLOP a step).
fn replay(pool: &rayon::ThreadPool, threads: usize, products: &[Product], reps: usize) -> (f64, f64) {
    let fill = |len: usize| -> Vec<f32> { (0..len).map(|i| ((i * 7919) % 13) as f32 * 0.05 - 0.3).collect() };
    // Every product its own operands, as a step's layers and chunks have.
    let operands = || -> Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        products.iter().map(|p| (fill(p.m * p.k), fill(p.k * p.n), vec![0.0; p.m * p.n])).collect()
    };
    let flop = |p: &Product| 2.0 * (p.m * p.n * p.k) as f64;
    let (chunk, alone): (Vec<usize>, Vec<usize>) = (0..products.len()).partition(|&i| products[i].in_chunk);
    let mut per_thread: Vec<_> = (0..threads).map(|_| operands()).collect();
    let mut own = operands();
    let start = Instant::now();
    pool.install(|| {
        per_thread.par_iter_mut().for_each(|ops| {
            for _ in 0..reps {
                for &i in &chunk {
                    let (p, (a, b, c)) = (&products[i], &mut ops[i]);
                    matmul(p.m, p.n, p.k, c, false, a, p.a_t, b, p.b_t);
                }
            }
        })
    });
    let chunk_secs = start.elapsed().as_secs_f64() / threads as f64;
    let start = Instant::now();
    // Outside the pool, as the engine runs them: `matmul` puts the big ones on every thread of
    // rayon's global pool (RAYON_NUM_THREADS).
    for _ in 0..reps {
        for &i in &alone {
            let (p, (a, b, c)) = (&products[i], &mut own[i]);
            matmul(p.m, p.n, p.k, c, false, a, p.a_t, b, p.b_t);
        }
    }
    let secs = chunk_secs + start.elapsed().as_secs_f64();
    let step_flop: f64 = products.iter().map(flop).sum();
    (step_flop * reps as f64 / secs / 1e9, step_flop / 1e9)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--replay") {
        let Some(path) = args.get(at + 1) else {
            eprintln!("gemm_peak: --replay needs a file (from `ganscope bench --products-out FILE`)");
            std::process::exit(2);
        };
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            eprintln!("gemm_peak: {path}: {e}");
            std::process::exit(2)
        });
        let mut products = Vec::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            let Some(p) = Product::parse(line) else {
                eprintln!("gemm_peak: {path} line {}: not `{}`: {line}", n + 1, Product::CSV_HEADER);
                std::process::exit(2);
            };
            products.push(p);
        }
        let threads: usize = args.get(at + 2).and_then(|t| t.parse().ok()).unwrap_or(2);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (_, gflop) = replay(&pool, threads, &products, 1);
        // ≈ 27 GFLOP a thread a round, like the peak's rounds.
        let reps = (27.0 * threads as f64 / gflop).ceil() as usize;
        for round in 0..3 {
            let (rate, _) = replay(&pool, threads, &products, reps);
            let top = peak(&pool, threads, (128, 512, 512));
            println!(
                "round {round}: the step's {} products ({gflop:.3} GFLOP) alone: {rate:.0} GFLOP/s on {threads} thread(s); the 128×512·512×512 peak beside them: {top:.0} GFLOP/s ({:.0} %)",
                products.len(),
                100.0 * rate / top
            );
        }
        return;
    }
    let threads: usize = args.first().and_then(|t| t.parse().ok()).unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let dims: Vec<usize> = args.iter().skip(1).filter_map(|v| v.parse().ok()).collect();
    let (m, n, k) = match dims[..] {
        [m, n, k] => (m, n, k),
        _ => (128, 512, 512),
    };
    for round in 0..3 {
        let rate = peak(&pool, threads, (m, n, k));
        println!("round {round}: {rate:.0} GFLOP/s on {threads} thread(s) ({m}×{k}·{k}×{n} products)");
    }
}
