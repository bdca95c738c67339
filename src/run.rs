//! The headless run: train N steps, evaluate every K, write the metrics CSV, the JSON summary
//! and the final samples. The CLI, the preset tests and the benchmarks all go through here.

use crate::backend::BackendInfo;
use crate::config::Config;
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
    /// Modes covered at the last evaluation (none for data without modes).
    pub modes_covered: Option<usize>,
    /// Modes of the target.
    pub modes_total: Option<usize>,
    /// Share of high-quality samples at the last evaluation.
    pub hq_fraction: Option<f64>,
    /// A conditional G's label accuracy at the last evaluation (`Metrics::label_accuracy`).
    pub label_accuracy: Option<f64>,
    /// Reverse KL of the high-quality samples' mode histogram from uniform.
    pub reverse_kl: Option<f64>,
    /// KL(real ‖ fake) over the view box's histogram.
    pub kl_grid: f64,
    /// Jensen–Shannon divergence over the view box's histogram.
    pub js_grid: f64,
    /// High-quality samples per mode.
    pub per_mode_counts: Option<Vec<usize>>,
    /// All samples by nearest mode.
    pub per_mode_nearest: Option<Vec<usize>>,
    /// The mode nearest to most samples.
    pub dominant_mode: Option<usize>,
    /// D's loss at the last evaluation.
    pub d_loss: f32,
    /// G's loss at the last evaluation.
    pub g_loss: f32,
    /// Network evaluations per generated sample (1 for a GAN; T or DDIM's steps for diffusion).
    pub nfe_per_sample: usize,
    /// Wall time to draw 1,000 samples, in milliseconds.
    pub sample_ms_per_1000: f64,
    /// The five symptoms of mode collapse at the last evaluation: name → {value, present}.
    pub symptoms: std::collections::BTreeMap<&'static str, SymptomState>,
    /// Everything measured at the last evaluation.
    pub final_metrics: Metrics,
    /// The config that ran.
    pub config: Config,
}

/// A symptom's value and whether it is present.
#[derive(Clone, Debug, Serialize)]
pub struct SymptomState {
    /// The symptom's measured value.
    pub value: f64,
    /// Whether it crosses its threshold.
    pub present: bool,
    /// Whether it can be read on this run (false: not applicable, never present).
    pub applicable: bool,
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
        modes_covered: last.modes_covered,
        modes_total: last.modes_total,
        hq_fraction: last.hq_fraction,
        label_accuracy: last.label_accuracy,
        reverse_kl: last.reverse_kl,
        kl_grid: last.kl_grid,
        js_grid: last.js_grid,
        per_mode_counts: last.per_mode_counts.clone(),
        per_mode_nearest: last.per_mode_nearest.clone(),
        dominant_mode: last.dominant_mode,
        d_loss: last.d_loss,
        g_loss: last.g_loss,
        nfe_per_sample: last.nfe_per_sample,
        sample_ms_per_1000: last.sample_ms_per_1000,
        symptoms: last
            .symptoms
            .iter()
            .map(|s| (s.name, SymptomState { value: s.value, present: s.present, applicable: s.applicable }))
            .collect(),
        final_metrics: last,
        config: trainer.config().clone(),
    };
    Ok(RunOutput { summary, history, samples })
}

/// Column names of the metrics CSV, one row per evaluation.
pub const CSV_HEADER: &str = "step,seconds,modes_covered,modes_total,hq_fraction,reverse_kl,kl_grid,js_grid,\
d_loss,g_loss,d_real,d_fake,d_grad_norm,g_grad_norm,d_input_grad_norm,critic_gap,instance_std,per_mode_counts,\
dominant_mode,dominant_share,per_mode_nearest,nfe_per_sample,sample_ms_per_1000,label_accuracy,per_label_accuracy,\
few_templates,few_templates_present,d_loss_oscillates,d_loss_oscillates_present,quality_stalls,quality_stalls_present,\
flat_interpolation,flat_interpolation_present,peaked_histogram,peaked_histogram_present";

/// One metrics-CSV row (columns as in the header).
pub fn csv_row(m: &Metrics) -> String {
    fn opt<T: ToString>(v: &Option<T>) -> String {
        v.as_ref().map(ToString::to_string).unwrap_or_default()
    }
    let list =
        |v: &Option<Vec<usize>>| v.as_ref().map(|c| c.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")).unwrap_or_default();
    let counts = list(&m.per_mode_counts);
    format!(
        "{},{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{}{}",
        m.step,
        m.seconds,
        opt(&m.modes_covered),
        opt(&m.modes_total),
        opt(&m.hq_fraction),
        opt(&m.reverse_kl),
        m.kl_grid,
        m.js_grid,
        m.d_loss,
        m.g_loss,
        m.d_real,
        m.d_fake,
        m.d_grad_norm,
        m.g_grad_norm,
        m.d_input_grad_norm,
        opt(&m.critic_gap),
        m.instance_std,
        counts,
        opt(&m.dominant_mode),
        opt(&m.dominant_share),
        list(&m.per_mode_nearest),
        m.nfe_per_sample,
        m.sample_ms_per_1000,
        opt(&m.label_accuracy),
        m.per_label_accuracy.as_ref().map(|v| v.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>().join(" ")).unwrap_or_default(),
        crate::symptoms::NAMES
            .iter()
            .map(|n| match m.symptoms.iter().find(|s| s.name == *n) {
                // Not applicable: both cells empty.
                Some(s) if !s.applicable => ",,".into(),
                Some(s) => format!(",{},{}", s.value, u8::from(s.present)),
                None => ",,".into(),
            })
            .collect::<String>()
    )
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
            None => writeln!(f, "{CSV_HEADER}")?,
            Some(_) => writeln!(f, "{CSV_HEADER},cue")?,
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
    /// Modes covered.
    pub modes_covered: Option<usize>,
    /// Modes of the target.
    pub modes_total: Option<usize>,
    /// Share of high-quality samples.
    pub hq_fraction: Option<f64>,
    /// Reverse KL of the mode histogram from uniform.
    pub reverse_kl: Option<f64>,
    /// High-quality samples per mode.
    pub per_mode_counts: Option<Vec<usize>>,
    /// All samples by nearest mode.
    pub per_mode_nearest: Option<Vec<usize>>,
    /// The mode nearest to most samples.
    pub dominant_mode: Option<usize>,
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
    let stats = target.modes().map(|m| crate::metrics::mode_stats(m, samples));
    let (kl_grid, js_grid) = crate::metrics::grid_divergences(&real, samples, h, cfg.view.hist_bins);
    Ok(SampleScore {
        samples: samples.len() / 2,
        modes_covered: stats.as_ref().map(|s| s.modes_covered),
        modes_total: stats.as_ref().map(|s| s.modes_total),
        hq_fraction: stats.as_ref().map(|s| s.hq_fraction),
        reverse_kl: stats.as_ref().and_then(|s| s.reverse_kl),
        per_mode_nearest: stats.as_ref().map(|s| s.per_mode_nearest.clone()),
        dominant_mode: stats.as_ref().and_then(|s| s.dominant_mode),
        per_mode_counts: stats.map(|s| s.per_mode_counts),
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
