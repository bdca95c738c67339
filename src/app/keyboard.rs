//! The keyboard: every shortcut becomes an intent (or a layer toggle) here.

use super::{GanscopeApp, Intent, export};
use crate::worker::Command;
use eframe::egui;

impl GanscopeApp {
    /// The preset `offset` places after the current one in the menu, wrapping around.
    pub(super) fn neighbour_preset(&self, offset: isize) -> String {
        let names: Vec<&str> = crate::presets::names().collect();
        let at = names.iter().position(|n| *n == self.controls.preset()).unwrap_or(0) as isize;
        names[(at + offset).rem_euclid(names.len() as isize) as usize].to_string()
    }

    pub(super) fn keyboard(&mut self, ctx: &egui::Context) -> Vec<Intent> {
        let mut out = Vec::new();
        if ctx.egui_wants_keyboard_input() {
            return out;
        }
        let (mut present, mut help, mut preset_step) = (false, false, 0isize);
        let layers = &mut self.state.layers;
        ctx.input(|i| {
            if i.key_pressed(egui::Key::Space) {
                out.push(Intent::TogglePlay);
            }
            if i.key_pressed(egui::Key::S) {
                out.push(Intent::Worker(Command::Step));
            }
            if i.key_pressed(egui::Key::R) {
                out.push(Intent::Worker(Command::Reset));
            }
            if i.key_pressed(egui::Key::B) {
                out.push(Intent::LessonBack);
            }
            if i.key_pressed(egui::Key::N) {
                preset_step = 1;
            }
            if i.key_pressed(egui::Key::P) {
                preset_step = -1;
            }
            present = i.key_pressed(egui::Key::F11);
            if i.key_pressed(egui::Key::C) && !i.modifiers.any() {
                out.push(Intent::CopyShare);
            }
            if i.key_pressed(egui::Key::F9) {
                out.push(Intent::Export(export::ExportAction::ToggleRecording));
            }
            if i.key_pressed(egui::Key::F10) {
                out.push(Intent::Export(export::ExportAction::Png(export::Region::Window)));
            }
            help = i.key_pressed(egui::Key::Questionmark) || i.events.iter().any(|e| matches!(e, egui::Event::Text(t) if t == "?"));
            let toggles: [(egui::Key, &mut bool); 7] = [
                (egui::Key::Num1, &mut layers.surface),
                (egui::Key::Num2, &mut layers.real),
                (egui::Key::Num3, &mut layers.fake),
                (egui::Key::Num4, &mut layers.arrows),
                (egui::Key::Num5, &mut layers.manifold),
                (egui::Key::Num6, &mut layers.field),
                (egui::Key::Num7, &mut layers.modes),
            ];
            for (key, on) in toggles {
                if i.key_pressed(key) {
                    *on = !*on;
                }
            }
        });
        if preset_step != 0 {
            out.push(Intent::StepPreset(preset_step));
        }
        if present {
            self.set_present(!self.state.present, ctx);
        }
        if help {
            self.show_help = !self.show_help;
        }
        out
    }
}
