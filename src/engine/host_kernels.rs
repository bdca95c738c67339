//! Minibatch discrimination on the host engine (Salimans et al. 2016, §3.2), as `minibatch.rs`
//! defines it for burn's: the last hidden features h_i (width A) times the learned T
//! (`[A, B·C]`) give M_i; kernel b compares row i with every other row j of its set,
//! o_ib = Σ_{j≠i} exp(−‖M_ib − M_jb‖₁) (+ a bias), and the last layer sees [h_i | o_i]
//! (`host_head.rs` builds that input, with the minibatch stddev between them when D has it).
//!
//! The rows of a set are coupled, so a pass that compares within sets is not split into row
//! chunks (`HostEngine` runs it whole); the pairs are spread over the threads row by row, each
//! row's sums in a fixed order, so a seed still replays bit for bit on any thread count. In a
//! training pass every M of the set depends on the weights (and, for G, on the fakes), so the
//! gradient flows through both ends of each pair:
//! ∂/∂M_kbc = −Σ_j (∂L/∂o_kb + ∂L/∂o_jb) · e_kjb · sign(M_kbc − M_jbc).
//! Points judged outside a batch (the surface, the arrows) are compared with the latest fake
//! batch's M held fixed, as burn's engine does.

use super::host_ops::{matmul, recycle, scratch};
use super::host_units::add_into;
use crate::simd::vectorised;
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

/// e^x for x ≤ 0 (Cephes' `expf`: range reduction to e^r·2^n, a degree-6 polynomial; within
/// 2 ulp of `f32::exp`). Below −87 it is 0. n = round(x·log₂e) comes from the bits of
/// x·log₂e + 1.5·2²³ (the add rounds to an integer and leaves it in the low mantissa bits):
/// plain float and integer lane operations, so the loop vectorises — a float-to-int `as`
/// cast saturates and does not, and the pairs' exponentials are most of the kernels' cost.
#[inline(always)]
fn exp_neg(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5·2²³
    let x = x.max(-87.0);
    let k = x * std::f32::consts::LOG2_E + SHIFT;
    let n = k - SHIFT;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2ⁿ: n + 127 in the exponent field (n ≥ −126 after the clamp).
    let two_n = (k.to_bits().wrapping_sub(SHIFT.to_bits()) as i32 + 127) << 23;
    y * f32::from_bits(two_n as u32)
}

vectorised! { up_to avx2;
    /// e_j = exp(−Σ_c |x_c − y_cj|) for one kernel: `x` its C numbers of one row, `cols` the
    /// others' C columns (`[C][others]`). `LANES` others at a time, their distances kept in
    /// registers from the first number to the exponential.
    fn pair_exps(x: &[f32], cols: &[f32], e: &mut [f32]) {
        let others = e.len();
        let distance = |j: usize| x.iter().enumerate().fold(0.0f32, |s, (cc, &xv)| s + (xv - cols[cc * others + j]).abs());
        let full = others - others % LANES;
        for (j0, out) in (0..full).step_by(LANES).zip(e.chunks_exact_mut(LANES)) {
            let mut acc = [0.0f32; LANES];
            for (cc, &xv) in x.iter().enumerate() {
                let col = &cols[cc * others + j0..cc * others + j0 + LANES];
                acc.iter_mut().zip(col).for_each(|(a, &y)| *a += (xv - y).abs());
            }
            out.iter_mut().zip(&acc).for_each(|(v, &d)| *v = exp_neg(-d));
        }
        (full..others).for_each(|j| e[j] = exp_neg(-distance(j)));
    }
}

/// One row's kernels against every other row: for kernel b, e_j = exp(−Σ_c |x_bc − M_j,bc|)
/// over the others' columns `cols` (`[B·C][others]`, a column per number), written to `e`
/// (`[others]`) and handed to `f(b, e)`.
#[inline]
fn each_kernel(x: &[f32], cols: &[f32], others: usize, c: usize, e: &mut [f32], mut f: impl FnMut(usize, &[f32])) {
    for (kb, xb) in x.chunks_exact(c).enumerate() {
        pair_exps(xb, &cols[kb * c * others..(kb + 1) * c * others], e);
        f(kb, e);
    }
}

