//! The host engine's matrix products and buffers: `matmul` (one `gemm` call, on all threads
//! when it pays), `transpose`, and the pool of recycled buffers every pass draws from. Shared
//! by the MLP passes (`host_mlp.rs`) and the minibatch kernels (`host_kernels.rs`).

use rayon::prelude::*;

/// `c (+)= a · b` for row-major `a` (`[m, k]`, or `[k, m]` read transposed when `a_t`) and `b`
/// (`[k, n]`, or `[n, k]` when `b_t`). Products big enough to pay for it run on all threads,
/// unless the caller is already one of several batch chunks running in parallel.
#[allow(clippy::too_many_arguments)]
pub fn matmul(m: usize, n: usize, k: usize, c: &mut [f32], accumulate: bool, a: &[f32], a_t: bool, b: &[f32], b_t: bool) {
    assert!(c.len() == m * n && a.len() == m * k && b.len() == k * n, "matmul shapes");
    let (a_rs, a_cs) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    let big = m * n * k >= 192 * 192 * 192 && rayon::current_thread_index().is_none();
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
