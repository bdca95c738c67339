//! What a config means beyond its fields: whether it can train (`validate`), what a change
//! needs rebuilt (`diff`), and settings that have no effect (`notices`).

use super::*;

/// The consequence of a config change (see `Config::diff`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Fresh networks needed: the run restarts at step 0.
    pub rebuild: bool,
    /// What changed that needs it.
    pub why: Vec<&'static str>,
}

impl Config {
    /// Checks every value's range and the combinations that cannot run, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| Err(ConfigError::BadValue { key: key.into(), msg: msg.into() });
        let positive = |key: &str, v: f32| -> Result<(), ConfigError> {
            if v.is_finite() && v > 0.0 { Ok(()) } else { bad(key, "must be a finite number > 0") }
        };
        let non_negative = |key: &str, v: f32| -> Result<(), ConfigError> {
            if v.is_finite() && v >= 0.0 { Ok(()) } else { bad(key, "must be a finite number ≥ 0") }
        };
        let m = &self.model;
        if !(2..=4000).contains(&m.diffusion_steps) {
            return bad("model.diffusion_steps", "must be between 2 and 4000");
        }
        if !(1..=m.diffusion_steps).contains(&m.ddim_steps) {
            return bad("model.ddim_steps", "must be between 1 and model.diffusion_steps");
        }
        if !(2..=256).contains(&m.time_embedding) || !m.time_embedding.is_multiple_of(2) {
            return bad("model.time_embedding", "must be an even number between 2 and 256");
        }
        let d = &self.data;
        if m.conditional {
            if m.kind != ModelKind::Gan {
                return bad("model.conditional", "conditioning is for a GAN (model.kind = gan)");
            }
            if !matches!(d.kind, DataKind::Ring | DataKind::Grid) {
                return bad("model.conditional", "needs labelled data: data.kind = ring or grid");
            }
            if self.discriminator.pack != 1 {
                return bad("model.conditional", "cannot be combined with packing (discriminator.pack = 1)");
            }
        }
        if d.kind == DataKind::Ring && !(1..=1000).contains(&d.modes) {
            return bad("data.modes", "must be between 1 and 1000");
        }
        if d.kind == DataKind::Grid && !(1..=30).contains(&d.grid_n) {
            return bad("data.grid_n", "must be between 1 and 30");
        }
        if d.kind == DataKind::Points && d.points_file.as_os_str().is_empty() {
            return bad("data.points_file", "data.kind = points needs a CSV file of x,y rows");
        }
        positive("data.radius", d.radius)?;
        positive("data.std", d.std)?;
        positive("data.spacing", d.spacing)?;
        for (name, net) in [("generator", &self.generator.shape), ("discriminator", &self.discriminator.shape)] {
            if net.depth > 16 {
                return bad(&format!("{name}.depth"), "at most 16 hidden layers");
            }
            if !(1..=4096).contains(&net.width) {
                return bad(&format!("{name}.width"), "must be between 1 and 4096");
            }
            non_negative(&format!("{name}.leak"), net.leak)?;
            positive(&format!("{name}.init_gain"), net.init_gain)?;
            positive(&format!("{name}.init_std"), net.init_std)?;
        }
        if !(1..=1024).contains(&self.generator.latent_dim) {
            return bad("generator.latent_dim", "must be between 1 and 1024");
        }
        if !(1..=16).contains(&self.discriminator.pack) {
            return bad("discriminator.pack", "must be between 1 and 16");
        }
        let dc = &self.discriminator;
        if dc.minibatch_kernels > 0 {
            if dc.minibatch_kernels > 256 {
                return bad("discriminator.minibatch_kernels", "at most 256 kernels");
            }
            if !(1..=64).contains(&dc.minibatch_kernel_dim) {
                return bad("discriminator.minibatch_kernel_dim", "must be between 1 and 64");
            }
            if dc.shape.depth == 0 {
                return bad("discriminator.minibatch_kernels", "needs a hidden layer to compare (discriminator.depth ≥ 1)");
            }
            // Every pair of a batch's rows is compared: rows² · kernels · dim numbers.
            let rows = (self.train.batch_size / dc.pack) as u64;
            if rows * rows * (dc.minibatch_kernels * dc.minibatch_kernel_dim) as u64 > 1 << 28 {
                return bad(
                    "discriminator.minibatch_kernels",
                    "too costly for this batch: (batch rows)² × kernels × kernel dim must stay under 2^28; use fewer kernels or a smaller batch",
                );
            }
        }
        let l = &self.loss;
        non_negative("loss.clip", l.clip)?;
        non_negative("loss.gp_lambda", l.gp_lambda)?;
        if !(0.0..0.5).contains(&l.label_smoothing) {
            return bad("loss.label_smoothing", "must be in [0, 0.5)");
        }
        non_negative("reg.r1", self.reg.r1)?;
        non_negative("reg.r2", self.reg.r2)?;
        non_negative("reg.dragan", self.reg.dragan)?;
        non_negative("reg.gp", self.reg.gp)?;
        non_negative("noise.instance_std", self.noise.instance_std)?;
        non_negative("noise.floor", self.noise.floor)?;
        let s = &self.schedule;
        if !(1..=100).contains(&s.d_steps) {
            return bad("schedule.d_steps", "must be between 1 and 100");
        }
        if !(1..=100).contains(&s.g_steps) {
            return bad("schedule.g_steps", "must be between 1 and 100");
        }
        if s.unroll > 50 {
            return bad("schedule.unroll", "at most 50 unrolling steps");
        }
        for (name, o) in [("optim.g", &self.optim.g), ("optim.d", &self.optim.d)] {
            positive(&format!("{name}.lr"), o.lr)?;
            if !(0.0..1.0).contains(&o.beta1) {
                return bad(&format!("{name}.beta1"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.beta2) {
                return bad(&format!("{name}.beta2"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.momentum) {
                return bad(&format!("{name}.momentum"), "must be in [0, 1)");
            }
            if !(0.0..1.0).contains(&o.alpha) {
                return bad(&format!("{name}.alpha"), "must be in [0, 1)");
            }
            positive(&format!("{name}.eps"), o.eps)?;
        }
        let t = &self.train;
        if !(1..=65_536).contains(&t.batch_size) {
            return bad("train.batch_size", "must be between 1 and 65536");
        }
        if !t.batch_size.is_multiple_of(self.discriminator.pack) {
            return bad("train.batch_size", "must be a multiple of discriminator.pack");
        }
        if t.eval_every == 0 {
            return bad("train.eval_every", "must be ≥ 1");
        }
        if !(1..=1_000_000).contains(&t.eval_samples) {
            return bad("train.eval_samples", "must be between 1 and 1000000");
        }
        if self.view.half_width < 0.0 || !self.view.half_width.is_finite() {
            return bad("view.half_width", "must be ≥ 0 (0 fits the data)");
        }
        if !(2..=1024).contains(&self.view.surface_n) {
            return bad("view.surface_n", "must be between 2 and 1024");
        }
        if !(2..=1000).contains(&self.view.hist_bins) {
            return bad("view.hist_bins", "must be between 2 and 1000");
        }
        Ok(())
    }

    /// What going from `self` to `new` means for a run in progress — the one place that
    /// decides whether a change keeps the weights (trainer, worker and window all ask here).
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        let mut rebuild = Vec::new();
        if self.data != new.data {
            rebuild.push("dataset");
        }
        if self.model != new.model {
            rebuild.push("model");
        }
        if self.generator != new.generator || self.discriminator != new.discriminator {
            rebuild.push("architecture");
        }
        if self.train.seed != new.train.seed {
            rebuild.push("seed");
        }
        if self.train.eval_samples != new.train.eval_samples {
            rebuild.push("evaluation batch");
        }
        ConfigDiff { rebuild: !rebuild.is_empty(), why: rebuild }
    }

    /// Settings that are valid but have no effect, worth a notice (e.g. label smoothing under
    /// a critic loss).
    pub fn notices(&self) -> Vec<String> {
        let mut n = Vec::new();
        if self.loss.label_smoothing > 0.0 && !self.loss.kind.takes_label_smoothing() {
            n.push(format!(
                "loss.label_smoothing = {} has no effect with the {:?} loss (it lowers the real label of the logistic and least-squares losses only)",
                self.loss.label_smoothing, self.loss.kind
            ));
        }
        n
    }
}
