//! The host engine's arithmetic: forward and backward of an MLP written out over host
//! buffers, with one `gemm` call per matrix product and bias + activation fused into one pass.
//! On small networks a training step is a few hundred tiny tensor ops, and their allocation
//! and dispatch cost as much as the arithmetic; here there are none of either.
//!
//! Parallelism is over the batch (`chunked`): a gradient is a sum over rows, so each thread
//! takes a chunk of rows through the whole forward / backward chain with single-threaded
//! products, and the chunks' gradients are added (batch 256 is two chunks). On 2 cores this
//! beats splitting each product (gemm's own threading gains little on 128-row operands).
//!
//! For the gradient penalties: ∂D/∂x by the chain rule (`input_grad`), then a penalty's
//! gradient into the weights by running that chain backwards (`penalty_backward`; exact for
//! ReLU-family units, whose σ'' is zero).

use crate::nets::Params;
use rayon::prelude::*;
use std::ops::Range;

/// An MLP's parameters on the host: `w[l]` is `[dims[l], dims[l+1]]` row-major, `wt[l]` its
/// transpose (the backward pass multiplies by Wᵀ, and `gemm` is up to 1.5× slower reading a
/// transposed right-hand side than a copy made once per update costs).
#[derive(Clone)]
pub struct HostMlp {
    /// Layer widths, input first.
    pub dims: Vec<usize>,
    /// Weights `[dims[l], dims[l+1]]` per layer, row-major.
    pub w: Vec<Vec<f32>>,
    /// Biases per layer.
    pub b: Vec<Vec<f32>>,
    wt: Vec<Vec<f32>>,
    /// Slope below zero: 0 for ReLU.
    pub leak: f32,
}

/// Every layer's output of one forward pass: `h[0]` is the input, `h[L]` the network output;
/// hidden ones are after the activation (whose derivative can be read back from them).
pub struct Acts {
    /// Rows of the pass.
    pub rows: usize,
    /// Every layer's output, `[rows, dims[l]]` each.
    pub h: Vec<Vec<f32>>,
}

/// Consecutive rows of a forward pass: every layer's slice of them (contiguous, as rows are
/// stored row-major). Lets one pass over stacked inputs be backpropagated set by set.
pub struct Rows<'a> {
    /// Rows in the slice.
    pub rows: usize,
    /// Every layer's slice of those rows.
    pub h: Vec<&'a [f32]>,
}

impl Acts {
    /// The rows `r` of every layer.
    pub fn rows(&self, r: Range<usize>) -> Rows<'_> {
        let h = self
            .h
            .iter()
            .map(|h| {
                let w = h.len() / self.rows;
                &h[r.start * w..r.end * w]
            })
            .collect();
        Rows { rows: r.len(), h }
    }

    /// Every row.
    pub fn all(&self) -> Rows<'_> {
        self.rows(0..self.rows)
    }
}

impl Drop for Acts {
    fn drop(&mut self) {
        self.h.drain(..).for_each(recycle);
    }
}

/// Gradients in the order of `Mlp::params`: w0, b0, w1, b1, …
pub type HostGrads = Vec<Vec<f32>>;

impl HostMlp {
    /// The network with these parameters (ReLU, or leaky ReLU with its slope).
    pub fn new(p: Params) -> Self {
        let leak = if p.activation == crate::config::Activation::LeakyRelu { p.leak } else { 0.0 };
        let mut dims = vec![p.shapes[0][0]];
        dims.extend(p.shapes.iter().map(|s| s[1]));
        let (w, b) = p.layers.into_iter().unzip();
        let mut net = Self { dims, w, b, wt: Vec::new(), leak };
        net.refresh();
        net
    }

    /// Recomputes the transposes after the weights changed.
    pub fn refresh(&mut self) {
        std::mem::take(&mut self.wt).into_iter().for_each(recycle);
        // Layers side by side on the threads (each small transpose runs on one).
        self.wt = (0..self.depth()).into_par_iter().map(|l| transpose(&self.w[l], self.dims[l], self.dims[l + 1])).collect();
    }

