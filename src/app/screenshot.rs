//! Screenshot mode (`--screenshot FILE --steps N`): train N steps, let the last state draw, write
//! a PNG of the whole window, log the frame statistics and the training device, then close.

use super::{GanscopeApp, recorder};
use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub(super) struct ScreenshotJob {
    path: PathBuf,
    pub(super) steps: u64,
    requested: bool,
    done: Arc<AtomicBool>,
    frames_after_target: u32,
    rss_logged: bool,
}

impl ScreenshotJob {
    /// A shot of the whole window after `steps` steps, to `path`.
    pub(super) fn new(path: PathBuf, steps: u64) -> Self {
        Self { path, steps, requested: false, done: Arc::new(AtomicBool::new(false)), frames_after_target: 0, rss_logged: false }
    }
}

impl GanscopeApp {
    /// Once a frame in screenshot mode.
    pub(super) fn screenshot_tick(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.screenshot else { return };
        let step = self.live.snapshot.as_ref().map_or(0, |s| s.step);
        if step >= 10_000 && !job.rss_logged {
            // For the memory-stability check: compare with the RSS logged at the end.
            job.rss_logged = true;
            eprintln!("window: RSS {:.1} MiB at step {step}", crate::run::rss_mib().unwrap_or(f64::NAN));
        }
        let paused = self.live.snapshot.as_ref().is_some_and(|s| !s.running);
        if step >= job.steps && paused && !job.requested {
            // Let a few frames draw the final state before the shot.
            job.frames_after_target += 1;
            if job.frames_after_target > 3 {
                job.requested = true;
                let (median, p99) = self.frame_times.stats();
                let (build, build99) = self.build_ms.stats();
                let (cpu, cpu99) = self.cpu_ms.stats();
                eprintln!(
                    "window: frame time median {median:.1} ms, p99 {p99:.1} ms; app build {build:.2} ms (p99 {build99:.2}); \
                     eframe CPU incl. rendering {cpu:.1} ms (p99 {cpu99:.1}); {:.0} steps/s while training; RSS {:.1} MiB at step {step}",
                    self.train_rate,
                    crate::run::rss_mib().unwrap_or(f64::NAN)
                );
                if let Some(ms) = self.first_frame_ms {
                    eprintln!("window: first frame on screen {ms:.0} ms after the process started");
                }
                if let Some(s) = &self.live.snapshot {
                    let b = &s.backend;
                    eprintln!(
                        "window: trained on {} ({}){}",
                        b.backend,
                        b.adapter,
                        if b.reason.is_empty() { String::new() } else { format!(": {}", b.reason) }
                    );
                }
                let (path, done) = (job.path.clone(), job.done.clone());
                let ctx2 = ctx.clone();
                ctx.request_screenshot(move |image| {
                    let [w, h] = image.size;
                    match recorder::save_png(&path, &recorder::crop_image(&image, (0, 0, w as u32, h as u32))) {
                        Ok(()) => eprintln!("wrote {} ({w}×{h})", path.display()),
                        Err(e) => eprintln!("error: cannot write {}: {e}", path.display()),
                    }
                    done.store(true, Ordering::SeqCst);
                    ctx2.request_repaint();
                });
            }
        }
        if job.done.load(Ordering::SeqCst) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ctx.request_repaint();
    }
}
