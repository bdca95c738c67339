//! The networks' sections of the config: G's and D's shapes, units, initialisation, latent.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use std::collections::BTreeMap;
use toml::Spanned;

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
    /// 1 / (1 + e^(−a)).
    Sigmoid,
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

/// Shape of one MLP: the keys G's and D's sections share (`generator.depth`, …), written once
/// and flattened into each section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default)]
pub struct NetShape {
    /// Number of hidden layers.
    #[default(2)]
    pub depth: usize,
    /// Units per hidden layer.
    #[default(128)]
    pub width: usize,
    /// Hidden units' nonlinearity.
    #[default(Activation::Relu)]
    pub activation: Activation,
    /// Negative slope for leaky-relu.
    #[default(0.2)]
    pub leak: f32,
    /// Weight initialisation.
    #[default(Init::Default)]
    pub init: Init,
    /// Gain of the orthogonal initialisation.
    #[default(1.0)]
    pub init_gain: f32,
    /// Std of the normal initialisation.
    #[default(0.02)]
    pub init_std: f32,
}

/// The generator (`[generator]`): an MLP from the latent z to the plane. (Unknown keys are
/// refused by `check_sections`: serde's `deny_unknown_fields` does not combine with `flatten`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default)]
pub struct GeneratorConfig {
    /// Size of z.
    #[default(2)]
    pub latent_dim: usize,
    /// The distribution of z.
    #[default(LatentKind::Gaussian)]
    pub latent: LatentKind,
    /// The MLP's shape.
    #[serde(flatten)]
    pub shape: NetShape,
}

/// The discriminator (`[discriminator]`): an MLP from a point (or a pack of points) to one score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default)]
pub struct DiscriminatorConfig {
    /// The MLP's shape.
    #[serde(flatten)]
    pub shape: NetShape,
    /// Divide every weight by its largest singular value, estimated by one power iteration per
    /// D update (PyTorch runs one per forward call in training mode).
    #[default(false)]
    pub spectral_norm: bool,
    /// Append the batch's mean feature std to the last hidden layer (a minibatch feature).
    #[default(false)]
    pub minibatch_stddev: bool,
    /// Minibatch discrimination (Salimans et al. 2016): this many kernels (0 = off), each
    /// comparing a sample with every other one in its batch, appended to the last hidden layer.
    #[default(0)]
    pub minibatch_kernels: usize,
    /// Dimension of each minibatch-discrimination kernel (the C of T ∈ R^{A×B×C}).
    #[default(5)]
    pub minibatch_kernel_dim: usize,
    /// PacGAN: D judges `pack` samples at once (its input is 2·pack wide).
    #[default(1)]
    pub pack: usize,
}

/// The networks' sections as written, each key with its place in the text.
#[derive(Deserialize)]
struct Sections {
    #[serde(default)]
    generator: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    discriminator: BTreeMap<Spanned<String>, toml::Value>,
}

/// Checks the keys of `[generator]` and `[discriminator]` one by one, as serde's
/// `deny_unknown_fields` would if it combined with `flatten`: the first unknown key, or a value
/// of the wrong type, is named with its line. (A file that does not parse is left to the full
/// parse, which says where.)
pub(super) fn check_sections(text: &str) -> Result<(), String> {
    let Ok(sections) = toml::from_str::<Sections>(text) else { return Ok(()) };
    let line = |key: &Spanned<String>| text[..key.span().start].matches('\n').count() + 1;
    for (name, table) in [("generator", &sections.generator), ("discriminator", &sections.discriminator)] {
        for (key, value) in table {
            let one = toml::Table::from_iter([(key.get_ref().clone(), value.clone())]);
            check_key(name, &one).map_err(|msg| format!("line {}: `{name}.{}`: {msg}", line(key), key.get_ref()))?;
        }
    }
    Ok(())
}

/// The same check on a table already parsed (a preset's or a lesson's sections), without lines.
pub(super) fn check_table(table: &toml::Table) -> Result<(), String> {
    for name in ["generator", "discriminator"] {
        for (key, value) in table.get(name).and_then(toml::Value::as_table).into_iter().flatten() {
            let one = toml::Table::from_iter([(key.clone(), value.clone())]);
            check_key(name, &one).map_err(|msg| format!("`{name}.{key}`: {msg}"))?;
        }
    }
    Ok(())
}

/// Whether a one-key table is a known key of section `name` with a value of its type.
fn check_key(name: &str, one: &toml::Table) -> Result<(), String> {
    let known = match name {
        "generator" => toml::Table::try_from(GeneratorConfig::default()),
        _ => toml::Table::try_from(DiscriminatorConfig::default()),
    }
    .expect("a network's section serialises as a table");
    let key = one.keys().next().map_or("", String::as_str);
    if !known.contains_key(key) {
        let expected: Vec<String> = known.keys().map(|k| format!("`{k}`")).collect();
        return Err(format!("unknown field `{key}`, expected one of {}", expected.join(", ")));
    }
    let parsed = match name {
        "generator" => one.clone().try_into::<GeneratorConfig>().map(drop),
        _ => one.clone().try_into::<DiscriminatorConfig>().map(drop),
    };
    parsed.map_err(|e| e.message().to_string())
}
