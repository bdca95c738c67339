//! Lessons: a run that changes itself on cue. A lesson file (`assets/lessons/NAME.toml`, or any
//! path) names a starting preset (or holds a config), then cues in step order. A cue fires
//! between two updates, exactly when the run reaches its step, so a lesson replays bit for bit
//! in the window, in `ganscope render` and headless. A cue may:
//! - `set` keys the window's knobs change live (a key that needs new networks is refused);
//! - show a `caption` (with `{metric}` filled in from the latest evaluation);
//! - `pause` the run until the presenter goes on;
//! - choose the `layers` and `plots` shown from then on;
//! - make `promise`s about the segment that follows (the presets' promise language), which
//!   the test suite checks on the lesson's seeds.

use crate::config::Config;
use crate::presets::{self, Promise};
use crate::trainer::{Metrics, TrainError, Trainer};
use serde::Deserialize;
use toml::Spanned;

/// (name, file contents) of every lesson that ships, in menu order.
const FILES: &[(&str, &str)] = &[
    ("collapse-cure", include_str!("../assets/lessons/collapse-cure.toml")),
    ("circling", include_str!("../assets/lessons/circling.toml")),
    ("saturation", include_str!("../assets/lessons/saturation.toml")),
    ("trilemma", include_str!("../assets/lessons/trilemma.toml")),
];

/// A lesson, checked whole: every cue's keys apply and keep the networks.
#[derive(Clone, Debug)]
pub struct Lesson {
    /// Its name (the file's stem).
    pub name: String,
    /// A one-line title.
    pub title: String,
    /// The config at step 0, before the first cue.
    pub config: Config,
    /// A preset trained beside it in the window (the trilemma's diffusion model).
    pub compare: Option<String>,
    /// The seeds its promises are checked on.
    pub seeds: Vec<u64>,
    /// How many steps it runs.
    pub steps: u64,
    /// In step order, at most one per step.
    pub cues: Vec<Cue>,
    /// The file's text (what a share string carries).
    pub text: String,
}

/// What happens at one step.
#[derive(Clone, Debug)]
pub struct Cue {
    /// The step it fires at: after that many steps, before the next update.
    pub step: u64,
    /// `key=value` assignments (objective, schedule, noise, penalties, learning rates …).
    pub set: Vec<String>,
    /// Text for the audience, shown until the next caption; `{metric}` is filled in.
    pub caption: Option<String>,
    /// The run stops here until the presenter goes on.
    pub pause: bool,
    /// The data view's layers from here on (`--layers` names).
    pub layers: Option<String>,
    /// The side plots from here on (`--plots` names; "" for none).
    pub plots: Option<String>,
    /// What holds over the segment that follows (up to the next cue).
    pub promise: Vec<Promise>,
    /// The cue's line in the file.
    pub line: usize,
}

/// A lesson that cannot be had: the line and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// No built-in lesson of that name, and no such file.
    #[error("unknown lesson `{0}` (see `ganscope lesson --list`, or give a path to a .toml file)")]
    Unknown(String),
    /// The file cannot be read.
    #[error("cannot read lesson file {path}: {msg}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        msg: String,
    },
    /// The file is wrong somewhere.
    #[error("lesson `{name}`, line {line}: {msg}")]
    Bad {
        /// The lesson.
        name: String,
        /// Where (1-based).
        line: usize,
        /// What is wrong, naming the key.
        msg: String,
    },
}

#[derive(Deserialize)]
struct File {
    lesson: Spanned<Head>,
    #[serde(default)]
    cue: Vec<Spanned<CueFile>>,
    /// Config sections (`[data]`, `[loss]` …) when the lesson starts from no preset.
    #[serde(flatten)]
    config: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    title: String,
    preset: Option<String>,
    #[serde(default)]
    set: Vec<Spanned<String>>,
    compare: Option<String>,
    seeds: Vec<u64>,
    steps: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CueFile {
    step: u64,
    #[serde(default)]
    set: Vec<Spanned<String>>,
    caption: Option<String>,
    #[serde(default)]
    pause: bool,
    layers: Option<String>,
    plots: Option<String>,
    #[serde(default)]
    promise: Vec<Spanned<toml::Table>>,
}

/// Every shipped lesson's name, in menu order.
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(n, _)| *n)
}

/// Every shipped lesson, in menu order.
pub fn all() -> Vec<Lesson> {
    FILES.iter().map(|(n, t)| Lesson::parse(n, t).expect("shipped lessons parse (tested)")).collect()
}

