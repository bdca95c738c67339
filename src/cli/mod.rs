//! The command line: `ganscope [presets|config|train|eval|bench]`; with no subcommand, the
//! window. Flags become a `Config` here; the engine knows nothing of them.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use clap::{Args, Parser, Subcommand};
use ganscope::backend::{self, BackendChoice, Compute};
use ganscope::config::Config;
use ganscope::engine::EngineChoice;
use ganscope::fsio;
use ganscope::presets;
use ganscope::run::{self, write_metrics_csv, write_samples_csv};
use ganscope::trainer::Trainer;
use ganscope::trainer::state::TrainState;
use std::path::PathBuf;
use std::time::Instant;

pub mod sweep;
pub mod symptoms;

/// `println!` that returns the write error instead of panicking, so `ganscope presets | head`
/// ends quietly (see `main`) rather than with a panic about a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

#[derive(Parser, Debug)]
#[command(name = "ganscope", version, about = "Watch a GAN learn a 2-D distribution — and watch it fail.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Window: start from this preset.
    #[arg(long, global = false)]
    pub preset: Option<String>,
    /// Window: open on the run a share string holds (`ganscope config … --share`).
    #[arg(long, value_name = "STRING", conflicts_with = "preset")]
    pub share: Option<String>,
    /// Window: record the window from the start to FILE (.gif, .png for APNG, .mp4 with ffmpeg);
    /// F9 stops, closing the window finishes it.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Window: what draws it. `glow` (OpenGL) is ≈ 4× faster than `wgpu` on a software
    /// rasteriser (no GPU); on a GPU both keep up.
    #[arg(long, value_enum, default_value_t = RendererArg::Glow)]
    pub renderer: RendererArg,
    /// Window: start in presentation mode (controls hidden, everything larger; F11 toggles).
    #[arg(long)]
    pub present: bool,
    /// Window: open on the Dirac-GAN tab with this Dirac preset (`ganscope dirac --list`).
    #[arg(long)]
    pub dirac: Option<String>,
    /// Window: with --screenshot, train this many steps before the shot.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Window: write a PNG of the whole window after --steps steps, then exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// Where training runs: the device and the engine.
