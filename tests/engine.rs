//! The engine against its definitions: losses against their formulas, the hand-written ∂D/∂x
//! against autodiff, optimizers against PyTorch's update rules, mid-run changes, determinism.

use burn::tensor::{Device, Tensor, TensorData};
use ganscope::backend::{BackendChoice, select};
use ganscope::column::Column;
use ganscope::config::{Activation, Config, DiscriminatorConfig, LossKind, NetShape, OptimKind, OptimizerConfig};
use ganscope::engine::burn::TensorCol;
use ganscope::engine::host::{Dual, Source};
use ganscope::loss::{d_terms, g_term};
use ganscope::nets::{BatchFeatures, Mlp};
use ganscope::optim::Optimizer;
use ganscope::penalty::zero_centred;
use ganscope::tensor_util::to_vec;
use ganscope::trainer::Trainer;
use rand::SeedableRng;

fn cpu() -> Device {
    Device::flex()
}

fn col(v: &[f32]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), &cpu())
}

fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn losses_match_their_formulas() {
    let dr = [1.5f32, -0.3, 0.2];
    let df = [-1.0f32, 0.7, 2.5];
    let r = || dr.iter().map(|&v| v as f64);
    let f = || df.iter().map(|&v| v as f64);
    let s = 0.1;
    let cases: Vec<(LossKind, f64, f64)> = vec![
        (
            LossKind::Ns,
            mean(r().map(|x| (1.0 - s) * softplus(-x) + s * softplus(x))) + mean(f().map(softplus)),
            mean(f().map(|x| softplus(-x))),
        ),
        (
            LossKind::Minimax,
            mean(r().map(|x| (1.0 - s) * softplus(-x) + s * softplus(x))) + mean(f().map(softplus)),
            -mean(f().map(softplus)),
        ),
        (
            LossKind::Ls,
            0.5 * mean(r().map(|x| (x - (1.0 - s)).powi(2))) + 0.5 * mean(f().map(|x| x * x)),
            0.5 * mean(f().map(|x| (x - 1.0).powi(2))),
        ),
        (LossKind::Hinge, mean(r().map(|x| (1.0 - x).max(0.0))) + mean(f().map(|x| (1.0 + x).max(0.0))), -mean(f())),
        (LossKind::Wgan, mean(f()) - mean(r()), -mean(f())),
        (LossKind::WganGp, mean(f()) - mean(r()), -mean(f())),
    ];
    for (kind, want_d, want_g) in cases {
        // Label smoothing applies to the logistic and LS losses only.
        let smoothing = if matches!(kind, LossKind::Ns | LossKind::Minimax | LossKind::Ls) { s as f32 } else { 0.0 };
        // The same loss on both engines' columns: tensors and host dual numbers.
        let (r, f) = d_terms(kind, TensorCol(col(&dr)), TensorCol(col(&df)), smoothing);
        let got_d = (r.mean_value() + f.mean_value()) as f64;
        let got_g = g_term(kind, TensorCol(col(&df))).mean_value() as f64;
        assert!((got_d - want_d).abs() < 1e-5, "{kind:?} D: {got_d} vs {want_d}");
        assert!((got_g - want_g).abs() < 1e-5, "{kind:?} G: {got_g} vs {want_g}");
        let dual = |v: &[f32], set| Dual::leaf(v.to_vec(), Source::Output(set));
        let (r, f) = d_terms(kind, dual(&dr, 0), dual(&df, 1), smoothing);
        let host_d = (r.mean_value() + f.mean_value()) as f64;
        let host_g = g_term(kind, dual(&df, 1)).mean_value() as f64;
        assert!((host_d - want_d).abs() < 1e-5, "{kind:?} D on the host: {host_d} vs {want_d}");
        assert!((host_g - want_g).abs() < 1e-5, "{kind:?} G on the host: {host_g} vs {want_g}");
    }
}

