//! Minibatch discrimination on the host engine (Salimans et al. 2016, §3.2), as `minibatch.rs`
//! defines it for burn's: the last hidden features h_i (width A) times the learned T
//! (`[A, B·C]`) give M_i; kernel b compares row i with every other row j of its set,
//! o_ib = Σ_{j≠i} exp(−‖M_ib − M_jb‖₁) (+ a bias), and the last layer sees [h_i | o_i].
//!
//! The rows of a set are coupled, so a pass that compares within sets is not split into row
//! chunks (`HostEngine` runs it whole); the pairs are spread over the threads row by row, each
//! row's sums in a fixed order, so a seed still replays bit for bit on any thread count. In a
//! training pass every M of the set depends on the weights (and, for G, on the fakes), so the
//! gradient flows through both ends of each pair:
//! ∂/∂M_kbc = −Σ_j (∂L/∂o_kb + ∂L/∂o_jb) · e_kjb · sign(M_kbc − M_jbc).
//! Points judged outside a batch (the surface, the arrows) are compared with the latest fake
//! batch's M held fixed, as burn's engine does.

use super::host_mlp::{matmul, scratch};
use rayon::prelude::*;

/// T, its bias and the reference batch of a discriminator with minibatch discrimination.
#[derive(Clone)]
pub struct Kernels {
    /// Number of kernels B.
    pub b: usize,
    /// Numbers per kernel C.
    pub c: usize,
    /// T, `[A, B·C]` row-major.
    pub t: Vec<f32>,
    /// The kernels' bias, `[B]`.
    pub tb: Vec<f32>,
    /// M of the latest fake training batch (at most `REFERENCE_ROWS` rows) and that batch's
    /// number of rows.
    pub reference: Option<(Vec<f32>, usize)>,
}

/// How a pass compares its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Within sets of this many consecutive rows (a training pass's stacked sets).
    Sets(usize),
    /// With the reference batch, held fixed (points judged outside a batch).
    Reference,
}

/// What a pass keeps of the kernels for its backward: the last layer's input [h | o] and M.
pub struct HeadActs {
    /// `[rows, A + B]`.
    pub aug: Vec<f32>,
    /// `[rows, B·C]`.
    pub m: Vec<f32>,
    /// How the rows were compared.
    pub compare: Compare,
}

/// Σ_c |x_c − y_c| per kernel, exponentiated: e_b = exp(−‖x_b − y_b‖₁), for rows `x`, `y` of M.
#[inline]
fn pair(x: &[f32], y: &[f32], c: usize, out: &mut [f32]) {
    for ((e, xb), yb) in out.iter_mut().zip(x.chunks_exact(c)).zip(y.chunks_exact(c)) {
        let l1: f32 = xb.iter().zip(yb).map(|(a, b)| (a - b).abs()).sum();
        *e = (-l1).exp();
    }
}

impl Kernels {
    fn bc(&self) -> usize {
        self.b * self.c
    }

