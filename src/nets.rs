//! The two networks: plain MLPs written with burn tensor ops, so that every forward can keep
//! its pre-activations and give back ∂D/∂x by hand (burn's autodiff is first-order only, and
//! the gradient penalties need the input gradient *inside* the loss).
//!
//! Weights are stored `[in, out]` (y = x·W + b) as plain tensors. A training step makes
//! tracked copies (`tracked`), differentiates, and hands the plain result to the optimizer.
//!
//! D's last layer can also see features of the whole batch: the minibatch stddev (Karras et
//! al.) and minibatch discrimination (Salimans et al. 2016, [`MinibatchKernels`]), whose
//! learned tensor T rides along as one more "layer" after the MLP's, so that the optimizer,
//! saving and unrolling treat it like every other parameter (`minibatch.rs`).

use crate::config::{Activation, DiscriminatorConfig, Init, NetShape};
use crate::minibatch::{KernelTrace, MinibatchKernels, REFERENCE_ROWS};
use crate::tensor_util::AutodiffLike;
pub use crate::tensor_util::Layer;
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// What D's last layer sees of the whole batch, besides its own row's hidden features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchFeatures {
    /// The batch's mean feature std: one more input.
    pub stddev: bool,
    /// Minibatch discrimination: B kernels (0 = none) of dimension C, B more inputs.
    pub kernels: usize,
    /// Numbers per kernel (C).
    pub kernel_dim: usize,
}

impl BatchFeatures {
    /// The batch features `d` asks for.
    pub fn of(d: &DiscriminatorConfig) -> Self {
        Self { stddev: d.minibatch_stddev, kernels: d.minibatch_kernels, kernel_dim: d.minibatch_kernel_dim }
    }

    fn extra_inputs(&self) -> usize {
        usize::from(self.stddev) + self.kernels
    }
}

/// A multilayer perceptron with optional spectral normalisation and a minibatch-stddev
/// feature before its last layer.
#[derive(Clone, Debug)]
pub struct Mlp {
    /// The affine layers, input first (then minibatch discrimination's T, when on).
    pub layers: Vec<Layer>,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Negative slope for leaky ReLU.
    pub leak: f32,
    /// Spectral norm state: the power-iteration vector `u` (`[out, 1]`) of every layer.
    pub spectral_u: Option<Vec<Tensor<2>>>,
    /// Append the batch's mean feature std as one more input of the last layer.
    pub minibatch_stddev: bool,
    /// Minibatch discrimination; its T is the last entry of `layers`.
    pub kernels: Option<MinibatchKernels>,
    /// The minibatch-stddev value of the latest training batch, used when D is evaluated on
    /// points that are not a batch (the surface grid, the arrows).
    pub last_stddev: f32,
}

/// What a forward pass keeps for the hand-written input gradient.
pub struct Trace {
    /// Network output, `[batch, out]`.
    pub out: Tensor<2>,
    /// Pre-activations of every hidden layer.
    pub pre: Vec<Tensor<2>>,
    /// The weights actually used (after spectral normalisation).
    pub weights: Vec<Tensor<2>>,
    /// The minibatch-stddev feature computed from this batch, when it was.
    pub stddev: Option<Tensor<2>>,
    /// Minibatch discrimination's comparison, when there was one.
    pub kernels: Option<KernelTrace>,
}

impl Trace {
    /// M of the rows judged (minibatch discrimination), for the reference batch.
    pub fn kernel_features(&self) -> Option<Tensor<2>> {
        self.kernels.as_ref().map(|k| k.m.clone())
    }
}

/// One network's initial parameters on the host: per layer, `([fan_in, fan_out]` weights row-major,
/// `[fan_out]` biases). Both engines start from these, so they start from the same weights.
#[derive(Clone, Debug)]
pub struct Params {
    /// Per layer: weights row-major and biases.
    pub layers: Vec<(Vec<f32>, Vec<f32>)>,
    /// `[fan_in, fan_out]` of every layer.
    pub shapes: Vec<[usize; 2]>,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Negative slope for leaky ReLU.
    pub leak: f32,
}

