//! Calibrating the symptoms of mode collapse against runs whose truth is known: presets that
//! train healthily and presets that collapse, each on seeds no threshold was tuned on. Every
//! evaluation is labelled by what its *metrics* show (a healthy preset's seed that strands
//! counts for nothing), and each symptom's share of lit evaluations is counted on the healthy
//! ones (false alarms) and on the collapsed ones (detections). `ganscope symptoms --calibrate`
//! prints the table; `tests/symptoms.rs` holds the goals on a small corpus.

use crate::backend::{BackendChoice, select};
use crate::presets;
use crate::symptoms::{self, NAMES};
use crate::trainer::{Metrics, Trainer};
use std::fmt;

/// Presets whose runs fill the modes (WGAN-GP, zero-centred penalties, conditioning,
/// unrolling, instance noise, diffusion).
pub const HEALTHY: [&str; 7] = ["wgan-gp", "r1", "cgan", "grid-cure", "unrolled", "instance-noise", "diffusion-ring"];
/// Presets whose runs collapse.
pub const COLLAPSED: [&str; 3] = ["collapse", "grid-collapse", "trilemma"];
/// Evaluations before this step are not counted (the symptoms' look-back window fills, the
/// networks leave their start).
pub const FROM_STEP: u64 = 1000;

/// What a run's metrics show at one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// The modes are filled: at least ¾ of them covered, ≥ 30 % high quality, no mode with
    /// half the samples (one-mode data: ≥ 50 % high quality).
    Healthy,
    /// The mass is on few modes: one mode nearest to half the samples or more, or at most a
    /// quarter of the modes covered by samples that are mostly high quality (few modes
    /// covered by *blurred* samples spread everywhere is poor quality, not collapse).
    Collapsed,
}

/// The truth at `m`, where the metrics tell it (None: in between, or data without modes).
pub fn truth(m: &Metrics) -> Option<Truth> {
    let s = m.modes.as_ref()?;
    let (k, covered, hq) = (s.modes_total, s.modes_covered, s.hq_fraction);
    if k < 4 {
        return (hq >= 0.5).then_some(Truth::Healthy);
    }
    let share = s.dominant_share;
    if share >= 0.5 || (covered * 4 <= k && hq >= 0.3) {
        Some(Truth::Collapsed)
    } else if covered * 4 >= 3 * k && hq >= 0.3 {
        Some(Truth::Healthy)
    } else {
        None
    }
}

/// One run of the corpus: its preset, seed, what it was expected to show, and its
/// evaluations from `FROM_STEP` on.
#[derive(Clone, Debug)]
pub struct CorpusRun {
    /// The preset.
    pub preset: String,
    /// The seed.
    pub seed: u64,
    /// What the preset is in the corpus for.
    pub expected: Truth,
    /// Every evaluation from `FROM_STEP` on.
    pub evals: Vec<Metrics>,
}

/// Evaluations every this many steps, for every preset alike (the symptoms' look-back window
/// is `symptoms::WINDOW` evaluations).
pub const EVAL_EVERY: u64 = 100;

/// Trains `preset` on `seed` for `steps` (default: the last step its promises read),
/// evaluating every `EVAL_EVERY` steps from the start (the symptoms look back over the
/// evaluations), and keeps the evaluations from `FROM_STEP` on. One thread.
pub fn train(preset: &str, seed: u64, steps: Option<u64>, expected: Truth) -> anyhow::Result<CorpusRun> {
    let p = presets::get(preset)?;
    let mut cfg = p.config.clone();
    cfg.train.seed = seed;
    let steps = steps.unwrap_or_else(|| p.meta.promise.iter().map(|pr| pr.steps).max().unwrap_or(cfg.train.steps));
    cfg.train.eval_every = EVAL_EVERY;
    let every = EVAL_EVERY;
    let mut t = Trainer::new(cfg, select(BackendChoice::Cpu, false)?)?;
    let mut evals = Vec::new();
    for step in 1..=steps {
        t.record = step % every == 0;
        t.step()?;
        if t.record {
            let (m, _) = t.evaluate()?;
            if step >= FROM_STEP {
                evals.push(m);
            }
        }
    }
    Ok(CorpusRun { preset: preset.into(), seed, expected, evals })
}

