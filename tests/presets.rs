//! Every preset keeps its promise (e.g. "≥ 7 of 8 modes by step N") on every listed seed.
//! One test per preset, so the test harness runs them side by side.

use ganscope::backend::{BackendChoice, select};
use ganscope::engine::{EngineChoice, EngineKind};
use ganscope::presets;
use ganscope::trainer::{Metrics, Trainer};

fn metric(m: &Metrics, name: &str) -> f64 {
    match name {
        "modes_covered" => m.modes_covered.expect("mixture dataset") as f64,
        "hq_fraction" => m.hq_fraction.expect("mixture dataset"),
        "reverse_kl" => m.reverse_kl.expect("mixture dataset"),
        "kl_grid" => m.kl_grid,
        "js_grid" => m.js_grid,
        other => panic!("unknown promise metric `{other}`"),
    }
}

/// Checks every promise of preset `name` on every seed it lists, with the engine `auto` picks;
/// with `burn`, on the first seed with the burn engine (the path a GPU user gets).
fn check(name: &str, burn: bool) {
    let preset = presets::get(name).unwrap();
    for promise in &preset.meta.promise {
        let seeds = if burn { &promise.seeds[..1] } else { &promise.seeds[..] };
        for &seed in seeds {
            let mut cfg = preset.config.clone();
            cfg.train.seed = seed;
            let engine = if burn { EngineChoice::Burn } else { EngineChoice::Auto };
            let every = cfg.train.eval_every.max(1);
            let mut t = Trainer::new(cfg, select(BackendChoice::Cpu, false).unwrap().with_engine(engine)).unwrap();
            if burn {
                assert_eq!(t.engine_kind(), EngineKind::Burn);
            }
            t.record = false;
            // The evaluations judged: `median_of` of them, `eval_every` apart, the last at `steps`.
            let first = promise.steps.saturating_sub(every * (promise.median_of as u64 - 1));
            let mut seen = Vec::new();
            for step in 1..=promise.steps {
                t.step().unwrap();
                if step >= first && (promise.steps - step) % every == 0 {
                    seen.push(metric(&t.evaluate().unwrap().0, &promise.metric));
                }
            }
            seen.sort_by(f64::total_cmp);
            let v = seen[seen.len() / 2];
            let engine = t.engine_kind().describe();
            eprintln!("{name} seed {seed} ({engine}): {} = {v} after {} steps (median of {seen:?})", promise.metric, promise.steps);
            if let Some(lo) = promise.at_least {
                assert!(v >= lo, "{name} seed {seed} ({engine}): {} = {v} < {lo} after {} steps", promise.metric, promise.steps);
            }
            if let Some(hi) = promise.at_most {
                assert!(v <= hi, "{name} seed {seed} ({engine}): {} = {v} > {hi} after {} steps", promise.metric, promise.steps);
            }
        }
    }
}

macro_rules! preset_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { check($name, false); })*
        /// The same promises on the burn engine (one seed each).
        mod on_burn {
            $(#[test] fn $test() { super::check($name, true); })*
        }
        #[test]
        fn every_preset_has_a_test() {
            let tested = [$($name),*];
            for n in presets::names() {
                assert!(tested.contains(&n), "preset `{n}` has no promise test");
            }
        }
    };
}

preset_tests! {
    collapse => "collapse",
    ns_ring => "ns-ring",
    oscillation => "oscillation",
    wgan_clip => "wgan-clip",
    wgan_gp => "wgan-gp",
    r1 => "r1",
    instance_noise => "instance-noise",
    n_critic_5 => "n-critic-5",
    grid_collapse => "grid-collapse",
    grid_cure => "grid-cure",
    gan_toy_wgan_gp => "gan-toy-wgan-gp",
    unrolled => "unrolled",
    pacgan => "pacgan",
}
