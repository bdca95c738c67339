//! The main view, in data space with equal aspect: D's decision surface as a heatmap (with its
//! colour legend), real and fake samples, ∂D/∂x arrows, G's manifold, the gradient field and
//! the mode circles. It only draws what the worker computed.

use super::colormap::{self, ARROW, COVERED, FAKE, MISSED, REAL};
use crate::trainer::view::SlowLayers;
use crate::worker::Snapshot;
use eframe::egui::{self, ColorImage, TextureHandle, TextureOptions, Ui};
use egui_plot::{Arrows, Line, Plot, PlotImage, PlotPoint, PlotPoints, Points, Polygon};

/// Which layers are drawn (persisted).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Layers {
    pub surface: bool,
    pub real: bool,
    pub fake: bool,
    pub arrows: bool,
    pub manifold: bool,
    pub field: bool,
    pub modes: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Self { surface: true, real: true, fake: true, arrows: true, manifold: false, field: false, modes: true }
    }
}

impl Layers {
    /// What the worker must compute for these layers (hidden layers cost nothing).
    pub fn request(&self) -> crate::trainer::view::ViewRequest {
        let d = crate::trainer::view::ViewRequest::default();
        crate::trainer::view::ViewRequest {
            surface: self.surface,
            field_n: if self.field { d.field_n } else { 0 },
            manifold_n: if self.manifold { d.manifold_n } else { 0 },
            ..d
        }
    }
}

#[derive(Default)]
pub struct DataView {
    /// Tells two views side by side apart (their plots keep separate state).
    pub id: u8,
    /// Where the plot was drawn last frame, in points (the recorder crops to it).
    pub last_rect: Option<egui::Rect>,
    /// The brush of "Draw your own data" (the main view only).
    pub drawing: Option<super::draw::Drawing>,
    /// What the drawing toolbar asked for this frame (the app takes it).
    pub draw_action: Option<super::draw::DrawAction>,
    texture: Option<TextureHandle>,
    /// Which surface the texture shows (its Arc pointer).
    shown: usize,
}

const MAX_ARROWS: usize = 400;

impl DataView {
    pub fn with_id(id: u8) -> Self {
        Self { id, ..Default::default() }
    }

    /// The main view: with the "Draw your own data" brush.
    pub fn with_drawing() -> Self {
        Self { drawing: Some(super::draw::Drawing::default()), ..Default::default() }
    }