fn disc(activation: Activation, spectral_norm: bool, seed: u64) -> Mlp {
    let cfg = DiscriminatorConfig {
        shape: NetShape { activation, depth: 3, width: 32, ..Default::default() },
        spectral_norm,
        ..Default::default()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut d = Mlp::new(&cfg.shape, 2, 1, spectral_norm, BatchFeatures::default(), &mut rng, &cpu());
    for _ in 0..3 {
        d.power_iteration();
    }
    d
}

fn points(n: usize, seed: u64) -> Vec<f32> {
    use rand::Rng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..2 * n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
}

fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    let num: f32 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
    let den: f32 = b.iter().map(|y| y * y).sum::<f32>().sqrt().max(1e-12);
    num / den
}

#[test]
fn hand_written_input_gradient_matches_autodiff() {
    for act in [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid] {
        for sn in [false, true] {
            let d = disc(act, sn, 7);
            let pts = points(64, 3);
            let x_plain = Tensor::<2>::from_data(TensorData::new(pts.clone(), [64, 2]), &cpu());
            let hand = to_vec(d.input_grad(&d.forward_with(&d.layers, x_plain, false)));
            let x = Tensor::<2>::from_data(TensorData::new(pts, [64, 2]), &cpu().autodiff()).require_grad();
            let out = d.forward_with(&d.layers, x.clone(), false).out;
            let grads = out.sum().backward();
            let auto = to_vec(x.grad(&grads).expect("x is tracked"));
            let e = rel_err(&hand, &auto);
            assert!(e < 1e-4, "{act:?} sn={sn}: relative error {e}");
            assert!(auto.iter().any(|v| v.abs() > 1e-6), "gradient is trivially zero");
        }
    }
}

/// The R1 penalty built on the hand-written ∂D/∂x, differentiated into D's weights by one
/// first-order backward, against central finite differences of the penalty itself.
#[test]
fn penalty_gradient_into_weights_matches_finite_differences() {
    // (Not the sigmoid: with σ' ≤ ¼ per layer this penalty's weight gradients fall below the
    // finite differences' resolution here; the host engine's sigmoid penalty is checked against
    // finite differences in `host_mlp.rs` and against this engine in `engines_agree.rs`.)
    for act in [Activation::Tanh, Activation::LeakyRelu, Activation::Relu] {
        let d = disc(act, false, 11);
        // Few points for the ReLU family, so few units sit close enough to a flip to spoil
        // the finite differences.
        let n = if act == Activation::Tanh { 32 } else { 4 };
        let pts = points(n, 5);
        let x = Tensor::<2>::from_data(TensorData::new(pts.clone(), [n, 2]), &cpu());
        let layers = d.tracked();
        let tr = d.forward_with(&layers, x.clone().autodiff(), false);
        let pen = zero_centred(TensorCol(d.input_grad(&tr).square().sum_dim(1)), 1.0).0.mean();
        let grads = pen.backward();
        let g_w1 = to_vec(layers[1].w.grad(&grads).unwrap());
        let penalty_with = |w1: Vec<f32>| -> f64 {
            let mut d2 = d.clone();
            let dims = d2.layers[1].w.dims();
            d2.layers[1].w = Tensor::from_data(TensorData::new(w1, dims), &cpu());
            zero_centred(TensorCol(d2.input_grad(&d2.forward_with(&d2.layers, x.clone(), false)).square().sum_dim(1)), 1.0).mean_value()
                as f64
        };
        let w1 = to_vec(d.layers[1].w.clone());
        let mut checked = 0;
        let fd = |idx: usize, h: f32| {
            let (mut up, mut down) = (w1.clone(), w1.clone());
            up[idx] += h;
            down[idx] -= h;
            (penalty_with(up) - penalty_with(down)) / (2.0 * h as f64)
        };
        for idx in (0..w1.len()).step_by(7).take(120) {
            // Between ReLU flips the penalty is quadratic in w1, so central differences at two
            // step sizes agree exactly (up to rounding); where they disagree a unit flipped
            // inside the step and the point is skipped.
            let (a, b) = (fd(idx, 1e-2), fd(idx, 5e-3));
            if a.abs() < 1e-5 || (a - b).abs() > 1e-3 * a.abs() {
                continue;
            }
            let an = g_w1[idx] as f64;
            assert!((a - an).abs() / a.abs() < 0.03, "{act:?} w1[{idx}]: autodiff {an} vs finite difference {a}");
            checked += 1;
        }
        assert!(checked >= 2, "{act:?}: only {checked} weights could be checked");
    }
}

