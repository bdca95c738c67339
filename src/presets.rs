//! Named configurations in `assets/presets/*.toml`, compiled into the binary. Each file is a
//! config plus a `[preset]` table: a title, a few sentences a teacher can read aloud, and the
//! promises the test suite checks over several seeds.

use crate::config::{Config, ConfigError};
use crate::trainer::Metrics;
use serde::Deserialize;

/// (name, file contents) of every preset, in menu order.
const FILES: &[(&str, &str)] = &[
    ("collapse", include_str!("../assets/presets/collapse.toml")),
    ("clump", include_str!("../assets/presets/clump.toml")),
    ("starved-d", include_str!("../assets/presets/starved-d.toml")),
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
    ("cgan", include_str!("../assets/presets/cgan.toml")),
    ("minibatch-discrimination", include_str!("../assets/presets/minibatch-discrimination.toml")),
    ("diffusion-ring", include_str!("../assets/presets/diffusion-ring.toml")),
    ("trilemma", include_str!("../assets/presets/trilemma.toml")),
    ("trilemma-diffusion", include_str!("../assets/presets/trilemma-diffusion.toml")),
];

/// A checkable claim about a run, judged on every listed seed (or on `seeds_fraction` of
/// them), from the evaluations every `train.eval_every` steps. Metric names as in the
/// metrics CSV, plus `distinct_dominant_modes` (over a window).
///
/// Three forms:
/// - at one step: `metric` at `steps` is ≥ `at_least` and/or ≤ `at_most`; with `median_of`,
///   the median of that many evaluations ending at `steps` (a GAN that keeps oscillating dips
///   now and then, and a promise about where it settles should not hinge on one dip);
/// - over a window, `from_step` to `steps`, with `fraction`: at that share of the window's
///   evaluations at least, `metric` and every condition in `and` hold;
/// - over a window, `metric = "distinct_dominant_modes"`: how many different modes held the
///   most samples (by nearest mode) at the window's evaluations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promise {
    /// The last step the promise looks at.
    pub steps: u64,
    /// Seeds it is checked on.
    pub seeds: Vec<u64>,
    /// A metrics-CSV column, or `distinct_dominant_modes`.
    pub metric: String,
    /// Lower bound.
    pub at_least: Option<f64>,
    /// Upper bound.
    pub at_most: Option<f64>,
    /// Judge the median of this many evaluations ending at `steps` (1: that step alone).
    #[serde(default = "one")]
    pub median_of: usize,
    /// Start of the window of evaluations (window forms).
    pub from_step: Option<u64>,
    /// Share of the window's evaluations at which the conditions must hold.
    pub fraction: Option<f64>,
    /// More conditions that must hold at the same evaluations.
    #[serde(default)]
    pub and: Vec<Condition>,
    /// The share of `seeds` the promise must hold on ("most seeds": 0.6); all by default.
    #[serde(default = "every_seed")]
    pub seeds_fraction: f64,
}

/// One more bound, checked at the same evaluations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A metrics-CSV column.
    pub metric: String,
    /// Lower bound.
    pub at_least: Option<f64>,
    /// Upper bound.
    pub at_most: Option<f64>,
}

fn one() -> usize {
    1
}

fn every_seed() -> f64 {
    1.0
}

/// The metrics a promise (or a lesson's caption) can name: `metrics::table`'s `PROMISE` columns.
pub fn metric_names() -> Vec<&'static str> {
    crate::metrics::table::names(crate::metrics::table::PROMISE)
}

/// A metric of one evaluation, by its CSV name (None when undefined here: no modes, say).
pub fn metric(m: &Metrics, name: &str) -> Option<f64> {
    crate::metrics::table::value(m, name)
}

/// Whether `v` is within the bounds.
fn within(v: f64, at_least: Option<f64>, at_most: Option<f64>) -> bool {
    at_least.is_none_or(|lo| v >= lo) && at_most.is_none_or(|hi| v <= hi)
}

impl Promise {
    /// The steps whose evaluations the promise reads, given `train.eval_every`.
    pub fn eval_steps(&self, every: u64) -> Vec<u64> {
        let every = every.max(1);
        let first = match self.from_step {
            Some(f) => f,
            None => self.steps.saturating_sub(every * (self.median_of as u64 - 1)),
        };
        (first..=self.steps).filter(|s| (self.steps - s).is_multiple_of(every)).collect()
    }

