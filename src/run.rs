//! The headless run: train N steps, evaluate every K, write the metrics CSV, the JSON summary
//! and the final samples. The CLI, the preset tests and the benchmarks all go through here.

use crate::backend::BackendInfo;
use crate::config::Config;
use crate::metrics::table;
use crate::trainer::{Metrics, TrainError, Trainer};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// What a headless run reports (`--summary-out`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The run's step at the end (for a resumed run, counted from its very first step).
    pub steps: u64,
    /// Steps trained by this invocation (less than `steps` after `--resume`).
    pub steps_this_run: u64,
    /// Wall time of the whole run, evaluations included.
    pub seconds: f64,
    /// Training steps per second, evaluations excluded.
    pub steps_per_second: f64,
    /// The device that trained (`cpu` or `wgpu`).
    pub backend: String,
    /// The adapter's name and kind.
    pub adapter: String,
    /// Why that device.
    pub backend_reason: String,
    /// Under `auto` with a real GPU: steps/s of this config on the GPU and on the CPU, and
    /// which trained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_choice: Option<crate::backend::BackendRace>,
    /// The engine that trained: `host` (the CPU fast path) or `burn`.
    pub engine: crate::engine::EngineKind,
    /// The run's seed.
    pub seed: u64,
    /// The last evaluation.
    #[serde(flatten)]
    pub last: LastEvaluation,
    /// The config that ran.
    pub config: Config,
}

/// The last evaluation of a run, as its summary writes it: the figures (every `SUMMARY`
/// column of `metrics::table`) at the top level for a reader of the JSON, the symptoms by name,
/// then the whole record as `final_metrics`.
#[derive(Clone, Debug)]
pub struct LastEvaluation(pub Metrics);

/// A symptom's value and whether it is present.
#[derive(Serialize)]
struct SymptomState {
    /// The symptom's measured value.
    value: f64,
    /// Whether it crosses its threshold.
    present: bool,
    /// Whether it can be read on this run (false: not applicable, never present).
    applicable: bool,
}

impl Serialize for LastEvaluation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let m = &self.0;
        let mut map = s.serialize_map(None)?;
        for (name, cell) in table::summary_figures(m) {
            map.serialize_entry(name, &cell)?;
        }
        let symptoms: std::collections::BTreeMap<&str, SymptomState> =
            m.symptoms.iter().map(|s| (s.name, SymptomState { value: s.value, present: s.present, applicable: s.applicable })).collect();
        map.serialize_entry("symptoms", &symptoms)?;
        map.serialize_entry("final_metrics", m)?;
        map.end()
    }
}

/// A finished headless run.
pub struct RunOutput {
    /// The summary.
    pub summary: Summary,
    /// Every evaluation.
    pub history: Vec<Metrics>,
    /// Final samples of the fixed evaluation batch, row-major `[x, y, …]`.
    pub samples: Vec<f32>,
}

/// Trains `steps` steps, evaluating every `eval_every` steps and at the end.
/// `on_progress(step)` is called after every step (for a progress bar).
pub fn run(
    trainer: &mut Trainer,
    steps: u64,
    eval_every: u64,
    on_eval: impl FnMut(&Metrics),
    on_progress: impl FnMut(u64),
) -> Result<RunOutput, TrainError> {
    run_with(trainer, steps, eval_every, |_| Ok(()), on_eval, on_progress)
}

/// `run`, with `before_step` called between two steps (before each, after the last
/// evaluation of the step before): a lesson fires its cues there.
pub fn run_with(
    trainer: &mut Trainer,
    steps: u64,
    eval_every: u64,
    mut before_step: impl FnMut(&mut Trainer) -> Result<(), TrainError>,
    mut on_eval: impl FnMut(&Metrics),
    mut on_progress: impl FnMut(u64),
) -> Result<RunOutput, TrainError> {
    let start = Instant::now();
    let mut train_secs = 0.0;
    let mut history = Vec::new();
    let first = trainer.steps_done();
    let end = first + steps;
    let mut samples = Vec::new();
    while trainer.steps_done() < end {
        before_step(trainer)?;
        let next = trainer.steps_done() + 1;
        let eval_now = next.is_multiple_of(eval_every) || next == end;
        // Read losses back only on the step an evaluation reports.
        trainer.record = eval_now;
        let t = Instant::now();
        trainer.step()?;
        train_secs += t.elapsed().as_secs_f64();
        if eval_now {
            let (mut m, s) = trainer.evaluate()?;
            m.seconds = start.elapsed().as_secs_f64();
            on_eval(&m);
            history.push(m);
            samples = s;
        }
        on_progress(trainer.steps_done() - first);
    }
    if history.is_empty() {
        let (mut m, s) = trainer.evaluate()?;
        m.seconds = start.elapsed().as_secs_f64();
        history.push(m);
        samples = s;
    }
    let last = history.last().cloned().expect("at least one evaluation");
    let info: &BackendInfo = trainer.backend();
    let summary = Summary {
        steps: trainer.steps_done(),
        steps_this_run: steps,
        seconds: start.elapsed().as_secs_f64(),
        steps_per_second: if train_secs > 0.0 { steps as f64 / train_secs } else { 0.0 },
        backend: info.backend.clone(),
        adapter: info.adapter.clone(),
        backend_reason: info.reason.clone(),
        backend_choice: info.backend_choice.clone(),
        engine: trainer.engine_kind(),
        seed: trainer.config().train.seed,
        last: LastEvaluation(last),
        config: trainer.config().clone(),
    };
    Ok(RunOutput { summary, history, samples })
}

