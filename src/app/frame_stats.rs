//! How fast the window draws: frame times (only while training animates it), the rolling
//! window they are kept in, and the software rasteriser's share of the cores.

use std::sync::OnceLock;
use std::time::Instant;

/// When the process started (`main` marks it first thing): the time to the first frame is
/// measured from here.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Marks the process start (the first call wins).
pub fn mark_process_start() {
    STARTED.get_or_init(Instant::now);
}

/// Milliseconds since the process started, if `mark_process_start` was called.
pub(super) fn since_process_start_ms() -> Option<f32> {
    STARTED.get().map(|t| t.elapsed().as_secs_f32() * 1000.0)
}

/// Rolling frame-time statistics for the status bar: the interval between frames.
#[derive(Default)]
pub(super) struct FrameTimes {
    last: Option<Instant>,
    ms: Rolling,
}

impl FrameTimes {
    /// A frame starts. `animating`: the window redraws continuously (training runs), so the
    /// interval since the previous frame is a frame time; otherwise it is idle time (a
    /// paused window redraws only on input) and is not counted.
    pub(super) fn tick(&mut self, animating: bool) {
        let now = Instant::now();
        if let (Some(l), true) = (self.last, animating) {
            self.ms.push(now.duration_since(l).as_secs_f32() * 1000.0);
        }
        self.last = Some(now);
    }

    /// (median, p99) in milliseconds.
    pub(super) fn stats(&self) -> (f32, f32) {
        self.ms.stats()
    }
}

/// The latest 240 values of a per-frame figure.
#[derive(Default)]
pub(super) struct Rolling {
    ms: std::collections::VecDeque<f32>,
}

impl Rolling {
    pub(super) fn push(&mut self, v: f32) {
        self.ms.push_back(v);
        if self.ms.len() > 240 {
            self.ms.pop_front();
        }
    }

    /// (median, p99) in milliseconds.
    pub(super) fn stats(&self) -> (f32, f32) {
        if self.ms.is_empty() {
            return (0.0, 0.0);
        }
        let mut v: Vec<f32> = self.ms.iter().copied().collect();
        v.sort_by(f32::total_cmp);
        (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
    }
}

/// On a software renderer, the threads the rasteriser gets (`LP_NUM_THREADS` when set, else
/// half the cores, at least one); training takes the other cores. Measured on 2 cores only,
/// where one each beat the other splits (see `limit_software_rasteriser`); a batch of 256
/// splits into 2–4 chunks (`engine::host_mlp::chunked`), so training gains little from many threads.
pub fn software_raster_threads() -> usize {
    std::env::var("LP_NUM_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(rayon::current_num_threads() / 2).max(1)
}

/// True when the window is drawn by a CPU rasteriser (Mesa's llvmpipe / lavapipe, WARP).
pub(super) fn software_renderer(cc: &eframe::CreationContext<'_>) -> bool {
    if let Some(rs) = &cc.wgpu_render_state {
        return rs.adapter.get_info().device_type == eframe::wgpu::DeviceType::Cpu;
    }
    cc.gl.as_ref().is_some_and(|gl| {
        use eframe::glow::HasContext as _;
        // SAFETY: a plain query on the context eframe just made current on this thread.
        let name = unsafe { gl.get_parameter_string(eframe::glow::RENDERER) }.to_lowercase();
        ["llvmpipe", "softpipe", "swrast", "swiftshader"].iter().any(|s| name.contains(s))
    })
}
