//! `ganscope render`: a run drawn frame by frame, offscreen, with the window's own drawing code
//! (`DataView`, `SidePlots`) rendered through egui's wgpu renderer (egui_kittest's harness).
//!
//! Frame k is the state after exactly k·K steps: training runs first, on this thread, and keeps
//! a still per frame, so no frame is skipped or late on a slow machine. The surface's colour
//! scale is then fixed over the whole video (`fix_colour_scale`), the axes are fixed by
//! the data view, and the fakes come from the fixed evaluation z, so each dot moves smoothly.
//! Same seed, same engine, same renderer → the same bytes.

use super::data_view::{DataView, Layers};
use super::recorder::{self, Format, Frame};
use super::side_plots::{History, Sections, SidePlots};
use crate::trainer::view::SlowLayers;
use crate::trainer::{Metrics, Trainer};
use crate::worker::Snapshot;
use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;

/// What to render and how.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub steps: u64,
    pub every: u64,
    /// Frame size in pixels.
    pub size: [u32; 2],
    pub fps: f32,
    pub layers: Layers,
    /// The side plots beside the data view (none: the data view alone).
    pub plots: Option<Sections>,
    /// A `.gif`, `.png`/`.apng` (APNG), `.mp4` (ffmpeg) file, or a directory for PNG frames.
    pub out: PathBuf,
    /// The caption's title (the preset's).
    pub title: String,
    /// A lesson: its cues fire at their steps, its captions are drawn from their step on, its
    /// layers and plots replace `layers` and `plots` from their cue on (unless `fixed_layers` /
    /// `fixed_plots`).
    pub lesson: Option<crate::lesson::Lesson>,
    /// `layers` was asked for: it holds over the lesson's cues.
    pub fixed_layers: bool,
    /// `plots` was asked for: it holds over the lesson's cues.
    pub fixed_plots: bool,
    /// Seconds of frames a pause cue holds the picture still.
    pub hold: f32,
}

/// Where the output goes, from the path's form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Video(Format),
    /// One PNG per frame in a directory (`frame_00000.png`, …).
    Frames,
}

impl Output {
    pub fn of(path: &std::path::Path) -> Result<Output, String> {
        if path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir() {
            return Ok(Output::Frames);
        }
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("gif") => Ok(Output::Video(Format::Gif)),
            Some("png" | "apng") => Ok(Output::Video(Format::Apng)),
            Some("mp4") => match recorder::mp4_unavailable() {
                None => Ok(Output::Video(Format::Mp4)),
                Some(why) => Err(why),
            },
            _ => Err(format!("--out wants FILE.gif, FILE.apng (or .png), FILE.mp4 or DIR/, got {}", path.display())),
        }
    }
}

pub use crate::trainer::view::{LAYER_NAMES, PLOT_NAMES};

/// `surface,real,…` → the layers shown (every other layer hidden).
pub fn parse_layers(list: &str) -> Result<Layers, String> {
    let mut l = Layers { surface: false, real: false, fake: false, arrows: false, manifold: false, field: false, modes: false };
    for name in crate::trainer::view::parse_layer_names(list)? {
        let flag = match name {
            "surface" => &mut l.surface,
            "real" => &mut l.real,
            "fake" => &mut l.fake,
            "arrows" => &mut l.arrows,
            "manifold" => &mut l.manifold,
            "field" => &mut l.field,
            _ => &mut l.modes,
        };
        *flag = true;
    }
    Ok(l)
}

/// `losses,modes,…` → the side plots shown; an empty list shows none.
pub fn parse_plots(list: &str) -> Result<Option<Sections>, String> {
    let mut s = Sections::none();
    let mut any = false;
    for name in crate::trainer::view::parse_plot_names(list)? {
        let flag = match name {
            "symptoms" => &mut s.symptoms,
            "losses" => &mut s.losses,
            "modes" => &mut s.modes,
            "divergences" => &mut s.divergences,
            "gradients" => &mut s.gradients,
            "histogram" => &mut s.histogram,
            _ => &mut s.interpolation,
        };
        *flag = true;
        any = true;
    }
    Ok(any.then_some(s))
}

/// One frame's worth of state: the still, and the curves up to it.
struct Still {
    snap: Snapshot,
    metrics: Vec<Metrics>,
    /// The lesson's caption on screen, and what it shows.
    caption: Option<String>,
    layers: Layers,
    plots: Option<Sections>,
    /// A pause cue fired since the previous still: hold this one.
    held: bool,
}

