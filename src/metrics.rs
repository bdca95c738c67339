//! Sample-quality metrics, as VEEGAN / PacGAN / GDPP define them (see shared/reference.md).
//!
//! - A sample is **high quality (HQ)** when its distance to the nearest mode centre is < 3 std.
//! - A mode is **covered** when at least one HQ sample has it as nearest centre (no minimum
//!   count beyond one; `per_mode_counts` lets a reader apply a stricter rule).
//! - **Reverse KL** over modes: KL(p̂ ‖ U) = log K − H(p̂), p̂ the HQ fractions per mode. With no
//!   HQ sample at all p̂ is undefined, and so is the reverse KL (reported as missing: an empty
//!   CSV cell, `null` in JSON).
//! - A sample equally near several centres (a centre listed twice, say) goes to one of them in
//!   turn, so that a repeated centre can be covered too.
//! - **Grid KL / JS**: real and fake samples are histogrammed on the same `bins × bins` grid
//!   over the view box (points outside go to the nearest edge cell, so no mass is dropped);
//!   each cell probability gets ε = 1e-6 added and the histogram is renormalised. KL is
//!   KL(real ‖ fake), natural log; JS is the Jensen–Shannon divergence (≤ ln 2).
//!
//! The records: `Metrics` (everything one evaluation measured), with `ModeStats` (coverage)
//! and `StepStats` (the latest updates' figures) nested in it, and `Symptom` (one symptom's
//! state; `symptoms.rs` reads them). `table` names its columns.

pub mod table;

use crate::data::Modes;
use serde::{Deserialize, Serialize};

/// Values measured on the latest recorded D and G updates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Loss of the latest recorded D update.
    pub d_loss: f32,
    /// Loss of the latest recorded G update.
    pub g_loss: f32,
    /// Mean D(real): a probability for logistic losses, the critic value otherwise.
    pub d_real: f32,
    /// Mean D(fake), as `d_real`.
    pub d_fake: f32,
    /// ‖∇_θ‖ of the latest D update (all parameters).
    pub d_grad_norm: f32,
    /// ‖∇_θ‖ of the latest G update.
    pub g_grad_norm: f32,
}

/// Everything measured at one evaluation: the one record of an evaluation's numbers. Its
/// columns (the metrics CSV, the summary's figures, the promises' and the sweep's metric names)
/// are listed once, in `metrics::table`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Steps done.
    pub step: u64,
    /// Wall time since the run started.
    pub seconds: f64,
    /// Mode coverage of the evaluation batch (none for data without modes).
    #[serde(flatten)]
    pub modes: Option<ModeStats>,
    /// KL(real ‖ fake) over the view box's histogram.
    pub kl_grid: f64,
    /// Jensen–Shannon divergence over the view box's histogram.
    pub js_grid: f64,
    /// What the latest recorded D and G updates measured.
    #[serde(flatten)]
    pub updates: StepStats,
    /// Mean ‖∂D/∂x‖ at the evaluation fakes.
    pub d_input_grad_norm: f32,
    /// Wasserstein estimate E D(real) − E D(fake), for WGAN losses.
    pub critic_gap: Option<f32>,
    /// Instance noise σ at this step.
    pub instance_std: f32,
    /// Network evaluations per generated sample: 1 for a GAN, the sampler's steps for a
    /// diffusion model (the trilemma's "fast sampling" corner).
    pub nfe_per_sample: usize,
    /// Wall time to draw 1,000 samples (from the evaluation batch's timing).
    pub sample_ms_per_1000: f64,
    /// A conditional G's label accuracy: the share of fakes asked for label i that are high
    /// quality at mode i (`metrics::label_accuracy`); None for an unconditional G.
    pub label_accuracy: Option<f64>,
    /// The same per label.
    pub per_label_accuracy: Option<Vec<f64>>,
    /// The five symptoms of mode collapse at this evaluation (`symptoms.rs`).
    /// (Not read back from a saved state: they are recomputed from the numbers.)
    #[serde(skip_deserializing)]
    pub symptoms: Vec<Symptom>,
}

