//! The window's bars: the status bar, the presenter's bar, the shortcuts window.

use super::{GanscopeApp, Intent, SHORTCUTS, Tab};
use crate::worker::Command;
use eframe::egui;

impl GanscopeApp {
    /// The `?` window: every shortcut.
    pub(super) fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (key, what) in SHORTCUTS {
                    ui.label(egui::RichText::new(*key).strong());
                    ui.label(*what);
                    ui.end_row();
                }
            });
        });
        self.show_help = open;
    }

    /// The bar above the view in presentation mode: everything a presenter without a keyboard
    /// needs (play, step, the next preset, exit), then the view's settings.
    pub(super) fn presenter_bar(&mut self, ui: &mut egui::Ui) -> Vec<Intent> {
        let mut out = Vec::new();
        let dirac = self.state.tab == Tab::Dirac;
        ui.horizontal_wrapped(|ui| {
            let running = if dirac { self.dirac.playing() } else { self.live.snapshot.as_ref().is_some_and(|s| s.running) };
            if ui.button(if running { "Pause" } else { "Play" }).on_hover_text("Space").clicked() {
                out.push(Intent::TogglePlay);
            }
            if !dirac && ui.button("Step").on_hover_text("S: one training step").clicked() {
                out.push(Intent::Worker(Command::Step));
            }
            let what = if !dirac && self.playing_lesson().is_some() { "lesson" } else { "preset" };
            if ui.button(format!("Previous {what}")).on_hover_text("P").clicked() {
                out.push(Intent::StepPreset(-1));
            }
            if ui.button(format!("Next {what}")).on_hover_text("N").clicked() {
                out.push(Intent::StepPreset(1));
            }
            if ui.button("Exit presentation").on_hover_text("F11").clicked() {
                let ctx = ui.ctx().clone();
                self.set_present(false, &ctx);
            }
            ui.separator();
            ui.checkbox(&mut self.state.caption, "Caption");
            let before = self.state.present_scale;
            ui.add(egui::Slider::new(&mut self.state.present_scale, 1.0..=2.5).text("scale"));
            if before != self.state.present_scale {
                ui.ctx().set_zoom_factor(self.state.present_scale);
            }
            if !dirac {
                ui.menu_button("Side plots", |ui| self.state.sections.menu(ui));
                let playing = self.playing_lesson();
                super::lesson_strip::menu(ui, playing.as_ref(), &mut out);
            }
            self.recording_badge(ui);
        });
        out
    }

    pub(super) fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(s) = &self.live.snapshot {
                let gpu = match (&s.backend.backend_choice, s.backend.backend.as_str()) {
                    (Some(r), "cpu") => format!("CPU ({:.0} steps/s vs {:.0} on the GPU)", r.cpu_steps_per_second, r.gpu_steps_per_second),
                    (Some(r), _) => format!("GPU ({:.0} steps/s vs {:.0} on the CPU)", r.gpu_steps_per_second, r.cpu_steps_per_second),
                    (None, "cpu") => "CPU (no GPU in use)".into(),
                    (None, _) => "GPU".into(),
                };
                ui.label(format!("Training on {gpu}: {}, {}", s.backend.adapter, s.engine.describe()))
                    .on_hover_text(if s.backend.reason.is_empty() { "Chosen on the command line." } else { &s.backend.reason });
                ui.separator();
                ui.label(format!("step {}", s.step));
                ui.separator();
                ui.label(format!("{:.0} steps/s", s.steps_per_second));
                ui.separator();
                // Frames are timed only while training animates them: until then there is no
                // figure to show (a paused window keeps the last one).
                let (median, p99) = self.frame_times.stats();
                if median > 0.0 {
                    ui.label(format!("{:.0} fps (frame {:.1} ms, p99 {:.1} ms)", 1000.0 / median, median, p99));
                }
                if let Some(n) = self.raster_threads {
                    ui.label("· software renderer").on_hover_text(format!(
                        "The window is drawn by the CPU (no GPU), on {n} of the cores; training has the others. \
                         Set LP_NUM_THREADS to give drawing more (`--renderer glow`, the default, is the fast one here)."
                    ));
                }
                if s.config.schedule.unroll > 0 {
                    ui.separator();
                    ui.label(format!("unrolled GAN (first-order), k = {}", s.config.schedule.unroll));
                }
            } else {
                ui.label("Starting the trainer…");
            }
        });
    }
}
