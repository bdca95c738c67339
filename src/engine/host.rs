//! The host engine: the CPU fast path. The objective (`objective.rs`) is evaluated on
//! [`Dual`] columns — each value with its derivative with respect to the D output or
//! gradient norm it came from — and those derivatives start the hand-written backward passes
//! of `host_mlp.rs`. The batch is split into row chunks that run on separate threads
//! (`chunked`); every term's mean is over the whole batch, so each chunk's share is exact.

use super::host_kernels::Compare;
use super::host_mlp::{Acts, HostGrads, HostMlp, InputGrad, Rows, add_grads, chunked, recycle, scratch};
use super::host_units::add_into;
use super::{Engine, EngineKind, SavedD, UpdateStats};
use crate::batch::{DBatch, GBatch};
use crate::column::Column;
use crate::config::{Config, OptimizerConfig};
use crate::minibatch::REFERENCE_ROWS;
use crate::nets::{BatchFeatures, Params};
use crate::objective::{Objective, PointSet, Tape, d_objective, g_objective};
use crate::optim::Optimizer;
use std::ops::Range;

/// Where a dual column's derivatives point: D's output on a set, or ‖∂D/∂x‖² on a set
/// (index into the update's stacked sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// D's output on set i.
    Output(usize),
    /// ‖∂D/∂x‖² on set i.
    GradSqNorm(usize),
}

/// A column of values with their derivatives d(value)/d(source), elementwise.
#[derive(Clone, Debug)]
pub struct Dual {
    /// Values.
    pub v: Vec<f32>,
    /// d(value)/d(source), elementwise.
    pub d: Vec<f32>,
    /// The column the values came from.
    pub src: Source,
}

impl Dual {
    /// The column `v` itself (derivative 1).
    pub fn leaf(v: Vec<f32>, src: Source) -> Self {
        let d = vec![1.0; v.len()];
        Self { v, d, src }
    }

    /// Applies f elementwise, with f' for the chain rule.
    fn map(mut self, f: impl Fn(f32) -> f32, df: impl Fn(f32) -> f32) -> Self {
        for (v, d) in self.v.iter_mut().zip(&mut self.d) {
            *d *= df(*v);
            *v = f(*v);
        }
        self
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Column for Dual {
    fn neg(self) -> Self {
        self.map(|x| -x, |_| -1.0)
    }
    fn add(mut self, other: Self) -> Self {
        assert_eq!(self.src, other.src, "a term depends on one column");
        add_into(&mut self.v, &other.v);
        add_into(&mut self.d, &other.d);
        self
    }
    fn add_scalar(self, c: f32) -> Self {
        self.map(|x| x + c, |_| 1.0)
    }
    fn mul_scalar(self, c: f32) -> Self {
        self.map(|x| c * x, |_| c)
    }
    fn square(self) -> Self {
        self.map(|x| x * x, |x| 2.0 * x)
    }
    fn sqrt(self) -> Self {
        self.map(f32::sqrt, |x| 0.5 / x.sqrt())
    }
    fn softplus(self) -> Self {
        self.map(|x| x.max(0.0) + (-x.abs()).exp().ln_1p(), sigmoid)
    }
    fn sigmoid(self) -> Self {
        self.map(sigmoid, |x| {
            let s = sigmoid(x);
            s * (1.0 - s)
        })
    }
    fn relu(self) -> Self {
        self.map(|x| x.max(0.0), |x| f32::from(u8::from(x > 0.0)))
    }
    fn mean_value(&self) -> f32 {
        self.v.iter().sum::<f32>() / self.v.len().max(1) as f32
    }
}

/// D's pass over one chunk's stacked point sets, with the input gradients taken so far.
struct HostTape<'a> {
    d: &'a HostMlp,
    acts: Acts,
    sets: Vec<PointSet>,
    /// Rows per set in this chunk.
    n: usize,
    /// The point columns of D's input (a conditional GAN's label columns follow them and take
    /// no part in the penalties' ‖∂D/∂x‖).
    xw: usize,
    /// (set index, ∂D/∂x and the way there) of every `grad_sq_norms` call.
    input_grads: Vec<(usize, InputGrad)>,
}

impl HostTape<'_> {
    fn index(&self, set: PointSet) -> usize {
        self.sets.iter().position(|&s| s == set).expect("the batch holds every set the objective asks for")
    }

