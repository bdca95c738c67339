//! "Browse…" beside a path field: the desktop's native file dialog (rfd: the XDG desktop
//! portal, or zenity), run on its own thread so the window keeps drawing while it is open.
//! Where there is no dialog (no portal, no zenity: a bare X server, SSH), nothing opens and the
//! path field — always there — is the way to name a file.

use eframe::egui::{self, Ui};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the dialog asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Folder,
    /// An existing file with this extension.
    Open(&'static str),
}

/// One path field's dialog: at most one open at a time.
#[derive(Default)]
pub struct Browse {
    /// Set by the dialog's thread: `Some(choice)` when it closed (`None` inside: cancelled).
    result: Arc<Mutex<Option<Option<PathBuf>>>>,
    open: bool,
}

impl Browse {
    /// A "Browse…" button that opens the dialog; when it has closed with a choice, writes it
    /// into `path` and returns true.
    pub fn button(&mut self, ui: &mut Ui, pick: Pick, path: &mut String) -> bool {
        let mut chosen = false;
        if let Some(done) = self.result.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.open = false;
            if let Some(p) = done {
                *path = p.display().to_string();
                chosen = true;
            }
        }
        let label = if self.open { "Browsing…" } else { "Browse…" };
        let hint = "The desktop's file dialog (where there is none, type the path in the field).";
        if ui.add_enabled(!self.open, egui::Button::new(label)).on_hover_text(hint).clicked() {
            self.start(ui.ctx().clone(), pick, path.clone());
        }
        chosen
    }

    fn start(&mut self, ctx: egui::Context, pick: Pick, current: String) {
        self.open = true;
        let slot = self.result.clone();
        let spawned = std::thread::Builder::new().name("ganscope-file-dialog".into()).spawn(move || {
            let here = PathBuf::from(&current);
            let dir = if here.is_dir() { Some(here.clone()) } else { here.parent().filter(|p| p.is_dir()).map(PathBuf::from) };
            let mut d = rfd::FileDialog::new();
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            let choice = match pick {
                Pick::Folder => d.pick_folder(),
                Pick::Open(ext) => d.add_filter(ext, &[ext]).pick_file(),
            };
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(choice);
            ctx.request_repaint();
        });
        if spawned.is_err() {
            self.open = false;
        }
    }
}