impl Params {
    /// Draws `input → depth × width → output` with the shape's initialisation. The last layer
    /// takes one more input per batch feature; minibatch discrimination's T (N(0, 0.05²), as in
    /// Salimans et al.'s code) and its zero bias follow as one more entry.
    pub fn init(shape: &NetShape, input: usize, output: usize, features: BatchFeatures, rng: &mut impl Rng) -> Self {
        let mut dims = vec![input];
        dims.extend(std::iter::repeat_n(shape.width, shape.depth));
        dims.push(output);
        let last = dims.len() - 2;
        let mut shapes: Vec<[usize; 2]> =
            (0..dims.len() - 1).map(|i| [dims[i] + if i == last { features.extra_inputs() } else { 0 }, dims[i + 1]]).collect();
        let mut layers: Vec<(Vec<f32>, Vec<f32>)> =
            shapes.iter().map(|&[fan_in, fan_out]| init_layer(shape, fan_in, fan_out, rng)).collect();
        if features.kernels > 0 {
            let (a, bc) = (dims[last], features.kernels * features.kernel_dim);
            let t = (0..a * bc)
                .map(|_| {
                    let n: f32 = StandardNormal.sample(rng);
                    0.05 * n
                })
                .collect();
            layers.push((t, vec![0.0; features.kernels]));
            shapes.push([a, bc]);
        }
        Self { layers, shapes, activation: shape.activation, leak: shape.leak }
    }
}

/// G's and D's initial parameters, G drawn first.
pub fn init_params(cfg: &crate::config::Config, rng: &mut impl Rng) -> (Params, Params) {
    // A conditional GAN's label is one-hot, concatenated to both networks' inputs.
    let k = cfg.classes();
    let g = Params::init(&cfg.generator.shape, cfg.generator.latent_dim + k, 2, BatchFeatures::default(), rng);
    let dc = &cfg.discriminator;
    let d = Params::init(&dc.shape, 2 * dc.pack + k, 1, BatchFeatures::of(dc), rng);
    (g, d)
}

impl Mlp {
    /// The network with the given parameters on `device`; with `spectral_norm`, the power
    /// iteration's start vectors are drawn from `rng`.
    pub fn from_params(p: Params, spectral_norm: bool, features: BatchFeatures, rng: &mut impl Rng, device: &Device) -> Self {
        let layers: Vec<Layer> = p
            .layers
            .into_iter()
            .zip(&p.shapes)
            .map(|((w, b), &[fan_in, fan_out])| {
                let bias = b.len();
                Layer {
                    w: Tensor::from_data(TensorData::new(w, [fan_in, fan_out]), device),
                    b: Tensor::from_data(TensorData::new(b, [1, bias]), device),
                }
            })
            .collect();
        let kernels =
            (features.kernels > 0).then_some(MinibatchKernels { kernels: features.kernels, dim: features.kernel_dim, reference: None });
        let n_mlp = layers.len() - usize::from(kernels.is_some());
        let spectral_u = spectral_norm.then(|| {
            layers[..n_mlp]
                .iter()
                .map(|l| {
                    let out = l.w.dims()[1];
                    let u: Vec<f32> = (0..out).map(|_| StandardNormal.sample(rng)).collect();
                    normalize(Tensor::from_data(TensorData::new(u, [out, 1]), device))
                })
                .collect()
        });
        Self { layers, activation: p.activation, leak: p.leak, spectral_u, minibatch_stddev: features.stddev, kernels, last_stddev: 0.0 }
    }

    /// Builds `input → depth × width → output` with the given initialisation.
    pub fn new(
        shape: &NetShape,
        input: usize,
        output: usize,
        spectral_norm: bool,
        features: BatchFeatures,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        let p = Params::init(shape, input, output, features, rng);
        Self::from_params(p, spectral_norm, features, rng, device)
    }

    /// The MLP's own layers among `layers` (minibatch discrimination's T follows them).
    fn n_mlp(&self, layers: &[Layer]) -> usize {
        layers.len() - usize::from(self.kernels.is_some())
    }

    /// Keeps (the first rows of) a fake batch's M as the reference for points judged outside a
    /// batch.
    pub fn set_kernel_reference(&mut self, m: Tensor<2>) {
        if let Some(k) = &mut self.kernels {
            let [rows, cols] = m.dims();
            let keep = rows.min(REFERENCE_ROWS);
            k.reference = Some((m.inner().slice([0..keep, 0..cols]), rows));
        }
    }

    /// All parameters in a fixed order: w0, b0, w1, b1, …
    pub fn params(&self) -> Vec<Tensor<2>> {
        self.layers.iter().flat_map(|l| [l.w.clone(), l.b.clone()]).collect()
    }

    /// Replaces the parameters, in `params` order.
    pub fn set_params(&mut self, params: Vec<Tensor<2>>) {
        let mut it = params.into_iter();
        for l in &mut self.layers {
            l.w = it.next().expect("one weight per layer");
            l.b = it.next().expect("one bias per layer");
        }
    }

