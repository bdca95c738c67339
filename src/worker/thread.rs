//! The training thread itself: commands applied between updates, snapshots at a view cadence,
//! events for every evaluation, checkpoints for the timeline.

use crate::config::Config;
use crate::presets;
use crate::trainer::Trainer;
use crate::trainer::view::{SlowLayers, ViewData, ViewRequest};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timeline::Checkpoints;
use super::*;
use crate::lesson::{Lesson, Script};

/// The worker's ends of the channels.
pub(super) struct Channels {
    pub(super) commands: Receiver<Command>,
    pub(super) snapshots: Sender<Snapshot>,
    /// A second receiver used to drop an unread snapshot so the newest wins.
    pub(super) stale: Receiver<Snapshot>,
    pub(super) events: Sender<Event>,
}

pub(super) struct Worker {
    trainer: Trainer,
    ch: Channels,
    repaint: Box<dyn Fn() + Send>,
    running: bool,
    speed: Speed,
    /// Pause when the step counter reaches this (frame-exact stops for screenshots).
    pause_at: Option<u64>,
    view_req: ViewRequest,
    diverged: Option<String>,
    run_id: u64,
    dirty: bool,
    real: Arc<Vec<[f32; 2]>>,
    config: Arc<Config>,
    /// (time, steps) of the start of the current rate window.
    rate_mark: (Instant, u64),
    rate: f64,
    /// The view's cost, so that drawing takes a bounded share of the training thread.
    cadence: ViewCadence,
    checkpoints: Checkpoints,
    /// Set after a rewind while later checkpoints are kept (scrubbing back and forth): the
    /// next update overwrites that future.
    in_past: bool,
    /// The lesson being played.
    lesson: Option<super::lesson::LessonRun>,
}

/// While training runs, the view is computed in two parts on two clocks so that together they
/// take at most ~10 % of the training thread: the fakes and arrows (cheap, every snapshot) and
/// the slow layers — D's surface, the gradient field, G's manifold — refreshed only as often
/// as their measured cost allows. Paused or in slow motion, everything is fresh every time.
#[derive(Default)]
struct ViewCadence {
    /// Measured cost of the latest fast part and slow part.
    fast_cost: Duration,
    slow_cost: Duration,
    /// When the slow layers were last computed; None forces a refresh.
    slow_at: Option<Instant>,
    /// The slow layers last computed (reused between refreshes).
    slow: Option<Arc<SlowLayers>>,
}

/// Share of the training thread each part of the view may take.
const VIEW_SHARE: f64 = 0.05;

impl ViewCadence {
    /// Train for at least this long between two snapshots at full speed.
    fn chunk(&self) -> Duration {
        Duration::from_millis(33).max(self.fast_cost.div_f64(VIEW_SHARE))
    }

    fn slow_due(&self) -> bool {
        self.slow_at.is_none_or(|at| at.elapsed() >= self.slow_cost.div_f64(VIEW_SHARE))
    }
}

impl Worker {
    pub(super) fn new(trainer: Trainer, ch: Channels, repaint: Box<dyn Fn() + Send>) -> Self {
        let mut w = Self {
            real: Arc::new(Vec::new()),
            config: Arc::new(trainer.config().clone()),
            trainer,
            ch,
            repaint,
            running: false,
            speed: Speed::StepsPerFrame(5),
            pause_at: None,
            view_req: ViewRequest::default(),
            diverged: None,
            run_id: 0,
            dirty: true,
            rate_mark: (Instant::now(), 0),
            rate: 0.0,
            cadence: ViewCadence::default(),
            checkpoints: Checkpoints::default(),
            in_past: false,
            lesson: None,
        };
        w.on_restart();
        w
    }

