//! A denoising diffusion model (DDPM, Ho et al. 2020) on the same 2-D data, to set against the
//! GAN: the other corner of the generative trilemma. It covers the modes, and pays with many
//! network evaluations per sample (`nfe`).
//!
//! q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I); the network ε_θ(x_t, t) — the generator's shape,
//! with a sinusoidal time embedding beside the point — is trained on ‖ε − ε_θ‖², t uniform.
//! Sampling: ancestral (T steps, σ_t² = β̃_t) or DDIM with η = 0 (fewer, deterministic steps).
//! It runs on the host engine's MLP (`engine::host_mlp`), as an `Engine` whose generator is
//! the sampler and whose "discriminator" queries give the denoiser's direction.

use crate::config::{BetaSchedule, Config, ModelConfig, OptimizerConfig, Sampler};
use crate::engine::UpdateStats;
use crate::engine::host_mlp::{HostMlp, chunked};
use crate::nets::Params;
use crate::optim::Optimizer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// β_t and ᾱ_t for t = 1..=T (index t − 1).
#[derive(Clone, Debug)]
pub struct NoiseSchedule {
    /// β_t for t = 1..T.
    pub betas: Vec<f64>,
    /// ᾱ_t = Π_{s ≤ t} (1 − β_s).
    pub alpha_bars: Vec<f64>,
}

impl NoiseSchedule {
    /// The schedule `kind` over `t_max` steps.
    pub fn new(kind: BetaSchedule, t_max: usize) -> Self {
        let betas: Vec<f64> = match kind {
            BetaSchedule::Linear => {
                // DDPM's 1e-4 … 0.02 over 1,000 steps, rescaled so T steps destroy as much signal.
                let scale = 1000.0 / t_max as f64;
                let (lo, hi) = (1e-4 * scale, 0.02 * scale);
                (0..t_max).map(|i| lo + (hi - lo) * i as f64 / (t_max - 1).max(1) as f64).map(|b| b.min(0.999)).collect()
            }
            BetaSchedule::Cosine => {
                let s = 0.008;
                let f = |t: f64| (((t / t_max as f64 + s) / (1.0 + s)) * std::f64::consts::FRAC_PI_2).cos().powi(2);
                (1..=t_max).map(|t| (1.0 - f(t as f64) / f(t as f64 - 1.0)).min(0.999)).collect()
            }
        };
        let mut alpha_bars = Vec::with_capacity(t_max);
        let mut prod = 1.0;
        for b in &betas {
            prod *= 1.0 - b;
            alpha_bars.push(prod);
        }
        Self { betas, alpha_bars }
    }

    /// T, the number of diffusion steps.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// ᾱ_t, with ᾱ_0 = 1.
    pub fn alpha_bar(&self, t: usize) -> f64 {
        if t == 0 { 1.0 } else { self.alpha_bars[t - 1] }
    }

    /// β_t (t from 1).
    pub fn beta(&self, t: usize) -> f64 {
        self.betas[t - 1]
    }

    /// The posterior variance β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t.
    pub fn posterior_variance(&self, t: usize) -> f64 {
        (1.0 - self.alpha_bar(t - 1)) / (1.0 - self.alpha_bar(t)) * self.beta(t)
    }
}

/// The sinusoidal embedding of step t (`dims` values: sines then cosines over geometric
/// frequencies, as in the Transformer and DDPM).
pub fn time_embedding(t: usize, dims: usize, out: &mut Vec<f32>) {
    let half = dims / 2;
    for k in 0..half {
        let freq = (-(10_000f64.ln()) * k as f64 / half as f64).exp();
        out.push((t as f64 * freq).sin() as f32);
    }
    for k in 0..half {
        let freq = (-(10_000f64.ln()) * k as f64 / half as f64).exp();
        out.push((t as f64 * freq).cos() as f32);
    }
}

/// The diffusion model: ε_θ, its optimizer and its noise schedule.
pub struct Diffusion {
    net: HostMlp,
    opt: Optimizer,
    model: ModelConfig,
    schedule: NoiseSchedule,
    /// Every step's time embedding, t = 0..=T, `time_embedding` values each: made once, as
    /// the sines and cosines cost as much as the network on a small batch.
    embeddings: Vec<f32>,
    /// The seed of the ancestral sampler's noise: a fixed latent batch gives the same samples
    /// at the same weights, so the window's dots move smoothly.
    sample_seed: u64,
    pending: Option<Vec<Vec<f32>>>,
}