    fn set_rows(&self, i: usize) -> Rows<'_> {
        self.acts.rows(i * self.n..(i + 1) * self.n)
    }
}

impl Tape for HostTape<'_> {
    type Col = Dual;

    fn outputs(&mut self, set: PointSet) -> Dual {
        let i = self.index(set);
        let out = &self.acts.h[self.d.depth()][i * self.n..(i + 1) * self.n];
        Dual::leaf(out.to_vec(), Source::Output(i))
    }

    fn grad_sq_norms(&mut self, set: PointSet) -> Dual {
        let i = self.index(set);
        let ig = self.d.input_grad(&self.set_rows(i));
        let width = self.d.dims[0];
        let s = ig.g.chunks_exact(width).map(|row| row[..self.xw].iter().map(|v| v * v).sum()).collect();
        self.input_grads.push((i, ig));
        Dual::leaf(s, Source::GradSqNorm(i))
    }
}

/// One chunk's share of a gradient, with its share of what is recorded.
struct Part {
    grads: HostGrads,
    loss: f32,
    d_real: f32,
    d_fake: f32,
    /// M of the fake set's first rows (minibatch discrimination's reference batch).
    kernel_ref: Option<Vec<f32>>,
    /// The real set's minibatch stddev (held for points judged outside a batch).
    stddev: Option<f32>,
}

/// The host engine: both MLPs on host buffers, their optimizers, the pending gradients.
pub struct HostEngine {
    g: HostMlp,
    d: HostMlp,
    g_opt: Optimizer,
    d_opt: Optimizer,
    pending_d: Option<HostGrads>,
    pending_g: Option<HostGrads>,
    saved_d: SavedD<HostMlp, Optimizer>,
    /// A conditional GAN's number of labels (its one-hot columns end both networks' inputs).
    classes: usize,
}

impl HostEngine {
    /// The engine with these initial parameters (spectral norm's vectors from `rng`, as burn's
    /// engine draws them).
    pub fn new(cfg: &Config, g: Params, d: Params, rng: &mut impl rand::Rng) -> Self {
        let d = HostMlp::with_features(d, BatchFeatures::of(&cfg.discriminator));
        Self {
            g: HostMlp::new(g),
            d: if cfg.discriminator.spectral_norm { d.with_spectral_norm(rng) } else { d },
            g_opt: Optimizer::new(cfg.optim.g.clone()),
            d_opt: Optimizer::new(cfg.optim.d.clone()),
            pending_d: None,
            pending_g: None,
            saved_d: SavedD::default(),
            classes: cfg.classes(),
        }
    }

    /// A training pass over `rows` rows in row chunks on the threads (`chunked`), or whole when
    /// D sees features of the whole batch (`host_head.rs`).
    fn split<T: Send>(&self, rows: usize, f: impl Fn(Range<usize>) -> T + Sync + Send) -> Vec<T> {
        if self.d.head.couples_rows() { vec![f(0..rows)] } else { chunked(rows, f) }
    }

    /// Points as D's input rows: packed copies, or (a conditional D) as given, `[n, 2 + K]`
    /// with their labels.
    fn d_inputs(&self, pts: &[f32]) -> Vec<f32> {
        if self.classes > 0 { pts.to_vec() } else { as_packs(pts, self.d.dims[0]) }
    }