/// A shipped lesson by name, or a lesson file by path.
pub fn load(name_or_path: &str) -> Result<Lesson, LessonError> {
    if let Some((name, text)) = FILES.iter().find(|(n, _)| *n == name_or_path) {
        return Lesson::parse(name, text);
    }
    let path = std::path::Path::new(name_or_path);
    if !name_or_path.ends_with(".toml") && !path.exists() {
        return Err(LessonError::Unknown(name_or_path.into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| LessonError::Read { path: path.display().to_string(), msg: e.to_string() })?;
    let name = path.file_stem().map_or_else(|| "lesson".into(), |s| s.to_string_lossy().into_owned());
    Lesson::parse(&name, &text)
}

/// A lesson from what a user typed: a shipped lesson's name, a `.toml` path or a `gl1:` share
/// string.
pub fn load_any(what: &str) -> Result<Lesson, String> {
    let t = what.trim();
    if t.starts_with("gl") && t.split_once(':').is_some_and(|(head, _)| head.len() <= 4) {
        return unshare(t);
    }
    load(t).map_err(|e| e.to_string())
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Lesson {
    /// Reads and checks a lesson: every error names its line and key, and nothing half-loads.
    pub fn parse(name: &str, text: &str) -> Result<Lesson, LessonError> {
        let bad = |line: usize, msg: String| LessonError::Bad { name: name.into(), line, msg };
        let file: File = toml::from_str(text).map_err(|e| bad(e.span().map_or(1, |s| line_of(text, s.start)), e.message().to_string()))?;
        let head_line = line_of(text, file.lesson.span().start);
        let head = file.lesson.into_inner();
        let mut config = match (&head.preset, file.config.is_empty()) {
            (Some(p), true) => presets::get(p).map_err(|e| bad(head_line, e.to_string()))?.config,
            (None, false) => Config::from_table(file.config).map_err(|e| bad(head_line, format!("the lesson's config: {e}")))?,
            (None, true) => return Err(bad(head_line, "a lesson starts from a preset (`preset = \"NAME\"`) or config sections".into())),
            (Some(_), false) => {
                return Err(bad(head_line, "give either `preset` or config sections, not both (use `set` to change a preset)".into()));
            }
        };
        for s in &head.set {
            config.set(s.get_ref()).map_err(|e| bad(line_of(text, s.span().start), format!("`{}`: {e}", s.get_ref())))?;
        }
        if let Some(c) = &head.compare {
            presets::get(c).map_err(|e| bad(head_line, format!("compare: {e}")))?;
        }
        if head.seeds.is_empty() {
            return Err(bad(head_line, "`seeds` is empty: promises are checked on these seeds".into()));
        }
        let every = config.train.eval_every.max(1);
        let mut cues = Vec::with_capacity(file.cue.len());
        let mut so_far = config.clone();
        let steps_of: Vec<u64> = file.cue.iter().map(|c| c.get_ref().step).collect();
        for (i, spanned) in file.cue.into_iter().enumerate() {
            let line = line_of(text, spanned.span().start);
            let c = spanned.into_inner();
            let end = steps_of.get(i + 1).copied().unwrap_or(head.steps);
            if i > 0 && c.step <= steps_of[i - 1] {
                return Err(bad(
                    line,
                    format!("cue at step {} comes after the cue at step {}: cues go in step order", c.step, steps_of[i - 1]),
                ));
            }
            if c.step > head.steps {
                return Err(bad(line, format!("cue at step {} is past the lesson's end (steps = {})", c.step, head.steps)));
            }
            if !c.step.is_multiple_of(every) {
                return Err(bad(
                    line,
                    format!(
                        "cue at step {} is not a multiple of train.eval_every ({every}): Back returns to a checkpoint at the cue",
                        c.step
                    ),
                ));
            }
            for s in &c.set {
                let at = line_of(text, s.span().start);
                let mut next = so_far.clone();
                next.set(s.get_ref()).map_err(|e| bad(at, format!("`{}`: {e}", s.get_ref())))?;
                let diff = so_far.diff(&next);
                if diff.rebuild {
                    return Err(bad(
                        at,
                        format!(
                            "`{}` needs new networks ({}): a cue changes only what keeps the weights (loss, schedule, noise, penalties, learning rates …)",
                            s.get_ref(),
                            diff.why.join(", ")
                        ),
                    ));
                }
                so_far = next;
            }
            if let Some(l) = &c.layers {
                crate::trainer::view::parse_layer_names(l).map_err(|e| bad(line, format!("layers: {e}")))?;
            }
            if let Some(p) = &c.plots {
                crate::trainer::view::parse_plot_names(p).map_err(|e| bad(line, format!("plots: {e}")))?;
            }
            if let Some(cap) = &c.caption {
                placeholders(cap).map_err(|e| bad(line, format!("caption: {e}")))?;
            }
            let mut promise = Vec::with_capacity(c.promise.len());
            for p in c.promise {
                let at = line_of(text, p.span().start);
                let p = segment_promise(p.into_inner(), c.step, end, &head.seeds).map_err(|e| bad(at, format!("promise: {e}")))?;
                promise.push(p);
            }
            let set = c.set.into_iter().map(Spanned::into_inner).collect();
            cues.push(Cue { step: c.step, set, caption: c.caption, pause: c.pause, layers: c.layers, plots: c.plots, promise, line });
        }
        Ok(Lesson {
            name: name.into(),
            title: head.title,
            config,
            compare: head.compare,
            seeds: head.seeds,
            steps: head.steps,
            cues,
            text: text.into(),
        })
    }

    /// The index of the last cue at or before `step` (what is on screen at that step).
    pub fn cue_at(&self, step: u64) -> Option<usize> {
        self.cues.iter().rposition(|c| c.step <= step)
    }

    /// The cue whose settings trained the update that led to `step` (the metrics CSV's `cue`
    /// column): the last cue before `step`, or the one at step 0 for step 0.
    pub fn segment_of(&self, step: u64) -> Option<usize> {
        if step == 0 { self.cue_at(0) } else { self.cues.iter().rposition(|c| c.step < step) }
    }

    /// The caption on screen at `step` (the latest cue's that has one), `{metric}` filled from
    /// `latest`.
    pub fn caption_at(&self, step: u64, latest: Option<&Metrics>) -> Option<String> {
        let i = self.cue_at(step)?;
        let cap = self.cues[..=i].iter().rev().find_map(|c| c.caption.as_ref())?;
        Some(fill_caption(cap, latest))
    }

    /// The layers (`--layers` names) on screen at `step`, if a cue chose them.
    pub fn layers_at(&self, step: u64) -> Option<&str> {
        let i = self.cue_at(step)?;
        self.cues[..=i].iter().rev().find_map(|c| c.layers.as_deref())
    }

    /// The side plots (`--plots` names) on screen at `step`, if a cue chose them.
    pub fn plots_at(&self, step: u64) -> Option<&str> {
        let i = self.cue_at(step)?;
        self.cues[..=i].iter().rev().find_map(|c| c.plots.as_deref())
    }

    /// The scripted config at `step` (every cue up to it applied), on top of `start` (the
    /// lesson's config with the run's own seed): what Back returns to.
    pub fn config_at(&self, start: &Config, step: u64) -> Config {
        let mut cfg = start.clone();
        for c in self.cues.iter().take_while(|c| c.step <= step) {
            cfg.set_all(&c.set).expect("checked at load");
        }
        cfg
    }

    /// The lesson's config with `seed`.
    pub fn config_with_seed(&self, seed: u64) -> Config {
        let mut cfg = self.config.clone();
        cfg.train.seed = seed;
        cfg
    }

    /// Every promise, with the cue it belongs to.
    pub fn promises(&self) -> impl Iterator<Item = (usize, &Promise)> {
        self.cues.iter().enumerate().flat_map(|(i, c)| c.promise.iter().map(move |p| (i, p)))
    }
}

/// A promise table of a cue, completed: the lesson's seeds, the segment's end as `steps`, and
/// (for a window) the cue's step as `from_step`; it must look inside its segment.
fn segment_promise(mut t: toml::Table, from: u64, end: u64, seeds: &[u64]) -> Result<Promise, String> {
    if !t.contains_key("seeds") {
        t.insert("seeds".into(), toml::Value::Array(seeds.iter().map(|&s| toml::Value::Integer(s as i64)).collect()));
    }
    if !t.contains_key("steps") {
        t.insert("steps".into(), toml::Value::Integer(end as i64));
    }
    let window = t.contains_key("fraction") || t.get("metric").and_then(|m| m.as_str()) == Some("distinct_dominant_modes");
    if window && !t.contains_key("from_step") {
        t.insert("from_step".into(), toml::Value::Integer(from as i64));
    }
    let p: Promise = t.try_into().map_err(|e: toml::de::Error| e.message().to_string())?;
    if p.at_least.is_none() && p.at_most.is_none() {
        return Err(format!("`{}` has neither at_least nor at_most", p.metric));
    }
    if p.metric != "distinct_dominant_modes" && !presets::metric_names().contains(&p.metric.as_str()) {
        return Err(format!("unknown metric `{}` (one of: distinct_dominant_modes, {})", p.metric, presets::metric_names().join(", ")));
    }
    if p.steps > end {
        return Err(format!("it looks up to step {}, past its segment's end at step {end}", p.steps));
    }
    if let Some(&first) = p.eval_steps(1).first()
        && first < from
    {
        return Err(format!("it looks from step {first}, before its cue at step {from}"));
    }
    Ok(p)
}

/// The `{metric}` names in a caption (each must be a promise metric).
fn placeholders(caption: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = caption;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("a `{` without its `}`")? + open;
        let name = &rest[open + 1..close];
        if !presets::metric_names().contains(&name) {
            return Err(format!("unknown metric `{{{name}}}` (one of: {})", presets::metric_names().join(", ")));
        }
        out.push(name);
        rest = &rest[close + 1..];
    }
    Ok(out)
}

/// A caption with each `{metric}` replaced by its value in `latest` (`…` before the first
/// evaluation or where undefined).
pub fn fill_caption(caption: &str, latest: Option<&Metrics>) -> String {
    let mut out = caption.to_string();
    for name in placeholders(caption).unwrap_or_default() {
        let v = latest.and_then(|m| presets::metric(m, name));
        let text = match v {
            None => "…".to_string(),
            Some(v) if v.fract() == 0.0 && v.abs() < 1e9 => format!("{v:.0}"),
            Some(v) if name.ends_with("_fraction") => format!("{:.0} %", 100.0 * v),
            Some(v) if v.abs() >= 10.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.2}"),
        };
        out = out.replacen(&format!("{{{name}}}"), &text, 1);
    }
    out
}

/// Where a run is in its lesson: the next cue to fire.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Index of the next cue to fire.
    pub next: usize,
}