/// sign(x − y) as −1, 0 or 1 (0: a row's pair with itself carries nothing).
#[inline(always)]
fn sign(x: f32, y: f32) -> f32 {
    f32::from(u8::from(x > y)) - f32::from(u8::from(x < y))
}

/// Lanes of the pairs' loops: a float sum in one accumulator is a chain of dependent adds
/// that does not vectorise (the compiler may not reorder it); eight running sums, added in a
/// fixed order at the end, do, and the order is the code's, the same on every machine and
/// thread count. (Sixteen, two chains in flight, were ≈ 10 % faster, but summed in another
/// order; `engines_agree`'s most rounding-sensitive case, WGAN-GP with ReLU, went from
/// 0.096 % after one step to 0.104 %, past its 0.1 % bound — rounding, the two orders alike.)
const LANES: usize = 8;

/// Σ_j v_j, in `LANES` running sums.
#[inline(always)]
fn lanes_sum(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = v.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        acc.iter_mut().zip(c).for_each(|(a, v)| *a += v);
    }
    acc.iter().sum::<f32>() + rest
}

vectorised! { up_to avx2;
    /// Σ_j w_j·sign(x − y_j), in `LANES` running sums.
    fn signed_sum(w: &[f32], y: &[f32], x: f32) -> f32 {
        let mut acc = [0.0f32; LANES];
        let (wc, yc) = (w.chunks_exact(LANES), y.chunks_exact(LANES));
        let rest: f32 = wc.remainder().iter().zip(yc.remainder()).map(|(w, &y)| w * sign(x, y)).sum();
        for (w, y) in wc.zip(yc) {
            for l in 0..LANES {
                acc[l] += w[l] * sign(x, y[l]);
            }
        }
        acc.iter().sum::<f32>() + rest
    }
}

/// Rows `[rows, cols]` as columns `[cols, rows]`.
fn columns(m: &[f32], cols: usize) -> Vec<f32> {
    let rows = m.len() / cols;
    let mut out = vec![0.0f32; m.len()];
    for (i, row) in m.chunks_exact(cols).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j * rows + i] = v;
        }
    }
    out
}

impl Kernels {
    fn bc(&self) -> usize {
        self.b * self.c
    }

    /// The others of every set (or the reference) as columns, with the weight on the sums.
    fn others_columns(&self, m: &[f32], rows: usize, compare: Compare) -> Option<(Vec<Vec<f32>>, f32)> {
        let bc = self.bc();
        match compare {
            Compare::Sets(n) => Some((m[..rows * bc].chunks(n * bc).map(|set| columns(set, bc)).collect(), 1.0)),
            Compare::Reference => {
                let (r, batch_rows) = self.reference.as_ref()?;
                // A batch's row is compared with batch_rows − 1 others; the reference holds fewer.
                Some((vec![columns(r, bc)], batch_rows.saturating_sub(1) as f32 / (r.len() / bc) as f32))
            }
        }
    }

    /// o for `rows` rows of the last hidden layer's output `h` (width `a`), written into
    /// columns `at..at + B` of the last layer's input `aug` (`[rows, w]`); returns M and,
    /// within sets, every pair's e (kept for the backward, which need not make them again:
    /// `[rows, B, set rows]`).
    pub fn forward(&self, h: &[f32], rows: usize, a: usize, compare: Compare, aug: &mut [f32], at: usize) -> (Vec<f32>, Vec<f32>) {
        let (b, bc) = (self.b, self.bc());
        let w = aug.len() / rows;
        let mut m = scratch(rows * bc);
        matmul(rows, bc, a, &mut m, false, h, false, &self.t, false);
        let others = self.others_columns(&m, rows, compare);
        let mut kept = match compare {
            Compare::Sets(n) => scratch(rows * b * n),
            Compare::Reference => Vec::new(),
        };
        let per_row = kept.len() / rows;
        let fill = |i: usize, row: &mut [f32], kept: &mut [f32]| {
            let o = &mut row[at..at + b];
            o.iter_mut().for_each(|v| *v = 0.0);
            if let Some((sets, scale)) = &others {
                let cols = match compare {
                    Compare::Sets(n) => &sets[i / n],
                    Compare::Reference => &sets[0],
                };
                let count = cols.len() / bc;
                let mut e = vec![0.0f32; count];
                each_kernel(&m[i * bc..(i + 1) * bc], cols, count, self.c, &mut e, |kb, e| {
                    o[kb] = lanes_sum(e);
                    if !kept.is_empty() {
                        kept[kb * count..(kb + 1) * count].copy_from_slice(e);
                    }
                });
                // Within a set, row i met itself once at distance 0: exp(0) = 1 to take away.
                let own = if matches!(compare, Compare::Sets(_)) { 1.0 } else { 0.0 };
                o.iter_mut().for_each(|s| *s = (*s - own) * scale);
            }
            add_into(o, &self.tb);
        };
        if per_row > 0 {
            aug.par_chunks_mut(w).zip(kept.par_chunks_mut(per_row)).enumerate().for_each(|(i, (row, k))| fill(i, row, k));
        } else {
            aug.par_chunks_mut(w).enumerate().for_each(|(i, row)| fill(i, row, &mut []));
        }
        (m, kept)
    }

