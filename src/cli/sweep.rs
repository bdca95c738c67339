//! `ganscope sweep`: a grid of config values × seeds, run here in parallel or emitted as job
//! lines (GNU parallel, xargs) or a Slurm array script, then collected into runs.csv,
//! summary.csv and plot.png. Every run is one summary file in DIR/runs/, written whole (see
//! `fsio`), so a run killed anywhere is simply run again by the next `sweep`.

use super::{Cli, ConfigArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use ganscope::fsio;
use ganscope::run;
use ganscope::sweep::{self, RunSpec, Sweep};
use ganscope::trainer::Trainer;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// A swept key and its values, e.g. `--grid optim.d.lr=1e-3,1e-4` (repeat for more keys;
    /// the first is the plot's x axis, the second its lines).
    #[arg(long, value_name = "KEY=V1,V2,…", required_unless_present = "collect")]
    pub grid: Vec<String>,
    /// Seeds per grid point (0, 1, …).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Steps per run (default: the config's train.steps).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Runs at a time (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// The metric plot.png shows.
    #[arg(long, default_value = "modes_covered")]
    pub metric: String,
    /// The sweep's directory (runs/, runs.csv, summary.csv, plot.png).
    #[arg(long, value_name = "DIR", required_unless_present = "collect")]
    pub out: Option<PathBuf>,
    /// Do not run: write one self-contained `ganscope train` command line per unfinished run
    /// to FILE (for GNU parallel, a Slurm array, …), then `--collect DIR` when they are done.
    #[arg(long, value_name = "FILE")]
    pub emit_jobs: Option<PathBuf>,
    /// Do not run: write an `sbatch` array script to FILE, one task per unfinished run (the
    /// job lines go to `--emit-jobs`, or DIR/jobs.txt), each task on one CPU with its output in
    /// DIR/logs/; then `--collect DIR`.
    #[arg(long, value_name = "FILE")]
    pub emit_slurm: Option<PathBuf>,
    /// Build runs.csv, summary.csv and plot.png in DIR from the runs finished there.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["grid", "emit_jobs", "emit_slurm", "preset", "config"])]
    pub collect: Option<PathBuf>,
}

pub fn sweep_cmd(cli: &Cli, args: &SweepArgs) -> Result<()> {
    use rayon::prelude::*;
    if let Some(dir) = &args.collect {
        let path = dir.join("sweep.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("{} is not a sweep directory (no sweep.json)", dir.display()))?;
        let sw: Sweep = serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?;
        return write_sweep_outputs(dir, &sw);
    }
    let dir = args.out.clone().expect("clap: --out is required without --collect");
    let base = args.cfg.load()?;
    let grid = args.grid.iter().map(|g| sweep::parse_axis(g)).collect::<std::result::Result<Vec<_>, _>>().map_err(anyhow::Error::msg)?;
    let sw = Sweep { grid, seeds: args.seeds, steps: args.steps.unwrap_or(base.train.steps), metric: args.metric.clone() };
    if !sweep::METRICS.contains(&sw.metric.as_str()) {
        bail!("unknown --metric `{}` (one of: {})", sw.metric, sweep::METRICS.join(", "));
    }
    sw.check(&base).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(dir.join("runs")).with_context(|| format!("cannot create {}", dir.display()))?;
    let record = dir.join("sweep.json");
    if let Ok(old) = std::fs::read_to_string(&record)
        && serde_json::from_str::<Sweep>(&old).ok().as_ref() != Some(&sw)
    {
        bail!("{} holds a different sweep (see its sweep.json); use another --out", dir.display());
    }
    fsio::write_atomic(&record, serde_json::to_string_pretty(&sw)?)?;
    // A summary that does not read (damaged) is not a finished run: it runs again.
    let todo: Vec<RunSpec> = sw.runs().into_iter().filter(|r| !sweep::is_done(&dir, r)).collect();
    let total = sw.runs().len();
    eprintln!("sweep: {total} runs ({} grid points × {} seeds), {} already done", total as u64 / sw.seeds, sw.seeds, total - todo.len());

    if args.emit_jobs.is_some() || args.emit_slurm.is_some() {
        return emit(cli, args, &sw, &dir, &todo);
    }

    let jobs = args.jobs.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |j| j as usize);
    let bar = indicatif::ProgressBar::new(todo.len() as u64 * sw.steps);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}  {msg}").expect("valid template"),
    );
    let started = Instant::now();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let compute = cli.compute.select()?;
    // One run per thread: small networks train fastest on one core each.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let results: Vec<Result<()>> = pool.install(|| {
        todo.par_iter()
            .map(|r| -> Result<()> {
                let cfg = r.config(&base)?;
                let mut t = Trainer::new(cfg, compute.clone())?;
                let out = run::run(&mut t, sw.steps, sw.steps, |_| {}, |_| bar.inc(1))?;
                let path = Sweep::run_path(&dir, r);
                fsio::write_atomic(&path, serde_json::to_string_pretty(&out.summary)?)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(format!("{n}/{} runs", todo.len()));
                Ok(())
            })
            .collect()
    });
    bar.finish_and_clear();
    let failed: Vec<String> = results.into_iter().zip(&todo).filter_map(|(r, s)| r.err().map(|e| format!("{}: {e:#}", s.id()))).collect();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    eprintln!(
        "sweep: {} runs in {:.1} min ({:.1} runs/min, {jobs} at a time)",
        todo.len() - failed.len(),
        minutes,
        (todo.len() - failed.len()) as f64 / minutes.max(1e-9)
    );
    write_sweep_outputs(&dir, &sw)?;
    if !failed.is_empty() {
        bail!("{} runs failed (the others are kept; run the same command again to retry):\n{}", failed.len(), failed.join("\n"));
    }
    Ok(())
}

