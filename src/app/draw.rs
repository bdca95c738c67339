//! "Draw your own data": paint points on the data view with a brush, erase, clear, import a
//! CSV; "Use as data" writes them to a CSV and makes that file the `points` dataset (each point
//! a mixture centre with the config's `data.std`), which rebuilds the networks.

use eframe::egui::{self, Slider, Ui};
use rand::{Rng, SeedableRng};

/// The drawing and its brush (the points are not persisted: a CSV keeps them).
pub struct Drawing {
    /// The brush is active: dragging on the data view paints (or erases) instead of panning.
    pub on: bool,
    pub erase: bool,
    /// Brush radius in data units.
    pub radius: f32,
    /// Points added per frame of dragging.
    pub density: usize,
    pub points: Vec<[f32; 2]>,
    /// The CSV to import from / save to.
    pub path: String,
    browse: super::file_dialog::Browse,
    rng: rand::rngs::StdRng,
}

impl Default for Drawing {
    fn default() -> Self {
        Self {
            on: false,
            erase: false,
            radius: 0.1,
            density: 3,
            points: Vec::new(),
            path: "drawn.csv".into(),
            browse: super::file_dialog::Browse::default(),
            rng: rand::rngs::StdRng::seed_from_u64(7),
        }
    }
}

/// What the toolbar asked for beyond editing the drawing itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawAction {
    /// Write the points to the CSV and train on them.
    UseAsData,
    SaveCsv,
    ImportCsv,
}

/// At most this many drawn points (each becomes a mixture centre).
pub const MAX_POINTS: usize = 20_000;

impl Drawing {
    /// Paints `density` points uniformly in the brush's disc around `at`, or erases the points
    /// within it.
    pub fn stroke(&mut self, at: [f32; 2]) {
        let r = self.radius;
        if self.erase {
            self.points.retain(|p| (p[0] - at[0]).powi(2) + (p[1] - at[1]).powi(2) > r * r);
            return;
        }
        for _ in 0..self.density {
            if self.points.len() >= MAX_POINTS {
                return;
            }
            // Uniform in the disc: radius ∝ √u.
            let (u, a): (f32, f32) = (self.rng.random(), self.rng.random::<f32>() * std::f32::consts::TAU);
            let d = r * u.sqrt();
            self.points.push([at[0] + d * a.cos(), at[1] + d * a.sin()]);
        }
    }

    /// The toolbar above the data view.
    pub fn toolbar(&mut self, ui: &mut Ui) -> Option<DrawAction> {
        let mut out = None;
        ui.horizontal_wrapped(|ui| {
            ui.toggle_value(&mut self.on, "Draw")
                .on_hover_text("Paint your own data on the view: drag to add points (or erase), then \"Use as data\" trains on them.");
            if !self.on {
                return;
            }
            ui.toggle_value(&mut self.erase, "Erase");
            ui.add(Slider::new(&mut self.radius, 0.01..=0.5).text("brush"));
            ui.add(Slider::new(&mut self.density, 1..=20).text("points / frame"));
            if ui.button("Clear").clicked() {
                self.points.clear();
            }
            ui.label(format!("{} points", self.points.len()));
            if ui
                .add_enabled(!self.points.is_empty(), egui::Button::new("Use as data"))
                .on_hover_text("Save the points to the CSV below and train on them (the networks rebuild).")
                .clicked()
            {
                out = Some(DrawAction::UseAsData);
            }
        });
        if self.on {
            ui.horizontal(|ui| {
                let l = ui.label("CSV:");
                ui.text_edit_singleline(&mut self.path).labelled_by(l.id);
                self.browse.button(ui, super::file_dialog::Pick::Open("csv"), &mut self.path);
                if ui.add_enabled(!self.points.is_empty(), egui::Button::new("Save CSV")).clicked() {
                    out = Some(DrawAction::SaveCsv);
                }
                if ui.button("Import CSV").on_hover_text("Load x,y rows into the drawing (and train on them).").clicked() {
                    out = Some(DrawAction::ImportCsv);
                }
            });
        }
        out
    }

    /// Writes the points as `x,y` rows with a comment saying where they came from.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut text = String::from("# drawn in ganscope\nx,y\n");
        for p in &self.points {
            text += &format!("{},{}\n", p[0], p[1]);
        }
        crate::fsio::write_atomic(path, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_paint_inside_the_brush_and_erase_clears_it() {
        let mut d = Drawing { radius: 0.2, density: 5, ..Drawing::default() };
        for _ in 0..10 {
            d.stroke([0.5, -0.5]);
        }
        assert_eq!(d.points.len(), 50);
        assert!(d.points.iter().all(|p| ((p[0] - 0.5).powi(2) + (p[1] + 0.5).powi(2)).sqrt() <= 0.2 + 1e-6));
        d.stroke([-0.5, 0.5]);
        assert_eq!(d.points.len(), 55);
        d.erase = true;
        d.stroke([0.5, -0.5]);
        assert_eq!(d.points.len(), 5, "the first blob is erased, the second kept");
    }

    #[test]
    fn a_saved_drawing_reads_back_as_points_data() {
        let mut d = Drawing::default();
        d.stroke([0.1, 0.2]);
        let path = std::env::temp_dir().join(format!("ganscope-drawn-{}.csv", std::process::id()));
        d.save(&path).unwrap();
        let back = crate::data::read_points_csv(&path).unwrap();
        assert_eq!(back, d.points);
        let _ = std::fs::remove_file(&path);
    }
}
