//! The window's runs: the main run (a `LiveRun`) and the run beside it (Compare, Fork) — the
//! commands they get, the events the window acts on, a new thread after a crash.

use super::live_run::LiveRun;
use super::{GanscopeApp, compare};
use crate::worker::{Command, WorkerHandle};
use eframe::egui;
use std::time::Instant;

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
