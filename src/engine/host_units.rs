//! A hidden layer's units on the host engine and the layers' elementwise passes: bias and unit
//! after a product, the unit's derivative on the way back, bias gradients as sums of rows,
//! gradients added. Compiled for the CPU's widest vectors (`simd.rs`): built for SSE2 alone
//! they were ≈ 14 % of a diffusion model's sampling and ≈ 8 % of a small GAN's step.

use crate::simd::vectorised;

/// A hidden layer's non-linearity, as the host engine runs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HiddenAct {
    /// a, or `leak`·a below zero (0: ReLU).
    Leaky(f32),
    /// tanh(a).
    Tanh,
    /// 1 / (1 + e^(−a)).
    Sigmoid,
}

vectorised! { up_to avx512;
    /// Adds `bias` to every row of a layer's product `out` and applies `act`. The ReLU family
    /// is a select, which vectorises (the signs are random) and lets NaN through, so a
    /// diverged network shows (`max(a, 0)` would turn NaN into 0). The output layer passes
    /// `Leaky(1.0)`: a·1 is a.
    pub fn bias_act(out: &mut [f32], bias: &[f32], act: HiddenAct) {
        let rows = out.chunks_exact_mut(bias.len());
        match act {
            HiddenAct::Leaky(leak) => rows.for_each(|row| {
                row.iter_mut().zip(bias).for_each(|(v, b)| {
                    let a = *v + b;
                    *v = if a > 0.0 { a } else { leak * a };
                })
            }),
            HiddenAct::Tanh => rows.for_each(|row| row.iter_mut().zip(bias).for_each(|(v, b)| *v = fast_tanh(*v + b))),
            // σ(a) = (1 + tanh(a/2)) / 2: vectorises, as tanh does.
            HiddenAct::Sigmoid => rows.for_each(|row| row.iter_mut().zip(bias).for_each(|(v, b)| *v = 0.5 + 0.5 * fast_tanh(0.5 * (*v + b)))),
        }
    }
}

vectorised! { up_to avx512;
    /// v ⊙ σ'(a), with σ'(a) read from h = σ(a): for the ReLU family 1 where h > 0, else the
    /// leak (branch-free); for tanh 1 − h², for the sigmoid h·(1 − h).
    pub fn times_act_grad(v: &mut [f32], h: &[f32], act: HiddenAct) {
        match act {
            HiddenAct::Leaky(leak) => v.iter_mut().zip(h).for_each(|(u, &h)| *u *= leak + (1.0 - leak) * f32::from(u8::from(h > 0.0))),
            HiddenAct::Tanh => v.iter_mut().zip(h).for_each(|(u, &h)| *u *= 1.0 - h * h),
            HiddenAct::Sigmoid => v.iter_mut().zip(h).for_each(|(u, &h)| *u *= h * (1.0 - h)),
        }
    }
}

vectorised! { up_to avx512;
    /// `sum += Σ_rows m`, rows of `sum.len()`, in row order (a bias's gradient).
    pub fn add_rows(sum: &mut [f32], m: &[f32]) {
        for row in m.chunks_exact(sum.len()) {
            sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
    }
}

vectorised! { up_to avx512;
    /// `x += y`, element by element.
    pub fn add_into(x: &mut [f32], y: &[f32]) {
        x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
    }
}

/// tanh as a rational function on [−7.9, 7.9] (Eigen's `generic_fast_tanh_float`): within a
/// few ulp of `f32::tanh`, and it vectorises — libm's scalar `tanh` made a tanh network's step
/// six times slower than a ReLU one's. NaN passes through (a diverged network shows).
#[inline(always)]
pub fn fast_tanh(x: f32) -> f32 {
    const C: f32 = 7.905_311;
    const A: [f32; 7] = [4.893_524_6e-3, 6.372_619_3e-4, 1.485_722_4e-5, 5.122_297e-8, -8.604_672e-11, 2.000_188e-13, -2.760_768_6e-16];
    const B: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let x = x.clamp(-C, C);
    let x2 = x * x;
    let mut p = A[6];
    for a in A[..6].iter().rev() {
        p = p * x2 + a;
    }
    let q = ((B[3] * x2 + B[2]) * x2 + B[1]) * x2 + B[0];
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wide versions this CPU runs give the plain formulas' bits (odd lengths too, for the
    /// loops' remainders), NaN included.
    #[test]
    fn the_wide_loops_are_the_formulas_bit_for_bit() {
        let (rows, width) = (7, 37);
        let x: Vec<f32> = (0..rows * width).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 97.0).collect();
        let bias: Vec<f32> = (0..width).map(|j| (j as f32 - 18.0) / 11.0).collect();
        let unit = |a: f32, act: HiddenAct| match act {
            HiddenAct::Leaky(leak) => {
                if a > 0.0 {
                    a
                } else {
                    leak * a
                }
            }
            HiddenAct::Tanh => fast_tanh(a),
            HiddenAct::Sigmoid => 0.5 + 0.5 * fast_tanh(0.5 * a),
        };
        let slope = |h: f32, act: HiddenAct| match act {
            HiddenAct::Leaky(leak) => {
                if h > 0.0 {
                    1.0
                } else {
                    leak
                }
            }
            HiddenAct::Tanh => 1.0 - h * h,
            HiddenAct::Sigmoid => h * (1.0 - h),
        };
        for act in [HiddenAct::Leaky(0.0), HiddenAct::Leaky(0.2), HiddenAct::Leaky(1.0), HiddenAct::Tanh, HiddenAct::Sigmoid] {
            let mut out = x.clone();
            out[3] = f32::NAN;
            bias_act(&mut out, &bias, act);
            let want: Vec<f32> =
                x.iter().enumerate().map(|(i, &v)| unit(if i == 3 { f32::NAN } else { v } + bias[i % width], act)).collect();
            assert!(out[3].is_nan(), "{act:?} lets NaN through");
            assert!(out.iter().zip(&want).skip(4).all(|(a, b)| a.to_bits() == b.to_bits()), "{act:?} bias_act");
            let mut v = x.clone();
            times_act_grad(&mut v, &out, act);
            let want: Vec<f32> = x.iter().zip(&out).map(|(&u, &h)| u * slope(h, act)).collect();
            assert!(v.iter().zip(&want).skip(4).all(|(a, b)| a.to_bits() == b.to_bits()), "{act:?} times_act_grad");
        }
        let mut sum = bias.clone();
        add_rows(&mut sum, &x);
        let want: Vec<f32> = (0..width).map(|j| (0..rows).fold(bias[j], |s, i| s + x[i * width + j])).collect();
        assert_eq!(sum.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        let mut y = x.clone();
        add_into(&mut y, &x);
        assert!(y.iter().zip(&x).all(|(a, b)| a.to_bits() == (b + b).to_bits()));
    }
}
