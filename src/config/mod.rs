//! The whole training configuration: one serde struct, read from TOML, changed with dotted
//! `--set key=value` overrides, validated in one place.
//!
//! Every field has a default, stated once in its `#[default(…)]` under its doc, so a preset
//! only states what it changes. `ganscope config` prints the full struct (those defaults when
//! nothing is set), so every key users can set is visible.

mod keys;
mod networks;
#[cfg(test)]
mod tests;
mod validate;

pub use networks::{Activation, DiscriminatorConfig, GeneratorConfig, Init, LatentKind, NetShape};
pub use validate::ConfigDiff;

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use std::path::PathBuf;

/// Which target distribution to learn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// Gaussians evenly spaced on a circle (`modes`, `radius`, `std`).
    Ring,
    /// An n×n grid of Gaussians (`grid_n`, `spacing`, `std`).
    Grid,
    /// A noisy two-turn spiral.
    Spiral,
    /// Two interleaved half-moons.
    Moons,
    /// A noisy line segment.
    Line,
    /// One standard Gaussian.
    Gaussian,
    /// A user's points (`points_file`), each the centre of a small Gaussian.
    Points,
}

/// The target distribution (`[data]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Which distribution.
    #[default(DataKind::Ring)]
    pub kind: DataKind,
    /// Ring: number of Gaussians on the circle.
    #[default(8)]
    pub modes: usize,
    /// Ring: circle radius.
    #[default(1.0)]
    pub radius: f32,
    /// Std of each mixture component (ring, grid, points) or of the noise (spiral, moons, line).
    #[default(0.02)]
    pub std: f32,
    /// Grid: n for an n×n grid of Gaussians.
    #[default(5)]
    pub grid_n: usize,
    /// Grid: distance between neighbouring centres.
    #[default(2.0)]
    pub spacing: f32,
    /// Points: CSV file of `x,y` rows, each row a mixture centre with `std` ("" = none).
    #[default(PathBuf::new())]
    pub points_file: PathBuf,
}

/// The GAN game D and G play (`loss.kind`); each is one function in `loss.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Goodfellow's original: G minimises log(1 − D(G(z))) (saturating).
    Minimax,
    /// Non-saturating: G maximises log D(G(z)).
    Ns,
    /// Least squares (LSGAN, targets 0 and 1).
    Ls,
    /// Hinge: D minimises relu(1 − D(x)) + relu(1 + D(G(z))), G maximises D(G(z)).
    Hinge,
    /// WGAN with weight clipping.
    Wgan,
    /// WGAN with the gradient penalty on random interpolates.
    WganGp,
}

impl LossKind {
    /// Losses whose D output is an unbounded critic value rather than a logit.
    pub fn is_critic(self) -> bool {
        matches!(self, LossKind::Wgan | LossKind::WganGp | LossKind::Hinge)
    }
    /// WGAN losses, whose critic gap estimates the Wasserstein distance.
    pub fn is_wasserstein(self) -> bool {
        matches!(self, LossKind::Wgan | LossKind::WganGp)
    }
    /// Losses whose D output is a logit (reported as a probability σ(D)).
    pub fn is_logistic(self) -> bool {
        matches!(self, LossKind::Minimax | LossKind::Ns)
    }
    /// Losses with a real-label target that one-sided label smoothing can lower.
    pub fn takes_label_smoothing(self) -> bool {
        matches!(self, LossKind::Minimax | LossKind::Ns | LossKind::Ls)
    }
}

/// The loss and its constants (`[loss]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// Which game.
    #[default(LossKind::Ns)]
    pub kind: LossKind,
    /// WGAN: clip every D weight to [−clip, clip] after each D step.
    #[default(0.01)]
    pub clip: f32,
    /// WGAN-GP: λ of (‖∇D(x̂)‖ − 1)².
    #[default(10.0)]
    pub gp_lambda: f32,
    /// One-sided label smoothing: the real target becomes 1 − s (logistic and LS losses).
    #[default(0.0)]
    pub label_smoothing: f32,
}

/// D regularisers, combinable with any loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegConfig {
    /// R1: γ/2 · E‖∇D(x_real)‖².
    pub r1: f32,
    /// R2: γ/2 · E‖∇D(x_fake)‖².
    pub r2: f32,
    /// DRAGAN: λ · E(‖∇D(x̃)‖ − 1)² at random points x̃ between each real x and x + δ,
    /// δ = 0.5·std(x)·U[0, 1] (one std over the batch; Kodali et al.'s code).
    pub dragan: f32,
    /// The WGAN-GP penalty λ · E(‖∇D(x̂)‖ − 1)² at random interpolates of reals and fakes, with
    /// any loss (`loss.kind = wgan-gp` adds `loss.gp_lambda` of it by itself).
    pub gp: f32,
}