/// Trains `opts.steps` steps, keeping a still every `opts.every` (and at step 0), with the
/// evaluations (every `train.eval_every`) that fall before each. `progress(done, total)`.
fn stills(mut trainer: Trainer, opts: &RenderOptions, progress: &dyn Fn(u64, u64)) -> Result<Vec<Still>, String> {
    let real = Snapshot::reals_of(&trainer);
    let eval_every = trainer.config().train.eval_every.max(1);
    let lesson = opts.lesson.as_ref();
    let (layers_of, plots_of) = (lesson.filter(|_| !opts.fixed_layers), lesson.filter(|_| !opts.fixed_plots));
    let mut latest: Option<Metrics> = None;
    let mut still = |t: &Trainer, metrics: Vec<Metrics>, held: bool| {
        let step = t.steps_done();
        let layers = layers_of.and_then(|l| l.layers_at(step)).and_then(|n| parse_layers(n).ok()).unwrap_or_else(|| opts.layers.clone());
        let plots = match plots_of.and_then(|l| l.plots_at(step)) {
            Some(names) => parse_plots(names).unwrap_or(None),
            None => opts.plots.clone(),
        };
        let mut req = layers.request();
        req.n_fake = 2000;
        let mut view = t.view_fast(&req);
        view.slow = Arc::new(t.view_slow(&req));
        latest = metrics.last().cloned().or(latest.take());
        let caption = lesson.and_then(|l| l.caption_at(step, latest.as_ref()));
        // The config in force at this still (a lesson's cues change it).
        let snap = Snapshot::of(t, view, real.clone(), Arc::new(t.config().clone()));
        Still { snap, metrics, caption, layers, plots, held }
    };
    let evaluate = |t: &Trainer| t.evaluate().map(|(m, _)| m).map_err(|e| format!("step {}: {e}", t.steps_done()));
    let mut script = crate::lesson::Script::default();
    let mut fire = |t: &mut Trainer| -> Result<bool, String> {
        let Some(l) = lesson else { return Ok(false) };
        let fired = script.fire_due(l, t).map_err(|e| format!("step {}: {e}", t.steps_done()))?;
        Ok(fired.iter().any(|&i| l.cues[i].pause))
    };
    let first_eval = evaluate(&trainer)?;
    let mut held = fire(&mut trainer)?;
    let mut out = vec![still(&trainer, vec![first_eval], held)];
    held = false;
    let mut pending = Vec::new();
    for step in 1..=opts.steps {
        trainer.step().map_err(|e| format!("training stopped at step {step}: {e}"))?;
        if step % eval_every == 0 {
            pending.push(evaluate(&trainer)?);
        }
        // Cues fire between two updates, after the step's evaluation (as headless).
        held |= fire(&mut trainer)?;
        if step % opts.every == 0 {
            out.push(still(&trainer, std::mem::take(&mut pending), held));
            held = false;
            progress(step, opts.steps);
        }
    }
    Ok(out)
}

/// One colour scale for the whole video: the median of the stills' lowest values to the median
/// of their highest. (The full range would let a few early frames with extreme critic values
/// wash out the rest; values beyond the scale take its end colours.)
fn fix_colour_scale(stills: &mut [Still]) {
    // A lesson may switch from a probability surface to a critic's values: one scale per kind.
    for is_prob in [false, true] {
        let slows: Vec<&SlowLayers> =
            stills.iter().map(|s| &*s.snap.view.slow).filter(|s| s.surface_n > 0 && s.surface_is_prob == is_prob).collect();
        if slows.is_empty() {
            continue;
        }
        let median = |mut v: Vec<f32>| {
            v.sort_by(f32::total_cmp);
            v[v.len() / 2]
        };
        let lo = median(slows.iter().map(|s| s.surface_min).collect());
        let hi = median(slows.iter().map(|s| s.surface_max).collect());
        let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
        for s in stills.iter_mut().filter(|s| s.snap.view.slow.surface_is_prob == is_prob) {
            let mut view = (*s.snap.view).clone();
            let slow = SlowLayers { surface_min: lo, surface_max: hi, ..(*view.slow).clone() };
            view.slow = Arc::new(slow);
            s.snap.view = Arc::new(view);
        }
    }
}

/// What one rendered frame shows: caption, data view, side plots.
struct Scene {
    title: String,
    /// A lesson's caption.
    caption: Option<String>,
    snap: Option<Snapshot>,
    history: History,
    layers: Layers,
    plots: Option<Sections>,
    view: DataView,
    side: SidePlots,
}

impl Scene {
    fn ui(&mut self, ui: &mut egui::Ui) {
        let step = self.snap.as_ref().map_or(0, |s| s.step);
        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            ui.label(egui::RichText::new(format!("{} · step {step}", self.title)).strong().size(16.0));
            if let Some(c) = &self.caption {
                ui.label(egui::RichText::new(c).size(18.0));
            }
            let snap = self.snap.as_ref();
            match &self.plots {
                None => self.view.ui(ui, snap, &self.layers, f32::INFINITY),
                Some(sections) => {
                    ui.horizontal_top(|ui| {
                        let side = ui.available_height().min(0.6 * ui.available_width());
                        ui.vertical(|ui| {
                            ui.set_width(side);
                            self.view.ui(ui, snap, &self.layers, side);
                        });
                        ui.vertical(|ui| self.side.ui(ui, &self.history, snap, sections));
                    });
                }
            }
        });
    }
}

