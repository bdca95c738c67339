//! Lessons: every shipped lesson keeps every promise on its seeds; a cue fires exactly at its
//! step (the same run as training to the step and changing the knob by hand); the training
//! thread plays a lesson as headless does, stops at a pause cue, and Back returns to the script.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ganscope::backend::{BackendChoice, select};
use ganscope::lesson::{self, Lesson};
use ganscope::trainer::{Metrics, Trainer};
use ganscope::worker::{Command, Event, Snapshot, Speed, WorkerHandle, WorkerOptions};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// Runs `name` on each of its seeds and judges every promise over them (a promise holds on
/// at least its `seeds_fraction` of the seeds).
fn check(name: &str) {
    let l = lesson::load(name).unwrap();
    let runs: Vec<(u64, Vec<Metrics>)> = l
        .seeds
        .par_iter()
        .map(|&seed| {
            let out =
                lesson::run(&l, seed, select(BackendChoice::Cpu, false).unwrap()).unwrap_or_else(|e| panic!("{name} seed {seed}: {e}"));
            (seed, out.history)
        })
        .collect();
    let mut failures = Vec::new();
    for (i, (cue, p)) in l.promises().enumerate() {
        let mut held = 0;
        let mut values = Vec::new();
        for (seed, history) in &runs {
            let v = &lesson::judge(&l, history).unwrap()[i];
            held += usize::from(v.held);
            values.push(format!("seed {seed}: {:.3}{}", v.value, if v.held { "" } else { " (failed)" }));
        }
        let share = held as f64 / runs.len() as f64;
        if share + 1e-9 < p.seeds_fraction {
            failures.push(format!(
                "cue {cue} (line {}), {}: held on {held} of {} seeds — {}",
                l.cues[cue].line,
                p.metric,
                runs.len(),
                values.join(", ")
            ));
        }
    }
    assert!(failures.is_empty(), "lesson {name}:\n{}", failures.join("\n"));
}

#[test]
fn collapse_cure_keeps_its_promises() {
    check("collapse-cure");
}

#[test]
fn circling_keeps_its_promises() {
    check("circling");
}

#[test]
fn saturation_keeps_its_promises() {
    check("saturation");
}

#[test]
fn trilemma_keeps_its_promises() {
    check("trilemma");
}

const SMALL: &str = r#"[lesson]
title = "small"
preset = "oscillation"
seeds = [0, 1, 2, 3, 4]
steps = 400

[[cue]]
step = 0
caption = "start"

[[cue]]
step = 200
set = ["schedule.mode=alternating", "optim.d.lr=0.02"]
pause = true
caption = "changed"
[[cue.promise]]
metric = "js_grid"
at_least = 0.0
"#;

fn cpu() -> ganscope::backend::Compute {
    select(BackendChoice::Cpu, false).unwrap()
}

#[test]
fn a_cue_is_the_knob_changed_by_hand_at_its_step() {
    let l = Lesson::parse("small", SMALL).unwrap();
    let a = lesson::run(&l, 3, cpu()).unwrap();
    let again = lesson::run(&l, 3, cpu()).unwrap();
    // By hand: train to step 200, change the two knobs, train on.
    let mut t = Trainer::new(l.config_with_seed(3), cpu()).unwrap();
    let mut by_hand = Vec::new();
    for step in 1..=400u64 {
        if step == 201 {
            let mut cfg = t.config().clone();
            cfg.set_all(&["schedule.mode=alternating", "optim.d.lr=0.02"]).unwrap();
            assert!(!t.set_config(cfg).unwrap(), "the cue keeps the networks");
        }
        t.step().unwrap();
        if step % 100 == 0 {
            by_hand.push(t.evaluate().unwrap().0);
        }
    }
    let key = |h: &[Metrics]| {
        h.iter().map(|m| (m.step, m.js_grid.to_bits(), m.updates.d_loss.to_bits(), m.updates.g_loss.to_bits())).collect::<Vec<_>>()
    };
    assert_eq!(key(&a.history), key(&again.history), "a lesson replays bit for bit");
    assert_eq!(key(&a.history), key(&by_hand), "the cue fired between steps 200 and 201");
    // Without the cue the run differs after step 200 (the cue did something).
    let plain = ganscope::run::run(&mut Trainer::new(l.config_with_seed(3), cpu()).unwrap(), 400, 100, |_| {}, |_| {}).unwrap();
    assert_eq!(key(&plain.history)[..2], key(&a.history)[..2]);
    assert_ne!(key(&plain.history)[3..], key(&a.history)[3..]);
}