    /// Rows `r` of D's update over a batch of `rows` (packed) rows.
    fn d_chunk(&self, b: &DBatch, o: &Objective, r: Range<usize>, rows: usize) -> Part {
        let (width, n) = (2 * o.pack, r.len());
        let latent = self.g.dims[0];
        let z = b.z[r.start * o.pack * latent..r.end * o.pack * latent].to_vec();
        let mut fake = self.g.forward(z, n * o.pack).h.pop().expect("output layer");
        if let Some(e) = &b.fake_noise {
            add_into(&mut fake, &e[r.start * width..r.end * width]);
        }
        // One D pass over every set this update judges, stacked in `Objective::sets` order:
        // one product per layer instead of one per set (each product packs the layer's
        // weights anew, ~10 % of a 128-row product).
        let sets = o.sets();
        let real = &b.real[r.start * width..r.end * width];
        let mut x = scratch(sets.len() * n * width);
        x.clear();
        for set in &sets {
            match set {
                PointSet::Real => x.extend_from_slice(real),
                PointSet::Fake => x.extend_from_slice(&fake),
                PointSet::Interpolates => {
                    let eps = b.gp_eps.as_ref().expect("drawn when the objective has a GP");
                    x.extend((0..n * width).map(|i| {
                        let e = eps[r.start + i / width];
                        e * real[i] + (1.0 - e) * fake[i]
                    }));
                }
                PointSet::Perturbed => {
                    x.extend_from_slice(&b.perturbed.as_ref().expect("drawn with DRAGAN")[r.start * width..r.end * width])
                }
            }
        }
        recycle(fake);
        if let Some(l) = &b.labels {
            // Every set's row i carries label i (see `DBatch::labels`).
            let k = self.classes;
            let chunk = &l[r.start * k..r.end * k];
            let mut with = scratch(sets.len() * n * (width + k));
            with.clear();
            for set_rows in x.chunks_exact(n * width) {
                with.extend(crate::batch::concat_cols(set_rows, width, chunk, k));
            }
            recycle(std::mem::replace(&mut x, with));
        }
        // Batch features compare each set's rows with each other (one chunk: `split`).
        let acts = self.d.forward_cmp(x, sets.len() * n, Compare::Sets(n));
        let set = |s: PointSet| sets.iter().position(|&x| x == s).expect("every D update judges reals and fakes");
        let kernel_ref = acts.head.as_ref().filter(|k| !k.m.is_empty()).map(|k| {
            let (i, bc) = (set(PointSet::Fake), k.m.len() / acts.rows);
            k.m[i * n * bc..(i * n + n.min(REFERENCE_ROWS)) * bc].to_vec()
        });
        let stddev = acts.head.as_ref().and_then(|k| k.stddevs.get(set(PointSet::Real)).copied());
        let mut tape = HostTape { d: &self.d, acts, sets, n, xw: width, input_grads: Vec::new() };
        let obj = d_objective(&mut tape, o);
        let scale = 1.0 / rows as f32;
        let mut part = Part {
            grads: self.d.zero_grads(),
            loss: 0.0,
            d_real: obj.d_real.v.iter().sum(),
            d_fake: obj.d_fake.v.iter().sum(),
            kernel_ref,
            stddev,
        };
        // ∂loss/∂(D output) on the stacked rows, for the sets whose outputs enter the loss.
        let mut delta = vec![0.0f32; tape.sets.len() * n];
        let mut out_sets = 0;
        for term in &obj.terms {
            part.loss += term.v.iter().sum::<f32>() * scale;
            match term.src {
                Source::Output(i) => {
                    delta[i * n..(i + 1) * n].iter_mut().zip(&term.d).for_each(|(a, d)| *a += d * scale);
                    out_sets = out_sets.max(i + 1);
                }
                Source::GradSqNorm(i) => {
                    // d term/dg = φ'(‖g‖²)·2g per row.
                    let (_, ig) = tape.input_grads.iter().find(|(j, _)| *j == i).expect("taken by grad_sq_norms");
                    let g = &ig.g;
                    // Rows of D's whole input; a label column's entry stays 0 (not penalised).
                    let w_in = self.d.dims[0];
                    let mut u0 = scratch(g.len());
                    u0.iter_mut().for_each(|u| *u = 0.0);
                    for ((urow, grow), dphi) in u0.chunks_exact_mut(w_in).zip(g.chunks_exact(w_in)).zip(&term.d) {
                        urow[..width].iter_mut().zip(grow).for_each(|(u, g)| *u = 2.0 * dphi * scale * g);
                    }
                    self.d.penalty_backward(&tape.set_rows(i), ig, u0, &mut part.grads);
                }
            }
        }
        delta.truncate(out_sets * n);
        self.d.backward(&tape.acts.rows(0..out_sets * n), delta, Some(&mut part.grads), false);
        part
    }