    /// Draws the view, a square at most `max_side` wide.
    pub fn ui(&mut self, ui: &mut Ui, snap: Option<&Snapshot>, layers: &Layers, max_side: f32) {
        let Some(s) = snap else {
            ui.label("Waiting for the first snapshot…");
            return;
        };
        let v = &s.view;
        let slow = &*v.slow;
        if let Some(d) = &mut self.drawing {
            self.draw_action = d.toolbar(ui);
        }
        let painting = self.drawing.as_ref().is_some_and(|d| d.on);
        let drawn: Vec<[f32; 2]> = self.drawing.as_ref().filter(|d| d.on).map(|d| d.points.clone()).unwrap_or_default();
        self.legend(ui, slow, layers);
        self.key(ui, s, layers);
        if layers.surface && slow.surface_n > 0 {
            // Upload once per computed surface (snapshots between refreshes share it).
            let key = std::sync::Arc::as_ptr(&v.slow) as usize;
            if key != self.shown || self.texture.is_none() {
                let img = surface_image(slow);
                match &mut self.texture {
                    Some(t) => t.set(img, TextureOptions::LINEAR),
                    None => self.texture = Some(ui.ctx().load_texture("d-surface", img, TextureOptions::LINEAR)),
                }
                self.shown = key;
            }
        }
        let h = v.half_width as f64;
        // A square plot with no margin shows exactly the surface's box [−h, h]² (a wider one
        // would show bands of nothing beside the heatmap).
        let side = ui.available_width().min(ui.available_height()).min(max_side).max(100.0);
        let plot = Plot::new(("data space", self.id))
            .data_aspect(1.0)
            .width(side)
            .height(side)
            .set_margin_fraction(egui::Vec2::ZERO)
            .default_x_bounds(-h, h)
            .default_y_bounds(-h, h)
            .allow_scroll(false)
            .allow_drag(!painting)
            .allow_boxed_zoom(!painting)
            .show_grid(false);
        let hover = plot.show(ui, |p| {
            if layers.surface
                && let Some(t) = &self.texture
            {
                let size = egui::vec2(2.0 * v.half_width, 2.0 * v.half_width);
                p.image(PlotImage::new("D surface", t.id(), PlotPoint::new(0.0, 0.0), size));
            }
            if layers.field && !slow.field.is_empty() {
                let scale = arrow_scale(slow.field.iter().map(|(_, g)| *g), 0.6 * h / 20.0 * 2.0);
                let origins: Vec<[f64; 2]> = slow.field.iter().map(|(p, _)| [p[0] as f64, p[1] as f64]).collect();
                let tips: Vec<[f64; 2]> =
                    slow.field.iter().map(|(p, g)| [p[0] as f64 + scale * g[0] as f64, p[1] as f64 + scale * g[1] as f64]).collect();
                p.arrows(
                    Arrows::new("gradient field", PlotPoints::new(origins), PlotPoints::new(tips)).color(egui::Color32::from_gray(90)),
                );
            }
            if layers.modes
                && let Some(m) = &s.modes
            {
                let counts = s.live_modes.as_ref().map(|l| l.per_mode_counts.clone());
                for (i, c) in m.centres.iter().enumerate() {
                    let covered = counts.as_ref().is_some_and(|k| k[i] > 0);
                    let r = 3.0 * m.std as f64;
                    let pts: Vec<[f64; 2]> = (0..=48)
                        .map(|k| {
                            let a = k as f64 / 48.0 * std::f64::consts::TAU;
                            [c[0] as f64 + r * a.cos(), c[1] as f64 + r * a.sin()]
                        })
                        .collect();
                    // Told apart by lightness and shape as well as hue: filled vs hollow, dashed.
                    if covered {
                        p.polygon(
                            Polygon::new("mode covered", PlotPoints::new(pts))
                                .fill_color(COVERED.gamma_multiply(colormap::MODE_FILL_ALPHA))
                                .stroke(egui::Stroke::new(2.0, COVERED))
                                .id(("mode", i)),
                        );
                    } else {
                        p.line(
                            Line::new("mode missed", PlotPoints::new(pts))
                                .color(MISSED)
                                .width(2.0)
                                .style(egui_plot::LineStyle::dashed_dense())
                                .id(("mode", i)),
                        );
                    }
                }
            }
            if layers.manifold {
                for (i, line) in slow.manifold.iter().enumerate() {
                    let pts: Vec<[f64; 2]> = line.iter().map(|q| [q[0] as f64, q[1] as f64]).collect();
                    p.line(
                        Line::new("G manifold", PlotPoints::new(pts))
                            .color(egui::Color32::from_rgba_unmultiplied(120, 60, 160, 140))
                            .width(1.0)
                            .id(("manifold", i)),
                    );
                }
            }
            if layers.real {
                let pts: Vec<[f64; 2]> = s.real.iter().map(|q| [q[0] as f64, q[1] as f64]).collect();
                p.points(Points::new("real", PlotPoints::new(pts)).color(REAL).radius(1.5));
            }
            if layers.fake {
                let pts: Vec<[f64; 2]> = v.fake.iter().map(|q| [q[0] as f64, q[1] as f64]).collect();
                p.points(Points::new("fake", PlotPoints::new(pts)).color(FAKE).radius(2.0));
            }
            if layers.arrows && !v.arrows.is_empty() {
                let stride = (v.fake.len() / MAX_ARROWS).max(1);
                let scale = arrow_scale(v.arrows.iter().copied(), 0.08 * h);
                let (mut o, mut t) = (Vec::new(), Vec::new());
                for (q, g) in v.fake.iter().zip(&v.arrows).step_by(stride) {
                    o.push([q[0] as f64, q[1] as f64]);
                    t.push([q[0] as f64 + scale * g[0] as f64, q[1] as f64 + scale * g[1] as f64]);
                }
                // A diffusion model has no D: its arrows are the denoiser's push, −ε_θ(x, 1).
                let name =
                    if s.config.model.kind == crate::config::ModelKind::Diffusion { "denoiser's push" } else { "∂D/∂x at fakes" };
                p.arrows(Arrows::new(name, PlotPoints::new(o), PlotPoints::new(t)).color(ARROW).tip_length(4.0));
            }
            if !drawn.is_empty() {
                let pts: Vec<[f64; 2]> = drawn.iter().map(|q| [q[0] as f64, q[1] as f64]).collect();
                p.points(Points::new("drawn", PlotPoints::new(pts)).color(colormap::DRAWN).radius(2.0));
            }
            let stroke = painting && p.response().is_pointer_button_down_on();
            (p.pointer_coordinate(), stroke)
        });
        let (pointer, stroke) = hover.inner;
        if stroke && let (Some(d), Some(pt)) = (&mut self.drawing, pointer) {
            d.stroke([pt.x as f32, pt.y as f32]);
            ui.ctx().request_repaint();
        }
        self.last_rect = Some(hover.response.rect);
        // The readout under the pointer: where, and what D says there.
        if let Some(pt) = pointer.filter(|pt| pt.x.abs() <= h && pt.y.abs() <= h) {
            let mut text = format!("x = {:.3}, y = {:.3}", pt.x, pt.y);
            if let Some(v) = surface_at(slow, pt.x, pt.y, h) {
                text += &format!(", {} = {v:.3}", if slow.surface_is_prob { "D(x)" } else { "critic D(x)" });
            }
            ui.label(text);
        }
    }