/// How the instance noise's σ changes over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anneal {
    /// σ stays at `instance_std`.
    Constant,
    /// Straight line from `instance_std` to `floor` over `anneal_steps`.
    Linear,
    /// `floor + (instance_std − floor)·exp(−5t/anneal_steps)`: ~1 % left at `anneal_steps`.
    Exponential,
}

/// Instance noise (`[noise]`): Gaussian noise on D's inputs, optionally annealed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// σ of the Gaussian noise added to every D input, real and fake.
    #[default(0.0)]
    pub instance_std: f32,
    /// How σ goes from `instance_std` to `floor`.
    #[default(Anneal::Constant)]
    pub anneal: Anneal,
    /// Steps over which σ anneals.
    #[default(10_000)]
    pub anneal_steps: u64,
    /// σ at the end of the annealing.
    #[default(0.0)]
    pub floor: f32,
}

/// How D and G updates interleave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleMode {
    /// D steps, then G steps, each seeing the other's latest weights.
    Alternating,
    /// D and G gradients both taken from the same weights, then both applied.
    Simultaneous,
}

/// The D/G update schedule (`[schedule]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// D updates per step (n_D).
    #[default(1)]
    pub d_steps: usize,
    /// G updates per step.
    #[default(1)]
    pub g_steps: usize,
    /// Alternating or simultaneous updates.
    #[default(ScheduleMode::Alternating)]
    pub mode: ScheduleMode,
    /// Unrolled GAN, first-order: G's loss is taken against a copy of D advanced this many
    /// steps (0 = off). The dependence of the unrolled D on G is not differentiated.
    #[default(0)]
    pub unroll: usize,
}

/// The optimizer's update rule (PyTorch semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimKind {
    /// SGD, with optional momentum.
    Sgd,
    /// Adam (β₁, β₂, ε).
    Adam,
    /// RMSProp (α, ε, optional momentum).
    Rmsprop,
}

/// One network's optimizer. PyTorch semantics (SGD without dampening, RMSProp without
/// momentum unless set), so published setups mean what they say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Which update rule.
    #[default(OptimKind::Adam)]
    pub kind: OptimKind,
    /// Learning rate.
    #[default(1e-3)]
    pub lr: f32,
    /// Adam's first-moment decay.
    #[default(0.5)]
    pub beta1: f32,
    /// Adam's second-moment decay.
    #[default(0.999)]
    pub beta2: f32,
    /// SGD and RMSProp momentum.
    #[default(0.0)]
    pub momentum: f32,
    /// RMSProp's smoothing constant (PyTorch's `alpha`).
    #[default(0.99)]
    pub alpha: f32,
    /// The denominator's ε (Adam, RMSProp).
    #[default(1e-8)]
    pub eps: f32,
}

/// Both networks' optimizers (`[optim.g]`, `[optim.d]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// The generator's optimizer.
    pub g: OptimizerConfig,
    /// The discriminator's optimizer.
    pub d: OptimizerConfig,
    /// Shorthands for `optim.g.lr` / `optim.d.lr`, applied when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub g_lr: Option<f32>,
    /// Shorthand for `optim.d.lr`, applied when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d_lr: Option<f32>,
}

/// The training run (`[train]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Samples per update (reals and fakes each).
    #[default(256)]
    pub batch_size: usize,
    /// Seed of the initial weights and of every random draw: a seed replays bit for bit.
    #[default(0)]
    pub seed: u64,
    /// Default run length for `ganscope train` (overridden by `--steps`).
    #[default(5000)]
    pub steps: u64,
    /// Steps between evaluations.
    #[default(500)]
    pub eval_every: u64,
    /// Size of the fixed evaluation z batch.
    #[default(2500)]
    pub eval_samples: usize,
}

/// What the window and the grid metrics look at (`[view]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// Half-width of the square view box; 0 = fit the dataset.
    #[default(0.0)]
    pub half_width: f32,
    /// Resolution of the decision-surface grid (N×N).
    #[default(128)]
    pub surface_n: usize,
    /// Number of cells per side of the KL/JS histogram over the view box.
    #[default(50)]
    pub hist_bins: usize,
}

/// The kind of generative model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// A generator and a discriminator (everything else in this config).
    #[default]
    Gan,
    /// A denoising diffusion model (DDPM): the generator's network, given a noisy point and
    /// the time, predicts the noise. The discriminator, loss and schedule are unused.
    Diffusion,
}

/// The diffusion model's noise schedule β_t.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BetaSchedule {
    /// DDPM's linear β from 1e-4 to 0.02 over 1,000 steps, rescaled by 1000/T.
    #[default]
    Linear,
    /// Nichol & Dhariwal 2021: ᾱ_t = cos²(((t/T + s)/(1 + s))·π/2) / ᾱ at 0, s = 0.008.
    Cosine,
}