    /// Rows `r` of G's update over a batch of `rows` (packed) rows.
    fn g_chunk(&self, b: &GBatch, o: &Objective, r: Range<usize>, rows: usize) -> Part {
        let (latent, width, n) = (self.g.dims[0], 2 * o.pack, r.len());
        let ag = self.g.forward(b.z[r.start * o.pack * latent..r.end * o.pack * latent].to_vec(), n * o.pack);
        let mut fake = ag.h[self.g.depth()].clone();
        if let Some(e) = &b.noise {
            add_into(&mut fake, &e[r.start * width..r.end * width]);
        }
        if let Some(l) = &b.labels {
            fake = crate::batch::concat_cols(&fake, width, &l[r.start * self.classes..r.end * self.classes], self.classes);
        }
        let ad = self.d.forward_cmp(fake, n, Compare::Sets(n));
        let term = g_objective(Dual::leaf(ad.h[self.d.depth()].clone(), Source::Output(0)), o);
        let scale = 1.0 / rows as f32;
        let delta = term.d.iter().map(|d| d * scale).collect();
        let mut gx = self.d.backward(&ad.all(), delta, None, true).expect("input gradient");
        if self.classes > 0 {
            // G moves the point, not the label it was asked for.
            gx = gx.chunks_exact(width + self.classes).flat_map(|row| row[..width].iter().copied()).collect();
        }
        let mut grads = self.g.zero_grads();
        self.g.backward(&ag.all(), gx, Some(&mut grads), false);
        Part { grads, loss: term.v.iter().sum::<f32>() * scale, d_real: 0.0, d_fake: 0.0, kernel_ref: None, stddev: None }
    }
}

/// Sums the chunks' parts in order.
fn total(parts: Vec<Part>) -> Part {
    let mut parts = parts.into_iter();
    let mut t = parts.next().expect("at least one chunk");
    for p in parts {
        add_grads(&mut t.grads, p.grads);
        t.loss += p.loss;
        t.d_real += p.d_real;
        t.d_fake += p.d_fake;
    }
    t
}

fn norm(grads: &HostGrads) -> f32 {
    grads.iter().flatten().map(|v| v * v).sum::<f32>().sqrt()
}

