//! Save and resume: a resumed run continues bit for bit; every preset's state round-trips;
//! damaged or foreign files and changes that need fresh networks are errors that say so.

use ganscope::backend::{BackendChoice, Compute, select};
use ganscope::presets;
use ganscope::trainer::Trainer;
use ganscope::trainer::state::{StateError, TrainState};
use std::io::Write;

fn cpu() -> Compute {
    select(BackendChoice::Cpu, false).unwrap()
}

/// Saved to a file and read back, as `--save-state` / `--resume` do.
fn through_file(t: &Trainer) -> TrainState {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.gss");
    t.save_state().unwrap().write(&p).unwrap();
    TrainState::read(&p).unwrap()
}

/// Steps `n` times, evaluating every `every` steps; returns the evaluations.
fn train(t: &mut Trainer, n: u64, every: u64) -> Vec<ganscope::trainer::Metrics> {
    let mut out = Vec::new();
    for _ in 0..n {
        t.record = (t.steps_done() + 1).is_multiple_of(every);
        t.step().unwrap();
        if t.record {
            out.push(t.evaluate().unwrap().0.timeless());
        }
    }
    out
}

/// 2,000 steps straight and 1,000 + save + resume + 1,000 give the same weights, optimizer
/// state and metrics (the symptoms' look-back window included), bit for bit on the CPU.
#[test]
fn resuming_continues_bit_for_bit() {
    let mut cfg = presets::get("ns-ring").unwrap().config;
    cfg.set_all(&["train.eval_every=100", "train.eval_samples=500", "noise.instance_std=0.1", "noise.anneal=linear"]).unwrap();
    let mut straight = Trainer::new(cfg.clone(), cpu()).unwrap();
    let all = train(&mut straight, 2000, 100);

    let mut first = Trainer::new(cfg, cpu()).unwrap();
    let before = train(&mut first, 1000, 100);
    let mut resumed = Trainer::from_state(through_file(&first), cpu()).unwrap();
    drop(first);
    assert_eq!(resumed.steps_done(), 1000);
    let after = train(&mut resumed, 1000, 100);

    assert_eq!(straight.weights(), resumed.weights(), "weights differ after resuming");
    assert_eq!(straight.save_state().unwrap().engine, resumed.save_state().unwrap().engine, "optimizer state differs");
    assert_eq!(all[..10], before[..], "the first half");
    assert_eq!(all[10..], after[..], "metrics after resuming (symptoms included) differ");
    assert!(after.last().unwrap().symptoms.len() == 5);
}

/// Every preset's state saves and loads: the loaded run holds the same state and its next
/// steps are the same as the original's.
#[test]
fn every_preset_state_round_trips() {
    for p in presets::all() {
        let mut cfg = p.config.clone();
        cfg.train.eval_samples = 200;
        let mut t = Trainer::new(cfg, cpu()).unwrap();
        train(&mut t, 3, 1000);
        let state = through_file(&t);
        let mut back = Trainer::from_state(state.clone(), cpu()).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(back.save_state().unwrap().engine, state.engine, "{}", p.name);
        train(&mut t, 2, 1000);
        train(&mut back, 2, 1000);
        assert_eq!(t.weights(), back.weights(), "{}: the next steps differ after loading", p.name);
    }
}

#[test]
fn damaged_and_foreign_state_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let deflated = |json: &str| {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(json.as_bytes()).unwrap();
        z.finish().unwrap()
    };
    let err = |p: &std::path::Path| TrainState::read(p).unwrap_err().to_string();

    std::fs::write(path("junk"), b"\x00\x01 not deflate at all \xff").unwrap();
    assert!(err(&path("junk")).contains("not a ganscope state file"), "{}", err(&path("junk")));

    let mut t = Trainer::new(presets::get("ns-ring").unwrap().config, cpu()).unwrap();
    t.step().unwrap();
    t.save_state().unwrap().write(&path("good")).unwrap();
    let bytes = std::fs::read(path("good")).unwrap();
    std::fs::write(path("cut"), &bytes[..bytes.len() / 2]).unwrap();
    assert!(err(&path("cut")).contains("damaged"), "{}", err(&path("cut")));

    std::fs::write(path("foreign"), deflated(r#"{"hello": "world"}"#)).unwrap();
    assert!(err(&path("foreign")).contains("no `format"), "{}", err(&path("foreign")));
    std::fs::write(path("v9"), deflated(r#"{"format": "ganscope-state", "version": 9}"#)).unwrap();
    assert!(err(&path("v9")).contains("version 9"), "{}", err(&path("v9")));
    assert!(err(&path("missing")).contains("cannot read"), "{}", err(&path("missing")));

    // A state whose config does not fit its weights: refused whole.
    let mut s = TrainState::read(&path("good")).unwrap();
    s.config = s.config.replace("width = 128", "width = 64");
    assert!(s.config.contains("width = 64"), "the test edits the width");
    let e = Trainer::from_state(s, cpu()).err().expect("refused");
    assert!(matches!(e, StateError::Mismatch(_)) && e.to_string().contains("sizes"), "{e}");

    // Continuing under a change that needs fresh networks is refused; one that keeps them is not.
    let s = TrainState::read(&path("good")).unwrap();
    let e = Trainer::from_state_with(s.clone(), cpu(), |c| c.set("data.kind=grid")).err().expect("refused");
    assert!(e.to_string().contains("fresh networks (dataset)"), "{e}");
    let t2 = Trainer::from_state_with(s, cpu(), |c| c.set("loss.kind=wgan-gp")).unwrap();
    assert_eq!(t2.config().loss.kind, ganscope::config::LossKind::WganGp);
    assert_eq!(t2.weights(), t.weights(), "a kept change keeps the weights");
}

/// Any damage to a state file is refused: 1–8 flipped bits anywhere (header, checksum, payload),
/// bytes cut or appended. (Without the checksum, 2 of 15 bit-flipped files resumed silently.)
#[test]
fn every_damaged_state_file_is_refused() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let mut t = Trainer::new(presets::get("ns-ring").unwrap().config, cpu()).unwrap();
    t.step().unwrap();
    t.save_state().unwrap().write(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    TrainState::read(&good).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(23);
    let damaged = dir.path().join("damaged");
    for case in 0..300 {
        let mut b = bytes.clone();
        match case % 3 {
            0 | 1 => {
                for _ in 0..rng.random_range(1..=8) {
                    // The header's 28 bytes get a third of the flips: they hold no payload.
                    let i = if rng.random_bool(0.33) { rng.random_range(0..28) } else { rng.random_range(0..b.len()) };
                    b[i] ^= 1 << rng.random_range(0..8);
                }
                if b == bytes {
                    continue; // two flips of one bit undid each other
                }
            }
            _ => {
                let n = rng.random_range(1..64);
                if rng.random_bool(0.5) {
                    b.extend((0..n).map(|_| rng.random::<u8>()));
                } else {
                    b.truncate(b.len() - n);
                }
            }
        }
        std::fs::write(&damaged, &b).unwrap();
        let e = TrainState::read(&damaged).err().unwrap_or_else(|| panic!("case {case}: a damaged file was accepted"));
        assert!(e.to_string().contains("not a ganscope state file, or a damaged one"), "case {case}: {e}");
    }
}
