//! Everything random in one update, drawn on the host in one fixed order, so that both
//! engines see the same numbers and a seed replays the same run on either.
//!
//! Rows are D's (packed) inputs: under PacGAN packing with `pack = m`, `[B, 2]` row-major is
//! `[B/m, 2m]` row-major, so packing costs nothing here.

use crate::config::LatentKind;
use crate::data::{Target, sample_latent};
use crate::objective::Objective;
use rand::Rng;

/// The training stream's generator: ChaCha12, as rand's `StdRng` is, but with a position that
/// can be saved and restored (`trainer::state`), so a resumed run draws the same numbers.
pub type TrainRng = rand_chacha::ChaCha12Rng;
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
    /// A conditional GAN's labels, one-hot `[rows, K]`: the reals' components, which the
    /// fakes are asked for too (the last K columns of `z`), so every set D judges — reals,
    /// fakes, their interpolates, DRAGAN's points — pairs row i with label i.
    pub labels: Option<Vec<f32>>,
}

/// One G update's draws.
pub struct GBatch {
    /// Latents `[rows, latent + K]`: a conditional GAN's one-hot label in the last K columns.
    pub z: Vec<f32>,
    /// Instance noise on the fakes (`[batch·pack, 2]`), when σ > 0.
    pub noise: Option<Vec<f32>>,
    /// A conditional GAN's labels, one-hot `[rows, K]` (the last K columns of `z`).
    pub labels: Option<Vec<f32>>,
}

/// What the draws depend on.
pub struct Draw<'a> {
    /// The distribution reals are drawn from.
    pub target: &'a Target,
    /// Samples per update.
    pub batch: usize,
    /// G's latent distribution.
    pub latent: LatentKind,
    /// Size of G's latent z.
    pub latent_dim: usize,
    /// Instance noise σ at this step.
    pub sigma: f32,
    /// A conditional GAN's number of labels (0: unconditional).
    pub classes: usize,
}

/// Labels as one-hot rows `[n, k]`.
pub fn one_hot(labels: impl Iterator<Item = usize>, k: usize) -> Vec<f32> {
    labels.flat_map(|l| (0..k).map(move |j| f32::from(u8::from(j == l)))).collect()
}

/// Rows of `a` (`[n, wa]`) and `b` (`[n, wb]`) side by side: `[n, wa + wb]`.
pub fn concat_cols(a: &[f32], wa: usize, b: &[f32], wb: usize) -> Vec<f32> {
    a.chunks_exact(wa).zip(b.chunks_exact(wb)).flat_map(|(x, y)| x.iter().chain(y).copied()).collect()
}