    /// Backpropagates ∂L/∂o (`d_o_all`, `[rows, B]`) through the kernels of a pass that
    /// kept M (`m`) and, within sets, the pairs' e (`kept`): adds ∂L/∂T and ∂L/∂bias into
    /// `grads` when given and returns the part of ∂L/∂h that goes through M (`[rows, A]`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        h: &[f32],
        (m, kept_e, compare): (&[f32], &[f32], Compare),
        d_o_all: &[f32],
        rows: usize,
        a: usize,
        grads: Option<(&mut Vec<f32>, &mut Vec<f32>)>,
    ) -> Vec<f32> {
        let (b, c, bc) = (self.b, self.c, self.bc());
        let d_o = |i: usize| &d_o_all[i * b..(i + 1) * b];
        let others = self.others_columns(m, rows, compare);
        // ∂o per kernel as columns too (a set's rows are the others).
        let d_o_cols = columns(d_o_all, b);
        let mut dm = scratch(rows * bc);
        dm.par_chunks_mut(bc).enumerate().for_each(|(k, g)| {
            g.iter_mut().for_each(|v| *v = 0.0);
            let Some((sets, scale)) = &others else { return };
            let (cols, start) = match compare {
                Compare::Sets(n) => (&sets[k / n], (k / n) * n),
                Compare::Reference => (&sets[0], 0),
            };
            let count = cols.len() / bc;
            let mk = &m[k * bc..(k + 1) * bc];
            let mut e = vec![0.0f32; count];
            let mut w = vec![0.0f32; count];
            let mut per_kernel = |kb: usize, e: &[f32]| {
                // Within a set both ends of the pair move; the reference stays fixed.
                let dk = d_o(k)[kb];
                match compare {
                    Compare::Sets(_) => {
                        let dj = &d_o_cols[kb * rows + start..kb * rows + start + count];
                        w.iter_mut().zip(e).zip(dj).for_each(|((w, e), dj)| *w = (dk + dj) * e);
                    }
                    Compare::Reference => w.iter_mut().zip(e).for_each(|(w, e)| *w = scale * dk * e),
                }
                for cc in 0..c {
                    let i = kb * c + cc;
                    let (x, col) = (mk[i], &cols[i * count..(i + 1) * count]);
                    // −Σ_j w_j·sign(x − y_j); sign(0) = 0: a row's pair with itself carries nothing.
                    let s = signed_sum(&w, col, x);
                    g[i] = -s;
                }
            };
            if kept_e.is_empty() {
                each_kernel(mk, cols, count, c, &mut e, per_kernel);
            } else {
                // The forward's e of row k's pairs.
                let kept = &kept_e[k * b * count..(k + 1) * b * count];
                (0..b).for_each(|kb| per_kernel(kb, &kept[kb * count..(kb + 1) * count]));
            }
        });
        if let Some((dt, dtb)) = grads {
            // dT += hᵀ·∂M ; d bias += Σ_rows ∂o
            matmul(a, bc, rows, dt, true, h, true, &dm, false);
            for i in 0..rows {
                add_into(dtb, d_o(i));
            }
        }
        // ∂M·Tᵀ
        let mut dh = scratch(rows * a);
        matmul(rows, a, bc, &mut dh, false, &dm, false, &self.t, true);
        recycle(dm);
        dh
    }
}

