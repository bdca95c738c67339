//! D's last layer when it sees features of the whole batch (`nets.rs`): its input is
//! [h | s | o] — the last hidden features h (width A), the minibatch stddev s (Karras et al.
//! 2018: one number per set of rows, the mean over features of their standard deviation over
//! the set) and minibatch discrimination's o (`host_kernels.rs`), in the order `Params::init`
//! counts them.
//!
//! Both couple the rows of a set, so such passes are not cut into row chunks. In a training
//! pass the gradient reaches every row of the set through s:
//! ∂s/∂h_ij = (h_ij − μ_j) / (n·A·σ_j) (the mean's own term sums to zero over the set).
//! Points judged outside a batch see the latest real training batch's s, a constant, as
//! burn's engine does; so does ∂D/∂x, which the penalties read (`HostMlp::input_grad`).

use super::host_kernels::{Compare, Kernels};
use super::host_ops::{recycle, scratch, zeroed};
use super::host_units::add_into;

/// The batch features of a discriminator's last layer.
#[derive(Clone, Default)]
pub struct Head {
    /// With the minibatch-stddev feature: s of the latest real training batch (0 before one).
    pub stddev: Option<f32>,
    /// With minibatch discrimination: T, its bias, the reference batch.
    pub kernels: Option<Kernels>,
}

/// What a pass keeps of the head for its backward.
pub struct HeadActs {
    /// The last layer's input, `[rows, A + extra]`.
    pub aug: Vec<f32>,
    /// The kernels' M, `[rows, B·C]` (empty without kernels).
    pub m: Vec<f32>,
    /// The kernels' pairs' e within sets (`host_kernels::HeadActs`), or empty.
    pub e: Vec<f32>,
    /// s of each set (within sets), or the one held constant.
    pub stddevs: Vec<f32>,
    /// How the rows were compared.
    pub compare: Compare,
}

/// Consecutive rows of a `HeadActs` (whole sets, when rows were compared within sets).
#[derive(Clone, Copy)]
pub struct HeadRows<'a> {
    /// `[rows, A + extra]`.
    pub aug: &'a [f32],
    /// `[rows, B·C]`, or empty.
    pub m: &'a [f32],
    /// `[rows, B, set rows]`, or empty.
    pub e: &'a [f32],
    /// How the rows were compared.
    pub compare: Compare,
}

impl HeadActs {
    /// Rows `r` of a pass over `rows` rows.
    pub fn rows(&self, rows: usize, r: std::ops::Range<usize>) -> HeadRows<'_> {
        let part = |v: &[f32]| -> std::ops::Range<usize> {
            let w = v.len() / rows;
            r.start * w..r.end * w
        };
        HeadRows { aug: &self.aug[part(&self.aug)], m: &self.m[part(&self.m)], e: &self.e[part(&self.e)], compare: self.compare }
    }
}

impl Drop for HeadActs {
    fn drop(&mut self) {
        [std::mem::take(&mut self.aug), std::mem::take(&mut self.m), std::mem::take(&mut self.e)].into_iter().for_each(recycle);
    }
}

/// Per-feature mean and σ = √(var + 1e-8) over the `n` rows of `h` (width `a`), as burn's
/// `var_bias` (the biased variance) gives them.
fn moments(h: &[f32], n: usize, a: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0f64; a];
    h.chunks_exact(a).for_each(|row| mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v)));
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0f64; a];
    h.chunks_exact(a).for_each(|row| var.iter_mut().zip(row).zip(&mean).for_each(|((s, &v), m)| *s += (f64::from(v) - m).powi(2)));
    let sigma = var.into_iter().map(|s| (s / n as f64 + 1e-8).sqrt()).collect();
    (mean, sigma)
}

impl Head {
    /// Whether the last layer sees any batch feature (and a training pass must stay whole).
    pub fn couples_rows(&self) -> bool {
        self.stddev.is_some() || self.kernels.is_some()
    }

    /// Inputs the head adds to the last layer: s, then the kernels' B.
    pub fn extra(&self) -> usize {
        usize::from(self.stddev.is_some()) + self.kernels.as_ref().map_or(0, |k| k.b)
    }

    /// The last layer's input [h | s | o] for `rows` rows of the last hidden features `h`
    /// (width `a`).
    pub fn forward(&self, h: &[f32], rows: usize, a: usize, compare: Compare) -> HeadActs {
        let w = a + self.extra();
        let mut aug = scratch(rows * w);
        aug.chunks_exact_mut(w).zip(h.chunks_exact(a)).for_each(|(row, h)| row[..a].copy_from_slice(h));
        let mut stddevs = Vec::new();
        if let Some(last) = self.stddev {
            stddevs = match compare {
                Compare::Sets(n) => h[..rows * a]
                    .chunks(n * a)
                    .map(|set| {
                        let (_, sigma) = moments(set, set.len() / a, a);
                        (sigma.iter().sum::<f64>() / a as f64) as f32
                    })
                    .collect(),
                Compare::Reference => vec![last],
            };
            for (i, row) in aug.chunks_exact_mut(w).enumerate() {
                row[a] = match compare {
                    Compare::Sets(n) => stddevs[i / n],
                    Compare::Reference => last,
                };
            }
        }
        let (m, e) = match &self.kernels {
            Some(k) => k.forward(h, rows, a, compare, &mut aug, w - k.b),
            None => (Vec::new(), Vec::new()),
        };
        HeadActs { aug, m, e, stddevs, compare }
    }

    /// Backpropagates ∂L/∂[h | s | o] (`d_aug`) through the head: adds ∂L/∂T and ∂L/∂bias
    /// into `grads` when given and returns ∂L/∂h (`[rows, A]`).
    pub fn backward(
        &self,
        h: &[f32],
        head: HeadRows,
        d_aug: &[f32],
        rows: usize,
        a: usize,
        grads: Option<(&mut Vec<f32>, &mut Vec<f32>)>,
    ) -> Vec<f32> {
        let w = a + self.extra();
        // ∂h through M (the kernels), then h's own columns, then s.
        let mut dh = match &self.kernels {
            Some(k) => {
                let d_o: Vec<f32> = d_aug.chunks_exact(w).flat_map(|row| row[w - k.b..].iter().copied()).collect();
                k.backward(h, (head.m, head.e, head.compare), &d_o, rows, a, grads)
            }
            None => zeroed(rows * a),
        };
        for (row, d) in dh.chunks_exact_mut(a).zip(d_aug.chunks_exact(w)) {
            add_into(row, &d[..a]);
        }
        if let (Some(_), Compare::Sets(n)) = (self.stddev, head.compare) {
            // ∂L/∂s is the sum over the set's rows of ∂L/∂(their s column); it reaches every
            // row of the set.
            for ((set, dh), d) in h.chunks(n * a).zip(dh.chunks_mut(n * a)).zip(d_aug.chunks(n * w)) {
                let ds: f64 = d.chunks_exact(w).map(|row| f64::from(row[a])).sum();
                let (mean, sigma) = moments(set, n, a);
                let c: Vec<f64> = sigma.iter().map(|s| ds / (n as f64 * a as f64 * s)).collect();
                for (dh, h) in dh.chunks_exact_mut(a).zip(set.chunks_exact(a)) {
                    for (((g, &v), m), c) in dh.iter_mut().zip(h).zip(&mean).zip(&c) {
                        *g += ((f64::from(v) - m) * c) as f32;
                    }
                }
            }
        }
        dh
    }
}