/// Trains every (preset, seed) of the corpus, `jobs` at a time on one thread each, in order.
pub fn train_corpus(
    healthy: &[&str],
    collapsed: &[&str],
    seeds: &[u64],
    steps: Option<u64>,
    jobs: usize,
) -> anyhow::Result<Vec<CorpusRun>> {
    let work: Vec<(&str, u64, Truth)> = healthy
        .iter()
        .map(|p| (*p, Truth::Healthy))
        .chain(collapsed.iter().map(|p| (*p, Truth::Collapsed)))
        .flat_map(|(p, t)| seeds.iter().map(move |&s| (p, s, t)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(preset, seed, expected)) = work.get(i) else { break };
                    let run = pool.install(|| train(preset, seed, steps, expected));
                    done.lock().unwrap_or_else(|e| e.into_inner()).push((i, run));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// One row of the table: lit share on healthy and on collapsed evaluations.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// A symptom's name, or `verdict`.
    pub name: String,
    /// Share of healthy evaluations (where it applies) at which it is lit.
    pub false_alarms: f64,
    /// Healthy evaluations where it applies.
    pub healthy_n: usize,
    /// Share of collapsed evaluations (where it applies) at which it is lit.
    pub detections: f64,
    /// Collapsed evaluations where it applies.
    pub collapsed_n: usize,
    /// The preset with the most false alarms, and its share.
    pub worst_healthy: Option<(String, f64)>,
}

/// The calibration table: a row per symptom, one for the verdict (≥ `symptoms::VERDICT` lit)
/// and two for comparison (the other counts of 2, 3, 4 lit), and how many
/// evaluations the metrics could not label.
#[derive(Clone, Debug)]
pub struct Table {
    /// Per symptom, then `verdict`, then the comparison rows.
    pub rows: Vec<Row>,
    /// Evaluations whose metrics did not show what their preset is in the corpus for.
    pub unlabelled: usize,
    /// All evaluations.
    pub total: usize,
}

/// Counts every symptom (and the verdict) over the labelled evaluations of `runs`.
pub fn tabulate(runs: &[CorpusRun]) -> Table {
    let labelled: Vec<(&CorpusRun, &Metrics)> =
        runs.iter().flat_map(|r| r.evals.iter().map(move |m| (r, m))).filter(|(r, m)| truth(m) == Some(r.expected)).collect();
    let total = runs.iter().map(|r| r.evals.len()).sum();
    // (applies, lit) for a row's test at one evaluation.
    let row = |name: &str, test: &dyn Fn(&Metrics) -> Option<bool>| {
        let share = |want: Truth, preset: Option<&str>| {
            let seen: Vec<bool> = labelled
                .iter()
                .filter(|(r, _)| r.expected == want && preset.is_none_or(|p| r.preset == p))
                .filter_map(|(_, m)| test(m))
                .collect();
            (seen.iter().filter(|&&l| l).count() as f64 / seen.len().max(1) as f64, seen.len())
        };
        let (false_alarms, healthy_n) = share(Truth::Healthy, None);
        let (detections, collapsed_n) = share(Truth::Collapsed, None);
        let mut presets: Vec<&str> = runs.iter().filter(|r| r.expected == Truth::Healthy).map(|r| r.preset.as_str()).collect();
        presets.dedup();
        let worst_healthy = presets
            .into_iter()
            .map(|p| (p.to_string(), share(Truth::Healthy, Some(p)).0))
            .filter(|(_, s)| *s > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        Row { name: name.into(), false_alarms, healthy_n, detections, collapsed_n, worst_healthy }
    };
    let mut rows: Vec<Row> = NAMES
        .iter()
        .map(|&n| {
            row(n, &|m: &Metrics| {
                let s = m.symptoms.iter().find(|s| s.name == n)?;
                s.applicable.then_some(s.present)
            })
        })
        .collect();
    rows.push(row("verdict", &|m: &Metrics| Some(symptoms::verdict(&m.symptoms))));
    // The verdict at other counts, for comparison (not what the panel uses).
    for k in [2, 3, 4].into_iter().filter(|&k| k != symptoms::VERDICT) {
        rows.push(row(&format!("(≥ {k} lit)"), &|m: &Metrics| Some(m.symptoms.iter().filter(|s| s.present).count() >= k)));
    }
    Table { rows, unlabelled: total - labelled.len(), total }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| symptom | false alarms (healthy) | detections (collapsed) | most false alarms on |")?;
        writeln!(f, "|---|---|---|---|")?;
        for r in &self.rows {
            let pct = |v: f64, n: usize| if n == 0 { "n/a".to_string() } else { format!("{:.1} % of {n}", 100.0 * v) };
            let worst = r.worst_healthy.as_ref().map(|(p, s)| format!("{p} ({:.0} %)", 100.0 * s)).unwrap_or_else(|| "—".into());
            writeln!(f, "| {} | {} | {} | {worst} |", r.name, pct(r.false_alarms, r.healthy_n), pct(r.detections, r.collapsed_n))?;
        }
        write!(
            f,
            "({} of {} evaluations from step {FROM_STEP} did not show what their preset is in the corpus for, and are not counted)",
            self.unlabelled, self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(k: usize, covered: usize, hq: f64, share: f64) -> Metrics {
        let modes = crate::metrics::ModeStats {
            modes_covered: covered,
            modes_total: k,
            hq_fraction: hq,
            reverse_kl: None,
            per_mode_counts: vec![],
            per_mode_nearest: vec![],
            dominant_mode: None,
            dominant_share: share,
        };
        Metrics { modes: Some(modes), ..Default::default() }
    }

    #[test]
    fn the_metrics_label_an_evaluation() {
        assert_eq!(truth(&at(8, 8, 0.9, 0.15)), Some(Truth::Healthy));
        assert_eq!(truth(&at(8, 1, 0.9, 0.99)), Some(Truth::Collapsed), "on one mode");
        assert_eq!(truth(&at(8, 0, 0.0, 0.9)), Some(Truth::Collapsed), "a clump off the modes");
        assert_eq!(truth(&at(25, 4, 0.05, 0.1)), None, "few modes covered by blurred, spread samples");
        assert_eq!(truth(&at(25, 4, 0.6, 0.3)), Some(Truth::Collapsed), "sharp samples on few modes");
        assert_eq!(truth(&at(8, 5, 0.5, 0.3)), None, "in between");
        assert_eq!(truth(&at(8, 8, 0.1, 0.15)), None, "spread but blurred");
        assert_eq!(truth(&at(1, 1, 0.8, 1.0)), Some(Truth::Healthy), "one Gaussian, on it");
        assert_eq!(truth(&at(1, 0, 0.1, 1.0)), None);
        assert_eq!(truth(&Metrics::default()), None, "no modes");
    }

    #[test]
    fn the_table_counts_only_what_the_metrics_confirm() {
        let lit = |on: &[bool]| -> Vec<symptoms::Symptom> {
            NAMES
                .iter()
                .zip(on)
                .map(|(&name, &present)| symptoms::Symptom {
                    name,
                    value: 0.0,
                    threshold: 0.0,
                    present,
                    applicable: true,
                    why: String::new(),
                })
                .collect()
        };
        let with = |mut m: Metrics, on: &[bool]| {
            m.symptoms = lit(on);
            m
        };
        let healthy = CorpusRun {
            preset: "h".into(),
            seed: 0,
            expected: Truth::Healthy,
            evals: vec![
                with(at(8, 8, 0.9, 0.15), &[false; 5]),
                with(at(8, 8, 0.9, 0.15), &[true, false, false, false, false]),
                // A stranded evaluation of a healthy preset: not counted.
                with(at(8, 0, 0.0, 0.9), &[true; 5]),
            ],
        };
        let collapsed = CorpusRun {
            preset: "c".into(),
            seed: 0,
            expected: Truth::Collapsed,
            evals: vec![with(at(8, 1, 0.9, 0.99), &[true, true, true, false, false]), with(at(8, 1, 0.9, 0.99), &[true; 5])],
        };
        let t = tabulate(&[healthy, collapsed]);
        assert_eq!((t.unlabelled, t.total), (1, 5));
        let few = &t.rows[0];
        assert_eq!((few.false_alarms, few.healthy_n, few.detections, few.collapsed_n), (0.5, 2, 1.0, 2));
        let verdict = &t.rows[NAMES.len()];
        assert_eq!((verdict.name.as_str(), verdict.false_alarms, verdict.detections), ("verdict", 0.0, 1.0));
        assert_eq!(t.rows.len(), NAMES.len() + 3);
        assert_eq!(t.rows[3].detections, 0.5);
    }
}
