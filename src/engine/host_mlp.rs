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
//! gradient into the weights by running that chain backwards (`penalty_backward`). For
//! ReLU-family units σ'' is zero and that is all; tanh's σ'' = −2·h·σ' adds a term at every
//! hidden pre-activation, which is then backpropagated through the forward pass.

use super::host_head::{Head, HeadActs, HeadRows};
use super::host_kernels::{Compare, Kernels};
use super::host_ops::{matmul, transpose, zeroed};
pub use super::host_ops::{recycle, scratch};
use super::host_spectral::Spectral;
pub use super::host_units::HiddenAct;
use super::host_units::{add_into, add_rows, bias_act, times_act_grad};
use crate::nets::{BatchFeatures, Params};
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
    /// The hidden units' non-linearity (the output layer is linear).
    pub act: HiddenAct,
    /// Spectral normalisation: the raw weights and the power iteration; `w` is then the
    /// effective W/σ every pass runs on.
    pub spectral: Option<Spectral>,
    /// A discriminator's batch features (`host_head.rs`): the last layer's input is then
    /// [h | s | o], `dims[L−1] + head.extra()` wide.
    pub head: Head,
}

/// Every layer's output of one forward pass: `h[0]` is the input, `h[L]` the network output;
/// hidden ones are after the activation (whose derivative can be read back from them).
pub struct Acts {
    /// Rows of the pass.
    pub rows: usize,
    /// Every layer's output, `[rows, dims[l]]` each.
    pub h: Vec<Vec<f32>>,
    /// The batch features' part of the pass (`host_head.rs`).
    pub head: Option<HeadActs>,
}

/// Consecutive rows of a forward pass: every layer's slice of them (contiguous, as rows are
/// stored row-major). Lets one pass over stacked inputs be backpropagated set by set.
pub struct Rows<'a> {
    /// Rows in the slice.
    pub rows: usize,
    /// Every layer's slice of those rows.
    pub h: Vec<&'a [f32]>,
    /// The batch features' [h | s | o] and M of those rows, and how they were compared.
    pub head: Option<HeadRows<'a>>,
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
        let head = self.head.as_ref().map(|k| k.rows(self.rows, r.clone()));
        Rows { rows: r.len(), h, head }
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

/// ∂out/∂x at a pass's rows, with what `penalty_backward` needs of the way there.
pub struct InputGrad {
    /// ∂out/∂x, `[rows, dims[0]]`.
    pub g: Vec<f32>,
    /// δ_i = g_{i+1} ⊙ σ'(a_{i+1}) per hidden layer.
    pub deltas: Vec<Vec<f32>>,
    /// With minibatch discrimination (rows compared within sets): the pairs' slopes
    /// (`Kernels::pair_slopes`).
    pub slopes: Option<Vec<f32>>,
}

impl Drop for InputGrad {
    fn drop(&mut self) {
        self.deltas.drain(..).chain([std::mem::take(&mut self.g)]).chain(self.slopes.take()).for_each(recycle);
    }
}

impl HostMlp {
    /// The network with these parameters (ReLU, leaky ReLU with its slope, or tanh).
    pub fn new(p: Params) -> Self {
        Self::with_head(p, Head::default())
    }

    /// The network with these parameters and a last layer that also sees `head`'s inputs.
    fn with_head(p: Params, head: Head) -> Self {
        use crate::config::Activation;
        let act = match p.activation {
            Activation::Relu => HiddenAct::Leaky(0.0),
            Activation::LeakyRelu => HiddenAct::Leaky(p.leak),
            Activation::Tanh => HiddenAct::Tanh,
            Activation::Sigmoid => HiddenAct::Sigmoid,
        };
        let mut dims = vec![p.shapes[0][0]];
        dims.extend(p.shapes.iter().map(|s| s[1]));
        let (w, b) = p.layers.into_iter().unzip();
        let mut net = Self { dims, w, b, wt: Vec::new(), act, spectral: None, head };
        net.refresh();
        net
    }

