//! What a trainer trains: a GAN — an engine holding G, D and their optimizers — or a denoising
//! diffusion model. Neither pretends to be the other: the GAN's updates go to the engine, the
//! diffusion model's to `Diffusion::train_step`; samples, the view's queries and the saved
//! state are asked of either here.

use crate::config::{Config, ModelKind};
use crate::diffusion::Diffusion;
use crate::engine::{self, Engine, EngineChoice, EngineError, EngineKind, EngineState};
use rand::rngs::StdRng;

/// A GAN's engine, or a diffusion model.
pub enum Model {
    /// G and D in an engine (the host fast path or burn).
    Gan(Box<dyn Engine>),
    /// The denoiser (a plain MLP on the host).
    Diffusion(Box<Diffusion>),
}

impl Model {
    /// Fresh networks for `cfg`, drawn from `init_rng`, on the engine `choice` asks for.
    pub fn build(
        cfg: &Config,
        choice: EngineChoice,
        device: &burn::tensor::Device,
        on_cpu: bool,
        init_rng: &mut StdRng,
    ) -> Result<Model, EngineError> {
        if cfg.model.kind == ModelKind::Diffusion {
            // The denoiser is a plain MLP on the host (fast on the CPU; no burn counterpart yet).
            if choice == EngineChoice::Burn {
                return Err(EngineError::DiffusionHostOnly);
            }
            return Ok(Model::Diffusion(Box::new(Diffusion::new(cfg, init_rng))));
        }
        Ok(Model::Gan(engine::build(cfg, choice, device, on_cpu, init_rng)?))
    }

    /// Which engine computes it (the diffusion model runs on the host).
    pub fn kind(&self) -> EngineKind {
        match self {
            Model::Gan(e) => e.kind(),
            Model::Diffusion(_) => EngineKind::Host,
        }
    }

    /// Samples from latents (a GAN's z; the diffusion model's starting noise), as `[n, 2]`.
    pub fn generate(&self, z: &[f32]) -> Vec<f32> {
        match self {
            Model::Gan(e) => e.generate(z),
            Model::Diffusion(d) => d.sample(z),
        }
    }

    /// D's raw output at points (a diffusion model has no D: zeros, a flat surface).
    pub fn d_values(&self, pts: &[f32]) -> Vec<f32> {
        match self {
            Model::Gan(e) => e.d_values(pts),
            Model::Diffusion(_) => vec![0.0; pts.len() / 2],
        }
    }

    /// D's raw output and ∂D/∂x at points; for a diffusion model, zeros and the denoiser's
    /// direction (where it pushes a point).
    pub fn d_at(&self, pts: &[f32]) -> (Vec<f32>, Vec<f32>) {
        match self {
            Model::Gan(e) => e.d_at(pts),
            Model::Diffusion(d) => (vec![0.0; pts.len() / 2], d.direction(pts)),
        }
    }

    /// G's and D's parameters (a diffusion model: the denoiser's, and none).
    pub fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        match self {
            Model::Gan(e) => e.weights(),
            Model::Diffusion(d) => (d.weights(), Vec::new()),
        }
    }

    /// Networks and optimizers' state on the host (saving a run).
    pub fn export_state(&self) -> EngineState {
        match self {
            Model::Gan(e) => e.export_state(),
            Model::Diffusion(d) => d.export_state(),
        }
    }

    /// Takes a saved state; an error (naming the mismatch) leaves the model untouched.
    pub fn import_state(&mut self, s: EngineState) -> Result<(), String> {
        match self {
            Model::Gan(e) => e.import_state(s),
            Model::Diffusion(d) => d.import_state(s),
        }
    }

    /// Network evaluations per generated sample: 1 for a GAN, the sampler's steps for a
    /// diffusion model.
    pub fn nfe_per_sample(&self) -> usize {
        match self {
            Model::Gan(_) => 1,
            Model::Diffusion(d) => d.nfe(),
        }
    }
}
