//! A lesson played by the training thread: where it stands. The thread (`thread.rs`) fires the
//! cues between two updates, exactly at their step (as headless and in `render`), stops at a
//! pause cue, goes Back to the previous cue's checkpoint with the scripted settings, and leaves
//! the script when a knob is changed by hand.

use super::LessonStatus;
use crate::config::Config;
use crate::lesson::{Lesson, Script};
use std::sync::Arc;

/// The lesson being played.
pub(super) struct LessonRun {
    pub(super) lesson: Arc<Lesson>,
    pub(super) script: Script,
    /// The lesson's config with the run's seed: what Back's scripted settings start from.
    pub(super) start: Config,
    /// A knob was changed by hand since the last cue or Back.
    pub(super) off_script: bool,
    /// Stopped at a pause cue; Play goes on.
    pub(super) waiting: bool,
}

impl LessonRun {
    /// Where it stands at `step`, for the window.
    pub(super) fn status(&self, step: u64) -> LessonStatus {
        LessonStatus {
            lesson: self.lesson.clone(),
            cue: self.lesson.cue_at(step).filter(|&i| i < self.script.next),
            off_script: self.off_script,
            waiting: self.waiting,
        }
    }
}
