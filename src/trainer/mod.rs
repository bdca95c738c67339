//! The training loop: one `Trainer` owns the engine (G, D and their optimizers), the random
//! stream and the schedule, and advances them one update at a time. Everything is seeded from
//! `train.seed`, so the same seed on the same engine replays the same run.
//!
//! - `../batch.rs`: the random draws of one update, in one fixed order;
//! - `schedule.rs`: which updates make up a step;
//! - `evaluate.rs`: the metrics on the fixed evaluation batch;
//! - `view.rs`: what the window draws, computed here.

pub mod evaluate;
pub mod model;
pub mod schedule;
pub mod state;
pub mod view;

pub use crate::metrics::{Metrics, StepStats};

use crate::backend::Compute;
use crate::batch::TrainRng;
use crate::batch::{DBatch, Draw, GBatch};
use crate::config::{Anneal, Config, LossKind, ModelKind};
use crate::data::Target;
use crate::engine::{Engine, EngineKind, UpdateStats};
use crate::objective::Objective;
pub use model::Model;
use rand::{SeedableRng, rngs::StdRng};
use schedule::Update;
use serde::Serialize;

/// A training step that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(
        "training diverged at step {step}: {what} is not finite (NaN or Inf); lower the learning rates or add a regulariser, then reset"
    )]
    /// A loss or weight became NaN or infinite.
    Diverged {
        /// The step at which it happened.
        step: u64,
        /// What became non-finite.
        what: String,
    },
    /// The dataset cannot be built.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The engine cannot run the config.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

/// Which update runs next when stepping one update at a time (the window's slow motion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Next: a D update.
    UpdatingD,
    /// Next: a G update.
    UpdatingG,
}

/// A GAN (or diffusion model) in training: its engine, data, random streams and schedule.
pub struct Trainer {
    cfg: Config,
    compute: Compute,
    /// What the run was started with (a GPU to race against the CPU, say): rebuilds and
    /// restarts start from it again.
    asked: Compute,
    target: Target,
    half_width: f32,
    model: Model,
    rng: TrainRng,
    step: u64,
    /// Position in the current step's plan (slow motion stops between updates).
    cursor: usize,
    /// Simultaneous mode: G's gradient was taken at the paired D update (with its stats).
    kept_g: Option<Option<UpdateStats>>,
    eval_z: Vec<f32>,
    real_eval: Vec<f32>,
    last: StepStats,
    /// The latest evaluations (for the symptoms that look back over a window).
    history: std::sync::Mutex<std::collections::VecDeque<Metrics>>,
    /// Record losses and norms on every update (costs a read-back each on the burn engine).
    pub record: bool,
}

impl Trainer {
    /// A fresh run of `cfg`. When `compute.race_cpu` is set (a real GPU under `auto`), the
    /// config is first timed on the GPU and on the CPU (≈ 0.4 s each) and the run starts on
    /// the faster; `backend().backend_choice` holds both figures.
    pub fn new(cfg: Config, compute: Compute) -> Result<Self, TrainError> {
        if compute.race_cpu {
            return race(cfg, compute);
        }
        Self::on(cfg, compute)
    }

