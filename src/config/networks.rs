//! The networks' sections of the config: G's and D's shapes, units, initialisation, latent.

use serde::{Deserialize, Serialize};

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
