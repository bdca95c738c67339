//! Measuring the generator: the metrics of `metrics.rs` on a fixed evaluation batch (the same
//! latents at every evaluation) against a fixed reference set of real samples. `ganscope
//! eval` scores outside samples against the same reference set (`reference_set`).

use super::{TrainError, Trainer};
use crate::config::Config;
use crate::data::{Target, sample_latent};
use crate::metrics::{ModeStats, grid_divergences, label_accuracy, mode_stats};
use rand::{SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

/// Values measured on the latest recorded D and G updates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Loss of the latest recorded D update.
    pub d_loss: f32,
    /// Loss of the latest recorded G update.
    pub g_loss: f32,
    /// Mean D(real): a probability for logistic losses, the critic value otherwise.
    pub d_real: f32,
    /// Mean D(fake), as `d_real`.
    pub d_fake: f32,
    /// ‖∇_θ‖ of the latest D and G updates (all parameters).
    pub d_grad_norm: f32,
    /// ‖∇_θ‖ of the latest G update.
    pub g_grad_norm: f32,
}

/// Everything measured at one evaluation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Steps done.
    pub step: u64,
    /// Wall time since the run started.
    pub seconds: f64,
    /// Modes that are the nearest centre of at least one high-quality sample (none for data
    /// without modes).
    pub modes_covered: Option<usize>,
    /// Modes of the target.
    pub modes_total: Option<usize>,
    /// Share of samples within 3σ of their nearest mode.
    pub hq_fraction: Option<f64>,
    /// Reverse KL of the high-quality mode histogram from uniform.
    pub reverse_kl: Option<f64>,
    /// High-quality samples per mode.
    pub per_mode_counts: Option<Vec<usize>>,
    /// All samples by nearest mode (see `metrics::ModeStats`).
    pub per_mode_nearest: Option<Vec<usize>>,
    /// The mode nearest to most samples.
    pub dominant_mode: Option<usize>,
    /// That mode's share of all samples.
    pub dominant_share: Option<f64>,
    /// KL(real ‖ fake) over the view box's histogram.
    pub kl_grid: f64,
    /// Jensen–Shannon divergence over the view box's histogram.
    pub js_grid: f64,
    /// Loss of the latest recorded D update.
    pub d_loss: f32,
    /// Loss of the latest recorded G update.
    pub g_loss: f32,
    /// Mean D(real): a probability for logistic losses, the critic value otherwise.
    pub d_real: f32,
    /// Mean D(fake), as `d_real`.
    pub d_fake: f32,
    /// ‖∇_θ‖ of the latest D update.
    pub d_grad_norm: f32,
    /// ‖∇_θ‖ of the latest G update.
    pub g_grad_norm: f32,
    /// Mean ‖∂D/∂x‖ at the evaluation fakes.
    pub d_input_grad_norm: f32,
    /// Wasserstein estimate E D(real) − E D(fake), for WGAN losses.
    pub critic_gap: Option<f32>,
    /// Instance noise σ at this step.
    pub instance_std: f32,
    /// Network evaluations per generated sample: 1 for a GAN, the sampler's steps for a
    /// diffusion model (the trilemma's "fast sampling" corner).
    pub nfe_per_sample: usize,
    /// Wall time to draw 1,000 samples (from the evaluation batch's timing).
    pub sample_ms_per_1000: f64,
    /// A conditional G's label accuracy: the share of fakes asked for label i that are high
    /// quality at mode i (`metrics::label_accuracy`); None for an unconditional G.
    pub label_accuracy: Option<f64>,
    /// The same per label.
    pub per_label_accuracy: Option<Vec<f64>>,
    /// The five symptoms of mode collapse at this evaluation (`symptoms.rs`).
    /// (Not read back from a saved state: they are recomputed from the numbers.)
    #[serde(skip_deserializing)]
    pub symptoms: Vec<crate::symptoms::Symptom>,
}

impl Metrics {
    /// The metrics without the wall-clock figures (`seconds`, `sample_ms_per_1000`): what the
    /// same seed must reproduce exactly.
    pub fn timeless(&self) -> Metrics {
        Metrics { seconds: 0.0, sample_ms_per_1000: 0.0, ..self.clone() }
    }
}

/// The fixed evaluation latents, `[train.eval_samples, latent_dim]`: a stream of their own.
pub fn eval_latents(cfg: &Config) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(cfg.train.seed ^ 0x1a7e_27a5_e7a1);
    let (kind, dim) = cfg.latent();
    let z = sample_latent(&mut rng, kind, cfg.train.eval_samples, dim);
    // A conditional G is asked for every label in turn: sample i for label i mod K.
    match cfg.classes() {
        0 => z,
        k => crate::batch::concat_cols(&z, dim, &crate::batch::one_hot((0..cfg.train.eval_samples).map(|i| i % k), k), k),
    }
}

/// The real samples every evaluation compares against (grid KL / JS): max(10,000,
/// `train.eval_samples`) draws from a stream of their own, so `train` and `eval` with the same
/// config use the same set.
pub fn reference_set(cfg: &Config, target: &Target) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(cfg.train.seed ^ 0x5eed_e7a1);
    target.sample(&mut rng, cfg.train.eval_samples.max(10_000))
}

/// Latent lines the interpolation symptom follows, and points along each.
const LINES: usize = 16;
const POINTS: usize = 8;

