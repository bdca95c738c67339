//! The burn engine: the objective (`objective.rs`) evaluated on autodiff tensors and
//! differentiated by burn, on any device (wgpu included) and for every network `nets.rs`
//! builds (minibatch discrimination under a gradient penalty, which the host engine
//! lacks). ∂D/∂x for the penalties is written out
//! with tensor ops (`Mlp::input_grad`), so one first-order backward reaches the weights.

use super::{Engine, EngineKind, SavedD, UpdateStats};
use crate::batch::{DBatch, GBatch};
use crate::column::Column;
use crate::config::{Config, OptimizerConfig};
use crate::nets::{BatchFeatures, Layer, Mlp, Params, Trace};
use crate::objective::{Objective, PointSet, Tape, d_objective, g_objective};
use crate::optim::Optimizer;
use crate::tensor_util::{matrix, scalar, to_vec};
use burn::tensor::{Device, Tensor, activation};
use rand::Rng;

/// A column as a `[n, 1]` tensor (tracked when it depends on tracked weights).
#[derive(Clone, Debug)]
pub struct TensorCol(pub Tensor<2>);

impl Column for TensorCol {
    fn neg(self) -> Self {
        Self(self.0.neg())
    }
    fn add(self, other: Self) -> Self {
        Self(self.0.add(other.0))
    }
    fn add_scalar(self, c: f32) -> Self {
        Self(self.0.add_scalar(c))
    }
    fn mul_scalar(self, c: f32) -> Self {
        Self(self.0.mul_scalar(c))
    }
    fn square(self) -> Self {
        Self(self.0.square())
    }
    fn sqrt(self) -> Self {
        Self(self.0.sqrt())
    }
    fn softplus(self) -> Self {
        Self(activation::softplus(self.0, 1.0))
    }
    fn sigmoid(self) -> Self {
        Self(activation::sigmoid(self.0))
    }
    fn relu(self) -> Self {
        Self(self.0.clamp_min(0.0))
    }
    fn mean_value(&self) -> f32 {
        scalar(self.0.clone().inner().mean())
    }
}

/// D's passes over one update's point sets, each run on first use.
struct BurnTape<'a> {
    d: &'a Mlp,
    layers: &'a [Layer],
    real: Tensor<2>,
    fake: Tensor<2>,
    gp_eps: Option<Tensor<2>>,
    perturbed: Option<Tensor<2>>,
    /// The point columns of D's input (label columns follow, and are not penalised).
    xw: usize,
    traces: Vec<(PointSet, Trace)>,
}

impl BurnTape<'_> {
    fn trace(&mut self, set: PointSet) -> &Trace {
        if let Some(i) = self.traces.iter().position(|(s, _)| *s == set) {
            return &self.traces[i].1;
        }
        let x = match set {
            PointSet::Real => self.real.clone(),
            PointSet::Fake => self.fake.clone(),
            PointSet::Interpolates => {
                let eps = self.gp_eps.clone().expect("drawn when the objective has a GP");
                self.real.clone().mul(eps.clone()).add(self.fake.clone().mul(eps.neg().add_scalar(1.0)))
            }
            PointSet::Perturbed => self.perturbed.clone().expect("drawn with DRAGAN"),
        };
        let t = self.d.forward_with(self.layers, x.autodiff(), true);
        self.traces.push((set, t));
        &self.traces.last().expect("just pushed").1
    }
}

impl Tape for BurnTape<'_> {
    type Col = TensorCol;

    fn outputs(&mut self, set: PointSet) -> TensorCol {
        TensorCol(self.trace(set).out.clone())
    }

    fn grad_sq_norms(&mut self, set: PointSet) -> TensorCol {
        let (d, xw) = (self.d, self.xw);
        let g = d.input_grad(self.trace(set));
        let rows = g.dims()[0];
        TensorCol(g.slice([0..rows, 0..xw]).square().sum_dim(1))
    }
}

/// The burn engine: both networks as burn tensors, their optimizers, the pending gradients.
pub struct BurnEngine {
    g: Mlp,
    d: Mlp,
    g_opt: Optimizer,
    d_opt: Optimizer,
    device: Device,
    pending_d: Option<Vec<Tensor<2>>>,
    pending_g: Option<Vec<Tensor<2>>>,
    saved_d: SavedD<Mlp, Optimizer>,
    /// A conditional GAN's number of labels (its one-hot columns end both networks' inputs).
    classes: usize,
}