    /// A fresh run of `cfg` on exactly `compute`.
    fn on(cfg: Config, compute: Compute) -> Result<Self, TrainError> {
        let target = Target::new(&cfg.data)?;
        let half_width = view_half_width(&cfg, &target);
        // Separate streams: initialisation, training batches and the evaluation set, so that
        // e.g. changing the batch size does not change the initial weights.
        let mut init_rng = StdRng::seed_from_u64(cfg.train.seed);
        let rng = TrainRng::seed_from_u64(cfg.train.seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
        let model = Model::build(&cfg, compute.engine, &compute.device, compute.info.backend == "cpu", &mut init_rng)?;
        let eval_z = evaluate::eval_latents(&cfg);
        let real_eval = evaluate::reference_set(&cfg, &target);
        Ok(Self {
            cfg,
            asked: compute.clone(),
            compute,
            target,
            half_width,
            model,
            rng,
            step: 0,
            cursor: 0,
            kept_g: None,
            eval_z,
            real_eval,
            last: StepStats::default(),
            history: Default::default(),
            record: true,
        })
    }

    /// The config it trains.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// Full steps done.
    pub fn steps_done(&self) -> u64 {
        self.step
    }
    /// Where this run trains.
    pub fn compute(&self) -> &Compute {
        &self.compute
    }
    /// What the run was started with (for a new run on the same terms).
    pub fn asked(&self) -> &Compute {
        &self.asked
    }
    /// The device it trains on, and why.
    pub fn backend(&self) -> &crate::backend::BackendInfo {
        &self.compute.info
    }
    /// The engine that runs this config.
    pub fn engine_kind(&self) -> EngineKind {
        self.model.kind()
    }
    /// The target distribution.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// Half-width of the view box.
    pub fn half_width(&self) -> f32 {
        self.half_width
    }
    /// What the latest recorded updates measured.
    pub fn last_stats(&self) -> &StepStats {
        &self.last
    }
    pub(crate) fn eval_z(&self) -> &[f32] {
        &self.eval_z
    }
    pub(crate) fn real_eval(&self) -> &[f32] {
        &self.real_eval
    }
    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    /// Applies a new configuration between two updates. What `Config::diff` calls an
    /// objective change takes effect at the next update with the weights untouched (an
    /// optimizer keeps its moments unless its kind changes); a rebuild (new data, networks
    /// or evaluation set) returns `Ok(true)` and the run restarts from step 0.
    pub fn set_config(&mut self, cfg: Config) -> Result<bool, TrainError> {
        if self.cfg.diff(&cfg).rebuild {
            *self = Trainer::new(cfg, self.asked.clone())?;
            return Ok(true);
        }
        self.half_width = view_half_width(&cfg, &self.target);
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
        let plan = schedule::plan(&self.cfg.schedule);
        match plan.get(self.cursor).unwrap_or(&plan[0]) {
            Update::D { .. } => Phase::UpdatingD,
            Update::G { .. } => Phase::UpdatingG,
        }
    }

    /// One full step of the schedule (or the rest of one started in slow motion).
    pub fn step(&mut self) -> Result<(), TrainError> {
        self.on_pool(|t| {
            loop {
                t.next_update()?;
                if t.cursor == 0 {
                    return Ok(());
                }
            }
        })
    }

    /// One single update (D or G, per the schedule) — the window's slow motion. The same
    /// updates as `step`, one at a time.
    pub fn sub_step(&mut self) -> Result<Phase, TrainError> {
        let phase = self.phase();
        self.on_pool(|t| t.next_update())?;
        Ok(phase)
    }

    /// Runs `f` on a thread of rayon's pool when the host engine trains: its batch chunks then
    /// fork with a cheap join instead of waking the pool from outside several times an update.
    fn on_pool<T: Send>(&mut self, f: impl FnOnce(&mut Self) -> T + Send) -> T {
        if self.model.kind() == EngineKind::Host { rayon::scope(|_| f(self)) } else { f(self) }
    }

    fn next_update(&mut self) -> Result<(), TrainError> {
        if self.cfg.model.kind == ModelKind::Diffusion {
            return self.diffusion_update();
        }
        let plan = schedule::plan(&self.cfg.schedule);
        if self.cursor >= plan.len() {
            self.cursor = 0; // the schedule shrank mid-step
        }
        self.run(plan[self.cursor])?;
        self.cursor += 1;
        if self.cursor == plan.len() {
            self.cursor = 0;
            self.step += 1;
        }
        Ok(())
    }

    /// A diffusion model's step: one denoising update on a batch of real points.
    fn diffusion_update(&mut self) -> Result<(), TrainError> {
        let x0 = self.target.sample(&mut self.rng, self.cfg.train.batch_size);
        let Model::Diffusion(model) = &mut self.model else { unreachable!("model.kind = diffusion builds a diffusion model") };
        let s = model.train_step(&x0, &mut self.rng, &self.cfg.optim.g);
        (self.last.g_loss, self.last.g_grad_norm) = (s.loss, s.grad_norm);
        self.check("the denoising loss", s.loss)?;
        self.cursor = 0;
        self.step += 1;
        Ok(())
    }

    /// Network evaluations per generated sample: 1 for a GAN, the sampler's steps for a
    /// diffusion model.
    pub fn nfe_per_sample(&self) -> usize {
        self.model.nfe_per_sample()
    }

    fn d_batch(&mut self, o: &Objective) -> DBatch {
        let sigma = self.instance_std();
        draw(&self.cfg, &self.target, sigma).d_batch(&mut self.rng, o)
    }

    fn g_batch(&mut self) -> GBatch {
        let sigma = self.instance_std();
        draw(&self.cfg, &self.target, sigma).g_batch(&mut self.rng)
    }

    fn clip(&self) -> Option<f32> {
        (self.cfg.loss.kind == LossKind::Wgan).then_some(self.cfg.loss.clip)
    }

    fn run(&mut self, u: Update) -> Result<(), TrainError> {
        let o = Objective::new(&self.cfg);
        match u {
            Update::D { pair_g } => {
                if pair_g {
                    self.kept_g = Some(self.g_gradients(&o));
                }
                let b = self.d_batch(&o);
                let stats = gan(&mut self.model).d_gradients(&b, &o, self.record);
                let clip = self.clip();
                gan(&mut self.model).apply_d(&self.cfg.optim.d, clip);
                if let Some(s) = stats {
                    (self.last.d_loss, self.last.d_real, self.last.d_fake, self.last.d_grad_norm) =
                        (s.loss, s.d_real, s.d_fake, s.grad_norm);
                    self.check("D loss", s.loss)?;
                }
            }
            Update::G { kept } => {
                let stats = match (kept, self.kept_g.take()) {
                    (true, Some(stats)) => stats,
                    _ => self.g_gradients(&o),
                };
                gan(&mut self.model).apply_g(&self.cfg.optim.g);
                if let Some(s) = stats {
                    (self.last.g_loss, self.last.g_grad_norm) = (s.loss, s.grad_norm);
                    self.check("G loss", s.loss)?;
                }
            }
        }
        Ok(())
    }

    /// G's loss gradient, kept in the engine for `apply_g`. With unrolling, D is first saved
    /// and advanced `unroll` updates (its optimizer state too); G's loss is taken against
    /// that copy, then D is restored. First-order: the copy's dependence on G is not
    /// differentiated.
    fn g_gradients(&mut self, o: &Objective) -> Option<UpdateStats> {
        let k = self.cfg.schedule.unroll;
        if k > 0 {
            gan(&mut self.model).save_d();
            for _ in 0..k {
                let b = self.d_batch(o);
                gan(&mut self.model).d_gradients(&b, o, false);
                let clip = self.clip();
                gan(&mut self.model).apply_d(&self.cfg.optim.d, clip);
            }
        }
        let b = self.g_batch();
        let stats = gan(&mut self.model).g_gradients(&b, o, self.record);
        if k > 0 {
            gan(&mut self.model).restore_d();
        }
        stats
    }

    fn check(&self, what: &str, v: f32) -> Result<(), TrainError> {
        if v.is_finite() { Ok(()) } else { Err(TrainError::Diverged { step: self.step, what: what.into() }) }
    }

    /// G applied to latents `z` (`[n, latent]`).
    pub fn generate(&self, z: &[f32]) -> Vec<f32> {
        self.model.generate(z)
    }

    /// Both networks' parameters on the host.
    pub fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        self.model.weights()
    }
}