impl Diffusion {
    /// A denoiser with fresh weights from `init_rng`, sized by `cfg`.
    pub fn new(cfg: &Config, init_rng: &mut StdRng) -> Self {
        let m = cfg.model.clone();
        let p = Params::init(&cfg.generator.shape, 2 + m.time_embedding, 2, crate::nets::BatchFeatures::default(), init_rng);
        let mut embeddings = Vec::with_capacity((m.diffusion_steps + 1) * m.time_embedding);
        for t in 0..=m.diffusion_steps {
            time_embedding(t, m.time_embedding, &mut embeddings);
        }
        Self {
            net: HostMlp::new(p),
            opt: Optimizer::new(cfg.optim.g.clone()),
            schedule: NoiseSchedule::new(m.beta_schedule, m.diffusion_steps),
            embeddings,
            sample_seed: cfg.train.seed ^ 0xd1ff_5a3e,
            model: m,
            pending: None,
        }
    }

    /// The noise schedule it was trained with.
    pub fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    /// Network evaluations per generated sample.
    pub fn nfe(&self) -> usize {
        match self.model.sampler {
            Sampler::Ancestral => self.schedule.steps(),
            Sampler::Ddim => self.model.ddim_steps,
        }
    }

    /// The network's input rows: each point with its step's embedding.
    fn inputs(&self, x: &[f32], t: &[usize]) -> Vec<f32> {
        let width = 2 + self.model.time_embedding;
        let mut rows = Vec::with_capacity(t.len() * width);
        for (p, &ti) in x.chunks_exact(2).zip(t) {
            rows.extend_from_slice(p);
            let e = self.model.time_embedding;
            rows.extend_from_slice(&self.embeddings[ti * e..(ti + 1) * e]);
        }
        rows
    }

    /// ε_θ(x, t) for every row of `x` (`[n, 2]`) at its step.
    pub fn predict_noise(&self, x: &[f32], t: &[usize]) -> Vec<f32> {
        let input = self.inputs(x, t);
        let w = 2 + self.model.time_embedding;
        chunked(t.len(), |r| self.net.forward(input[r.start * w..r.end * w].to_vec(), r.len()).h.pop().expect("output")).concat()
    }

    /// ε_θ(x, t) for every row of `x` at one step t (sampling, the arrows): the step's
    /// embedding enters the first layer once, not row by row (`output_with_shared_tail`).
    pub fn predict_noise_at(&self, x: &[f32], t: usize) -> Vec<f32> {
        let e = self.model.time_embedding;
        let tail = &self.embeddings[t * e..(t + 1) * e];
        chunked(x.len() / 2, |r| self.net.output_with_shared_tail(&x[r.start * 2..r.end * 2], 2, tail, r.len())).concat()
    }

    /// The denoising loss and its gradient on clean points `x0` (`[n, 2]`) at steps `t` with
    /// noise `eps`: mean over rows and coordinates of (ε_θ(x_t, t) − ε)².
    pub fn loss_and_gradients(&self, x0: &[f32], t: &[usize], eps: &[f32]) -> (f32, Vec<Vec<f32>>) {
        let mut xt = Vec::with_capacity(x0.len());
        for ((p, e), &ti) in x0.chunks_exact(2).zip(eps.chunks_exact(2)).zip(t) {
            let ab = self.schedule.alpha_bar(ti);
            let (a, s) = (ab.sqrt() as f32, (1.0 - ab).sqrt() as f32);
            xt.push(a * p[0] + s * e[0]);
            xt.push(a * p[1] + s * e[1]);
        }
        let input = self.inputs(&xt, t);
        let w = 2 + self.model.time_embedding;
        let n = t.len();
        let scale = 1.0 / (2 * n) as f32;
        let parts = chunked(n, |r| {
            let acts = self.net.forward(input[r.start * w..r.end * w].to_vec(), r.len());
            let out = &acts.h[self.net.depth()];
            let target = &eps[2 * r.start..2 * r.end];
            let mut loss = 0.0f32;
            let delta: Vec<f32> = out
                .iter()
                .zip(target)
                .map(|(o, e)| {
                    loss += (o - e) * (o - e);
                    2.0 * (o - e) * scale
                })
                .collect();
            let mut grads = self.net.zero_grads();
            self.net.backward(&acts.all(), delta, Some(&mut grads), false);
            (loss * scale, grads)
        });
        let mut loss = 0.0;
        let mut total: Option<Vec<Vec<f32>>> = None;
        for (l, g) in parts {
            loss += l;
            match &mut total {
                None => total = Some(g),
                Some(t) => crate::engine::host_mlp::add_grads(t, g),
            }
        }
        (loss, total.expect("at least one chunk"))
    }

