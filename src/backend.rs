//! Picks the compute device. `auto` takes wgpu only on a real GPU: software adapters
//! (lavapipe, llvmpipe, SwiftShader — wgpu's `DeviceType::Cpu`) are far slower than burn's CPU
//! backend for these small networks, so they count as "no GPU".

use burn::tensor::Device;
use serde::Serialize;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    #[default]
    Auto,
    Cpu,
    Wgpu,
}

/// What is running, for the summary and the status bar.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendInfo {
    /// `cpu` or `wgpu`.
    pub backend: String,
    /// Human-readable device: the wgpu adapter, or the CPU backend and its thread count.
    pub adapter: String,
    /// Why `auto` chose what it chose (empty when forced).
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("wgpu backend requested but no wgpu adapter is available: {0}")]
    NoAdapter(String),
}

/// Burn's wgpu runtime can be initialised once per process; keep the result.
static WGPU: OnceLock<Result<(Device, String, bool), String>> = OnceLock::new();

fn wgpu_device() -> &'static Result<(Device, String, bool), String> {
    WGPU.get_or_init(|| {
        let caught = std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup());
        match caught {
            Ok(Ok((device, setup))) => {
                let info = setup.adapter.get_info();
                let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu;
                Ok((device, format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type), software))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("wgpu initialisation panicked".into()),
        }
    })
}

fn cpu() -> (Device, BackendInfo) {
    let info = BackendInfo { backend: "cpu".into(), adapter: cpu_adapter(rayon_threads()), reason: String::new() };
    (Device::flex(), info)
}

/// How the CPU backend describes itself, training on `threads` threads.
pub fn cpu_adapter(threads: usize) -> String {
    format!("CPU: fused MLP kernels + burn flex, {threads} thread{}", if threads == 1 { "" } else { "s" })
}

/// Number of threads the CPU kernels use (rayon's global pool).
pub fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Returns the device to train on and a description of it.
pub fn select(choice: BackendChoice) -> Result<(Device, BackendInfo), BackendError> {
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Wgpu => match wgpu_device() {
            Ok((device, adapter, _)) => {
                Ok((device.clone(), BackendInfo { backend: "wgpu".into(), adapter: adapter.clone(), reason: String::new() }))
            }
            Err(e) => Err(BackendError::NoAdapter(e.clone())),
        },
        BackendChoice::Auto => {
            // Probing wgpu is slow on machines without a GPU; allow skipping it.
            if std::env::var_os("GANSCOPE_NO_GPU_PROBE").is_some() {
                let (d, mut info) = cpu();
                info.reason = "GPU probe disabled (GANSCOPE_NO_GPU_PROBE)".into();
                return Ok((d, info));
            }
            match wgpu_device() {
                Ok((device, adapter, false)) => Ok((
                    device.clone(),
                    BackendInfo { backend: "wgpu".into(), adapter: adapter.clone(), reason: "GPU adapter found".into() },
                )),
                Ok((_, adapter, true)) => {
                    let (d, mut info) = cpu();
                    info.reason = format!("no GPU: the only wgpu adapter is a software renderer ({adapter})");
                    Ok((d, info))
                }
                Err(e) => {
                    let (d, mut info) = cpu();
                    info.reason = format!("no GPU: {e}");
                    Ok((d, info))
                }
            }
        }
    }
}
