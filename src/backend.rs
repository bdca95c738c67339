//! Picks the compute device. `auto` takes wgpu only on a real GPU: software adapters
//! (lavapipe, llvmpipe, SwiftShader — wgpu's `DeviceType::Cpu`) are far slower than burn's CPU
//! backend for these small networks, so they count as "no GPU".

use crate::engine::EngineChoice;
use burn::tensor::Device;
use serde::Serialize;
use std::sync::OnceLock;

/// Which compute device to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// A real GPU when there is one (timed against the CPU on the actual config), else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// wgpu (any adapter, software ones included).
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
    /// Under `auto` with a real GPU: the race between it and the CPU that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_choice: Option<BackendRace>,
}

/// Steps/s of the config at hand on each device, timed for a fraction of a second each when
/// the run starts (`Trainer::new`); the faster trains.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendRace {
    /// Steps per second of the config on the CPU.
    pub cpu_steps_per_second: f64,
    /// Steps per second of the config on the GPU.
    pub gpu_steps_per_second: f64,
    /// `cpu` or `wgpu`.
    pub chosen: String,
}

/// Where and how training runs: the device, its description, and the engine asked for.
#[derive(Clone, Debug)]
pub struct Compute {
    /// The burn device training runs on.
    pub device: Device,
    /// What was chosen, and why (for the status bar and the summary).
    pub info: BackendInfo,
    /// Which training engine to use on that device.
    pub engine: EngineChoice,
    /// Race this (GPU) device against the CPU for each new run and train on the faster:
    /// set by `auto` when it finds a real GPU. A tiny MLP at batch 256 is launch-bound on a
    /// GPU and faster on the CPU's fast path; a 3×512 at batch 4096 is not.
    pub race_cpu: bool,
}

impl Compute {
    /// The same device with another engine choice.
    pub fn with_engine(mut self, engine: EngineChoice) -> Self {
        self.engine = engine;
        self
    }

    /// The CPU, with the same engine choice.
    pub fn cpu(&self) -> Compute {
        let (device, info) = cpu();
        Compute { device, info, engine: self.engine, race_cpu: false }
    }
}

/// A device that cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// wgpu found no usable adapter (the reason is the adapter search's).
    #[error("wgpu backend requested but no wgpu adapter is available: {0}")]
    NoAdapter(String),
}

/// Burn's wgpu runtime can be initialised once per process; keep the result.
static WGPU: OnceLock<Result<(Device, String, bool), String>> = OnceLock::new();

/// The graphics API training asks wgpu for: the platform's compute-capable native one, never
/// OpenGL. Under `Auto`, wgpu also enumerates its GL backend, which panics (EGL `BadAccess`)
/// when the window's own GL context is current — the window then lost every adapter and
/// trained on the CPU where the command line found the GPU.
fn native_api() -> burn::tensor::wgpu::WgpuBackend {
    use burn::tensor::wgpu::WgpuBackend;
    if cfg!(target_os = "macos") {
        WgpuBackend::Metal
    } else if cfg!(target_os = "windows") {
        WgpuBackend::Dx12
    } else {
        WgpuBackend::Vulkan
    }
}

fn wgpu_device() -> &'static Result<(Device, String, bool), String> {
    WGPU.get_or_init(|| {
        // A panic inside the graphics stack is caught and its message becomes the reason the
        // status bar gives; nothing of it reaches the terminal.
        static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            let msg =
                info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned());
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{}{at}", msg.unwrap_or_default()));
        }));
        let caught = quiet_stderr(|| std::panic::catch_unwind(|| Device::wgpu_options().graphics_api(native_api()).init_with_setup()));
        std::panic::set_hook(hook);
        match caught {
            Ok(Ok((device, setup))) => {
                let info = setup.adapter.get_info();
                let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu;
                Ok((device, format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type), software))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                let why = PANIC.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
                Err(format!("wgpu initialisation failed inside the graphics driver ({why})"))
            }
        }
    })
}

/// Lines the graphics stack prints while it looks for adapters that say nothing to the user:
/// Wayland's client library complains about `XDG_RUNTIME_DIR` wherever it is unset (SSH,
/// containers, cron, CI), though the probe then works.
const PROBE_NOISE: &[&str] = &["XDG_RUNTIME_DIR"];

/// Runs `f` with the process's stderr captured, then passes on what was written except
/// `PROBE_NOISE`, so that the GPU probe (and `render`'s adapter search) stays silent unless it
/// has something to say.
#[cfg(unix)]
pub fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: plain POSIX calls on descriptors this function owns; fd 2 is restored before
    // returning (and on every early exit, nothing was redirected).
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return f();
        }
        let saved = libc::dup(2);
        if saved < 0 || libc::dup2(fds[1], 2) < 0 {
            libc::close(fds[0]);
            libc::close(fds[1]);
            return f();
        }
        libc::close(fds[1]);
        let mut reader = std::fs::File::from_raw_fd(fds[0]);
        // Drained on a thread, so a chatty driver cannot fill the pipe and block.
        let drain = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = reader.read_to_end(&mut out);
            out
        });
        let result = f();
        libc::dup2(saved, 2);
        libc::close(saved);
        let text = drain.join().unwrap_or_default();
        let kept: String = String::from_utf8_lossy(&text)
            .lines()
            .filter(|l| !PROBE_NOISE.iter().any(|n| l.contains(n)))
            .map(|l| format!("{l}\n"))
            .collect();
        let _ = std::io::stderr().write_all(kept.as_bytes());
        result
    }
}

#[cfg(not(unix))]
pub fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    f()
}

fn cpu() -> (Device, BackendInfo) {
    let info = BackendInfo {
        backend: "cpu".into(),
        adapter: cpu_adapter(rayon::current_num_threads()),
        reason: String::new(),
        backend_choice: None,
    };
    (Device::flex(), info)
}

/// How the CPU backend describes itself, training on `threads` threads.
pub fn cpu_adapter(threads: usize) -> String {
    format!("CPU, {threads} thread{}", if threads == 1 { "" } else { "s" })
}

/// The device to train on and a description of it. `probe_gpu = false` skips looking for a
/// GPU under `auto` (the probe loads the graphics stack: slow, and noisy on some machines).
pub fn select(choice: BackendChoice, probe_gpu: bool) -> Result<Compute, BackendError> {
    let (device, info) = select_device(choice, probe_gpu)?;
    let race_cpu = choice == BackendChoice::Auto && info.backend == "wgpu";
    Ok(Compute { device, info, engine: EngineChoice::Auto, race_cpu })
}

fn select_device(choice: BackendChoice, probe_gpu: bool) -> Result<(Device, BackendInfo), BackendError> {
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Wgpu => match wgpu_device() {
            Ok((device, adapter, _)) => Ok((
                device.clone(),
                BackendInfo { backend: "wgpu".into(), adapter: adapter.clone(), reason: String::new(), backend_choice: None },
            )),
            Err(e) => Err(BackendError::NoAdapter(e.clone())),
        },
        BackendChoice::Auto => {
            if !probe_gpu {
                let (d, mut info) = cpu();
                info.reason = "GPU probe skipped".into();
                return Ok((d, info));
            }
            match wgpu_device() {
                Ok((device, adapter, false)) => Ok((
                    device.clone(),
                    BackendInfo {
                        backend: "wgpu".into(),
                        adapter: adapter.clone(),
                        reason: "GPU adapter found".into(),
                        backend_choice: None,
                    },
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