impl Trainer {
    /// `m` with its symptoms, from the evaluations kept so far (this one included).
    fn with_symptoms(&self, mut m: Metrics, fake: &[f32]) -> Metrics {
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if history.back().is_some_and(|h| h.step >= m.step) {
            // Evaluated again at the same step (or after a restart): replace, do not repeat.
            history.retain(|h| h.step < m.step);
        }
        history.push_back(m.clone());
        while history.len() > crate::symptoms::WINDOW {
            history.pop_front();
        }
        let past: Vec<Metrics> = history.iter().cloned().collect();
        drop(history);
        let real = crate::symptoms::spread(self.real_eval());
        let modes = self.target().modes();
        let spreads = crate::symptoms::Spreads {
            fake: crate::symptoms::spread(fake),
            real,
            // Not applicable to a conditional G: skip G's 128 extra evaluations.
            interp_extent: if self.config().classes() > 0 { 0.0 } else { self.interpolation_extent() },
            interp_reference: real,
            conditional: self.config().classes() > 0,
        };
        m.symptoms = crate::symptoms::diagnose(&past, spreads, modes, self.config().loss.kind);
        m
    }

    /// G's mean spread along straight lines between pairs of evaluation latents (not for a
    /// conditional G, whose symptom does not apply).
    fn interpolation_extent(&self) -> f64 {
        let dim = self.g_input_dim();
        let z = self.eval_z();
        let lines = LINES.min(z.len() / dim / 2);
        if lines == 0 {
            return 0.0;
        }
        let mut pts = Vec::with_capacity(lines * POINTS * dim);
        for l in 0..lines {
            let (a, b) = (&z[2 * l * dim..(2 * l + 1) * dim], &z[(2 * l + 1) * dim..(2 * l + 2) * dim]);
            for k in 0..POINTS {
                let t = k as f32 / (POINTS - 1) as f32;
                pts.extend(a.iter().zip(b).map(|(a, b)| (1.0 - t) * a + t * b));
            }
        }
        let out = self.generate(&pts);
        out.chunks(2 * POINTS).map(crate::symptoms::spread).sum::<f64>() / lines as f64
    }

    /// Measures the generator on the fixed evaluation batch; returns the metrics and the
    /// samples (`[n, 2]` row-major).
    pub fn evaluate(&self) -> Result<(Metrics, Vec<f32>), TrainError> {
        let (g, d) = self.weights();
        for (net, w) in [("G's weights", g), ("D's weights", d)] {
            if w.iter().flatten().any(|v| !v.is_finite()) {
                return Err(TrainError::Diverged { step: self.steps_done(), what: net.into() });
            }
        }
        let started = std::time::Instant::now();
        let fake = self.engine().generate(self.eval_z());
        let sample_ms_per_1000 = started.elapsed().as_secs_f64() * 1000.0 * 1000.0 / (fake.len() / 2).max(1) as f64;
        if let Some(i) = fake.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::Diverged { step: self.steps_done(), what: format!("generator output (sample {})", i / 2) });
        }
        let (_, grads) = self.engine().d_at(&self.labelled(&fake, Some(self.eval_z())));
        let n = (grads.len() / 2).max(1);
        let d_input_grad_norm = grads.chunks_exact(2).map(|g| (g[0] * g[0] + g[1] * g[1]).sqrt()).sum::<f32>() / n as f32;
        let stats: Option<ModeStats> = self.target().modes().map(|m| mode_stats(m, &fake));
        let (kl_grid, js_grid) = grid_divergences(self.real_eval(), &fake, self.half_width(), self.config().view.hist_bins);
        let labels = self.target().modes().filter(|_| self.config().classes() > 0).map(|m| label_accuracy(m, &fake));
        let l = self.last_stats();
        let m = Metrics {
            step: self.steps_done(),
            seconds: 0.0,
            modes_covered: stats.as_ref().map(|s| s.modes_covered),
            modes_total: stats.as_ref().map(|s| s.modes_total),
            hq_fraction: stats.as_ref().map(|s| s.hq_fraction),
            reverse_kl: stats.as_ref().and_then(|s| s.reverse_kl),
            per_mode_nearest: stats.as_ref().map(|s| s.per_mode_nearest.clone()),
            dominant_mode: stats.as_ref().and_then(|s| s.dominant_mode),
            dominant_share: stats.as_ref().map(|s| s.dominant_share),
            per_mode_counts: stats.map(|s| s.per_mode_counts),
            kl_grid,
            js_grid,
            d_loss: l.d_loss,
            g_loss: l.g_loss,
            d_real: l.d_real,
            d_fake: l.d_fake,
            d_grad_norm: l.d_grad_norm,
            g_grad_norm: l.g_grad_norm,
            d_input_grad_norm,
            critic_gap: self.config().loss.kind.is_wasserstein().then_some(l.d_real - l.d_fake),
            instance_std: self.instance_std(),
            nfe_per_sample: self.nfe_per_sample(),
            sample_ms_per_1000,
            label_accuracy: labels.as_ref().map(|l| l.0),
            per_label_accuracy: labels.map(|l| l.1),
            symptoms: Vec::new(),
        };
        let m = self.with_symptoms(m, &fake);
        Ok((m, fake))
    }
}
