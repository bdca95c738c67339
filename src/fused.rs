//! The CPU fast path for the plain objectives: forward and backward of the two MLPs written
//! out over host buffers, with one `gemm` call per matrix product (transposes are strides, not
//! copies) and bias + activation fused into one pass. On small networks a training step is a
//! few hundred tiny tensor ops, and their allocation and dispatch cost as much as the
//! arithmetic; here there are none of either.
//!
//! The gradient penalties (WGAN-GP, R1, R2, DRAGAN) are here too: ∂D/∂x by the chain rule,
//! then the penalty's gradient into the weights by running that chain backwards (exact for
//! ReLU-family units, whose σ'' is zero).
//!
//! Used by the trainer on the CPU backend for ReLU / LeakyReLU networks without spectral norm
//! or minibatch-stddev (`Trainer::fused_ok`); everything else goes through burn's autodiff.
//! The gradients are the same as autodiff's up to float rounding (tests/engine.rs checks it).

use crate::config::LossKind;
use crate::nets::Mlp;
use crate::trainer::to_vec;

/// An MLP's parameters copied to the host: `w[l]` is `[dims[l], dims[l+1]]` row-major.
pub struct HostMlp {
    pub dims: Vec<usize>,
    pub w: Vec<Vec<f32>>,
    pub b: Vec<Vec<f32>>,
    /// Slope below zero: 0 for ReLU.
    pub leak: f32,
}

/// Every layer's output of one forward pass: `h[0]` is the input, `h[L]` the network output;
/// hidden ones are after the activation (whose derivative can be read back from them).
pub struct Acts {
    pub rows: usize,
    pub h: Vec<Vec<f32>>,
}

/// Gradients in the order of `Mlp::params`: w0, b0, w1, b1, …
pub type HostGrads = Vec<Vec<f32>>;

impl HostMlp {
    pub fn new(mlp: &Mlp, leak: f32) -> Self {
        let mut dims = vec![mlp.layers[0].w.dims()[0]];
        dims.extend(mlp.layers.iter().map(|l| l.w.dims()[1]));
        let w = mlp.layers.iter().map(|l| to_vec(l.w.clone())).collect();
        let b = mlp.layers.iter().map(|l| to_vec(l.b.clone())).collect();
        Self { dims, w, b, leak }
    }

    fn depth(&self) -> usize {
        self.w.len()
    }

    pub fn forward(&self, x: Vec<f32>, rows: usize) -> Acts {
        let mut h = vec![x];
        for l in 0..self.depth() {
            let (k, n) = (self.dims[l], self.dims[l + 1]);
            let mut out = vec![0.0f32; rows * n];
            matmul(rows, n, k, &mut out, false, &h[l], false, &self.w[l], false);
            // Branch-free (max/min) so that the loop vectorises: the signs are random.
            let leak = if l + 1 == self.depth() { 1.0 } else { self.leak };
            for row in out.chunks_exact_mut(n) {
                for (v, b) in row.iter_mut().zip(&self.b[l]) {
                    let a = *v + b;
                    *v = a.max(0.0) + leak * a.min(0.0);
                }
            }
            h.push(out);
        }
        Acts { rows, h }
    }

    /// Backpropagates `delta` (∂loss/∂output, `[rows, out]`) through the pass `acts`. Adds the
    /// parameter gradients into `grads` when given; returns ∂loss/∂input when `want_input`.
    pub fn backward(&self, acts: &Acts, mut delta: Vec<f32>, mut grads: Option<&mut HostGrads>, want_input: bool) -> Option<Vec<f32>> {
        let rows = acts.rows;
        for l in (0..self.depth()).rev() {
            let (k, n) = (self.dims[l], self.dims[l + 1]);
            if let Some(g) = grads.as_deref_mut() {
                // dW += h_lᵀ · δ ; db += Σ_rows δ
                matmul(k, n, rows, &mut g[2 * l], true, &acts.h[l], true, &delta, false);
                let db = &mut g[2 * l + 1];
                for row in delta.chunks_exact(n) {
                    db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                }
            }
            if l == 0 && !want_input {
                return None;
            }
            // ∂/∂h_l = δ · W_lᵀ, then through the activation that made h_l (if hidden).
            let mut up = vec![0.0f32; rows * k];
            matmul(rows, k, n, &mut up, false, &delta, false, &self.w[l], true);
            if l > 0 {
                self.times_act_grad(&mut up, &acts.h[l]);
            }
            delta = up;
        }
        Some(delta)
    }

