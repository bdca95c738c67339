//! Read-only views of the window's state, for the tests (and nothing else).

use super::data_view::Layers;
use super::dirac_view::DiracView;
use super::{GanscopeApp, Tab};
use crate::config::Config;
use crate::worker::Snapshot;
use eframe::egui;

impl GanscopeApp {
    /// The side-by-side run's preset, if one is shown (for tests).
    pub fn compared(&self) -> Option<(&str, Option<&Snapshot>)> {
        self.compare.as_ref().map(|c| (c.preset.as_str(), c.snapshot()))
    }

    /// The config the controls are editing (for tests).
    pub fn edited_config(&self) -> &Config {
        self.controls.config()
    }

    /// The "modes covered" side plot's points, (step, modes) (for tests).
    pub fn modes_covered_series(&self) -> &[[f64; 2]] {
        &self.live.history.modes.0
    }

    /// The tab shown (for tests).
    pub fn tab(&self) -> Tab {
        self.state.tab
    }

    /// The Dirac-GAN view (for tests).
    pub fn dirac_view(&mut self) -> &mut DiracView {
        &mut self.dirac
    }

    /// The latest snapshot (for tests).
    /// The notice shown under the toolbar, if any (also after it faded).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|(n, _)| n.as_str())
    }

    /// The folder "Record & export" writes to.
    pub fn export_folder(&self) -> &str {
        &self.state.export.folder
    }

    /// Where the main data view was drawn last frame, in points.
    pub fn data_view_rect(&self) -> Option<egui::Rect> {
        self.data_view.last_rect
    }

    /// The points drawn by hand so far ("Draw your own data").
    pub fn drawn_points(&self) -> &[[f32; 2]] {
        self.data_view.drawing.as_ref().map_or(&[], |d| &d.points)
    }

    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.live.snapshot.as_ref()
    }

    /// The layers shown (for tests).
    pub fn layers(&self) -> &Layers {
        &self.state.layers
    }

    /// Whether the shortcuts window is open (for tests).
    pub fn help_shown(&self) -> bool {
        self.show_help
    }

    /// Whether presentation mode is on (for tests).
    pub fn presenting(&self) -> bool {
        self.state.present
    }
}
