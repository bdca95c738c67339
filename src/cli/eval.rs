//! `ganscope eval`: score anyone's samples (a CSV of x,y) against a dataset.

use super::ConfigArgs;
use anyhow::{Result, bail};
use clap::Args;
use ganscope::run;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// CSV of x,y rows.
    #[arg(long)]
    pub samples: PathBuf,
    #[command(flatten)]
    pub cfg: ConfigArgs,
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