    /// What the marks are, above the plot (a legend inside it would hide a mode).
    fn key(&self, ui: &mut Ui, s: &Snapshot, layers: &Layers) {
        use super::key::Swatch;
        let mut items = Vec::new();
        if layers.real {
            items.push((Swatch::Dot(REAL), "real"));
        }
        if layers.fake {
            items.push((Swatch::Dot(FAKE), "fake"));
        }
        if layers.modes && s.modes.is_some() {
            items.push((Swatch::Ring { colour: COVERED, filled: true }, "mode covered"));
            items.push((Swatch::Ring { colour: MISSED, filled: false }, "mode missed"));
        }
        if layers.arrows {
            let diffusion = s.config.model.kind == crate::config::ModelKind::Diffusion;
            items.push((Swatch::Arrow(ARROW), if diffusion { "denoiser's push" } else { "∂D/∂x at fakes" }));
        }
        if layers.field {
            items.push((Swatch::Arrow(egui::Color32::from_gray(90)), "gradient field"));
        }
        if layers.manifold {
            items.push((Swatch::Line(egui::Color32::from_rgb(120, 60, 160)), "G manifold"));
        }
        super::key::row(ui, &items);
    }

    /// The colour legend of the surface: what blue and red mean, with the value range.
    fn legend(&self, ui: &mut Ui, v: &SlowLayers, layers: &Layers) {
        if !layers.surface || v.surface_n == 0 {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            let what = if v.surface_is_prob { "D(x) = P(real)" } else { "critic value D(x)" };
            ui.label(format!("{what}:  {:.2}", v.surface_min));
            let (rect, _) = ui.allocate_exact_size(egui::vec2(160.0, 14.0), egui::Sense::hover());
            let n = 40;
            for i in 0..n {
                let x0 = rect.left() + rect.width() * i as f32 / n as f32;
                let x1 = rect.left() + rect.width() * (i + 1) as f32 / n as f32;
                let r = egui::Rect::from_min_max(egui::pos2(x0, rect.top()), egui::pos2(x1, rect.bottom()));
                ui.painter().rect_filled(r, 0.0, colormap::diverging(i as f32 / (n - 1) as f32));
            }
            ui.label(format!("{:.2}", v.surface_max));
            ui.label("   (blue: judged fake, red: judged real)");
        });
    }
}

/// D's value at (x, y) from the surface grid (its cell), when the surface was computed.
fn surface_at(v: &SlowLayers, x: f64, y: f64, h: f64) -> Option<f32> {
    let n = v.surface_n;
    if n == 0 || v.surface.len() != n * n {
        return None;
    }
    let cell = |c: f64| (((c + h) / (2.0 * h) * n as f64).floor() as usize).min(n - 1);
    Some(v.surface[cell(y) * n + cell(x)])
}

/// Scale so the longest gradient is drawn `max_len` long.
fn arrow_scale(grads: impl Iterator<Item = [f32; 2]>, max_len: f64) -> f64 {
    let longest = grads.map(|g| ((g[0] as f64).powi(2) + (g[1] as f64).powi(2)).sqrt()).filter(|n| n.is_finite()).fold(0.0, f64::max);
    if longest > 0.0 { max_len / longest } else { 0.0 }
}

/// The surface as an image: row 0 at the top (the grid's last row).
fn surface_image(v: &SlowLayers) -> ColorImage {
    let n = v.surface_n;
    let span = (v.surface_max - v.surface_min).max(1e-12);
    let mut pixels = Vec::with_capacity(n * n);
    for row in (0..n).rev() {
        for col in 0..n {
            let val = v.surface[row * n + col];
            pixels.push(colormap::diverging((val - v.surface_min) / span));
        }
    }
    ColorImage::new([n, n], pixels)
}