impl Kernels {
    /// The kernels' part of ∂D(x_i)/∂M_i with the rows i is compared with held fixed (as
    /// burn's `grad_m`), per unit of w_o: `gm[i, bc] = −Σ_j e_ijb·sign(M_ibc − M_jbc)` over
    /// row i's set, from a pass within sets (`m`, the kept `e`). ∂D/∂h_i is then W_top's h rows
    /// plus (gm ⊙ w_o)·Tᵀ: what the gradient penalties read.
    pub fn pair_slopes(&self, m: &[f32], e: &[f32], rows: usize, n: usize) -> Vec<f32> {
        let (b, c, bc) = (self.b, self.c, self.bc());
        let (sets, _) = self.others_columns(m, rows, Compare::Sets(n)).expect("within sets there are always others");
        let mut gm = scratch(rows * bc);
        gm.par_chunks_mut(bc).enumerate().for_each(|(k, g)| {
            let cols = &sets[k / n];
            let mk = &m[k * bc..(k + 1) * bc];
            for kb in 0..b {
                let ek = &e[(k * b + kb) * n..(k * b + kb + 1) * n];
                for cc in 0..c {
                    let i = kb * c + cc;
                    let (x, col) = (mk[i], &cols[i * n..(i + 1) * n]);
                    g[i] = -signed_sum(ek, col, x);
                }
            }
        });
        gm
    }

    /// A gradient penalty's weight gradient through the kernels' part of ∂D/∂h (`pair_slopes`):
    /// given u = ∂P/∂(∂D/∂h) (`[rows, A]`), adds ∂P/∂T into `dt` and ∂P/∂w_o into `dw_o`, and
    /// returns ∂P/∂h through M (`[rows, A]`), which the caller sends down the forward pass.
    /// With q_ijb = −w_o,b·Σ_c (u·T)_ibc·sign(M_ibc − M_jbc) = ∂P/∂e_ijb, both ends of a pair
    /// move: ∂P/∂M_kbc = −Σ_j (q_kjb + q_jkb)·e_kjb·sign(M_kbc − M_jbc).
    #[allow(clippy::too_many_arguments)]
    pub fn penalty_backward(
        &self,
        h: &[f32],
        (m, e, gm): (&[f32], &[f32], &[f32]),
        w_o: &[f32],
        u: &[f32],
        (rows, n, a): (usize, usize, usize),
        dt: &mut [f32],
        dw_o: &mut [f32],
    ) -> Vec<f32> {
        let (b, c, bc) = (self.b, self.c, self.bc());
        // ∂P/∂(gm ⊙ w_o) = u·T ; ∂P/∂T += uᵀ·(gm ⊙ w_o) ; ∂P/∂w_o,b += Σ_i,c (u·T)_ibc·gm_ibc
        let mut um = scratch(rows * bc);
        matmul(rows, bc, a, &mut um, false, u, false, &self.t, false);
        let mut g = scratch(rows * bc);
        g.iter_mut().zip(gm).enumerate().for_each(|(i, (g, v))| *g = v * w_o[(i % bc) / c]);
        matmul(a, bc, rows, dt, true, u, true, &g, false);
        recycle(g);
        for (urow, grow) in um.chunks_exact(bc).zip(gm.chunks_exact(bc)) {
            for (kb, d) in dw_o.iter_mut().enumerate() {
                *d += urow[kb * c..(kb + 1) * c].iter().zip(&grow[kb * c..(kb + 1) * c]).map(|(x, y)| x * y).sum::<f32>();
            }
        }
        let (sets, _) = self.others_columns(m, rows, Compare::Sets(n)).expect("within sets there are always others");
        // q, `[rows, B, n]` as e.
        let mut q = scratch(rows * b * n);
        q.par_chunks_mut(b * n).enumerate().for_each(|(k, qk)| {
            let cols = &sets[k / n];
            let (mk, uk) = (&m[k * bc..(k + 1) * bc], &um[k * bc..(k + 1) * bc]);
            for kb in 0..b {
                let qb = &mut qk[kb * n..(kb + 1) * n];
                qb.iter_mut().for_each(|v| *v = 0.0);
                for cc in 0..c {
                    let i = kb * c + cc;
                    let (x, ux, col) = (mk[i], uk[i], &cols[i * n..(i + 1) * n]);
                    qb.iter_mut().zip(col).for_each(|(q, &y)| *q += ux * sign(x, y));
                }
                qb.iter_mut().for_each(|v| *v *= -w_o[kb]);
            }
        });
        let mut dm = scratch(rows * bc);
        dm.par_chunks_mut(bc).enumerate().for_each(|(k, dk)| {
            let (cols, start) = (&sets[k / n], (k / n) * n);
            let mk = &m[k * bc..(k + 1) * bc];
            let mut w = vec![0.0f32; n];
            for kb in 0..b {
                let (ek, qk) = (&e[(k * b + kb) * n..(k * b + kb + 1) * n], &q[(k * b + kb) * n..(k * b + kb + 1) * n]);
                for (jj, w) in w.iter_mut().enumerate() {
                    let q_jk = q[((start + jj) * b + kb) * n + (k - start)];
                    *w = (qk[jj] + q_jk) * ek[jj];
                }
                for cc in 0..c {
                    let i = kb * c + cc;
                    let (x, col) = (mk[i], &cols[i * n..(i + 1) * n]);
                    dk[i] = -signed_sum(&w, col, x);
                }
            }
        });
        recycle(q);
        recycle(um);
        // ∂P/∂T += hᵀ·∂P/∂M ; ∂P/∂h = ∂P/∂M·Tᵀ
        matmul(a, bc, rows, dt, true, h, true, &dm, false);
        let mut dh = scratch(rows * a);
        matmul(rows, a, bc, &mut dh, false, &dm, false, &self.t, true);
        recycle(dm);
        dh
    }
}