/// runs.csv, summary.csv and plot.png from the finished runs in `dir`; damaged summaries are
/// named and left out.
fn write_sweep_outputs(dir: &Path, sw: &Sweep) -> Result<()> {
    let found = sweep::collect(dir, sw);
    for (path, why) in &found.damaged {
        eprintln!("sweep: left out {} ({why}); `ganscope sweep` with the same grid runs it again", path.display());
    }
    let records = found.records;
    fsio::write_atomic(&dir.join("runs.csv"), sweep::runs_csv(sw, &records))?;
    fsio::write_atomic(&dir.join("summary.csv"), sweep::summary_csv(sw, &records))?;
    fsio::write_atomic(&dir.join("plot.png"), ganscope::sweep_plot::render(sw, &records).map_err(anyhow::Error::msg)?)?;
    let missing = sw.runs().len() - records.len();
    eprintln!(
        "wrote {0}/runs.csv ({1} runs), {0}/summary.csv, {0}/plot.png{2}",
        dir.display(),
        records.len(),
        if missing > 0 { format!("; {missing} runs not finished yet") } else { String::new() }
    );
    Ok(())
}

/// A word for `sh`: quoted unless it is plainly safe.
fn quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "=.,-_+/:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `--emit-jobs` / `--emit-slurm`: one self-contained `ganscope train` line per unfinished run,
/// pinned to one thread (a scheduler runs one job per core), with every option of this sweep.
fn emit(cli: &Cli, args: &SweepArgs, sw: &Sweep, dir: &Path, todo: &[RunSpec]) -> Result<()> {
    let exe = std::env::current_exe()?;
    let source = match (&args.cfg.preset, &args.cfg.config) {
        (Some(p), _) => vec!["--preset".to_string(), p.clone()],
        (None, Some(c)) => vec!["--config".to_string(), std::fs::canonicalize(c)?.display().to_string()],
        (None, None) => Vec::new(),
    };
    let dir_abs = std::fs::canonicalize(dir)?;
    let mut lines = String::new();
    for r in todo {
        let mut words = vec![exe.display().to_string(), "train".into()];
        words.extend(source.iter().cloned());
        for s in args.cfg.set.iter().cloned().chain(r.sets()) {
            words.extend(["--set".into(), s]);
        }
        let steps = sw.steps.to_string();
        words.extend(["--seed".into(), r.seed.to_string(), "--steps".into(), steps.clone(), "--eval-every".into(), steps]);
        words.extend(cli.compute.words());
        words.extend(["--threads".into(), "1".into()]);
        words.extend(["--summary-out".into(), Sweep::run_path(&dir_abs, r).display().to_string()]);
        lines += &words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        lines.push('\n');
    }
    let jobs_file = args.emit_jobs.clone().unwrap_or_else(|| dir.join("jobs.txt"));
    fsio::write_atomic(&jobs_file, &lines).with_context(|| format!("cannot write {}", jobs_file.display()))?;
    eprintln!("wrote {} command lines to {}", todo.len(), jobs_file.display());
    if let Some(script) = &args.emit_slurm {
        if todo.is_empty() {
            bail!("every run of this sweep is finished: no Slurm array to write (`ganscope sweep --collect {}`)", dir.display());
        }
        let logs = dir_abs.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
        let text = slurm_script(&std::fs::canonicalize(&jobs_file)?, &logs, todo.len());
        fsio::write_atomic(script, text).with_context(|| format!("cannot write {}", script.display()))?;
        eprintln!("wrote {} (sbatch {0}: {} tasks, logs in {})", script.display(), todo.len(), logs.display());
    }
    eprintln!("when they are done: ganscope sweep --collect {}", dir.display());
    Ok(())
}

/// An `sbatch` array script: task i runs line i + 1 of `jobs`, on one CPU, output per task.
pub fn slurm_script(jobs: &Path, logs: &Path, n: usize) -> String {
    format!(
        "#!/bin/bash\n\
         # A ganscope sweep as a Slurm array: sbatch this file, then `ganscope sweep --collect DIR`.\n\
         #SBATCH --job-name=ganscope-sweep\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={logs}/task-%a.out\n\
         set -euo pipefail\n\
         line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {jobs})\n\
         [ -n \"$line\" ] || {{ echo \"no job line $((SLURM_ARRAY_TASK_ID + 1)) in {jobs}\" >&2; exit 1; }}\n\
         exec bash -c \"$line\"\n",
        last = n - 1,
        logs = quote(&logs.display().to_string()),
        jobs = quote(&jobs.display().to_string()),
    )
}
