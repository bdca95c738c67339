//! `ganscope bench`: the training loop alone, timed (no evaluation, no surface).

use super::{Cli, ConfigArgs};
use anyhow::Result;
use clap::Args;
use ganscope::trainer::Trainer;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    #[arg(long, default_value_t = 500)]
    pub steps: u64,
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,
    /// Also log the resident memory to stderr every N timed steps (to check that a long run
    /// stays flat within one process).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rss_every: Option<u64>,
    /// After the timed steps, also time drawing the evaluation batch (`train.eval_samples`
    /// samples, with the model's sampler) this many times, and report the median as
    /// `sample_ms_per_1000` (a diffusion model's sampling cost; 0 = skip).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub sample_rounds: u32,
    /// After the timed steps, run one more with the host engine's matrix products logged,
    /// and write their shapes to this CSV (`m,n,k,a_t,b_t,in_chunk`, one row per product), for
    /// `cargo run --release --example gemm_peak -- --replay FILE` to time them alone.
    #[arg(long, value_name = "FILE")]
    pub products_out: Option<std::path::PathBuf>,
}

pub fn bench_cmd(cli: &Cli, args: &BenchArgs) -> Result<()> {
    let cfg = args.cfg.load()?;
    let compute = cli.compute.select()?;
    let info = compute.info.clone();
    let mut trainer = Trainer::new(cfg.clone(), compute)?;
    trainer.record = false;
    for _ in 0..args.warmup {
        trainer.step()?;
    }
    let t = Instant::now();
    for i in 1..=args.steps {
        trainer.step()?;
        if args.rss_every.is_some_and(|n| i.is_multiple_of(n)) {
            eprintln!("step {i}: RSS {:.1} MiB", ganscope::run::rss_mib().unwrap_or(f64::NAN));
        }
    }
    // Make sure queued device work is done before stopping the clock.
    let _ = trainer.compute().device.sync();
    let secs = t.elapsed().as_secs_f64();
    let sps = args.steps as f64 / secs;
    let rss_mib = ganscope::run::rss_mib();
    let sample_ms_per_1000 = (args.sample_rounds > 0).then(|| {
        let z = ganscope::trainer::evaluate::eval_latents(&cfg);
        let mut ms: Vec<f64> = (0..args.sample_rounds)
            .map(|_| {
                let t = Instant::now();
                let x = trainer.generate(&z);
                std::hint::black_box(x);
                t.elapsed().as_secs_f64() * 1e6 / cfg.train.eval_samples as f64
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 2]
    });
    if let Some(path) = &args.products_out {
        use ganscope::engine::host_ops::{Product, log_products};
        log_products(true);
        let step = trainer.step();
        let products = log_products(false);
        step?;
        if products.is_empty() {
            anyhow::bail!("--products-out: this step ran no host-engine matrix product (engine: {})", trainer.engine_kind().describe());
        }
        let csv: String =
            std::iter::once(Product::CSV_HEADER.to_string()).chain(products.iter().map(Product::csv)).map(|l| l + "\n").collect();
        ganscope::fsio::write_atomic(path, csv).map_err(|e| anyhow::anyhow!("--products-out {}: {e}", path.display()))?;
        let gflop: f64 = products.iter().map(|p| 2.0 * (p.m * p.n * p.k) as f64).sum::<f64>() / 1e9;
        outln!("ganscope: {} products, {gflop:.3} GFLOP a step, written to {}", products.len(), path.display());
    }
    if let Some(ms) = sample_ms_per_1000 {
        outln!("ganscope: {ms:.1} ms per 1,000 samples ({} network evaluations each)", trainer.nfe_per_sample());
    }
    outln!(
        "ganscope: {sps:.1} steps/s ({} steps in {secs:.2}s, {} — {}, {}, RSS {})",
        args.steps,
        info.backend,
        info.adapter,
        trainer.engine_kind().describe(),
        rss_mib.map_or("unknown".into(), |m| format!("{m:.1} MiB"))
    );
    outln!(
        "{}",
        serde_json::json!({
            "impl": "ganscope",
            "steps": args.steps,
            "seconds": secs,
            "steps_per_second": sps,
            "backend": info.backend,
            "adapter": info.adapter,
            "threads": rayon::current_num_threads(),
            "engine": trainer.engine_kind(),
            "batch_size": cfg.train.batch_size,
            "loss": cfg.loss.kind,
            "d_steps": cfg.schedule.d_steps,
            "rss_mib": rss_mib,
            "sample_ms_per_1000": sample_ms_per_1000,
            "nfe_per_sample": trainer.nfe_per_sample(),
        })
    );
    Ok(())
}
