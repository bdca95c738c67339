//! `ganscope train`: a headless run (metrics CSV, JSON summary, samples), saved and resumed.

use super::{Cli, ConfigArgs};
use anyhow::{Context, Result};
use clap::Args;
use ganscope::config::Config;
use ganscope::fsio;
use ganscope::run::{self, write_metrics_csv_with_cue, write_samples_csv};
use ganscope::trainer::Trainer;
use ganscope::trainer::state::TrainState;
use std::path::PathBuf;

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
    /// Run a lesson (a shipped lesson's name, a .toml file or a `gl1:` share string): its
    /// config, its cues at their steps, its length; the metrics CSV gains a `cue` column.
    #[arg(long, value_name = "LESSON", conflicts_with_all = ["preset", "config", "resume"])]
    pub lesson: Option<String>,
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
    let lesson = args.lesson.as_deref().map(super::lesson::load).transpose()?;
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
            let mut cfg = args.cfg.load_for(lesson.as_ref())?;
            tweak(&mut cfg)?;
            if let Some(l) = &lesson
                && cfg.train.eval_every != l.config.train.eval_every
            {
                anyhow::bail!("a lesson keeps its train.eval_every ({}): its cues fall on evaluations", l.config.train.eval_every);
            }
            Trainer::new(cfg, compute)?
        }
    };
    let steps = args.steps.or(lesson.as_ref().map(|l| l.steps)).unwrap_or(trainer.config().train.steps);
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
    let mut script = ganscope::lesson::Script::default();
    let out = run::run_with(
        &mut trainer,
        steps,
        eval_every,
        |t| match &lesson {
            Some(l) => script.fire_due(l, t).map(drop),
            None => Ok(()),
        },
        |m| {
            if let Some(b) = &bar {
                let modes = m.modes.as_ref().map(|s| format!("modes {}/{} ", s.modes_covered, s.modes_total)).unwrap_or_default();
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
        let cue_of = lesson.as_ref().map(|l| move |step| l.segment_of(step));
        write_metrics_csv_with_cue(p, &out.history, cue_of.as_ref().map(|f| f as &dyn Fn(u64) -> Option<usize>))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.samples_out {
        write_samples_csv(p, &out.samples).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let json = serde_json::to_string_pretty(&out.summary)?;
    match &args.summary_out {
        Some(p) => fsio::write_atomic(p, json).with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            let s = &out.summary;
            let last = &s.last.0;
            let modes = last
                .modes
                .as_ref()
                .map(|m| {
                    format!(
                        "modes {}/{}, HQ {:.1}%, reverse KL {}, ",
                        m.modes_covered,
                        m.modes_total,
                        100.0 * m.hq_fraction,
                        m.reverse_kl.map_or("undefined (no HQ sample)".into(), |v| format!("{v:.3}"))
                    )
                })
                .unwrap_or_default();
            let resumed = if s.steps_this_run < s.steps { format!(" (now at step {})", s.steps) } else { String::new() };
            outln!(
                "{} steps{resumed} in {:.1}s ({:.0} steps/s): {modes}grid KL {:.3}, JS {:.3}",
                s.steps_this_run,
                s.seconds,
                s.steps_per_second,
                last.kl_grid,
                last.js_grid
            );
        }
    }
    Ok(())
}
