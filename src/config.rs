//! The whole training configuration: one serde struct, read from TOML, changed with dotted
//! `--set key=value` overrides, validated in one place.
//!
//! Every field has a default so a preset only states what it changes. `ganscope config`
//! prints the full struct, so every key users can set is visible.

use serde::{Deserialize, Serialize};
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Which distribution.
    pub kind: DataKind,
    /// Ring: number of Gaussians on the circle.
    pub modes: usize,
    /// Ring: circle radius.
    pub radius: f32,
    /// Std of each mixture component (ring, grid, points) or of the noise (spiral, moons, line).
    pub std: f32,
    /// Grid: n for an n×n grid of Gaussians.
    pub grid_n: usize,
    /// Grid: distance between neighbouring centres.
    pub spacing: f32,
    /// Points: CSV file of `x,y` rows, each row a mixture centre with `std` ("" = none).
    pub points_file: PathBuf,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self { kind: DataKind::Ring, modes: 8, radius: 1.0, std: 0.02, grid_n: 5, spacing: 2.0, points_file: PathBuf::new() }
    }
}

/// A network's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// max(0, a).
    Relu,
    /// a, or `leak`·a below zero.
    LeakyRelu,
    /// tanh(a).
    Tanh,
}

/// How a network's weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// PyTorch's `nn.Linear` default: U(±1/√fan_in) for weights and biases.
    Default,
    /// Orthogonal weights times `init_gain`, zero biases (the unrolled-GAN notebook).
    Orthogonal,
    /// N(0, init_std²) weights, zero biases.
    Normal,
}

/// The distribution G's latent z is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatentKind {
    /// N(0, I).
    Gaussian,
    /// U[−1, 1] per coordinate.
    Uniform,
}

/// Shape of one MLP, as the network code sees it (built from the G or D section).
#[derive(Clone, Debug, PartialEq)]
pub struct NetShape {
    /// Number of hidden layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Negative slope for leaky-relu.
    pub leak: f32,
    /// Weight initialisation.
    pub init: Init,
    /// Gain of the orthogonal initialisation.
    pub init_gain: f32,
    /// Std of the normal initialisation.
    pub init_std: f32,
}

/// The generator (`[generator]`): an MLP from the latent z to the plane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Size of z.
    pub latent_dim: usize,
    /// The distribution of z.
    pub latent: LatentKind,
    /// Number of hidden layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Negative slope for leaky-relu.
    pub leak: f32,
    /// Weight initialisation.
    pub init: Init,
    /// Gain of the orthogonal initialisation.
    pub init_gain: f32,
    /// Std of the normal initialisation.
    pub init_std: f32,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            latent_dim: 2,
            latent: LatentKind::Gaussian,
            depth: 2,
            width: 128,
            activation: Activation::Relu,
            leak: 0.2,
            init: Init::Default,
            init_gain: 1.0,
            init_std: 0.02,
        }
    }
}

impl GeneratorConfig {
    /// The MLP's shape, as `nets.rs` builds it.
    pub fn shape(&self) -> NetShape {
        NetShape {
            depth: self.depth,
            width: self.width,
            activation: self.activation,
            leak: self.leak,
            init: self.init,
            init_gain: self.init_gain,
            init_std: self.init_std,
        }
    }
}