#[derive(Args, Debug, Clone)]
pub struct ComputeArgs {
    /// Compute device: `auto` takes a real GPU when there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, global = true)]
    pub backend: BackendArg,
    /// Training engine: `auto` takes the host fast path on the CPU when the networks allow it;
    /// `burn` forces burn's autodiff (e.g. to compare the two).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto, global = true)]
    pub engine: EngineArg,
    /// CPU threads training may use (default: every core). A sweep's job lines say 1: a
    /// scheduler runs one job per core.
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RendererArg {
    Glow,
    Wgpu,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackendArg {
    Auto,
    Cpu,
    Wgpu,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EngineArg {
    Auto,
    Host,
    Burn,
}

impl ComputeArgs {
    pub fn backend(&self) -> BackendChoice {
        match self.backend {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Cpu => BackendChoice::Cpu,
            BackendArg::Wgpu => BackendChoice::Wgpu,
        }
    }

    pub fn engine(&self) -> EngineChoice {
        match self.engine {
            EngineArg::Auto => EngineChoice::Auto,
            EngineArg::Host => EngineChoice::Host,
            EngineArg::Burn => EngineChoice::Burn,
        }
    }

    /// The flags that choose the device and the engine, as a job line repeats them.
    pub fn words(&self) -> Vec<String> {
        let name = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
        vec!["--backend".into(), name(&self.backend), "--engine".into(), name(&self.engine)]
    }

    /// Caps rayon's pool (every CPU pass runs on it) at `--threads`, before anything uses it.
    pub fn apply_threads(&self) -> Result<()> {
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new().num_threads(n as usize).build_global().context("cannot set up the --threads pool")?;
        }
        Ok(())
    }

    /// `GANSCOPE_NO_GPU_PROBE` (set) skips the GPU probe under `--backend auto`.
    pub fn probe_gpu(&self) -> bool {
        std::env::var_os("GANSCOPE_NO_GPU_PROBE").is_none()
    }

    pub fn select(&self) -> Result<Compute> {
        Ok(backend::select(self.backend(), self.probe_gpu())?.with_engine(self.engine()))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the presets: names and titles.
    Presets,
    /// Print a full config as TOML (every key with its value), or as a share string.
    Config(ConfigCmdArgs),
    /// Train headless, with metrics CSV, JSON summary and samples.
    Train(TrainArgs),
    /// Score samples from any generator (CSV of x,y) against a dataset; JSON on stdout.
    Eval(EvalArgs),
    /// Time the training loop alone (no evaluation, no surface).
    Bench(BenchArgs),
    /// The Dirac-GAN of Mescheder et al. 2018: which training methods converge.
    Dirac(DiracArgs),
    /// Run a grid of config values × seeds in parallel; write runs.csv, summary.csv, plot.png.
    Sweep(sweep::SweepArgs),
    /// Render a run to a GIF, APNG, MP4 or PNG frames: frame k after exactly k·K steps, drawn
    /// by the window's own code offscreen.
    Render(RenderArgs),
    /// The symptoms of mode collapse: their thresholds, or (--calibrate) how often each lights
    /// on healthy and on collapsed runs.
    Symptoms(symptoms::SymptomsArgs),
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Steps to train.
    #[arg(long)]
    pub steps: u64,
    /// A frame every K steps (and one at step 0): `--steps 600 --every 20` gives 31 frames.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// FILE.gif, FILE.apng (or .png), FILE.mp4 (needs ffmpeg), or DIR/ for one PNG per frame.
    #[arg(long)]
    pub out: PathBuf,
    /// Frame size in pixels.
    #[arg(long, default_value = "800x600", value_name = "WxH")]
    pub size: String,
    /// Frames per second of the video.
    #[arg(long, default_value_t = 10.0)]
    pub fps: f32,
    /// The data view's layers: surface, real, fake, arrows, manifold, field, modes.
    #[arg(long, default_value = "surface,real,fake,arrows,modes")]
    pub layers: String,
    /// Side plots beside the data view: symptoms, losses, modes, divergences, gradients,
    /// histogram, interpolation ("" for the data view alone).
    #[arg(long, default_value = "losses,modes")]
    pub plots: String,
}

/// `800x600` → [800, 600].
fn parse_size(s: &str) -> Result<[u32; 2]> {
    let (w, h) = s.split_once(['x', 'X']).with_context(|| format!("--size wants WxH (e.g. 800x600), got `{s}`"))?;
    let num = |v: &str| v.trim().parse::<u32>().with_context(|| format!("--size wants WxH (e.g. 800x600), got `{s}`"));
    Ok([num(w)?, num(h)?])
}

#[cfg(feature = "gui")]
pub fn render_cmd(cli: &Cli, args: &RenderArgs) -> Result<()> {
    use ganscope::app::render::{self, RenderOptions};
    let mut cfg = args.cfg.load()?;
    if let Some(seed) = args.seed {
        cfg.train.seed = seed;
    }
    let title = match &args.cfg.preset {
        Some(name) => presets::get(name).map(|p| p.meta.title.clone()).unwrap_or_else(|_| name.clone()),
        None => args.cfg.config.as_ref().map_or_else(|| "ganscope".into(), |p| p.display().to_string()),
    };
    let opts = RenderOptions {
        steps: args.steps,
        every: args.every,
        size: parse_size(&args.size)?,
        fps: args.fps,
        layers: render::parse_layers(&args.layers).map_err(anyhow::Error::msg)?,
        plots: render::parse_plots(&args.plots).map_err(anyhow::Error::msg)?,
        out: args.out.clone(),
        title,
    };
    if !(1.0..=60.0).contains(&opts.fps) {
        bail!("--fps {} is outside 1 … 60", opts.fps);
    }
    render::Output::of(&opts.out).map_err(anyhow::Error::msg)?;
    let trainer = Trainer::new(cfg, cli.compute.select()?)?;
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let b = indicatif::ProgressBar::new(args.steps);
        b.set_style(indicatif::ProgressStyle::with_template("{msg:9} {bar:40} {pos}/{len}  eta {eta}").expect("valid template"));
        b
    });
    let progress = |stage: &str, done: u64, total: u64| {
        if let Some(b) = &bar {
            if b.message() != stage {
                b.set_message(stage.to_string());
                b.set_length(total);
            }
            b.set_position(done);
        }
    };
    let report = render::render(trainer, &opts, &progress).map_err(anyhow::Error::msg)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    eprintln!(
        "wrote {} frames ({}x{}) to {}; drawing a frame took {:.1} ms (median)",
        report.frames,
        opts.size[0],
        opts.size[1],
        opts.out.display(),
        report.draw_ms_median
    );
    Ok(())
}

#[cfg(not(feature = "gui"))]
pub fn render_cmd(_cli: &Cli, _args: &RenderArgs) -> Result<()> {
    bail!("`render` draws with the window's code: this ganscope was built without it (cargo feature `gui`)")
}

/// Where the config comes from: a preset or a file, then `--set` overrides.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// A TOML config file (as printed by `ganscope config`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a key, e.g. `--set loss.kind=wgan-gp --set optim.d.lr=1e-4`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl ConfigArgs {
    pub fn load(&self) -> Result<Config> {
        let mut cfg = match (&self.preset, &self.config) {
            (Some(name), _) => presets::get(name)?.config,
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
                Config::from_toml(&text).with_context(|| format!("in config file {}", path.display()))?
            }
            (None, None) => Config::default(),
        };
        cfg.set_all(&self.set)?;
        Ok(cfg)
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Steps to train (default: the config's train.steps).
    #[arg(long)]
    pub steps: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub eval_every: Option<u64>,
    #[arg(long)]
    pub metrics_out: Option<PathBuf>,
    #[arg(long)]
    pub summary_out: Option<PathBuf>,
    #[arg(long)]
    pub samples_out: Option<PathBuf>,
    /// After training, save the whole state (weights, optimizer moments, random stream, step)
    /// to FILE, for `--resume`.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
    /// Continue a saved run exactly where it stopped (`--steps` more steps); `--set` may change
    /// what keeps the networks (loss, regularisers, learning rates, schedule, noise).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["preset", "config"])]
    pub resume: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// CSV of x,y rows.
    #[arg(long)]
    pub samples: PathBuf,
    #[command(flatten)]
    pub cfg: ConfigArgs,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    #[arg(long, default_value_t = 500)]
    pub steps: u64,
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,
    /// Also log the resident memory to stderr every N timed steps (to check that a long run
    /// stays flat within one process).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rss_every: Option<u64>,
}

#[derive(Args, Debug)]
pub struct DiracArgs {
    /// Print |(θ, ψ)| after the run for every method × {simultaneous, alternating 1, alternating 5}.
    #[arg(long, conflicts_with_all = ["method", "update", "d_steps", "gamma"])]
    pub table: bool,
    /// List the Dirac presets of the window's Dirac-GAN tab.
    #[arg(long, conflicts_with_all = ["method", "table"])]
    pub list: bool,
    /// gan, nsgan, wgan, wgan-gp, instance-noise, gp, nsgan-gp, consensus.
    #[arg(long, required_unless_present_any = ["table", "list"])]
    pub method: Option<String>,
    #[arg(long, value_enum, default_value_t = UpdateArg::Sim)]
    pub update: UpdateArg,
    /// Discriminator steps per generator step (alternating updates).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub d_steps: u32,
    #[arg(long, default_value_t = ganscope::dirac::STEPS)]
    pub steps: usize,
    /// Step size (both players).
    #[arg(long, default_value_t = ganscope::dirac::H)]
    pub h: f64,
    /// Penalty / consensus weight, as γ/2·‖∇D‖² (default: the method's, from the paper's notebook).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Start point θ,ψ.
    #[arg(long, value_parser = parse_pair, default_value = "1,1")]
    pub start: (f64, f64),
    /// Print JSON (`theta`, `psi`, `norm`, `converged`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum UpdateArg {
    /// Simultaneous gradient steps.
    Sim,
    /// The generator, then the discriminator (`--d-steps` of them).
    Alt,
    /// The continuous flow, integrated by Runge–Kutta 4 with step h.
    Cont,
}

fn parse_pair(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("expected θ,ψ (two numbers and a comma), got `{s}`"))?;
    let num = |t: &str| t.trim().parse::<f64>().map_err(|_| format!("`{t}` is not a number"));
    Ok((num(a)?, num(b)?))
}

