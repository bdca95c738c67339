//! The host engine's matrix products and buffers: `matmul` (one `gemm` call, on all threads
//! when it pays), `transpose`, and the pool of recycled buffers every pass draws from. Shared
//! by the MLP passes (`host_mlp.rs`) and the minibatch kernels (`host_kernels.rs`).

use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// `c (+)= a · b` for row-major `a` (`[m, k]`, or `[k, m]` read transposed when `a_t`) and `b`
/// (`[k, n]`, or `[n, k]` when `b_t`). Products big enough to pay for it run on all threads,
/// unless the caller is already one of several batch chunks running in parallel.
#[allow(clippy::too_many_arguments)]
pub fn matmul(m: usize, n: usize, k: usize, c: &mut [f32], accumulate: bool, a: &[f32], a_t: bool, b: &[f32], b_t: bool) {
    assert!(c.len() == m * n && a.len() == m * k && b.len() == k * n, "matmul shapes");
    let (a_rs, a_cs) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    let in_chunk = rayon::current_thread_index().is_some();
    if LOGGING.load(Ordering::Relaxed) {
        LOG.lock().unwrap_or_else(|e| e.into_inner()).push(Product { m, n, k, a_t, b_t, in_chunk });
    }
    let big = m * n * k >= 192 * 192 * 192 && !in_chunk;
    let parallelism = if big { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    // SAFETY: the strides above address exactly the `m·k`, `k·n` and `m·n` elements whose
    // lengths were checked; `c` does not alias `a` or `b` (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// One product `matmul` ran: its shape, its operands' layout, and whether it ran inside a
/// batch chunk (on one thread) or alone (on all threads when big). A step's list, replayed
/// alone by `examples/gemm_peak --replay`, is the ceiling `gemm` sets for that step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Product {
    /// Rows of a and c.
    pub m: usize,
    /// Columns of b and c.
    pub n: usize,
    /// The length summed over.
    pub k: usize,
    /// a was read transposed.
    pub a_t: bool,
    /// b was read transposed.
    pub b_t: bool,
    /// It ran inside a batch chunk, on one thread.
    pub in_chunk: bool,
}

impl Product {
    /// The CSV header `Product::csv` rows go under.
    pub const CSV_HEADER: &str = "m,n,k,a_t,b_t,in_chunk";

    /// One CSV row under `CSV_HEADER` (flags as 0 / 1).
    pub fn csv(&self) -> String {
        let Product { m, n, k, a_t, b_t, in_chunk } = *self;
        format!("{m},{n},{k},{},{},{}", u8::from(a_t), u8::from(b_t), u8::from(in_chunk))
    }

    /// A row written by `csv`; None when it is not one.
    pub fn parse(line: &str) -> Option<Product> {
        let f: Vec<usize> = line.split(',').map(|v| v.trim().parse().ok()).collect::<Option<_>>()?;
        match f[..] {
            [m, n, k, a_t, b_t, c] if a_t < 2 && b_t < 2 && c < 2 => {
                Some(Product { m, n, k, a_t: a_t == 1, b_t: b_t == 1, in_chunk: c == 1 })
            }
            _ => None,
        }
    }
}

// The log costs one relaxed load per product when off (`ganscope bench` turns it on for one
// step).
static LOGGING: AtomicBool = AtomicBool::new(false);
static LOG: std::sync::Mutex<Vec<Product>> = std::sync::Mutex::new(Vec::new());

/// Starts logging every product `matmul` runs (`on`), or stops and returns what was logged.
pub fn log_products(on: bool) -> Vec<Product> {
    LOGGING.store(on, Ordering::Relaxed);
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}

/// `[rows, cols]` → `[cols, rows]`: bands of output rows in parallel, each band reading the
/// input row by row (contiguous) and writing a few cache lines per row.
pub fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const BAND: usize = 16;
    let mut out = scratch(a.len());
    let band = |(bi, o): (usize, &mut [f32])| {
        let j0 = bi * BAND;
        let width = o.len() / rows;
        for (i, row) in a.chunks_exact(cols).enumerate() {
            for (jj, &v) in row[j0..j0 + width].iter().enumerate() {
                o[jj * rows + i] = v;
            }
        }
    };
    if a.len() >= 1 << 16 {
        out.par_chunks_mut(BAND * rows).enumerate().for_each(band);
    } else {
        out.chunks_mut(BAND * rows).enumerate().for_each(band);
    }
    out
}

/// Buffers given back by finished passes, for the next ones, by size class: class `c` holds
/// buffers of capacity ≥ 2^c. Every update needs the same few dozen activation-sized buffers;
/// freshly allocated, the allocator returns some of that memory to the OS and the kernel
/// zeroes it again page by page on first touch (≈ 10 % of a gan_toy step). Shared by all
/// threads: chunks' gradients are freed on the caller's thread.
static POOL: std::sync::Mutex<[Vec<Vec<f32>>; 48]> = std::sync::Mutex::new([const { Vec::new() }; 48]);

/// Buffers kept per size class; beyond it they are freed.
const POOL_PER_CLASS: usize = 32;

/// `len` zeros, in a recycled buffer when one is large enough.
pub fn zeroed(len: usize) -> Vec<f32> {
    let mut v = scratch(len);
    v.fill(0.0);
    v
}

/// `len` floats of unspecified (but initialised) value, for an output written in full —
/// by `matmul` without `accumulate`, say — so that it is not zeroed first. A recycled buffer
/// when one of the size class is free.
pub fn scratch(len: usize) -> Vec<f32> {
    let class = len.next_power_of_two().trailing_zeros() as usize;
    let reused = POOL.lock().unwrap_or_else(|e| e.into_inner())[class].pop();
    let mut v = reused.unwrap_or_else(|| Vec::with_capacity(1 << class));
    v.truncate(len);
    v.resize(len, 0.0);
    v
}

/// Gives a buffer back for `zeroed` / `scratch` to reuse.
pub fn recycle(v: Vec<f32>) {
    if v.capacity() < 1024 {
        return; // small ones are cheap to allocate
    }
    let class = v.capacity().ilog2() as usize;
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool[class].len() < POOL_PER_CLASS {
        pool[class].push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_holds_each_product_as_run_and_its_rows_read_back() {
        let (a, b) = (vec![1.0f32; 3 * 5], vec![2.0f32; 5 * 4]);
        let mut c = vec![0.0f32; 3 * 4];
        log_products(true);
        matmul(3, 4, 5, &mut c, false, &a, true, &b, false);
        let log = log_products(false);
        matmul(3, 4, 5, &mut c, false, &a, false, &b, true);
        assert!(c.iter().all(|&v| v == 10.0));
        // Other tests' products may be in it too; this one is, and it ran alone.
        let want = Product { m: 3, n: 4, k: 5, a_t: true, b_t: false, in_chunk: false };
        assert!(log.contains(&want), "{log:?}");
        assert_eq!(Product::parse(&want.csv()), Some(want));
        assert_eq!(want.csv(), "3,4,5,1,0,0");
        for bad in ["3,4,5,1,0", "3,4,5,2,0,0", "a,4,5,1,0,0", "3,4,5,1,0,0,0"] {
            assert_eq!(Product::parse(bad), None, "{bad}");
        }
    }
}