/// The discriminator (`[discriminator]`): an MLP from a point (or a pack of points) to one score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscriminatorConfig {
    /// Number of hidden layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Negative slope for leaky-relu.
    pub leak: f32,
    /// Weight initialisation.
    pub init: Init,
    /// Gain of the orthogonal initialisation.
    pub init_gain: f32,
    /// Std of the normal initialisation.
    pub init_std: f32,
    /// Divide every weight by its largest singular value, estimated by one power iteration per
    /// D update (PyTorch runs one per forward call in training mode).
    pub spectral_norm: bool,
    /// Append the batch's mean feature std to the last hidden layer (a minibatch feature).
    pub minibatch_stddev: bool,
    /// Minibatch discrimination (Salimans et al. 2016): this many kernels (0 = off), each
    /// comparing a sample with every other one in its batch, appended to the last hidden layer.
    pub minibatch_kernels: usize,
    /// Dimension of each minibatch-discrimination kernel (the C of T ∈ R^{A×B×C}).
    pub minibatch_kernel_dim: usize,
    /// PacGAN: D judges `pack` samples at once (its input is 2·pack wide).
    pub pack: usize,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        let g = GeneratorConfig::default();
        Self {
            depth: g.depth,
            width: g.width,
            activation: g.activation,
            leak: g.leak,
            init: g.init,
            init_gain: g.init_gain,
            init_std: g.init_std,
            spectral_norm: false,
            minibatch_stddev: false,
            minibatch_kernels: 0,
            minibatch_kernel_dim: 5,
            pack: 1,
        }
    }
}

impl DiscriminatorConfig {
    /// The MLP's shape, as `nets.rs` builds it.
    pub fn shape(&self) -> NetShape {
        NetShape {
            depth: self.depth,
            width: self.width,
            activation: self.activation,
            leak: self.leak,
            init: self.init,
            init_gain: self.init_gain,
            init_std: self.init_std,
        }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// Which game.
    pub kind: LossKind,
    /// WGAN: clip every D weight to [−clip, clip] after each D step.
    pub clip: f32,
    /// WGAN-GP: λ of (‖∇D(x̂)‖ − 1)².
    pub gp_lambda: f32,
    /// One-sided label smoothing: the real target becomes 1 − s (logistic and LS losses).
    pub label_smoothing: f32,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self { kind: LossKind::Ns, clip: 0.01, gp_lambda: 10.0, label_smoothing: 0.0 }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// σ of the Gaussian noise added to every D input, real and fake.
    pub instance_std: f32,
    /// How σ goes from `instance_std` to `floor`.
    pub anneal: Anneal,
    /// Steps over which σ anneals.
    pub anneal_steps: u64,
    /// σ at the end of the annealing.
    pub floor: f32,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self { instance_std: 0.0, anneal: Anneal::Constant, anneal_steps: 10_000, floor: 0.0 }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// D updates per step (n_D).
    pub d_steps: usize,
    /// G updates per step.
    pub g_steps: usize,
    /// Alternating or simultaneous updates.
    pub mode: ScheduleMode,
    /// Unrolled GAN, first-order: G's loss is taken against a copy of D advanced this many
    /// steps (0 = off). The dependence of the unrolled D on G is not differentiated.
    pub unroll: usize,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self { d_steps: 1, g_steps: 1, mode: ScheduleMode::Alternating, unroll: 0 }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Which update rule.
    pub kind: OptimKind,
    /// Learning rate.
    pub lr: f32,
    /// Adam's first-moment decay.
    pub beta1: f32,
    /// Adam's second-moment decay.
    pub beta2: f32,
    /// SGD and RMSProp momentum.
    pub momentum: f32,
    /// RMSProp's smoothing constant (PyTorch's `alpha`).
    pub alpha: f32,
    /// The denominator's ε (Adam, RMSProp).
    pub eps: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self { kind: OptimKind::Adam, lr: 1e-3, beta1: 0.5, beta2: 0.999, momentum: 0.0, alpha: 0.99, eps: 1e-8 }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Samples per update (reals and fakes each).
    pub batch_size: usize,
    /// Seed of the initial weights and of every random draw: a seed replays bit for bit.
    pub seed: u64,
    /// Default run length for `ganscope train` (overridden by `--steps`).
    pub steps: u64,
    /// Steps between evaluations.
    pub eval_every: u64,
    /// Size of the fixed evaluation z batch.
    pub eval_samples: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { batch_size: 256, seed: 0, steps: 5000, eval_every: 500, eval_samples: 2500 }
    }
}

/// What the window and the grid metrics look at (`[view]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// Half-width of the square view box; 0 = fit the dataset.
    pub half_width: f32,
    /// Resolution of the decision-surface grid (N×N).
    pub surface_n: usize,
    /// Number of cells per side of the KL/JS histogram over the view box.
    pub hist_bins: usize,
}