impl Script {
    /// A script that has fired every cue before `step` (a run resumed or rewound there); the
    /// cue at `step` itself has fired too when `fired_at_step`.
    pub fn at(lesson: &Lesson, step: u64, fired_at_step: bool) -> Script {
        let next = lesson.cues.iter().position(|c| if fired_at_step { c.step > step } else { c.step >= step }).unwrap_or(lesson.cues.len());
        Script { next }
    }

    /// Fires the cues due at the trainer's step (between two updates): their `set` applies to
    /// the config in force, so a knob the presenter changed by hand stays changed unless a cue
    /// sets it. Returns the indices fired.
    pub fn fire_due(&mut self, lesson: &Lesson, trainer: &mut Trainer) -> Result<Vec<usize>, TrainError> {
        let mut fired = Vec::new();
        while let Some(c) = lesson.cues.get(self.next)
            && c.step <= trainer.steps_done()
        {
            if !c.set.is_empty() {
                let mut cfg = trainer.config().clone();
                cfg.set_all(&c.set).expect("checked at load");
                trainer.set_config(cfg)?;
            }
            fired.push(self.next);
            self.next += 1;
        }
        Ok(fired)
    }
}

/// How each promise of a lesson fared on one seed.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The cue the promise belongs to.
    pub cue: usize,
    /// The promise's metric.
    pub metric: String,
    /// The judged value.
    pub value: f64,
    /// Whether it held.
    pub held: bool,
}