pub fn dirac_cmd(args: &DiracArgs) -> Result<()> {
    use ganscope::dirac::{self, DiracGan, Method, Outcome, Update};
    if !(args.h.is_finite() && args.h > 0.0) {
        bail!("--h must be a positive number, got {}", args.h);
    }
    if args.list {
        for p in dirac::presets::PRESETS {
            outln!("{:<18} {}", p.name, p.title);
        }
        return Ok(());
    }
    if args.table {
        if args.json {
            let rows: Vec<_> = dirac::table_rows()
                .into_iter()
                .map(|(name, gan)| {
                    let cells: Vec<_> = dirac::TABLE_UPDATES
                        .iter()
                        .map(|&u| {
                            let o = Outcome::of(*gan.trajectory(args.start, u, args.h, args.steps).last().expect("points"));
                            serde_json::json!({ "update": u.describe(), "outcome": o })
                        })
                        .collect();
                    serde_json::json!({ "method": name, "cells": cells })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        outln!(
            "|(θ, ψ)| after {} steps of size {} from ({}, {}); converged below {}",
            args.steps,
            args.h,
            args.start.0,
            args.start.1,
            dirac::CONVERGED_BELOW
        );
        outln!("{:<16} {:>24} {:>24} {:>24}", "method", "simultaneous", "alternating, 1 D step", "alternating, 5 D steps");
        for (name, gan) in dirac::table_rows() {
            let cells: Vec<String> = dirac::TABLE_UPDATES
                .iter()
                .map(|&u| {
                    let o = Outcome::of(*gan.trajectory(args.start, u, args.h, args.steps).last().expect("points"));
                    format!("{:.2e} {}", o.norm, if o.converged { "converged" } else { "NOT converged" })
                })
                .collect();
            outln!("{:<16} {:>24} {:>24} {:>24}", name, cells[0], cells[1], cells[2]);
        }
        return Ok(());
    }
    let method = Method::parse(args.method.as_deref().unwrap_or_default()).map_err(anyhow::Error::msg)?;
    let mut gan = DiracGan::new(method);
    if let Some(g) = args.gamma {
        if !method.uses_gamma() {
            bail!("--gamma has no effect on `{}` (it weighs the penalty of wgan-gp, gp, nsgan-gp and consensus)", method.name());
        }
        gan = gan.with_gamma(g);
    }
    let update = match args.update {
        UpdateArg::Sim => Update::Simultaneous,
        UpdateArg::Alt => Update::Alternating { d_steps: args.d_steps },
        UpdateArg::Cont => Update::Continuous,
    };
    let o = Outcome::of(*gan.trajectory(args.start, update, args.h, args.steps).last().expect("points"));
    if args.json {
        outln!("{}", serde_json::to_string(&o)?);
    } else {
        outln!(
            "{}, {}: after {} steps θ = {:.6}, ψ = {:.6}, |(θ, ψ)| = {:.3e} ({})",
            method.title(),
            update.describe(),
            args.steps,
            o.theta,
            o.psi,
            o.norm,
            if o.converged { "converged" } else { "not converged" }
        );
    }
    Ok(())
}

pub fn presets_cmd() -> Result<()> {
    for p in presets::all() {
        outln!("{:<18} {}", p.name, p.meta.title);
    }
    Ok(())
}

/// `ganscope config`: the full config as TOML, or as a share string.
#[derive(Args, Debug)]
pub struct ConfigCmdArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Alone: print the config as one share string (`gs1:…`). With a STRING: print the TOML
    /// that share string holds.
    #[arg(long, value_name = "STRING", num_args = 0..=1)]
    pub share: Option<Option<String>>,
}

pub fn config_cmd(args: &ConfigCmdArgs) -> Result<()> {
    match &args.share {
        Some(Some(text)) => {
            if args.cfg.preset.is_some() || args.cfg.config.is_some() || !args.cfg.set.is_empty() {
                bail!("--share STRING prints the config a share string holds; --preset, --config and --set do not apply to it");
            }
            outln!("{}", ganscope::share::decode(text)?.to_toml().trim_end());
        }
        Some(None) => outln!("{}", ganscope::share::encode(&args.cfg.load()?)),
        None => outln!("{}", args.cfg.load()?.to_toml().trim_end()),
    }
    Ok(())
}

pub fn train_cmd(cli: &Cli, args: &TrainArgs) -> Result<()> {
    // The run's config: loaded (preset / file, then --set, --seed, --eval-every), or, when
    // resuming, the saved one with the same overrides applied.
    let tweak = |cfg: &mut Config| -> std::result::Result<(), ganscope::config::ConfigError> {
        if let Some(seed) = args.seed {
            cfg.train.seed = seed;
        }
        if let Some(k) = args.eval_every {
            cfg.set_key("train.eval_every", &k.to_string())?;
        }
        Ok(())
    };
    let compute = cli.compute.select()?;
    let info = compute.info.clone();
    let mut trainer = match &args.resume {
        Some(path) => {
            let state = TrainState::read(path).with_context(|| format!("cannot resume from {}", path.display()))?;
            Trainer::from_state_with(state, compute, |cfg| {
                cfg.set_all(&args.cfg.set)?;
                tweak(cfg)
            })
            .with_context(|| format!("cannot resume from {}", path.display()))?
        }
        None => {
            let mut cfg = args.cfg.load()?;
            tweak(&mut cfg)?;
            Trainer::new(cfg, compute)?
        }
    };
    let steps = args.steps.unwrap_or(trainer.config().train.steps);
    let eval_every = trainer.config().train.eval_every;
    eprintln!(
        "backend: {} — {}{}; engine: {}",
        info.backend,
        info.adapter,
        if info.reason.is_empty() { String::new() } else { format!(" ({})", info.reason) },
        trainer.engine_kind().describe()
    );
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = indicatif::ProgressBar::new(steps);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}  {msg}").expect("valid template"),
        );
        Some(b)
    } else {
        None
    };
    let out = run::run(
        &mut trainer,
        steps,
        eval_every,
        |m| {
            if let Some(b) = &bar {
                let modes = m.modes_covered.map(|c| format!("modes {c}/{} ", m.modes_total.unwrap_or(0))).unwrap_or_default();
                b.set_message(format!("{modes}JS {:.3}", m.js_grid));
            }
        },
        |s| {
            if let Some(b) = &bar {
                b.set_position(s);
            }
        },
    )?;
    if let Some(b) = bar {
        b.finish();
    }
    if let Some(p) = &args.save_state {
        trainer.save_state()?.write(p).with_context(|| format!("cannot save the state to {}", p.display()))?;
    }
    if let Some(p) = &args.metrics_out {
        write_metrics_csv(p, &out.history).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.samples_out {
        write_samples_csv(p, &out.samples).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let json = serde_json::to_string_pretty(&out.summary)?;
    match &args.summary_out {
        Some(p) => fsio::write_atomic(p, json).with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            let s = &out.summary;
            let modes = s
                .modes_covered
                .map(|c| {
                    format!(
                        "modes {c}/{}, HQ {:.1}%, reverse KL {}, ",
                        s.modes_total.unwrap_or(0),
                        100.0 * s.hq_fraction.unwrap_or(0.0),
                        s.reverse_kl.map_or("undefined (no HQ sample)".into(), |v| format!("{v:.3}"))
                    )
                })
                .unwrap_or_default();
            let resumed = if s.steps_this_run < s.steps { format!(" (now at step {})", s.steps) } else { String::new() };
            outln!(
                "{} steps{resumed} in {:.1}s ({:.0} steps/s): {modes}grid KL {:.3}, JS {:.3}",
                s.steps_this_run,
                s.seconds,
                s.steps_per_second,
                s.kl_grid,
                s.js_grid
            );
        }
    }
    Ok(())
}

