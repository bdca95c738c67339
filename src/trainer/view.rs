//! What the window draws, computed by the core so the window only draws: D's decision surface
//! on an N×N grid, the fake samples of the fixed z batch with ∂D/∂x arrows, the gradient
//! field over the plane, the warped latent grid (G's manifold) and a latent interpolation.
//! Everything is plain host data (`Vec<[f32; 2]>`, `Vec<f32>`), never tensors.

use crate::config::LatentKind;
use crate::trainer::Trainer;
use std::sync::Arc;

/// The data view's layers, by the names `--layers` and lesson cues use.
pub const LAYER_NAMES: &[&str] = &["surface", "real", "fake", "arrows", "manifold", "field", "modes"];
/// The side plots, by the names `--plots` and lesson cues use.
pub const PLOT_NAMES: &[&str] = &["symptoms", "losses", "modes", "divergences", "gradients", "histogram", "interpolation"];

/// `surface,real,…` → the names, each checked against `known`.
fn names_in<'a>(list: &'a str, known: &[&str], what: &str) -> Result<Vec<&'a str>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| if known.contains(&n) { Ok(n) } else { Err(format!("unknown {what} `{n}` (one of: {})", known.join(", "))) })
        .collect()
}

/// The layer names of a `--layers` list, or an error naming the unknown one.
pub fn parse_layer_names(list: &str) -> Result<Vec<&str>, String> {
    names_in(list, LAYER_NAMES, "layer")
}

/// The plot names of a `--plots` list, or an error naming the unknown one.
pub fn parse_plot_names(list: &str) -> Result<Vec<&str>, String> {
    names_in(list, PLOT_NAMES, "plot")
}

/// One frame's worth of view data.
#[derive(Clone, Debug, Default)]
pub struct ViewData {
    /// The step it shows.
    pub step: u64,
    /// Half-width of the view box.
    pub half_width: f32,
    /// Fakes from the fixed evaluation z (the first `n_fake`), so each dot keeps its identity.
    pub fake: Vec<[f32; 2]>,
    /// ∂D/∂x at each fake: the direction G's update pushes it.
    pub arrows: Vec<[f32; 2]>,
    /// G along a straight line between two fixed latent points.
    pub interpolation: Vec<[f32; 2]>,
    /// The costly layers, shared between snapshots while training refreshes them on their own
    /// clock (see `worker::ViewCadence`); the window re-uploads the surface only when they change.
    pub slow: Arc<SlowLayers>,
}

/// The layers computed over the whole plane or latent grid.
#[derive(Clone, Debug, Default)]
pub struct SlowLayers {
    /// The step they were computed at.
    pub step: u64,
    /// D on an `surface_n × surface_n` grid over the view box, row-major from the bottom row.
    pub surface: Vec<f32>,
    /// Side of the surface grid.
    pub surface_n: usize,
    /// True when `surface` holds probabilities σ(D) (logistic losses); else raw critic values.
    pub surface_is_prob: bool,
    /// Smallest surface value (for the colour scale).
    pub surface_min: f32,
    /// Largest surface value.
    pub surface_max: f32,
    /// The gradient field ∂D/∂x on a coarse grid: (point, gradient).
    pub field: Vec<([f32; 2], [f32; 2])>,
    /// G's image of the latent grid lines (a 2-D slice through z when the latent is wider).
    pub manifold: Vec<Vec<[f32; 2]>>,
}

/// Settings for what to compute (the window can skip what is hidden).
#[derive(Clone, Copy, Debug)]
pub struct ViewRequest {
    /// Fakes to draw.
    pub n_fake: usize,
    /// Compute D's surface.
    pub surface: bool,
    /// Side of the gradient-field grid (0: none).
    pub field_n: usize,
    /// Latent grid lines of the manifold (0: none).
    pub manifold_n: usize,
}

impl Default for ViewRequest {
    fn default() -> Self {
        Self { n_fake: 2000, surface: true, field_n: 20, manifold_n: 21 }
    }
}

/// Row-major `[x, y, …]` as points.
pub fn pairs(v: &[f32]) -> Vec<[f32; 2]> {
    v.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}

/// Cell centres of an n×n grid over [−h, h]², row-major from the bottom-left.
pub fn grid_points(n: usize, h: f32) -> Vec<f32> {
    let mut pts = Vec::with_capacity(2 * n * n);
    for j in 0..n {
        for i in 0..n {
            pts.push(-h + (i as f32 + 0.5) * 2.0 * h / n as f32);
            pts.push(-h + (j as f32 + 0.5) * 2.0 * h / n as f32);
        }
    }
    pts
}

impl Trainer {
    /// G's input width: the latent, and a conditional GAN's one-hot label.
    pub fn g_input_dim(&self) -> usize {
        self.config().latent().1 + self.config().classes()
    }

