//! The CLI contract: presets, config, train (CSV + JSON + samples), eval, and clear errors.

use std::process::Command;

fn ganscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ganscope"));
    c.env("GANSCOPE_NO_GPU_PROBE", "1");
    c
}

fn run_ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn run_err(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn presets_and_config_list_everything() {
    let list = run_ok(ganscope().arg("presets"));
    assert!(list.contains("collapse") && list.contains("gan-toy-wgan-gp"));
    let toml = run_ok(ganscope().args(["config", "--preset", "wgan-gp", "--set", "noise.instance_std=0.25"]));
    for key in ["kind = \"wgan-gp\"", "instance_std = 0.25", "d_steps = 5", "batch_size", "[optim.g]", "[discriminator]"] {
        assert!(toml.contains(key), "missing `{key}` in\n{toml}");
    }
}

#[test]
fn train_writes_csv_summary_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, json, samples) = (dir.path().join("m.csv"), dir.path().join("s.json"), dir.path().join("x.csv"));
    run_ok(ganscope().args(["train", "--preset", "ns-ring", "--steps", "40", "--eval-every", "10", "--seed", "3"]).args([
        "--set",
        "train.eval_samples=300",
        "--backend",
        "cpu",
        "--metrics-out",
        csv.to_str().unwrap(),
        "--summary-out",
        json.to_str().unwrap(),
        "--samples-out",
        samples.to_str().unwrap(),
    ]));
    let rows: Vec<String> = std::fs::read_to_string(&csv).unwrap().lines().map(String::from).collect();
    assert_eq!(rows.len(), 1 + 4, "header + one row per evaluation");
    assert!(rows[0].starts_with("step,seconds,modes_covered"));
    assert!(rows[4].starts_with("40,"));
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in [
        "steps",
        "seconds",
        "steps_per_second",
        "backend",
        "adapter",
        "config",
        "modes_covered",
        "modes_total",
        "hq_fraction",
        "reverse_kl",
        "kl_grid",
        "js_grid",
        "per_mode_counts",
        "d_loss",
        "g_loss",
    ] {
        assert!(s.get(key).is_some(), "summary lacks `{key}`");
    }
    assert_eq!(s["steps"], 40);
    assert_eq!(s["backend"], "cpu");
    assert_eq!(s["modes_total"], 8);
    assert_eq!(s["per_mode_counts"].as_array().unwrap().len(), 8);
    assert_eq!(std::fs::read_to_string(&samples).unwrap().lines().count(), 1 + 300);
    // The samples score the same through `eval` as in the summary.
    let score = run_ok(ganscope().args(["eval", "--samples", samples.to_str().unwrap(), "--preset", "ns-ring", "--set", "train.seed=3"]));
    let e: serde_json::Value = serde_json::from_str(&score).unwrap();
    assert_eq!(e["modes_covered"], s["modes_covered"]);
    assert_eq!(e["hq_fraction"], s["hq_fraction"]);
    // …against the same reference set of reals: the same grid divergences, to the last digit.
    assert_eq!(e["kl_grid"], s["kl_grid"]);
    assert_eq!(e["js_grid"], s["js_grid"]);
    assert_eq!(s["engine"], "host");
}

