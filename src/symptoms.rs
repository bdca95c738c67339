//! The five symptoms of mode collapse the literature lists, computed from a run as it goes.
//! Each has a value, a threshold and a one-line reason; all definitions and thresholds are
//! here, calibrated against runs whose truth is known (`calibrate.rs`, `ganscope symptoms
//! --calibrate`). A symptom that cannot be read on a run — a histogram of one-mode data, a
//! loss without a scale — is *not applicable*: never lit, drawn grey.
//!
//! 1. **few templates** — the effective number of modes exp(H) of the samples' nearest-mode
//!    shares, lit at ≤ K/4 (≤ 2 of the ring's 8); not applicable below 4 modes; without modes,
//!    the fakes' spread against the data's, lit below 0.3.
//! 2. **D loss oscillates** — over the last `WINDOW` evaluations, D's loss swings (standard
//!    deviation) by ≥ `SWING` of its value at equilibrium (2 ln 2 for the logistic losses,
//!    ¼ for least squares, 2 for hinge) and turns direction at ≥ 40 % of them (a drift is not
//!    an oscillation). Not applicable to the WGAN losses, whose D loss has no scale.
//! 3. **quality stalls while G's loss falls** — over the window, G's loss falls by ≥ `FALL` of
//!    its value at equilibrium (least-squares slope × window) while quality (HQ share, or −JS
//!    without modes) does not rise. Not applicable to the critic losses (hinge, WGAN), where
//!    G's loss is −E D(fake) and has no scale.
//! 4. **flat latent interpolation** — G along straight lines between random latents moves
//!    less than 0.25 of the data's spread (a collapsed G maps every latent to the same spot).
//!    Not applicable to a conditional G, whose lines keep one label.
//! 5. **peaked histogram** — the largest nearest-mode share, lit at ≥ ½; not applicable below
//!    4 modes.
//!
//! The panel's verdict: mode collapse when at least `VERDICT` are lit.

use crate::config::LossKind;
use crate::data::Modes;
use crate::metrics::Metrics;
pub use crate::metrics::Symptom;

/// Lit symptoms at which the panel says "mode collapse". Two, not the three first tried: on
/// the calibration corpus D's loss swing and the quality stall seldom light on collapsed runs
/// (a generator parked on a mode leaves D's loss steady), so "three of five" caught 88–98 % of
/// collapsed evaluations on unseen seeds; "two" caught all, with no false alarm (README).
pub const VERDICT: usize = 2;
/// D's loss swing (sd over the window / its equilibrium value) that counts as oscillating.
pub const SWING: f64 = 0.1;
/// G's loss fall over the window (/ its equilibrium value) that counts as falling.
pub const FALL: f64 = 0.1;

/// Evaluations the history-based symptoms look back over.
pub const WINDOW: usize = 10;

/// The CSV / JSON names of the symptoms, in order.
pub const NAMES: [&str; 5] = ["few_templates", "d_loss_oscillates", "quality_stalls", "flat_interpolation", "peaked_histogram"];

fn symptom(name: &'static str, value: f64, threshold: f64, present: bool, why: String) -> Symptom {
    Symptom { name, value, threshold, present, applicable: true, why }
}

/// A symptom that cannot be read on this run, and why.
fn not_applicable(name: &'static str, threshold: f64, why: &str) -> Symptom {
    Symptom { name, value: 0.0, threshold, present: false, applicable: false, why: format!("not applicable: {why}") }
}

/// Whether the panel calls it mode collapse: at least `VERDICT` symptoms lit.
pub fn verdict(symptoms: &[Symptom]) -> bool {
    symptoms.iter().filter(|s| s.present).count() >= VERDICT
}

/// D's loss when D cannot tell real from fake (its output 0, or ½ for least squares): the
/// scale its swings are measured in. None for the WGAN losses (no scale).
pub fn d_loss_scale(kind: LossKind) -> Option<f64> {
    match kind {
        LossKind::Minimax | LossKind::Ns => Some(2.0 * std::f64::consts::LN_2),
        LossKind::Ls => Some(0.25),
        LossKind::Hinge => Some(2.0),
        LossKind::Wgan | LossKind::WganGp => None,
    }
}

