//! Gradient penalties on D: WGAN-GP, R1, R2 and DRAGAN, as per-row terms of s = ‖∇ₓD‖² at
//! some points (see `objective.rs`). The engines compute ∂D/∂x by hand (burn's autodiff is
//! first-order only) and differentiate these terms into D's weights.
//!
//! Convention: the zero-centred penalties are γ/2 · E‖∇D‖² (Mescheder et al. 2018, eq. 9),
//! so `reg.r1 = 10` is the paper's γ = 10.

use crate::column::Column;

/// Zero-centred penalty term γ/2 · ‖∇D(x)‖² (R1 at reals, R2 at fakes).
pub fn zero_centred<C: Column>(sq_norm: C, gamma: f32) -> C {
    sq_norm.mul_scalar(0.5 * gamma)
}

/// One-centred penalty term λ · (‖∇D(x)‖ − 1)² (WGAN-GP at interpolates, DRAGAN near reals).
/// The 1e-12 keeps the square root differentiable at a zero gradient.
pub fn one_centred<C: Column>(sq_norm: C, lambda: f32) -> C {
    sq_norm.add_scalar(1e-12).sqrt().add_scalar(-1.0).square().mul_scalar(lambda)
}