/// Judges every promise of `lesson` on a run's evaluations (`history`, every
/// `train.eval_every` steps).
pub fn judge(lesson: &Lesson, history: &[Metrics]) -> Result<Vec<Verdict>, String> {
    let every = lesson.config.train.eval_every;
    lesson
        .promises()
        .map(|(cue, p)| {
            let evals = p
                .eval_steps(every)
                .iter()
                .map(|s| history.iter().find(|m| m.step == *s).cloned().ok_or_else(|| format!("no evaluation at step {s}")))
                .collect::<Result<Vec<_>, _>>()?;
            let (value, held) = p.judge(&evals)?;
            Ok(Verdict { cue, metric: p.metric.clone(), value, held })
        })
        .collect()
}

/// Runs a lesson headless on `seed` for its `steps`, evaluating every `train.eval_every`.
pub fn run(lesson: &Lesson, seed: u64, compute: crate::backend::Compute) -> Result<crate::run::RunOutput, TrainError> {
    let mut trainer = Trainer::new(lesson.config_with_seed(seed), compute)?;
    let mut script = Script::default();
    let every = trainer.config().train.eval_every;
    crate::run::run_with(&mut trainer, lesson.steps, every, |t| script.fire_due(lesson, t).map(drop), |_| {}, |_| {})
}

/// A lesson's share string: `gl1:` then URL-safe base64 of its deflated file.
pub const SHARE_PREFIX: &str = "gl1:";

/// The share string of `lesson` (its file, whole).
pub fn share(lesson: &Lesson) -> String {
    crate::share::pack(SHARE_PREFIX, &format!("# lesson: {}\n{}", lesson.name, lesson.text))
}

/// The lesson a share string holds.
pub fn unshare(text: &str) -> Result<Lesson, String> {
    let toml = crate::share::unpack(SHARE_PREFIX, text).map_err(|e| e.to_string())?;
    // The name rides on a first line of its own; the file follows as it was (its line numbers).
    let (name, file) = match toml.split_once('\n') {
        Some((head, rest)) if head.starts_with("# lesson: ") => (head["# lesson: ".len()..].trim().to_string(), rest.to_string()),
        _ => ("shared".to_string(), toml),
    };
    Lesson::parse(&name, &file).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
