//! The two ways a training update is computed, behind one interface.
//!
//! - [`host::HostEngine`]: the CPU fast path. Both MLPs' forward and backward passes written
//!   out over host buffers (`host_mlp.rs`, one `gemm` per matrix product), the batch split
//!   across threads. ReLU-family, tanh and sigmoid networks, spectral norm
//!   (`host_spectral.rs`), the minibatch-stddev feature and minibatch discrimination
//!   (`host_head.rs`, `host_kernels.rs`; the kernels without a gradient penalty).
//! - [`burn::BurnEngine`]: burn tensors with autodiff, on any burn device (wgpu included) and
//!   for every network the config can describe.
//!
//! What an update *is* — the batch and the order of its random draws (`trainer/batch.rs`), the
//! losses and penalties (`objective.rs`), the D/G schedule (`trainer/schedule.rs`) — is written
//! once, above this interface. An engine owns the two networks' parameters and their optimizer
//! state; nothing else holds a copy.

pub mod burn;
pub mod host;
pub mod host_head;
pub mod host_kernels;
pub mod host_mlp;
pub mod host_ops;
pub mod host_spectral;
pub mod host_units;

use crate::batch::{DBatch, GBatch};
use crate::config::{Config, OptimizerConfig};
use crate::objective::Objective;
use ::burn::tensor::Device;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// Which engine to train with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineChoice {
    /// The host fast path when the device is the CPU and the networks allow it, else burn.
    #[default]
    Auto,
    /// The host fast path; an error when the config needs something it does not do.
    Host,
    /// burn's autodiff, whatever the networks.
    Burn,
}

/// The engine that runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// The CPU fast path (`host.rs`).
    Host,
    /// burn's autodiff (`burn.rs`).
    Burn,
}

impl EngineKind {
    /// The engine's name in words (status bar, summaries).
    pub fn describe(self) -> &'static str {
        match self {
            EngineKind::Host => "host fast path",
            EngineKind::Burn => "burn autodiff",
        }
    }
}

/// A config an engine cannot run, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The host engine was asked for a network it does not implement.
    #[error("the host engine cannot run this config: {0} (use the burn engine)")]
    HostUnsupported(String),
    /// The diffusion model was asked of the burn engine.
    #[error("the diffusion model (model.kind = diffusion) runs on the host engine only; drop --engine burn")]
    DiffusionHostOnly,
}

/// An engine's learnable state: parameters (w0, b0, w1, b1, … per network) and optimizer state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// G's parameters.
    pub g: Vec<Vec<f32>>,
    /// D's parameters.
    pub d: Vec<Vec<f32>>,
    /// G's optimizer state.
    pub g_opt: crate::optim::OptimizerState,
    /// D's optimizer state.
    pub d_opt: crate::optim::OptimizerState,
}

/// Checks that `saved` parameters have the shapes of `current` ones.
pub fn check_shapes(net: &str, current: &[Vec<f32>], saved: &[Vec<f32>]) -> Result<(), String> {
    let sizes = |v: &[Vec<f32>]| v.iter().map(Vec::len).collect::<Vec<_>>();
    if sizes(current) != sizes(saved) {
        return Err(format!("{net}'s saved parameters have sizes {:?}, the config's network has {:?}", sizes(saved), sizes(current)));
    }
    Ok(())
}

/// What one update measured (when recording).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// The update's loss.
    pub loss: f32,
    /// Mean D(real) / D(fake) as `Objective::reported` gives them (D updates only).
    pub d_real: f32,
    /// Mean D(fake) (D updates only).
    pub d_fake: f32,
    /// ‖∇_θ loss‖ over all the network's parameters.
    pub grad_norm: f32,
}