    /// ∂out/∂x of a one-output network at the rows of `acts`, by the chain rule through the
    /// activations: g ← (g ⊙ σ'(a_i))·W_iᵀ from the top down. Also returns every
    /// δ_i = g ⊙ σ'(a_i) on the way, which `penalty_backward` needs.
    pub fn input_grad(&self, acts: &Acts) -> (Vec<f32>, Vec<Vec<f32>>) {
        let (rows, top) = (acts.rows, self.depth() - 1);
        // d out / d h_top = W_topᵀ for every row.
        let mut g: Vec<f32> = (0..rows).flat_map(|_| self.w[top].iter().copied()).collect();
        let mut deltas = vec![Vec::new(); top];
        for i in (0..top).rev() {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            self.times_act_grad(&mut g, &acts.h[i + 1]);
            let mut next = vec![0.0f32; rows * k];
            matmul(rows, k, n, &mut next, false, &g, false, &self.w[i], true);
            deltas[i] = std::mem::replace(&mut g, next);
        }
        (g, deltas)
    }

    /// Adds into `grads` the weight gradient of a penalty on ∂out/∂x, given `u0` = ∂penalty /
    /// ∂(∂out/∂x). It runs the input-gradient chain backwards; the activation masks are
    /// constants (σ'' = 0 for ReLU-family units), so biases get nothing.
    pub fn penalty_backward(&self, acts: &Acts, deltas: &[Vec<f32>], u0: Vec<f32>, grads: &mut HostGrads) {
        let (rows, top) = (acts.rows, self.depth() - 1);
        let mut u = u0;
        for i in 0..top {
            let (k, n) = (self.dims[i], self.dims[i + 1]);
            // g_i = δ_i · W_iᵀ  ⇒  dW_i += uᵀ · δ_i  and  ∂/∂δ_i = u · W_i
            matmul(k, n, rows, &mut grads[2 * i], true, &u, true, &deltas[i], false);
            let mut next = vec![0.0f32; rows * n];
            matmul(rows, n, k, &mut next, false, &u, false, &self.w[i], false);
            self.times_act_grad(&mut next, &acts.h[i + 1]);
            u = next;
        }
        // The top weights enter as the starting row of the chain.
        let w_top = &mut grads[2 * top];
        for row in u.chunks_exact(self.dims[top]) {
            w_top.iter_mut().zip(row).for_each(|(w, v)| *w += v);
        }
    }

    /// v ⊙ σ'(a), with σ'(a) read from h = σ(a): 1 where h > 0, else the leak (branch-free).
    fn times_act_grad(&self, v: &mut [f32], h: &[f32]) {
        let leak = self.leak;
        v.iter_mut().zip(h).for_each(|(u, &h)| *u *= leak + (1.0 - leak) * f32::from(u8::from(h > 0.0)));
    }

    pub fn zero_grads(&self) -> HostGrads {
        (0..self.depth()).flat_map(|l| [vec![0.0; self.dims[l] * self.dims[l + 1]], vec![0.0; self.dims[l + 1]]]).collect()
    }
}