impl Default for ViewConfig {
    fn default() -> Self {
        Self { half_width: 0.0, surface_n: 128, hist_bins: 50 }
    }
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// GAN or diffusion.
    pub kind: ModelKind,
    /// Diffusion steps T.
    pub diffusion_steps: usize,
    /// The diffusion model's noise schedule.
    pub beta_schedule: BetaSchedule,
    /// The diffusion model's sampler.
    pub sampler: Sampler,
    /// DDIM's number of steps (network evaluations per sample).
    pub ddim_steps: usize,
    /// Size of the sinusoidal time embedding fed to the network beside the point.
    pub time_embedding: usize,
    /// Conditional GAN (Mirza & Osindero 2014): G and D also receive the mixture component's
    /// label, one-hot, concatenated to their inputs; a fake's label is the one G was asked for.
    /// Ring and grid data, no packing.
    pub conditional: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            kind: ModelKind::Gan,
            diffusion_steps: 100,
            beta_schedule: BetaSchedule::Linear,
            sampler: Sampler::Ancestral,
            ddim_steps: 20,
            time_embedding: 16,
            conditional: false,
        }
    }
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
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        cfg.normalized()
    }

    /// Reads a config from an already-parsed TOML table.
    pub fn from_table(table: toml::Table) -> Result<Self, ConfigError> {
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

    /// Applies one `key=value` override, e.g. `loss.kind=wgan-gp` or `optim.d.lr=1e-4`.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        self.set_all(&[assignment])
    }

    /// Applies several overrides, then validates once (so `data.kind=points` may come before
    /// `data.points_file=…`).
    pub fn set_all<S: AsRef<str>>(&mut self, assignments: &[S]) -> Result<(), ConfigError> {
        let mut next = self.clone();
        for a in assignments {
            let a = a.as_ref();
            let (key, value) = a.split_once('=').ok_or_else(|| ConfigError::BadSet(a.into()))?;
            next.set_unchecked(key.trim(), value.trim())?;
        }
        *self = next.normalized()?;
        Ok(())
    }

    /// Sets one key (type-checked, not range-checked).
    pub fn set_key(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        self.set_all(&[format!("{key}={value}")])
    }

    fn set_unchecked(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let key = alias(key);
        let mut root = toml::Value::try_from(&*self).expect("config always serialises");
        // The LR shorthands are absent until set: accept them.
        let known_optional = ["optim.g_lr", "optim.d_lr"];
        let slot =
            lookup_mut(&mut root, &key, known_optional.contains(&key.as_str())).ok_or_else(|| ConfigError::UnknownKey(key.clone()))?;
        if slot.is_table() {
            return Err(ConfigError::BadValue { key, msg: "this is a section, not a value".into() });
        }
        *slot = parse_value(value, slot);
        *self = root.try_into().map_err(|e: toml::de::Error| ConfigError::BadValue { key: key.clone(), msg: e.message().to_string() })?;
        Ok(())
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

    /// Checks every value's range and the combinations that cannot run, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError::BadValue { key: key.into(), msg: msg.into() });
        let positive = |key: &str, v: f32| -> Result<(), ConfigError> {
            if v.is_finite() && v > 0.0 { Ok(()) } else { bad(key, "must be a finite number > 0") }
        };
        let non_negative = |key: &str, v: f32| -> Result<(), ConfigError> {
            if v.is_finite() && v >= 0.0 { Ok(()) } else { bad(key, "must be a finite number ≥ 0") }
        };
        let m = &self.model;
        if !(2..=4000).contains(&m.diffusion_steps) {
            return bad("model.diffusion_steps", "must be between 2 and 4000");
        }
        if !(1..=m.diffusion_steps).contains(&m.ddim_steps) {
            return bad("model.ddim_steps", "must be between 1 and model.diffusion_steps");
        }
        if !(2..=256).contains(&m.time_embedding) || !m.time_embedding.is_multiple_of(2) {
            return bad("model.time_embedding", "must be an even number between 2 and 256");
        }
        let d = &self.data;
        if m.conditional {
            if m.kind != ModelKind::Gan {
                return bad("model.conditional", "conditioning is for a GAN (model.kind = gan)");
            }
            if !matches!(d.kind, DataKind::Ring | DataKind::Grid) {
                return bad("model.conditional", "needs labelled data: data.kind = ring or grid");
            }
            if self.discriminator.pack != 1 {
                return bad("model.conditional", "cannot be combined with packing (discriminator.pack = 1)");
            }
        }
        if d.kind == DataKind::Ring && !(1..=1000).contains(&d.modes) {
            return bad("data.modes", "must be between 1 and 1000");
        }
        if d.kind == DataKind::Grid && !(1..=30).contains(&d.grid_n) {
            return bad("data.grid_n", "must be between 1 and 30");
        }
        if d.kind == DataKind::Points && d.points_file.as_os_str().is_empty() {
            return bad("data.points_file", "data.kind = points needs a CSV file of x,y rows");
        }
        positive("data.radius", d.radius)?;
        positive("data.std", d.std)?;
        positive("data.spacing", d.spacing)?;
        for (name, net) in [("generator", self.generator.shape()), ("discriminator", self.discriminator.shape())] {
            if net.depth > 16 {
                return bad(&format!("{name}.depth"), "at most 16 hidden layers");
            }
            if !(1..=4096).contains(&net.width) {
                return bad(&format!("{name}.width"), "must be between 1 and 4096");
            }
            non_negative(&format!("{name}.leak"), net.leak)?;
            positive(&format!("{name}.init_gain"), net.init_gain)?;
            positive(&format!("{name}.init_std"), net.init_std)?;
        }
        if !(1..=1024).contains(&self.generator.latent_dim) {
            return bad("generator.latent_dim", "must be between 1 and 1024");
        }
        if !(1..=16).contains(&self.discriminator.pack) {
            return bad("discriminator.pack", "must be between 1 and 16");
        }
        let dc = &self.discriminator;
        if dc.minibatch_kernels > 0 {
            if dc.minibatch_kernels > 256 {
                return bad("discriminator.minibatch_kernels", "at most 256 kernels");
            }
            if !(1..=64).contains(&dc.minibatch_kernel_dim) {
                return bad("discriminator.minibatch_kernel_dim", "must be between 1 and 64");
            }
            if dc.depth == 0 {
                return bad("discriminator.minibatch_kernels", "needs a hidden layer to compare (discriminator.depth ≥ 1)");
            }
            // Every pair of a batch's rows is compared: rows² · kernels · dim numbers.
            let rows = (self.train.batch_size / dc.pack) as u64;
            if rows * rows * (dc.minibatch_kernels * dc.minibatch_kernel_dim) as u64 > 1 << 28 {
                return bad(
                    "discriminator.minibatch_kernels",
                    "too costly for this batch: (batch rows)² × kernels × kernel dim must stay under 2^28; use fewer kernels or a smaller batch",
                );
            }
        }
        let l = &self.loss;
        non_negative("loss.clip", l.clip)?;
        non_negative("loss.gp_lambda", l.gp_lambda)?;
        if !(0.0..0.5).contains(&l.label_smoothing) {
            return bad("loss.label_smoothing", "must be in [0, 0.5)");
        }
        non_negative("reg.r1", self.reg.r1)?;
        non_negative("reg.r2", self.reg.r2)?;
        non_negative("reg.dragan", self.reg.dragan)?;
        non_negative("reg.gp", self.reg.gp)?;
        non_negative("noise.instance_std", self.noise.instance_std)?;
        non_negative("noise.floor", self.noise.floor)?;
        let s = &self.schedule;
        if !(1..=100).contains(&s.d_steps) {
            return bad("schedule.d_steps", "must be between 1 and 100");
        }
        if !(1..=100).contains(&s.g_steps) {
            return bad("schedule.g_steps", "must be between 1 and 100");
        }
        if s.unroll > 50 {
            return bad("schedule.unroll", "at most 50 unrolling steps");
        }
        for (name, o) in [("optim.g", &self.optim.g), ("optim.d", &self.optim.d)] {
            positive(&format!("{name}.lr"), o.lr)?;
            if !(0.0..1.0).contains(&o.beta1) {
                return bad(&format!("{name}.beta1"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.beta2) {
                return bad(&format!("{name}.beta2"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.momentum) {
                return bad(&format!("{name}.momentum"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.alpha) {
                return bad(&format!("{name}.alpha"), "must be in [0, 1)");
            }
            positive(&format!("{name}.eps"), o.eps)?;
        }
        let t = &self.train;
        if !(1..=65_536).contains(&t.batch_size) {
            return bad("train.batch_size", "must be between 1 and 65536");
        }
        if !t.batch_size.is_multiple_of(self.discriminator.pack) {
            return bad("train.batch_size", "must be a multiple of discriminator.pack");
        }
        if t.eval_every == 0 {
            return bad("train.eval_every", "must be ≥ 1");
        }
        if !(1..=1_000_000).contains(&t.eval_samples) {
            return bad("train.eval_samples", "must be between 1 and 1000000");
        }
        if self.view.half_width < 0.0 || !self.view.half_width.is_finite() {
            return bad("view.half_width", "must be ≥ 0 (0 fits the data)");
        }
        if !(2..=1024).contains(&self.view.surface_n) {
            return bad("view.surface_n", "must be between 2 and 1024");
        }
        if !(2..=1000).contains(&self.view.hist_bins) {
            return bad("view.hist_bins", "must be between 2 and 1000");
        }
        Ok(())
    }

    /// What going from `self` to `new` means for a run in progress — the one place that
    /// decides whether a change keeps the weights (trainer, worker and window all ask here).
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        let mut rebuild = Vec::new();
        if self.data != new.data {
            rebuild.push("dataset");
        }
        if self.model != new.model {
            rebuild.push("model");
        }
        if self.generator != new.generator || self.discriminator != new.discriminator {
            rebuild.push("architecture");
        }
        if self.train.seed != new.train.seed {
            rebuild.push("seed");
        }
        if self.train.eval_samples != new.train.eval_samples {
            rebuild.push("evaluation batch");
        }
        ConfigDiff { rebuild: !rebuild.is_empty(), why: rebuild }
    }

    /// Settings that are valid but have no effect, worth a notice (e.g. label smoothing under
    /// a critic loss).
    pub fn notices(&self) -> Vec<String> {
        let mut n = Vec::new();
        if self.loss.label_smoothing > 0.0 && !self.loss.kind.takes_label_smoothing() {
            n.push(format!(
                "loss.label_smoothing = {} has no effect with the {:?} loss (it lowers the real label of the logistic and least-squares losses only)",
                self.loss.label_smoothing, self.loss.kind
            ));
        }
        n
    }
}

/// The consequence of a config change (see `Config::diff`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Fresh networks needed: the run restarts at step 0.
    pub rebuild: bool,
    /// What changed that needs it.
    pub why: Vec<&'static str>,
}

/// Short names kept for scripts: `optim.g_lr` is `optim.g.lr`.
fn alias(key: &str) -> String {
    match key {
        "optim.g_lr" => "optim.g.lr".into(),
        "optim.d_lr" => "optim.d.lr".into(),
        "train.seed" | "seed" => "train.seed".into(),
        other => other.to_string(),
    }
}

fn lookup_mut<'a>(root: &'a mut toml::Value, key: &str, create_leaf: bool) -> Option<&'a mut toml::Value> {
    let mut parts = key.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        let table = node.as_table_mut()?;
        if parts.peek().is_none() && create_leaf && !table.contains_key(part) {
            table.insert(part.to_string(), toml::Value::String(String::new()));
        }
        node = table.get_mut(part)?;
    }
    Some(node)
}