/// How the diffusion model draws samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampler {
    /// DDPM's ancestral sampling: T network evaluations per sample.
    #[default]
    Ancestral,
    /// DDIM (η = 0): deterministic, `ddim_steps` network evaluations per sample.
    Ddim,
}

/// What kind of generative model trains (`model.kind`), and the diffusion model's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// GAN or diffusion.
    #[default(ModelKind::Gan)]
    pub kind: ModelKind,
    /// Diffusion steps T.
    #[default(100)]
    pub diffusion_steps: usize,
    /// The diffusion model's noise schedule.
    #[default(BetaSchedule::Linear)]
    pub beta_schedule: BetaSchedule,
    /// The diffusion model's sampler.
    #[default(Sampler::Ancestral)]
    pub sampler: Sampler,
    /// DDIM's number of steps (network evaluations per sample).
    #[default(20)]
    pub ddim_steps: usize,
    /// Size of the sinusoidal time embedding fed to the network beside the point.
    #[default(16)]
    pub time_embedding: usize,
    /// Conditional GAN (Mirza & Osindero 2014): G and D also receive the mixture component's
    /// label, one-hot, concatenated to their inputs; a fake's label is the one G was asked for.
    /// Ring and grid data, no packing.
    #[default(false)]
    pub conditional: bool,
}

/// Everything that defines a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// GAN or diffusion, and the model's settings.
    pub model: ModelConfig,
    /// The target distribution.
    pub data: DataConfig,
    /// The generator.
    pub generator: GeneratorConfig,
    /// The discriminator.
    pub discriminator: DiscriminatorConfig,
    /// The loss.
    pub loss: LossConfig,
    /// D regularisers (R1, R2, DRAGAN, gradient penalty).
    pub reg: RegConfig,
    /// Instance noise.
    pub noise: NoiseConfig,
    /// The D/G update schedule.
    pub schedule: ScheduleConfig,
    /// The optimizers.
    pub optim: OptimConfig,
    /// Batch size, seed, run length, evaluation cadence.
    pub train: TrainConfig,
    /// The view box and grid resolutions.
    pub view: ViewConfig,
}

/// A config that cannot be used, with the key and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key that no section has.
    #[error("unknown config key `{0}`")]
    UnknownKey(String),
    /// A value out of range or of the wrong kind.
    #[error("bad value for `{key}`: {msg}")]
    BadValue {
        /// The key, dotted (`optim.d.lr`).
        key: String,
        /// What is wrong with its value.
        msg: String,
    },
    /// A `--set` argument without `=`.
    #[error("`--set` wants key=value, got `{0}`")]
    BadSet(String),
    /// A TOML file that does not parse or has unknown fields.
    #[error("config file: {0}")]
    Parse(String),
}

impl Config {
    /// Reads a TOML config (a preset file or a user's file).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        // Unknown keys of the networks' sections first (they are flattened, so serde cannot
        // refuse them), then the whole file with serde's line numbers.
        networks::check_sections(text).map_err(ConfigError::Parse)?;
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        cfg.normalized()
    }

    /// Reads a config from an already-parsed TOML table.
    pub fn from_table(table: toml::Table) -> Result<Self, ConfigError> {
        networks::check_table(&table).map_err(ConfigError::Parse)?;
        let cfg: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        cfg.normalized()
    }

    /// The number of labels a conditional GAN sees (its one-hot width): the mixture's
    /// components; 0 when unconditional.
    pub fn classes(&self) -> usize {
        match (self.model.conditional, self.data.kind) {
            (false, _) => 0,
            (true, DataKind::Grid) => self.data.grid_n * self.data.grid_n,
            (true, _) => self.data.modes,
        }
    }

    /// The generator's input: its latent distribution and size. A diffusion model starts from a
    /// standard normal point in the plane.
    pub fn latent(&self) -> (LatentKind, usize) {
        match self.model.kind {
            ModelKind::Gan => (self.generator.latent, self.generator.latent_dim),
            ModelKind::Diffusion => (LatentKind::Gaussian, 2),
        }
    }

    /// The config as TOML (every key, as `ganscope config` prints it).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config always serialises")
    }

    /// Folds shorthands into their full keys and checks ranges.
    fn normalized(mut self) -> Result<Self, ConfigError> {
        if let Some(lr) = self.optim.g_lr.take() {
            self.optim.g.lr = lr;
        }
        if let Some(lr) = self.optim.d_lr.take() {
            self.optim.d.lr = lr;
        }
        self.validate()?;
        Ok(self)
    }
}