    /// The parameters in the order of `Mlp::params`, for the optimizer (call `refresh` after).
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.w.iter_mut().zip(&mut self.b).flat_map(|(w, b)| [w, b]).collect()
    }

    /// Number of layers (weight matrices).
    pub fn depth(&self) -> usize {
        self.w.len()
    }

    /// Forward of `rows` inputs `x` (`[rows, dims[0]]`), keeping every layer's output.
    pub fn forward(&self, x: Vec<f32>, rows: usize) -> Acts {
        let mut h = vec![x];
        for l in 0..self.depth() {
            let (k, n) = (self.dims[l], self.dims[l + 1]);
            let mut out = scratch(rows * n);
            matmul(rows, n, k, &mut out, false, &h[l], false, &self.w[l], false);
            // A select, which vectorises (the signs are random), and lets NaN through, so a
            // diverged network shows (`max(a, 0)` would turn NaN into 0).
            let leak = if l + 1 == self.depth() { 1.0 } else { self.leak };
            for row in out.chunks_exact_mut(n) {
                for (v, b) in row.iter_mut().zip(&self.b[l]) {
                    let a = *v + b;
                    *v = if a > 0.0 { a } else { leak * a };
                }
            }
            h.push(out);
        }
        Acts { rows, h }
    }

    /// Backpropagates `delta` (∂loss/∂output, `[rows, out]`) through the pass `acts`. Adds the
    /// parameter gradients into `grads` when given; returns ∂loss/∂input when `want_input`.
    pub fn backward(&self, acts: &Rows, mut delta: Vec<f32>, mut grads: Option<&mut HostGrads>, want_input: bool) -> Option<Vec<f32>> {
        let rows = acts.rows;
        for l in (0..self.depth()).rev() {
            let (k, n) = (self.dims[l], self.dims[l + 1]);
            if let Some(g) = grads.as_deref_mut() {
                // dW += h_lᵀ · δ ; db += Σ_rows δ
                matmul(k, n, rows, &mut g[2 * l], true, acts.h[l], true, &delta, false);
                let db = &mut g[2 * l + 1];
                for row in delta.chunks_exact(n) {
                    db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                }
            }
            if l == 0 && !want_input {
                recycle(delta);
                return None;
            }
            // ∂/∂h_l = δ · W_lᵀ, then through the activation that made h_l (if hidden).
            let mut up = scratch(rows * k);
            matmul(rows, k, n, &mut up, false, &delta, false, &self.wt[l], false);
            if l > 0 {
                self.times_act_grad(&mut up, acts.h[l]);
            }
            recycle(std::mem::replace(&mut delta, up));
        }
        Some(delta)
    }

    /// ∂out/∂x of a one-output network at the rows of `acts`, by the chain rule through the
    /// activations: g ← (g ⊙ σ'(a_i))·W_iᵀ from the top down. Also returns every
    /// δ_i = g ⊙ σ'(a_i) on the way, which `penalty_backward` needs.
    pub fn input_grad(&self, acts: &Rows) -> (Vec<f32>, Vec<Vec<f32>>) {
        let (rows, top) = (acts.rows, self.depth() - 1);
        // d out / d h_top = W_topᵀ for every row.
        let mut g = scratch(rows * self.dims[top]);
        g.chunks_exact_mut(self.dims[top]).for_each(|row| row.copy_from_slice(&self.w[top]));
        let mut deltas = vec![Vec::new(); top];
        for i in (0..top).rev() {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            self.times_act_grad(&mut g, acts.h[i + 1]);
            let mut next = scratch(rows * k);
            matmul(rows, k, n, &mut next, false, &g, false, &self.wt[i], false);
            deltas[i] = std::mem::replace(&mut g, next);
        }
        (g, deltas)
    }

    /// Adds into `grads` the weight gradient of a penalty on ∂out/∂x, given `u0` = ∂penalty /
    /// ∂(∂out/∂x). It runs the input-gradient chain backwards; the activation masks are
    /// constants (σ'' = 0 for ReLU-family units), so biases get nothing.
    pub fn penalty_backward(&self, acts: &Rows, deltas: &[Vec<f32>], u0: Vec<f32>, grads: &mut HostGrads) {
        let (rows, top) = (acts.rows, self.depth() - 1);
        let mut u = u0;
        for i in 0..top {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            // g_i = δ_i · W_iᵀ  ⇒  dW_i += uᵀ · δ_i  and  ∂/∂δ_i = u · W_i
            matmul(k, n, rows, &mut grads[2 * i], true, &u, true, &deltas[i], false);
            let mut next = scratch(rows * n);
            matmul(rows, n, k, &mut next, false, &u, false, &self.w[i], false);
            self.times_act_grad(&mut next, acts.h[i + 1]);
            recycle(std::mem::replace(&mut u, next));
        }
        // The top weights enter as the starting row of the chain.
        let w_top = &mut grads[2 * top];
        for row in u.chunks_exact(self.dims[top]) {
            w_top.iter_mut().zip(row).for_each(|(w, v)| *w += v);
        }
        recycle(u);
    }

    /// v ⊙ σ'(a), with σ'(a) read from h = σ(a): 1 where h > 0, else the leak (branch-free).
    fn times_act_grad(&self, v: &mut [f32], h: &[f32]) {
        let leak = self.leak;
        v.iter_mut().zip(h).for_each(|(u, &h)| *u *= leak + (1.0 - leak) * f32::from(u8::from(h > 0.0)));
    }

    /// Zero gradients shaped like the parameters.
    pub fn zero_grads(&self) -> HostGrads {
        (0..self.depth()).flat_map(|l| [zeroed(self.dims[l] * self.dims[l + 1]), zeroed(self.dims[l + 1])]).collect()
    }
}

