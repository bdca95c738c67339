//! A lesson played by the training thread: cues fire between two updates, exactly at their
//! step (as headless and in `render`), a pause cue stops the run, Back returns to the previous
//! cue's checkpoint with the scripted settings, and a knob changed by hand leaves the script.

use super::thread::Worker;
use super::{Event, LessonStatus};
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

impl Worker {
    /// Starts `lesson` from step 0 (None: the run goes on without one).
    pub(super) fn start_lesson(&mut self, lesson: Option<Arc<Lesson>>) {
        let Some(lesson) = lesson else {
            self.lesson = None;
            return;
        };
        let start = lesson.config.clone();
        self.lesson =
            Some(LessonRun { lesson: lesson.clone(), script: Script::default(), start: start.clone(), off_script: false, waiting: false });
        self.restart(start, &format!("Lesson: {}", lesson.title));
    }

    /// Fires the cues due at the current step (called between two updates, after the step's
    /// evaluation and before its checkpoint, so the checkpoint holds the cue's settings).
    pub(super) fn fire_cues(&mut self) {
        let Some(run) = &mut self.lesson else { return };
        let lesson = run.lesson.clone();
        let fired = match run.script.fire_due(&lesson, &mut self.trainer) {
            Ok(f) => f,
            Err(e) => return self.diverge(e),
        };
        let Some(&last) = fired.last() else { return };
        if fired.iter().any(|&i| lesson.cues[i].pause) {
            self.running = false;
            run.waiting = true;
        }
        self.config = Arc::new(self.trainer.config().clone());
        self.send_event(Event::Cue { index: Some(last), config: self.config.clone() });
    }

    /// Back: to the checkpoint of the latest cue before the current step, with the lesson's
    /// scripted settings there (a knob changed by hand is undone).
    pub(super) fn lesson_back(&mut self) {
        let Some(run) = &self.lesson else { return };
        let (lesson, start) = (run.lesson.clone(), run.start.clone());
        let now = self.trainer.steps_done();
        let Some(i) = lesson.cues.iter().rposition(|c| c.step < now).or(lesson.cue_at(now)) else { return };
        let step = lesson.cues[i].step;
        self.rewind(step);
        if self.trainer.steps_done() != step {
            return; // no checkpoint there (the ring dropped it): rewind said so
        }
        let mut scripted = lesson.config_at(&start, step);
        scripted.train.seed = self.trainer.config().train.seed;
        if let Err(e) = self.trainer.set_config(scripted) {
            return self.diverge(e);
        }
        self.config = Arc::new(self.trainer.config().clone());
        if let Some(run) = &mut self.lesson {
            run.script = Script::at(&lesson, step, true);
            run.off_script = false;
            run.waiting = false;
        }
        self.send_event(Event::Cue { index: Some(i), config: self.config.clone() });
    }

    /// After a timeline rewind: the cues up to the step shown have fired.
    pub(super) fn lesson_rewound(&mut self, step: u64) {
        if let Some(run) = &mut self.lesson {
            run.script = Script::at(&run.lesson, step, true);
            run.waiting = false;
            let index = run.lesson.cue_at(step);
            self.send_event(Event::Cue { index, config: self.config.clone() });
        }
    }

    /// A knob changed by hand while a lesson plays.
    pub(super) fn leave_script(&mut self) {
        if let Some(run) = &mut self.lesson
            && !run.off_script
        {
            run.off_script = true;
            self.send_event(Event::Notice(
                "Off the lesson's script: your change stays until a cue sets that knob; Back returns to the script.".into(),
            ));
        }
    }

    pub(super) fn lesson_status(&self) -> Option<LessonStatus> {
        let run = self.lesson.as_ref()?;
        Some(LessonStatus {
            lesson: run.lesson.clone(),
            cue: run.lesson.cue_at(self.trainer.steps_done()).filter(|&i| i < run.script.next),
            off_script: run.off_script,
            waiting: run.waiting,
        })
    }
}