#[cfg(test)]
mod tests {
    use super::{exp_neg, lanes_sum, pair_exps, sign, signed_sum};

    /// The lane sums are the sums, at every length (a remainder past the lanes included).
    #[test]
    fn lane_sums_are_sums() {
        for n in [0, 1, 7, 8, 9, 63, 256, 257] {
            let w: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
            let y: Vec<f32> = (0..n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 30.0).collect();
            let naive: f64 = w.iter().map(|&v| f64::from(v)).sum();
            assert!((f64::from(lanes_sum(&w)) - naive).abs() < 1e-4, "{n}");
            let x = 0.1;
            let naive: f64 = w.iter().zip(&y).map(|(&w, &y)| f64::from(w * sign(x, y))).sum();
            assert!((f64::from(signed_sum(&w, &y, x)) - naive).abs() < 1e-4, "{n}");
        }
    }

    /// The pairs' exponentials are exp(−‖x − y_j‖₁), at every number of others (a remainder
    /// past the lanes included) and every kernel width.
    #[test]
    fn pair_exps_are_the_pairs_exponentials() {
        for others in [0, 1, 15, 16, 17, 256, 257] {
            for c in 1..=4 {
                let x: Vec<f32> = (0..c).map(|i| i as f32 * 0.3 - 0.4).collect();
                let cols: Vec<f32> = (0..c * others).map(|i| ((i * 53 % 97) as f32 - 48.0) / 30.0).collect();
                let mut e = vec![f32::NAN; others];
                pair_exps(&x, &cols, &mut e);
                for (j, &v) in e.iter().enumerate() {
                    let d: f64 = (0..c).map(|cc| f64::from((x[cc] - cols[cc * others + j]).abs())).sum();
                    assert!((f64::from(v) - (-d).exp()).abs() < 1e-6, "others {others}, c {c}, j {j}");
                }
            }
        }
    }

    #[test]
    fn exp_neg_is_exp() {
        let mut worst = 0.0f32;
        // Down to −87, where e^x ≈ 1.6e-38 reaches the smallest normal f32 (below, 0).
        for i in 0..=200_000 {
            let x = -(i as f32) * 4.35e-4;
            let want = x.exp();
            worst = worst.max((exp_neg(x) - want).abs() / want);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp_neg(0.0), 1.0);
        assert!(exp_neg(-200.0) < 2e-38, "clamped at −87");
    }
}