    /// The rows row `i` is compared with (a slice of `m`, or the reference) and the weight on
    /// the sums.
    fn others<'a>(&'a self, m: &'a [f32], i: usize, compare: Compare) -> Option<(&'a [f32], f32)> {
        let bc = self.bc();
        match compare {
            Compare::Sets(n) => {
                let s = i / n;
                Some((&m[s * n * bc..(s + 1) * n * bc], 1.0))
            }
            Compare::Reference => {
                let (r, batch_rows) = self.reference.as_ref()?;
                // A batch's row is compared with batch_rows − 1 others; the reference holds fewer.
                Some((r, batch_rows.saturating_sub(1) as f32 / (r.len() / bc) as f32))
            }
        }
    }

    /// The last layer's input [h | o] for `rows` rows of the last hidden layer's output `h`
    /// (width `a`), and M.
    pub fn forward(&self, h: &[f32], rows: usize, a: usize, compare: Compare) -> HeadActs {
        let (b, bc) = (self.b, self.bc());
        let mut m = scratch(rows * bc);
        matmul(rows, bc, a, &mut m, false, h, false, &self.t, false);
        let mut aug = scratch(rows * (a + b));
        aug.par_chunks_mut(a + b).enumerate().for_each(|(i, row)| {
            row[..a].copy_from_slice(&h[i * a..(i + 1) * a]);
            let o = &mut row[a..];
            o.iter_mut().for_each(|v| *v = 0.0);
            if let Some((others, scale)) = self.others(&m, i, compare) {
                let mi = &m[i * bc..(i + 1) * bc];
                let mut e = [0.0f32; 256];
                for mj in others.chunks_exact(bc) {
                    pair(mi, mj, self.c, &mut e[..b]);
                    o.iter_mut().zip(&e[..b]).for_each(|(s, e)| *s += e);
                }
                // Within a set, row i met itself once at distance 0: exp(0) = 1 to take away.
                let own = if matches!(compare, Compare::Sets(_)) { 1.0 } else { 0.0 };
                o.iter_mut().for_each(|s| *s = (*s - own) * scale);
            }
            o.iter_mut().zip(&self.tb).for_each(|(s, bias)| *s += bias);
        });
        HeadActs { aug, m, compare }
    }

    /// Backpropagates ∂L/∂[h | o] (`d_aug`, `[rows, A + B]`) through the kernels: adds ∂L/∂T
    /// and ∂L/∂bias into `grads` when given and returns ∂L/∂h (`[rows, A]`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        h: &[f32],
        m: &[f32],
        compare: Compare,
        d_aug: &[f32],
        rows: usize,
        a: usize,
        grads: Option<(&mut Vec<f32>, &mut Vec<f32>)>,
    ) -> Vec<f32> {
        let (b, c, bc) = (self.b, self.c, self.bc());
        let d_o = |i: usize| &d_aug[i * (a + b) + a..(i + 1) * (a + b)];
        let mut dm = scratch(rows * bc);
        dm.par_chunks_mut(bc).enumerate().for_each(|(k, g)| {
            g.iter_mut().for_each(|v| *v = 0.0);
            let Some((others, scale)) = self.others(m, k, compare) else { return };
            let mk = &m[k * bc..(k + 1) * bc];
            let mut e = [0.0f32; 256];
            for (j, mj) in others.chunks_exact(bc).enumerate() {
                pair(mk, mj, c, &mut e[..b]);
                for kb in 0..b {
                    // Within a set both ends of the pair move; the reference stays fixed.
                    let w = match compare {
                        Compare::Sets(n) => d_o(k)[kb] + d_o((k / n) * n + j)[kb],
                        Compare::Reference => scale * d_o(k)[kb],
                    };
                    let f = -w * e[kb];
                    for cc in 0..c {
                        let i = kb * c + cc;
                        let d = mk[i] - mj[i];
                        // sign(0) = 0: a row's pair with itself carries no gradient.
                        let s = if d > 0.0 {
                            1.0
                        } else if d < 0.0 {
                            -1.0
                        } else {
                            0.0
                        };
                        g[i] += f * s;
                    }
                }
            }
        });
        if let Some((dt, dtb)) = grads {
            // dT += hᵀ·∂M ; d bias += Σ_rows ∂o
            matmul(a, bc, rows, dt, true, h, true, &dm, false);
            for i in 0..rows {
                dtb.iter_mut().zip(d_o(i)).for_each(|(s, v)| *s += v);
            }
        }
        // ∂h = ∂[h | o]'s first A columns + ∂M·Tᵀ.
        let mut dh = scratch(rows * a);
        matmul(rows, a, bc, &mut dh, false, &dm, false, &self.t, true);
        for (row, d) in dh.chunks_exact_mut(a).zip(d_aug.chunks_exact(a + b)) {
            row.iter_mut().zip(&d[..a]).for_each(|(x, y)| *x += y);
        }
        super::host_mlp::recycle(dm);
        dh
    }
}