/// The metrics CSV's header: `metrics::table`'s columns, then each symptom's value and flag.
pub fn csv_header() -> String {
    let symptoms = crate::symptoms::NAMES.iter().map(|n| format!(",{n},{n}_present")).collect::<String>();
    table::names_all().join(",") + &symptoms
}

/// One metrics-CSV row (columns as in the header).
pub fn csv_row(m: &Metrics) -> String {
    let cells: Vec<String> = table::COLUMNS.iter().map(|c| (c.read)(m).csv()).collect();
    let symptoms = crate::symptoms::NAMES
        .iter()
        .map(|n| match m.symptoms.iter().find(|s| s.name == *n) {
            // Not applicable: both cells empty.
            Some(s) if s.applicable => format!(",{},{}", s.value, u8::from(s.present)),
            _ => ",,".into(),
        })
        .collect::<String>();
    cells.join(",") + &symptoms
}

/// Writes every evaluation as the metrics CSV.
pub fn write_metrics_csv(path: &Path, history: &[Metrics]) -> std::io::Result<()> {
    write_metrics_csv_with_cue(path, history, None)
}

/// The metrics CSV of a lesson: a last column, `cue`, holds `cue_of(step)`, the number (from
/// 0) of the cue whose settings trained the step (`Lesson::segment_of`).
pub fn write_metrics_csv_with_cue(path: &Path, history: &[Metrics], cue_of: Option<&dyn Fn(u64) -> Option<usize>>) -> std::io::Result<()> {
    crate::fsio::write_atomic_with(path, |f| {
        match cue_of {
            None => writeln!(f, "{}", csv_header())?,
            Some(_) => writeln!(f, "{},cue", csv_header())?,
        }
        for m in history {
            match cue_of {
                None => writeln!(f, "{}", csv_row(m))?,
                Some(cue) => writeln!(f, "{},{}", csv_row(m), cue(m.step).map(|c| c.to_string()).unwrap_or_default())?,
            }
        }
        Ok(())
    })
}

/// Writes samples (row-major `[x, y, …]`) as an `x,y` CSV.
pub fn write_samples_csv(path: &Path, samples: &[f32]) -> std::io::Result<()> {
    crate::fsio::write_atomic_with(path, |f| {
        writeln!(f, "x,y")?;
        for p in samples.chunks_exact(2) {
            writeln!(f, "{},{}", p[0], p[1])?;
        }
        Ok(())
    })
}

/// Sample metrics of externally produced samples (e.g. a PyTorch run), scored like ours.
#[derive(Clone, Debug, Serialize)]
pub struct SampleScore {
    /// Samples scored.
    pub samples: usize,
    /// Mode coverage (none for data without modes).
    #[serde(flatten)]
    pub modes: Option<crate::metrics::ModeStats>,
    /// KL(real ‖ fake) over the histogram.
    pub kl_grid: f64,
    /// JS divergence over the histogram.
    pub js_grid: f64,
    /// The histogram's box and bins, in words.
    pub grid: String,
}

/// Scores `samples` against the target and reference reals of `cfg`, as `train` does.
pub fn score_samples(cfg: &Config, samples: &[f32]) -> Result<SampleScore, crate::data::DataError> {
    let target = crate::data::Target::new(&cfg.data)?;
    let h = if cfg.view.half_width > 0.0 { cfg.view.half_width } else { target.fit_half_width() };
    let real = crate::trainer::evaluate::reference_set(cfg, &target);
    let (kl_grid, js_grid) = crate::metrics::grid_divergences(&real, samples, h, cfg.view.hist_bins);
    Ok(SampleScore {
        samples: samples.len() / 2,
        modes: target.modes().map(|m| crate::metrics::mode_stats(m, samples)),
        kl_grid,
        js_grid,
        grid: format!("{0}×{0} over [−{1}, {1}]², ε = {2}", cfg.view.hist_bins, h, crate::metrics::HIST_EPS),
    })
}

/// Resident memory of this process (Linux), for the memory-stability check.
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
