//! The window's side of the training thread: commands out, events and snapshots in, a
//! second run beside the first (Compare, Fork), a new thread after a crash.

use super::{GanscopeApp, compare};
use crate::worker::{Command, Event, WorkerHandle};
use eframe::egui;
use std::time::Instant;

impl GanscopeApp {
    pub(super) fn send(&self, c: Command) {
        if let Some(cmp) = &self.compare {
            cmp.forward(&c);
        }
        if let Some(w) = &self.worker {
            w.send(c);
        }
    }

    /// Starts `preset` beside the current run (replacing any earlier one).
    pub(super) fn start_compare(&mut self, preset: &str, ctx: &egui::Context) {
        let ctx = ctx.clone();
        match compare::Compare::start(preset, &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(c) => {
                c.send(Command::SetView(self.state.layers.request()));
                c.send(Command::Speed(self.state.speed));
                if self.snapshot.as_ref().is_some_and(|s| s.running) {
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

    /// The worker's events, then its newest snapshot, if any.
    pub fn poll(&mut self) {
        let Some(w) = &self.worker else { return };
        let mut forked = None;
        let mut cues = Vec::new();
        for e in w.events() {
            match e {
                Event::Metrics(m) => {
                    self.history.absorb_metrics(&m);
                    if self.metrics_log.len() < 100_000 {
                        self.metrics_log.retain(|old| old.step < m.step);
                        self.metrics_log.push(*m);
                    }
                }
                Event::Notice(n) => self.notice = Some((n, Instant::now())),
                Event::Restarted { run, config } => {
                    self.run = run;
                    self.history.clear();
                    self.metrics_log.clear();
                    self.controls.sync(&config);
                }
                Event::Rewound { step } => {
                    self.history.truncate_after(step);
                    self.metrics_log.retain(|m| m.step <= step);
                }
                Event::Cue { index, config } => cues.push((index, config)),
                Event::Forked(state) => forked = Some(state),
                Event::Crashed(msg) => self.crashed = Some(msg),
            }
        }
        if let Some(s) = w.latest().filter(|s| s.run >= self.run) {
            self.history.absorb(&s);
            if s.running && s.steps_per_second > 0.0 {
                self.train_rate = s.steps_per_second;
            }
            self.snapshot = Some(s);
        }
        if let Some(state) = forked {
            self.start_fork(*state);
        }
        if self.snapshot.as_ref().is_some_and(|s| s.lesson.is_some()) {
            self.lesson = None; // the worker's snapshots say where it stands now
        }
        for (index, config) in cues {
            self.on_cue(index, &config);
        }
        if let Some(c) = &mut self.compare {
            c.poll();
        }
    }

    /// A new training thread after a crash, on the config the controls show.
    pub(super) fn restart_worker(&mut self, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.worker = None; // joins the dead thread
        match WorkerHandle::spawn(self.controls.config().clone(), &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(w) => {
                self.worker = Some(w);
                self.crashed = None;
                self.run = 0;
                self.send(Command::SetView(self.state.layers.request()));
            }
            Err(e) => self.crashed = Some(format!("could not restart: {e:#}")),
        }
    }
}
