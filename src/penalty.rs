//! Gradient penalties on D: WGAN-GP, R1, R2 and DRAGAN. Each is a function of ∂D/∂x at some
//! points, which `Mlp::input_grad` computes by hand with tensor ops, so one first-order
//! backward of the penalty reaches D's weights (exact for ReLU / LeakyReLU, and for tanh
//! because σ' is kept as a differentiable expression).

use burn::tensor::Tensor;

/// Per-row squared norm ‖g‖², `[n, 1]`.
pub fn sq_norm(g: Tensor<2>) -> Tensor<2> {
    g.square().sum_dim(1)
}

/// Zero-centred penalty γ/2 · E‖∇D(x)‖² (R1 at reals, R2 at fakes).
pub fn zero_centred(grad: Tensor<2>, gamma: f32) -> Tensor<1> {
    sq_norm(grad).mean().mul_scalar(0.5 * gamma)
}

/// One-centred penalty λ · E(‖∇D(x)‖ − 1)² (WGAN-GP at interpolates, DRAGAN near reals).
/// The 1e-12 keeps the square root differentiable at a zero gradient.
pub fn one_centred(grad: Tensor<2>, lambda: f32) -> Tensor<1> {
    sq_norm(grad).add_scalar(1e-12).sqrt().sub_scalar(1.0).square().mean().mul_scalar(lambda)
}
