//! The "Record & export" panel: PNGs, recordings, the metrics and samples CSVs, and the config
//! as TOML. It only edits its settings and returns what was asked; `GanscopeApp` does it.

use super::file_dialog::{Browse, Pick};
use super::recorder::{self, Format};
use eframe::egui::{self, ComboBox, Slider, Ui};

/// What the recording (or PNG) shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Region {
    Window,
    DataView,
    /// The data view and the side plots beside it (pick them in "Side plots").
    ViewAndPlots,
}

/// Persisted settings.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExportSettings {
    pub format: Format,
    pub region: Region,
    pub fps: f32,
    /// Where files go.
    pub folder: String,
    /// The config file to save to / load from.
    pub config_path: String,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self { format: Format::Gif, region: Region::DataView, fps: 15.0, folder: ".".into(), config_path: "ganscope.toml".into() }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportAction {
    ToggleRecording,
    Png(Region),
    MetricsCsv,
    SamplesCsv,
    SaveConfig,
    LoadConfig,
}

/// The native file dialogs of the panel's two path fields.
#[derive(Default)]
pub struct Browsers {
    pub folder: Browse,
    pub config: Browse,
}

pub fn ui(ui: &mut Ui, s: &mut ExportSettings, browse: &mut Browsers, recording: bool, mp4_unavailable: Option<&str>) -> Vec<ExportAction> {
    let mut out = Vec::new();
    let folder = ui.label("Folder:");
    ui.horizontal(|ui| {
        ui.text_edit_singleline(&mut s.folder).labelled_by(folder.id).on_hover_text("Where PNGs, recordings and CSVs are written.");
        browse.folder.button(ui, Pick::Folder, &mut s.folder);
    });
    ui.horizontal(|ui| {
        if ui.button("PNG of the window").on_hover_text("F10").clicked() {
            out.push(ExportAction::Png(Region::Window));
        }
        if ui.button("PNG of the data view").clicked() {
            out.push(ExportAction::Png(Region::DataView));
        }
    });
    ui.add_enabled_ui(!recording, |ui| {
        ComboBox::from_label("Format")
            .selected_text(match s.format {
                Format::Gif => "GIF",
                Format::Apng => "APNG",
                Format::Mp4 => "MP4",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.format, Format::Gif, "GIF");
                ui.selectable_value(&mut s.format, Format::Apng, "APNG");
                ui.add_enabled_ui(mp4_unavailable.is_none(), |ui| ui.selectable_value(&mut s.format, Format::Mp4, "MP4"))
                    .response
                    .on_disabled_hover_text(mp4_unavailable.unwrap_or_default());
            });
        ComboBox::from_label("Region")
            .selected_text(match s.region {
                Region::Window => "whole window",
                Region::DataView => "data view",
                Region::ViewAndPlots => "data view + side plots",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.region, Region::Window, "whole window");
                ui.selectable_value(&mut s.region, Region::DataView, "data view");
                ui.selectable_value(&mut s.region, Region::ViewAndPlots, "data view + side plots")
                    .on_hover_text("The side plots shown are the ones ticked under \"Side plots\".");
            });
        ui.add(Slider::new(&mut s.fps, 2.0..=30.0).clamping(egui::SliderClamping::Edits).text("frames / s"));
    });
    if let Some(why) = mp4_unavailable {
        ui.small(why);
    }
    let label = if recording { "Stop recording (F9)" } else { "Start recording (F9)" };
    if ui.button(label).clicked() {
        out.push(ExportAction::ToggleRecording);
    }
    ui.separator();
    ui.horizontal(|ui| {
        if ui
            .button("Export metrics CSV")
            .on_hover_text("One row per evaluation of this run, as `ganscope train --metrics-out` writes.")
            .clicked()
        {
            out.push(ExportAction::MetricsCsv);
        }
        if ui.button("Export samples CSV").on_hover_text("The fakes shown now, x,y.").clicked() {
            out.push(ExportAction::SamplesCsv);
        }
    });
    let path = ui.label("Config file:");
    ui.horizontal(|ui| {
        ui.text_edit_singleline(&mut s.config_path).labelled_by(path.id);
        browse.config.button(ui, Pick::Open("toml"), &mut s.config_path);
    });
    ui.horizontal(|ui| {
        if ui.button("Save config").on_hover_text("The running config as TOML (as `ganscope config` prints it).").clicked() {
            out.push(ExportAction::SaveConfig);
        }
        if ui.button("Load config").on_hover_text("Start the run this TOML file describes (from step 0).").clicked() {
            out.push(ExportAction::LoadConfig);
        }
    });
    out
}

/// `name` in `folder`, with characters that do not belong in a file name replaced.
pub fn file_in(folder: &str, name: &str) -> std::path::PathBuf {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    std::path::Path::new(if folder.trim().is_empty() { "." } else { folder.trim() }).join(clean)
}

/// Whether MP4 can be recorded (checked once).
pub fn mp4_check() -> Option<String> {
    recorder::mp4_unavailable()
}
