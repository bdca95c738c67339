//! The training thread. The window sends `Command`s over an unbounded channel and receives
//! two things: `Snapshot`s (the state to draw) over a one-slot channel in which the newest
//! wins, and `Event`s (evaluations, notices, restarts, a crash) over a lossless channel. The
//! worker never blocks on the window and the window never waits on training. If the training
//! thread panics, the panic's message arrives as `Event::Crashed` and the window can start a
//! new worker.

mod lesson;
mod thread;
mod timeline;

use thread::{Channels, Worker};
pub use timeline::Timeline;

use crate::backend::{self, BackendChoice, BackendInfo};
use crate::config::Config;
use crate::data::Modes;
use crate::engine::EngineChoice;
use crate::engine::EngineKind;
use crate::metrics::{ModeStats, mode_stats};
use crate::trainer::view::{ViewData, ViewRequest, pairs};
use crate::trainer::{Metrics, Phase, StepStats, Trainer};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::sync::Arc;
use std::thread::JoinHandle;

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
    /// Play this lesson from step 0 (its config, its cues at their steps); None ends it.
    Lesson(Option<Arc<crate::lesson::Lesson>>),
    /// Back to the previous cue's checkpoint, with the lesson's scripted settings.
    LessonBack,
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
    /// The lesson being played, and where it stands.
    pub lesson: Option<LessonStatus>,
}

/// Where a lesson being played stands.
#[derive(Clone, Debug)]
pub struct LessonStatus {
    /// The lesson.
    pub lesson: Arc<crate::lesson::Lesson>,
    /// The latest cue fired (what is on screen).
    pub cue: Option<usize>,
    /// A knob was changed by hand since the latest cue or Back.
    pub off_script: bool,
    /// Stopped at a pause cue: Play (Next) goes on.
    pub waiting: bool,
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
            lesson: None,
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
    /// A lesson's cue fired, or the lesson went back to one (Back, the timeline): the cue now
    /// on screen and the config in force.
    Cue {
        /// The cue (None: before the first).
        index: Option<usize>,
        /// The config in force.
        config: Arc<Config>,
    },
    /// The whole training state, as asked by `Command::Fork`.
    Forked(Box<crate::trainer::state::TrainState>),
    /// The training thread panicked with this message; it is gone.
    Crashed(String),
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