#[test]
fn same_seed_same_summary_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let go = |name: &str| {
        let p = dir.path().join(name);
        run_ok(ganscope().args([
            "train",
            "--preset",
            "r1",
            "--steps",
            "30",
            "--seed",
            "9",
            "--backend",
            "cpu",
            "--set",
            "train.eval_samples=500",
            "--metrics-out",
            p.to_str().unwrap(),
        ]));
        // Everything but the wall-clock columns.
        let text = std::fs::read_to_string(p).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let timed = |i: usize| matches!(header[i], "seconds" | "sample_ms_per_1000");
        text.lines()
            .map(|l| l.split(',').enumerate().filter(|(i, _)| !timed(*i)).map(|(_, v)| v.to_string()).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    assert_eq!(go("a.csv"), go("b.csv"));
}

#[test]
fn bad_input_names_the_problem() {
    let e = run_err(ganscope().args(["config", "--set", "loss.kindd=ns"]));
    assert!(e.contains("loss.kindd"), "{e}");
    let e = run_err(ganscope().args(["config", "--set", "data.kind=hexagon"]));
    assert!(e.contains("data.kind"), "{e}");
    let e = run_err(ganscope().args(["config", "--preset", "nope"]));
    assert!(e.contains("nope"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x,y\n1,2\n3,oops\n").unwrap();
    let e = run_err(ganscope().args(["eval", "--samples", bad.to_str().unwrap()]));
    assert!(e.contains("line 3") && e.contains("oops"), "{e}");
    let e = run_err(ganscope().args([
        "train",
        "--steps",
        "1",
        "--set",
        "data.kind=points",
        "--set",
        &format!("data.points_file={}", bad.display()),
    ]));
    assert!(e.contains("line 3"), "{e}");
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[loss]\nkind = \"ns\"\nbogus = 1\n").unwrap();
    let e = run_err(ganscope().args(["config", "--config", cfg.to_str().unwrap()]));
    assert!(e.contains("bogus"), "{e}");
    let e = run_err(ganscope().args(["bench", "--steps", "1", "--rss-every", "0"]));
    assert!(e.contains("--rss-every"), "{e}");
}

#[test]
fn forced_wgpu_without_adapter_is_an_error_not_a_panic() {
    // With no Vulkan driver visible, `--backend wgpu` must fail cleanly; with one (lavapipe),
    // it may succeed. Either way: no panic message, a clear line on failure.
    let out = ganscope()
        .env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("WGPU_BACKEND", "vulkan")
        .args(["train", "--steps", "1", "--backend", "wgpu", "--set", "train.eval_samples=100"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    if !out.status.success() {
        assert!(err.contains("wgpu"), "{err}");
    }
}

#[test]
fn closed_stdout_ends_quietly_not_with_a_panic() {
    // `ganscope presets | head -0`: the reader is gone before the first line is written.
    let cases: [&[&str]; 3] = [&["presets"], &["config", "--preset", "r1"], &["eval", "--samples", "/nonexistent.csv"]];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = ganscope().args(args).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args[0] == "eval" {
            // A real error is still reported, pipe or not.
            assert!(!out.status.success() && stderr.contains("nonexistent.csv"), "{args:?}: {stderr}");
        } else {
            assert!(out.status.success(), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn bench_memory_stays_flat_within_a_run() {
    // A leak of even one activation buffer a step (128 KiB) would add ~250 MiB here.
    let out = ganscope()
        .args(["bench", "--preset", "ns-ring", "--steps", "3000", "--warmup", "200", "--rss-every", "1000", "--backend", "cpu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rss: Vec<f64> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split("RSS ").nth(1)?.trim_end_matches(" MiB").parse().ok())
        .collect();
    assert_eq!(rss.len(), 3, "expected an RSS line every 1000 steps");
    let (first, max) = (rss[0], rss.iter().copied().fold(f64::MIN, f64::max));
    assert!(max <= first * 1.10, "RSS grew from {first:.1} to {max:.1} MiB: {rss:?}");
}

/// `bench --products-out`: one step's matrix products, one CSV row each, their FLOP as printed;
/// the burn engine runs none of the host's and says so.
#[test]
fn bench_logs_a_steps_products() {
    use ganscope::engine::host_ops::Product;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("products.csv");
    let out = run_ok(
        ganscope().args(["bench", "--preset", "ns-ring", "--steps", "1", "--warmup", "0", "--backend", "cpu", "--products-out"]).arg(&csv),
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(Product::CSV_HEADER));
    let products: Vec<Product> = lines.map(|l| Product::parse(l).unwrap_or_else(|| panic!("row {l:?}"))).collect();
    // 2→128→128→128→{2,1}, batch 256: a D update and a G update, forward and backward.
    assert!(products.iter().any(|p| (p.m, p.n, p.k) == (128, 128, 128) && p.in_chunk), "{products:?}");
    let gflop: f64 = products.iter().map(|p| 2.0 * (p.m * p.n * p.k) as f64).sum::<f64>() / 1e9;
    assert!(out.contains(&format!("{} products, {gflop:.3} GFLOP a step", products.len())), "{out}");
    let e = run_err(
        ganscope()
            .args([
                "bench",
                "--preset",
                "ns-ring",
                "--steps",
                "1",
                "--warmup",
                "0",
                "--backend",
                "cpu",
                "--engine",
                "burn",
                "--products-out",
            ])
            .arg(dir.path().join("none.csv")),
    );
    assert!(e.contains("ran no host-engine matrix product"), "{e}");
    assert!(!dir.path().join("none.csv").exists());
}

/// Where `XDG_RUNTIME_DIR` is unset (SSH, containers, CI), the GPU probe's graphics stack
/// complains about it on stderr before a run that then works: the user must not read "error".
#[test]
fn the_gpu_probe_is_silent_without_xdg_runtime_dir() {
    let out = Command::new(env!("CARGO_BIN_EXE_ganscope"))
        .args(["bench", "--preset", "ns-ring", "--steps", "5", "--warmup", "0"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("GANSCOPE_NO_GPU_PROBE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("XDG_RUNTIME_DIR"), "the probe's noise reached the user:\n{err}");
    assert!(!err.to_lowercase().contains("error"), "{err}");
}

/// `ganscope dirac`: JSON with θ, ψ and the norm; the table's verdicts per method; clear errors.
#[test]
fn dirac_prints_the_end_point_and_the_convergence_table() {
    let gp: serde_json::Value =
        serde_json::from_str(&run_ok(ganscope().args(["dirac", "--method", "gp", "--update", "sim", "--json"]))).unwrap();
    let norm = gp["norm"].as_f64().unwrap();
    assert!(norm < 1e-3, "the zero-centred penalty converges: {gp}");
    let (t, p) = (gp["theta"].as_f64().unwrap(), gp["psi"].as_f64().unwrap());
    assert!((t.hypot(p) - norm).abs() < 1e-12);
    let gan: serde_json::Value =
        serde_json::from_str(&run_ok(ganscope().args(["dirac", "--method", "gan", "--update", "alt", "--d-steps", "5", "--json"])))
            .unwrap();
    assert!(gan["norm"].as_f64().unwrap() > 0.5 && gan["converged"] == false, "{gan}");
    // A smaller γ and step: still converging, but slower than the default γ.
    let slow: serde_json::Value =
        serde_json::from_str(&run_ok(ganscope().args(["dirac", "--method", "gp", "--gamma", "0.05", "--h", "0.1", "--json"]))).unwrap();
    assert!(slow["norm"].as_f64().unwrap() > norm);

    let table = run_ok(ganscope().args(["dirac", "--table"]));
    let row = |name: &str| table.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no `{name}` row in\n{table}")).to_string();
    for name in ["gan ", "wgan ", "wgan-gp"] {
        assert_eq!(row(name).matches("NOT converged").count(), 3, "{}", row(name));
    }
    for name in ["instance-noise", "gp (γ 0.3)", "gp (γ 1)", "nsgan-gp"] {
        assert!(!row(name).contains("NOT") && row(name).matches("converged").count() == 3, "{}", row(name));
    }
    assert!(run_ok(ganscope().args(["dirac", "--list"])).contains("dirac-gp-critical"));

    assert!(run_err(ganscope().args(["dirac", "--method", "gann"])).contains("unknown Dirac-GAN method `gann`"));
    assert!(run_err(ganscope().args(["dirac", "--method", "gan", "--gamma", "1"])).contains("--gamma has no effect"));
    assert!(run_err(ganscope().args(["dirac", "--method", "gan", "--h=-1"])).contains("--h must be a positive number"));
    assert!(run_err(ganscope().args(["--dirac", "nope"])).contains("unknown Dirac preset `nope`"));
}

/// `model.kind = diffusion`: the summary and CSV say what a sample costs (NFE = the sampler's
/// steps, and the time per 1,000); the burn engine refuses it by name.
#[test]
fn diffusion_reports_its_network_evaluations_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, json) = (dir.path().join("m.csv"), dir.path().join("s.json"));
    let base = ["train", "--preset", "ns-ring", "--set", "model.kind=diffusion", "--steps", "20", "--eval-every", "10", "--backend", "cpu"];
    run_ok(ganscope().args(base).args(["--set", "model.sampler=ddim", "--set", "model.ddim_steps=7"]).args([
        "--metrics-out",
        csv.to_str().unwrap(),
        "--summary-out",
        json.to_str().unwrap(),
    ]));
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(s["nfe_per_sample"], 7, "{s}");
    assert!(s["sample_ms_per_1000"].as_f64().unwrap() > 0.0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "nfe_per_sample").unwrap();
    assert!(text.lines().skip(1).all(|l| l.split(',').nth(col) == Some("7")), "{text}");
    run_ok(ganscope().args(base).args(["--summary-out", json.to_str().unwrap()]));
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(s["nfe_per_sample"], 100, "ancestral sampling: T = 100 steps");
    let gan: serde_json::Value = {
        run_ok(ganscope().args([
            "train",
            "--preset",
            "ns-ring",
            "--steps",
            "5",
            "--backend",
            "cpu",
            "--summary-out",
            json.to_str().unwrap(),
        ]));
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
    };
    assert_eq!(gan["nfe_per_sample"], 1);
    assert!(run_err(ganscope().args(base).args(["--engine", "burn"])).contains("host engine only"));
    assert!(run_err(ganscope().args(base).args(["--set", "model.ddim_steps=500"])).contains("model.ddim_steps"));
}

/// Share strings: `config --share` prints one, `config --share STRING` gives the same TOML back,
/// and a damaged or foreign string is an error naming the stage that failed.
#[test]
fn share_strings_round_trip_and_damage_is_named() {
    let toml = run_ok(ganscope().args(["config", "--preset", "wgan-gp", "--set", "train.seed=42"]));
    let s = run_ok(ganscope().args(["config", "--preset", "wgan-gp", "--set", "train.seed=42", "--share"]));
    let s = s.trim();
    assert!(s.starts_with("gs1:") && s.lines().count() == 1, "{s}");
    assert_eq!(run_ok(ganscope().args(["config", "--share", s])), toml);
    assert!(run_err(ganscope().args(["config", "--share", "hello"])).contains("must start with `gs1:`"));
    assert!(run_err(ganscope().args(["config", "--share", &s[..s.len() - 9]])).contains("damaged"));
    assert!(run_err(ganscope().args(["config", "--share", &s.replacen("gs1:", "gs2:", 1)])).contains("version `gs2:`"));
    assert!(run_err(ganscope().args(["config", "--preset", "r1", "--share", s])).contains("do not apply"));
    assert!(run_err(ganscope().args(["--share", "gs1:!!"])).contains("not URL-safe base64"));
}

/// A 2 × 2 grid × 2 seeds writes 8 runs and 4 summary rows and a plot; a second call runs
/// nothing new; `--emit-jobs` lines run standalone and `--collect` gives the same runs.csv.
#[test]
fn sweep_runs_a_grid_resumes_and_collects_emitted_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let args = |out: &std::path::Path| {
        let mut v: Vec<String> = ["sweep", "--preset", "ns-ring", "--set", "train.eval_samples=300", "--grid", "loss.kind=ns,hinge"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(
            ["--grid", "optim.d.lr=1e-3,1e-4", "--seeds", "2", "--steps", "30", "--jobs", "2", "--backend", "cpu", "--out"]
                .map(String::from),
        );
        v.push(out.display().to_string());
        v
    };
    let o = ganscope().args(args(&out)).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("8 runs (4 grid points × 2 seeds), 0 already done"), "{err}");
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 8, "{runs}");
    assert!(runs.starts_with("loss.kind,optim.d.lr,seed,modes_covered,"));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 4, "{summary}");
    let png = image::open(out.join("plot.png")).unwrap();
    assert!(png.width() >= 600 && png.height() >= 400);

    // Again: nothing new runs, and the same rows come out (wall-clock columns aside).
    let o = ganscope().args(args(&out)).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("8 already done"), "{}", String::from_utf8_lossy(&o.stderr));
    let strip = |csv: &str| csv.lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&std::fs::read_to_string(out.join("runs.csv")).unwrap()), strip(&runs));

    // The same sweep as emitted command lines, run one by one as a scheduler would.
    let out2 = dir.path().join("sw2");
    let jobs = dir.path().join("jobs.txt");
    run_ok(ganscope().args(args(&out2)).args(["--emit-jobs", jobs.to_str().unwrap()]));
    let lines = std::fs::read_to_string(&jobs).unwrap();
    assert_eq!(lines.lines().count(), 8);
    for line in lines.lines() {
        let st = std::process::Command::new("sh").args(["-c", line]).env("GANSCOPE_NO_GPU_PROBE", "1").output().unwrap();
        assert!(st.status.success(), "{line}: {}", String::from_utf8_lossy(&st.stderr));
    }
    run_ok(ganscope().args(["sweep", "--collect", out2.to_str().unwrap()]));
    assert_eq!(strip(&std::fs::read_to_string(out2.join("runs.csv")).unwrap()), strip(&runs), "collected = run here");

    assert!(
        run_err(ganscope().args(["sweep", "--preset", "ns-ring", "--grid", "loss.kind=ns,banana", "--out", "x"])).contains("loss.kind")
    );
    assert!(run_err(ganscope().args(["sweep", "--collect", dir.path().to_str().unwrap()])).contains("not a sweep directory"));
}

/// `--save-state` then `--resume`: 60 steps straight and 30 + resume + 30 give the same
/// samples; a change that keeps the networks continues, one that does not is refused.
#[test]
fn train_saves_and_resumes_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let base = ["train", "--preset", "r1", "--seed", "4", "--backend", "cpu", "--set", "train.eval_samples=300"];
    run_ok(ganscope().args(base).args(["--steps", "60", "--samples-out", &p("straight.csv")]));
    run_ok(ganscope().args(base).args(["--steps", "30", "--save-state", &p("half.gss")]));
    run_ok(ganscope().args(["train", "--resume", &p("half.gss"), "--steps", "30", "--backend", "cpu"]).args([
        "--samples-out",
        &p("resumed.csv"),
        "--summary-out",
        &p("resumed.json"),
    ]));
    assert_eq!(std::fs::read_to_string(p("straight.csv")).unwrap(), std::fs::read_to_string(p("resumed.csv")).unwrap());
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p("resumed.json")).unwrap()).unwrap();
    assert_eq!((summary["steps"].as_u64(), summary["steps_this_run"].as_u64()), (Some(60), Some(30)), "the run's step, then this call's");
    run_ok(ganscope().args(["train", "--resume", &p("half.gss"), "--steps", "5", "--set", "loss.kind=wgan-gp", "--backend", "cpu"]));
    let e = run_err(ganscope().args(["train", "--resume", &p("half.gss"), "--steps", "5", "--set", "generator.width=32"]));
    assert!(e.contains("fresh networks (architecture)"), "{e}");
    std::fs::write(p("bad.gss"), "hello").unwrap();
    assert!(run_err(ganscope().args(["train", "--resume", &p("bad.gss")])).contains("not a ganscope state file"));
}

/// The ganscope `train` processes running a job of the sweep in `dir`.
fn sweep_jobs_running(dir: &std::path::Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else { continue };
        let words: Vec<String> = cmd.split(|&b| b == 0).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        if words.first().is_some_and(|w| w.ends_with("/ganscope"))
            && words.iter().any(|w| w == "train")
            && words.iter().any(|w| w.contains(&needle))
        {
            pids.push(pid);
        }
    }
    pids
}

