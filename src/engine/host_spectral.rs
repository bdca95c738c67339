//! Spectral normalisation on the host engine (Miyato et al. 2018), as `nets.rs` defines it for
//! burn's: every D weight W (`[in, out]`) is used as W/σ with σ = vᵀWu, u refined by one power
//! iteration per D update and v = normalize(W·u); u and v are constants to the gradient.
//!
//! The optimizer steps the raw W kept here; the forward and backward passes of `host_mlp.rs`
//! run unchanged on the effective W/σ, and the gradient they give for W/σ is carried back to W:
//! ∂L/∂W = G/σ − ⟨G, W⟩/σ² · v uᵀ, with G = ∂L/∂(W/σ) (σ depends on W through vᵀWu).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// The raw weights of a spectrally normalised network and its power-iteration state.
#[derive(Clone)]
pub struct Spectral {
    /// The raw weights per layer, `[in, out]` row-major: what the optimizer steps and the
    /// engine reports.
    pub raw: Vec<Vec<f32>>,
    /// The power iteration's vector u per layer (`[out]`, unit length).
    u: Vec<Vec<f32>>,
    /// v = normalize(W·u) per layer (`[in]`), as the effective weights in use were made.
    v: Vec<Vec<f32>>,
    /// σ = vᵀWu per layer, as the effective weights in use were made.
    sigma: Vec<f32>,
}

/// v / (‖v‖ + 1e-12), as `nets.rs` normalises.
fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt() + 1e-12;
    v.iter_mut().for_each(|a| *a /= norm);
    v
}

/// Σ a_i·b_i in eight running sums, added in a fixed order: one accumulator is a chain of
/// dependent adds that does not vectorise, and these dot products run once per D update on
/// every weight.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        acc.iter_mut().zip(x.iter().zip(y)).for_each(|(s, (x, y))| *s += x * y);
    }
    acc.iter().sum::<f32>() + rest
}

/// W·u for W `[rows, cols]` row-major.
fn times(w: &[f32], u: &[f32], cols: usize) -> Vec<f32> {
    w.chunks_exact(cols).map(|row| dot(row, u)).collect()
}

/// Wᵀ·v for W `[rows, cols]` row-major.
fn times_t(w: &[f32], v: &[f32], cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; cols];
    for (row, vi) in w.chunks_exact(cols).zip(v) {
        out.iter_mut().zip(row).for_each(|(o, a)| *o += a * vi);
    }
    out
}

impl Spectral {
    /// The state for raw weights `raw` (`dims[l] × dims[l+1]` each), with u drawn from `rng`
    /// as burn's engine draws it (standard normal, normalised, layer by layer).
    pub fn new(raw: Vec<Vec<f32>>, dims: &[usize], rng: &mut impl Rng) -> Self {
        let u: Vec<Vec<f32>> =
            dims[1..raw.len() + 1].iter().map(|&out| normalize((0..out).map(|_| StandardNormal.sample(rng)).collect())).collect();
        let n = raw.len();
        Self { raw, u, v: vec![Vec::new(); n], sigma: vec![1.0; n] }
    }

    /// One power iteration per layer: u ← normalize(Wᵀ·normalize(W·u)). The layers are
    /// independent, so they run side by side on the threads.
    pub fn power_iteration(&mut self) {
        self.raw.par_iter().zip(self.u.par_iter_mut()).for_each(|(w, u)| {
            let v = normalize(times(w, u, u.len()));
            *u = normalize(times_t(w, &v, u.len()));
        });
    }

    /// The effective weights W/σ per layer, from the raw weights and u (v and σ are kept for
    /// the gradient).
    pub fn effective(&mut self) -> Vec<Vec<f32>> {
        let per_layer: Vec<(Vec<f32>, Vec<f32>, f32)> = self
            .raw
            .par_iter()
            .zip(self.u.par_iter())
            .map(|(w, u)| {
                let wu = times(w, u, u.len());
                let v = normalize(wu.clone());
                let sigma = dot(&v, &wu);
                (w.iter().map(|a| a / sigma).collect(), v, sigma)
            })
            .collect();
        let mut out = Vec::with_capacity(per_layer.len());
        for (l, (w, v, sigma)) in per_layer.into_iter().enumerate() {
            out.push(w);
            self.v[l] = v;
            self.sigma[l] = sigma;
        }
        out
    }

    /// Turns the gradients for the effective weights (`grads` in `w0, b0, w1, b1, …` order)
    /// into gradients for the raw ones; the biases' are unchanged.
    pub fn raw_grads(&self, grads: &mut [Vec<f32>]) {
        let n = self.raw.len();
        grads[..2 * n].par_chunks_mut(2).enumerate().for_each(|(l, pair)| {
            let (w, u, v, sigma) = (&self.raw[l], &self.u[l], &self.v[l], self.sigma[l]);
            let g = &mut pair[0];
            let k = dot(g, w) / (sigma * sigma);
            for (row, vi) in g.chunks_exact_mut(u.len()).zip(v) {
                row.iter_mut().zip(u).for_each(|(gij, uj)| *gij = *gij / sigma - k * vi * uj);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// σ estimates the largest singular value, and the raw gradient is the finite difference
    /// of a loss through W/σ (u held fixed, v and σ recomputed, as the definition says).
    #[test]
    fn sigma_converges_and_the_raw_gradient_is_the_finite_difference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        // diag(3, 1) padded to 2×3: largest singular value 3.
        let w = vec![3.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let mut s = Spectral::new(vec![w.clone()], &[2, 3], &mut rng);
        for _ in 0..30 {
            s.power_iteration();
        }
        s.effective();
        assert!((s.sigma[0] - 3.0).abs() < 1e-4, "σ = {}", s.sigma[0]);
        // L = Σ c ⊙ (W/σ) for a fixed c: G = c.
        let c: Vec<f32> = (0..6).map(|i| 0.3 * i as f32 - 0.7).collect();
        let w = vec![0.8, -0.3, 0.5, 0.2, 1.1, -0.4];
        let mut s = Spectral::new(vec![w.clone()], &[2, 3], &mut rng);
        s.power_iteration();
        let loss = |s: &mut Spectral| -> f64 { s.effective()[0].iter().zip(&c).map(|(a, b)| f64::from(a * b)).sum() };
        loss(&mut s);
        let mut g = vec![c.clone(), vec![0.0; 3]];
        s.raw_grads(&mut g);
        for (i, &gi) in g[0].iter().enumerate() {
            let h = 1e-3;
            let (mut plus, mut minus) = (s.clone(), s.clone());
            plus.raw[0][i] += h;
            minus.raw[0][i] -= h;
            let fd = (loss(&mut plus) - loss(&mut minus)) / (2.0 * f64::from(h));
            assert!((fd - f64::from(gi)).abs() < 2e-3, "w[{i}]: finite difference {fd}, gradient {gi}");
        }
    }
}