impl Draw<'_> {
    /// The draws of one D update, in the fixed order both engines rely on.
    pub fn d_batch(&self, rng: &mut TrainRng, o: &Objective) -> DBatch {
        let b = self.batch;
        let (rows, width) = (b / o.pack, 2 * o.pack);
        let (mut real, components) = self.target.sample_labelled(rng, b);
        let mut z = sample_latent(rng, self.latent, b, self.latent_dim);
        let labels = (self.classes > 0).then(|| one_hot(components.into_iter(), self.classes));
        if let Some(l) = &labels {
            z = concat_cols(&z, self.latent_dim, l, self.classes);
        }
        if let Some(noise) = self.noise(rng) {
            real.iter_mut().zip(noise).for_each(|(v, e)| *v += e);
        }
        let fake_noise = self.noise(rng);
        let gp_eps = (o.gp > 0.0).then(|| (0..rows).map(|_| rng.random::<f32>()).collect());
        let perturbed = (o.dragan > 0.0).then(|| dragan_points(rng, &real, rows, width));
        DBatch { real, z, fake_noise, gp_eps, perturbed, labels }
    }

    /// The draws of one G update.
    pub fn g_batch(&self, rng: &mut TrainRng) -> GBatch {
        let z = sample_latent(rng, self.latent, self.batch, self.latent_dim);
        let noise = self.noise(rng);
        // A conditional G is asked for labels uniformly (drawn last: the unconditional order
        // of draws is unchanged).
        if self.classes == 0 {
            return GBatch { z, noise, labels: None };
        }
        let labels = one_hot((0..self.batch).map(|_| rng.random_range(0..self.classes)), self.classes);
        GBatch { z: concat_cols(&z, self.latent_dim, &labels, self.classes), noise, labels: Some(labels) }
    }

    /// Gaussian instance noise of σ for `batch` points (None when σ = 0).
    fn noise(&self, rng: &mut TrainRng) -> Option<Vec<f32>> {
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
fn dragan_points(rng: &mut TrainRng, real: &[f32], rows: usize, width: usize) -> Vec<f32> {
    let n = real.len() as f32;
    let mean = real.iter().sum::<f32>() / n;
    let std = (real.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    let delta: Vec<f32> = (0..rows * width).map(|_| 0.5 * std * rng.random::<f32>()).collect();
    let alpha: Vec<f32> = (0..rows).map(|_| rng.random::<f32>()).collect();
    real.iter().zip(&delta).enumerate().map(|(i, (x, d))| x + alpha[i / width] * d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The training stream is the one rand's `StdRng` gives for the same seed (so the presets,
    /// tuned on it, are unchanged), and a position restored mid-stream continues it.
    #[test]
    fn train_rng_is_std_rng_and_resumes_mid_stream() {
        let mut a = TrainRng::seed_from_u64(77);
        let mut b = rand::rngs::StdRng::seed_from_u64(77);
        for _ in 0..1000 {
            assert_eq!(a.random::<u32>(), b.random::<u32>());
        }
        let mut c = TrainRng::from_seed(a.get_seed());
        c.set_stream(a.get_stream());
        c.set_word_pos(a.get_word_pos());
        for _ in 0..1000 {
            assert_eq!(a.random::<u64>(), c.random::<u64>());
        }
    }

    /// A conditional GAN's batch: each real's label is its own mixture component, the fakes of
    /// D's update are asked for the same labels (the last K columns of z), G's labels are
    /// one-hot and vary; the unconditional draws are untouched by the option.
    #[test]
    fn conditional_batches_carry_the_reals_components() {
        let mut cfg = crate::config::Config::default();
        cfg.set("model.conditional=true").unwrap();
        let target = Target::new(&cfg.data).unwrap();
        let centres = target.modes().unwrap().centres.clone();
        let draw = Draw { target: &target, batch: 64, latent: LatentKind::Gaussian, latent_dim: 3, sigma: 0.0, classes: 8 };
        let o = Objective::new(&cfg);
        let b = draw.d_batch(&mut TrainRng::seed_from_u64(5), &o);
        let labels = b.labels.as_ref().unwrap();
        for (i, (x, l)) in b.real.chunks_exact(2).zip(labels.chunks_exact(8)).enumerate() {
            assert_eq!(l.iter().sum::<f32>(), 1.0, "one-hot");
            let c = centres[l.iter().position(|&v| v == 1.0).unwrap()];
            assert!((x[0] - c[0]).hypot(x[1] - c[1]) < 0.1, "real {i} lies at its label's mode");
            assert_eq!(&b.z[i * 11 + 3..i * 11 + 11], l, "the fake is asked for the real's label");
        }
        let g = draw.g_batch(&mut TrainRng::seed_from_u64(5));
        let gl = g.labels.unwrap();
        assert!(gl.chunks_exact(8).all(|l| l.iter().sum::<f32>() == 1.0));
        assert!(gl.chunks_exact(8).map(|l| l.iter().position(|&v| v == 1.0)).collect::<std::collections::HashSet<_>>().len() > 4);
        let plain = Draw { classes: 0, ..draw };
        let (a, b2) = (plain.d_batch(&mut TrainRng::seed_from_u64(5), &o), draw.d_batch(&mut TrainRng::seed_from_u64(5), &o));
        assert_eq!(a.real, b2.real, "conditioning draws the same reals");
        assert!(a.labels.is_none());
    }

    /// DRAGAN's points follow Kodali et al.: on the segment from x to x + 0.5·σ·u, u ∈ [0, 1]
    /// per coordinate, σ one std over the whole batch (not one per coordinate).
    #[test]
    fn dragan_points_lie_between_x_and_x_plus_half_a_batch_std() {
        // Two coordinates of very different spread: a per-coordinate std would perturb the
        // narrow one by at most its own tiny std.
        let real: Vec<f32> = (0..400).flat_map(|i| [(i % 20) as f32 - 10.0, 0.001 * (i % 3) as f32]).collect();
        let n = real.len() as f32;
        let mean = real.iter().sum::<f32>() / n;
        let std = (real.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        let mut rng = TrainRng::seed_from_u64(1);
        let p = dragan_points(&mut rng, &real, 400, 2);
        let mut max_dy = 0.0f32;
        for (x, q) in real.iter().zip(&p) {
            let d = q - x;
            assert!((0.0..=0.5 * std + 1e-5).contains(&d), "δ = {d} outside [0, 0.5·std = {}]", 0.5 * std);
        }
        for row in 0..400 {
            max_dy = max_dy.max(p[2 * row + 1] - real[2 * row + 1]);
        }
        assert!(max_dy > 0.1 * std, "the narrow coordinate is perturbed on the batch's scale ({max_dy} vs std {std})");
    }
}