    /// Parameter copies that record gradients, on the autodiff device.
    pub fn tracked(&self) -> Vec<Layer> {
        self.layers.iter().map(|l| Layer { w: l.w.clone().autodiff().require_grad(), b: l.b.clone().autodiff().require_grad() }).collect()
    }

    /// One power iteration per layer. Run once per D update (PyTorch's `spectral_norm` runs one
    /// per forward in training mode, i.e. once per D call; the estimate converges either way).
    pub fn power_iteration(&mut self) {
        if let Some(us) = &mut self.spectral_u {
            for (l, u) in self.layers.iter().zip(us.iter_mut()) {
                let v = normalize(l.w.clone().matmul(u.clone())); // [in, 1]
                *u = normalize(l.w.clone().transpose().matmul(v)); // [out, 1]
            }
        }
    }

    /// Weights as used by the forward: divided by σ = vᵀWu under spectral norm, where the
    /// gradient flows through σ (u, v are constants).
    fn effective_weights(&self, layers: &[Layer]) -> Vec<Tensor<2>> {
        match &self.spectral_u {
            None => layers.iter().map(|l| l.w.clone()).collect(),
            Some(us) => layers
                .iter()
                .zip(us)
                .map(|(l, u)| {
                    let u = u.clone();
                    let v = normalize(l.w.clone().inner().matmul(u.clone())); // [in, 1]
                    let sigma = v.autodiff_like(&l.w).transpose().matmul(l.w.clone().matmul(u.autodiff_like(&l.w))); // [1, 1]
                    l.w.clone().div(sigma)
                })
                .collect(),
        }
    }

    /// Forward with the stored parameters (no gradients recorded).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_with(&self.layers, x, false).out
    }

    /// Forward with the given (possibly tracked) parameters. `batch_stats` says whether the
    /// minibatch-stddev feature is computed from `x` (a training batch) or taken from the last
    /// training batch (evaluation on arbitrary points).
    pub fn forward_with(&self, layers: &[Layer], x: Tensor<2>, batch_stats: bool) -> Trace {
        let n = self.n_mlp(layers);
        let weights = self.effective_weights(&layers[..n]);
        let mut pre = Vec::with_capacity(n - 1);
        let mut h = x;
        let (mut stddev, mut kernels) = (None, None);
        for (i, (l, w)) in layers[..n].iter().zip(&weights).enumerate() {
            if i == n - 1 && (self.minibatch_stddev || self.kernels.is_some()) {
                let rows = h.dims()[0];
                // The last layer's input: [h | stddev | o], in the order `Params::init` counts.
                let mut cols = vec![h.clone()];
                if self.minibatch_stddev {
                    let s = if batch_stats {
                        let s = minibatch_stddev(h.clone());
                        stddev = Some(s.clone());
                        s
                    } else {
                        Tensor::<2>::from_data(TensorData::new(vec![self.last_stddev], [1, 1]), &h.device())
                    };
                    cols.push(s.repeat_dim(0, rows));
                }
                if let Some(k) = &self.kernels {
                    let (o, trace) = k.features(h.clone(), &layers[n], batch_stats);
                    cols.push(o);
                    kernels = trace;
                }
                h = Tensor::cat(cols, 1);
            }
            let a = h.matmul(w.clone()).add(l.b.clone());
            if i + 1 < n {
                pre.push(a.clone());
                h = self.act(a);
            } else {
                h = a;
            }
        }
        Trace { out: h, pre, weights, stddev, kernels }
    }

    /// ∂(Σ out)/∂x for a one-output network, by the chain rule through the kept
    /// pre-activations: g ← (g ⊙ σ'(a_l))·W_lᵀ from the top down. Built from tensor ops on the
    /// (possibly tracked) weights, so a penalty on it can be differentiated into the weights.
    /// The minibatch-stddev feature is treated as a constant (it is a batch statistic);
    /// minibatch discrimination's sums are differentiated in row i's own sample, with the rows
    /// it is compared with held fixed (∂D(x_i)/∂x_i, the others fixed).
    pub fn input_grad(&self, trace: &Trace) -> Tensor<2> {
        let n = trace.weights.len();
        let rows = trace.out.dims()[0];
        let w_last = trace.weights[n - 1].clone(); // [fan_in, 1]
        let fan_in = w_last.dims()[0];
        let extra = usize::from(self.minibatch_stddev) + self.kernels.as_ref().map_or(0, |k| k.kernels);
        // d out / d h_{L-1} = W_Lᵀ for every row …
        let mut g = w_last.clone().slice([0..fan_in - extra, 0..1]).transpose().repeat_dim(0, rows); // [rows, width]
        // … plus the path through o(h) = Σ_j exp(−‖(hT)_b − R_{j,b}‖₁).
        if let (Some(k), Some(kt)) = (&self.kernels, &trace.kernels) {
            let w_o = w_last.slice([fan_in - k.kernels..fan_in, 0..1]);
            g = g.add(k.grad_m(kt, w_o).matmul(kt.t.clone().transpose()));
        }
        for l in (0..n - 1).rev() {
            g = g.mul(self.act_grad(trace.pre[l].clone()));
            g = g.matmul(trace.weights[l].clone().transpose());
        }
        g
    }

    fn act(&self, a: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Relu => activation::relu(a),
            Activation::LeakyRelu => activation::leaky_relu(a, self.leak as f64),
            Activation::Tanh => activation::tanh(a),
            Activation::Sigmoid => activation::sigmoid(a),
        }
    }

    /// σ'(a). For ReLU-family units the mask carries no gradient (σ'' = 0 almost everywhere);
    /// for tanh, 1 − tanh², and for the sigmoid, σ(1 − σ), stay differentiable, so penalties
    /// see the exact second-order term.
    fn act_grad(&self, a: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Relu => a.inner().greater_elem(0.0).float(),
            Activation::LeakyRelu => {
                let mask = a.inner().greater_elem(0.0).float();
                mask.mul_scalar(1.0 - self.leak).add_scalar(self.leak)
            }
            Activation::Tanh => {
                let t = activation::tanh(a);
                t.clone().mul(t).neg().add_scalar(1.0)
            }
            Activation::Sigmoid => {
                let s = activation::sigmoid(a);
                s.clone().mul(s.neg().add_scalar(1.0))
            }
        }
    }

    /// Clamps every parameter to [−c, c] (WGAN weight clipping).
    pub fn clip(&mut self, c: f32) {
        for l in &mut self.layers {
            l.w = l.w.clone().clamp(-c, c);
            l.b = l.b.clone().clamp(-c, c);
        }
    }
}

