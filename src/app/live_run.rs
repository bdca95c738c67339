//! The window's side of a training thread: `LiveRun` — commands out, events and snapshots in,
//! the curves and every evaluation kept — for the main run and the run beside it (Compare,
//! Fork) alike; a second run beside the first; a new thread after a crash.

use super::side_plots::History;
use super::{GanscopeApp, compare};
use crate::config::Config;
use crate::trainer::Metrics;
use crate::worker::{Command, Event, Snapshot, WorkerHandle};
use eframe::egui;
use std::sync::Arc;
use std::time::Instant;

/// One training run as the window sees it.
#[derive(Default)]
pub struct LiveRun {
    /// Its training thread (None: it could not start).
    pub worker: Option<WorkerHandle>,
    /// The worker's current run (snapshots of older runs are dropped).
    run: u64,
    /// The newest snapshot.
    pub snapshot: Option<Snapshot>,
    /// The curves.
    pub history: History,
    /// Every evaluation of the current run (for "Export metrics CSV").
    pub metrics_log: Vec<Metrics>,
    /// The training thread's panic message, when it died.
    pub crashed: Option<String>,
}

/// What a poll brought that the run's owner acts on, in order of arrival within each kind.
#[derive(Default)]
pub struct Polled {
    pub notices: Vec<String>,
    /// Configs of the runs that (re)started.
    pub restarted: Vec<Arc<Config>>,
    /// A lesson's cues fired (or went back): the cue and the config in force.
    pub cues: Vec<(Option<usize>, Arc<Config>)>,
    pub forked: Option<Box<crate::trainer::state::TrainState>>,
}

impl LiveRun {
    pub fn new(worker: WorkerHandle) -> Self {
        Self { worker: Some(worker), ..Default::default() }
    }

    /// Sends a command (a run without a thread ignores it).
    pub fn send(&self, c: Command) {
        if let Some(w) = &self.worker {
            w.send(c);
        }
    }

    /// Training, as the newest snapshot says.
    pub fn running(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| s.running)
    }

    /// The config training runs, as the newest snapshot says.
    pub fn config(&self) -> Option<Config> {
        self.snapshot.as_ref().map(|s| (*s.config).clone())
    }

    /// The worker's events, then its newest snapshot, if any.
    pub fn poll(&mut self) -> Polled {
        let mut out = Polled::default();
        let Some(w) = &self.worker else { return out };
        for e in w.events() {
            match e {
                Event::Metrics(m) => {
                    self.history.absorb_metrics(&m);
                    if self.metrics_log.len() < 100_000 {
                        self.metrics_log.retain(|old| old.step < m.step);
                        self.metrics_log.push(*m);
                    }
                }
                Event::Notice(n) => out.notices.push(n),
                Event::Restarted { run, config } => {
                    self.run = run;
                    self.history.clear();
                    self.metrics_log.clear();
                    out.restarted.push(config);
                }
                Event::Rewound { step } => {
                    self.history.truncate_after(step);
                    self.metrics_log.retain(|m| m.step <= step);
                }
                Event::Cue { index, config } => out.cues.push((index, config)),
                Event::Forked(state) => out.forked = Some(state),
                Event::Crashed(msg) => self.crashed = Some(msg),
            }
        }
        if let Some(s) = w.latest().filter(|s| s.run >= self.run) {
            self.history.absorb(&s);
            self.snapshot = Some(s);
        }
        out
    }
}

impl GanscopeApp {
    pub(super) fn send(&self, c: Command) {
        if let Some(cmp) = &self.compare {
            cmp.forward(&c);
        }
        self.live.send(c);
    }

    /// Starts `preset` beside the current run (replacing any earlier one).
    pub(super) fn start_compare(&mut self, preset: &str, ctx: &egui::Context) {
        let ctx = ctx.clone();
        match compare::Compare::start(preset, &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(c) => {
                c.send(Command::SetView(self.state.layers.request()));
                c.send(Command::Speed(self.state.speed));
                if self.live.running() {
                    c.send(Command::Play);
                }
                self.compare = Some(c);
            }
            Err(e) => self.notice = Some((format!("Could not start {preset} beside this run: {e:#}"), Instant::now())),
        }
    }

    /// Starts B, a copy of the run's state, beside it.
    pub(super) fn start_fork(&mut self, state: crate::trainer::state::TrainState) {
        let ctx = self.ctx.clone();
        match compare::Compare::fork(state, &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(c) => {
                c.send(Command::SetView(self.state.layers.request()));
                c.send(Command::Speed(self.state.speed));
                self.compare = Some(c);
            }
            Err(e) => self.notice = Some((format!("Could not fork: {e:#}"), Instant::now())),
        }
    }

    /// The main run's events and snapshot, then the run beside it.
    pub fn poll(&mut self) {
        let polled = self.live.poll();
        if let Some(n) = polled.notices.into_iter().last() {
            self.notice = Some((n, Instant::now()));
        }
        for config in &polled.restarted {
            self.controls.sync(config);
        }
        if let Some(s) = self.live.snapshot.as_ref().filter(|s| s.running && s.steps_per_second > 0.0) {
            self.train_rate = s.steps_per_second;
        }
        if let Some(state) = polled.forked {
            self.start_fork(*state);
        }
        if self.live.snapshot.as_ref().is_some_and(|s| s.lesson.is_some()) {
            self.lesson = None; // the worker's snapshots say where it stands now
        }
        for (index, config) in polled.cues {
            self.on_cue(index, &config);
        }
        if let Some(c) = &mut self.compare {
            c.poll();
        }
    }

    /// A new training thread after a crash, on the config the controls show.
    pub(super) fn restart_worker(&mut self, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.live.worker = None; // joins the dead thread
        match WorkerHandle::spawn(self.controls.config().clone(), &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(w) => {
                self.live = LiveRun::new(w);
                self.send(Command::SetView(self.state.layers.request()));
            }
            Err(e) => self.live.crashed = Some(format!("could not restart: {e:#}")),
        }
    }
}
