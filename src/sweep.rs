//! Sweeps: a grid of config values × seeds, each a headless run, summarised per run
//! (`runs.csv`) and per grid point (`summary.csv`: mean and standard deviation over seeds).
//!
//! Every run writes its summary (the JSON of `ganscope train --summary-out`) to
//! `DIR/runs/<id>.json`; a run whose file exists is done, so a second call resumes, and runs
//! made elsewhere (`--emit-jobs` lines under GNU parallel or a Slurm array) are collected the
//! same way. `DIR/sweep.json` records the grid, so `--collect DIR` needs nothing else.

use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The final metrics reported per run, in `runs.csv` and `summary.csv` column order.
pub static METRICS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| crate::metrics::table::names(crate::metrics::table::SWEEP));

/// What a sweep is: the swept keys and values, the seeds and the run length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// (key, values) per swept key, in command-line order.
    pub grid: Vec<(String, Vec<String>)>,
    /// Seeds per grid point.
    pub seeds: u64,
    /// Steps per run.
    pub steps: u64,
    /// The metric `plot.png` shows.
    pub metric: String,
}

/// One run of a sweep: a grid point and a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// (key, value) of every swept key.
    pub point: Vec<(String, String)>,
    /// The run's seed.
    pub seed: u64,
}

impl RunSpec {
    /// The run's file name stem: its values and seed, e.g. `loss.kind=ns,optim.d.lr=0.001,seed=2`.
    pub fn id(&self) -> String {
        let mut parts: Vec<String> = self.point.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("seed={}", self.seed));
        parts.join(",").chars().map(|c| if c.is_ascii_alphanumeric() || "=.,-_+".contains(c) { c } else { '_' }).collect()
    }

    /// `--set` assignments of the point.
    pub fn sets(&self) -> Vec<String> {
        self.point.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// The run's config: `base` with the point's values and the seed.
    pub fn config(&self, base: &Config) -> Result<Config, crate::config::ConfigError> {
        let mut cfg = base.clone();
        cfg.set_all(&self.sets())?;
        cfg.train.seed = self.seed;
        Ok(cfg)
    }
}

/// `key=v1,v2,…` as (key, values).
pub fn parse_axis(text: &str) -> Result<(String, Vec<String>), String> {
    let (key, values) = text.split_once('=').ok_or_else(|| format!("--grid wants key=v1,v2,…, got `{text}`"))?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
    if key.trim().is_empty() || values.is_empty() {
        return Err(format!("--grid wants key=v1,v2,…, got `{text}`"));
    }
    Ok((key.trim().to_string(), values))
}

impl Sweep {
    /// Every run: the cross product of the grid (first key slowest), then the seeds.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
        for (key, values) in &self.grid {
            points = points.iter().flat_map(|p| values.iter().map(move |v| [p.clone(), vec![(key.clone(), v.clone())]].concat())).collect();
        }
        points.into_iter().flat_map(|point| (0..self.seeds).map(move |seed| RunSpec { point: point.clone(), seed })).collect()
    }

    /// Checks every run's config against `base` before anything runs (a typo in a key or a
    /// value fails here, not an hour in).
    pub fn check(&self, base: &Config) -> Result<(), String> {
        for r in self.runs().iter().filter(|r| r.seed == 0) {
            r.config(base).map_err(|e| format!("grid point {}: {e}", r.sets().join(" ")))?;
        }
        Ok(())
    }

    /// Where the run's summary JSON goes in `dir`.
    pub fn run_path(dir: &Path, spec: &RunSpec) -> PathBuf {
        dir.join("runs").join(format!("{}.json", spec.id()))
    }
}

/// A finished run, from its summary JSON.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Which run.
    pub spec: RunSpec,
    /// Its final metrics by name.
    pub metrics: BTreeMap<&'static str, Option<f64>>,
    /// Training speed.
    pub steps_per_second: f64,
    /// Wall time.
    pub seconds: f64,
}

impl RunRecord {
    /// Reads a run's summary (as `ganscope train --summary-out` writes it).
    pub fn read(path: &Path, spec: RunSpec) -> Result<RunRecord, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{} is not a run summary: {e}", path.display()))?;
        if !v.get("steps").is_some_and(serde_json::Value::is_u64) {
            return Err(format!("{} is not a run summary: no `steps`", path.display()));
        }
        let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        Ok(RunRecord {
            spec,
            metrics: METRICS.iter().map(|&m| (m, num(m))).collect(),
            steps_per_second: num("steps_per_second").unwrap_or(f64::NAN),
            seconds: num("seconds").unwrap_or(f64::NAN),
        })
    }
}

fn cell(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(|x| x.to_string()).unwrap_or_default()
}

/// `runs.csv`: a row per run, the swept values, the seed, the final metrics, speed and time.
pub fn runs_csv(sweep: &Sweep, records: &[RunRecord]) -> String {
    let keys: Vec<&str> = sweep.grid.iter().map(|(k, _)| k.as_str()).collect();
    let mut out = [keys.join(","), "seed".into(), METRICS.join(","), "steps_per_second,seconds".into()].join(",");
    out.push('\n');
    for r in records {
        let values: Vec<&str> = r.spec.point.iter().map(|(_, v)| v.as_str()).collect();
        let metrics: Vec<String> = METRICS.iter().map(|m| cell(r.metrics[m])).collect();
        out += &format!("{},{},{},{},{}\n", values.join(","), r.spec.seed, metrics.join(","), r.steps_per_second, r.seconds);
    }
    out
}

