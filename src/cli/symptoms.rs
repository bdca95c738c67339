//! `ganscope symptoms`: the symptoms' thresholds, or `--calibrate`: train the corpus of healthy
//! and collapsed presets and print how often each symptom (and the verdict) lights on each.

use anyhow::{Result, bail};
use clap::Args;
use ganscope::calibrate::{self, COLLAPSED, HEALTHY};
use ganscope::symptoms;

#[derive(Args, Debug)]
pub struct SymptomsArgs {
    /// Train the corpus (healthy: wgan-gp, r1, cgan, grid-cure, unrolled, instance-noise,
    /// diffusion-ring; collapsed: collapse, grid-collapse, trilemma) and print the table.
    #[arg(long)]
    pub calibrate: bool,
    /// Seeds per preset.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub seeds: u64,
    /// The first seed (the next ones follow). The default is one no threshold was tuned on.
    #[arg(long, default_value_t = 31337)]
    pub first_seed: u64,
    /// Steps per run (default: the last step each preset's promises read).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Runs at a time, one thread each (default: the cores).
    #[arg(long)]
    pub jobs: Option<usize>,
}

pub fn symptoms_cmd(args: &SymptomsArgs) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if !args.calibrate {
        writeln!(
            out,
            "The five symptoms of mode collapse and their thresholds (src/symptoms.rs); the verdict is \
             \"mode collapse\" at {} lit.\n\
             few_templates       exp(H) of nearest-mode shares ≤ K/4 (n/a below 4 modes); without modes, spread ratio < 0.3\n\
             d_loss_oscillates   sd of D's loss over {} evaluations ≥ {} of its equilibrium value, turning at ≥ 40 % (n/a for WGAN)\n\
             quality_stalls      G's loss falls ≥ {} of its scale over the window while quality does not rise (n/a for critic losses)\n\
             flat_interpolation  G moves < 0.25 of the data's spread along a latent line\n\
             peaked_histogram    one mode nearest to ≥ 50 % of the samples (n/a below 4 modes)\n\
             `ganscope symptoms --calibrate` measures them on healthy and collapsed runs.",
            symptoms::VERDICT,
            symptoms::WINDOW,
            symptoms::SWING,
            symptoms::FALL
        )?;
        return Ok(());
    }
    if args.steps.is_some_and(|s| s < calibrate::FROM_STEP) {
        bail!("--steps must be at least {} (evaluations are counted from there)", calibrate::FROM_STEP);
    }
    let seeds: Vec<u64> = (0..args.seeds).map(|i| args.first_seed + i).collect();
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    eprintln!(
        "training {} runs ({} presets × {} seeds from {}), {jobs} at a time…",
        (HEALTHY.len() + COLLAPSED.len()) * seeds.len(),
        HEALTHY.len() + COLLAPSED.len(),
        seeds.len(),
        args.first_seed
    );
    let runs = calibrate::train_corpus(&HEALTHY, &COLLAPSED, &seeds, args.steps, jobs)?;
    writeln!(out, "{}", calibrate::tabulate(&runs))?;
    Ok(())
}
