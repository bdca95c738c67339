//! Named configurations in `assets/presets/*.toml`, compiled into the binary. Each file is a
//! config plus a `[preset]` table: a title, a few sentences a teacher can read aloud, and the
//! promises the test suite checks over several seeds.

use crate::config::{Config, ConfigError};
use serde::Deserialize;

/// (name, file contents) of every preset, in menu order.
const FILES: &[(&str, &str)] = &[
    ("collapse", include_str!("../assets/presets/collapse.toml")),
    ("ns-ring", include_str!("../assets/presets/ns-ring.toml")),
    ("oscillation", include_str!("../assets/presets/oscillation.toml")),
    ("wgan-clip", include_str!("../assets/presets/wgan-clip.toml")),
    ("wgan-gp", include_str!("../assets/presets/wgan-gp.toml")),
    ("r1", include_str!("../assets/presets/r1.toml")),
    ("instance-noise", include_str!("../assets/presets/instance-noise.toml")),
    ("n-critic-5", include_str!("../assets/presets/n-critic-5.toml")),
    ("grid-collapse", include_str!("../assets/presets/grid-collapse.toml")),
    ("grid-cure", include_str!("../assets/presets/grid-cure.toml")),
    ("gan-toy-wgan-gp", include_str!("../assets/presets/gan-toy-wgan-gp.toml")),
    ("unrolled", include_str!("../assets/presets/unrolled.toml")),
    ("pacgan", include_str!("../assets/presets/pacgan.toml")),
];

/// A checkable claim: after `steps` steps, for every seed, `metric` is ≥ `at_least` and/or
/// ≤ `at_most` (metric names as in the summary JSON).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promise {
    pub steps: u64,
    pub seeds: Vec<u64>,
    pub metric: String,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    /// Judge the median of this many evaluations, `train.eval_every` apart and ending at
    /// `steps`, instead of the one at `steps`: a GAN that keeps oscillating dips now and then,
    /// and a promise about where it settles should not hinge on one dip.
    #[serde(default = "one")]
    pub median_of: usize,
}

fn one() -> usize {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetMeta {
    pub title: String,
    pub explain: String,
    #[serde(default)]
    pub promise: Vec<Promise>,
}

#[derive(Clone, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub meta: PresetMeta,
    pub config: Config,
}

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("unknown preset `{0}` (see `ganscope presets`)")]
    Unknown(String),
    #[error("preset `{name}`: {msg}")]
    Bad { name: String, msg: String },
}

pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(n, _)| *n)
}

pub fn get(name: &str) -> Result<Preset, PresetError> {
    let (name, text) = FILES.iter().find(|(n, _)| *n == name).ok_or_else(|| PresetError::Unknown(name.into()))?;
    parse(name, text)
}

pub fn all() -> Vec<Preset> {
    FILES.iter().map(|(n, t)| parse(n, t).expect("built-in presets parse (tested)")).collect()
}

fn parse(name: &'static str, text: &str) -> Result<Preset, PresetError> {
    let bad = |msg: String| PresetError::Bad { name: name.into(), msg };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
    let meta = table.remove("preset").ok_or_else(|| bad("missing [preset] table".into()))?;
    let meta: PresetMeta = meta.try_into().map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let config = Config::from_table(table).map_err(|e: ConfigError| bad(e.to_string()))?;
    Ok(Preset { name, meta, config })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_preset_parses_and_explains_itself() {
        for p in super::all() {
            assert!(!p.meta.title.is_empty() && p.meta.explain.len() > 40, "{}", p.name);
            assert!(!p.meta.promise.is_empty(), "{} has no promise", p.name);
            for pr in &p.meta.promise {
                assert!(pr.seeds.len() >= 3, "{}: promise over < 3 seeds", p.name);
                assert!(pr.median_of >= 1, "{}: median_of must be at least 1", p.name);
                assert!(pr.at_least.is_some() || pr.at_most.is_some(), "{}", p.name);
            }
        }
    }
}
