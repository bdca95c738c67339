//! The five symptoms of mode collapse the literature lists, computed from a run as it goes.
//! Each has a value, a threshold and a one-line reason; all definitions and thresholds are
//! here.
//!
//! 1. **few templates** — the effective number of modes exp(H) of the samples' nearest-mode
//!    shares, lit at ≤ K/4 (≤ 2 of the ring's 8); without modes, the fakes' spread against the
//!    data's, lit below 0.3.
//! 2. **D loss oscillates** — over the last `WINDOW` evaluations, D's loss turns direction at
//!    ≥ 60 % of them with a spread ≥ 10 % of its size (a converging loss drifts or settles).
//! 3. **quality stalls while G's loss falls** — over the window, G's loss falls (least-squares
//!    slope × window < −5 % of its size) while quality (HQ share, or −JS without modes) does
//!    not rise.
//! 4. **flat latent interpolation** — G along straight lines between random latents moves less
//!    than 0.25 of the data's spread (a collapsed G maps every latent to the same spot).
//! 5. **peaked histogram** — the largest nearest-mode share, lit at ≥ ½ (K ≥ 4).

use crate::data::Modes;
use crate::trainer::Metrics;
use serde::Serialize;

/// Evaluations the history-based symptoms look back over.
pub const WINDOW: usize = 10;

/// One symptom's state at an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Symptom {
    /// The symptom's name (a CSV column).
    pub name: &'static str,
    /// Its measured value.
    pub value: f64,
    /// Where it lights.
    pub threshold: f64,
    /// Whether it is lit.
    pub present: bool,
    /// What the value says, in a line.
    pub why: String,
}

/// The CSV / JSON names of the symptoms, in order.
pub const NAMES: [&str; 5] = ["few_templates", "d_loss_oscillates", "quality_stalls", "flat_interpolation", "peaked_histogram"];

fn symptom(name: &'static str, value: f64, threshold: f64, present: bool, why: String) -> Symptom {
    Symptom { name, value, threshold, present, why }
}

/// Root of the trace of the covariance of points `[n, 2]`: their spread.
pub fn spread(pts: &[f32]) -> f64 {
    let n = (pts.len() / 2).max(1) as f64;
    let (mut mx, mut my) = (0.0, 0.0);
    for p in pts.chunks_exact(2) {
        mx += p[0] as f64;
        my += p[1] as f64;
    }
    let (mx, my) = (mx / n, my / n);
    let var: f64 = pts.chunks_exact(2).map(|p| (p[0] as f64 - mx).powi(2) + (p[1] as f64 - my).powi(2)).sum::<f64>() / n;
    var.sqrt()
}

/// 1. Few templates: from nearest-mode counts, or from the spreads without modes.
pub fn few_templates(nearest: Option<&[usize]>, fake_spread: f64, real_spread: f64) -> Symptom {
    match nearest {
        Some(counts) => {
            let k = counts.len().max(1) as f64;
            let n: usize = counts.iter().sum();
            let h: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n.max(1) as f64).map(|p| -p * p.ln()).sum();
            let eff = h.exp();
            let t = (k / 4.0).max(1.0);
            symptom("few_templates", eff, t, eff <= t, format!("the samples fill {eff:.1} of {k:.0} modes' worth (lit at ≤ {t:.1})"))
        }
        None => {
            let r = fake_spread / real_spread.max(1e-12);
            symptom("few_templates", r, 0.3, r < 0.3, format!("the fakes spread {r:.2}× as wide as the data (lit below 0.3)"))
        }
    }
}

