//! The host MLP's own checks: its tanh and sigmoid, the curved units' penalty gradient
//! against finite differences, and `matmul` on reused buffers.

use super::*;
use crate::engine::host_units::fast_tanh;

#[test]
fn the_sigmoid_is_the_sigmoid() {
    let net = HostMlp::new(Params {
        layers: vec![(vec![1.0], vec![0.0]), (vec![1.0], vec![0.0])],
        shapes: vec![[1, 1], [1, 1]],
        activation: crate::config::Activation::Sigmoid,
        leak: 0.0,
    });
    let x: Vec<f32> = (-80..=80).map(|i| i as f32 * 0.1).collect();
    let out = net.forward(x.clone(), x.len()).h.pop().unwrap();
    let worst = x.iter().zip(&out).map(|(a, s)| (s - 1.0 / (1.0 + (-a).exp())).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "worst error {worst}");
}

#[test]
fn fast_tanh_is_tanh() {
    let mut worst = 0.0f32;
    for i in -200_000..=200_000 {
        let x = i as f32 * 1e-4;
        worst = worst.max((fast_tanh(x) - x.tanh()).abs());
    }
    assert!(worst < 1e-6, "worst error {worst}");
    assert_eq!((fast_tanh(50.0), fast_tanh(-50.0)), (1.0, -1.0));
    assert!(fast_tanh(f32::NAN).is_nan());
}

/// The penalty Σ_rows ‖∂out/∂x‖² of a tanh network: its weight gradient from
/// `input_grad` + `penalty_backward` against central differences, every parameter of a
/// 2 → 5 → 4 → 1 network. Without tanh's second-order terms the biases would get nothing
/// and the test fails by far.
#[test]
fn tanh_penalty_gradient_matches_finite_differences() {
    curved_penalty_gradient_matches_finite_differences(crate::config::Activation::Tanh);
}

#[test]
fn sigmoid_penalty_gradient_matches_finite_differences() {
    curved_penalty_gradient_matches_finite_differences(crate::config::Activation::Sigmoid);
}

/// A penalty on ∂out/∂x of a 2-hidden-layer network with curved units, differentiated into
/// every parameter by `penalty_backward`, against central finite differences.
fn curved_penalty_gradient_matches_finite_differences(activation: crate::config::Activation) {
    let shapes = vec![[2, 5], [5, 4], [4, 1]];
    let mut k = 0u32;
    let mut draw = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                k += 1;
                ((k * 2654435761u32) >> 8) as f32 / (1u32 << 24) as f32 * 1.6 - 0.8
            })
            .collect()
    };
    let layers: Vec<(Vec<f32>, Vec<f32>)> = shapes.iter().map(|s| (draw(s[0] * s[1]), draw(s[1]))).collect();
    let x = draw(2 * 3);
    let params = |layers: Vec<(Vec<f32>, Vec<f32>)>| Params { layers, shapes: shapes.clone(), activation, leak: 0.0 };
    let penalty = |layers: Vec<(Vec<f32>, Vec<f32>)>| -> f64 {
        let net = HostMlp::new(params(layers));
        let acts = net.forward(x.clone(), 3);
        let ig = net.input_grad(&acts.all());
        ig.g.iter().map(|v| (*v as f64).powi(2)).sum()
    };
    let net = HostMlp::new(params(layers.clone()));
    let acts = net.forward(x.clone(), 3);
    let ig = net.input_grad(&acts.all());
    let u0: Vec<f32> = ig.g.iter().map(|v| 2.0 * v).collect();
    let mut grads = net.zero_grads();
    net.penalty_backward(&acts.all(), &ig, u0, &mut grads);
    matches_finite_differences(&grads, &layers, penalty, 1e-2, 2e-3, &format!("{activation:?}"));
}

/// Every entry of `grads` (w0, b0, w1, b1, …) against central differences of `penalty` at
/// `layers`, within `tol`·(1 + |numeric|); returns Σ |numeric| per parameter.
fn matches_finite_differences(
    grads: &HostGrads,
    layers: &[(Vec<f32>, Vec<f32>)],
    penalty: impl Fn(Vec<(Vec<f32>, Vec<f32>)>) -> f64,
    eps: f32,
    tol: f64,
    case: &str,
) -> Vec<f64> {
    let mut sizes = Vec::new();
    for (pi, analytic) in grads.iter().enumerate() {
        let mut size = 0.0;
        for (j, &a) in analytic.iter().enumerate() {
            let nudge = |d: f32| {
                let mut l = layers.to_vec();
                let v = if pi % 2 == 0 { &mut l[pi / 2].0 } else { &mut l[pi / 2].1 };
                v[j] += d;
                penalty(l)
            };
            let numeric = (nudge(eps) - nudge(-eps)) / (2.0 * eps as f64);
            size += numeric.abs();
            assert!(
                (a as f64 - numeric).abs() <= tol * (1.0 + numeric.abs()),
                "{case} parameter {pi}[{j}]: analytic {a} vs numeric {numeric}"
            );
        }
        sizes.push(size);
    }
    sizes
}