    /// The judged value and whether the promise holds, from the evaluations at `eval_steps`
    /// (in order). Unknown metric names are an error naming them.
    pub fn judge(&self, evals: &[Metrics]) -> Result<(f64, bool), String> {
        let value = |m: &Metrics, name: &str| metric(m, name).ok_or_else(|| format!("metric `{name}` is unknown or undefined here"));
        if self.metric == "distinct_dominant_modes" {
            let mut seen: Vec<usize> = evals.iter().filter_map(|m| m.modes.as_ref()?.dominant_mode).collect();
            seen.sort_unstable();
            seen.dedup();
            let v = seen.len() as f64;
            return Ok((v, within(v, self.at_least, self.at_most)));
        }
        if let Some(fraction) = self.fraction {
            let mut good = 0;
            for m in evals {
                let mut ok = within(value(m, &self.metric)?, self.at_least, self.at_most);
                for c in &self.and {
                    ok &= within(value(m, &c.metric)?, c.at_least, c.at_most);
                }
                good += usize::from(ok);
            }
            let v = good as f64 / evals.len().max(1) as f64;
            return Ok((v, v >= fraction));
        }
        let mut seen = evals.iter().map(|m| value(m, &self.metric)).collect::<Result<Vec<_>, _>>()?;
        seen.sort_by(f64::total_cmp);
        let v = seen[seen.len() / 2];
        Ok((v, within(v, self.at_least, self.at_most)))
    }
}

/// A preset's `[preset]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetMeta {
    /// A one-line title.
    pub title: String,
    /// What a teacher can read aloud: claims only what the promises check.
    pub explain: String,
    /// A Dirac-GAN preset showing the same thing in one dimension (`dirac::presets`).
    pub dirac: Option<String>,
    /// A preset the window trains beside this one, side by side (the trilemma).
    pub compare: Option<String>,
    /// What the test suite checks.
    #[serde(default)]
    pub promise: Vec<Promise>,
    /// For a cure: the same preset with its remedy off, and what that shows (the disease), so
    /// that the audience can credit the remedy alone — also checked by the test suite.
    pub without_remedy: Option<WithoutRemedy>,
}

/// A cure's remedy switched off: `--set` assignments on the preset's config, and the promises
/// the run then keeps.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithoutRemedy {
    /// `key=value` assignments that turn the remedy off (one knob, ideally).
    pub set: Vec<String>,
    /// What the run shows without it.
    pub promise: Vec<Promise>,
}

impl Preset {
    /// The config with the remedy off, if this preset is a cure.
    pub fn without_remedy(&self) -> Option<Result<Config, ConfigError>> {
        let w = self.meta.without_remedy.as_ref()?;
        let mut cfg = self.config.clone();
        Some(cfg.set_all(&w.set).map(|()| cfg))
    }
}

/// A named config with its text and promises.
#[derive(Clone, Debug)]
pub struct Preset {
    /// The preset's name (`--preset NAME`).
    pub name: &'static str,
    /// Title, text, promises.
    pub meta: PresetMeta,
    /// The config it runs.
    pub config: Config,
}

/// A preset that cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// No preset of that name.
    #[error("unknown preset `{0}` (see `ganscope presets`)")]
    Unknown(String),
    /// A preset file that does not parse (a bug: every preset is tested).
    #[error("preset `{name}`: {msg}")]
    Bad {
        /// The preset.
        name: String,
        /// What does not parse.
        msg: String,
    },
}

/// Every preset's name, in menu order.
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(n, _)| *n)
}

/// The preset called `name`.
pub fn get(name: &str) -> Result<Preset, PresetError> {
    let (name, text) = FILES.iter().find(|(n, _)| *n == name).ok_or_else(|| PresetError::Unknown(name.into()))?;
    parse(name, text)
}

