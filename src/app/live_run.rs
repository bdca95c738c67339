//! The window's side of a training thread: `LiveRun` — commands out, events and snapshots in,
//! the curves and every evaluation kept — for the main run and the run beside it (Compare,
//! Fork) alike.

use super::side_plots::History;
use crate::config::Config;
use crate::trainer::Metrics;
use crate::worker::{Command, Event, Snapshot, WorkerHandle};
use std::sync::Arc;

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