/// Penalty on per-row gradients `g` (`[n, width]`), as `penalty::zero_centred` (γ/2·E‖g‖²)
/// or `penalty::one_centred` (λ·E(‖g‖ − 1)²): its value and its derivative with respect to `g`.
pub fn penalty_grad(g: &[f32], width: usize, weight: f32, one_centred: bool) -> (f32, Vec<f32>) {
    let n = (g.len() / width) as f32;
    let mut value = 0.0;
    let mut u = vec![0.0f32; g.len()];
    for (row, urow) in g.chunks_exact(width).zip(u.chunks_exact_mut(width)) {
        let sq: f32 = row.iter().map(|v| v * v).sum();
        let scale = if one_centred {
            let norm = (sq + 1e-12).sqrt();
            value += (norm - 1.0) * (norm - 1.0);
            weight * 2.0 * (norm - 1.0) / norm / n
        } else {
            value += sq;
            weight / n
        };
        urow.iter_mut().zip(row).for_each(|(o, v)| *o = scale * v);
    }
    let value = if one_centred { weight * value / n } else { 0.5 * weight * value / n };
    (value, u)
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// D's loss (as `loss::d_loss`) and its derivatives with respect to the outputs on reals and
/// fakes (each `[n]`, already divided by n).
pub fn d_loss_grad(kind: LossKind, dr: &[f32], df: &[f32], smoothing: f32) -> (f32, Vec<f32>, Vec<f32>) {
    let (nr, nf) = (dr.len() as f32, df.len() as f32);
    let t = 1.0 - smoothing;
    let mean = |v: &mut dyn Iterator<Item = f32>, n: f32| v.sum::<f32>() / n;
    match kind {
        LossKind::Minimax | LossKind::Ns => {
            let loss = mean(&mut dr.iter().map(|&x| t * softplus(-x) + (1.0 - t) * softplus(x)), nr) + mean(&mut df.iter().map(|&x| softplus(x)), nf);
            let gr = dr.iter().map(|&x| (-t * sigmoid(-x) + (1.0 - t) * sigmoid(x)) / nr).collect();
            let gf = df.iter().map(|&x| sigmoid(x) / nf).collect();
            (loss, gr, gf)
        }
        LossKind::Ls => {
            let loss = 0.5 * mean(&mut dr.iter().map(|&x| (x - t) * (x - t)), nr) + 0.5 * mean(&mut df.iter().map(|&x| x * x), nf);
            (loss, dr.iter().map(|&x| (x - t) / nr).collect(), df.iter().map(|&x| x / nf).collect())
        }
        LossKind::Hinge => {
            let loss = mean(&mut dr.iter().map(|&x| (1.0 - x).max(0.0)), nr) + mean(&mut df.iter().map(|&x| (1.0 + x).max(0.0)), nf);
            let gr = dr.iter().map(|&x| if 1.0 - x > 0.0 { -1.0 / nr } else { 0.0 }).collect();
            let gf = df.iter().map(|&x| if 1.0 + x > 0.0 { 1.0 / nf } else { 0.0 }).collect();
            (loss, gr, gf)
        }
        LossKind::Wgan | LossKind::WganGp => {
            let loss = mean(&mut df.iter().copied(), nf) - mean(&mut dr.iter().copied(), nr);
            (loss, vec![-1.0 / nr; dr.len()], vec![1.0 / nf; df.len()])
        }
    }
}

/// G's loss (as `loss::g_loss`) and its derivative with respect to D's outputs at the fakes.
pub fn g_loss_grad(kind: LossKind, df: &[f32]) -> (f32, Vec<f32>) {
    let n = df.len() as f32;
    match kind {
        LossKind::Minimax => (-df.iter().map(|&x| softplus(x)).sum::<f32>() / n, df.iter().map(|&x| -sigmoid(x) / n).collect()),
        LossKind::Ns => (df.iter().map(|&x| softplus(-x)).sum::<f32>() / n, df.iter().map(|&x| -sigmoid(-x) / n).collect()),
        LossKind::Ls => (0.5 * df.iter().map(|&x| (x - 1.0) * (x - 1.0)).sum::<f32>() / n, df.iter().map(|&x| (x - 1.0) / n).collect()),
        LossKind::Hinge | LossKind::Wgan | LossKind::WganGp => (-df.iter().sum::<f32>() / n, vec![-1.0 / n; df.len()]),
    }
}

/// `c (+)= a · b` for row-major `a` (`[m, k]`, or `[k, m]` read transposed when `a_t`) and `b`
/// (`[k, n]`, or `[n, k]` when `b_t`). Products big enough to pay for it run on all threads.
#[allow(clippy::too_many_arguments)]
fn matmul(m: usize, n: usize, k: usize, c: &mut [f32], accumulate: bool, a: &[f32], a_t: bool, b: &[f32], b_t: bool) {
    assert!(c.len() == m * n && a.len() == m * k && b.len() == k * n, "matmul shapes");
    let (a_rs, a_cs) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    let parallelism = if m * n * k >= 192 * 192 * 192 { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
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