/// Every preset, in menu order.
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
    use super::*;

    fn eval(modes: usize, share: f64, dominant: usize) -> Metrics {
        let modes = crate::metrics::ModeStats {
            modes_covered: modes,
            modes_total: 8,
            hq_fraction: 1.0,
            reverse_kl: None,
            per_mode_counts: vec![],
            per_mode_nearest: vec![],
            dominant_mode: Some(dominant),
            dominant_share: share,
        };
        Metrics { modes: Some(modes), ..Default::default() }
    }

    #[test]
    fn window_promises_are_judged_by_the_share_of_evaluations() {
        let p: Promise = toml::from_str(
            r#"steps = 400
seeds = [0, 1, 2]
from_step = 100
fraction = 0.6
metric = "dominant_share"
at_least = 0.8
and = [{ metric = "modes_covered", at_most = 2 }]"#,
        )
        .unwrap();
        assert_eq!(p.eval_steps(100), vec![100, 200, 300, 400]);
        // 3 of 4 evaluations: one clump and ≤ 2 modes (the third fails on modes).
        let e = [eval(1, 0.9, 0), eval(2, 0.85, 3), eval(3, 0.95, 3), eval(1, 1.0, 5)];
        assert_eq!(p.judge(&e).unwrap(), (0.75, true));
        let e = [eval(1, 0.9, 0), eval(3, 0.85, 3), eval(3, 0.95, 3), eval(1, 0.5, 5)];
        assert_eq!(p.judge(&e).unwrap(), (0.25, false));
        let d: Promise =
            toml::from_str("steps = 400\nseeds = [0, 1, 2]\nfrom_step = 100\nmetric = \"distinct_dominant_modes\"\nat_least = 3").unwrap();
        assert_eq!(d.judge(&[eval(1, 0.9, 0), eval(1, 0.9, 3), eval(1, 0.9, 3), eval(1, 0.9, 5)]).unwrap(), (3.0, true));
        assert_eq!(d.judge(&[eval(1, 0.9, 0), eval(1, 0.9, 3), eval(1, 0.9, 0)]).unwrap(), (2.0, false));
        let bad: Promise = toml::from_str("steps = 1\nseeds = [0, 1, 2]\nmetric = \"modez\"\nat_least = 1").unwrap();
        assert!(bad.judge(&[eval(1, 1.0, 0)]).unwrap_err().contains("modez"));
    }

    #[test]
    fn every_metric_name_is_read() {
        let m = Metrics {
            modes: Some(crate::metrics::ModeStats {
                modes_covered: 3,
                modes_total: 8,
                hq_fraction: 0.5,
                reverse_kl: Some(0.1),
                per_mode_counts: vec![0; 8],
                per_mode_nearest: vec![0; 8],
                dominant_mode: Some(0),
                dominant_share: 0.4,
            }),
            critic_gap: Some(0.5),
            label_accuracy: Some(0.9),
            ..Default::default()
        };
        for name in metric_names() {
            assert!(metric(&m, name).is_some(), "{name}");
        }
        assert!(metric(&m, "modez").is_none());
    }

    #[test]
    fn every_preset_parses_and_explains_itself() {
        for p in all() {
            assert!(!p.meta.title.is_empty() && p.meta.explain.len() > 40, "{}", p.name);
            assert!(!p.meta.promise.is_empty(), "{} has no promise", p.name);
            for pr in &p.meta.promise {
                assert!(pr.seeds.len() >= 3, "{}: promise over < 3 seeds", p.name);
                assert!(pr.median_of >= 1, "{}: median_of must be at least 1", p.name);
                assert!(pr.at_least.is_some() || pr.at_most.is_some(), "{}", p.name);
                assert!(pr.fraction.is_none() || pr.from_step.is_some(), "{}: a fraction is over a window (from_step)", p.name);
                assert!((0.5..=1.0).contains(&pr.seeds_fraction), "{}: a promise holds on most seeds at least", p.name);
            }
            if let Some(c) = &p.meta.compare {
                assert!(get(c).is_ok(), "{}: compares with unknown preset `{c}`", p.name);
            }
            if let Some(off) = p.without_remedy() {
                assert!(off.is_ok(), "{}: without_remedy does not apply: {:?}", p.name, off.err());
                assert!(!p.meta.without_remedy.as_ref().unwrap().promise.is_empty(), "{}: a remedy off with no promise", p.name);
            }
            if let Some(d) = &p.meta.dirac {
                assert!(crate::dirac::presets::get(d).is_some(), "{}: links to unknown Dirac preset `{d}`", p.name);
            }
        }
    }
}
