//! The Record & export panel's executor: PNGs of the window or the data view, recordings,
//! CSVs and the config file; and the recording's per-frame capture and badge.

use super::{GanscopeApp, export, recorder};
use crate::config::Config;
use crate::worker::Command;
use eframe::egui;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl GanscopeApp {
    /// A file name for this run's outputs: preset and step.
    pub(super) fn output_name(&self, what: &str, ext: &str) -> std::path::PathBuf {
        let step = self.live.snapshot.as_ref().map_or(0, |s| s.step);
        export::file_in(&self.state.export.folder, &format!("ganscope-{}-step{step}{what}.{ext}", self.controls.preset()))
    }

    /// The pixel rectangle of `region` in a screenshot of `size` pixels.
    pub(super) fn region_pixels(&self, region: export::Region, ctx: &egui::Context, size: [usize; 2]) -> (u32, u32, u32, u32) {
        let full = (0, 0, size[0] as u32, size[1] as u32);
        let view = match region {
            export::Region::Window => None,
            export::Region::DataView => self.data_view.last_rect,
            // The view and the side plots beside it: the rectangle holding both.
            export::Region::ViewAndPlots => self.data_view.last_rect.map(|r| self.side_rect.map_or(r, |s| r.union(s))),
        };
        match view {
            Some(r) => {
                let ppp = ctx.pixels_per_point();
                let clamp = |v: f32, max: usize| (v * ppp).round().clamp(0.0, max as f32) as u32;
                let (x0, y0, x1, y1) = (clamp(r.min.x, size[0]), clamp(r.min.y, size[1]), clamp(r.max.x, size[0]), clamp(r.max.y, size[1]));
                if x1 > x0 && y1 > y0 { (x0, y0, x1, y1) } else { full }
            }
            None => full,
        }
    }

    /// Does what the "Record & export" panel (or a key) asked.
    pub(super) fn export(&mut self, action: export::ExportAction, ctx: &egui::Context) {
        use export::ExportAction as A;
        let say = |app: &mut Self, msg: String| app.notice = Some((msg, Instant::now()));
        match action {
            A::ToggleRecording => match self.recorder.take() {
                Some(r) => {
                    let path = r.path.clone();
                    let dropped = r.dropped.clone();
                    let (notice, ctx2) = (self.pending_notice.clone(), ctx.clone());
                    say(self, format!("Finishing the recording to {}…", path.display()));
                    r.finish_in_background(move |result| {
                        let msg = match result {
                            Ok(n) => format!("Recorded {n} frames to {} ({} dropped).", path.display(), dropped.load(Ordering::Relaxed)),
                            Err(e) => format!("Recording failed: {e}"),
                        };
                        *notice.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                        ctx2.request_repaint();
                    });
                }
                None => {
                    let format = self.state.export.format;
                    if format == recorder::Format::Mp4
                        && let Some(why) = &self.mp4_unavailable
                    {
                        return say(self, why.clone());
                    }
                    let path = self.output_name("-recording", format.extension());
                    self.recorder = Some(recorder::Recorder::start(path, format, self.state.export.fps));
                }
            },
            A::Png(region) => {
                let what = if region == export::Region::DataView { "-view" } else { "" };
                let path = self.output_name(what, "png");
                let (done, ctx2) = (self.pending_notice.clone(), ctx.clone());
                // The crop is decided now; the pixels arrive after the frame renders.
                let size_px = |ctx: &egui::Context| {
                    let r = ctx.content_rect();
                    let p = ctx.pixels_per_point();
                    [(r.width() * p).round() as usize, (r.height() * p).round() as usize]
                };
                let rect = self.region_pixels(region, ctx, size_px(ctx));
                // The callback runs on the window's thread: crop and encode on another one.
                ctx.request_screenshot(move |image| {
                    std::thread::spawn(move || {
                        let f = recorder::crop_image(&image, rect);
                        let msg = match recorder::save_png(&path, &f) {
                            Ok(()) => format!("Saved {}", path.display()),
                            Err(e) => format!("Could not save {}: {e}", path.display()),
                        };
                        *done.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                        ctx2.request_repaint();
                    });
                });
            }
            A::MetricsCsv => {
                let path = self.output_name("-metrics", "csv");
                match crate::run::write_metrics_csv(&path, &self.live.metrics_log) {
                    Ok(()) => say(self, format!("Wrote {} ({} evaluations)", path.display(), self.live.metrics_log.len())),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::SamplesCsv => {
                let path = self.output_name("-samples", "csv");
                let fakes: Vec<f32> =
                    self.live.snapshot.as_ref().map(|s| s.view.fake.iter().flatten().copied().collect()).unwrap_or_default();
                match crate::run::write_samples_csv(&path, &fakes) {
                    Ok(()) => say(self, format!("Wrote {} ({} samples)", path.display(), fakes.len() / 2)),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::SaveConfig => {
                let path = std::path::PathBuf::from(&self.state.export.config_path);
                let cfg = self.live.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                match crate::fsio::write_atomic(&path, cfg.to_toml()) {
                    Ok(()) => say(self, format!("Saved the config to {}", path.display())),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::LoadConfig => {
                let path = std::path::PathBuf::from(&self.state.export.config_path);
                match std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| Config::from_toml(&t).map_err(|e| e.to_string()))
                {
                    Ok(cfg) => {
                        self.send(Command::SetConfig(Box::new(cfg)));
                        self.send(Command::Reset);
                        say(self, format!("Loaded {}", path.display()));
                    }
                    Err(e) => say(self, format!("Could not load {}: {e}", path.display())),
                }
            }
        }
    }

    /// While recording: a frame when one is due.
    pub(super) fn record_frame(&mut self, ctx: &egui::Context) {
        if self.state.export.region != export::Region::Window && self.data_view.last_rect.is_none() {
            return; // not drawn yet: the first frame fixes the recording's size
        }
        let Some(rec) = &mut self.recorder else { return };
        if !rec.due() {
            ctx.request_repaint_after(Duration::from_millis(10));
            return;
        }
        let sink = rec.sink();
        let r = ctx.content_rect();
        let p = ctx.pixels_per_point();
        let rect = self.region_pixels(self.state.export.region, ctx, [(r.width() * p).round() as usize, (r.height() * p).round() as usize]);
        ctx.request_screenshot(move |image| sink.push(recorder::crop_image(&image, rect)));
        ctx.request_repaint_after(Duration::from_millis(10));
    }

    /// The recording indicator: elapsed time, frames, drops.
    pub(super) fn recording_badge(&self, ui: &mut egui::Ui) {
        if let Some(r) = &self.recorder {
            let t = r.started.elapsed().as_secs();
            ui.colored_label(
                egui::Color32::from_rgb(230, 40, 40),
                format!(
                    "REC {}:{:02} · {} frames · {} dropped",
                    t / 60,
                    t % 60,
                    r.sent.load(Ordering::Relaxed),
                    r.dropped.load(Ordering::Relaxed)
                ),
            )
            .on_hover_text(format!("Recording to {} — F9 stops", r.path.display()));
        }
    }
}
