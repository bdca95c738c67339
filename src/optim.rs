//! Optimizers over plain parameter lists, written out so that their maths is PyTorch's
//! (the papers' reference): SGD with momentum and no dampening, Adam with bias correction,
//! RMSProp with smoothing `alpha` and optional momentum. Hyper-parameters can change between
//! two steps while the state (moments, step count) is kept; changing the kind resets it.

use crate::config::{OptimKind, OptimizerConfig};
use burn::tensor::Tensor;

#[derive(Clone, Debug)]
pub struct Optimizer {
    cfg: OptimizerConfig,
    /// Steps taken since the state was last reset.
    t: i32,
    /// First moment / momentum buffer per parameter.
    m: Vec<Option<Tensor<2>>>,
    /// Second moment (Adam) / square average (RMSProp) per parameter.
    v: Vec<Option<Tensor<2>>>,
}

impl Optimizer {
    pub fn new(cfg: OptimizerConfig) -> Self {
        Self { cfg, t: 0, m: Vec::new(), v: Vec::new() }
    }

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

    pub fn reset(&mut self) {
        self.t = 0;
        self.m.clear();
        self.v.clear();
    }

    /// Returns the updated parameters.
    pub fn step(&mut self, params: Vec<Tensor<2>>, grads: Vec<Tensor<2>>) -> Vec<Tensor<2>> {
        if self.m.len() != params.len() {
            self.m = vec![None; params.len()];
            self.v = vec![None; params.len()];
        }
        self.t += 1;
        let c = &self.cfg;
        let lr = c.lr as f64;
        let mut out = Vec::with_capacity(params.len());
        for (i, (p, g)) in params.into_iter().zip(grads).enumerate() {
            let update = match c.kind {
                OptimKind::Sgd => {
                    if c.momentum > 0.0 {
                        let buf = match self.m[i].take() {
                            Some(b) => b.mul_scalar(c.momentum).add(g),
                            None => g,
                        };
                        self.m[i] = Some(buf.clone());
                        buf
                    } else {
                        g
                    }
                }
                OptimKind::Adam => {
                    let (b1, b2) = (c.beta1 as f64, c.beta2 as f64);
                    let m = match self.m[i].take() {
                        Some(m) => m.mul_scalar(b1).add(g.clone().mul_scalar(1.0 - b1)),
                        None => g.clone().mul_scalar(1.0 - b1),
                    };
                    let v = match self.v[i].take() {
                        Some(v) => v.mul_scalar(b2).add(g.square().mul_scalar(1.0 - b2)),
                        None => g.square().mul_scalar(1.0 - b2),
                    };
                    self.m[i] = Some(m.clone());
                    self.v[i] = Some(v.clone());
                    let bc1 = 1.0 - b1.powi(self.t);
                    let bc2 = 1.0 - b2.powi(self.t);
                    m.div_scalar(bc1).div(v.div_scalar(bc2).sqrt().add_scalar(c.eps as f64))
                }
                OptimKind::Rmsprop => {
                    let a = c.alpha as f64;
                    let sq = match self.v[i].take() {
                        Some(v) => v.mul_scalar(a).add(g.clone().square().mul_scalar(1.0 - a)),
                        None => g.clone().square().mul_scalar(1.0 - a),
                    };
                    self.v[i] = Some(sq.clone());
                    let scaled = g.div(sq.sqrt().add_scalar(c.eps as f64));
                    if c.momentum > 0.0 {
                        let buf = match self.m[i].take() {
                            Some(b) => b.mul_scalar(c.momentum).add(scaled),
                            None => scaled,
                        };
                        self.m[i] = Some(buf.clone());
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
}