    fn on_restart(&mut self) {
        self.real = Snapshot::reals_of(&self.trainer);
        self.config = Arc::new(self.trainer.config().clone());
        self.diverged = None;
        self.run_id += 1;
        self.send_event(Event::Restarted { run: self.run_id, config: self.config.clone() });
        self.notices();
        self.dirty = true;
        self.rate_mark = (Instant::now(), self.trainer.steps_done());
        self.checkpoints = Checkpoints::default();
        self.in_past = false;
        if let Some(run) = &mut self.lesson {
            run.script = crate::lesson::Script::default();
            run.waiting = false;
            run.off_script = false;
        }
        self.evaluate();
        self.fire_cues();
        self.checkpoint();
    }

    /// Keeps the training state for the timeline.
    fn checkpoint(&mut self) {
        if let Ok(s) = self.trainer.save_state() {
            self.checkpoints.push(s);
        }
    }

    /// Training is about to overwrite the future of a rewound run.
    fn leave_past(&mut self) {
        if self.in_past {
            self.checkpoints.truncate_after(self.trainer.steps_done());
            self.in_past = false;
        }
    }

    /// Back to the checkpoint at `step` (or the latest before it).
    fn rewind(&mut self, step: u64) {
        let Some(state) = self.checkpoints.ring.iter().rev().find(|c| c.step <= step).cloned() else {
            return self.send_event(Event::Notice(format!("No checkpoint at or before step {step}.")));
        };
        let at = state.step;
        match Trainer::from_state(state, self.trainer.asked().clone()) {
            Ok(t) => {
                self.trainer = t;
                self.running = false;
                self.diverged = None;
                self.in_past = self.checkpoints.ring.back().is_some_and(|c| c.step > at);
                self.config = Arc::new(self.trainer.config().clone());
                self.send_event(Event::Rewound { step: at });
                self.send_event(Event::Notice(format!(
                    "Back at step {at}: Play replays the same run, or a different one if you change a knob."
                )));
            }
            Err(e) => self.send_event(Event::Notice(format!("Could not go back to step {at}: {e}"))),
        }
    }