impl Metrics {
    /// The metrics without the wall-clock figures (`seconds`, `sample_ms_per_1000`): what the
    /// same seed must reproduce exactly.
    pub fn timeless(&self) -> Metrics {
        Metrics { seconds: 0.0, sample_ms_per_1000: 0.0, ..self.clone() }
    }
}

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
    /// Whether it can be read on this run (false: "not applicable", never lit).
    pub applicable: bool,
    /// What the value says, in a line.
    pub why: String,
}

/// Mode coverage of a batch of samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModeStats {
    /// Modes that are the nearest centre of at least one high-quality sample.
    pub modes_covered: usize,
    /// Modes of the target.
    pub modes_total: usize,
    /// Share of samples within 3σ of their nearest mode.
    pub hq_fraction: f64,
    /// None when no sample is high quality.
    pub reverse_kl: Option<f64>,
    /// High-quality samples per mode.
    pub per_mode_counts: Vec<usize>,
    /// Every sample counted by its nearest mode, high quality or not: where the mass is,
    /// even when it sits off the modes.
    pub per_mode_nearest: Vec<usize>,
    /// The mode nearest to the most samples (None without samples).
    pub dominant_mode: Option<usize>,
    /// The share of all samples nearest to the dominant mode (1/K when spread evenly, 1 when
    /// everything is in one mode's territory).
    pub dominant_share: f64,
}

/// Smoothing added to every histogram cell's probability.
pub const HIST_EPS: f64 = 1e-6;

/// Nearest mode of one point and whether it is within 3 std of it. Among centres at exactly
/// the same distance, the `turn`-th (cyclically) is taken.
pub fn nearest_mode(modes: &Modes, p: [f32; 2], turn: usize) -> (usize, bool) {
    let d2: Vec<f32> = modes.centres.iter().map(|c| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).collect();
    let best = d2.iter().copied().fold(f32::INFINITY, f32::min);
    let ties: Vec<usize> = (0..d2.len()).filter(|&i| d2[i] == best).collect();
    let i = if ties.is_empty() { 0 } else { ties[turn % ties.len()] };
    (i, best.sqrt() < 3.0 * modes.std)
}

/// Mode statistics of `samples` (row-major `[x, y, …]`).
pub fn mode_stats(modes: &Modes, samples: &[f32]) -> ModeStats {
    let k = modes.centres.len();
    let mut counts = vec![0usize; k];
    let mut nearest = vec![0usize; k];
    let n = samples.len() / 2;
    let mut hq = 0usize;
    for (turn, p) in samples.chunks_exact(2).enumerate() {
        let (i, is_hq) = nearest_mode(modes, [p[0], p[1]], turn);
        nearest[i] += 1;
        if is_hq {
            counts[i] += 1;
            hq += 1;
        }
    }
    let covered = counts.iter().filter(|&&c| c > 0).count();
    let reverse_kl = (hq > 0).then(|| {
        let entropy: f64 = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / hq as f64;
                -p * p.ln()
            })
            .sum();
        ((k as f64).ln() - entropy).max(0.0)
    });
    let dominant_mode = (n > 0).then(|| (0..k).max_by_key(|&i| (nearest[i], std::cmp::Reverse(i))).unwrap_or(0));
    let dominant_share = dominant_mode.map_or(0.0, |i| nearest[i] as f64 / n as f64);
    ModeStats {
        modes_covered: covered,
        modes_total: k,
        hq_fraction: if n == 0 { 0.0 } else { hq as f64 / n as f64 },
        reverse_kl,
        per_mode_counts: counts,
        per_mode_nearest: nearest,
        dominant_mode,
        dominant_share,
    }
}