/// What a render did.
#[derive(Clone, Debug)]
pub struct RenderReport {
    pub frames: usize,
    /// Median time to lay out, tessellate and rasterise one frame and read it back (ms).
    pub draw_ms_median: f64,
}

/// Renders the run: `progress(stage, done, total)` with stage "training" then "drawing".
pub fn render(trainer: Trainer, opts: &RenderOptions, progress: &dyn Fn(&str, u64, u64)) -> Result<RenderReport, String> {
    if opts.every == 0 {
        return Err("--every must be at least 1".into());
    }
    if opts.size[0] < 64 || opts.size[1] < 64 || opts.size[0] > 4096 || opts.size[1] > 4096 {
        return Err(format!("--size {}x{} is outside 64x64 … 4096x4096", opts.size[0], opts.size[1]));
    }
    let output = Output::of(&opts.out)?;
    let mut stills = stills(trainer, opts, &|d, t| progress("training", d, t))?;
    fix_colour_scale(&mut stills);
    let total = stills.len() as u64;

    let scene = Scene {
        title: opts.title.clone(),
        caption: None,
        snap: None,
        history: History::default(),
        layers: opts.layers.clone(),
        plots: opts.plots.clone(),
        view: DataView::default(),
        side: SidePlots,
    };
    // egui_kittest's wgpu renderer panics when there is no adapter: say what is missing instead.
    let size = egui::vec2(opts.size[0] as f32, opts.size[1] as f32);
    let mut harness = crate::backend::quiet_stderr(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            egui_kittest::Harness::builder()
                .with_size(size)
                .with_pixels_per_point(1.0)
                .with_accessibility_check(false)
                // The window's renderer settings (the harness defaults to filtering textures in
                // the shader, for snapshots that match across GPUs: 4 texture reads a pixel).
                .with_render_options(eframe::egui_wgpu::RendererOptions { dithering: false, ..Default::default() })
                .wgpu()
                .build_ui_state(|ui, s: &mut Scene| s.ui(ui), scene)
        }))
    })
    .map_err(|_| "no graphics adapter to render with (a GPU, or Mesa's lavapipe: apt-get install mesa-vulkan-drivers)".to_string())?;

    // Frames go to PNG files, or through the recorder's encoder (waiting for it: none dropped).
    let mut video = match output {
        Output::Frames => {
            std::fs::create_dir_all(&opts.out).map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
            None
        }
        Output::Video(format) => {
            let rec = recorder::Recorder::start(opts.out.clone(), format, opts.fps);
            let sink = rec.sink();
            Some((rec, sink))
        }
    };
    let mut draw_ms = Vec::with_capacity(stills.len());
    let mut written = 0usize;
    for (k, still) in stills.into_iter().enumerate() {
        let s = harness.state_mut();
        for m in &still.metrics {
            s.history.absorb_metrics(m);
        }
        s.history.absorb(&still.snap);
        s.snap = Some(still.snap);
        s.caption = still.caption;
        s.layers = still.layers;
        s.plots = still.plots;
        let copies = if still.held { 1 + (opts.hold * opts.fps).round() as usize } else { 1 };
        // Two passes: the first may only lay out (egui discards passes whose size changed).
        let t0 = std::time::Instant::now();
        harness.run_steps(2);
        let img = harness.render().map_err(|e| format!("rendering frame {k} failed: {e}"))?;
        draw_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        let (w, h) = img.dimensions();
        let frame = Frame { width: w, height: h, rgba: img.into_raw() };
        for _ in 0..copies {
            match &video {
                Some((_, sink)) => {
                    if let Err(e) = sink.push_wait(frame.clone()) {
                        // The encoder stopped: its own error says why.
                        let (rec, sink) = video.take().expect("a video");
                        drop(sink);
                        return Err(rec.finish().err().unwrap_or(e));
                    }
                }
                None => {
                    let path = opts.out.join(format!("frame_{written:05}.png"));
                    image::save_buffer(&path, &frame.rgba, w, h, image::ColorType::Rgba8)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
            }
            written += 1;
        }
        progress("drawing", k as u64 + 1, total);
    }
    if let Some((rec, sink)) = video.take() {
        drop(sink); // the encoder ends when every sender is gone
        rec.finish()?;
    }
    draw_ms.sort_by(f64::total_cmp);
    Ok(RenderReport { frames: written, draw_ms_median: draw_ms[draw_ms.len() / 2] })
}
