//! The training loop: one `Trainer` owns G, D, their optimizers and the random stream, and
//! advances them one update at a time. Everything is seeded from `train.seed`, so the same
//! seed on the same backend replays the same run.
//!
//! A *step* is one round of the schedule: `d_steps` D updates and `g_steps` G updates,
//! alternating (each sees the other's newest weights) or simultaneous (both gradients taken
//! from the same weights, then both applied).

use crate::backend::BackendInfo;
use crate::config::{Activation, Anneal, Config, LossKind, ScheduleMode};
use crate::fused::{self, DInputs, DObjective, HostGrads, HostMlp};
use crate::data::{Target, sample_latent};
use crate::loss::{d_loss, g_loss};
use crate::metrics::{ModeStats, grid_divergences, mode_stats};
use crate::nets::Mlp;
use crate::optim::Optimizer;
use crate::penalty::{one_centred, zero_centred};
use burn::tensor::{Device, Tensor, TensorData, activation::sigmoid};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Values measured on the latest recorded D and G updates.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepStats {
    pub d_loss: f32,
    pub g_loss: f32,
    /// Mean D(real): a probability for logistic losses, the critic value otherwise.
    pub d_real: f32,
    pub d_fake: f32,
    /// ‖∇_θ‖ of the latest D and G updates (all parameters).
    pub d_grad_norm: f32,
    pub g_grad_norm: f32,
}

/// Everything measured at one evaluation.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub step: u64,
    pub seconds: f64,
    pub modes_covered: Option<usize>,
    pub modes_total: Option<usize>,
    pub hq_fraction: Option<f64>,
    pub reverse_kl: Option<f64>,
    pub per_mode_counts: Option<Vec<usize>>,
    pub kl_grid: f64,
    pub js_grid: f64,
    pub d_loss: f32,
    pub g_loss: f32,
    pub d_real: f32,
    pub d_fake: f32,
    pub d_grad_norm: f32,
    pub g_grad_norm: f32,
    /// Mean ‖∂D/∂x‖ at the evaluation fakes.
    pub d_input_grad_norm: f32,
    /// Wasserstein estimate E D(real) − E D(fake), for WGAN losses.
    pub critic_gap: Option<f32>,
    pub instance_std: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("training diverged at step {step}: {what} is not finite (NaN or Inf); lower the learning rates or add a regulariser, then reset")]
    Diverged { step: u64, what: String },
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
}

/// Which update runs next when stepping one update at a time (the window's slow motion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    UpdatingD,
    UpdatingG,
}

pub struct Trainer {
    cfg: Config,
    device: Device,
    backend: BackendInfo,
    target: Target,
    half_width: f32,
    pub(crate) g: Mlp,
    pub(crate) d: Mlp,
    g_opt: Optimizer,
    d_opt: Optimizer,
    rng: StdRng,
    step: u64,
    /// Updates done inside the current step (slow motion).
    sub_step: usize,
    eval_z: Tensor<2>,
    real_eval: Vec<f32>,
    last: StepStats,
    /// Record losses and norms on every update (costs a read-back each).
    pub record: bool,
    /// Take the CPU fast path (`fused.rs`) when the objective allows it. On by default on the
    /// CPU backend; `GANSCOPE_NO_FUSED=1` turns it off (to compare the two paths).
    pub fused: bool,
    /// The fast path's host copies of G and D, which it updates in place. `None` until the
    /// fast path runs and whenever the tensors were changed some other way.
    host_g: Option<HostMlp>,
    host_d: Option<HostMlp>,
    /// The host copy of G / D is newer than the tensors: copied over at the end of every public
    /// update (`sync_tensors`), so from outside the tensors are always current, and a 5-critic-
    /// step update of a big D copies its weights once, not five times.
    g_stale: bool,
    d_stale: bool,
}

