//! A second run beside the first, side by side (the trilemma preset: a collapsing GAN and a
//! diffusion model). It has its own worker, history and data view; play, pause, step, reset,
//! speed and layers go to both runs, and an overlay plot draws both runs' metrics in two colours.

use super::data_view::{DataView, Layers};
use super::live_run::LiveRun;
use super::side_plots::History;
use crate::worker::{Command, Snapshot, WorkerHandle, WorkerOptions};
use eframe::egui::{self, Color32, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// The two runs' colours in the overlay plot.
pub const LEFT: Color32 = Color32::from_rgb(235, 120, 40);
pub const RIGHT: Color32 = Color32::from_rgb(60, 150, 235);

pub struct Compare {
    pub preset: String,
    live: LiveRun,
    view: DataView,
    /// B's knob changes, as `key=value` assignments.
    edit: String,
    edit_error: Option<String>,
}

impl Compare {
    pub fn start(preset: &str, opts: &WorkerOptions, repaint: Box<dyn Fn() + Send + Sync>) -> anyhow::Result<Self> {
        let cfg = crate::presets::get(preset)?.config;
        Ok(Self::with(preset.into(), WorkerHandle::spawn(cfg, opts, repaint)?))
    }

    /// B, a fork: a copy of the run's whole state, continuing beside it.
    pub fn fork(
        state: crate::trainer::state::TrainState,
        opts: &WorkerOptions,
        repaint: Box<dyn Fn() + Send + Sync>,
    ) -> anyhow::Result<Self> {
        let name = format!("fork at step {}", state.step);
        Ok(Self::with(name, WorkerHandle::spawn_from(state, opts, repaint)?))
    }

    fn with(preset: String, worker: WorkerHandle) -> Self {
        Self { preset, live: LiveRun::new(worker), view: DataView::with_id(1), edit: String::new(), edit_error: None }
    }

    /// Commands that act on both runs.
    pub fn forward(&self, c: &Command) {
        if matches!(
            c,
            Command::Play | Command::Pause | Command::Step | Command::Reset | Command::Speed(_) | Command::SetView(_) | Command::PauseAt(_)
        ) {
            self.live.send(c.clone());
        }
    }

    pub fn send(&self, c: Command) {
        self.live.send(c);
    }

    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.live.snapshot.as_ref()
    }

    /// Its curves.
    pub fn history(&self) -> &History {
        &self.live.history
    }

    pub fn poll(&mut self) {
        // B's notices, restarts and cues change nothing outside its own view.
        let _ = self.live.poll();
    }

    /// The run's data view, at most `side` wide, with a field that changes B's knobs.
    pub fn ui(&mut self, ui: &mut Ui, layers: &Layers, side: f32) {
        ui.horizontal(|ui| {
            let label = ui.label("Change B:");
            ui.add(egui::TextEdit::singleline(&mut self.edit).hint_text("loss.kind=wgan-gp reg.r1=1").desired_width(side * 0.6))
                .labelled_by(label.id)
                .on_hover_text("Settings of this run only, as key=value (the keys of `ganscope config`), separated by spaces.");
            if ui.button("Apply to B").clicked()
                && let Some(mut cfg) = self.live.config()
            {
                let sets: Vec<&str> = self.edit.split_whitespace().collect();
                match cfg.set_all(&sets) {
                    Ok(()) => {
                        self.edit_error = None;
                        self.live.send(Command::SetConfig(Box::new(cfg)));
                    }
                    Err(e) => self.edit_error = Some(e.to_string()),
                }
            }
        });
        if let Some(e) = &self.edit_error {
            ui.colored_label(Color32::RED, e);
        }
        if let Some(msg) = &self.live.crashed {
            ui.colored_label(Color32::RED, format!("This run stopped with an error: {msg}"));
        }
        self.view.ui(ui, self.live.snapshot.as_ref(), layers, side);
    }
}

/// A run's caption: which preset, its step, its modes and sample quality, and what a sample
/// costs (network evaluations and the time to draw a thousand).
pub fn caption(ui: &mut Ui, preset: &str, snap: Option<&Snapshot>, h: &History, colour: Color32) {
    let kind = match snap.map(|s| s.config.model.kind) {
        Some(crate::config::ModelKind::Diffusion) => "diffusion model",
        _ => "GAN",
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(format!("{preset} ({kind})")).color(colour).strong());
        if let Some(s) = snap {
            ui.label(format!("step {}", s.step));
        }
        if let (Some(m), Some(q)) = (h.modes.0.last(), h.hq.0.last()) {
            ui.label(format!("modes {:.0}, HQ {:.0} %", m[1], q[1]));
        }
        if let Some((nfe, ms)) = h.sampling {
            ui.label(format!("{nfe} network call{} per sample, {ms:.1} ms per 1,000 samples", if nfe == 1 { "" } else { "s" }))
                .on_hover_text(
                    "Network evaluations per generated sample, and the wall time to draw 1,000 (measured at the latest evaluation).",
                );
        }
    });
}

/// Both runs' modes covered and high-quality share over steps, in the runs' colours.
pub fn overlay_plot(ui: &mut Ui, left: &History, right: &History) {
    ui.label(egui::RichText::new("Side by side: modes covered and HQ %").strong());
    let last = |s: &super::side_plots::Series| s.0.last().map(|p| p[1]);
    if let (Some(ma), Some(mb), Some(qa), Some(qb)) = (last(&left.modes), last(&right.modes), last(&left.hq), last(&right.hq)) {
        ui.label(format!("right − left at the latest evaluations: modes {:+.0}, HQ {:+.0} points", mb - ma, qb - qa));
    }
    Plot::new("compare overlay").height(160.0).legend(Legend::default()).allow_scroll(false).show(ui, |p| {
        p.line(Line::new("left: modes × 10", PlotPoints::new(scaled(&left.modes.0, 10.0))).color(LEFT).width(2.0));
        p.line(Line::new("left: HQ %", PlotPoints::new(left.hq.0.clone())).color(LEFT).style(egui_plot::LineStyle::dashed_loose()));
        p.line(Line::new("right: modes × 10", PlotPoints::new(scaled(&right.modes.0, 10.0))).color(RIGHT).width(2.0));
        p.line(Line::new("right: HQ %", PlotPoints::new(right.hq.0.clone())).color(RIGHT).style(egui_plot::LineStyle::dashed_loose()));
    });
}

fn scaled(v: &[[f64; 2]], k: f64) -> Vec<[f64; 2]> {
    v.iter().map(|p| [p[0], p[1] * k]).collect()
}
