//! "Draw your own data": the drawing's actions (save, import, train on it).

use super::{GanscopeApp, draw};
use crate::worker::Command;
use std::path::PathBuf;
use std::time::Instant;

impl GanscopeApp {
    /// "Draw your own data": save the drawing, import a CSV into it, or train on it.
    pub(super) fn drawn_data(&mut self, action: draw::DrawAction) {
        let Some(mut d) = self.data_view.drawing.take() else { return };
        let msg = self.drawn_data_with(&mut d, action);
        self.data_view.drawing = Some(d);
        if let Some(msg) = msg {
            self.notice = Some((msg, Instant::now()));
        }
    }

    /// `drawn_data` on the drawing taken out of the view: the notice to show, if any.
    pub(super) fn drawn_data_with(&mut self, d: &mut draw::Drawing, action: draw::DrawAction) -> Option<String> {
        use draw::DrawAction as A;
        let path = PathBuf::from(d.path.trim());
        let msg = match action {
            A::SaveCsv => match d.save(&path) {
                Ok(()) => format!("Saved {} drawn points to {}", d.points.len(), path.display()),
                Err(e) => format!("Could not write {}: {e}", path.display()),
            },
            A::ImportCsv | A::UseAsData => {
                let ready = if action == A::ImportCsv {
                    crate::data::read_points_csv(&path).map_err(|e| e.to_string()).map(|mut pts| {
                        pts.truncate(draw::MAX_POINTS);
                        d.points = pts;
                    })
                } else {
                    d.save(&path).map_err(|e| format!("could not write {}: {e}", path.display()))
                };
                let mut cfg = self.live.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                let applied = ready.and_then(|()| {
                    cfg.data.kind = crate::config::DataKind::Points;
                    cfg.data.points_file = path.clone();
                    cfg.validate().map_err(|e| e.to_string())
                });
                match applied {
                    Ok(()) => {
                        let why = format!(
                            "Training on {} drawn points from {} (each a mode of std {}): networks rebuilt, run restarted at step 0.",
                            d.points.len(),
                            path.display(),
                            cfg.data.std
                        );
                        self.send(Command::Restart(Box::new(cfg), why));
                        return None;
                    }
                    Err(e) => format!("Could not use {} as data: {e}", path.display()),
                }
            }
        };
        Some(msg)
    }
}
