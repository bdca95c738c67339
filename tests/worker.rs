//! The training thread's view cadence: at full speed the fakes arrive with every snapshot
//! while D's surface is refreshed on its own, slower clock; paused, everything is fresh.

use ganscope::backend::BackendChoice;
use ganscope::presets;
use ganscope::worker::{Command, Snapshot, Speed, WorkerHandle};
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
    let w = WorkerHandle::spawn(cfg, BackendChoice::Cpu, Box::new(|| {}), None).unwrap();
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
