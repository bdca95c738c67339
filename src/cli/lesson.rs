//! `ganscope lesson`: the lessons that ship, a lesson's share string, and its promises checked
//! headless on its seeds (or others).

use anyhow::{Result, bail};
use clap::Args;
use ganscope::lesson::{self, Lesson};
use rayon::prelude::*;

#[derive(Args, Debug)]
pub struct LessonArgs {
    /// A shipped lesson's name, a lesson file (.toml) or a lesson share string (`gl1:…`).
    pub lesson: Option<String>,
    /// List the lessons that ship.
    #[arg(long)]
    pub list: bool,
    /// With a lesson (`lesson NAME --share` or `lesson --share NAME`): print its share string.
    /// With a share STRING: print the lesson file it holds.
    #[arg(long, value_name = "STRING", num_args = 0..=1)]
    pub share: Option<Option<String>>,
    /// Run the lesson headless on its seeds (or --seeds) and judge every promise; exits with an
    /// error when one fails.
    #[arg(long)]
    pub check: bool,
    /// Seeds for --check, e.g. `0,1,2` (default: the lesson's).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
}

/// A lesson by name, path or share string.
pub fn load(what: &str) -> Result<Lesson> {
    lesson::load_any(what).map_err(anyhow::Error::msg)
}

pub fn lesson_cmd(cli: &super::Cli, args: &LessonArgs) -> Result<()> {
    if args.list {
        for l in lesson::all() {
            outln!("{:<16} {} ({} cues, {} steps)", l.name, l.title, l.cues.len(), l.steps);
        }
        return Ok(());
    }
    if let Some(Some(text)) = &args.share {
        if args.lesson.is_some() {
            bail!("--share STRING prints the lesson a share string holds; give no lesson name with it");
        }
        if text.trim().starts_with("gl") && text.contains(':') {
            let l = lesson::unshare(text).map_err(anyhow::Error::msg)?;
            outln!("{}", l.text.trim_end());
        } else {
            // `--share NAME`: the share string of that lesson.
            outln!("{}", lesson::share(&load(text)?));
        }
        return Ok(());
    }
    let Some(name) = &args.lesson else {
        bail!("name a lesson (`ganscope lesson --list`), or give --list or --share STRING");
    };
    let l = load(name)?;
    if matches!(args.share, Some(None)) {
        outln!("{}", lesson::share(&l));
        return Ok(());
    }
    if !args.check {
        outln!("{} — {} steps from step 0", l.title, l.steps);
        for (i, c) in l.cues.iter().enumerate() {
            let what: Vec<String> = [
                (!c.set.is_empty()).then(|| format!("set {}", c.set.join(", "))),
                c.pause.then(|| "pause".to_string()),
                c.caption.as_ref().map(|t| format!("caption “{}”", t.chars().take(60).collect::<String>())),
                (!c.promise.is_empty()).then(|| format!("{} promise(s)", c.promise.len())),
            ]
            .into_iter()
            .flatten()
            .collect();
            outln!("  cue {i} at step {:>5}: {}", c.step, what.join("; "));
        }
        return Ok(());
    }
    let seeds = if args.seeds.is_empty() { l.seeds.clone() } else { args.seeds.clone() };
    let compute = cli.compute.select()?;
    let runs: Vec<(u64, Result<Vec<lesson::Verdict>>)> = seeds
        .par_iter()
        .map(|&seed| {
            let r = lesson::run(&l, seed, compute.clone())
                .map_err(anyhow::Error::from)
                .and_then(|out| lesson::judge(&l, &out.history).map_err(anyhow::Error::msg));
            (seed, r)
        })
        .collect();
    let mut failed = 0;
    for (seed, r) in runs {
        match r {
            Ok(verdicts) => {
                for v in verdicts {
                    failed += usize::from(!v.held);
                    outln!("seed {seed:>6}  cue {}  {:<24} {:>8.3}  {}", v.cue, v.metric, v.value, if v.held { "held" } else { "FAILED" });
                }
            }
            Err(e) => {
                failed += 1;
                outln!("seed {seed:>6}  did not finish: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} promise(s) of lesson `{}` failed", l.name);
    }
    Ok(())
}
