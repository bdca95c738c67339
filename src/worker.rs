//! The training thread. The window sends `Command`s over an unbounded channel and receives
//! two things: `Snapshot`s (the state to draw) over a one-slot channel in which the newest
//! wins, and `Event`s (evaluations, notices, restarts, a crash) over a lossless channel. The
//! worker never blocks on the window and the window never waits on training. If the training
//! thread panics, the panic's message arrives as `Event::Crashed` and the window can start a
//! new worker.

use crate::backend::{self, BackendChoice, BackendInfo};
use crate::config::Config;
use crate::data::Modes;
use crate::engine::EngineChoice;
use crate::engine::EngineKind;
use crate::metrics::{ModeStats, mode_stats};
use crate::presets;
use crate::trainer::view::{SlowLayers, ViewData, ViewRequest, pairs};
use crate::trainer::{Metrics, Phase, StepStats, Trainer};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError, bounded, unbounded};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How fast to train while playing.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    /// This many steps between two snapshots (~60 snapshots a second).
    StepsPerFrame(u32),
    /// Train flat out; snapshot every ~33 ms.
    Max,
    /// One D or G update at a time, this many per second, each one shown.
    SlowMotion(f32),
}

/// What the window asks of the training thread.
#[derive(Clone, Debug)]
pub enum Command {
    /// Train continuously.
    Play,
    /// Stop training (the thread stays, waiting for commands).
    Pause,
    /// One single update (D or G, whichever the schedule says is next).
    SubStep,
    /// One full step of the schedule.
    Step,
    /// How fast to train (full speed, a cap, slow motion).
    Speed(Speed),
    /// Apply a new config (objective changes keep the weights; data / architecture rebuild).
    SetConfig(Box<Config>),
    /// Start over with the current config (new weights from the seed).
    Reset,
    /// Start over with this config, re-reading its data (a drawn set saved to the same file
    /// again), with this notice.
    Restart(Box<Config>, String),
    /// Start over on the named preset.
    LoadPreset(String),
    /// What the snapshots should compute (hidden layers are skipped).
    SetView(ViewRequest),
    /// Pause as soon as the step counter reaches this step (None: no such stop).
    PauseAt(Option<u64>),
    /// Go back to the checkpoint at this step (the timeline); Play replays from there.
    Rewind(u64),
    /// Send the whole training state as `Event::Forked` (to start a copy beside this run).
    Fork,
    /// Test hook: make the training thread panic (to test that the window survives it).
    #[doc(hidden)]
    Panic,
}

/// One frame of state for the window: plain data only.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Steps done.
    pub step: u64,
    /// Training (not paused).
    pub running: bool,
    /// The speed setting.
    pub speed: Speed,
    /// Next update in slow motion.
    pub phase: Phase,
    /// Measured training speed.
    pub steps_per_second: f64,
    /// Fakes, arrows, surface and the other drawn layers.
    pub view: Arc<ViewData>,
    /// Which run this is of the worker's (counts restarts): a snapshot of an older run than
    /// the latest `Event::Restarted` is stale.
    pub run: u64,
    /// Mode statistics of the displayed fakes, every snapshot (the live histogram).
    pub live_modes: Option<ModeStats>,
    /// Mode statistics of the latest evaluation.
    pub modes: Option<Modes>,
    /// Reals to draw.
    pub real: Arc<Vec<[f32; 2]>>,
    /// The config that trains.
    pub config: Arc<Config>,
    /// The device, and why.
    pub backend: BackendInfo,
    /// The engine that trains (`host` fast path or `burn`).
    pub engine: EngineKind,
    /// Set when the run diverged and paused itself; cleared by reset.
    pub diverged: Option<String>,
    /// The instance-noise σ in force.
    pub instance_std: f32,
    /// Losses, D outputs and gradient norms of the latest updates (a point per snapshot).
    pub stats: StepStats,
    /// The checkpoints the timeline can go back to.
    pub timeline: Arc<Timeline>,
}