fn wait_snapshot(w: &WorkerHandle, what: &str, cond: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let start = Instant::now();
    loop {
        if let Some(s) = w.latest().filter(|s| cond(s)) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_training_thread_plays_a_lesson_as_headless_does() {
    let l = std::sync::Arc::new(Lesson::parse("small", SMALL).unwrap());
    let headless = lesson::run(&l, 0, cpu()).unwrap();
    let cfg = ganscope::presets::get("ns-ring").unwrap().config;
    let w = WorkerHandle::spawn(cfg, &WorkerOptions { backend: BackendChoice::Cpu, ..Default::default() }, Box::new(|| {})).unwrap();
    w.send(Command::Lesson(Some(l.clone())));
    w.send(Command::Speed(Speed::Max));
    w.send(Command::Play);
    // The pause cue stops the run exactly at its step, with the cue's settings in force.
    let s = wait_snapshot(&w, "the pause cue", |s| s.lesson.as_ref().is_some_and(|l| l.waiting));
    assert!(!s.running);
    assert_eq!(s.step, 200);
    assert_eq!(s.lesson.as_ref().unwrap().cue, Some(1));
    assert_eq!(s.config.optim.d.lr, 0.02);
    w.send(Command::PauseAt(Some(400)));
    w.send(Command::Play);
    let s = wait_snapshot(&w, "step 400", |s| s.step == 400 && !s.running);
    assert!(!s.lesson.as_ref().unwrap().waiting);
    let mut evals: Vec<Metrics> =
        w.events().into_iter().filter_map(|e| if let Event::Metrics(m) = e { Some(*m) } else { None }).filter(|m| m.step > 0).collect();
    evals.dedup_by_key(|m| m.step);
    let key = |h: &[Metrics]| h.iter().map(|m| (m.step, m.js_grid.to_bits(), m.updates.d_loss.to_bits())).collect::<Vec<_>>();
    assert_eq!(key(&evals), key(&headless.history), "the window's run is the headless run");

    // A knob by hand leaves the script; Back returns to cue 1's checkpoint with its settings.
    let mut hand = (*s.config).clone();
    hand.optim.d.lr = 0.001;
    w.send(Command::SetConfig(Box::new(hand)));
    let s = wait_snapshot(&w, "off the script", |s| s.lesson.as_ref().is_some_and(|l| l.off_script));
    assert_eq!(s.config.optim.d.lr, 0.001);
    w.send(Command::LessonBack);
    let s = wait_snapshot(&w, "back at cue 1", |s| s.step == 200 && s.lesson.as_ref().is_some_and(|l| !l.off_script));
    assert_eq!((s.config.optim.d.lr, s.lesson.as_ref().unwrap().cue), (0.02, Some(1)));
    // Played from there, the run is the lesson's again.
    w.send(Command::PauseAt(Some(400)));
    w.send(Command::Play);
    wait_snapshot(&w, "step 400 again", |s| s.step == 400 && !s.running);
    let again: Vec<Metrics> = w.events().into_iter().filter_map(|e| if let Event::Metrics(m) = e { Some(*m) } else { None }).collect();
    let last = again.iter().rfind(|m| m.step == 400).expect("an evaluation at 400");
    assert_eq!(last.js_grid.to_bits(), headless.history.last().unwrap().js_grid.to_bits(), "Back replays the script");
}