/// G's loss at the same point, in absolute value: its scale. None for the critic losses,
/// where G's loss is −E D(fake).
pub fn g_loss_scale(kind: LossKind) -> Option<f64> {
    match kind {
        LossKind::Minimax | LossKind::Ns => Some(std::f64::consts::LN_2),
        LossKind::Ls => Some(0.125),
        LossKind::Hinge | LossKind::Wgan | LossKind::WganGp => None,
    }
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
        Some(counts) if counts.len() < 4 => not_applicable("few_templates", 1.0, "fewer than four modes to count"),
        Some(counts) => {
            let k = counts.len() as f64;
            let n: usize = counts.iter().sum();
            let h: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n.max(1) as f64).map(|p| -p * p.ln()).sum();
            let eff = h.exp();
            let t = k / 4.0;
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

/// Standard deviation of `v`.
fn sd(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// Symptom 2: D's loss oscillates over `d_loss` (oldest first), measured in `scale` (None:
/// the loss has no scale, not applicable).
pub fn d_loss_oscillates(d_loss: &[f64], scale: Option<f64>) -> Symptom {
    let Some(scale) = scale else {
        return not_applicable("d_loss_oscillates", SWING, "a WGAN critic's loss has no scale to swing against");
    };
    if d_loss.len() < 4 {
        return symptom("d_loss_oscillates", 0.0, SWING, false, "too few evaluations yet".into());
    }
    let diffs: Vec<f64> = d_loss.windows(2).map(|w| w[1] - w[0]).collect();
    let turns = diffs.windows(2).filter(|w| w[0] * w[1] < 0.0).count() as f64 / (diffs.len() - 1) as f64;
    let swing = sd(d_loss) / scale;
    let present = swing >= SWING && turns >= 0.4;
    symptom(
        "d_loss_oscillates",
        swing,
        SWING,
        present,
        format!(
            "D's loss swings by {:.0} % of its equilibrium value {scale:.2}, turning at {:.0} % of evaluations",
            100.0 * swing,
            100.0 * turns
        ),
    )
}

/// Symptom 3: quality stalls while G's loss falls, over `g_loss` and `quality` (oldest
/// first), G's loss measured in `scale` (None: not applicable).
pub fn quality_stalls(g_loss: &[f64], quality: &[f64], scale: Option<f64>) -> Symptom {
    let Some(scale) = scale else {
        return not_applicable("quality_stalls", -FALL, "G's loss under a critic is −E D(fake), which has no scale");
    };
    if g_loss.len() < 4 {
        return symptom("quality_stalls", 0.0, -FALL, false, "too few evaluations yet".into());
    }
    let n = g_loss.len() as f64;
    let fall = slope(g_loss) * n / scale;
    let q = slope(quality) * n;
    let present = fall <= -FALL && q <= 0.0;
    symptom(
        "quality_stalls",
        fall,
        -FALL,
        present,
        format!("G's loss moved {:+.0} % of its scale over the window while quality moved {q:+.3}", 100.0 * fall),
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
        return not_applicable("peaked_histogram", 0.5, "fewer than four modes to count");
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

/// The spreads the symptoms compare, at one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Spreads {
    /// The fakes' spread (`spread`).
    pub fake: f64,
    /// The data's.
    pub real: f64,
    /// G's mean spread along latent lines.
    pub interp_extent: f64,
    /// What that is compared with: the data's spread.
    pub interp_reference: f64,
    /// A conditional G: its latent lines keep one label, whose data is one small Gaussian,
    /// so a nearly flat line is what a healthy G draws too (calibrated: lit at 47 % of a
    /// healthy cgan's evaluations against one class's spread) — not applicable.
    pub conditional: bool,
}

/// All five at the newest of `history` (oldest first, at most `WINDOW` used), given the
/// spreads, the data's modes and the loss.
pub fn diagnose(history: &[Metrics], spreads: Spreads, modes: Option<&Modes>, loss: LossKind) -> Vec<Symptom> {
    let recent = &history[history.len().saturating_sub(WINDOW)..];
    let last = recent.last();
    let nearest = last.and_then(|m| m.modes.as_ref()).map(|s| &s.per_mode_nearest[..]).filter(|_| modes.is_some());
    let d: Vec<f64> = recent.iter().map(|m| m.updates.d_loss as f64).collect();
    let g: Vec<f64> = recent.iter().map(|m| m.updates.g_loss as f64).collect();
    let q: Vec<f64> = recent.iter().map(|m| m.modes.as_ref().map_or(-m.js_grid, |s| s.hq_fraction)).collect();
    vec![
        few_templates(nearest, spreads.fake, spreads.real),
        d_loss_oscillates(&d, d_loss_scale(loss)),
        quality_stalls(&g, &q, g_loss_scale(loss)),
        if spreads.conditional {
            not_applicable("flat_interpolation", 0.25, "a conditional G's line keeps one label, one small Gaussian of the data")
        } else {
            flat_interpolation(spreads.interp_extent, spreads.interp_reference)
        },
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
        // One Gaussian: every sample on the one mode is convergence, not collapse.
        let one = few_templates(Some(&[100]), 0.0, 1.0);
        assert!(!one.present && !one.applicable && one.why.starts_with("not applicable"));
    }

    #[test]
    fn an_oscillating_d_loss_is_told_from_a_converging_one() {
        let ln4 = d_loss_scale(LossKind::Ns);
        let zigzag: Vec<f64> = (0..10).map(|i| if i % 2 == 0 { 1.2 } else { 0.8 }).collect();
        assert!(d_loss_oscillates(&zigzag, ln4).present);
        let settling: Vec<f64> = (0..10).map(|i| 1.4 - 0.05 * i as f64).collect();
        assert!(!d_loss_oscillates(&settling, ln4).present);
        // Tiny jitter around a settled value is not an oscillation.
        let jitter: Vec<f64> = (0..10).map(|i| 1.386 + if i % 2 == 0 { 0.001 } else { -0.001 }).collect();
        assert!(!d_loss_oscillates(&jitter, ln4).present);
        // A critic's loss near 0 with noise: no scale, not applicable (it was lit 75 % of
        // the time when its spread was taken relative to its own size).
        let critic: Vec<f64> = (0..10).map(|i| -0.02 + if i % 2 == 0 { 0.02 } else { -0.02 }).collect();
        let s = d_loss_oscillates(&critic, d_loss_scale(LossKind::WganGp));
        assert!(!s.present && !s.applicable);
    }

    /// Minibatch noise on a settled logistic D loss (sd 0.02, i.i.d.) lights nothing, at any
    /// window: its swing is 1.5 % of 2 ln 2.
    #[test]
    fn noise_on_a_settled_d_loss_is_not_an_oscillation() {
        let mut state = 7u64;
        let mut normal = || {
            // Box–Muller on a small LCG: deterministic, no dependency.
            let mut u = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let (a, b) = (u(), u());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        };
        let lit = (0..1000)
            .filter(|_| {
                let w: Vec<f64> = (0..WINDOW).map(|_| 1.3 + 0.02 * normal()).collect();
                d_loss_oscillates(&w, d_loss_scale(LossKind::Ns)).present
            })
            .count();
        assert_eq!(lit, 0);
    }

    #[test]
    fn quality_stalling_needs_g_loss_falling() {
        let falling: Vec<f64> = (0..10).map(|i| 2.0 - 0.1 * i as f64).collect();
        let flat = vec![0.1; 10];
        let rising: Vec<f64> = (0..10).map(|i| 0.1 * i as f64).collect();
        let s = g_loss_scale(LossKind::Minimax);
        assert!(quality_stalls(&falling, &flat, s).present);
        assert!(!quality_stalls(&falling, &rising, s).present, "quality improves with G");
        assert!(!quality_stalls(&flat, &flat, s).present, "G's loss does not fall");
        assert!(!quality_stalls(&falling, &flat, g_loss_scale(LossKind::Wgan)).applicable, "no scale under a critic");
    }

    #[test]
    fn interpolation_and_histogram() {
        assert!(flat_interpolation(0.05, 1.0).present);
        assert!(!flat_interpolation(0.8, 1.0).present);
        assert!(peaked_histogram(Some(&[60, 10, 10, 10, 10, 0, 0, 0])).present);
        assert!(!peaked_histogram(Some(&[15, 10, 15, 10, 10, 15, 15, 10])).present);
        assert!(!peaked_histogram(None).present);
        assert!(!peaked_histogram(Some(&[100])).applicable);
    }

    #[test]
    fn spread_is_the_root_trace_of_the_covariance() {
        assert!((spread(&[1.0, 0.0, -1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!((spread(&[1.0, 1.0, -1.0, -1.0]) - 2f64.sqrt()).abs() < 1e-12);
    }
}