impl Trainer {
    pub fn new(cfg: Config, device: Device, backend: BackendInfo) -> Result<Self, TrainError> {
        let target = Target::new(&cfg.data)?;
        let half_width = if cfg.view.half_width > 0.0 { cfg.view.half_width } else { target.fit_half_width() };
        // Separate streams: initialisation, training batches and the evaluation set, so that
        // e.g. changing the batch size does not change the initial weights.
        let mut init_rng = StdRng::seed_from_u64(cfg.train.seed);
        let mut eval_rng = StdRng::seed_from_u64(cfg.train.seed ^ 0x5eed_e7a1);
        let rng = StdRng::seed_from_u64(cfg.train.seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
        let (g, d) = build_nets(&cfg, &mut init_rng, &device);
        let n_eval = cfg.train.eval_samples;
        let z = sample_latent(&mut eval_rng, cfg.generator.latent, n_eval, cfg.generator.latent_dim);
        let eval_z = Tensor::from_data(TensorData::new(z, [n_eval, cfg.generator.latent_dim]), &device);
        let real_eval = target.sample(&mut eval_rng, n_eval.max(10_000));
        Ok(Self {
            g_opt: Optimizer::new(cfg.optim.g.clone()),
            d_opt: Optimizer::new(cfg.optim.d.clone()),
            cfg,
            device,
            target,
            half_width,
            g,
            d,
            rng,
            step: 0,
            sub_step: 0,
            eval_z,
            real_eval,
            last: StepStats::default(),
            record: true,
            fused: backend.backend == "cpu" && std::env::var_os("GANSCOPE_NO_FUSED").is_none(),
            backend,
            host_g: None,
            host_d: None,
            g_stale: false,
            d_stale: false,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn steps_done(&self) -> u64 {
        self.step
    }
    pub fn backend(&self) -> &BackendInfo {
        &self.backend
    }
    pub fn target(&self) -> &Target {
        &self.target
    }
    pub fn half_width(&self) -> f32 {
        self.half_width
    }
    pub fn last_stats(&self) -> &StepStats {
        &self.last
    }
    pub fn device(&self) -> &Device {
        &self.device
    }
    pub(crate) fn eval_z(&self) -> &Tensor<2> {
        &self.eval_z
    }
    pub(crate) fn real_eval(&self) -> &[f32] {
        &self.real_eval
    }

    /// Applies a new configuration between two updates. Objective, schedule, noise and
    /// optimizer settings take effect at the next update with the weights untouched (an
    /// optimizer keeps its moments unless its kind changes). A new dataset or architecture
    /// needs fresh networks: then `Ok(true)` is returned and the run restarts from step 0.
    pub fn set_config(&mut self, cfg: Config) -> Result<bool, TrainError> {
        if self.cfg.needs_rebuild(&cfg) || self.cfg.train.eval_samples != cfg.train.eval_samples {
            *self = Trainer::new(cfg, self.device.clone(), self.backend.clone())?;
            return Ok(true);
        }
        self.g_opt.set_config(cfg.optim.g.clone());
        self.d_opt.set_config(cfg.optim.d.clone());
        if cfg.view.half_width != self.cfg.view.half_width {
            self.half_width = if cfg.view.half_width > 0.0 { cfg.view.half_width } else { self.target.fit_half_width() };
        }
        self.cfg = cfg;
        Ok(false)
    }

    /// The instance-noise σ at the current step.
    pub fn instance_std(&self) -> f32 {
        let n = &self.cfg.noise;
        let t = self.step as f32 / n.anneal_steps.max(1) as f32;
        match n.anneal {
            Anneal::Constant => n.instance_std,
            Anneal::Linear => n.floor + (n.instance_std - n.floor) * (1.0 - t).max(0.0),
            Anneal::Exponential => n.floor + (n.instance_std - n.floor) * (-5.0 * t).exp(),
        }
    }

    /// Which update a call to `sub_step` performs next.
    pub fn phase(&self) -> Phase {
        if self.sub_step < self.cfg.schedule.d_steps { Phase::UpdatingD } else { Phase::UpdatingG }
    }

    /// One full step of the schedule.
    pub fn step(&mut self) -> Result<(), TrainError> {
        // On a thread of rayon's pool, the fast path's batch chunks fork with a cheap join
        // (the other thread steals one half) instead of waking the pool from outside and
        // sleeping until it is done, several times per update.
        let r = if self.fused { rayon::scope(|_| self.step_inner()) } else { self.step_inner() };
        self.sync_tensors();
        r
    }

    fn step_inner(&mut self) -> Result<(), TrainError> {
        let (nd, ng) = (self.cfg.schedule.d_steps, self.cfg.schedule.g_steps);
        if self.sub_step > 0 {
            // Finish a step started in slow motion.
            while self.sub_step > 0 {
                self.sub_step_inner()?;
            }
            return Ok(());
        }
        match self.cfg.schedule.mode {
            ScheduleMode::Alternating => {
                for _ in 0..nd {
                    self.update(Phase::UpdatingD)?;
                }
                for _ in 0..ng {
                    self.update(Phase::UpdatingG)?;
                }
            }
            ScheduleMode::Simultaneous => {
                for i in 0..nd.max(ng) {
                    let gd = (i < nd).then(|| self.d_gradients());
                    let gg = (i < ng).then(|| self.g_gradients());
                    if let Some(gd) = gd {
                        self.apply_d(gd)?;
                    }
                    if let Some(gg) = gg {
                        self.apply_g(gg)?;
                    }
                }
            }
        }
        self.step += 1;
        Ok(())
    }

    /// One single update (D or G, per the schedule) — the window's slow motion.
    pub fn sub_step(&mut self) -> Result<Phase, TrainError> {
        let r = self.sub_step_inner();
        self.sync_tensors();
        r
    }

    fn sub_step_inner(&mut self) -> Result<Phase, TrainError> {
        let phase = self.phase();
        self.update(phase)?;
        self.sub_step += 1;
        if self.sub_step >= self.cfg.schedule.d_steps + self.cfg.schedule.g_steps {
            self.sub_step = 0;
            self.step += 1;
        }
        Ok(phase)
    }

    /// One D update.
    pub fn update_d(&mut self) -> Result<(), TrainError> {
        let r = self.update(Phase::UpdatingD);
        self.sync_tensors();
        r
    }

    /// One G update (against an unrolled copy of D when `schedule.unroll > 0`).
    pub fn update_g(&mut self) -> Result<(), TrainError> {
        let r = self.update(Phase::UpdatingG);
        self.sync_tensors();
        r
    }

    /// One update of D or G, leaving the tensors to `sync_tensors`.
    fn update(&mut self, which: Phase) -> Result<(), TrainError> {
        match which {
            Phase::UpdatingD => {
                let grads = self.d_gradients();
                self.apply_d(grads)
            }
            Phase::UpdatingG => {
                let grads = self.g_gradients();
                self.apply_g(grads)
            }
        }
    }

    /// Copies the fast path's newer host weights into the tensors.
    fn sync_tensors(&mut self) {
        if let (true, Some(g)) = (self.g_stale, &self.host_g) {
            self.g.set_params(g.tensors(&self.device));
        }
        if let (true, Some(d)) = (self.d_stale, &self.host_d) {
            self.d.set_params(d.tensors(&self.device));
        }
        (self.g_stale, self.d_stale) = (false, false);
    }

    fn sample_real(&mut self, n: usize) -> Tensor<2> {
        let s = self.target.sample(&mut self.rng, n);
        Tensor::from_data(TensorData::new(s, [n, 2]), &self.device)
    }

    fn sample_z_host(&mut self, n: usize) -> Vec<f32> {
        sample_latent(&mut self.rng, self.cfg.generator.latent, n, self.cfg.generator.latent_dim)
    }

    fn sample_z(&mut self, n: usize) -> Tensor<2> {
        let z = self.sample_z_host(n);
        Tensor::from_data(TensorData::new(z, [n, self.cfg.generator.latent_dim]), &self.device)
    }

    /// Gaussian instance noise of the current σ, `2n` values (None when σ = 0).
    fn noise_host(&mut self, n: usize) -> Option<Vec<f32>> {
        let sigma = self.instance_std();
        (sigma > 0.0).then(|| {
            (0..2 * n)
                .map(|_| {
                    let e: f32 = StandardNormal.sample(&mut self.rng);
                    sigma * e
                })
                .collect()
        })
    }

    /// Adds fresh instance noise (if any) to host samples `[n, 2]`.
    fn add_noise_host(&mut self, x: &mut [f32]) {
        if let Some(noise) = self.noise_host(x.len() / 2) {
            x.iter_mut().zip(noise).for_each(|(v, e)| *v += e);
        }
    }

    fn noise(&mut self, n: usize) -> Option<Tensor<2>> {
        self.noise_host(n).map(|v| Tensor::from_data(TensorData::new(v, [n, 2]), &self.device))
    }

    /// Whether this update can take the CPU fast path: ReLU-family MLPs without spectral norm
    /// or minibatch-stddev (any loss and penalty).
    fn fused_ok(&self) -> bool {
        let c = &self.cfg;
        let relu_family = |m: &Mlp| matches!(m.activation, Activation::Relu | Activation::LeakyRelu);
        self.fused
            && relu_family(&self.g)
            && relu_family(&self.d)
            && !c.discriminator.spectral_norm
            && !c.discriminator.minibatch_stddev
    }

    /// The fast path's host copies of G and D, taken out (put them back with `put_host`); made
    /// from the tensors when missing or stale.
    fn take_host(&mut self) -> (HostMlp, HostMlp) {
        let fresh = |m: &Mlp, cached: Option<HostMlp>| {
            let leak = if m.activation == Activation::LeakyRelu { m.leak } else { 0.0 };
            cached.filter(|h| h.leak == leak).unwrap_or_else(|| HostMlp::new(m, leak))
        };
        (fresh(&self.g, self.host_g.take()), fresh(&self.d, self.host_d.take()))
    }

    fn put_host(&mut self, g: HostMlp, d: HostMlp) {
        self.host_g = Some(g);
        self.host_d = Some(d);
    }

    /// `d_gradients` on the CPU fast path: the same draws in the same order, host arithmetic.
    fn d_gradients_fused(&mut self) -> Gradients {
        let b = self.cfg.train.batch_size;
        let pack = self.cfg.discriminator.pack;
        let (rows, width) = (b / pack, 2 * pack);
        let mut real = self.target.sample(&mut self.rng, b);
        let z = self.sample_z_host(b);
        self.add_noise_host(&mut real);
        let fake_noise = self.noise_host(b);
        let gp = if self.cfg.loss.kind == LossKind::WganGp { self.cfg.loss.gp_lambda } else { 0.0 };
        let gp_eps = (gp > 0.0).then(|| (0..rows).map(|_| self.rng.random::<f32>()).collect());
        let dragan_x = (self.cfg.reg.dragan > 0.0).then(|| {
            // DRAGAN: perturb reals by 0.5·std(x)·U[0, 1] per coordinate.
            let std: Vec<f32> = (0..width)
                .map(|j| {
                    let m = (0..rows).map(|i| real[i * width + j]).sum::<f32>() / rows as f32;
                    ((0..rows).map(|i| (real[i * width + j] - m).powi(2)).sum::<f32>() / rows as f32).sqrt()
                })
                .collect();
            (0..rows * width).map(|i| real[i] + 0.5 * std[i % width] * self.rng.random::<f32>()).collect()
        });
        let (c, r) = (&self.cfg.loss, &self.cfg.reg);
        let objective = DObjective { kind: c.kind, smoothing: c.label_smoothing, r1: r.r1, r2: r.r2, gp, dragan: r.dragan, pack };
        let inputs = DInputs { real, z, fake_noise, gp_eps, dragan_x };
        let (g, d) = self.take_host();
        let out = fused::d_gradients(&g, &d, &objective, &inputs);
        self.put_host(g, d);
        let record = self.record.then_some((out.loss, out.d_real, out.d_fake));
        Gradients { grads: Grads::Host(out.grads), record, stddev: None }
    }

    /// G's loss gradient on the CPU fast path (against the current D).
    fn g_gradients_fused(&mut self) -> Gradients {
        let b = self.cfg.train.batch_size;
        let z = self.sample_z_host(b);
        let noise = self.noise_host(b);
        let (g, d) = self.take_host();
        let (loss, grads) = fused::g_gradients(&g, &d, self.cfg.loss.kind, self.cfg.discriminator.pack, &z, noise.as_deref());
        self.put_host(g, d);
        Gradients { grads: Grads::Host(grads), record: self.record.then_some((loss, 0.0, 0.0)), stddev: None }
    }

    fn uniform(&mut self, rows: usize, cols: usize) -> Tensor<2> {
        let v: Vec<f32> = (0..rows * cols).map(|_| self.rng.random::<f32>()).collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), &self.device)
    }

    /// `[B, 2]` → `[B/pack, 2·pack]`: PacGAN's D sees `pack` samples as one input.
    fn pack(&self, x: Tensor<2>) -> Tensor<2> {
        let m = self.cfg.discriminator.pack;
        if m == 1 {
            return x;
        }
        let b = x.dims()[0];
        x.reshape([b / m, 2 * m])
    }

    /// D's loss gradient at the current weights, plus what to record.
    fn d_gradients(&mut self) -> Gradients {
        if self.fused_ok() {
            return self.d_gradients_fused();
        }
        self.sync_tensors();
        let b = self.cfg.train.batch_size;
        self.d.power_iteration();
        let mut real = self.sample_real(b);
        let z = self.sample_z(b);
        let mut fake = self.g.forward(z);
        if let Some(n) = self.noise(b) {
            real = real.add(n);
        }
        if let Some(n) = self.noise(b) {
            fake = fake.add(n);
        }
        let (real, fake) = (self.pack(real), self.pack(fake));
        let cfg = &self.cfg;
        let layers = self.d.tracked();
        let tr = self.d.forward_with(&layers, real.clone().autodiff(), true);
        let tf = self.d.forward_with(&layers, fake.clone().autodiff(), true);
        let mut loss = d_loss(cfg.loss.kind, tr.out.clone(), tf.out.clone(), cfg.loss.label_smoothing);
        if cfg.reg.r1 > 0.0 {
            loss = loss.add(zero_centred(self.d.input_grad(&tr), cfg.reg.r1));
        }
        if cfg.reg.r2 > 0.0 {
            loss = loss.add(zero_centred(self.d.input_grad(&tf), cfg.reg.r2));
        }
        let rows = real.dims()[0];
        let width = real.dims()[1];
        if cfg.loss.kind == LossKind::WganGp && cfg.loss.gp_lambda > 0.0 {
            // Random interpolates x̂ = εx + (1 − ε)x̃, one ε per (packed) sample.
            let (gp_lambda, real_c, fake_c) = (cfg.loss.gp_lambda, real.clone(), fake.clone());
            let eps = self.uniform(rows, 1);
            let xhat = real_c.mul(eps.clone()).add(fake_c.mul(eps.neg().add_scalar(1.0)));
            let th = self.d.forward_with(&layers, xhat.autodiff(), true);
            loss = loss.add(one_centred(self.d.input_grad(&th), gp_lambda));
        }
        if self.cfg.reg.dragan > 0.0 {
            // DRAGAN: perturb reals by 0.5·std(x)·U[0, 1] per coordinate.
            let lambda = self.cfg.reg.dragan;
            let std = real.clone().var_bias(0).sqrt(); // [1, width]
            let u = self.uniform(rows, width);
            let xp = real.clone().add(u.mul(std).mul_scalar(0.5));
            let tp = self.d.forward_with(&layers, xp.autodiff(), true);
            loss = loss.add(one_centred(self.d.input_grad(&tp), lambda));
        }
        let stddev = tr.stddev.clone();
        let record = self.record.then(|| {
            let (dr, df) = (tr.out.clone().inner(), tf.out.clone().inner());
            let logistic = !self.cfg.loss.kind.is_critic() && self.cfg.loss.kind != LossKind::Ls;
            let (dr, df) = if logistic { (sigmoid(dr), sigmoid(df)) } else { (dr, df) };
            (scalar(loss.clone().inner()), scalar(dr.mean()), scalar(df.mean()))
        });
        let backprop = loss.backward();
        let grads = layers
            .iter()
            .flat_map(|l| [l.w.grad(&backprop).expect("w is tracked"), l.b.grad(&backprop).expect("b is tracked")])
            .collect();
        Gradients { grads: Grads::Tensor(grads), record, stddev }
    }

    fn apply_d(&mut self, g: Gradients) -> Result<(), TrainError> {
        if let Some((loss, dr, df)) = g.record {
            self.last.d_loss = loss;
            self.last.d_real = dr;
            self.last.d_fake = df;
            self.last.d_grad_norm = g.grads.norm();
            self.check("D loss", loss)?;
        }
        if let Some(s) = g.stddev {
            self.d.last_stddev = scalar(s.inner().reshape([1]));
        }
        self.step_d(g.grads);
        Ok(())
    }

    /// D's optimizer step (with WGAN's weight clipping), on the host copy when the gradients
    /// came from the fast path.
    fn step_d(&mut self, grads: Grads) {
        let clip = (self.cfg.loss.kind == LossKind::Wgan).then_some(self.cfg.loss.clip);
        match grads {
            Grads::Host(grads) => {
                let (g, mut d) = self.take_host();
                self.d_opt.step_host(d.params_mut(), &grads);
                grads.into_iter().for_each(fused::recycle);
                if let Some(c) = clip {
                    d.params_mut().into_iter().flatten().for_each(|v| *v = v.clamp(-c, c));
                }
                d.refresh();
                self.d_stale = true;
                self.put_host(g, d);
            }
            Grads::Tensor(grads) => {
                self.sync_tensors();
                let params = self.d_opt.step(self.d.params(), grads);
                self.d.set_params(params);
                if let Some(c) = clip {
                    self.d.clip(c);
                }
                self.host_d = None;
            }
        }
    }

    /// G's loss gradient. With unrolling, D is first copied and advanced `unroll` steps (its
    /// optimizer state too); G's loss is taken against the copy. First-order: the copy's
    /// dependence on G is not differentiated.
    fn g_gradients(&mut self) -> Gradients {
        let k = self.cfg.schedule.unroll;
        let saved = (k > 0).then(|| (self.d.clone(), self.d_opt.clone(), self.last.clone(), self.host_d.clone(), self.d_stale));
        for _ in 0..k {
            let gd = self.d_gradients();
            self.step_d(gd.grads);
        }
        let grads = if self.fused_ok() { self.g_gradients_fused() } else { self.g_gradients_autodiff() };
        if let Some((d, opt, last, host_d, stale)) = saved {
            self.d = d;
            self.d_opt = opt;
            self.last = last;
            self.host_d = host_d;
            self.d_stale = stale;
        }
        grads
    }

    /// G's loss gradient against the current D, through burn's autodiff.
    fn g_gradients_autodiff(&mut self) -> Gradients {
        self.sync_tensors();
        let b = self.cfg.train.batch_size;
        let z = self.sample_z(b);
        let noise = self.noise(b);
        let layers = self.g.tracked();
        let mut fake = self.g.forward_with(&layers, z.autodiff(), false).out;
        if let Some(n) = noise {
            fake = fake.add(n);
        }
        let fake = self.pack(fake);
        let df = self.d.forward_with(&self.d.layers, fake, true).out;
        let loss = g_loss(self.cfg.loss.kind, df);
        let record = self.record.then(|| (scalar(loss.clone().inner()), 0.0, 0.0));
        let backprop = loss.backward();
        let grads = layers
            .iter()
            .flat_map(|l| [l.w.grad(&backprop).expect("w is tracked"), l.b.grad(&backprop).expect("b is tracked")])
            .collect();
        Gradients { grads: Grads::Tensor(grads), record, stddev: None }
    }

    fn apply_g(&mut self, g: Gradients) -> Result<(), TrainError> {
        if let Some((loss, _, _)) = g.record {
            self.last.g_loss = loss;
            self.last.g_grad_norm = g.grads.norm();
            self.check("G loss", loss)?;
        }
        match g.grads {
            Grads::Host(grads) => {
                let (mut gh, d) = self.take_host();
                self.g_opt.step_host(gh.params_mut(), &grads);
                grads.into_iter().for_each(fused::recycle);
                gh.refresh();
                self.g_stale = true;
                self.put_host(gh, d);
            }
            Grads::Tensor(grads) => {
                self.sync_tensors();
                let params = self.g_opt.step(self.g.params(), grads);
                self.g.set_params(params);
                self.host_g = None;
            }
        }
        Ok(())
    }

    fn check(&self, what: &str, v: f32) -> Result<(), TrainError> {
        if v.is_finite() { Ok(()) } else { Err(TrainError::Diverged { step: self.step, what: what.into() }) }
    }

    /// D's raw output and ∂D/∂x at arbitrary points `[n, 2]` (no batch statistics, no
    /// gradient recording). Under PacGAN packing a point is judged as `pack` copies of itself
    /// and its gradient is the sum over the copies.
    pub fn d_at(&self, pts: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let n = pts.dims()[0];
        let m = self.cfg.discriminator.pack;
        let tr = self.d.forward_with(&self.d.layers, self.as_packs(pts), false);
        let g = self.d.input_grad(&tr);
        let g = if m > 1 { g.reshape([n, m, 2]).sum_dim(1).reshape([n, 2]) } else { g };
        (tr.out, g)
    }

    /// D's raw output only, at arbitrary points `[n, 2]` (the surface grid needs no gradient).
    pub fn d_values(&self, pts: Tensor<2>) -> Tensor<2> {
        self.d.forward_with(&self.d.layers, self.as_packs(pts), false).out
    }

    /// Each point as a PacGAN input of `pack` copies of itself.
    fn as_packs(&self, pts: Tensor<2>) -> Tensor<2> {
        let m = self.cfg.discriminator.pack;
        if m > 1 { pts.repeat_dim(1, m) } else { pts }
    }

    /// G applied to `z` on the host.
    pub fn generate(&self, z: Tensor<2>) -> Vec<f32> {
        to_vec(self.g.forward(z))
    }

    /// Measures the generator on the fixed evaluation batch.
    pub fn evaluate(&self) -> Result<(Metrics, Vec<f32>), TrainError> {
        let fake_t = self.g.forward(self.eval_z.clone());
        let fake = to_vec(fake_t.clone());
        if let Some(i) = fake.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::Diverged { step: self.step, what: format!("generator output (sample {})", i / 2) });
        }
        let (_, grads) = self.d_at(fake_t);
        let norms = to_vec(grads.square().sum_dim(1).sqrt().mean().reshape([1]));
        let stats: Option<ModeStats> = self.target.modes().map(|m| mode_stats(m, &fake));
        let (kl_grid, js_grid) = grid_divergences(&self.real_eval, &fake, self.half_width, self.cfg.view.hist_bins);
        let l = &self.last;
        let m = Metrics {
            step: self.step,
            seconds: 0.0,
            modes_covered: stats.as_ref().map(|s| s.modes_covered),
            modes_total: stats.as_ref().map(|s| s.modes_total),
            hq_fraction: stats.as_ref().map(|s| s.hq_fraction),
            reverse_kl: stats.as_ref().map(|s| s.reverse_kl),
            per_mode_counts: stats.map(|s| s.per_mode_counts),
            kl_grid,
            js_grid,
            d_loss: l.d_loss,
            g_loss: l.g_loss,
            d_real: l.d_real,
            d_fake: l.d_fake,
            d_grad_norm: l.d_grad_norm,
            g_grad_norm: l.g_grad_norm,
            d_input_grad_norm: norms[0],
            critic_gap: self.cfg.loss.kind.is_wasserstein().then_some(l.d_real - l.d_fake),
            instance_std: self.instance_std(),
        };
        Ok((m, fake))
    }

