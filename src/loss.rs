//! The adversarial losses, as functions of D's raw outputs (logits for the logistic losses,
//! critic values for WGAN and hinge). Each returns per-row terms whose means are added to the
//! loss (see `objective.rs`); both engines run these same functions. The WGAN-GP *penalty*
//! lives in `penalty.rs`; here WGAN-GP is plain WGAN.

use crate::column::Column;
use crate::config::LossKind;

/// D's loss terms on real outputs `dr` and fake outputs `df`: (real term, fake term).
/// `smoothing` is one-sided label smoothing: the real target is 1 − s (logistic and LS only;
/// `Objective` passes 0 for the others).
pub fn d_terms<C: Column>(kind: LossKind, dr: C, df: C, smoothing: f32) -> (C, C) {
    let t = 1.0 - smoothing;
    match kind {
        // BCE with target t on real, 0 on fake: −t·log σ(dr) − (1−t)·log(1−σ(dr)) − log(1−σ(df)).
        LossKind::Minimax | LossKind::Ns => {
            let real = dr.clone().neg().softplus().mul_scalar(t);
            let real = if smoothing > 0.0 { real.add(dr.softplus().mul_scalar(1.0 - t)) } else { real };
            (real, df.softplus())
        }
        // ½(dr − t)² + ½ df²
        LossKind::Ls => (dr.add_scalar(-t).square().mul_scalar(0.5), df.square().mul_scalar(0.5)),
        // relu(1 − dr) + relu(1 + df)
        LossKind::Hinge => (dr.neg().add_scalar(1.0).relu(), df.add_scalar(1.0).relu()),
        // E D(fake) − E D(real)
        LossKind::Wgan | LossKind::WganGp => (dr.neg(), df),
    }
}

/// G's loss term on D's outputs at fakes.
pub fn g_term<C: Column>(kind: LossKind, df: C) -> C {
    match kind {
        // Saturating: minimise log(1 − σ(df)) = −softplus(df).
        LossKind::Minimax => df.softplus().neg(),
        // Non-saturating: minimise −log σ(df) = softplus(−df).
        LossKind::Ns => df.neg().softplus(),
        LossKind::Ls => df.add_scalar(-1.0).square().mul_scalar(0.5),
        LossKind::Hinge | LossKind::Wgan | LossKind::WganGp => df.neg(),
    }
}
