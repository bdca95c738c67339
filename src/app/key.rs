//! A plot's key drawn outside it, as one wrapped row above the plot: a legend box inside the
//! plot hides data (a mode of the ring, a third of the Dirac phase portrait), and the layers'
//! checkboxes already switch what is drawn.

use eframe::egui::{self, Color32, Stroke, Ui, pos2, vec2};

/// What an item looks like in the key.
#[derive(Clone, Copy, Debug)]
pub enum Swatch {
    /// A sample dot.
    Dot(Color32),
    /// A mode's ring: filled (covered) or hollow and dashed (missed).
    Ring { colour: Color32, filled: bool },
    /// An arrow.
    Arrow(Color32),
    /// A line.
    Line(Color32),
    /// A diamond marker.
    Diamond(Color32),
}

/// One wrapped row of swatches and names.
pub fn row(ui: &mut Ui, items: &[(Swatch, &str)]) {
    ui.horizontal_wrapped(|ui| {
        for (swatch, name) in items {
            let h = ui.text_style_height(&egui::TextStyle::Body);
            let (rect, _) = ui.allocate_exact_size(vec2(h * 1.2, h), egui::Sense::hover());
            paint(ui.painter(), rect, *swatch);
            ui.label(*name);
            ui.add_space(h * 0.4);
        }
    });
}

fn paint(p: &egui::Painter, rect: egui::Rect, swatch: Swatch) {
    let c = rect.center();
    let r = rect.height() * 0.35;
    match swatch {
        Swatch::Dot(col) => {
            p.circle_filled(c, r * 0.6, col);
        }
        Swatch::Ring { colour, filled: true } => {
            p.circle(c, r, colour.gamma_multiply(super::colormap::MODE_FILL_ALPHA), Stroke::new(2.0, colour));
        }
        Swatch::Ring { colour, filled: false } => {
            // Dashed, as the view draws a missed mode.
            for k in 0..8 {
                let a0 = k as f32 / 8.0 * std::f32::consts::TAU;
                let a1 = a0 + std::f32::consts::TAU / 16.0;
                let at = |a: f32| c + vec2(a.cos(), a.sin()) * r;
                p.line_segment([at(a0), at(a1)], Stroke::new(2.0, colour));
            }
        }
        Swatch::Arrow(col) => {
            p.arrow(pos2(rect.left(), c.y), vec2(rect.width() * 0.9, 0.0), Stroke::new(1.5, col));
        }
        Swatch::Line(col) => {
            p.line_segment([pos2(rect.left(), c.y), pos2(rect.right(), c.y)], Stroke::new(2.0, col));
        }
        Swatch::Diamond(col) => {
            let pts = vec![c + vec2(0.0, -r), c + vec2(r, 0.0), c + vec2(0.0, r), c + vec2(-r, 0.0)];
            p.add(egui::Shape::convex_polygon(pts, col, Stroke::NONE));
        }
    }
}