/// `c (+)= a · b` for row-major `a` (`[m, k]`, or `[k, m]` read transposed when `a_t`) and `b`
/// (`[k, n]`, or `[n, k]` when `b_t`). Products big enough to pay for it run on all threads,
/// unless the caller is already one of several batch chunks running in parallel.
#[allow(clippy::too_many_arguments)]
fn matmul(m: usize, n: usize, k: usize, c: &mut [f32], accumulate: bool, a: &[f32], a_t: bool, b: &[f32], b_t: bool) {
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
fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
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

/// Rows per chunk, at least: 128-row products keep `gemm` near its peak.
const CHUNK_ROWS: usize = 128;

/// Runs `f` on consecutive row ranges of `0..rows` (≥ `CHUNK_ROWS` each) in parallel and
/// returns the results in order. A batch's gradient is a sum over its rows, so each chunk
/// computes its part and the parts are added in order. The split depends on the batch size
/// only, not on the thread count, so a seed replays bit for bit on any machine.
pub fn chunked<T: Send>(rows: usize, f: impl Fn(Range<usize>) -> T + Sync + Send) -> Vec<T> {
    let n = (rows / CHUNK_ROWS).clamp(1, 64);
    if n == 1 {
        return vec![f(0..rows)];
    }
    (0..n).into_par_iter().map(|i| f((i * rows / n)..((i + 1) * rows / n))).collect()
}

/// Adds `b` into `a`, parameter by parameter (and recycles `b`); big ones on all threads.
pub fn add_grads(a: &mut HostGrads, b: HostGrads) {
    const CHUNK: usize = 1 << 15;
    let add = |(x, y): (&mut [f32], &[f32])| x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
    for (x, y) in a.iter_mut().zip(b) {
        if x.len() < 2 * CHUNK {
            add((x, &y));
        } else {
            x.par_chunks_mut(CHUNK).zip(y.par_chunks(CHUNK)).for_each(add);
        }
        recycle(y);
    }
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
fn zeroed(len: usize) -> Vec<f32> {
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

    /// `scratch` hands `matmul` buffers holding old values, so a product that does not
    /// accumulate must overwrite its output without reading it — checked here with NaN in the
    /// output beforehand, on the shapes and layouts the fast path uses (1-wide output layers,
    /// 2-wide inputs, transposed operands, products big enough to run on several threads).
    #[test]
    fn matmul_without_accumulate_ignores_old_output() {
        let shapes = [(1, 1, 1), (5, 7, 3), (64, 1, 512), (64, 512, 2), (2, 512, 64), (128, 512, 512), (512, 512, 256)];
        for (m, n, k) in shapes {
            for (a_t, b_t) in [(false, false), (true, false), (false, true)] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
                let at = |i: usize, p: usize| if a_t { a[p * m + i] } else { a[i * k + p] };
                let bt = |p: usize, j: usize| if b_t { b[j * k + p] } else { b[p * n + j] };
                let mut c = vec![f32::NAN; m * n];
                matmul(m, n, k, &mut c, false, &a, a_t, &b, b_t);
                for i in 0..m {
                    for j in 0..n {
                        let want: f32 = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
                        let got = c[i * n + j];
                        assert!(
                            (got - want).abs() <= 1e-3 * (1.0 + want.abs()),
                            "{m}×{k}·{k}×{n} (a_t {a_t}, b_t {b_t}) at ({i}, {j}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