fn param(v: &[f32]) -> Vec<Tensor<2>> {
    vec![Tensor::from_data(TensorData::new(v.to_vec(), [1, v.len()]), &cpu())]
}

/// The fast path's in-place host update is the tensor update, for every kind — including
/// when the state is handed from one path to the other between steps, and for a parameter big
/// enough to be split across threads.
#[test]
fn host_optimizer_step_matches_tensor_step() {
    let base = OptimizerConfig { lr: 0.05, ..Default::default() };
    let kinds = [
        OptimizerConfig { kind: OptimKind::Adam, beta1: 0.5, beta2: 0.9, ..base.clone() },
        OptimizerConfig { kind: OptimKind::Sgd, momentum: 0.9, ..base.clone() },
        OptimizerConfig { kind: OptimKind::Sgd, momentum: 0.0, ..base.clone() },
        OptimizerConfig { kind: OptimKind::Rmsprop, momentum: 0.5, ..base.clone() },
        OptimizerConfig { kind: OptimKind::Rmsprop, momentum: 0.0, ..base.clone() },
    ];
    for n in [3usize, 70_001] {
        let wave = |phase: f32| -> Vec<f32> { (0..n).map(|i| (i as f32 * 0.37 + phase).sin()).collect() };
        let p0 = wave(0.0);
        for c in &kinds {
            let (mut tensor_only, mut mixed) = (Optimizer::new(c.clone()), Optimizer::new(c.clone()));
            let mut pt = param(&p0);
            let mut pm = vec![p0.clone()];
            for t in 0..4 {
                let g = wave(1.0 + t as f32);
                pt = tensor_only.step(pt, param(&g));
                if t % 2 == 0 {
                    mixed.step_host(pm.iter_mut().collect(), &[g]);
                } else {
                    pm = vec![to_vec(mixed.step(param(&pm[0]), param(&g)).remove(0))];
                }
            }
            let (want, got) = (to_vec(pt.remove(0)), &pm[0]);
            let moved = want.iter().zip(&p0).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(moved > 1e-3, "{:?}: the parameters moved ({moved})", c.kind);
            let err = want.iter().zip(got).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(err < 1e-5, "{:?} (momentum {}, n = {n}): host and tensor updates differ by {err}", c.kind, c.momentum);
        }
    }
}