/// One engine: two networks, their optimizers, and the gradients of the update in progress.
///
/// Gradients are computed into a pending slot (`d_gradients`, `g_gradients`) and applied
/// later (`apply_d`, `apply_g`), so that a simultaneous update can take both gradients from
/// the same weights before applying either.
pub trait Engine: Send {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;
    /// D's loss gradient on `batch` at the current weights, kept for `apply_d`.
    fn d_gradients(&mut self, batch: &DBatch, o: &Objective, record: bool) -> Option<UpdateStats>;
    /// G's loss gradient on `batch` against the current D, kept for `apply_g`.
    fn g_gradients(&mut self, batch: &GBatch, o: &Objective, record: bool) -> Option<UpdateStats>;
    /// An optimizer step of D with the pending gradient, then WGAN's weight clipping if asked.
    fn apply_d(&mut self, opt: &OptimizerConfig, clip: Option<f32>);
    /// An optimizer step of G with the pending gradient.
    fn apply_g(&mut self, opt: &OptimizerConfig);
    /// Keeps a copy of D and its optimizer state (unrolling), for `restore_d`.
    fn save_d(&mut self);
    /// Puts back the D saved by `save_d` (after an unrolled G update).
    fn restore_d(&mut self);
    /// G at latents `z` (`[n, latent]`), as `[n, 2]`.
    fn generate(&self, z: &[f32]) -> Vec<f32>;
    /// D's raw output at points `[n, 2]`. Under PacGAN packing a point is judged as `pack`
    /// copies of itself (the minibatch-stddev feature is the last training batch's).
    /// A conditional D's points carry their one-hot labels: `[n, 2 + K]`.
    fn d_values(&self, pts: &[f32]) -> Vec<f32>;
    /// D's raw output and ∂D/∂x (`[n, 2]`; under packing, the sum over the copies; a
    /// conditional D's points as in `d_values`).
    fn d_at(&self, pts: &[f32]) -> (Vec<f32>, Vec<f32>);
    /// Both networks' parameters on the host, in the order w0, b0, w1, b1, …
    fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>);
    /// Both networks and both optimizers' state on the host (saving a run).
    fn export_state(&self) -> EngineState;
    /// Takes a saved state; an error (naming the mismatch) leaves the engine untouched.
    fn import_state(&mut self, s: EngineState) -> Result<(), String>;
}

/// Why the host engine cannot run on this device, if it cannot: it runs every network the
/// config describes, on the CPU only.
pub fn host_unsupported(on_cpu: bool) -> Option<String> {
    (!on_cpu).then(|| "the device is not the CPU".into())
}

/// Builds the GAN engine `choice` asks for, with fresh networks drawn from `init_rng` (a
/// diffusion model is built beside it: `trainer::Model`).
pub fn build(
    cfg: &Config,
    choice: EngineChoice,
    device: &Device,
    on_cpu: bool,
    init_rng: &mut StdRng,
) -> Result<Box<dyn Engine>, EngineError> {
    let unsupported = host_unsupported(on_cpu);
    let host = match (choice, unsupported) {
        (EngineChoice::Burn, _) => false,
        (EngineChoice::Host, Some(why)) => return Err(EngineError::HostUnsupported(why)),
        (EngineChoice::Host, None) => true,
        (EngineChoice::Auto, why) => why.is_none(),
    };
    let (g, d) = crate::nets::init_params(cfg, init_rng);
    Ok(if host {
        Box::new(host::HostEngine::new(cfg, g, d, init_rng))
    } else {
        Box::new(burn::BurnEngine::new(cfg, g, d, init_rng, device))
    })
}

/// A copy of D and its optimizer, taken by `save_d` and put back by `restore_d` (the unrolled
/// GAN's look-ahead): one record for both engines.
pub(crate) struct SavedD<D, O>(Option<(D, O)>);

impl<D, O> Default for SavedD<D, O> {
    fn default() -> Self {
        SavedD(None)
    }
}

impl<D: Clone, O: Clone> SavedD<D, O> {
    /// Keeps a copy of `d` and `opt`.
    pub(crate) fn save(&mut self, d: &D, opt: &O) {
        self.0 = Some((d.clone(), opt.clone()));
    }

    /// Puts the copy back, if one was kept (then forgets it).
    pub(crate) fn restore(&mut self, d: &mut D, opt: &mut O) {
        if let Some((saved_d, saved_opt)) = self.0.take() {
            *d = saved_d;
            *opt = saved_opt;
        }
    }
}