impl Engine for HostEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Host
    }

    fn d_gradients(&mut self, b: &DBatch, o: &Objective, record: bool) -> Option<UpdateStats> {
        if let Some(s) = &mut self.d.spectral {
            // One power iteration per D update, as burn's engine runs it.
            s.power_iteration();
            self.d.refresh();
        }
        let rows = b.real.len() / (2 * o.pack);
        let mut t = total(self.split(rows, |r| self.d_chunk(b, o, r, rows)));
        if let (Some(k), Some(m)) = (&mut self.d.head.kernels, t.kernel_ref.take()) {
            k.reference = Some((m, rows));
        }
        if let (Some(s), Some(v)) = (&mut self.d.head.stddev, t.stddev) {
            *s = v;
        }
        if let Some(s) = &self.d.spectral {
            s.raw_grads(&mut t.grads);
        }
        let stats = record.then(|| UpdateStats {
            loss: t.loss,
            d_real: t.d_real / rows as f32,
            d_fake: t.d_fake / rows as f32,
            grad_norm: norm(&t.grads),
        });
        self.pending_d = Some(t.grads);
        stats
    }

    fn g_gradients(&mut self, b: &GBatch, o: &Objective, record: bool) -> Option<UpdateStats> {
        let rows = b.z.len() / self.g.dims[0] / o.pack;
        let t = total(self.split(rows, |r| self.g_chunk(b, o, r, rows)));
        let stats = record.then(|| UpdateStats { loss: t.loss, grad_norm: norm(&t.grads), ..Default::default() });
        self.pending_g = Some(t.grads);
        stats
    }

    fn apply_d(&mut self, opt: &OptimizerConfig, clip: Option<f32>) {
        let grads = self.pending_d.take().expect("apply_d after d_gradients");
        self.d_opt.set_config(opt.clone());
        self.d_opt.step_host(self.d.params_mut(), &grads);
        grads.into_iter().for_each(recycle);
        if let Some(c) = clip {
            self.d.params_mut().into_iter().flatten().for_each(|v| *v = v.clamp(-c, c));
        }
        self.d.refresh();
    }

    fn apply_g(&mut self, opt: &OptimizerConfig) {
        let grads = self.pending_g.take().expect("apply_g after g_gradients");
        self.g_opt.set_config(opt.clone());
        self.g_opt.step_host(self.g.params_mut(), &grads);
        grads.into_iter().for_each(recycle);
        self.g.refresh();
    }

    fn save_d(&mut self) {
        self.saved_d.save(&self.d, &self.d_opt);
    }

    fn restore_d(&mut self) {
        self.saved_d.restore(&mut self.d, &mut self.d_opt);
    }

    fn generate(&self, z: &[f32]) -> Vec<f32> {
        let rows = z.len() / self.g.dims[0];
        let parts = chunked(rows, |r| {
            self.g.forward(z[r.start * self.g.dims[0]..r.end * self.g.dims[0]].to_vec(), r.len()).h.pop().expect("output")
        });
        parts.concat()
    }

    fn d_values(&self, pts: &[f32]) -> Vec<f32> {
        let packed = self.d_inputs(pts);
        let rows = packed.len() / self.d.dims[0];
        let w = self.d.dims[0];
        chunked(rows, |r| self.d.forward(packed[r.start * w..r.end * w].to_vec(), r.len()).h.pop().expect("output")).concat()
    }

    fn d_at(&self, pts: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let w = self.d.dims[0];
        let packed = self.d_inputs(pts);
        let rows = packed.len() / w;
        let parts = chunked(rows, |r| {
            let acts = self.d.forward(packed[r.start * w..r.end * w].to_vec(), r.len());
            let g = if self.d.head.kernels.is_some() {
                // Rows are independent here (the reference batch is held fixed): the gradient
                // of their sum is each row's own.
                self.d.backward(&acts.all(), vec![1.0; r.len()], None, true).expect("input gradient")
            } else {
                std::mem::take(&mut self.d.input_grad(&acts.all()).g)
            };
            (acts.h[self.d.depth()].clone(), g)
        });
        let (vals, grads): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        // Under packing, a point's gradient is the sum over its copies.
        let xw = w - self.classes;
        let grads: Vec<f32> = grads
            .concat()
            .chunks_exact(w)
            .flat_map(|row| {
                let (mut x, mut y) = (0.0, 0.0);
                row[..xw].chunks_exact(2).for_each(|p| {
                    x += p[0];
                    y += p[1];
                });
                [x, y]
            })
            .collect();
        (vals.concat(), grads)
    }

    fn weights(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        (self.g.stored(), self.d.stored())
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
            for (p, v) in net.params_mut().into_iter().zip(saved) {
                *p = v;
            }
            net.refresh();
        }
        self.g_opt.import(s.g_opt);
        self.d_opt.import(s.d_opt);
        Ok(())
    }
}

/// Points `[n, 2]` as D inputs of `width = 2·pack`: each point repeated `pack` times.
fn as_packs(pts: &[f32], width: usize) -> Vec<f32> {
    if width == 2 {
        return pts.to_vec();
    }
    pts.chunks_exact(2).flat_map(|p| p.iter().copied().cycle().take(width)).collect()
}