impl Snapshot {
    /// A paused snapshot of `trainer` with `view` (the worker fills in what only it knows:
    /// speed, rate, run id, timeline). `render` builds its frames with it too.
    pub fn of(trainer: &Trainer, view: ViewData, real: Arc<Vec<[f32; 2]>>, config: Arc<Config>) -> Snapshot {
        let live_modes = trainer.target().modes().map(|m| {
            let flat: Vec<f32> = view.fake.iter().flatten().copied().collect();
            mode_stats(m, &flat)
        });
        Snapshot {
            step: trainer.steps_done(),
            running: false,
            speed: Speed::Max,
            phase: trainer.phase(),
            steps_per_second: 0.0,
            view: Arc::new(view),
            run: 0,
            live_modes,
            modes: trainer.target().modes().cloned(),
            real,
            config,
            backend: trainer.backend().clone(),
            engine: trainer.engine_kind(),
            diverged: None,
            instance_std: trainer.instance_std(),
            stats: trainer.last_stats().clone(),
            timeline: Arc::default(),
        }
    }

    /// The first 2,000 of the trainer's reference reals: what the data view draws as "real".
    pub fn reals_of(trainer: &Trainer) -> Arc<Vec<[f32; 2]>> {
        let r = trainer.real_eval();
        Arc::new(pairs(&r[..2 * 2000.min(r.len() / 2)]))
    }
}

/// How the worker trains.
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
    /// The device to train on.
    pub backend: BackendChoice,
    /// Look for a GPU under `BackendChoice::Auto` (see `backend::select`).
    pub probe_gpu: bool,
    /// The engine to train with.
    pub engine: EngineChoice,
    /// Cap on the CPU threads training uses (None: all of rayon's pool).
    pub threads: Option<usize>,
}

/// What the window must not miss, in order.
#[derive(Clone, Debug)]
pub enum Event {
    /// An evaluation (every `train.eval_every` steps and at every restart).
    Metrics(Box<Metrics>),
    /// A one-off notice ("networks rebuilt", "diverged: …", a setting without effect).
    Notice(String),
    /// A new run started (reset, preset, rebuild) with this config: histories start over.
    Restarted {
        /// Which run of the worker's this is (see `Snapshot::run`).
        run: u64,
        /// The config it trains.
        config: Arc<Config>,
    },
    /// The run went back to this step (the timeline): what was plotted after it is gone.
    Rewound {
        /// The step now shown.
        step: u64,
    },
    /// The whole training state, as asked by `Command::Fork`.
    Forked(Box<crate::trainer::state::TrainState>),
    /// The training thread panicked with this message; it is gone.
    Crashed(String),
}

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
struct Checkpoints {
    ring: std::collections::VecDeque<crate::trainer::state::TrainState>,
    bytes: usize,
    forked_at: Option<u64>,
}

impl Checkpoints {
    fn size(s: &crate::trainer::state::TrainState) -> usize {
        let e = &s.engine;
        let opt = |o: &crate::optim::OptimizerState| o.m.iter().chain(&o.v).flatten().map(Vec::len).sum::<usize>();
        4 * (e.g.iter().chain(&e.d).map(Vec::len).sum::<usize>() + opt(&e.g_opt) + opt(&e.d_opt)) + s.config.len()
    }

    fn push(&mut self, s: crate::trainer::state::TrainState) {
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
    fn truncate_after(&mut self, step: u64) {
        while self.ring.back().is_some_and(|c| c.step > step) {
            let c = self.ring.pop_back().expect("non-empty");
            self.bytes -= Self::size(&c);
        }
    }

    fn timeline(&self) -> Timeline {
        Timeline { steps: self.ring.iter().map(|c| c.step).collect(), bytes: self.bytes, forked_at: self.forked_at }
    }
}

/// Owns the worker thread; dropping it stops the thread.
pub struct WorkerHandle {
    commands: Option<Sender<Command>>,
    /// Frames: only the newest is kept (bounded, newest wins).
    pub snapshots: Receiver<Snapshot>,
    /// Metrics, notices, restarts: every one, in order.
    pub events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts training `cfg` (paused) on `backend`. `repaint` is called after every snapshot
    /// (the window passes `ctx.request_repaint`). `threads` caps the CPU threads training uses
    /// (None: all of rayon's pool).
    pub fn spawn(cfg: Config, opts: &WorkerOptions, repaint: Box<dyn Fn() + Send + Sync>) -> anyhow::Result<Self> {
        Self::spawn_with(|compute| Ok(Trainer::new(cfg, compute)?), opts, repaint)
    }