    /// Points `[n, 2]` as D's inputs: a conditional D's get a one-hot label each — the label
    /// in the last columns of the matching row of `z` when given (a fake and what G was asked
    /// for), else the nearest mode's (a point of the plane).
    pub fn labelled(&self, pts: &[f32], z: Option<&[f32]>) -> Vec<f32> {
        let k = self.config().classes();
        if k == 0 {
            return pts.to_vec();
        }
        let labels: Vec<f32> = match (z, self.target().modes()) {
            (Some(z), _) => z.chunks_exact(self.g_input_dim()).flat_map(|row| row[row.len() - k..].to_vec()).collect(),
            (None, Some(m)) => crate::batch::one_hot(pts.chunks_exact(2).map(|p| crate::metrics::nearest_mode(m, [p[0], p[1]], 0).0), k),
            (None, None) => vec![0.0; pts.len() / 2 * k],
        };
        crate::batch::concat_cols(pts, 2, &labels, k)
    }

    /// The view's per-sample part at the current weights: fakes, their arrows and the latent
    /// interpolation. The slow layers come from `view_slow` (the worker decides when).
    pub fn view_fast(&self, req: &ViewRequest) -> ViewData {
        let dim = self.g_input_dim();
        let n_fake = req.n_fake.min(self.eval_z().len() / dim);
        let fake = self.generate(&self.eval_z()[..n_fake * dim]);
        let (_, arrows) = self.model().d_at(&self.labelled(&fake, Some(&self.eval_z()[..n_fake * dim])));
        ViewData {
            step: self.steps_done(),
            half_width: self.half_width(),
            fake: pairs(&fake),
            arrows: pairs(&arrows),
            interpolation: self.interpolation(64),
            slow: Arc::default(),
        }
    }

    /// The layers over the whole plane: D's surface, the gradient field and G's manifold.
    pub fn view_slow(&self, req: &ViewRequest) -> SlowLayers {
        let h = self.half_width();
        let mut out = SlowLayers { step: self.steps_done(), ..Default::default() };
        let logistic = self.config().loss.kind.is_logistic();
        // A diffusion model has no discriminator: no surface.
        if req.surface && self.config().model.kind == crate::config::ModelKind::Gan {
            let n = self.config().view.surface_n;
            // Values only: the surface needs no gradient.
            let mut vals = self.model().d_values(&self.labelled(&grid_points(n, h), None));
            if logistic {
                vals.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
            }
            out.surface = vals;
            out.surface_n = n;
            out.surface_is_prob = logistic;
            // The colour scale spans the values actually present (the legend states them), so
            // the surface's shape stays visible even when D is unsure everywhere.
            let (lo, hi) =
                out.surface.iter().filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            (out.surface_min, out.surface_max) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        }
        if req.field_n > 0 {
            let pts = grid_points(req.field_n, h);
            let (_, g) = self.model().d_at(&self.labelled(&pts, None));
            out.field = pairs(&pts).into_iter().zip(pairs(&g)).collect();
        }
        if req.manifold_n > 1 {
            out.manifold = self.manifold(req.manifold_n);
        }
        out
    }

    /// G's image of a grid of latent lines in the first two latent dimensions (others 0),
    /// spanning ±2 for a Gaussian latent and ±1 for a uniform one.
    fn manifold(&self, n: usize) -> Vec<Vec<[f32; 2]>> {
        // A conditional G's label columns stay 0 here: the slice with no label asked for.
        let dim = self.g_input_dim();
        let span = match self.config().latent().0 {
            LatentKind::Gaussian => 2.0,
            LatentKind::Uniform => 1.0,
        };
        let fine = 4 * n; // points along each line
        let coord = |i: usize, count: usize| -span + 2.0 * span * i as f32 / (count - 1) as f32;
        let mut z = Vec::with_capacity(2 * n * fine * dim);
        for axis in 0..2 {
            for line in 0..n {
                for k in 0..fine {
                    let mut row = vec![0.0f32; dim];
                    let (a, b) = (coord(line, n), coord(k, fine));
                    if dim == 1 {
                        row[0] = if axis == 0 { b } else { a };
                    } else if axis == 0 {
                        row[0] = a;
                        row[1] = b;
                    } else {
                        row[0] = b;
                        row[1] = a;
                    }
                    z.extend(row);
                }
            }
        }
        let pts = self.generate(&z);
        let lines: Vec<Vec<[f32; 2]>> = pairs(&pts).chunks(fine).map(|c| c.to_vec()).collect();
        if dim == 1 { lines.into_iter().take(1).collect() } else { lines }
    }

    /// G along the segment between the first two evaluation latents.
    fn interpolation(&self, n: usize) -> Vec<[f32; 2]> {
        let dim = self.g_input_dim();
        let ends = &self.eval_z()[..(2 * dim).min(self.eval_z().len())];
        if ends.len() < 2 * dim {
            return Vec::new();
        }
        let mut z = Vec::with_capacity(n * dim);
        for k in 0..n {
            let t = k as f32 / (n - 1) as f32;
            z.extend((0..dim).map(|j| (1.0 - t) * ends[j] + t * ends[dim + j]));
        }
        pairs(&self.generate(&z))
    }
}