    /// Both networks' parameters on the host (for tests of "weights untouched").
    pub fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        (self.g.params().into_iter().map(to_vec).collect(), self.d.params().into_iter().map(to_vec).collect())
    }
}

/// A gradient list, where the path that computed it left it.
enum Grads {
    Tensor(Vec<Tensor<2>>),
    Host(HostGrads),
}

impl Grads {
    /// ‖∇_θ‖ over all parameters.
    fn norm(&self) -> f32 {
        match self {
            Grads::Tensor(grads) => {
                let total = grads.iter().map(|g| g.clone().square().sum()).reduce(|a, b| a.add(b));
                total.map(|t| scalar(t).sqrt()).unwrap_or(0.0)
            }
            Grads::Host(grads) => grads.iter().flatten().map(|v| v * v).sum::<f32>().sqrt(),
        }
    }
}

/// A gradient list with what the update records.
struct Gradients {
    grads: Grads,
    /// (loss, mean D(real), mean D(fake)) when recording.
    record: Option<(f32, f32, f32)>,
    stddev: Option<Tensor<2>>,
}

fn build_nets(cfg: &Config, rng: &mut StdRng, device: &Device) -> (Mlp, Mlp) {
    let g = Mlp::new(&cfg.generator.shape(), cfg.generator.latent_dim, 2, false, false, rng, device);
    let dc = &cfg.discriminator;
    let d = Mlp::new(&dc.shape(), 2 * dc.pack, 1, dc.spectral_norm, dc.minibatch_stddev, rng, device);
    (g, d)
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("float tensor")
}

fn scalar(t: Tensor<1>) -> f32 {
    to_vec(t)[0]
}