pub fn eval_cmd(args: &EvalArgs) -> Result<()> {
    let cfg = args.cfg.load()?;
    let pts = ganscope::data::read_points_csv(&args.samples)?;
    if pts.is_empty() {
        bail!("{} has no samples", args.samples.display());
    }
    let flat: Vec<f32> = pts.iter().flatten().copied().collect();
    let score = run::score_samples(&cfg, &flat)?;
    outln!("{}", serde_json::to_string_pretty(&score)?);
    Ok(())
}

pub fn bench_cmd(cli: &Cli, args: &BenchArgs) -> Result<()> {
    let cfg = args.cfg.load()?;
    let compute = cli.compute.select()?;
    let info = compute.info.clone();
    let mut trainer = Trainer::new(cfg.clone(), compute)?;
    trainer.record = false;
    for _ in 0..args.warmup {
        trainer.step()?;
    }
    let t = Instant::now();
    for i in 1..=args.steps {
        trainer.step()?;
        if args.rss_every.is_some_and(|n| i.is_multiple_of(n)) {
            eprintln!("step {i}: RSS {:.1} MiB", ganscope::run::rss_mib().unwrap_or(f64::NAN));
        }
    }
    // Make sure queued device work is done before stopping the clock.
    let _ = trainer.compute().device.sync();
    let secs = t.elapsed().as_secs_f64();
    let sps = args.steps as f64 / secs;
    let rss_mib = ganscope::run::rss_mib();
    outln!(
        "ganscope: {sps:.1} steps/s ({} steps in {secs:.2}s, {} — {}, {}, RSS {})",
        args.steps,
        info.backend,
        info.adapter,
        trainer.engine_kind().describe(),
        rss_mib.map_or("unknown".into(), |m| format!("{m:.1} MiB"))
    );
    outln!(
        "{}",
        serde_json::json!({
            "impl": "ganscope",
            "steps": args.steps,
            "seconds": secs,
            "steps_per_second": sps,
            "backend": info.backend,
            "adapter": info.adapter,
            "threads": rayon::current_num_threads(),
            "engine": trainer.engine_kind(),
            "batch_size": cfg.train.batch_size,
            "loss": cfg.loss.kind,
            "d_steps": cfg.schedule.d_steps,
            "rss_mib": rss_mib,
        })
    );
    Ok(())
}