    pub(super) fn run(mut self) {
        loop {
            // Idle: block on the next command (briefly, to keep a heartbeat).
            let idle = !self.running && !self.dirty;
            let first = if idle {
                match self.ch.commands.recv_timeout(Duration::from_millis(100)) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                None
            };
            if let Some(c) = first {
                self.apply(c);
            }
            loop {
                match self.ch.commands.try_recv() {
                    Ok(c) => self.apply(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            if self.running {
                self.train_chunk();
            }
            if self.dirty {
                self.send_snapshot();
            }
        }
    }

    fn apply(&mut self, c: Command) {
        match c {
            Command::Play => {
                if self.diverged.is_none() {
                    self.running = true;
                    if let Some(run) = &mut self.lesson {
                        run.waiting = false;
                    }
                    self.rate_mark = (Instant::now(), self.trainer.steps_done());
                }
            }
            Command::Pause => self.running = false,
            Command::SubStep => {
                if self.diverged.is_none() {
                    self.leave_past();
                    let r = self.trainer.sub_step().map(|_| ());
                    self.after_train(r);
                }
            }
            Command::Step => {
                if self.diverged.is_none() {
                    self.leave_past();
                    let r = self.trainer.step();
                    self.after_train(r);
                }
            }
            Command::Speed(s) => self.speed = s,
            Command::PauseAt(step) => self.pause_at = step,
            Command::SetConfig(cfg) => {
                if *cfg != *self.trainer.config() {
                    self.leave_script();
                }
                let why = self.trainer.config().diff(&cfg).why.join(", ");
                match self.trainer.set_config(*cfg) {
                    Ok(true) => {
                        self.lesson = None;
                        self.send_event(Event::Notice(format!("Changed {why}: networks rebuilt, run restarted at step 0.")));
                        self.on_restart();
                    }
                    Ok(false) => {
                        self.config = Arc::new(self.trainer.config().clone());
                        if self.in_past {
                            // A knob changed in the past: what follows is a fork of the recorded run.
                            self.checkpoints.forked_at = Some(self.trainer.steps_done());
                            self.leave_past();
                        }
                        self.notices();
                    }
                    Err(e) => self.send_event(Event::Notice(format!("Could not apply the change: {e}"))),
                }
            }
            Command::Reset => match &self.lesson {
                Some(run) => {
                    let mut start = run.start.clone();
                    start.train.seed = self.trainer.config().train.seed;
                    self.restart(start, "Reset: the lesson starts again.");
                }
                None => self.restart(self.trainer.config().clone(), "Reset: fresh weights from the seed."),
            },
            Command::Restart(cfg, why) => {
                self.lesson = None;
                self.restart(*cfg, &why)
            }
            Command::Lesson(l) => self.start_lesson(l),
            Command::LessonBack => self.lesson_back(),
            Command::LoadPreset(name) => match presets::get(&name) {
                Ok(p) => {
                    self.lesson = None;
                    let title = p.meta.title.clone();
                    self.restart(p.config, &format!("Loaded preset: {title}"))
                }
                Err(e) => self.send_event(Event::Notice(e.to_string())),
            },
            Command::SetView(v) => self.view_req = v,
            Command::Rewind(step) => {
                self.rewind(step);
                self.lesson_rewound(self.trainer.steps_done());
            }
            Command::Fork => match self.trainer.save_state() {
                Ok(s) => self.send_event(Event::Forked(Box::new(s))),
                Err(e) => self.send_event(Event::Notice(format!("Cannot fork now: {e}"))),
            },
            Command::Panic => panic!("panic requested by Command::Panic"),
        }
        // Whatever changed (weights, loss, what is shown), the next view is computed whole.
        self.cadence.slow_at = None;
        self.dirty = true;
    }

    fn restart(&mut self, cfg: Config, msg: &str) {
        match Trainer::new(cfg, self.trainer.asked().clone()) {
            Ok(t) => {
                self.trainer = t;
                self.send_event(Event::Notice(msg.into()));
                self.on_restart();
            }
            Err(e) => self.send_event(Event::Notice(format!("Could not start: {e}"))),
        }
    }

    fn send_event(&self, e: Event) {
        // The window is gone when this fails; the worker's loop ends at its next command.
        let _ = self.ch.events.send(e);
    }

    /// Notices about the config in force (settings without effect).
    fn notices(&self) {
        for n in self.trainer.config().notices() {
            self.send_event(Event::Notice(n));
        }
    }

    fn after_train(&mut self, r: Result<(), crate::trainer::TrainError>) {
        if let Err(e) = r {
            self.diverge(e);
            return;
        }
        let step = self.trainer.steps_done();
        let due = step.is_multiple_of(self.trainer.config().train.eval_every);
        if due {
            self.evaluate();
        }
        self.fire_cues();
        if due {
            self.checkpoint();
        }
        if self.pause_at.is_some_and(|n| step >= n) {
            self.running = false;
            self.pause_at = None;
        }
    }

    /// A diverged run pauses itself and says why.
    fn diverge(&mut self, e: crate::trainer::TrainError) {
        self.running = false;
        self.diverged = Some(e.to_string());
        self.send_event(Event::Notice(format!("Paused: {e}")));
    }

    fn evaluate(&mut self) {
        match self.trainer.evaluate() {
            Ok((m, _)) => self.send_event(Event::Metrics(Box::new(m))),
            Err(e) => self.diverge(e),
        }
    }

    /// Trains for about one frame's worth, per the speed setting.
    fn train_chunk(&mut self) {
        self.leave_past();
        let frame = Duration::from_millis(16);
        let start = Instant::now();
        match self.speed {
            Speed::StepsPerFrame(n) => {
                for _ in 0..n {
                    self.trainer.record = true;
                    let r = self.trainer.step();
                    self.after_train(r);
                    if !self.running {
                        break;
                    }
                }
                if let Some(rest) = frame.checked_sub(start.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
            Speed::Max => {
                let chunk = self.cadence.chunk();
                while start.elapsed() < chunk && self.running {
                    self.trainer.record = true;
                    let r = self.trainer.step();
                    self.after_train(r);
                }
            }
            Speed::SlowMotion(per_second) => {
                self.trainer.record = true;
                let r = self.trainer.sub_step().map(|_| ());
                self.after_train(r);
                std::thread::sleep(Duration::from_secs_f32(1.0 / per_second.max(0.1)));
            }
        }
        self.dirty = true;
    }

    /// The view for the next snapshot: whole when paused, in slow motion or after a change;
    /// otherwise fresh fakes with the slow layers reused until they are due.
    fn compute_view(&mut self) -> ViewData {
        let whole = !self.running || matches!(self.speed, Speed::SlowMotion(_)) || self.cadence.slow_due();
        let t0 = Instant::now();
        let mut view = self.trainer.view_fast(&self.view_req);
        self.cadence.fast_cost = t0.elapsed();
        match (&self.cadence.slow, whole) {
            (Some(slow), false) => view.slow = slow.clone(),
            _ => {
                let t1 = Instant::now();
                view.slow = Arc::new(self.trainer.view_slow(&self.view_req));
                self.cadence.slow_cost = t1.elapsed();
                self.cadence.slow_at = Some(Instant::now());
                self.cadence.slow = Some(view.slow.clone());
            }
        }
        view
    }

    fn send_snapshot(&mut self) {
        let view = self.compute_view();
        let (t0, s0) = self.rate_mark;
        let dt = t0.elapsed().as_secs_f64();
        if dt > 0.5 {
            self.rate = (self.trainer.steps_done().saturating_sub(s0)) as f64 / dt;
            self.rate_mark = (Instant::now(), self.trainer.steps_done());
        }
        if !self.running {
            self.rate = 0.0;
        }
        let mut snap = Snapshot::of(&self.trainer, view, self.real.clone(), self.config.clone());
        snap.running = self.running;
        snap.speed = self.speed;
        snap.steps_per_second = self.rate;
        snap.run = self.run_id;
        snap.diverged = self.diverged.clone();
        snap.timeline = Arc::new(self.checkpoints.timeline());
        snap.lesson = self.lesson_status();
        // Newest wins: if the window has not taken the previous snapshot, replace it (all it
        // carried that must not be lost went as events).
        if let Err(TrySendError::Full(snap)) = self.ch.snapshots.try_send(snap) {
            let _ = self.ch.stale.try_recv();
            let _ = self.ch.snapshots.try_send(snap);
        }
        (self.repaint)();
        self.dirty = false;
    }
}

/// A lesson played by this thread (`lesson.rs` holds where it stands).
impl Worker {
    /// Starts `lesson` from step 0 (None: the run goes on without one).
    fn start_lesson(&mut self, lesson: Option<Arc<Lesson>>) {
        let Some(lesson) = lesson else {
            self.lesson = None;
            return;
        };
        let start = lesson.config.clone();
        self.lesson = Some(super::lesson::LessonRun {
            lesson: lesson.clone(),
            script: Script::default(),
            start: start.clone(),
            off_script: false,
            waiting: false,
        });
        self.restart(start, &format!("Lesson: {}", lesson.title));
    }

    /// Fires the cues due at the current step (called between two updates, after the step's
    /// evaluation and before its checkpoint, so the checkpoint holds the cue's settings).
    fn fire_cues(&mut self) {
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
    fn lesson_back(&mut self) {
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
    fn lesson_rewound(&mut self, step: u64) {
        if let Some(run) = &mut self.lesson {
            run.script = Script::at(&run.lesson, step, true);
            run.waiting = false;
            let index = run.lesson.cue_at(step);
            self.send_event(Event::Cue { index, config: self.config.clone() });
        }
    }

    /// A knob changed by hand while a lesson plays.
    fn leave_script(&mut self) {
        if let Some(run) = &mut self.lesson
            && !run.off_script
        {
            run.off_script = true;
            self.send_event(Event::Notice(
                "Off the lesson's script: your change stays until a cue sets that knob; Back returns to the script.".into(),
            ));
        }
    }

    fn lesson_status(&self) -> Option<LessonStatus> {
        Some(self.lesson.as_ref()?.status(self.trainer.steps_done()))
    }
}
