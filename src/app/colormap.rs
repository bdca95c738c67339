//! Colours: a diverging map for D's surface (blue = "fake", red = "real"), chosen to read on a
//! projector, and the sample colours used everywhere.

use eframe::egui::Color32;

pub const REAL: Color32 = Color32::from_rgb(20, 130, 60);
pub const FAKE: Color32 = Color32::from_rgb(245, 130, 0);
pub const ARROW: Color32 = Color32::from_rgb(60, 60, 60);
pub const COVERED: Color32 = Color32::from_rgb(20, 150, 60);
pub const MISSED: Color32 = Color32::from_rgb(200, 40, 40);
/// Points being drawn by hand ("Draw your own data").
pub const DRAWN: Color32 = Color32::from_rgb(150, 40, 200);

/// Diverging blue–white–red for t in [0, 1].
pub fn diverging(t: f32) -> Color32 {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.5 };
    let (lo, mid, hi) = ([59.0, 76.0, 192.0], [240.0, 240.0, 240.0], [200.0, 45.0, 50.0]);
    let (a, b, s) = if t < 0.5 { (lo, mid, t * 2.0) } else { (mid, hi, (t - 0.5) * 2.0) };
    let c = |i: usize| (a[i] + (b[i] - a[i]) * s) as u8;
    Color32::from_rgb(c(0), c(1), c(2))
}

/// A distinct colour per mode index (for the mode-visit strip and histogram).
pub fn mode_colour(i: usize, k: usize) -> Color32 {
    let h = i as f32 / k.max(1) as f32;
    let hsva = eframe::egui::ecolor::Hsva::new(h, 0.75, 0.85, 1.0);
    hsva.into()
}
