//! The training thread's view cadence: at full speed the fakes arrive with every snapshot
//! while D's surface is refreshed on its own, slower clock; paused, everything is fresh.

use ganscope::backend::BackendChoice;
use ganscope::presets;
use ganscope::worker::{Command, Event, Snapshot, Speed, WorkerHandle, WorkerOptions};
use std::time::{Duration, Instant};

fn collect_for(w: &WorkerHandle, d: Duration) -> Vec<Snapshot> {
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < d {
        if let Some(s) = w.latest() {
            out.push(s);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    out
}

#[test]
fn surface_refreshes_on_its_own_clock_while_fakes_follow_every_snapshot() {
    let cfg = presets::get("ns-ring").unwrap().config;
    let w = WorkerHandle::spawn(cfg, &WorkerOptions { backend: BackendChoice::Cpu, ..Default::default() }, Box::new(|| {})).unwrap();
    w.send(Command::Speed(Speed::Max));
    w.send(Command::Play);
    let snaps: Vec<Snapshot> = collect_for(&w, Duration::from_secs(4)).into_iter().filter(|s| s.running && s.step > 0).collect();
    assert!(snaps.len() >= 3, "snapshots keep arriving while training ({} seen)", snaps.len());
    // Every snapshot's fakes are of its own step; the surface may be older, never newer.
    for s in &snaps {
        assert_eq!(s.view.step, s.step);
        assert!(s.view.slow.step <= s.step);
        assert_eq!(s.view.slow.surface.len(), 128 * 128);
    }
    let reused = snaps.iter().filter(|s| s.view.slow.step < s.step).count();
    assert!(reused > 0, "between refreshes the surface is reused, not recomputed every snapshot");
    let mut refreshed: Vec<u64> = snaps.iter().map(|s| s.view.slow.step).collect();
    refreshed.dedup();
    assert!(refreshed.len() >= 2, "the surface is refreshed while training ({refreshed:?})");

    w.send(Command::Pause);
    let start = Instant::now();
    let paused = loop {
        if let Some(s) = w.latest().filter(|s| !s.running) {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "pause took effect");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(paused.view.slow.step, paused.step, "paused, the surface is of the shown step");
}

fn events_until(w: &WorkerHandle, what: &str, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        seen.extend(w.events());
        if done(&seen) {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out waiting for {what}");
}

/// Every evaluation reaches the window, in order, however few snapshots it takes: the window
/// here reads no snapshot at all while 2,000 steps train.
#[test]
fn every_evaluation_arrives_even_when_no_snapshot_is_read() {
    let mut cfg = presets::get("ns-ring").unwrap().config;
    cfg.set_all(&["train.eval_every=100", "train.eval_samples=200", "generator.width=16", "discriminator.width=16"]).unwrap();
    let w = WorkerHandle::spawn(cfg, &WorkerOptions { backend: BackendChoice::Cpu, ..Default::default() }, Box::new(|| {})).unwrap();
    w.send(Command::PauseAt(Some(2000)));
    w.send(Command::Speed(Speed::Max));
    w.send(Command::Play);
    let events = events_until(&w, "step 2000's evaluation", |e| e.iter().any(|e| matches!(e, Event::Metrics(m) if m.step == 2000)));
    let steps: Vec<u64> = events.iter().filter_map(|e| if let Event::Metrics(m) = e { Some(m.step) } else { None }).collect();
    assert_eq!(steps, (0..=20).map(|i| i * 100).collect::<Vec<_>>(), "one evaluation per 100 steps, none lost");
    assert!(matches!(events[0], Event::Restarted { .. }), "the run's start comes first");
    // PauseAt stopped the run at exactly step 2000.
    let start = Instant::now();
    let snap = loop {
        if let Some(s) = w.latest().filter(|s| !s.running && s.step > 0) {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "paused snapshot");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(snap.step, 2000);
}

/// A panic on the training thread reaches the window as an event with its message.
#[test]
fn a_crashed_training_thread_reports_its_panic() {
    let cfg = presets::get("ns-ring").unwrap().config;
    let w = WorkerHandle::spawn(cfg, &WorkerOptions { backend: BackendChoice::Cpu, ..Default::default() }, Box::new(|| {})).unwrap();
    w.send(Command::Panic);
    let events = events_until(&w, "the crash", |e| e.iter().any(|e| matches!(e, Event::Crashed(_))));
    let msg = events.iter().find_map(|e| if let Event::Crashed(m) = e { Some(m.clone()) } else { None }).unwrap();
    assert!(msg.contains("panic requested"), "{msg}");
}

fn metrics_at(events: &[Event], step: u64) -> ganscope::trainer::Metrics {
    events
        .iter()
        .rev()
        .find_map(|e| if let Event::Metrics(m) = e { (m.step == step).then(|| m.timeless()) } else { None })
        .unwrap_or_else(|| panic!("no evaluation at step {step}"))
}

/// The timeline: the worker keeps a checkpoint per evaluation; going back to one and playing
/// replays the same run (the same metrics, bit for bit); a knob changed there makes a fork.
#[test]
fn rewinding_replays_the_run_and_a_changed_knob_forks_it() {
    let mut cfg = presets::get("ns-ring").unwrap().config;
    cfg.set_all(&["train.eval_every=100", "train.eval_samples=400"]).unwrap();
    let w =
        WorkerHandle::spawn(cfg.clone(), &WorkerOptions { backend: BackendChoice::Cpu, ..Default::default() }, Box::new(|| {})).unwrap();
    w.send(Command::Speed(Speed::Max));
    w.send(Command::PauseAt(Some(300)));
    w.send(Command::Play);
    let first = events_until(&w, "step 300", |e| e.iter().any(|e| matches!(e, Event::Metrics(m) if m.step == 300)));
    let latest = |w: &WorkerHandle, what: &str, ok: &dyn Fn(&Snapshot) -> bool| {
        let start = Instant::now();
        loop {
            if let Some(s) = w.latest().filter(|s| ok(s)) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let s = latest(&w, "the pause at 300", &|s| !s.running && s.step == 300);
    assert_eq!(s.timeline.steps, vec![0, 100, 200, 300], "a checkpoint per evaluation");
    assert!(s.timeline.bytes > 0);

    w.send(Command::Rewind(100));
    events_until(&w, "the rewind", |e| e.iter().any(|e| matches!(e, Event::Rewound { step: 100 })));
    let s = latest(&w, "step 100", &|s| s.step == 100);
    assert_eq!(s.timeline.steps, vec![0, 100, 200, 300], "the future is kept while scrubbing");
    w.send(Command::PauseAt(Some(300)));
    w.send(Command::Play);
    let again = events_until(&w, "step 300 again", |e| e.iter().any(|e| matches!(e, Event::Metrics(m) if m.step == 300)));
    for step in [200, 300] {
        assert_eq!(metrics_at(&first, step), metrics_at(&again, step), "replayed step {step} differs");
    }
    let s = latest(&w, "paused at 300", &|s| !s.running && s.step == 300);
    assert_eq!(s.timeline.forked_at, None);

    w.send(Command::Rewind(100));
    events_until(&w, "the second rewind", |e| e.iter().any(|e| matches!(e, Event::Rewound { step: 100 })));
    let mut changed = cfg.clone();
    changed.set("loss.kind=hinge").unwrap();
    w.send(Command::SetConfig(Box::new(changed)));
    let s = latest(&w, "the fork", &|s| s.timeline.forked_at.is_some());
    assert_eq!(s.timeline.forked_at, Some(100));
    assert_eq!(s.timeline.steps, vec![0, 100], "the recorded future is gone");
}
