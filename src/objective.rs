//! What D and G minimise, written once for both engines.
//!
//! An objective is a sum of *terms*; each term is a column of per-row values whose mean is
//! added to the loss. A term is an elementwise function of one column: D's outputs on one set
//! of points (the adversarial losses, `loss.rs`) or ‖∂D/∂x‖² per row at one set of points (the
//! gradient penalties, `penalty.rs`). The functions are generic over [`Column`], which each
//! engine implements its own way:
//!
//! - the host engine (`engine/host.rs`) with dual numbers: every value carries its derivative
//!   with respect to the input it came from, which is exactly what its hand-written backward
//!   pass needs;
//! - the burn engine (`engine/burn.rs`) with autodiff tensors, differentiated by burn.
//!
//! So a new loss or regulariser is one function in `loss.rs` or `penalty.rs` (and a line in
//! [`d_objective`]), and both engines run it.

use crate::column::Column;
use crate::config::{Config, LossKind};
use crate::{loss, penalty};

/// The sets of points D is evaluated on in one D update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointSet {
    /// The batch's reals.
    Real,
    /// The batch's fakes.
    Fake,
    /// WGAN-GP's random interpolates between reals and fakes.
    Interpolates,
    /// DRAGAN's perturbed reals.
    Perturbed,
}

/// The objective's settings, read from the config at every update (so a change applies at
/// the next update).
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The game.
    pub kind: LossKind,
    /// One-sided label smoothing (logistic and least-squares losses only).
    pub smoothing: f32,
    /// R1 / R2 weights γ, the WGAN-GP λ (`reg.gp`, plus `loss.gp_lambda` under WGAN-GP) and
    /// DRAGAN's λ.
    pub r1: f32,
    /// R2's γ.
    pub r2: f32,
    /// Weight of the WGAN-GP penalty (from `loss.gp_lambda` and/or `reg.gp`).
    pub gp: f32,
    /// DRAGAN's λ.
    pub dragan: f32,
    /// PacGAN: samples per D input.
    pub pack: usize,
}

impl Objective {
    /// The objective `cfg` describes.
    pub fn new(cfg: &Config) -> Self {
        let (l, r) = (&cfg.loss, &cfg.reg);
        Self {
            kind: l.kind,
            smoothing: if l.kind.takes_label_smoothing() { l.label_smoothing } else { 0.0 },
            r1: r.r1,
            r2: r.r2,
            gp: r.gp + if l.kind == LossKind::WganGp { l.gp_lambda } else { 0.0 },
            dragan: r.dragan,
            pack: cfg.discriminator.pack,
        }
    }

    /// Whether a penalty on ∂D/∂x enters D's loss (R1, R2, the WGAN-GP term, DRAGAN).
    pub fn penalises_input_gradient(&self) -> bool {
        self.r1 > 0.0 || self.r2 > 0.0 || self.gp > 0.0 || self.dragan > 0.0
    }

    /// The point sets a D update evaluates D on, in the order they are stacked.
    pub fn sets(&self) -> Vec<PointSet> {
        let mut s = vec![PointSet::Real, PointSet::Fake];
        if self.gp > 0.0 {
            s.push(PointSet::Interpolates);
        }
        if self.dragan > 0.0 {
            s.push(PointSet::Perturbed);
        }
        s
    }

    /// D's outputs as the trainer reports them: probabilities for the logistic losses, raw
    /// values otherwise.
    pub fn reported<C: Column>(&self, outputs: C) -> C {
        if self.kind.is_logistic() { outputs.sigmoid() } else { outputs }
    }
}

/// What an engine provides for one D update: D's outputs and input-gradient norms on the
/// update's point sets, as columns it can differentiate.
pub trait Tape {
    /// The engine's column type.
    type Col: Column;
    /// D's raw outputs on `set`, one per (packed) row.
    fn outputs(&mut self, set: PointSet) -> Self::Col;
    /// ‖∂D/∂x‖² per (packed) row at the points of `set`.
    fn grad_sq_norms(&mut self, set: PointSet) -> Self::Col;
}

/// D's objective: its terms (the loss is the sum of their means) and the columns reported as
/// mean D(real) and D(fake).
pub struct DTerms<C> {
    /// The terms whose means sum to D's loss.
    pub terms: Vec<C>,
    /// D's outputs on the reals, as reported.
    pub d_real: C,
    /// D's outputs on the fakes, as reported.
    pub d_fake: C,
}

/// D's loss on one batch: the adversarial loss, then every penalty that is switched on.
pub fn d_objective<T: Tape>(tape: &mut T, o: &Objective) -> DTerms<T::Col> {
    let (dr, df) = (tape.outputs(PointSet::Real), tape.outputs(PointSet::Fake));
    let (real, fake) = loss::d_terms(o.kind, dr.clone(), df.clone(), o.smoothing);
    let mut terms = vec![real, fake];
    if o.r1 > 0.0 {
        terms.push(penalty::zero_centred(tape.grad_sq_norms(PointSet::Real), o.r1));
    }
    if o.r2 > 0.0 {
        terms.push(penalty::zero_centred(tape.grad_sq_norms(PointSet::Fake), o.r2));
    }
    if o.gp > 0.0 {
        terms.push(penalty::one_centred(tape.grad_sq_norms(PointSet::Interpolates), o.gp));
    }
    if o.dragan > 0.0 {
        terms.push(penalty::one_centred(tape.grad_sq_norms(PointSet::Perturbed), o.dragan));
    }
    DTerms { terms, d_real: o.reported(dr), d_fake: o.reported(df) }
}

/// G's loss term on D's outputs at the fakes.
pub fn g_objective<C: Column>(df: C, o: &Objective) -> C {
    loss::g_term(o.kind, df)
}