#[test]
fn optimizers_follow_pytorch_update_rules() {
    let p0 = [1.0f32, -2.0];
    let grads = [[0.5f32, -1.0], [0.25, 0.5]];
    let lr = 0.1f64;
    // Adam with bias correction.
    let c = OptimizerConfig { kind: OptimKind::Adam, lr: lr as f32, beta1: 0.5, beta2: 0.9, eps: 1e-8, ..Default::default() };
    let mut opt = Optimizer::new(c);
    let mut p = param(&p0);
    let (mut m, mut v, mut want) = ([0f64; 2], [0f64; 2], [p0[0] as f64, p0[1] as f64]);
    for (t, g) in grads.iter().enumerate() {
        p = opt.step(p, param(g));
        for i in 0..2 {
            m[i] = 0.5 * m[i] + 0.5 * g[i] as f64;
            v[i] = 0.9 * v[i] + 0.1 * (g[i] as f64).powi(2);
            let mh = m[i] / (1.0 - 0.5f64.powi(t as i32 + 1));
            let vh = v[i] / (1.0 - 0.9f64.powi(t as i32 + 1));
            want[i] -= lr * mh / (vh.sqrt() + 1e-8);
        }
    }
    let got = to_vec(p[0].clone());
    for i in 0..2 {
        assert!((got[i] as f64 - want[i]).abs() < 1e-6, "adam {i}: {} vs {}", got[i], want[i]);
    }
    // SGD with momentum, no dampening: buf = μ·buf + g.
    let c = OptimizerConfig { kind: OptimKind::Sgd, lr: lr as f32, momentum: 0.9, ..Default::default() };
    let mut opt = Optimizer::new(c);
    let mut p = param(&p0);
    for g in &grads {
        p = opt.step(p, param(g));
    }
    let got = to_vec(p[0].clone());
    for i in 0..2 {
        let b1 = grads[0][i] as f64;
        let b2 = 0.9 * b1 + grads[1][i] as f64;
        let want = p0[i] as f64 - lr * b1 - lr * b2;
        assert!((got[i] as f64 - want).abs() < 1e-6, "sgd {i}");
    }
    // RMSProp (PyTorch: no momentum by default).
    let c = OptimizerConfig { kind: OptimKind::Rmsprop, lr: lr as f32, alpha: 0.99, eps: 1e-8, ..Default::default() };
    let mut opt = Optimizer::new(c);
    let mut p = param(&p0);
    let (mut sq, mut want) = ([0f64; 2], [p0[0] as f64, p0[1] as f64]);
    for g in &grads {
        p = opt.step(p, param(g));
        for i in 0..2 {
            sq[i] = 0.99 * sq[i] + 0.01 * (g[i] as f64).powi(2);
            want[i] -= lr * g[i] as f64 / (sq[i].sqrt() + 1e-8);
        }
    }
    let got = to_vec(p[0].clone());
    for i in 0..2 {
        assert!((got[i] as f64 - want[i]).abs() < 1e-5, "rmsprop {i}: {} vs {}", got[i], want[i]);
    }
}

fn small_config(seed: u64) -> Config {
    let mut c = Config::default();
    c.set("generator.width=32").unwrap();
    c.set("discriminator.width=32").unwrap();
    c.set("train.batch_size=64").unwrap();
    c.set("train.eval_samples=500").unwrap();
    c.train.seed = seed;
    c
}

fn trainer(cfg: Config) -> Trainer {
    Trainer::new(cfg, select(BackendChoice::Cpu, false).unwrap()).unwrap()
}

#[test]
fn same_seed_replays_bit_for_bit() {
    let run = |seed| {
        let mut c = small_config(seed);
        c.set("reg.r1=1").unwrap();
        c.set("noise.instance_std=0.1").unwrap();
        let mut t = trainer(c);
        for _ in 0..30 {
            t.step().unwrap();
        }
        let (m, samples) = t.evaluate().unwrap();
        (m, samples)
    };
    let (m1, s1) = run(3);
    let (m2, s2) = run(3);
    assert_eq!(s1, s2);
    assert_eq!(m1.timeless(), m2.timeless());
    let (_, s3) = run(4);
    assert_ne!(s1, s3, "a different seed gives a different run");
}

#[test]
fn mid_run_change_applies_without_touching_weights() {
    let mut a = trainer(small_config(1));
    let mut b = trainer(small_config(1));
    for _ in 0..10 {
        a.step().unwrap();
        b.step().unwrap();
    }
    let before = a.weights();
    assert_eq!(before, b.weights());
    let mut changed = a.config().clone();
    changed.set("loss.kind=wgan-gp").unwrap();
    changed.set("schedule.d_steps=3").unwrap();
    changed.set("noise.instance_std=0.2").unwrap();
    changed.set("optim.d.lr=1e-4").unwrap();
    let rebuilt = a.set_config(changed).unwrap();
    assert!(!rebuilt, "an objective change must not rebuild the networks");
    assert_eq!(a.weights(), before, "weights untouched by the change");
    assert_eq!(a.steps_done(), 10);
    a.step().unwrap();
    b.step().unwrap();
    assert_ne!(a.weights(), b.weights(), "the new objective applied at the next step");
    // A new architecture rebuilds and says so.
    let mut arch = a.config().clone();
    arch.set("discriminator.width=16").unwrap();
    assert!(a.set_config(arch).unwrap());
    assert_eq!(a.steps_done(), 0);
}