/// Mean and sample standard deviation of the defined values (None when there are none).
pub fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    Some((mean, var.sqrt()))
}

/// Per grid point: (point, runs, per metric mean and std over its seeds), in grid order.
pub type PointSummary = (Vec<(String, String)>, usize, Vec<Option<(f64, f64)>>);

/// Mean, min and max of every metric per grid point, over its seeds.
pub fn summarise(sweep: &Sweep, records: &[RunRecord]) -> Vec<PointSummary> {
    let mut points: Vec<Vec<(String, String)>> = sweep.runs().into_iter().map(|r| r.point).collect();
    points.dedup();
    points
        .into_iter()
        .map(|p| {
            let mine: Vec<&RunRecord> = records.iter().filter(|r| r.spec.point == p).collect();
            let stats = METRICS.iter().map(|m| mean_std(&mine.iter().filter_map(|r| r.metrics[m]).collect::<Vec<_>>())).collect();
            (p, mine.len(), stats)
        })
        .collect()
}

/// `summary.csv`: a row per grid point, mean and std of each metric over its seeds.
pub fn summary_csv(sweep: &Sweep, records: &[RunRecord]) -> String {
    let keys: Vec<&str> = sweep.grid.iter().map(|(k, _)| k.as_str()).collect();
    let cols: Vec<String> = METRICS.iter().flat_map(|m| [format!("{m}_mean"), format!("{m}_std")]).collect();
    let mut out = format!("{},runs,{}\n", keys.join(","), cols.join(","));
    for (point, n, stats) in summarise(sweep, records) {
        let values: Vec<&str> = point.iter().map(|(_, v)| v.as_str()).collect();
        let cells: Vec<String> = stats.iter().flat_map(|s| [cell(s.map(|s| s.0)), cell(s.map(|s| s.1))]).collect();
        out += &format!("{},{n},{}\n", values.join(","), cells.join(","));
    }
    out
}

/// What `collect` found in a sweep directory.
#[derive(Debug, Default)]
pub struct Collected {
    /// The finished runs, in grid order.
    pub records: Vec<RunRecord>,
    /// Summaries present but unreadable (a job killed mid-write by an older ganscope, a full
    /// disk): never trusted; the next `sweep` runs them again.
    pub damaged: Vec<(PathBuf, String)>,
}

/// The finished runs of `sweep` in `dir` (those with a readable summary file).
pub fn collect(dir: &Path, sweep: &Sweep) -> Collected {
    let mut out = Collected::default();
    for spec in sweep.runs() {
        let path = Sweep::run_path(dir, &spec);
        if path.exists() {
            match RunRecord::read(&path, spec) {
                Ok(r) => out.records.push(r),
                Err(e) => out.damaged.push((path, e)),
            }
        }
    }
    out
}

/// Whether `spec`'s run in `dir` is finished: its summary is there and reads as one.
pub fn is_done(dir: &Path, spec: &RunSpec) -> bool {
    RunRecord::read(&Sweep::run_path(dir, spec), spec.clone()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep() -> Sweep {
        Sweep {
            grid: vec![parse_axis("loss.kind=ns,wgan-gp").unwrap(), parse_axis("optim.d.lr=1e-3, 1e-4").unwrap()],
            seeds: 2,
            steps: 10,
            metric: "modes_covered".into(),
        }
    }

    #[test]
    fn the_grid_is_a_cross_product_times_seeds() {
        let runs = sweep().runs();
        assert_eq!(runs.len(), 8);
        assert_eq!(runs[0].id(), "loss.kind=ns,optim.d.lr=1e-3,seed=0");
        assert_eq!(runs[7].id(), "loss.kind=wgan-gp,optim.d.lr=1e-4,seed=1");
        let ids: std::collections::HashSet<String> = runs.iter().map(RunSpec::id).collect();
        assert_eq!(ids.len(), 8, "ids are unique");
        assert!(parse_axis("loss.kind").is_err() && parse_axis("=1,2").is_err() && parse_axis("a=").is_err());
        let mut bad = sweep();
        bad.grid[0].1.push("banana".into());
        assert!(bad.check(&Config::default()).unwrap_err().contains("loss.kind"));
    }

    #[test]
    fn summaries_are_means_and_sample_stds_over_seeds() {
        let s = sweep();
        let records: Vec<RunRecord> = s
            .runs()
            .into_iter()
            .map(|spec| {
                let v = spec.seed as f64 * 2.0 + if spec.point[0].1 == "ns" { 1.0 } else { 5.0 };
                RunRecord { metrics: METRICS.iter().map(|&m| (m, Some(v))).collect(), spec, steps_per_second: 100.0, seconds: 1.0 }
            })
            .collect();
        let sum = summarise(&s, &records);
        assert_eq!(sum.len(), 4);
        // seeds 0 and 1: values 1 and 3 → mean 2, sample std √2.
        let (mean, std) = sum[0].2[0].unwrap();
        assert!((mean - 2.0).abs() < 1e-12 && (std - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(summary_csv(&s, &records).lines().count(), 5);
        assert_eq!(runs_csv(&s, &records).lines().count(), 9);
        assert!(runs_csv(&s, &records).starts_with("loss.kind,optim.d.lr,seed,modes_covered,"));
    }
}
