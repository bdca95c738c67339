//! The D/G schedule: which updates make up one step, in order.
//!
//! A *step* is `d_steps` D updates and `g_steps` G updates, either alternating (each update
//! sees the other network's newest weights) or simultaneous (each D update is paired with a
//! G update whose gradient is taken from the same weights before either is applied). The plan
//! is a list of single updates, so running a whole step and stepping one update at a time
//! (the window's slow motion) run exactly the same updates.

use crate::config::{ScheduleConfig, ScheduleMode};

/// One update of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// A D update. With `pair_g`, G's gradient is taken first from the same weights and kept
    /// for the `G { kept: true }` that follows (simultaneous mode).
    D {
        /// Take G's gradient first, from the same weights (simultaneous mode).
        pair_g: bool,
    },
    /// A G update; with `kept`, it applies the gradient taken at the paired D update.
    G {
        /// Apply the gradient kept at the paired D update.
        kept: bool,
    },
}

/// The updates of one step.
pub fn plan(s: &ScheduleConfig) -> Vec<Update> {
    let (nd, ng) = (s.d_steps, s.g_steps);
    match s.mode {
        ScheduleMode::Alternating => {
            let mut p = vec![Update::D { pair_g: false }; nd];
            p.extend(vec![Update::G { kept: false }; ng]);
            p
        }
        ScheduleMode::Simultaneous => (0..nd.max(ng))
            .flat_map(|i| match (i < nd, i < ng) {
                (true, true) => vec![Update::D { pair_g: true }, Update::G { kept: true }],
                (true, false) => vec![Update::D { pair_g: false }],
                _ => vec![Update::G { kept: false }],
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        use Update::*;
        let s = |nd, ng, mode| ScheduleConfig { d_steps: nd, g_steps: ng, mode, unroll: 0 };
        assert_eq!(plan(&s(2, 1, ScheduleMode::Alternating)), vec![D { pair_g: false }, D { pair_g: false }, G { kept: false }]);
        assert_eq!(plan(&s(1, 1, ScheduleMode::Simultaneous)), vec![D { pair_g: true }, G { kept: true }]);
        assert_eq!(plan(&s(2, 1, ScheduleMode::Simultaneous)), vec![D { pair_g: true }, G { kept: true }, D { pair_g: false }]);
    }
}