    /// One training update on a batch of clean points, with t and ε drawn from `rng`.
    pub fn train_step(&mut self, x0: &[f32], rng: &mut crate::batch::TrainRng, opt: &OptimizerConfig) -> UpdateStats {
        let n = x0.len() / 2;
        let t: Vec<usize> = (0..n).map(|_| rng.random_range(1..=self.schedule.steps())).collect();
        let eps: Vec<f32> = (0..2 * n).map(|_| StandardNormal.sample(rng)).collect();
        let (loss, grads) = self.loss_and_gradients(x0, &t, &eps);
        let grad_norm = grads.iter().flatten().map(|g| g * g).sum::<f32>().sqrt();
        self.pending = Some(grads);
        self.apply(opt);
        UpdateStats { loss, grad_norm, ..Default::default() }
    }

    fn apply(&mut self, opt: &OptimizerConfig) {
        if let Some(grads) = self.pending.take() {
            self.opt.set_config(opt.clone());
            self.opt.step_host(self.net.params_mut(), &grads);
            self.net.refresh();
        }
    }

    /// One ancestral step from x_t to x_{t−1} given the predicted noise and fresh noise `z`.
    pub fn ancestral_step(&self, x: f64, eps_hat: f64, t: usize, z: f64) -> f64 {
        let s = &self.schedule;
        let mean = (x - s.beta(t) / (1.0 - s.alpha_bar(t)).sqrt() * eps_hat) / (1.0 - s.beta(t)).sqrt();
        if t > 1 { mean + s.posterior_variance(t).sqrt() * z } else { mean }
    }

    /// One DDIM (η = 0) step from x_t to x_{t_prev}.
    pub fn ddim_step(&self, x: f64, eps_hat: f64, t: usize, t_prev: usize) -> f64 {
        let (ab, ab_prev) = (self.schedule.alpha_bar(t), self.schedule.alpha_bar(t_prev));
        let x0 = (x - (1.0 - ab).sqrt() * eps_hat) / ab.sqrt();
        ab_prev.sqrt() * x0 + (1.0 - ab_prev).sqrt() * eps_hat
    }

    /// DDIM's steps: `k` of 1..=T, evenly spaced, from T down, then 0.
    pub fn ddim_times(&self, k: usize) -> Vec<usize> {
        let t_max = self.schedule.steps();
        let mut ts: Vec<usize> = (0..k).map(|i| (t_max as f64 - i as f64 * t_max as f64 / k as f64).round() as usize).collect();
        ts.dedup();
        ts.push(0);
        ts
    }

    /// Samples from starting points `z` (`[n, 2]`, standard normal) with the configured
    /// sampler. Deterministic: the ancestral noise comes from a fixed seed.
    pub fn sample(&self, z: &[f32]) -> Vec<f32> {
        let mut x: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        let eps_at = |x: &[f64], t: usize| {
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            self.predict_noise_at(&xf, t)
        };
        let s = &self.schedule;
        // Each step's constants once, not per number (the same expressions as `ancestral_step`
        // and `ddim_step`, in the same order, so the same samples).
        match self.model.sampler {
            Sampler::Ancestral => {
                let mut rng = StdRng::seed_from_u64(self.sample_seed);
                for t in (1..=s.steps()).rev() {
                    let eps = eps_at(&x, t);
                    let (k, d) = (s.beta(t) / (1.0 - s.alpha_bar(t)).sqrt(), (1.0 - s.beta(t)).sqrt());
                    if t > 1 {
                        // The mean of p(x_{t−1} | x_t), then σ_t·z.
                        let sd = s.posterior_variance(t).sqrt();
                        for (v, e) in x.iter_mut().zip(eps) {
                            let z: f64 = StandardNormal.sample(&mut rng);
                            *v = (*v - k * e as f64) / d + sd * z;
                        }
                    } else {
                        // No noise at the last step.
                        x.iter_mut().zip(eps).for_each(|(v, e)| *v = (*v - k * e as f64) / d);
                    }
                }
            }
            Sampler::Ddim => {
                let ts = self.ddim_times(self.model.ddim_steps);
                for w in ts.windows(2) {
                    let (t, prev) = (w[0], w[1]);
                    let eps = eps_at(&x, t);
                    let (ab, ab_prev) = (s.alpha_bar(t), s.alpha_bar(prev));
                    let (a1, a2, b1, b2) = ((1.0 - ab).sqrt(), ab.sqrt(), ab_prev.sqrt(), (1.0 - ab_prev).sqrt());
                    for (v, e) in x.iter_mut().zip(eps) {
                        let e = e as f64;
                        *v = b1 * ((*v - a1 * e) / a2) + b2 * e;
                    }
                }
            }
        }
        x.into_iter().map(|v| v as f32).collect()
    }
}