/// A conditional G judged by its labels: of the fakes asked for label i (row r of the
/// evaluation batch asks for r mod K, `evaluate::eval_latents`), the share that is high quality
/// *at mode i* — within 3σ of that mode's centre. Overall, and per label. A G that fills every
/// mode but permutes the labels scores 0 here (and perfectly on coverage).
pub fn label_accuracy(modes: &Modes, samples: &[f32]) -> (f64, Vec<f64>) {
    let k = modes.centres.len().max(1);
    let (mut hits, mut asked) = (vec![0usize; k], vec![0usize; k]);
    let r = 3.0 * modes.std;
    for (row, p) in samples.chunks_exact(2).enumerate() {
        let label = row % k;
        asked[label] += 1;
        let c = modes.centres[label];
        let d2 = (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2);
        hits[label] += usize::from(d2.sqrt() < r);
    }
    let per: Vec<f64> = hits.iter().zip(&asked).map(|(&h, &a)| h as f64 / a.max(1) as f64).collect();
    let total = hits.iter().sum::<usize>() as f64 / asked.iter().sum::<usize>().max(1) as f64;
    (total, per)
}

/// Normalised, ε-smoothed histogram of `samples` on a `bins × bins` grid over
/// [−half_width, half_width]².
pub fn histogram(samples: &[f32], half_width: f32, bins: usize) -> Vec<f64> {
    let mut h = vec![0.0f64; bins * bins];
    let cell = |v: f32| -> usize {
        let t = ((v + half_width) / (2.0 * half_width) * bins as f32).floor();
        if t.is_nan() { 0 } else { (t.max(0.0) as usize).min(bins - 1) }
    };
    let n = samples.len() / 2;
    for p in samples.chunks_exact(2) {
        h[cell(p[1]) * bins + cell(p[0])] += 1.0;
    }
    let total = 1.0 + HIST_EPS * (bins * bins) as f64;
    for v in &mut h {
        *v = (*v / n.max(1) as f64 + HIST_EPS) / total;
    }
    h
}

/// KL(p ‖ q) in nats.
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).filter(|(pi, _)| **pi > 0.0).map(|(pi, qi)| pi * (pi / qi).ln()).sum()
}

/// Jensen–Shannon divergence in nats.
pub fn js(p: &[f64], q: &[f64]) -> f64 {
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| 0.5 * (a + b)).collect();
    0.5 * kl(p, &m) + 0.5 * kl(q, &m)
}