/// Mean over features of the per-feature std over the batch, as a `[1, 1]` tensor.
fn minibatch_stddev(h: Tensor<2>) -> Tensor<2> {
    h.var_bias(0).add_scalar(1e-8).sqrt().mean().reshape([1, 1])
}

fn normalize(v: Tensor<2>) -> Tensor<2> {
    let norm = v.clone().square().sum().sqrt().add_scalar(1e-12).reshape([1, 1]);
    v.div(norm)
}

/// Initial weights `[fan_in, fan_out]` and biases `[fan_out]`, row-major.
fn init_layer(shape: &NetShape, fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> (Vec<f32>, Vec<f32>) {
    match shape.init {
        Init::Default => {
            // PyTorch nn.Linear: kaiming_uniform(a=√5) ⇒ U(±1/√fan_in), bias the same.
            let bound = 1.0 / (fan_in as f32).sqrt();
            let w = (0..fan_in * fan_out).map(|_| rng.random_range(-bound..bound)).collect();
            let b = (0..fan_out).map(|_| rng.random_range(-bound..bound)).collect();
            (w, b)
        }
        Init::Normal => {
            let w = (0..fan_in * fan_out)
                .map(|_| {
                    let n: f32 = StandardNormal.sample(rng);
                    shape.init_std * n
                })
                .collect();
            (w, vec![0.0; fan_out])
        }
        Init::Orthogonal => (orthogonal(fan_in, fan_out, shape.init_gain, rng), vec![0.0; fan_out]),
    }
}

/// A `rows × cols` matrix with orthonormal columns (rows ≥ cols) or rows, times `gain`:
/// modified Gram–Schmidt on a Gaussian matrix, i.e. the Q of its QR decomposition.
pub fn orthogonal(rows: usize, cols: usize, gain: f32, rng: &mut impl Rng) -> Vec<f32> {
    let (big, small) = (rows.max(cols), rows.min(cols));
    // `q` holds `small` vectors of length `big`.
    let mut q: Vec<Vec<f64>> = (0..small).map(|_| (0..big).map(|_| StandardNormal.sample(rng)).collect()).collect();
    for i in 0..small {
        for j in 0..i {
            let dot: f64 = q[i].iter().zip(&q[j]).map(|(a, b)| a * b).sum();
            let qj = q[j].clone();
            q[i].iter_mut().zip(&qj).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = q[i].iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
        q[i].iter_mut().for_each(|a| *a /= norm);
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Vectors run along the longer side.
            let v = if rows >= cols { q[c][r] } else { q[r][c] };
            out[r * cols + c] = gain * v as f32;
        }
    }
    out
}
