//! Optimizers over plain parameter lists, written out so that their maths is PyTorch's
//! (the papers' reference): SGD with momentum and no dampening, Adam with bias correction,
//! RMSProp with smoothing `alpha` and optional momentum. Hyper-parameters can change between
//! two steps while the state (moments, step count) is kept; changing the kind resets it.
//!
//! Two entry points with one state: `step` on tensors (burn's autodiff path) and `step_host`
//! in place on host buffers (the CPU fast path, which keeps its weights on the host). A moment
//! buffer stays where its last update left it and moves when the other path takes over.

use crate::config::{OptimKind, OptimizerConfig};
use crate::simd::vectorised;
use crate::tensor_util::to_vec;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

/// One moment buffer, on the device or on the host.
// A few per parameter tensor, so the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Moment {
    Device(Tensor<2>),
    Host(Vec<f32>),
}

impl Moment {
    /// As a tensor shaped and placed like `like`.
    fn device(self, like: &Tensor<2>) -> Tensor<2> {
        match self {
            Moment::Device(t) => t,
            Moment::Host(v) => Tensor::from_data(TensorData::new(v, like.dims()), &like.device()),
        }
    }

    fn host(self) -> Vec<f32> {
        match self {
            Moment::Device(t) => to_vec(t),
            Moment::Host(v) => v,
        }
    }
}

/// One network's optimizer: its config and its state.
#[derive(Clone, Debug)]
pub struct Optimizer {
    cfg: OptimizerConfig,
    /// Steps taken since the state was last reset.
    t: i32,
    /// First moment / momentum buffer per parameter.
    m: Vec<Option<Moment>>,
    /// Second moment (Adam) / square average (RMSProp) per parameter.
    v: Vec<Option<Moment>>,
}

/// An optimizer's state on the host (moments per parameter; None where not yet allocated),
/// for saving a run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OptimizerState {
    /// Steps taken (Adam's bias correction).
    pub t: i32,
    /// First moments (or SGD / RMSProp momentum buffers) per parameter.
    pub m: Vec<Option<Vec<f32>>>,
    /// Second moments per parameter.
    pub v: Vec<Option<Vec<f32>>>,
}

impl Optimizer {
    /// The state, moments copied to the host.
    pub fn export(&self) -> OptimizerState {
        let host = |b: &Vec<Option<Moment>>| b.iter().map(|m| m.clone().map(Moment::host)).collect();
        OptimizerState { t: self.t, m: host(&self.m), v: host(&self.v) }
    }

    /// Takes a saved state (its moments stay on the host until a tensor step moves them).
    pub fn import(&mut self, s: OptimizerState) {
        self.t = s.t;
        self.m = s.m.into_iter().map(|m| m.map(Moment::Host)).collect();
        self.v = s.v.into_iter().map(|v| v.map(Moment::Host)).collect();
    }

    /// A fresh optimizer.
    pub fn new(cfg: OptimizerConfig) -> Self {
        Self { cfg, t: 0, m: Vec::new(), v: Vec::new() }
    }

    /// Its current config.
    pub fn config(&self) -> &OptimizerConfig {
        &self.cfg
    }

    /// Takes new hyper-parameters; only a change of kind resets the state.
    pub fn set_config(&mut self, cfg: OptimizerConfig) {
        if cfg.kind != self.cfg.kind {
            self.reset();
        }
        self.cfg = cfg;
    }

    /// Forgets the state (moments, step count).
    pub fn reset(&mut self) {
        self.t = 0;
        self.m.clear();
        self.v.clear();
    }

    /// Counts one more step over `n` parameters.
    fn begin(&mut self, n: usize) {
        if self.m.len() != n {
            self.m = vec![None; n];
            self.v = vec![None; n];
        }
        self.t += 1;
    }

    /// Returns the updated parameters.
    pub fn step(&mut self, params: Vec<Tensor<2>>, grads: Vec<Tensor<2>>) -> Vec<Tensor<2>> {
        self.begin(params.len());
        let c = &self.cfg;
        let lr = c.lr as f64;
        let mut out = Vec::with_capacity(params.len());
        for (i, (p, g)) in params.into_iter().zip(grads).enumerate() {
            let prev_m = self.m[i].take().map(|m| m.device(&p));
            let prev_v = self.v[i].take().map(|v| v.device(&p));
            let update = match c.kind {
                OptimKind::Sgd => {
                    if c.momentum > 0.0 {
                        let buf = match prev_m {
                            Some(b) => b.mul_scalar(c.momentum).add(g),
                            None => g,
                        };
                        self.m[i] = Some(Moment::Device(buf.clone()));
                        buf
                    } else {
                        g
                    }
                }
                OptimKind::Adam => {
                    let (b1, b2) = (c.beta1 as f64, c.beta2 as f64);
                    let m = match prev_m {
                        Some(m) => m.mul_scalar(b1).add(g.clone().mul_scalar(1.0 - b1)),
                        None => g.clone().mul_scalar(1.0 - b1),
                    };
                    let v = match prev_v {
                        Some(v) => v.mul_scalar(b2).add(g.square().mul_scalar(1.0 - b2)),
                        None => g.square().mul_scalar(1.0 - b2),
                    };
                    self.m[i] = Some(Moment::Device(m.clone()));
                    self.v[i] = Some(Moment::Device(v.clone()));
                    let bc1 = 1.0 - b1.powi(self.t);
                    let bc2 = 1.0 - b2.powi(self.t);
                    m.div_scalar(bc1).div(v.div_scalar(bc2).sqrt().add_scalar(c.eps as f64))
                }
                OptimKind::Rmsprop => {
                    let a = c.alpha as f64;
                    let sq = match prev_v {
                        Some(v) => v.mul_scalar(a).add(g.clone().square().mul_scalar(1.0 - a)),
                        None => g.clone().square().mul_scalar(1.0 - a),
                    };
                    self.v[i] = Some(Moment::Device(sq.clone()));
                    let scaled = g.div(sq.sqrt().add_scalar(c.eps as f64));
                    if c.momentum > 0.0 {
                        let buf = match prev_m {
                            Some(b) => b.mul_scalar(c.momentum).add(scaled),
                            None => scaled,
                        };
                        self.m[i] = Some(Moment::Device(buf.clone()));
                        buf
                    } else {
                        scaled
                    }
                }
            };
            out.push(p.sub(update.mul_scalar(lr)));
        }
        out
    }

