//! Measuring the generator: the metrics of `metrics.rs` on a fixed evaluation batch (the same
//! latents at every evaluation) against a fixed reference set of real samples. `ganscope
//! eval` scores outside samples against the same reference set (`reference_set`).

use super::{TrainError, Trainer};
use crate::config::Config;
use crate::data::{Target, sample_latent};
use crate::metrics::{Metrics, ModeStats, grid_divergences, label_accuracy, mode_stats};
use rand::{SeedableRng, rngs::StdRng};

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
        let fake = self.model().generate(self.eval_z());
        let sample_ms_per_1000 = started.elapsed().as_secs_f64() * 1000.0 * 1000.0 / (fake.len() / 2).max(1) as f64;
        if let Some(i) = fake.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::Diverged { step: self.steps_done(), what: format!("generator output (sample {})", i / 2) });
        }
        let (_, grads) = self.model().d_at(&self.labelled(&fake, Some(self.eval_z())));
        let n = (grads.len() / 2).max(1);
        let d_input_grad_norm = grads.chunks_exact(2).map(|g| (g[0] * g[0] + g[1] * g[1]).sqrt()).sum::<f32>() / n as f32;
        let modes: Option<ModeStats> = self.target().modes().map(|m| mode_stats(m, &fake));
        let (kl_grid, js_grid) = grid_divergences(self.real_eval(), &fake, self.half_width(), self.config().view.hist_bins);
        let labels = self.target().modes().filter(|_| self.config().classes() > 0).map(|m| label_accuracy(m, &fake));
        let updates = self.last_stats().clone();
        let m = Metrics {
            step: self.steps_done(),
            seconds: 0.0,
            modes,
            kl_grid,
            js_grid,
            critic_gap: self.config().loss.kind.is_wasserstein().then_some(updates.d_real - updates.d_fake),
            updates,
            d_input_grad_norm,
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