/// Parses `text` as the same TOML type as the value it replaces, so `--set data.kind=grid`
/// needs no quotes and `--set loss.clip=1` still becomes a float.
fn parse_value(text: &str, current: &toml::Value) -> toml::Value {
    use toml::Value;
    match current {
        Value::Float(_) => text.parse::<f64>().map(Value::Float).unwrap_or_else(|_| Value::String(text.into())),
        Value::Integer(_) => text.parse::<i64>().map(Value::Integer).unwrap_or_else(|_| Value::String(text.into())),
        Value::Boolean(_) => text.parse::<bool>().map(Value::Boolean).unwrap_or_else(|_| Value::String(text.into())),
        _ => {
            // Shorthand LRs are absent (None) until set; give them a number.
            if let Ok(f) = text.parse::<f64>()
                && !text.chars().all(|c| c.is_ascii_alphabetic())
            {
                return Value::Float(f);
            }
            Value::String(text.trim_matches('"').into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditioning_needs_labelled_unpacked_gan_data() {
        let mut c = Config::default();
        c.set("model.conditional=true").unwrap();
        assert_eq!(c.classes(), 8);
        c.set("data.kind=grid").unwrap();
        assert_eq!(c.classes(), 25);
        let err = Config::default().set_all(&["model.conditional=true", "discriminator.pack=2"]).unwrap_err().to_string();
        assert!(err.contains("model.conditional") && err.contains("packing"), "{err}");
        let err = Config::default().set_all(&["model.conditional=true", "data.kind=moons"]).unwrap_err().to_string();
        assert!(err.contains("labelled data"), "{err}");
        assert_eq!(Config::default().classes(), 0);
    }

    #[test]
    fn set_changes_nested_keys() {
        let mut c = Config::default();
        c.set("data.kind=grid").unwrap();
        c.set("loss.kind=wgan-gp").unwrap();
        c.set("optim.d_lr=1e-4").unwrap();
        c.set("schedule.d_steps=5").unwrap();
        c.set("noise.instance_std=0.1").unwrap();
        assert_eq!(c.data.kind, DataKind::Grid);
        assert_eq!(c.loss.kind, LossKind::WganGp);
        assert_eq!(c.optim.d.lr, 1e-4);
        assert_eq!(c.schedule.d_steps, 5);
        assert_eq!(c.noise.instance_std, 0.1);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::default().set("loss.kindd=ns").unwrap_err().to_string();
        assert!(err.contains("loss.kindd"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = Config::default().set("loss.kind=banana").unwrap_err().to_string();
        assert!(err.contains("loss.kind"), "{err}");
        let err = Config::default().set("train.batch_size=-3").unwrap_err().to_string();
        assert!(err.contains("train.batch_size"), "{err}");
        let err = Config::default().set("optim.g.lr=0").unwrap_err().to_string();
        assert!(err.contains("optim.g.lr"), "{err}");
    }

    #[test]
    fn a_setting_without_effect_gets_a_notice() {
        let mut c = Config::default();
        c.set("loss.label_smoothing=0.1").unwrap();
        assert!(c.notices().is_empty(), "smoothing applies to the NS loss");
        c.set("loss.kind=hinge").unwrap();
        let n = c.notices();
        assert!(n.len() == 1 && n[0].contains("label_smoothing"), "{n:?}");
    }

    #[test]
    fn diff_says_what_rebuilds() {
        let a = Config::default();
        let mut b = a.clone();
        b.set_all(&["loss.kind=wgan-gp", "optim.d.lr=1e-4", "noise.instance_std=0.1"]).unwrap();
        assert!(!a.diff(&b).rebuild, "objective, optimizer and noise changes keep the weights");
        b.set("data.kind=grid").unwrap();
        b.set("train.seed=5").unwrap();
        assert_eq!(a.diff(&b).why, vec!["dataset", "seed"]);
    }

    #[test]
    fn toml_round_trip() {
        let mut c = Config::default();
        c.set("data.points_file=/tmp/x.csv").unwrap();
        let back = Config::from_toml(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }
}