/// Gradients of every layer's weight and bias, in `Mlp::params` order.
fn layer_grads(layers: &[Layer], loss: Tensor<1>) -> Vec<Tensor<2>> {
    let backprop = loss.backward();
    layers.iter().flat_map(|l| [l.w.grad(&backprop).expect("w is tracked"), l.b.grad(&backprop).expect("b is tracked")]).collect()
}

fn norm(grads: &[Tensor<2>]) -> f32 {
    let total = grads.iter().map(|g| g.clone().square().sum()).reduce(|a, b| a.add(b));
    total.map(|t| scalar(t).sqrt()).unwrap_or(0.0)
}

/// The loss: the sum of the terms' means.
fn loss_of(terms: Vec<TensorCol>) -> Tensor<1> {
    terms.into_iter().map(|c| c.0.mean()).reduce(|a, b| a.add(b)).expect("at least one term")
}

impl BurnEngine {
    /// The engine with these initial parameters on `device` (spectral norm's vectors from `rng`).
    pub fn new(cfg: &Config, g: Params, d: Params, rng: &mut impl Rng, device: &Device) -> Self {
        let dc = &cfg.discriminator;
        Self {
            g: Mlp::from_params(g, false, BatchFeatures::default(), rng, device),
            d: Mlp::from_params(d, dc.spectral_norm, BatchFeatures::of(dc), rng, device),
            g_opt: Optimizer::new(cfg.optim.g.clone()),
            d_opt: Optimizer::new(cfg.optim.d.clone()),
            device: device.clone(),
            pending_d: None,
            pending_g: None,
            saved_d: SavedD::default(),
            classes: cfg.classes(),
        }
    }

    /// Points `[n, 2]` as D inputs: each point as `pack` copies of itself (a conditional D's
    /// points come with their labels, `[n, 2 + K]`, unpacked).
    fn as_packs(&self, pts: &[f32]) -> Tensor<2> {
        let width = self.d.layers[0].w.dims()[0];
        if self.classes > 0 {
            return matrix(pts.to_vec(), width, &self.device);
        }
        let t = matrix(pts.to_vec(), 2, &self.device);
        if width > 2 { t.repeat_dim(1, width / 2) } else { t }
    }

    /// G at `z` plus instance noise, packed into D's rows.
    fn fakes(&self, g_layers: &[Layer], z: &[f32], noise: Option<&Vec<f32>>, o: &Objective, tracked: bool) -> Tensor<2> {
        let latent = self.g.layers[0].w.dims()[0];
        let z = matrix(z.to_vec(), latent, &self.device);
        let z = if tracked { z.autodiff() } else { z };
        let mut fake = self.g.forward_with(g_layers, z, false).out;
        if let Some(n) = noise {
            fake = fake.add(matrix(n.clone(), 2, &self.device));
        }
        let rows = fake.dims()[0] / o.pack;
        fake.reshape([rows, 2 * o.pack])
    }
}

