//! Everything random in one update, drawn on the host in one fixed order, so that both
//! engines see the same numbers and a seed replays the same run on either.
//!
//! Rows are D's (packed) inputs: under PacGAN packing with `pack = m`, `[B, 2]` row-major is
//! `[B/m, 2m]` row-major, so packing costs nothing here.

use crate::config::LatentKind;
use crate::data::{Target, sample_latent};
use crate::objective::Objective;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// One D update's draws.
pub struct DBatch {
    /// Reals `[rows, 2·pack]`, instance noise already added.
    pub real: Vec<f32>,
    /// Latents `[rows·pack, latent]`.
    pub z: Vec<f32>,
    /// Instance noise for the fakes, `[rows, 2·pack]` (None when σ = 0).
    pub fake_noise: Option<Vec<f32>>,
    /// WGAN-GP's interpolation weight ε per row: x̂ = εx + (1 − ε)x̃.
    pub gp_eps: Option<Vec<f32>>,
    /// DRAGAN's points near the reals, `[rows, 2·pack]`.
    pub perturbed: Option<Vec<f32>>,
}

/// One G update's draws.
pub struct GBatch {
    pub z: Vec<f32>,
    pub noise: Option<Vec<f32>>,
}

/// What the draws depend on.
pub struct Draw<'a> {
    pub target: &'a Target,
    pub batch: usize,
    pub latent: LatentKind,
    pub latent_dim: usize,
    /// Instance noise σ at this step.
    pub sigma: f32,
}

impl Draw<'_> {
    pub fn d_batch(&self, rng: &mut StdRng, o: &Objective) -> DBatch {
        let b = self.batch;
        let (rows, width) = (b / o.pack, 2 * o.pack);
        let mut real = self.target.sample(rng, b);
        let z = sample_latent(rng, self.latent, b, self.latent_dim);
        if let Some(noise) = self.noise(rng) {
            real.iter_mut().zip(noise).for_each(|(v, e)| *v += e);
        }
        let fake_noise = self.noise(rng);
        let gp_eps = (o.gp > 0.0).then(|| (0..rows).map(|_| rng.random::<f32>()).collect());
        let perturbed = (o.dragan > 0.0).then(|| dragan_points(rng, &real, rows, width));
        DBatch { real, z, fake_noise, gp_eps, perturbed }
    }

    pub fn g_batch(&self, rng: &mut StdRng) -> GBatch {
        let z = sample_latent(rng, self.latent, self.batch, self.latent_dim);
        GBatch { z, noise: self.noise(rng) }
    }

    /// Gaussian instance noise of σ for `batch` points (None when σ = 0).
    fn noise(&self, rng: &mut StdRng) -> Option<Vec<f32>> {
        (self.sigma > 0.0).then(|| {
            (0..2 * self.batch)
                .map(|_| {
                    let e: f32 = StandardNormal.sample(rng);
                    self.sigma * e
                })
                .collect()
        })
    }
}

/// DRAGAN's penalty points as Kodali et al.'s code draws them: x_p = x + 0.5·std(x)·U[0, 1]
/// per coordinate, with one scalar std over the whole real batch, then a random point on
/// the segment from x to x_p (α ~ U[0, 1] per row).
fn dragan_points(rng: &mut StdRng, real: &[f32], rows: usize, width: usize) -> Vec<f32> {
    let n = real.len() as f32;
    let mean = real.iter().sum::<f32>() / n;
    let std = (real.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    let delta: Vec<f32> = (0..rows * width).map(|_| 0.5 * std * rng.random::<f32>()).collect();
    let alpha: Vec<f32> = (0..rows).map(|_| rng.random::<f32>()).collect();
    real.iter().zip(&delta).enumerate().map(|(i, (x, d))| x + alpha[i / width] * d).collect()
}