/// No subcommand: the window.
#[cfg(feature = "gui")]
pub fn window_cmd(args: &Cli) -> Result<()> {
    if let Some(name) = &args.preset {
        presets::get(name)?;
    }
    let shared = match &args.share {
        Some(text) => Some(ganscope::share::decode(text)?),
        None => None,
    };
    if let Some(name) = &args.dirac
        && ganscope::dirac::presets::get(name).is_none()
    {
        bail!("unknown Dirac preset `{name}` (see `ganscope dirac --list`)");
    }
    if let Some(p) = &args.record
        && !matches!(p.extension().and_then(|e| e.to_str()), Some("gif" | "png" | "apng" | "mp4"))
    {
        bail!("--record wants a .gif, .png (APNG) or .mp4 file, got {}", p.display());
    }
    if args.screenshot.is_some() && args.steps.is_none() {
        bail!("--screenshot needs --steps N (how long to train before the shot)");
    }
    // SAFETY: `main` calls this before starting any thread.
    unsafe { ganscope::app::limit_software_rasteriser() };
    ganscope::app::run_window(ganscope::app::Launch {
        preset: args.preset.clone(),
        backend: args.compute.backend(),
        probe_gpu: args.compute.probe_gpu(),
        engine: args.compute.engine(),
        screenshot: args.screenshot.clone().map(|p| (p, args.steps.unwrap_or(0))),
        dirac: args.dirac.clone(),
        config: shared,
        present: args.present,
        record: args.record.clone(),
        renderer: match args.renderer {
            RendererArg::Glow => ganscope::app::Renderer::Glow,
            RendererArg::Wgpu => ganscope::app::Renderer::Wgpu,
        },
    })
}

/// No subcommand, and no window in this build.
#[cfg(not(feature = "gui"))]
pub fn window_cmd(_args: &Cli) -> Result<()> {
    bail!("this ganscope was built without the window (cargo feature `gui`); see `ganscope --help` for the commands")
}