    /// A worker continuing a saved run (a fork of another worker's run), paused.
    pub fn spawn_from(
        state: crate::trainer::state::TrainState,
        opts: &WorkerOptions,
        repaint: Box<dyn Fn() + Send + Sync>,
    ) -> anyhow::Result<Self> {
        Self::spawn_with(|compute| Ok(Trainer::from_state(state, compute)?), opts, repaint)
    }

    fn spawn_with(
        make: impl FnOnce(crate::backend::Compute) -> anyhow::Result<Trainer>,
        opts: &WorkerOptions,
        repaint: Box<dyn Fn() + Send + Sync>,
    ) -> anyhow::Result<Self> {
        let threads = opts.threads;
        let mut compute = backend::select(opts.backend, opts.probe_gpu)?.with_engine(opts.engine);
        // A pool of its own, when capped: the worker runs inside it, so every parallel kernel
        // of a step (the fast path's chunks, burn's CPU ops) stays on its threads.
        let pool = match threads {
            Some(n) => Some(rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).thread_name(|i| format!("ganscope-train-{i}")).build()?),
            None => None,
        };
        if let (Some(p), "cpu") = (&pool, compute.info.backend.as_str()) {
            compute.info.adapter = backend::cpu_adapter(p.current_num_threads());
        }
        let trainer = make(compute)?;
        let (cmd_tx, cmd_rx) = unbounded();
        let (snap_tx, snap_rx) = bounded(1);
        let (event_tx, event_rx) = unbounded();
        let stale = snap_rx.clone();
        let thread = std::thread::Builder::new().name("ganscope-trainer".into()).spawn(move || {
            let crash = event_tx.clone();
            let repaint: Arc<dyn Fn() + Send + Sync> = Arc::from(repaint);
            let last_repaint = repaint.clone();
            let go = move || {
                let ch = Channels { commands: cmd_rx, snapshots: snap_tx, stale, events: event_tx };
                let worker = Worker::new(trainer, ch, Box::new(move || repaint()));
                match pool {
                    Some(p) => p.install(|| worker.run()),
                    None => worker.run(),
                }
            };
            if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(go)) {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let _ = crash.send(Event::Crashed(msg));
                last_repaint();
            }
        })?;
        Ok(Self { commands: Some(cmd_tx), snapshots: snap_rx, events: event_rx, thread: Some(thread) })
    }

    /// Sends a command (a stopped thread ignores it).
    pub fn send(&self, c: Command) {
        if let Some(tx) = &self.commands {
            let _ = tx.send(c);
        }
    }

    /// The newest snapshot, if one arrived since the last call.
    pub fn latest(&self) -> Option<Snapshot> {
        self.snapshots.try_recv().ok()
    }

    /// Every event since the last call, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.commands.take(); // closes the channel: the worker exits its loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The worker's ends of the channels.
struct Channels {
    commands: Receiver<Command>,
    snapshots: Sender<Snapshot>,
    /// A second receiver used to drop an unread snapshot so the newest wins.
    stale: Receiver<Snapshot>,
    events: Sender<Event>,
}

struct Worker {
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
    fn new(trainer: Trainer, ch: Channels, repaint: Box<dyn Fn() + Send>) -> Self {
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
        self.checkpoint();
        self.evaluate();
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

    fn run(mut self) {
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
                let why = self.trainer.config().diff(&cfg).why.join(", ");
                match self.trainer.set_config(*cfg) {
                    Ok(true) => {
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
            Command::Reset => self.restart(self.trainer.config().clone(), "Reset: fresh weights from the seed."),
            Command::Restart(cfg, why) => self.restart(*cfg, &why),
            Command::LoadPreset(name) => match presets::get(&name) {
                Ok(p) => {
                    let title = p.meta.title.clone();
                    self.restart(p.config, &format!("Loaded preset: {title}"))
                }
                Err(e) => self.send_event(Event::Notice(e.to_string())),
            },
            Command::SetView(v) => self.view_req = v,
            Command::Rewind(step) => self.rewind(step),
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
        if step.is_multiple_of(self.trainer.config().train.eval_every) {
            self.evaluate();
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