    /// A discriminator with these parameters and batch features: with minibatch
    /// discrimination, T and its bias are `p`'s last entry (as `Params::init` draws them).
    pub fn with_features(mut p: Params, features: BatchFeatures) -> Self {
        let kernels = (features.kernels > 0).then(|| {
            let (t, tb) = p.layers.pop().expect("T follows the MLP's layers");
            p.shapes.pop();
            Kernels { b: features.kernels, c: features.kernel_dim, t, tb, reference: None }
        });
        Self::with_head(p, Head { stddev: features.stddev.then_some(0.0), kernels })
    }

    /// Inputs of layer `l`: `dims[l]`, and the head's batch features for the last layer.
    pub fn fan_in(&self, l: usize) -> usize {
        self.dims[l] + if l + 1 == self.depth() { self.head.extra() } else { 0 }
    }

    /// The same network spectrally normalised, u drawn from `rng` (`host_spectral.rs`).
    pub fn with_spectral_norm(mut self, rng: &mut impl rand::Rng) -> Self {
        self.spectral = Some(Spectral::new(self.w.clone(), &self.dims, rng));
        self.refresh();
        self
    }

    /// The weights as stored (the raw ones under spectral norm), in the order of `Mlp::params`
    /// with the biases.
    pub fn stored(&self) -> Vec<Vec<f32>> {
        let w = self.spectral.as_ref().map_or(&self.w, |s| &s.raw);
        let mut out: Vec<Vec<f32>> = w.iter().zip(&self.b).flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
        if let Some(k) = &self.head.kernels {
            out.extend([k.t.clone(), k.tb.clone()]);
        }
        out
    }

    /// Recomputes what follows from the stored weights after they changed: the effective
    /// weights under spectral norm, and the transposes.
    pub fn refresh(&mut self) {
        if let Some(s) = &mut self.spectral {
            let w = s.effective();
            std::mem::replace(&mut self.w, w).into_iter().for_each(recycle);
        }
        std::mem::take(&mut self.wt).into_iter().for_each(recycle);
        // Layers side by side on the threads (each small transpose runs on one).
        self.wt = (0..self.depth()).into_par_iter().map(|l| transpose(&self.w[l], self.fan_in(l), self.dims[l + 1])).collect();
    }