/// What the trainer asks of a model besides training (`trainer::Model`): samples, the
/// denoiser's direction where a GAN's D would be queried, the weights and their state.
impl Diffusion {
    /// Where the model pushes points `[n, 2]`: −ε_θ(x, 1), the denoiser's direction at the last
    /// step (the view's arrows).
    pub fn direction(&self, pts: &[f32]) -> Vec<f32> {
        self.predict_noise_at(pts, 1).into_iter().map(|e| -e).collect()
    }

    /// The denoiser's parameters, in the order w0, b0, w1, b1, …
    pub fn weights(&self) -> Vec<Vec<f32>> {
        self.net.stored()
    }

    /// The denoiser and its optimizer's state, in a saved run's record (G's slots).
    pub fn export_state(&self) -> crate::engine::EngineState {
        crate::engine::EngineState { g: self.weights(), g_opt: self.opt.export(), ..Default::default() }
    }

    /// Takes a saved state; an error (naming the mismatch) leaves the model untouched.
    pub fn import_state(&mut self, s: crate::engine::EngineState) -> Result<(), String> {
        crate::engine::check_shapes("the denoiser", &self.weights(), &s.g)?;
        for (p, v) in self.net.params_mut().into_iter().zip(s.g) {
            *p = v;
        }
        self.net.refresh();
        self.opt.import(s.g_opt);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_have_their_closed_forms() {
        let s = NoiseSchedule::new(BetaSchedule::Linear, 100);
        assert!((s.beta(1) - 1e-3).abs() < 1e-12 && (s.beta(100) - 0.2).abs() < 1e-12);
        let prod: f64 = (1..=37).map(|t| 1.0 - s.beta(t)).product();
        assert!((s.alpha_bar(37) - prod).abs() < 1e-12);
        assert!(s.alpha_bar(100) < 1e-4, "T steps destroy the signal: ᾱ_T = {}", s.alpha_bar(100));
        // β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t; β̃_1 = 0.
        let t = 50;
        let want = (1.0 - s.alpha_bar(49)) / (1.0 - s.alpha_bar(50)) * s.beta(50);
        assert!((s.posterior_variance(t) - want).abs() < 1e-15);
        assert_eq!(s.posterior_variance(1), 0.0);
        // Cosine: ᾱ_t = f(t)/f(0) with f(t) = cos²(((t/T + s)/(1 + s))·π/2).
        let c = NoiseSchedule::new(BetaSchedule::Cosine, 100);
        let f = |t: f64| (((t / 100.0 + 0.008) / 1.008) * std::f64::consts::FRAC_PI_2).cos().powi(2);
        for t in [1, 10, 50, 90] {
            assert!((c.alpha_bar(t) - f(t as f64) / f(0.0)).abs() < 1e-9, "t {t}");
        }
    }

    fn model(sampler: Sampler) -> Diffusion {
        let mut cfg = Config::default();
        cfg.model.kind = crate::config::ModelKind::Diffusion;
        cfg.model.sampler = sampler;
        Diffusion::new(&cfg, &mut StdRng::seed_from_u64(0))
    }

    /// Sampling's pass, the step's embedding entering once, is the per-row pass up to
    /// rounding, at every step, over more rows than one chunk.
    #[test]
    fn one_steps_prediction_is_the_per_row_prediction() {
        let d = model(Sampler::Ancestral);
        let n = 300;
        let x: Vec<f32> = (0..2 * n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        for t in [1, 2, 50, 100] {
            let (fast, each) = (d.predict_noise_at(&x, t), d.predict_noise(&x, &vec![t; n]));
            let worst = fast.iter().zip(&each).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "step {t}: worst {worst}");
        }
    }

    #[test]
    fn the_loss_is_the_mean_squared_noise_error_and_its_gradient_is_right() {
        let d = model(Sampler::Ancestral);
        let x0 = [1.0, -0.5, 0.3, 2.0, -1.2, 0.1];
        let t = [3, 60, 100];
        let eps = [0.2, -1.0, 0.7, 0.4, -0.3, 1.5];
        let (loss, grads) = d.loss_and_gradients(&x0, &t, &eps);
        // Against the formula, from the network's prediction at x_t.
        let mut xt = Vec::new();
        for i in 0..3 {
            let ab = d.schedule.alpha_bar(t[i]);
            for k in 0..2 {
                xt.push((ab.sqrt() * x0[2 * i + k] as f64 + (1.0 - ab).sqrt() * eps[2 * i + k] as f64) as f32);
            }
        }
        let pred = d.predict_noise(&xt, &t);
        let want: f32 = pred.iter().zip(&eps).map(|(p, e)| (p - e) * (p - e)).sum::<f32>() / 6.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
        // The gradient against a finite difference on one weight.
        let mut bumped = d.net.clone();
        let h = 1e-3;
        bumped.w[0][5] += h;
        bumped.refresh();
        let d2 = Diffusion {
            net: bumped,
            opt: d.opt.clone(),
            model: d.model.clone(),
            schedule: d.schedule.clone(),
            embeddings: d.embeddings.clone(),
            sample_seed: 0,
            pending: None,
        };
        let (loss2, _) = d2.loss_and_gradients(&x0, &t, &eps);
        let fd = (loss2 - loss) / h;
        assert!((fd - grads[0][5]).abs() < 2e-2 * grads[0][5].abs().max(1e-2), "finite difference {fd} vs {}", grads[0][5]);
    }

    /// The sampler's loop (constants once per step) gives what `ancestral_step` and
    /// `ddim_step` give number by number.
    #[test]
    fn the_samplers_are_their_steps() {
        for sampler in [Sampler::Ancestral, Sampler::Ddim] {
            let d = model(sampler);
            let z: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut x: Vec<f64> = z.iter().map(|&v| v as f64).collect();
            // One step's prediction as the sampler makes it (`one_steps_prediction_is_the_per_row_prediction`).
            let eps_at = |x: &[f64], t: usize| d.predict_noise_at(&x.iter().map(|&v| v as f32).collect::<Vec<_>>(), t);
            match sampler {
                Sampler::Ancestral => {
                    let mut rng = StdRng::seed_from_u64(d.sample_seed);
                    for t in (1..=d.schedule.steps()).rev() {
                        let eps = eps_at(&x, t);
                        for (v, e) in x.iter_mut().zip(eps) {
                            let z: f64 = if t > 1 { StandardNormal.sample(&mut rng) } else { 0.0 };
                            *v = d.ancestral_step(*v, e as f64, t, z);
                        }
                    }
                }
                Sampler::Ddim => {
                    for w in d.ddim_times(d.model.ddim_steps).windows(2) {
                        let eps = eps_at(&x, w[0]);
                        x.iter_mut().zip(eps).for_each(|(v, e)| *v = d.ddim_step(*v, e as f64, w[0], w[1]));
                    }
                }
            }
            let want: Vec<f32> = x.into_iter().map(|v| v as f32).collect();
            assert_eq!(d.sample(&z), want, "{sampler:?}");
        }
    }

    #[test]
    fn the_embedding_table_is_the_embedding() {
        let d = model(Sampler::Ancestral);
        let e = d.model.time_embedding;
        for t in [0, 1, 37, d.schedule.steps()] {
            let mut want = Vec::new();
            time_embedding(t, e, &mut want);
            assert_eq!(&d.embeddings[t * e..(t + 1) * e], &want[..], "t = {t}");
        }
        assert_eq!(d.embeddings.len(), (d.schedule.steps() + 1) * e);
    }

    #[test]
    fn sampler_steps_match_hand_computed_values() {
        let d = model(Sampler::Ancestral);
        let s = &d.schedule;
        let (x, e, t, z) = (0.8, -0.3, 40, 0.5);
        let mean = (x - s.beta(t) / (1.0 - s.alpha_bar(t)).sqrt() * e) / (1.0 - s.beta(t)).sqrt();
        assert!((d.ancestral_step(x, e, t, z) - (mean + s.posterior_variance(t).sqrt() * z)).abs() < 1e-12);
        // The last ancestral step adds no noise.
        assert!(
            (d.ancestral_step(x, e, 1, z) - (x - s.beta(1) / (1.0 - s.alpha_bar(1)).sqrt() * e) / (1.0 - s.beta(1)).sqrt()).abs() < 1e-12
        );
        // DDIM to t = 0 returns the predicted x_0.
        let x0 = (x - (1.0 - s.alpha_bar(t)).sqrt() * e) / s.alpha_bar(t).sqrt();
        assert!((d.ddim_step(x, e, t, 0) - x0).abs() < 1e-12);
        let ts = d.ddim_times(20);
        assert_eq!((ts.len(), ts[0], ts[20]), (21, 100, 0));
        // Sampling is deterministic for a fixed start.
        let z0 = [0.1f32, -0.2, 1.0, 0.5];
        assert_eq!(d.sample(&z0), d.sample(&z0));
        assert_eq!(model(Sampler::Ddim).nfe(), 20);
        assert_eq!(d.nfe(), 100);
    }
}
