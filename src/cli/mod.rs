//! The command line: `ganscope [presets|config|train|eval|bench]`; with no subcommand, the
//! window. Flags become a `Config` here; the engine knows nothing of them.

use anyhow::{Context, Result};
use clap::ValueEnum;
use clap::{Args, Parser, Subcommand};
use ganscope::backend::{self, BackendChoice, Compute};
use ganscope::config::Config;
use ganscope::engine::EngineChoice;
use ganscope::presets;
use std::path::PathBuf;

/// `println!` that returns the write error instead of panicking, so `ganscope presets | head`
/// ends quietly (see `main`) rather than with a panic about a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub mod bench;
pub mod config;
pub mod dirac;
pub mod eval;
pub mod lesson;
pub mod render;
pub mod sweep;
pub mod symptoms;
pub mod train;
pub mod window;

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
    /// Window: play a lesson (a shipped lesson's name, a .toml file or a `gl1:` share string).
    #[arg(long, value_name = "LESSON", conflicts_with_all = ["preset", "share", "dirac"])]
    pub lesson: Option<String>,
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
    Config(config::ConfigCmdArgs),
    /// Train headless, with metrics CSV, JSON summary and samples.
    Train(train::TrainArgs),
    /// Score samples from any generator (CSV of x,y) against a dataset; JSON on stdout.
    Eval(eval::EvalArgs),
    /// Time the training loop alone (no evaluation, no surface).
    Bench(bench::BenchArgs),
    /// The Dirac-GAN of Mescheder et al. 2018: which training methods converge.
    Dirac(dirac::DiracArgs),
    /// Run a grid of config values × seeds in parallel; write runs.csv, summary.csv, plot.png.
    Sweep(sweep::SweepArgs),
    /// Render a run to a GIF, APNG, MP4 or PNG frames: frame k after exactly k·K steps, drawn
    /// by the window's own code offscreen.
    Render(render::RenderArgs),
    /// Lessons: runs that change themselves on cue. List them, share one, or check its
    /// promises headless.
    Lesson(lesson::LessonArgs),
    /// The symptoms of mode collapse: their thresholds, or (--calibrate) how often each lights
    /// on healthy and on collapsed runs.
    Symptoms(symptoms::SymptomsArgs),
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
    /// The config: a lesson's start (with `--set` on it), or `load`'s.
    pub fn load_for(&self, lesson: Option<&ganscope::lesson::Lesson>) -> Result<Config> {
        let Some(l) = lesson else { return self.load() };
        let mut cfg = l.config.clone();
        cfg.set_all(&self.set)?;
        Ok(cfg)
    }

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