    /// The parameters in the order of `Mlp::params`, for the optimizer (call `refresh` after).
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let w = match &mut self.spectral {
            Some(s) => &mut s.raw,
            None => &mut self.w,
        };
        let mut out: Vec<&mut Vec<f32>> = w.iter_mut().zip(&mut self.b).flat_map(|(w, b)| [w, b]).collect();
        if let Some(k) = &mut self.head.kernels {
            out.extend([&mut k.t, &mut k.tb]);
        }
        out
    }

    /// Number of layers (weight matrices).
    pub fn depth(&self) -> usize {
        self.w.len()
    }

    /// Forward of `rows` inputs `x` (`[rows, dims[0]]`), keeping every layer's output; the
    /// kernels, if any, compare with the reference batch.
    pub fn forward(&self, x: Vec<f32>, rows: usize) -> Acts {
        self.forward_cmp(x, rows, Compare::Reference)
    }

    /// Forward, the kernels comparing rows as `compare` says.
    pub fn forward_cmp(&self, x: Vec<f32>, rows: usize, compare: Compare) -> Acts {
        let mut h = vec![x];
        let mut head = None;
        for l in 0..self.depth() {
            let (k, n) = (self.fan_in(l), self.dims[l + 1]);
            let mut out = scratch(rows * n);
            let input = if l + 1 == self.depth() && self.head.couples_rows() {
                &head.insert(self.head.forward(&h[l], rows, self.dims[l], compare)).aug
            } else {
                &h[l]
            };
            matmul(rows, n, k, &mut out, false, input, false, &self.w[l], false);
            self.bias_act(l, &mut out, &self.b[l]);
            h.push(out);
        }
        Acts { rows, h, head }
    }

    /// Adds `bias` to every row of layer `l`'s product `out` and applies the layer's unit
    /// (none on the output layer).
    fn bias_act(&self, l: usize, out: &mut [f32], bias: &[f32]) {
        bias_act(out, bias, if l + 1 == self.depth() { HiddenAct::Leaky(1.0) } else { self.act });
    }

    /// The output for `rows` inputs [x_i | tail] (`x`: `[rows, xw]`) that share their last
    /// columns (the diffusion model's time embedding while it samples): tail·W₀ and the bias
    /// make one row, added to x·W₀, so the shared columns are not multiplied row by row.
    pub fn output_with_shared_tail(&self, x: &[f32], xw: usize, tail: &[f32], rows: usize) -> Vec<f32> {
        let n = self.dims[1];
        let mut shared = self.b[0].clone();
        matmul(1, n, tail.len(), &mut shared, true, tail, false, &self.w[0][xw * n..], false);
        let mut h = scratch(rows * n);
        matmul(rows, n, xw, &mut h, false, x, false, &self.w[0][..xw * n], false);
        self.bias_act(0, &mut h, &shared);
        for l in 1..self.depth() {
            let (k, n) = (self.fan_in(l), self.dims[l + 1]);
            let mut out = scratch(rows * n);
            matmul(rows, n, k, &mut out, false, &h, false, &self.w[l], false);
            self.bias_act(l, &mut out, &self.b[l]);
            recycle(std::mem::replace(&mut h, out));
        }
        h
    }

    /// Backpropagates `delta` (∂loss/∂output, `[rows, out]`) through the pass `acts`. Adds the
    /// parameter gradients into `grads` when given; returns ∂loss/∂input when `want_input`.
    pub fn backward(&self, acts: &Rows, mut delta: Vec<f32>, mut grads: Option<&mut HostGrads>, want_input: bool) -> Option<Vec<f32>> {
        let rows = acts.rows;
        for l in (0..self.depth()).rev() {
            let (k, n) = (self.fan_in(l), self.dims[l + 1]);
            let head = acts.head.filter(|_| l + 1 == self.depth());
            let input = head.map_or(acts.h[l], |k| k.aug);
            if let Some(g) = grads.as_deref_mut() {
                // dW += h_lᵀ · δ ; db += Σ_rows δ
                matmul(k, n, rows, &mut g[2 * l], true, input, true, &delta, false);
                add_rows(&mut g[2 * l + 1], &delta);
            }
            if l == 0 && !want_input {
                recycle(delta);
                return None;
            }
            // ∂/∂h_l = δ · W_lᵀ, then through the activation that made h_l (if hidden).
            let mut up = scratch(rows * k);
            matmul(rows, k, n, &mut up, false, &delta, false, &self.wt[l], false);
            if let Some(head) = head {
                // ∂[h | s | o] → ∂h, through the batch features (T's gradients after the MLP's).
                let d = self.depth();
                let g = grads.as_deref_mut().filter(|g| g.len() > 2 * d).map(|g| {
                    let (a, b) = g.split_at_mut(2 * d + 1);
                    (&mut a[2 * d], &mut b[0])
                });
                let dh = self.head.backward(acts.h[l], head, &up, rows, self.dims[l], g);
                recycle(std::mem::replace(&mut up, dh));
            }
            if l > 0 {
                self.times_act_grad(&mut up, acts.h[l]);
            }
            recycle(std::mem::replace(&mut delta, up));
        }
        Some(delta)
    }

    /// ∂out/∂x of a one-output network at the rows of `acts`, by the chain rule through the
    /// activations: g ← (g ⊙ σ'(a_i))·W_iᵀ from the top down. Also returns every
    /// δ_i = g ⊙ σ'(a_i) on the way, which `penalty_backward` needs. The batch features are
    /// held as burn's `Mlp::input_grad` holds them: s constant; o moving with row i's own M,
    /// the rows it is compared with fixed.
    pub fn input_grad(&self, acts: &Rows) -> InputGrad {
        let (rows, top) = (acts.rows, self.depth() - 1);
        let a = self.dims[top];
        // d out / d h_top = W_topᵀ for every row …
        let mut g = scratch(rows * a);
        g.chunks_exact_mut(a).for_each(|row| row.copy_from_slice(&self.w[top][..a]));
        // … plus, within sets, the path through o: (gm ⊙ w_o)·Tᵀ.
        let slopes = match (&self.head.kernels, acts.head) {
            (Some(k), Some(HeadRows { m, e, compare: Compare::Sets(n), .. })) => {
                let gm = k.pair_slopes(m, e, rows, n);
                let w_o = &self.w[top][self.fan_in(top) - k.b..];
                let mut scaled = scratch(gm.len());
                scaled.iter_mut().zip(&gm).enumerate().for_each(|(i, (v, g))| *v = g * w_o[(i % (k.b * k.c)) / k.c]);
                matmul(rows, a, k.b * k.c, &mut g, true, &scaled, false, &k.t, true);
                recycle(scaled);
                Some(gm)
            }
            _ => None,
        };
        let mut deltas = vec![Vec::new(); top];
        for i in (0..top).rev() {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            self.times_act_grad(&mut g, acts.h[i + 1]);
            let mut next = scratch(rows * k);
            matmul(rows, k, n, &mut next, false, &g, false, &self.wt[i], false);
            deltas[i] = std::mem::replace(&mut g, next);
        }
        InputGrad { g, deltas, slopes }
    }

    /// Adds into `grads` the weight gradient of a penalty on ∂out/∂x, given `u0` = ∂penalty /
    /// ∂(∂out/∂x). It runs the input-gradient chain backwards. With ReLU-family units the
    /// activation masks are constants (σ'' = 0), so that is all and biases get nothing; with
    /// tanh, each δ_i = g_{i+1} ⊙ σ'(a_{i+1}) also depends on the pre-activation a_{i+1},
    /// through σ'' = −2·h·σ' (so g ⊙ σ'' = −2·h ⊙ δ_i, no division by a vanishing σ'; for the
    /// sigmoid σ'' = (1 − 2h)·σ', so (1 − 2h) ⊙ δ_i), and those terms go back through the
    /// forward pass into every lower layer.
    ///
    /// With minibatch discrimination the pairs' slopes in ∂D/∂h also depend on the weights
    /// (`Kernels::penalty_backward`); their ∂P/∂h_top goes down the forward pass the same way.
    pub fn penalty_backward(&self, acts: &Rows, ig: &InputGrad, u0: Vec<f32>, grads: &mut HostGrads) {
        let (rows, top, deltas) = (acts.rows, self.depth() - 1, &ig.deltas);
        // σ''/σ' as a function of h = σ(a), for the units whose σ'' is not zero.
        let curvature: Option<fn(f32) -> f32> = match self.act {
            HiddenAct::Leaky(_) => None,
            HiddenAct::Tanh => Some(|h| -2.0 * h),
            HiddenAct::Sigmoid => Some(|h| 1.0 - 2.0 * h),
        };
        let curved = curvature.is_some();
        // ∂penalty/∂a_{i+1} from σ'' directly, per hidden layer (tanh and sigmoid only).
        let mut direct: Vec<Vec<f32>> = Vec::new();
        let mut u = u0;
        for i in 0..top {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            // g_i = δ_i · W_iᵀ  ⇒  dW_i += uᵀ · δ_i  and  ∂/∂δ_i = u · W_i
            matmul(k, n, rows, &mut grads[2 * i], true, &u, true, &deltas[i], false);
            let mut next = scratch(rows * n);
            matmul(rows, n, k, &mut next, false, &u, false, &self.w[i], false);
            if let Some(c) = curvature {
                let mut s = scratch(rows * n);
                for (((s, v), d), &h) in s.iter_mut().zip(&next).zip(&deltas[i]).zip(acts.h[i + 1]) {
                    *s = c(h) * d * v;
                }
                direct.push(s);
            }
            self.times_act_grad(&mut next, acts.h[i + 1]);
            recycle(std::mem::replace(&mut u, next));
        }
        // The top weights enter as the starting row of the chain.
        add_rows(&mut grads[2 * top][..self.dims[top]], &u);
        // The kernels' slopes: ∂P/∂h_top, then ∂P/∂a_top.
        let through_pairs = match (&self.head.kernels, acts.head, &ig.slopes) {
            (Some(k), Some(head), Some(gm)) => {
                let (a, fan_in, d) = (self.dims[top], self.fan_in(top), self.depth());
                let (low, high) = grads.split_at_mut(2 * d);
                let w_o = &self.w[top][fan_in - k.b..];
                let n = match head.compare {
                    Compare::Sets(n) => n,
                    Compare::Reference => unreachable!("slopes come from a pass within sets"),
                };
                let mut dh = k.penalty_backward(
                    acts.h[top],
                    (head.m, head.e, gm),
                    w_o,
                    &u,
                    (rows, n, a),
                    &mut high[0],
                    &mut low[2 * top][fan_in - k.b..],
                );
                self.times_act_grad(&mut dh, acts.h[top]);
                Some(dh)
            }
            _ => None,
        };
        recycle(u);
        if top == 0 || (!curved && through_pairs.is_none()) {
            return;
        }
        // a_j = h_{j−1}·W_{j−1} + b_{j−1}: from the top hidden layer down, the total
        // ∂penalty/∂a_j is its direct term plus what the layers above send back.
        let mut total = match (direct.pop(), through_pairs) {
            (Some(mut t), Some(p)) => {
                add_into(&mut t, &p);
                recycle(p);
                t
            }
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => unreachable!("curved or through the pairs"),
        };
        for j in (1..=top).rev() {
            let (k, n) = (self.dims[j - 1], self.dims[j]);
            matmul(k, n, rows, &mut grads[2 * (j - 1)], true, acts.h[j - 1], true, &total, false);
            add_rows(&mut grads[2 * (j - 1) + 1], &total);
            if j > 1 {
                let mut up = scratch(rows * k);
                matmul(rows, k, n, &mut up, false, &total, false, &self.wt[j - 1], false);
                self.times_act_grad(&mut up, acts.h[j - 1]);
                if let Some(mut below) = direct.pop() {
                    add_into(&mut below, &up);
                    recycle(std::mem::replace(&mut up, below));
                }
                recycle(std::mem::replace(&mut total, up));
            }
        }
        recycle(total);
    }

    /// v ⊙ σ'(a) of the hidden units, with σ'(a) read from h = σ(a) (`host_units.rs`).
    fn times_act_grad(&self, v: &mut [f32], h: &[f32]) {
        times_act_grad(v, h, self.act);
    }

    /// Zero gradients shaped like the parameters.
    pub fn zero_grads(&self) -> HostGrads {
        let mut g: HostGrads =
            (0..self.depth()).flat_map(|l| [zeroed(self.fan_in(l) * self.dims[l + 1]), zeroed(self.dims[l + 1])]).collect();
        if let Some(k) = &self.head.kernels {
            g.extend([zeroed(k.t.len()), zeroed(k.tb.len())]);
        }
        g
    }
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
    let add = |(x, y): (&mut [f32], &[f32])| add_into(x, y);
    for (x, y) in a.iter_mut().zip(b) {
        if x.len() < 2 * CHUNK {
            add((x, &y));
        } else {
            x.par_chunks_mut(CHUNK).zip(y.par_chunks(CHUNK)).for_each(add);
        }
        recycle(y);
    }
}

#[cfg(test)]
mod tests;