impl Engine for BurnEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Burn
    }

    fn d_gradients(&mut self, b: &DBatch, o: &Objective, record: bool) -> Option<UpdateStats> {
        self.d.power_iteration();
        let width = 2 * o.pack;
        let fake = self.fakes(&self.g.layers, &b.z, b.fake_noise.as_ref(), o, false);
        let layers = self.d.tracked();
        // A conditional D sees row i of every set with label i (see `DBatch::labels`).
        let labels = b.labels.clone().map(|l| matrix(l, self.classes, &self.device));
        let with = |x: Tensor<2>| match &labels {
            Some(l) => Tensor::cat(vec![x, l.clone()], 1),
            None => x,
        };
        let mut tape = BurnTape {
            d: &self.d,
            layers: &layers,
            real: with(matrix(b.real.clone(), width, &self.device)),
            fake: with(fake),
            gp_eps: b.gp_eps.clone().map(|e| matrix(e, 1, &self.device)),
            perturbed: b.perturbed.clone().map(|p| with(matrix(p, width, &self.device))),
            xw: width,
            traces: Vec::new(),
        };
        let obj = d_objective(&mut tape, o);
        let stddev = tape.traces.iter().find(|(s, _)| *s == PointSet::Real).and_then(|(_, t)| t.stddev.clone());
        // Points judged outside a batch are compared with this fake batch (`MinibatchKernels`).
        let kernel_ref = tape.traces.iter().find(|(s, _)| *s == PointSet::Fake).and_then(|(_, t)| t.kernel_features());
        let loss = loss_of(obj.terms);
        let value = record.then(|| (scalar(loss.clone().inner()), obj.d_real.mean_value(), obj.d_fake.mean_value()));
        let grads = layer_grads(&layers, loss);
        if let Some(s) = stddev {
            self.d.last_stddev = scalar(s.inner().reshape([1]));
        }
        if let Some(m) = kernel_ref {
            self.d.set_kernel_reference(m);
        }
        let stats = value.map(|(loss, d_real, d_fake)| UpdateStats { loss, d_real, d_fake, grad_norm: norm(&grads) });
        self.pending_d = Some(grads);
        stats
    }

    fn g_gradients(&mut self, b: &GBatch, o: &Objective, record: bool) -> Option<UpdateStats> {
        let layers = self.g.tracked();
        let mut fake = self.fakes(&layers, &b.z, b.noise.as_ref(), o, true);
        if let Some(l) = &b.labels {
            fake = Tensor::cat(vec![fake, matrix(l.clone(), self.classes, &self.device)], 1);
        }
        let df = self.d.forward_with(&self.d.layers, fake, true).out;
        let loss = loss_of(vec![g_objective(TensorCol(df), o)]);
        let value = record.then(|| scalar(loss.clone().inner()));
        let grads = layer_grads(&layers, loss);
        let stats = value.map(|loss| UpdateStats { loss, grad_norm: norm(&grads), ..Default::default() });
        self.pending_g = Some(grads);
        stats
    }

    fn apply_d(&mut self, opt: &OptimizerConfig, clip: Option<f32>) {
        let grads = self.pending_d.take().expect("apply_d after d_gradients");
        self.d_opt.set_config(opt.clone());
        let params = self.d_opt.step(self.d.params(), grads);
        self.d.set_params(params);
        if let Some(c) = clip {
            self.d.clip(c);
        }
    }

    fn apply_g(&mut self, opt: &OptimizerConfig) {
        let grads = self.pending_g.take().expect("apply_g after g_gradients");
        self.g_opt.set_config(opt.clone());
        let params = self.g_opt.step(self.g.params(), grads);
        self.g.set_params(params);
    }

    fn save_d(&mut self) {
        self.saved_d.save(&self.d, &self.d_opt);
    }

    fn restore_d(&mut self) {
        self.saved_d.restore(&mut self.d, &mut self.d_opt);
    }

    fn generate(&self, z: &[f32]) -> Vec<f32> {
        let latent = self.g.layers[0].w.dims()[0];
        to_vec(self.g.forward(matrix(z.to_vec(), latent, &self.device)))
    }

    fn d_values(&self, pts: &[f32]) -> Vec<f32> {
        to_vec(self.d.forward_with(&self.d.layers, self.as_packs(pts), false).out)
    }

    fn d_at(&self, pts: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let n = pts.len() / (2 + self.classes);
        let width = self.d.layers[0].w.dims()[0];
        let tr = self.d.forward_with(&self.d.layers, self.as_packs(pts), false);
        let g = self.d.input_grad(&tr);
        let g = if self.classes > 0 {
            g.slice([0..n, 0..2])
        } else if width > 2 {
            g.reshape([n, width / 2, 2]).sum_dim(1).reshape([n, 2])
        } else {
            g
        };
        (to_vec(tr.out), to_vec(g))
    }

    fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        (self.g.params().into_iter().map(to_vec).collect(), self.d.params().into_iter().map(to_vec).collect())
    }

    fn export_state(&self) -> super::EngineState {
        let (g, d) = self.weights();
        super::EngineState { g, d, g_opt: self.g_opt.export(), d_opt: self.d_opt.export() }
    }

    fn import_state(&mut self, s: super::EngineState) -> Result<(), String> {
        let (g, d) = self.weights();
        super::check_shapes("G", &g, &s.g)?;
        super::check_shapes("D", &d, &s.d)?;
        for (net, saved) in [(&mut self.g, s.g), (&mut self.d, s.d)] {
            let like = net.params();
            let params =
                like.iter().zip(saved).map(|(t, v)| Tensor::from_data(burn::tensor::TensorData::new(v, t.dims()), &self.device)).collect();
            net.set_params(params);
        }
        self.g_opt.import(s.g_opt);
        self.d_opt.import(s.d_opt);
        Ok(())
    }
}