/// Least-squares slope of `v` against its index.
fn slope(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = v.iter().sum::<f64>() / n;
    let sxy: f64 = v.iter().enumerate().map(|(i, y)| (i as f64 - mx) * (y - my)).sum();
    let sxx: f64 = (0..v.len()).map(|i| (i as f64 - mx).powi(2)).sum();
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

/// 2. D's loss oscillates over `d_loss` (oldest first).
pub fn d_loss_oscillates(d_loss: &[f64]) -> Symptom {
    if d_loss.len() < 4 {
        return symptom("d_loss_oscillates", 0.0, 0.6, false, "too few evaluations yet".into());
    }
    let diffs: Vec<f64> = d_loss.windows(2).map(|w| w[1] - w[0]).collect();
    let turns = diffs.windows(2).filter(|w| w[0] * w[1] < 0.0).count() as f64 / (diffs.len() - 1) as f64;
    let mean = d_loss.iter().sum::<f64>() / d_loss.len() as f64;
    let sd = (d_loss.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d_loss.len() as f64).sqrt();
    let rel = sd / (mean.abs() + 0.05);
    let present = turns >= 0.6 && rel >= 0.1;
    symptom(
        "d_loss_oscillates",
        turns,
        0.6,
        present,
        format!("D's loss turned at {:.0} % of evaluations, spread {:.0} % of its size", 100.0 * turns, 100.0 * rel),
    )
}

/// 3. Quality stalls while G's loss falls, over `g_loss` and `quality` (oldest first).
pub fn quality_stalls(g_loss: &[f64], quality: &[f64]) -> Symptom {
    if g_loss.len() < 4 {
        return symptom("quality_stalls", 0.0, -0.05, false, "too few evaluations yet".into());
    }
    let n = g_loss.len() as f64;
    let size = g_loss.iter().map(|v| v.abs()).sum::<f64>() / n + 1e-3;
    let fall = slope(g_loss) * n / size;
    let q = slope(quality) * n;
    let present = fall < -0.05 && q <= 0.0;
    symptom(
        "quality_stalls",
        fall,
        -0.05,
        present,
        format!("G's loss moved {:+.0} % over the window while quality moved {q:+.3}", 100.0 * fall),
    )
}

/// 4. Flat latent interpolation: `extent` is G's mean spread along latent lines.
pub fn flat_interpolation(extent: f64, real_spread: f64) -> Symptom {
    let r = extent / real_spread.max(1e-12);
    symptom("flat_interpolation", r, 0.25, r < 0.25, format!("G moves {r:.2}× the data's spread along a latent line (lit below 0.25)"))
}

/// 5. Peaked histogram: the largest nearest-mode share.
pub fn peaked_histogram(nearest: Option<&[usize]>) -> Symptom {
    let Some(counts) = nearest.filter(|c| c.len() >= 4) else {
        return symptom("peaked_histogram", 0.0, 0.5, false, "no modes to count".into());
    };
    let n: usize = counts.iter().sum();
    let top = counts.iter().copied().max().unwrap_or(0) as f64 / n.max(1) as f64;
    symptom(
        "peaked_histogram",
        top,
        0.5,
        top >= 0.5,
        format!("one mode holds {:.0} % of the samples (fair share {:.0} %)", 100.0 * top, 100.0 / counts.len() as f64),
    )
}

/// All five at the newest of `history` (oldest first, at most `WINDOW` used), given the
/// samples' spread, the data's and G's extent along latent lines.
pub fn diagnose(history: &[Metrics], fake_spread: f64, real_spread: f64, interp_extent: f64, modes: Option<&Modes>) -> Vec<Symptom> {
    let recent = &history[history.len().saturating_sub(WINDOW)..];
    let last = recent.last();
    let nearest = last.and_then(|m| m.per_mode_nearest.as_deref()).filter(|_| modes.is_some());
    let d: Vec<f64> = recent.iter().map(|m| m.d_loss as f64).collect();
    let g: Vec<f64> = recent.iter().map(|m| m.g_loss as f64).collect();
    let q: Vec<f64> = recent.iter().map(|m| m.hq_fraction.unwrap_or(-m.js_grid)).collect();
    vec![
        few_templates(nearest, fake_spread, real_spread),
        d_loss_oscillates(&d),
        quality_stalls(&g, &q),
        flat_interpolation(interp_extent, real_spread),
        peaked_histogram(nearest),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_templates_counts_effective_modes() {
        assert!(few_templates(Some(&[100, 0, 0, 0, 0, 0, 0, 0]), 0.0, 1.0).present);
        assert!(few_templates(Some(&[50, 50, 0, 0, 0, 0, 0, 0]), 0.0, 1.0).present, "two modes: exp(H) = 2 ≤ 8/4");
        let even = few_templates(Some(&[10; 8]), 0.0, 1.0);
        assert!(!even.present && (even.value - 8.0).abs() < 1e-9);
        assert!(few_templates(None, 0.1, 1.0).present);
        assert!(!few_templates(None, 0.9, 1.0).present);
    }

    #[test]
    fn an_oscillating_d_loss_is_told_from_a_converging_one() {
        let zigzag: Vec<f64> = (0..10).map(|i| if i % 2 == 0 { 1.2 } else { 0.8 }).collect();
        assert!(d_loss_oscillates(&zigzag).present);
        let settling: Vec<f64> = (0..10).map(|i| 1.4 - 0.05 * i as f64).collect();
        assert!(!d_loss_oscillates(&settling).present);
        // Tiny jitter around a settled value is not an oscillation.
        let jitter: Vec<f64> = (0..10).map(|i| 1.386 + if i % 2 == 0 { 0.001 } else { -0.001 }).collect();
        assert!(!d_loss_oscillates(&jitter).present);
    }

    #[test]
    fn quality_stalling_needs_g_loss_falling() {
        let falling: Vec<f64> = (0..10).map(|i| 2.0 - 0.1 * i as f64).collect();
        let flat = vec![0.1; 10];
        let rising: Vec<f64> = (0..10).map(|i| 0.1 * i as f64).collect();
        assert!(quality_stalls(&falling, &flat).present);
        assert!(!quality_stalls(&falling, &rising).present, "quality improves with G");
        assert!(!quality_stalls(&flat, &flat).present, "G's loss does not fall");
    }

    #[test]
    fn interpolation_and_histogram() {
        assert!(flat_interpolation(0.05, 1.0).present);
        assert!(!flat_interpolation(0.8, 1.0).present);
        assert!(peaked_histogram(Some(&[60, 10, 10, 10, 10, 0, 0, 0])).present);
        assert!(!peaked_histogram(Some(&[15, 10, 15, 10, 10, 15, 15, 10])).present);
        assert!(!peaked_histogram(None).present);
    }

    #[test]
    fn spread_is_the_root_trace_of_the_covariance() {
        assert!((spread(&[1.0, 0.0, -1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!((spread(&[1.0, 1.0, -1.0, -1.0]) - 2f64.sqrt()).abs() < 1e-12);
    }
}