    /// The same update in place on host buffers, one pass per parameter (the CPU fast path:
    /// on small networks the tensor version's dozen small ops per parameter cost more than
    /// the arithmetic). Large parameters are split across threads.
    pub fn step_host(&mut self, params: Vec<&mut Vec<f32>>, grads: &[Vec<f32>]) {
        // Pieces of ≤ CHUNK elements across all parameters run on all threads (every element's
        // update is independent, so the split changes no result); below MIN in all, one
        // thread does it (waking the others costs more).
        const CHUNK: usize = 1 << 13;
        const MIN: usize = 1 << 14;
        self.begin(params.len());
        let rule = HostRule::new(&self.cfg, self.t);
        // A missing moment is zero: the first update then matches `step`'s.
        let mut moments: Vec<(Vec<f32>, Vec<f32>)> = (0..params.len())
            .map(|i| {
                let n = grads[i].len();
                let take = |slot: &mut Option<Moment>| slot.take().map_or_else(|| vec![0.0; n], Moment::host);
                (take(&mut self.m[i]), take(&mut self.v[i]))
            })
            .collect();
        let total: usize = grads.iter().map(Vec::len).sum();
        let mut pieces: Vec<Piece> = Vec::new();
        for ((p, (m, v)), g) in params.into_iter().zip(&mut moments).zip(grads) {
            for (((p, m), v), g) in p.chunks_mut(CHUNK).zip(m.chunks_mut(CHUNK)).zip(v.chunks_mut(CHUNK)).zip(g.chunks(CHUNK)) {
                pieces.push((p, m, v, g));
            }
        }
        if total < MIN {
            pieces.into_iter().for_each(|(p, m, v, g)| rule.apply(p, m, v, g));
        } else {
            pieces.into_par_iter().for_each(|(p, m, v, g)| rule.apply(p, m, v, g));
        }
        for (i, (m, v)) in moments.into_iter().enumerate() {
            // Keep only the buffers this kind uses, as `step` does.
            self.m[i] = rule.uses_m().then_some(Moment::Host(m));
            self.v[i] = rule.uses_v().then_some(Moment::Host(v));
        }
    }
}

/// A slice of one parameter with its moments and gradient: (p, m, v, g).
type Piece<'a> = (&'a mut [f32], &'a mut [f32], &'a mut [f32], &'a [f32]);

/// One host update's constants (bias corrections included), applied element-wise.
struct HostRule {
    kind: OptimKind,
    lr: f32,
    momentum: f32,
    beta1: f32,
    beta2: f32,
    alpha: f32,
    eps: f32,
    /// Adam's bias corrections 1 − βᵗ.
    bc1: f32,
    bc2: f32,
}

impl HostRule {
    fn new(c: &OptimizerConfig, t: i32) -> Self {
        let bc = |b: f32| (1.0 - (b as f64).powi(t)) as f32;
        Self {
            kind: c.kind,
            lr: c.lr,
            momentum: c.momentum,
            beta1: c.beta1,
            beta2: c.beta2,
            alpha: c.alpha,
            eps: c.eps,
            bc1: bc(c.beta1),
            bc2: bc(c.beta2),
        }
    }

    fn uses_m(&self) -> bool {
        self.kind == OptimKind::Adam || self.momentum > 0.0
    }

    fn uses_v(&self) -> bool {
        matches!(self.kind, OptimKind::Adam | OptimKind::Rmsprop)
    }

    /// Updates parameters `p` with gradients `g`; `m` and `v` are the moment buffers.
    fn apply(&self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        update(self, p, m, v, g)
    }
}

vectorised! { up_to avx512;
    /// `HostRule::apply`, compiled for the CPU's wide vectors: 8 or 16 lanes of sqrt / div
    /// instead of SSE2's 4 (Adam's update is ~5 % of a gan_toy step).
    fn update(rule: &HostRule, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        rule.apply_any(p, m, v, g)
    }
}

impl HostRule {
    #[inline(always)]
    fn apply_any(&self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        let (lr, mu) = (self.lr, self.momentum);
        match self.kind {
            OptimKind::Sgd if mu > 0.0 => {
                for ((p, b), g) in p.iter_mut().zip(m).zip(g) {
                    *b = mu * *b + g;
                    *p -= lr * *b;
                }
            }
            OptimKind::Sgd => p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g),
            OptimKind::Adam => {
                let (b1, b2, bc1, bc2) = (self.beta1, self.beta2, self.bc1, self.bc2);
                for (((p, m), v), g) in p.iter_mut().zip(m).zip(v).zip(g) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= lr * (*m / bc1) / ((*v / bc2).sqrt() + self.eps);
                }
            }
            OptimKind::Rmsprop => {
                let a = self.alpha;
                for (((p, b), sq), g) in p.iter_mut().zip(m).zip(v).zip(g) {
                    *sq = a * *sq + (1.0 - a) * g * g;
                    let scaled = g / (sq.sqrt() + self.eps);
                    if mu > 0.0 {
                        *b = mu * *b + scaled;
                        *p -= lr * *b;
                    } else {
                        *p -= lr * scaled;
                    }
                }
            }
        }
    }
}