/// Emitted job lines run two at a time under `xargs -P 2`, one killed mid-run, and a finished
/// summary damaged afterwards: `--collect` names the damaged file, the next `sweep` runs exactly
/// the missing and damaged runs, and every run is then present exactly once. The lines pin one
/// thread and carry the sweep's engine and backend; the Slurm script runs a line per task.
#[test]
fn a_sweep_survives_a_killed_job_and_a_damaged_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let sweep_args = |extra: &[&str]| {
        let mut c = ganscope();
        c.args(["sweep", "--preset", "ns-ring", "--set", "train.eval_samples=300", "--grid", "loss.kind=ns,hinge", "--seeds", "3"])
            .args(["--steps", "3000", "--backend", "cpu", "--engine", "host", "--out"])
            .arg(&out)
            .args(extra);
        c
    };
    let jobs = dir.path().join("jobs.txt");
    let script = dir.path().join("sweep.sbatch");
    run_ok(&mut sweep_args(&["--emit-jobs", jobs.to_str().unwrap(), "--emit-slurm", script.to_str().unwrap()]));
    let lines = std::fs::read_to_string(&jobs).unwrap();
    assert_eq!(lines.lines().count(), 6);
    for l in lines.lines() {
        for w in ["--threads 1", "--engine host", "--backend cpu", "--summary-out"] {
            assert!(l.contains(w), "`{w}` missing from {l}");
        }
    }
    let sbatch = std::fs::read_to_string(&script).unwrap();
    assert!(sbatch.contains("#SBATCH --array=0-5") && sbatch.contains("#SBATCH --cpus-per-task=1"), "{sbatch}");

    // Two at a time; the first job seen running is killed.
    let mut xargs = std::process::Command::new("sh")
        .args(["-c", "xargs -P 2 -d '\\n' -n 1 sh -c 'sh -c \"$1\"' job < \"$0\"", jobs.to_str().unwrap()])
        .env("GANSCOPE_NO_GPU_PROBE", "1")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let victim = loop {
        if let Some(&pid) = sweep_jobs_running(&out).first() {
            break pid;
        }
        assert!(started.elapsed().as_secs() < 60, "no job started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(std::process::Command::new("kill").args(["-9", &victim.to_string()]).status().unwrap().success());
    xargs.wait().unwrap();
    let summaries =
        || std::fs::read_dir(out.join("runs")).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect::<Vec<_>>();
    let finished = summaries();
    assert!(finished.len() < 6, "the killed job left no summary: {finished:?}");
    assert!(finished.iter().all(|n| n.ends_with(".json") && !n.starts_with('.')), "no temporary files left: {finished:?}");

    // A finished summary cut in half, as an older ganscope killed mid-write would leave it.
    let victim_summary = out.join("runs").join(&finished[0]);
    let text = std::fs::read_to_string(&victim_summary).unwrap();
    std::fs::write(&victim_summary, &text[..text.len() / 2]).unwrap();
    let o = ganscope().args(["sweep", "--collect", out.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains(&format!("left out {}", victim_summary.display())), "{err}");

    // The same sweep again: it runs the killed, the never-started and the damaged runs.
    let o = sweep_args(&["--jobs", "2"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains(&format!("{} already done", finished.len() - 1)), "{err}");
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut keys: Vec<String> = runs.lines().skip(1).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect();
    keys.sort();
    assert_eq!(keys, ["hinge,0", "hinge,1", "hinge,2", "ns,0", "ns,1", "ns,2"], "every run exactly once:\n{runs}");

    // The Slurm script as a task runs it: task 0 runs line 1 (again: its summary is rewritten whole).
    let line1 = lines.lines().next().unwrap();
    let o =
        std::process::Command::new("bash").arg(&script).env("SLURM_ARRAY_TASK_ID", "0").env("GANSCOPE_NO_GPU_PROBE", "1").output().unwrap();
    assert!(o.status.success(), "task 0 of {line1}: {}", String::from_utf8_lossy(&o.stderr));
    let o = std::process::Command::new("bash").arg(&script).env("SLURM_ARRAY_TASK_ID", "6").output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no job line 7"));
}

#[test]
fn a_lesson_runs_headless_shares_and_bad_files_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = run_ok(ganscope().args(["lesson", "--list"]));
    for name in ganscope::lesson::names() {
        assert!(list.contains(name), "{list}");
    }
    // Headless: the metrics CSV gains a `cue` column, the cue whose settings trained the step.
    let csv = dir.path().join("m.csv");
    let l = ganscope::lesson::load("circling").unwrap();
    run_ok(ganscope().args(["train", "--lesson", "circling", "--seed", "9", "--metrics-out"]).arg(&csv));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"cue"));
    let rows: Vec<(u64, String)> = lines
        .map(|r| {
            let cells: Vec<&str> = r.split(',').collect();
            (cells[0].parse().unwrap(), cells.last().unwrap().to_string())
        })
        .collect();
    assert_eq!(rows.last().unwrap().0, l.steps, "the lesson's length");
    for (step, cue) in &rows {
        assert_eq!(cue, &l.segment_of(*step).map(|c| c.to_string()).unwrap_or_default(), "step {step}");
    }
    assert!(rows.iter().map(|r| &r.1).collect::<std::collections::BTreeSet<_>>().len() >= 2, "more than one cue shows");
    // Share strings: a lesson's and back.
    let share = run_ok(ganscope().args(["lesson", "circling", "--share"]));
    assert_eq!(share, run_ok(ganscope().args(["lesson", "--share", "circling"])), "either order");
    assert!(share.trim().starts_with("gl1:"));
    let back = run_ok(ganscope().args(["lesson", "--share", share.trim()]));
    assert_eq!(back.trim_end(), l.text.trim_end());
    assert!(run_ok(ganscope().args(["lesson", share.trim()])).contains(&l.title));
    // A bad file: the line and the key, and nothing runs.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[lesson]\ntitle = \"x\"\npreset = \"r1\"\nseeds = [0]\nsteps = 200\n\n[[cue]]\nstep = 100\nset = [\"generator.depth=3\"]\n",
    )
    .unwrap();
    let err = run_err(ganscope().args(["train", "--lesson"]).arg(&bad).arg("--metrics-out").arg(dir.path().join("x.csv")));
    assert!(err.contains("line 9") && err.contains("generator.depth=3") && err.contains("new networks"), "{err}");
    assert!(!dir.path().join("x.csv").exists());
    let err = run_err(ganscope().args(["train", "--lesson", "no-such-lesson"]));
    assert!(err.contains("unknown lesson `no-such-lesson`"), "{err}");
}