/// The GAN's engine (only GAN updates call it).
fn gan(model: &mut Model) -> &mut dyn Engine {
    match model {
        Model::Gan(e) => e.as_mut(),
        Model::Diffusion(_) => unreachable!("a diffusion model trains through diffusion_update"),
    }
}

/// Times `cfg` on the GPU of `gpu` and on the CPU, and starts the run on the faster.
fn race(cfg: Config, gpu: Compute) -> Result<Trainer, TrainError> {
    const BUDGET: std::time::Duration = std::time::Duration::from_millis(400);
    let time = |compute: Compute| -> Result<f64, TrainError> {
        let mut t = Trainer::on(cfg.clone(), compute)?;
        t.record = false;
        t.step()?; // warm-up: kernels compiled, buffers allocated
        let _ = t.compute.device.sync();
        let start = std::time::Instant::now();
        let mut steps = 0u32;
        while steps < 3 || start.elapsed() < BUDGET {
            t.step()?;
            steps += 1;
        }
        let _ = t.compute.device.sync();
        Ok(f64::from(steps) / start.elapsed().as_secs_f64())
    };
    let gpu_asked = gpu.clone();
    let gpu = Compute { race_cpu: false, ..gpu };
    let cpu = gpu.cpu();
    let (gpu_sps, cpu_sps) = (time(gpu.clone())?, time(cpu.clone())?);
    let mut winner = if gpu_sps >= cpu_sps { gpu } else { cpu };
    winner.info.backend_choice = Some(crate::backend::BackendRace {
        cpu_steps_per_second: cpu_sps,
        gpu_steps_per_second: gpu_sps,
        chosen: winner.info.backend.clone(),
    });
    winner.info.reason = format!("GPU found; this config ran {gpu_sps:.0} steps/s there and {cpu_sps:.0} on the CPU");
    // Re-decided at every rebuild (`set_config`), i.e. when the architecture or data change.
    let mut t = Trainer::on(cfg, winner)?;
    t.asked = Compute { race_cpu: true, ..gpu_asked };
    Ok(t)
}

/// The view box's half-width: the config's, or one that fits the data.
fn view_half_width(cfg: &Config, target: &Target) -> f32 {
    if cfg.view.half_width > 0.0 { cfg.view.half_width } else { target.fit_half_width() }
}

/// What one update's draws depend on.
fn draw<'a>(cfg: &Config, target: &'a Target, sigma: f32) -> Draw<'a> {
    let (latent, latent_dim) = cfg.latent();
    Draw { target, batch: cfg.train.batch_size, latent, latent_dim, sigma, classes: cfg.classes() }
}
