//! `ganscope render`: a run drawn offscreen by the window's own code, frame k after exactly
//! k·K steps, to a GIF, APNG, MP4 or PNG frames.

use super::{Cli, ConfigArgs};
#[cfg(feature = "gui")]
use anyhow::Context;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
#[cfg(feature = "gui")]
use {ganscope::presets, ganscope::trainer::Trainer};

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Steps to train (default with --lesson: the lesson's length).
    #[arg(long, required_unless_present = "lesson")]
    pub steps: Option<u64>,
    /// Render a lesson (a shipped lesson's name, a .toml file or a `gl1:` share string): its
    /// cues fire at their steps, its captions are drawn into the frames from their step on.
    #[arg(long, value_name = "LESSON", conflicts_with_all = ["preset", "config"])]
    pub lesson: Option<String>,
    /// With --lesson: seconds a pause cue holds the picture still.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub hold: f32,
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
    /// The data view's layers: surface, real, fake, arrows, manifold, field, modes (default
    /// surface,real,fake,arrows,modes; given, it holds over a lesson's cues).
    #[arg(long)]
    pub layers: Option<String>,
    /// Side plots beside the data view: symptoms, losses, modes, divergences, gradients,
    /// histogram, interpolation ("" for the data view alone; default losses,modes; given, it
    /// holds over a lesson's cues).
    #[arg(long)]
    pub plots: Option<String>,
}

/// `800x600` → [800, 600].
#[cfg(feature = "gui")]
fn parse_size(s: &str) -> Result<[u32; 2]> {
    let (w, h) = s.split_once(['x', 'X']).with_context(|| format!("--size wants WxH (e.g. 800x600), got `{s}`"))?;
    let num = |v: &str| v.trim().parse::<u32>().with_context(|| format!("--size wants WxH (e.g. 800x600), got `{s}`"));
    Ok([num(w)?, num(h)?])
}

#[cfg(feature = "gui")]
pub fn render_cmd(cli: &Cli, args: &RenderArgs) -> Result<()> {
    use ganscope::app::render::{self, RenderOptions};
    let lesson = args.lesson.as_deref().map(super::lesson::load).transpose()?;
    let mut cfg = args.cfg.load_for(lesson.as_ref())?;
    if let Some(seed) = args.seed {
        cfg.train.seed = seed;
    }
    let title = match (&lesson, &args.cfg.preset) {
        (Some(l), _) => l.title.clone(),
        (None, Some(name)) => presets::get(name).map(|p| p.meta.title.clone()).unwrap_or_else(|_| name.clone()),
        (None, None) => args.cfg.config.as_ref().map_or_else(|| "ganscope".into(), |p| p.display().to_string()),
    };
    if !(0.0..=60.0).contains(&args.hold) {
        bail!("--hold {} is outside 0 … 60 seconds", args.hold);
    }
    let steps = args.steps.or(lesson.as_ref().map(|l| l.steps)).expect("clap asks for --steps without --lesson");
    let opts = RenderOptions {
        steps,
        every: args.every,
        size: parse_size(&args.size)?,
        fps: args.fps,
        layers: render::parse_layers(args.layers.as_deref().unwrap_or("surface,real,fake,arrows,modes")).map_err(anyhow::Error::msg)?,
        plots: render::parse_plots(args.plots.as_deref().unwrap_or("losses,modes")).map_err(anyhow::Error::msg)?,
        fixed_layers: args.layers.is_some(),
        fixed_plots: args.plots.is_some(),
        out: args.out.clone(),
        title,
        lesson,
        hold: args.hold,
    };
    if !(1.0..=60.0).contains(&opts.fps) {
        bail!("--fps {} is outside 1 … 60", opts.fps);
    }
    render::Output::of(&opts.out).map_err(anyhow::Error::msg)?;
    let trainer = Trainer::new(cfg, cli.compute.select()?)?;
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let b = indicatif::ProgressBar::new(steps);
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
