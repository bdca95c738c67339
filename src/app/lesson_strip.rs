//! A lesson in the window: the Lesson menu, and the strip above the data view with the cue's
//! caption (large, in presentation mode too), where the lesson stands, Back and Next.

use super::side_plots::History;
use super::{GanscopeApp, Intent};
use crate::worker::{LessonStatus, Snapshot};
use eframe::egui::{self, RichText, Ui};

/// The Lesson menu: play a shipped lesson, or end the one playing.
pub(super) fn menu(ui: &mut Ui, playing: Option<&LessonStatus>, out: &mut Vec<Intent>) {
    ui.menu_button("Lesson", |ui| {
        for l in crate::lesson::all() {
            let label = format!("{} ({} steps)", l.title, l.steps);
            if ui
                .button(label)
                .on_hover_text(format!("Play the lesson `{}` from step 0: its cues change the run at their steps.", l.name))
                .clicked()
            {
                out.push(Intent::Lesson(Some(l.name.clone())));
                ui.close();
            }
        }
        if playing.is_some() {
            ui.separator();
            if ui.button("End the lesson").on_hover_text("The run goes on, without cues.").clicked() {
                out.push(Intent::Lesson(None));
                ui.close();
            }
        }
    });
}

/// The strip: title, cue k of n, the caption, Back / Next. `latest` fills the caption's
/// `{metric}`s.
pub(super) fn strip(ui: &mut Ui, snap: &Snapshot, status: &LessonStatus, history: &History, out: &mut Vec<Intent>) {
    let l = &status.lesson;
    let latest = history.latest_metrics();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(&l.title).strong());
        let at = status.cue.map_or("before the first cue".to_string(), |i| format!("cue {} of {}", i + 1, l.cues.len()));
        ui.label(format!("· {at} · step {} of {}", snap.step, l.steps));
        if status.off_script {
            ui.label(RichText::new("· off the script").italics())
                .on_hover_text("A knob was changed by hand: it stays until a cue sets it. Back returns to the script.");
        }
        if ui.button("Back").on_hover_text("B: to the previous cue's checkpoint, with the lesson's settings there").clicked() {
            out.push(Intent::LessonBack);
        }
        // Play / Pause are the run's own buttons; the strip adds Next at a pause cue.
        if status.waiting && ui.button("Next").on_hover_text("Space: on from the pause cue").clicked() {
            out.push(Intent::TogglePlay);
        }
    });
    if let Some(caption) = l.caption_at(snap.step, latest) {
        ui.label(RichText::new(caption).size(20.0));
    }
    if status.waiting {
        ui.label(RichText::new("Paused by the lesson: Next (Space) goes on.").italics());
    }
}

impl GanscopeApp {
    /// A cue fired (or the lesson went back to one): the knobs show the config in force, and
    /// the cue's layers and plots are shown.
    pub(super) fn on_cue(&mut self, index: Option<usize>, config: &crate::config::Config) {
        self.controls.sync(config);
        let Some(status) = self.live.snapshot.as_ref().and_then(|s| s.lesson.clone()).or_else(|| self.lesson.clone()) else { return };
        let Some(i) = index else { return };
        let step = status.lesson.cues[i].step;
        if let Some(layers) = status.lesson.layers_at(step)
            && let Ok(l) = super::render::parse_layers(layers)
        {
            self.state.layers = l;
        }
        if let Some(plots) = status.lesson.plots_at(step)
            && let Ok(p) = super::render::parse_plots(plots)
        {
            self.state.sections = p.unwrap_or_else(super::side_plots::Sections::none);
        }
    }

    /// Plays the lesson `name` (a shipped one, a file, a share string), or ends the one playing.
    pub(super) fn play_lesson(&mut self, lesson: Option<crate::lesson::Lesson>, ctx: &egui::Context) {
        let Some(lesson) = lesson else {
            self.lesson = None;
            self.send(crate::worker::Command::Lesson(None));
            return;
        };
        let lesson = std::sync::Arc::new(lesson);
        self.compare = None;
        if let Some(c) = &lesson.compare {
            self.start_compare(c, ctx);
        }
        self.lesson = Some(LessonStatus { lesson: lesson.clone(), cue: None, off_script: false, waiting: false });
        self.live.send(crate::worker::Command::Lesson(Some(lesson)));
    }

    /// The lesson `offset` places after the one playing (N / P while a lesson plays).
    pub(super) fn neighbour_lesson(&self, offset: isize) -> Option<crate::lesson::Lesson> {
        let playing = self.lesson.as_ref()?;
        let names: Vec<&str> = crate::lesson::names().collect();
        let at = names.iter().position(|n| *n == playing.lesson.name).unwrap_or(0) as isize;
        crate::lesson::load(names[(at + offset).rem_euclid(names.len() as isize) as usize]).ok()
    }
}
