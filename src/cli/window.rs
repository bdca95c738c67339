//! No subcommand: the window.

use super::Cli;
#[cfg(feature = "gui")]
use super::RendererArg;
use anyhow::Result;
#[cfg(feature = "gui")]
use {anyhow::bail, ganscope::presets};

/// No subcommand: the window.
#[cfg(feature = "gui")]
pub fn window_cmd(args: &Cli) -> Result<()> {
    if let Some(name) = &args.preset {
        presets::get(name)?;
    }
    let lesson = args.lesson.as_deref().map(super::lesson::load).transpose()?;
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
        lesson,
    })
}

/// No subcommand, and no window in this build.
#[cfg(not(feature = "gui"))]
pub fn window_cmd(_args: &Cli) -> Result<()> {
    anyhow::bail!("this ganscope was built without the window (cargo feature `gui`); see `ganscope --help` for the commands")
}