/// Grid KL(real ‖ fake) and JS between two sample sets.
pub fn grid_divergences(real: &[f32], fake: &[f32], half_width: f32, bins: usize) -> (f64, f64) {
    let p = histogram(real, half_width, bins);
    let q = histogram(fake, half_width, bins);
    (kl(&p, &q), js(&p, &q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ring_centres;

    fn ring8() -> Modes {
        Modes { centres: ring_centres(8, 1.0), std: 0.02 }
    }

    fn at(centres: &[[f32; 2]], idx: &[usize]) -> Vec<f32> {
        idx.iter().flat_map(|&i| centres[i]).collect()
    }

    #[test]
    fn all_at_the_centres_is_perfect() {
        let m = ring8();
        let idx: Vec<usize> = (0..800).map(|i| i % 8).collect();
        let s = mode_stats(&m, &at(&m.centres, &idx));
        assert_eq!(s.modes_covered, 8);
        assert_eq!(s.hq_fraction, 1.0);
        assert!(s.reverse_kl.unwrap().abs() < 1e-12);
        assert_eq!(s.per_mode_counts, vec![100; 8]);
    }

    #[test]
    fn all_on_one_centre() {
        let m = ring8();
        let s = mode_stats(&m, &at(&m.centres, &[3; 50]));
        assert_eq!(s.modes_covered, 1);
        assert_eq!(s.per_mode_counts[3], 50);
        assert!((s.reverse_kl.unwrap() - 8f64.ln()).abs() < 1e-12);
    }

    /// A clump off the modes is nowhere in the high-quality counts but is one tall bar by
    /// nearest mode.
    #[test]
    fn an_off_mode_clump_shows_by_nearest_mode() {
        let m = ring8();
        // 30 samples 0.25 inside mode 2 (far beyond 3σ = 0.06), 10 near mode 5's territory.
        let c2 = m.centres[2];
        let mut s: Vec<f32> = (0..30).flat_map(|_| [0.75 * c2[0], 0.75 * c2[1]]).collect();
        let c5 = m.centres[5];
        s.extend((0..10).flat_map(|_| [0.7 * c5[0], 0.7 * c5[1]]));
        let st = mode_stats(&m, &s);
        assert_eq!(st.modes_covered, 0);
        assert_eq!(st.per_mode_nearest[2], 30);
        assert_eq!(st.per_mode_nearest[5], 10);
        assert_eq!(st.dominant_mode, Some(2));
        assert!((st.dominant_share - 0.75).abs() < 1e-12);
    }

    #[test]
    fn all_far_away() {
        let m = ring8();
        let s = mode_stats(&m, &[5.0, 5.0, 0.0, 0.0, 0.5, 0.5]);
        assert_eq!(s.modes_covered, 0);
        assert_eq!(s.hq_fraction, 0.0);
        assert_eq!(s.reverse_kl, None, "undefined without a high-quality sample");
    }

    /// With one mode, log K = 0: a reverse KL of 0 would read "perfect" for samples that are
    /// nowhere near the mode.
    #[test]
    fn one_mode_and_no_hq_sample_is_not_a_perfect_score() {
        let m = Modes { centres: vec![[0.0, 0.0]], std: 0.1 };
        let s = mode_stats(&m, &[2.0, 2.0, -2.0, 1.0]);
        assert_eq!((s.modes_covered, s.reverse_kl), (0, None));
        let s = mode_stats(&m, &[0.01, 0.0]);
        assert_eq!((s.modes_covered, s.reverse_kl), (1, Some(0.0)));
    }

    /// A centre listed twice: samples on it are shared between the two entries, so both are
    /// covered (a tie always going to the first would leave the second empty forever).
    #[test]
    fn a_repeated_centre_can_be_covered() {
        let m = Modes { centres: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]], std: 0.1 };
        let s = mode_stats(&m, &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(s.modes_covered, 3, "{:?}", s.per_mode_counts);
        assert_eq!(s.per_mode_counts[1] + s.per_mode_counts[2], 4);
    }

    #[test]
    fn uneven_split_and_the_3_std_border() {
        let m = ring8();
        // 3 on mode 0, 1 on mode 1, one just inside 3σ of mode 2, one just outside.
        let mut s = at(&m.centres, &[0, 0, 0, 1]);
        let c2 = m.centres[2];
        s.extend([c2[0] + 0.059, c2[1]]);
        s.extend([c2[0] + 0.061, c2[1]]);
        let st = mode_stats(&m, &s);
        assert_eq!(st.per_mode_counts[..3], [3, 1, 1]);
        assert_eq!(st.modes_covered, 3);
        assert!((st.hq_fraction - 5.0 / 6.0).abs() < 1e-12);
        // Hand computation: p = (3/5, 1/5, 1/5); H = −Σ p ln p.
        let h = -(0.6f64 * 0.6f64.ln() + 2.0 * 0.2 * 0.2f64.ln());
        assert!((st.reverse_kl.unwrap() - (8f64.ln() - h)).abs() < 1e-12);
    }

    #[test]
    fn grid_kl_by_hand() {
        // 2×2 bins on [−1, 1]²: real all in the bottom-left cell, fake split with the top-right.
        let real = [-0.5f32, -0.5, -0.5, -0.5];
        let fake = [-0.5f32, -0.5, 0.5, 0.5];
        let (kl_v, js_v) = grid_divergences(&real, &fake, 1.0, 2);
        let e = HIST_EPS;
        let z = 1.0 + 4.0 * e;
        let p = [(1.0 + e) / z, e / z, e / z, e / z];
        let q = [(0.5 + e) / z, e / z, e / z, (0.5 + e) / z];
        let want: f64 = p.iter().zip(&q).map(|(a, b)| a * (a / b).ln()).sum();
        assert!((kl_v - want).abs() < 1e-12, "{kl_v} vs {want}");
        assert!(js_v > 0.0 && js_v < 2f64.ln());
        let (k0, j0) = grid_divergences(&real, &real, 1.0, 2);
        assert!(k0.abs() < 1e-12 && j0.abs() < 1e-12);
        // Out-of-box points land in the edge cell rather than vanishing.
        let (k1, _) = grid_divergences(&real, &[-9.0, -9.0], 1.0, 2);
        assert!(k1.abs() < 1e-12);
    }
}
