//! The worker's checkpoints for the window's timeline: the whole training state at each
//! evaluation, the latest 200 or 256 MiB of them.

/// The checkpoints the worker keeps, for the window's timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Steps with a checkpoint, oldest first.
    pub steps: Vec<u64>,
    /// Their memory.
    pub bytes: usize,
    /// Set when the run was rewound and a knob changed there: the run from this step on is
    /// a fork of the one that was recorded.
    pub forked_at: Option<u64>,
}

/// Checkpoints kept at most (the oldest go first), and their memory at most.
const MAX_CHECKPOINTS: usize = 200;
const MAX_CHECKPOINT_BYTES: usize = 256 << 20;

/// The worker's checkpoints: the whole training state every `train.eval_every` steps.
#[derive(Default)]
pub(super) struct Checkpoints {
    pub(super) ring: std::collections::VecDeque<crate::trainer::state::TrainState>,
    pub(super) bytes: usize,
    pub(super) forked_at: Option<u64>,
}

impl Checkpoints {
    pub(super) fn size(s: &crate::trainer::state::TrainState) -> usize {
        let e = &s.engine;
        let opt = |o: &crate::optim::OptimizerState| o.m.iter().chain(&o.v).flatten().map(Vec::len).sum::<usize>();
        4 * (e.g.iter().chain(&e.d).map(Vec::len).sum::<usize>() + opt(&e.g_opt) + opt(&e.d_opt)) + s.config.len()
    }

    pub(super) fn push(&mut self, s: crate::trainer::state::TrainState) {
        // A checkpoint at a step already kept (a re-run after rewinding) replaces what follows.
        self.truncate_after(s.step.saturating_sub(1));
        self.bytes += Self::size(&s);
        self.ring.push_back(s);
        while self.ring.len() > MAX_CHECKPOINTS || (self.bytes > MAX_CHECKPOINT_BYTES && self.ring.len() > 1) {
            if let Some(old) = self.ring.pop_front() {
                self.bytes -= Self::size(&old);
            }
        }
    }

    /// Drops the checkpoints after `step` (their future was overwritten).
    pub(super) fn truncate_after(&mut self, step: u64) {
        while self.ring.back().is_some_and(|c| c.step > step) {
            let c = self.ring.pop_back().expect("non-empty");
            self.bytes -= Self::size(&c);
        }
    }

    pub(super) fn timeline(&self) -> Timeline {
        Timeline { steps: self.ring.iter().map(|c| c.step).collect(), bytes: self.bytes, forked_at: self.forked_at }
    }
}
