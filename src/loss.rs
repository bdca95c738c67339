//! The adversarial losses, as functions of D's raw outputs (logits for the logistic losses,
//! critic values for WGAN and hinge). Every function returns a scalar tensor `[1]` to
//! minimise. The WGAN-GP *penalty* lives in `penalty.rs`; here WGAN-GP is plain WGAN.

use crate::config::LossKind;
use burn::tensor::{Tensor, activation::softplus};

/// D's loss on real outputs `dr` and fake outputs `df` (`[n, 1]` each).
/// `smoothing` is one-sided label smoothing: the real target is 1 − s (logistic and LS only).
pub fn d_loss(kind: LossKind, dr: Tensor<2>, df: Tensor<2>, smoothing: f32) -> Tensor<1> {
    let t = 1.0 - smoothing;
    match kind {
        // BCE with target t on real, 0 on fake: −t·log σ(dr) − (1−t)·log(1−σ(dr)) − log(1−σ(df)).
        LossKind::Minimax | LossKind::Ns => {
            let real = softplus(dr.clone().neg(), 1.0).mul_scalar(t).add(softplus(dr, 1.0).mul_scalar(1.0 - t));
            real.mean().add(softplus(df, 1.0).mean())
        }
        // ½(dr − t)² + ½ df²
        LossKind::Ls => dr.sub_scalar(t).square().mean().mul_scalar(0.5).add(df.square().mean().mul_scalar(0.5)),
        // relu(1 − dr) + relu(1 + df)
        LossKind::Hinge => {
            let r = dr.neg().add_scalar(1.0).clamp_min(0.0).mean();
            r.add(df.add_scalar(1.0).clamp_min(0.0).mean())
        }
        // E D(fake) − E D(real)
        LossKind::Wgan | LossKind::WganGp => df.mean().sub(dr.mean()),
    }
}

/// G's loss on D's outputs at fakes.
pub fn g_loss(kind: LossKind, df: Tensor<2>) -> Tensor<1> {
    match kind {
        // Saturating: minimise log(1 − σ(df)) = −softplus(df).
        LossKind::Minimax => softplus(df, 1.0).mean().neg(),
        // Non-saturating: minimise −log σ(df) = softplus(−df).
        LossKind::Ns => softplus(df.neg(), 1.0).mean(),
        LossKind::Ls => df.sub_scalar(1.0).square().mean().mul_scalar(0.5),
        LossKind::Hinge | LossKind::Wgan | LossKind::WganGp => df.mean().neg(),
    }
}
