//! Intents: what the panels, the bars and the keyboard ask for, applied once at the end of the
//! frame, in one place.

use super::{GanscopeApp, Tab};
use crate::config::Config;
use crate::worker::Command;
use eframe::egui;
use std::time::Instant;

/// What the panels ask for; applied once at the end of the frame.
#[must_use]
#[derive(Debug, Clone)]
pub enum Intent {
    Worker(Command),
    /// Send the edited config to the trainer.
    ApplyConfig(Box<Config>),
    /// Show this Dirac-GAN preset in the Dirac-GAN tab.
    OpenDirac(String),
    /// Train this preset beside the current run, side by side.
    Compare(String),
    /// Close the side-by-side run.
    CloseCompare,
    /// Play or pause what the tab shows (the run, or the Dirac path's animation).
    TogglePlay,
    /// The preset `n` places further in the tab's menu.
    StepPreset(isize),
    /// Copy the running config (or the lesson being played) as a share string to the system
    /// clipboard.
    CopyShare,
    /// Play this lesson (a shipped one's name, a path, a `gl1:` share string) from step 0
    /// (None: end the lesson playing).
    Lesson(Option<String>),
    /// Back to the lesson's previous cue.
    LessonBack,
    /// Record, a PNG, a CSV, the config (the Record & export panel, F9, F10).
    Export(super::export::ExportAction),
    /// What the drawing toolbar asked for beyond the drawing (use as data, save, import).
    Draw(super::draw::DrawAction),
    /// A new training thread after a crash.
    RestartWorker,
}

impl GanscopeApp {
    pub(super) fn apply(&mut self, intent: Intent, ctx: &egui::Context) {
        match intent {
            Intent::Worker(c) => {
                if let Command::Speed(s) = &c {
                    self.state.speed = *s;
                }
                if let Command::LoadPreset(name) = &c {
                    // A preset that names a partner opens it beside itself; any other closes it.
                    self.compare = None;
                    if let Some(partner) = crate::presets::get(name).ok().and_then(|p| p.meta.compare) {
                        self.start_compare(&partner, ctx);
                    }
                }
                self.send(c)
            }
            Intent::Compare(name) => self.start_compare(&name, ctx),
            Intent::CloseCompare => self.compare = None,
            Intent::ApplyConfig(cfg) => self.send(Command::SetConfig(cfg)),
            Intent::OpenDirac(name) => {
                self.dirac.load_preset(&name);
                self.state.tab = Tab::Dirac;
            }
            Intent::TogglePlay if self.state.tab == Tab::Dirac => self.dirac.toggle_play(),
            Intent::TogglePlay => {
                let running = self.live.snapshot.as_ref().is_some_and(|s| s.running);
                self.apply(Intent::Worker(if running { Command::Pause } else { Command::Play }), ctx);
            }
            Intent::CopyShare => match self.playing_lesson() {
                Some(l) => {
                    ctx.copy_text(crate::lesson::share(&l.lesson));
                    self.notice = Some((format!("Copied the lesson's share string ({}) to the clipboard", l.lesson.name), Instant::now()));
                }
                None => {
                    let cfg = self.live.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                    ctx.copy_text(crate::share::encode(&cfg));
                    self.notice = Some(("Copied the run's share string to the clipboard".into(), Instant::now()));
                }
            },
            Intent::Lesson(name) => {
                let lesson = name.map(|n| crate::lesson::load_any(&n));
                match lesson.transpose() {
                    Ok(l) => self.play_lesson(l, ctx),
                    Err(e) => self.notice = Some((e.to_string(), Instant::now())),
                }
            }
            Intent::LessonBack => self.send(Command::LessonBack),
            Intent::Export(e) => self.export(e, ctx),
            Intent::Draw(a) => self.drawn_data(a),
            Intent::RestartWorker => self.restart_worker(ctx),
            Intent::StepPreset(n) if self.playing_lesson().is_some() => {
                let next = self.neighbour_lesson(n);
                self.play_lesson(next, ctx);
            }
            Intent::StepPreset(n) if self.state.tab == Tab::Dirac => self.dirac.step_preset(n),
            Intent::StepPreset(n) => {
                let name = self.neighbour_preset(n);
                self.controls.choose_preset(&name);
                self.apply(Intent::Worker(Command::LoadPreset(name)), ctx);
            }
        }
    }
}