#[test]
fn optimizer_state_survives_lr_change_but_not_kind_change() {
    // Same state, then an LR change: Adam's first update after the change uses the kept
    // moments, so it differs from a fresh Adam's first update.
    let c = OptimizerConfig { kind: OptimKind::Adam, lr: 0.1, ..Default::default() };
    let mut kept = Optimizer::new(c.clone());
    let p = kept.step(param(&[0.0, 0.0]), param(&[1.0, -1.0]));
    kept.set_config(OptimizerConfig { lr: 0.05, ..c.clone() });
    let after_kept = to_vec(kept.step(p.clone(), param(&[-1.0, 1.0]))[0].clone());
    let mut fresh = Optimizer::new(OptimizerConfig { lr: 0.05, ..c.clone() });
    let after_fresh = to_vec(fresh.step(p.clone(), param(&[-1.0, 1.0]))[0].clone());
    assert_ne!(after_kept, after_fresh);
    // A kind change resets: it behaves like a fresh optimizer of the new kind.
    let mut switched = kept.clone();
    let sgd = OptimizerConfig { kind: OptimKind::Sgd, lr: 0.05, momentum: 0.9, ..c };
    switched.set_config(sgd.clone());
    let a = to_vec(switched.step(p.clone(), param(&[-1.0, 1.0]))[0].clone());
    let b = to_vec(Optimizer::new(sgd).step(p, param(&[-1.0, 1.0]))[0].clone());
    assert_eq!(a, b);
}

#[test]
fn every_loss_and_regulariser_trains_finitely() {
    for loss in ["minimax", "ns", "ls", "hinge", "wgan", "wgan-gp"] {
        let mut c = small_config(2);
        c.set(&format!("loss.kind={loss}")).unwrap();
        c.set("reg.r1=0.5").unwrap();
        c.set("reg.r2=0.5").unwrap();
        c.set("reg.dragan=0.5").unwrap();
        c.set("discriminator.spectral_norm=true").unwrap();
        c.set("discriminator.minibatch_stddev=true").unwrap();
        c.set("discriminator.minibatch_kernels=4").unwrap();
        c.set("discriminator.pack=2").unwrap();
        c.set("schedule.unroll=2").unwrap();
        c.set("schedule.mode=simultaneous").unwrap();
        let mut t = trainer(c);
        let w0 = t.weights();
        for _ in 0..5 {
            t.step().unwrap();
        }
        let (m, _) = t.evaluate().unwrap();
        assert!(m.updates.d_loss.is_finite() && m.updates.g_loss.is_finite(), "{loss}: {m:?}");
        assert!(m.d_input_grad_norm.is_finite() && m.d_input_grad_norm > 0.0, "{loss}");
        assert_ne!(t.weights().0, w0.0, "{loss}: G did not move");
        assert_ne!(t.weights().1, w0.1, "{loss}: D did not move");
    }
}

#[test]
fn wgan_clipping_bounds_every_weight() {
    let mut c = small_config(5);
    c.set("loss.kind=wgan").unwrap();
    c.set("loss.clip=0.01").unwrap();
    let mut t = trainer(c);
    t.step().unwrap();
    let (_, d) = t.weights();
    assert!(d.iter().flatten().all(|w| w.abs() <= 0.01 + 1e-7));
    assert!(d.iter().flatten().any(|w| w.abs() > 0.009), "clip bound is reached");
}

