//! Colours: a diverging map for D's surface (blue = "fake", red = "real"), chosen to read on a
//! projector, and the sample colours used everywhere.
//!
//! Samples and modes take the Okabe–Ito palette (Okabe & Ito 2008), which stays distinct under
//! the common colour-vision deficiencies; the mode states also differ in lightness and in shape
//! (a filled ring, a hollow dashed one), so nothing rests on hue alone.

use eframe::egui::Color32;

/// Okabe–Ito bluish green.
pub const REAL: Color32 = Color32::from_rgb(0, 158, 115);
/// Okabe–Ito orange.
pub const FAKE: Color32 = Color32::from_rgb(230, 159, 0);
pub const ARROW: Color32 = Color32::from_rgb(60, 60, 60);
/// A covered mode: Okabe–Ito blue, darkened (L* ≈ 37), filled.
pub const COVERED: Color32 = Color32::from_rgb(0, 90, 150);
/// A missed mode: Okabe–Ito reddish purple (L* ≈ 61), hollow and dashed.
pub const MISSED: Color32 = Color32::from_rgb(204, 121, 167);
/// How opaque a covered mode's fill is.
pub const MODE_FILL_ALPHA: f32 = 0.25;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// CIE L* (0 black … 100 white) of an sRGB colour: lightness as the eye sees it.
    fn lightness(c: Color32) -> f32 {
        let lin = |u: u8| {
            let v = u as f32 / 255.0;
            if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        let y = 0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b());
        if y > 216.0 / 24389.0 { 116.0 * y.cbrt() - 16.0 } else { y * 24389.0 / 27.0 }
    }

    #[test]
    fn mode_states_differ_in_lightness() {
        assert!((lightness(COVERED) - lightness(MISSED)).abs() >= 15.0);
        assert!((lightness(COVERED) - 37.0).abs() < 2.0 && (lightness(MISSED) - 61.0).abs() < 2.0, "as the comments say");
    }
}
