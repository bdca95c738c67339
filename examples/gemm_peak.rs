//! The machine's `gemm` throughput on the products the host engine runs: each thread
//! multiplies its own 128-row chunk by a 512×512 layer, single-threaded, as the engine's
//! batch chunks do. Prints GFLOP/s, the ceiling against which `bench/compare.sh gan-toy`'s
//! figures are read (a gan_toy WGAN-GP step is ≈ 16.2 GFLOP; see README, Speed). Another
//! shape (`m n k`) gives the ceiling of smaller networks' products: `128 128 128` is what
//! the mlp128 workload's 128-row chunks run (≈ 204 MFLOP a step).
//!
//!     cargo run --release --example gemm_peak [threads] [m n k]

use rayon::prelude::*;
use std::time::Instant;

fn product(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    // SAFETY: row-major `a` [m, k], `b` [k, n], `c` [m, n], lengths as allocated below.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|t| t.parse().ok()).unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let dims: Vec<usize> = std::env::args().skip(2).filter_map(|v| v.parse().ok()).collect();
    let (m, n, k) = match dims[..] {
        [m, n, k] => (m, n, k),
        _ => (128, 512, 512),
    };
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    // ≈ 27 GFLOP a thread per round, whatever the shape (400 of the default products).
    let reps = (2.7e10 / (2.0 * (m * n * k) as f64)).ceil() as usize;
    for round in 0..3 {
        let start = Instant::now();
        pool.install(|| {
            (0..threads).into_par_iter().for_each(|_| {
                let mut c = vec![0.0f32; m * n];
                for _ in 0..reps {
                    product(m, n, k, &a, &b, &mut c);
                }
            })
        });
        let secs = start.elapsed().as_secs_f64();
        let flop = 2.0 * (m * n * k) as f64 * reps as f64 * threads as f64;
        println!("round {round}: {:.0} GFLOP/s on {threads} thread(s) ({m}×{k}·{k}×{n} products)", flop / secs / 1e9);
    }
}