#[test]
fn divergence_is_reported_not_panicked() {
    let mut c = small_config(6);
    c.set("optim.g.kind=sgd").unwrap();
    c.set("optim.d.kind=sgd").unwrap();
    c.set("optim.g.lr=1e30").unwrap();
    c.set("optim.d.lr=1e30").unwrap();
    c.set("loss.kind=wgan").unwrap();
    c.set("loss.clip=1e30").unwrap();
    let mut t = trainer(c);
    let mut err = None;
    for _ in 0..50 {
        if let Err(e) = t.step().and_then(|_| t.evaluate().map(|_| ())) {
            err = Some(e);
            break;
        }
    }
    let msg = err.expect("training at lr 1e30 diverges").to_string();
    assert!(msg.contains("not finite"), "{msg}");
}

#[test]
fn instance_noise_anneals_to_its_floor() {
    let mut c = small_config(7);
    c.set("noise.instance_std=0.5").unwrap();
    c.set("noise.anneal=linear").unwrap();
    c.set("noise.anneal_steps=10").unwrap();
    c.set("noise.floor=0.1").unwrap();
    let mut t = trainer(c);
    assert_eq!(t.instance_std(), 0.5);
    for _ in 0..5 {
        t.step().unwrap();
    }
    assert!((t.instance_std() - 0.3).abs() < 1e-6);
    for _ in 0..10 {
        t.step().unwrap();
    }
    assert!((t.instance_std() - 0.1).abs() < 1e-6);
}

/// Slow motion runs the very updates of a full step: in simultaneous mode both gradients come
/// from the same weights whether the step runs whole or one update at a time.
#[test]
fn sub_steps_replay_full_steps_in_both_modes() {
    for mode in ["alternating", "simultaneous"] {
        for engine in [ganscope::engine::EngineChoice::Host, ganscope::engine::EngineChoice::Burn] {
            let mut c = small_config(12);
            c.set(&format!("schedule.mode={mode}")).unwrap();
            c.set("schedule.d_steps=2").unwrap();
            let new = || Trainer::new(c.clone(), select(BackendChoice::Cpu, false).unwrap().with_engine(engine)).unwrap();
            let (mut whole, mut parts) = (new(), new());
            for _ in 0..3 {
                whole.step().unwrap();
            }
            let mut phases = Vec::new();
            for _ in 0..9 {
                phases.push(parts.sub_step().unwrap());
            }
            assert_eq!(parts.steps_done(), 3);
            assert_eq!(whole.weights(), parts.weights(), "{mode} on {engine:?}: sub-steps and steps agree");
            use ganscope::trainer::Phase::{UpdatingD as D, UpdatingG as G};
            let want = if mode == "alternating" { [D, D, G] } else { [D, G, D] };
            assert_eq!(phases[..3], want, "{mode}: the order of updates in a step");
        }
    }
    // And simultaneous differs from alternating (G's gradient from the old D, not the new).
    let run = |mode: &str| {
        let mut c = small_config(12);
        c.set(&format!("schedule.mode={mode}")).unwrap();
        let mut t = trainer(c);
        t.step().unwrap();
        t.weights().0
    };
    assert_ne!(run("alternating"), run("simultaneous"));
}