/// With minibatch discrimination (and the stddev column beside it), ∂D/∂x carries the pairs'
/// slopes (`Kernels::pair_slopes`), which depend on T, on every layer below and on the other
/// rows of the set: the penalty Σ_rows ‖∂out/∂x‖² differentiated into every parameter (T
/// last) against central differences, one set of 6 rows, tanh and leaky-ReLU units.
#[test]
fn kernels_penalty_gradient_matches_finite_differences() {
    use crate::nets::BatchFeatures;
    let features = BatchFeatures { stddev: true, kernels: 3, kernel_dim: 2 };
    let shapes = vec![[2, 5], [5, 4], [4 + 4, 1], [4, 6]];
    for activation in [crate::config::Activation::Tanh, crate::config::Activation::LeakyRelu] {
        let mut k = 0u32;
        let mut draw = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    k = k.wrapping_add(1);
                    ((k.wrapping_mul(2654435761)) >> 8) as f32 / (1u32 << 24) as f32 * 1.6 - 0.8
                })
                .collect()
        };
        let layers: Vec<(Vec<f32>, Vec<f32>)> =
            shapes.iter().map(|s| (draw(s[0] * s[1]), draw(if s[1] == 6 { 3 } else { s[1] }))).collect();
        let rows = 6;
        let x = draw(2 * rows);
        let net_of = |layers: Vec<(Vec<f32>, Vec<f32>)>| {
            HostMlp::with_features(Params { layers, shapes: shapes.clone(), activation, leak: 0.2 }, features)
        };
        let penalty = |layers: Vec<(Vec<f32>, Vec<f32>)>| -> f64 {
            let net = net_of(layers);
            let acts = net.forward_cmp(x.clone(), rows, Compare::Sets(rows));
            let ig = net.input_grad(&acts.all());
            ig.g.iter().map(|v| (*v as f64).powi(2)).sum()
        };
        let net = net_of(layers.clone());
        let acts = net.forward_cmp(x.clone(), rows, Compare::Sets(rows));
        let ig = net.input_grad(&acts.all());
        assert!(ig.slopes.is_some(), "the pairs' slopes are in ∂D/∂x");
        let u0: Vec<f32> = ig.g.iter().map(|v| 2.0 * v).collect();
        let mut grads = net.zero_grads();
        net.penalty_backward(&acts.all(), &ig, u0, &mut grads);
        let sizes = matches_finite_differences(&grads, &layers, penalty, 1e-3, 5e-3, &format!("kernels {activation:?}"));
        assert!(sizes[6] > 1e-3, "{activation:?}: T shapes the penalty ({})", sizes[6]);
    }
}

/// `scratch` hands `matmul` buffers holding old values, so a product that does not
/// accumulate must overwrite its output without reading it — checked here with NaN in the
/// output beforehand, on the shapes and layouts the fast path uses (1-wide output layers,
/// 2-wide inputs, transposed operands, products big enough to run on several threads).
#[test]
fn matmul_without_accumulate_ignores_old_output() {
    let shapes = [(1, 1, 1), (5, 7, 3), (64, 1, 512), (64, 512, 2), (2, 512, 64), (128, 512, 512), (512, 512, 256)];
    for (m, n, k) in shapes {
        for (a_t, b_t) in [(false, false), (true, false), (false, true)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
            let at = |i: usize, p: usize| if a_t { a[p * m + i] } else { a[i * k + p] };
            let bt = |p: usize, j: usize| if b_t { b[j * k + p] } else { b[p * n + j] };
            let mut c = vec![f32::NAN; m * n];
            matmul(m, n, k, &mut c, false, &a, a_t, &b, b_t);
            for i in 0..m {
                for j in 0..n {
                    let want: f32 = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
                    let got = c[i * n + j];
                    assert!(
                        (got - want).abs() <= 1e-3 * (1.0 + want.abs()),
                        "{m}×{k}·{k}×{n} (a_t {a_t}, b_t {b_t}) at ({i}, {j}): {got} vs {want}"
                    );
                }
            }
        }
    }
}