/// `auto` with a GPU races it against the CPU and trains on the faster, keeping both
/// figures. There is no real GPU here, so the race is run against Mesa's software adapter
/// (lavapipe) when it is installed: it must lose to the CPU fast path.
#[test]
fn a_gpu_is_raced_against_the_cpu_and_the_faster_trains() {
    let Ok(mut gpu) = select(BackendChoice::Wgpu, true) else {
        assert!(std::env::var_os("CI").is_none(), "CI installs a Vulkan driver (mesa-vulkan-drivers)");
        println!("SKIPPED: no wgpu adapter");
        return;
    };
    gpu.race_cpu = true;
    let mut c = small_config(3);
    c.set("train.batch_size=256").unwrap();
    let t = Trainer::new(c.clone(), gpu).unwrap();
    let race = t.backend().backend_choice.clone().expect("the race is recorded");
    assert!(race.cpu_steps_per_second > 0.0 && race.gpu_steps_per_second > 0.0, "{race:?}");
    let faster = if race.gpu_steps_per_second >= race.cpu_steps_per_second { "wgpu" } else { "cpu" };
    assert_eq!(race.chosen, faster);
    assert_eq!(t.backend().backend, faster, "the run trains where it was faster");
    assert_eq!(faster, "cpu", "a software GPU loses to the CPU fast path: {race:?}");
    // A rebuild races again from the GPU it was given.
    let mut t = t;
    let mut arch = c;
    arch.set("discriminator.width=8").unwrap();
    assert!(t.set_config(arch).unwrap());
    assert!(t.backend().backend_choice.is_some() && t.asked().race_cpu);
}

/// A D with minibatch discrimination (B kernels of dimension C) and, optionally, the stddev.
fn disc_with_kernels(activation: Activation, stddev: bool, seed: u64) -> Mlp {
    let cfg = DiscriminatorConfig { shape: NetShape { activation, depth: 2, width: 6, ..Default::default() }, ..Default::default() };
    let features = BatchFeatures { stddev, kernels: 3, kernel_dim: 2 };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut d = Mlp::new(&cfg.shape, 2, 1, false, features, &mut rng, &cpu());
    // Salimans et al.'s T starts small (N(0, 0.05²)); larger entries make the kernels matter.
    let t = to_vec(d.layers[3].w.clone()).iter().map(|v| v * 40.0).collect::<Vec<_>>();
    let dims = d.layers[3].w.dims();
    d.layers[3].w = Tensor::from_data(TensorData::new(t, dims), &cpu());
    d.layers[3].b = Tensor::from_data(TensorData::new(vec![0.1f32, -0.2, 0.3], [1, 3]), &cpu());
    d
}

/// The forward against Salimans et al.'s definition written out on the host:
/// o_b(x_i) = Σ_{j≠i} exp(−Σ_c |M_{i,b,c} − M_{j,b,c}|) + bias_b, M = f(x)·T, fed with f(x) to
/// the last layer.
#[test]
fn minibatch_discrimination_follows_its_definition() {
    let d = disc_with_kernels(Activation::Tanh, false, 3);
    let n = 7;
    let pts = points(n, 9);
    let out = to_vec(d.forward_with(&d.layers, Tensor::from_data(TensorData::new(pts.clone(), [n, 2]), &cpu()), true).out);
    let p: Vec<(Vec<f32>, Vec<f32>, [usize; 2])> =
        d.layers.iter().map(|l| (to_vec(l.w.clone()), to_vec(l.b.clone()), l.w.dims())).collect();
    let affine = |x: &[f32], (w, b, [fi, fo]): &(Vec<f32>, Vec<f32>, [usize; 2])| -> Vec<f32> {
        (0..*fo).map(|o| b.get(o).copied().unwrap_or(0.0) + (0..*fi).map(|i| x[i] * w[i * fo + o]).sum::<f32>()).collect()
    };
    let hidden: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            let h1: Vec<f32> = affine(&pts[2 * i..2 * i + 2], &p[0]).iter().map(|a| a.tanh()).collect();
            affine(&h1, &p[1]).iter().map(|a| a.tanh()).collect()
        })
        .collect();
    let (t, bias) = (&p[3], &p[3].1);
    let m: Vec<Vec<f32>> = hidden.iter().map(|h| affine(h, &(t.0.clone(), vec![], t.2))).collect();
    let mut diff_seen = false;
    for i in 0..n {
        let o: Vec<f32> = (0..3)
            .map(|b| {
                bias[b]
                    + (0..n)
                        .filter(|&j| j != i)
                        .map(|j| (-(0..2).map(|c| (m[i][2 * b + c] - m[j][2 * b + c]).abs()).sum::<f32>()).exp())
                        .sum::<f32>()
            })
            .collect();
        diff_seen |= o.iter().zip(bias).any(|(a, b)| (a - b).abs() > 1e-2);
        let last_in: Vec<f32> = hidden[i].iter().chain(&o).copied().collect();
        let want = affine(&last_in, &p[2])[0];
        assert!((out[i] - want).abs() < 1e-4, "row {i}: {} vs {want}", out[i]);
    }
    assert!(diff_seen, "the kernels contribute something");
}

/// A collapsed batch (every row the same point) has the largest kernel sums: each row meets
/// n − 1 copies of itself at distance 0.
#[test]
fn a_collapsed_batch_maximises_the_kernel_sums() {
    let mut d = disc_with_kernels(Activation::LeakyRelu, false, 4);
    // Bias 0 and a last layer that reads only the sums, so the output is Σ_b o_b.
    d.layers[3].b = Tensor::zeros([1, 3], &cpu());
    let dims = d.layers[2].w.dims();
    let w: Vec<f32> = (0..dims[0]).map(|i| if i >= dims[0] - 3 { 1.0 } else { 0.0 }).collect();
    d.layers[2].w = Tensor::from_data(TensorData::new(w, dims), &cpu());
    d.layers[2].b = Tensor::zeros([1, 1], &cpu());
    let n = 16;
    let judge = |pts: Vec<f32>| to_vec(d.forward_with(&d.layers, Tensor::from_data(TensorData::new(pts, [n, 2]), &cpu()), true).out);
    let collapsed = judge([0.3f32, -0.4].repeat(n));
    let spread = judge(points(n, 5));
    assert!(collapsed.iter().all(|v| (v - 3.0 * (n - 1) as f32).abs() < 1e-3), "{collapsed:?}");
    assert!(spread.iter().all(|&v| v < 3.0 * (n - 1) as f32 - 0.5), "{spread:?}");
}

/// ∂D/∂x by hand through the kernels (the reference batch held fixed) against autodiff.
#[test]
fn input_gradient_through_minibatch_discrimination_matches_autodiff() {
    for act in [Activation::Tanh, Activation::LeakyRelu] {
        for stddev in [false, true] {
            let mut d = disc_with_kernels(act, stddev, 8);
            // The reference: a batch's M, as a D update leaves it.
            let batch = Tensor::from_data(TensorData::new(points(40, 1), [40, 2]), &cpu());
            let m = d.forward_with(&d.layers, batch, true).kernel_features().unwrap();
            d.set_kernel_reference(m);
            let n = 300; // more than one chunk of rows
            let pts = points(n, 2);
            let hand =
                to_vec(d.input_grad(&d.forward_with(&d.layers, Tensor::from_data(TensorData::new(pts.clone(), [n, 2]), &cpu()), false)));
            let x = Tensor::<2>::from_data(TensorData::new(pts.clone(), [n, 2]), &cpu().autodiff()).require_grad();
            let grads = d.forward_with(&d.layers, x.clone(), false).out.sum().backward();
            let auto = to_vec(x.grad(&grads).expect("x is tracked"));
            let e = rel_err(&hand, &auto);
            assert!(e < 1e-4, "{act:?} stddev={stddev}: relative error {e}");
            // Without the kernels' path the gradient would differ.
            let mut plain = d.clone();
            plain.kernels.as_mut().unwrap().reference = None;
            let without = to_vec(plain.input_grad(&plain.forward_with(
                &plain.layers,
                Tensor::from_data(TensorData::new(pts, [n, 2]), &cpu()),
                false,
            )));
            assert!(rel_err(&without, &auto) > 1e-2, "{act:?}: the kernels shape the gradient");
        }
    }
}
