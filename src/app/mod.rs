//! The window: draws the latest snapshot and turns clicks into worker commands. Each panel is
//! a small struct with a `ui` method; panels return intents, which `GanscopeApp` applies once
//! per frame. The UI thread never waits on training: it only `try_recv`s snapshots.

mod colormap;
mod compare;
mod controls;
mod data_view;
mod dirac_view;
mod draw;
mod export;
mod file_dialog;
mod key;
mod recorder;
pub mod render;
mod side_plots;

use crate::backend::BackendChoice;
use crate::config::Config;
use crate::engine::EngineChoice;
use crate::worker::{Command, Event, Snapshot, Speed, WorkerHandle, WorkerOptions};
use controls::ControlsPanel;
use data_view::{DataView, Layers};
use dirac_view::DiracView;
use eframe::egui;
use side_plots::{History, Sections, SidePlots};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the panels ask for; applied once at the end of the frame.
#[must_use]
#[derive(Debug, Clone)]
pub enum Intent {
    Worker(Command),
    /// Send the edited config to the trainer.
    ApplyConfig(Box<Config>),
    /// Show this Dirac-GAN preset in the Dirac-GAN tab.
    OpenDirac(String),
    /// Train this preset beside the current run, side by side.
    Compare(String),
    /// Close the side-by-side run.
    CloseCompare,
    /// Play or pause what the tab shows (the run, or the Dirac path's animation).
    TogglePlay,
    /// The preset `n` places further in the tab's menu.
    StepPreset(isize),
    /// Copy the running config as a share string to the system clipboard.
    CopyShare,
}

/// The window's two labs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// The 2-D GAN: data view, controls, side plots.
    #[default]
    Lab,
    /// The Dirac-GAN of Mescheder et al. 2018.
    Dirac,
}

/// What is kept between sessions.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct State {
    pub layers: Layers,
    pub speed: Speed,
    pub tab: Tab,
    /// Which side plots are shown.
    pub sections: Sections,
    /// Presentation mode: controls hidden, everything scaled up (F11). Not kept between sessions.
    #[serde(skip)]
    pub present: bool,
    /// How much presentation mode scales fonts and points.
    pub present_scale: f32,
    /// Show the preset's text as a caption in presentation mode.
    pub caption: bool,
    /// Recording and export settings.
    pub export: export::ExportSettings,
}

impl Default for State {
    fn default() -> Self {
        Self {
            layers: Layers::default(),
            speed: Speed::StepsPerFrame(5),
            tab: Tab::Lab,
            sections: Sections::default(),
            present: false,
            present_scale: 1.6,
            caption: true,
            export: export::ExportSettings::default(),
        }
    }
}

/// The keyboard shortcuts, as the `?` window lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("S", "one step"),
    ("R", "reset"),
    ("N / P", "next / previous preset"),
    ("1 – 7", "toggle layers: surface, real, fake, arrows, G manifold, gradient field, mode circles"),
    ("F11", "presentation mode"),
    ("F9", "start / stop recording"),
    ("F10", "PNG of the window"),
    ("C", "copy the run's share string to the clipboard"),
    ("?", "this list"),
];

/// Options from the command line.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    pub preset: Option<String>,
    pub backend: BackendChoice,
    /// Look for a GPU under `BackendChoice::Auto`.
    pub probe_gpu: bool,
    pub engine: EngineChoice,
    /// Screenshot mode: train this many steps, write the PNG, exit.
    pub screenshot: Option<(PathBuf, u64)>,
    /// Open on the Dirac-GAN tab with this Dirac preset.
    pub dirac: Option<String>,
    /// Open on this config (from a share string) instead of a preset.
    pub config: Option<Config>,
    /// Start in presentation mode.
    pub present: bool,
    /// Record the window from the start to this file (.gif, .png for APNG, .mp4).
    pub record: Option<PathBuf>,
    /// What draws the window.
    pub renderer: Renderer,
}

/// What draws the window: OpenGL (egui_glow) or wgpu (egui_wgpu).
///
/// On Mesa's software rasteriser (llvmpipe; no GPU, VMs, remote desktops) the GL path draws a
/// 1440×900 frame in ≈ 40 ms where wgpu on lavapipe takes ≈ 180 ms (`xvfb-run -s "-screen 0
/// 1440x900x24" ganscope --preset ns-ring --steps 3000 --screenshot x.png`, both on one raster
/// thread), so GL is the default; a GPU draws either at the display's rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Renderer {
    #[default]
    Glow,
    Wgpu,
}

pub struct GanscopeApp {
    state: State,
    worker: Option<WorkerHandle>,
    worker_opts: WorkerOptions,
    /// The worker's current run (snapshots of older runs are dropped).
    run: u64,
    /// The training thread's panic message, when it died.
    crashed: Option<String>,
    start_error: Option<String>,
    snapshot: Option<Snapshot>,
    history: History,
    controls: ControlsPanel,
    data_view: DataView,
    side: SidePlots,
    dirac: DiracView,
    /// A second run drawn beside the first (the trilemma).
    compare: Option<compare::Compare>,
    /// Latest one-off notice and when it arrived.
    notice: Option<(String, Instant)>,
    frame_times: FrameTimes,
    /// Milliseconds this app spends building each frame (logic + ui, before tessellation and
    /// rendering), and eframe's CPU time per frame (including rendering).
    build_ms: Rolling,
    cpu_ms: Rolling,
    frame_start: Option<Instant>,
    /// Threads Mesa's rasteriser draws on, when the window is drawn by the CPU.
    raster_threads: Option<usize>,
    /// Steps/s of the latest snapshot taken while training (for the screenshot log).
    train_rate: f64,
    screenshot: Option<ScreenshotJob>,
    /// The `?` shortcuts window is open.
    show_help: bool,
    /// To ask for repaints from other threads (a fork's worker).
    ctx: egui::Context,
    /// The recording in progress.
    recorder: Option<recorder::Recorder>,
    /// The "Record and export" window is open.
    show_export: bool,
    /// Every evaluation of the current run (for "Export metrics CSV").
    metrics_log: Vec<crate::trainer::Metrics>,
    /// Why MP4 cannot be recorded here, if it cannot.
    mp4_unavailable: Option<String>,
    /// Messages from the screenshot callbacks (they run on the render thread).
    pending_notice: Arc<std::sync::Mutex<Option<String>>>,
    /// Where the side plots were drawn last frame (recording "data view + side plots").
    side_rect: Option<egui::Rect>,
    /// The "Record & export" panel's file dialogs.
    browsers: export::Browsers,
}

struct ScreenshotJob {
    path: PathBuf,
    steps: u64,
    requested: bool,
    done: Arc<AtomicBool>,
    frames_after_target: u32,
    rss_logged: bool,
}

impl GanscopeApp {
    pub fn new(cc: &eframe::CreationContext<'_>, launch: Launch) -> Self {
        let state: State = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
        let preset_name = launch.preset.clone().unwrap_or_else(|| "collapse".into());
        let launch_dirac = launch.dirac.clone();
        let (cfg, start_error) = match (launch.config.clone(), crate::presets::get(&preset_name)) {
            (Some(shared), _) => (shared, None),
            (None, Ok(p)) => (p.config, None),
            (None, Err(e)) => (crate::presets::get("collapse").expect("built-in").config, Some(e.to_string())),
        };
        let preset_name = if launch.config.is_some() { "shared".to_string() } else { preset_name };
        let ctx = cc.egui_ctx.clone();
        let software = software_renderer(cc);
        // A software rasteriser (Mesa's llvmpipe) draws on the very cores that train: there the
        // cores are split between the two (on 2 cores, training on both starved the drawing and
        // ran slower than on one). Frames are not capped: with the GL renderer one raster thread
        // draws 1440×900 in ≈ 40 ms while training keeps 92–96 % of its one-thread headless
        // speed; a 10 fps cap (the workaround for wgpu's ≈ 180 ms frames) gained it nothing
        // (88–92 %).
        let raster_threads = software.then(software_raster_threads);
        let threads = raster_threads.map(|r| rayon::current_num_threads().saturating_sub(r).max(1));
        let worker_opts = WorkerOptions { backend: launch.backend, probe_gpu: launch.probe_gpu, engine: launch.engine, threads };
        let worker = WorkerHandle::spawn(cfg.clone(), &worker_opts, Box::new(move || ctx.request_repaint()));
        let (worker, start_error) = match worker {
            Ok(w) => (Some(w), start_error),
            Err(e) => (None, Some(format!("Could not start training: {e:#}"))),
        };
        let mut app = Self {
            controls: ControlsPanel::new(cfg, &preset_name),
            state,
            worker,
            worker_opts,
            run: 0,
            crashed: None,
            start_error,
            snapshot: None,
            history: History::default(),
            data_view: DataView::with_drawing(),
            side: SidePlots,
            dirac: DiracView::default(),
            compare: None,
            notice: None,
            frame_times: FrameTimes::default(),
            build_ms: Rolling::default(),
            cpu_ms: Rolling::default(),
            frame_start: None,
            raster_threads,
            train_rate: 0.0,
            show_help: false,
            ctx: cc.egui_ctx.clone(),
            recorder: None,
            show_export: false,
            metrics_log: Vec::new(),
            mp4_unavailable: export::mp4_check(),
            pending_notice: Arc::default(),
            side_rect: None,
            browsers: export::Browsers::default(),
            screenshot: launch.screenshot.map(|(path, steps)| ScreenshotJob {
                path,
                steps,
                requested: false,
                done: Arc::new(AtomicBool::new(false)),
                frames_after_target: 0,
                rss_logged: false,
            }),
        };
        // Presentation's zoom is egui's, which egui keeps between sessions: a window closed
        // while presenting would otherwise open zoomed and not presenting.
        app.set_present(launch.present, &cc.egui_ctx);
        if let Some(path) = launch.record {
            let format = match path.extension().and_then(|e| e.to_str()) {
                Some("mp4") => recorder::Format::Mp4,
                Some("png" | "apng") => recorder::Format::Apng,
                _ => recorder::Format::Gif,
            };
            app.recorder = Some(recorder::Recorder::start(path, format, app.state.export.fps));
        }
        if let Ok(p) = crate::presets::get(&preset_name)
            && let Some(c) = p.meta.compare
        {
            app.start_compare(&c, &cc.egui_ctx);
        }
        if let Some(name) = &launch_dirac {
            app.dirac.load_preset(name);
            app.dirac.show_whole_path();
            app.state.tab = Tab::Dirac;
        } else if launch.present {
            app.state.tab = Tab::Lab;
        } else if app.screenshot.is_some() {
            // A shot of the lab, whatever tab the last session left open.
            app.state.tab = Tab::Lab;
        }
        app.send(Command::SetView(app.state.layers.request()));
        if let Some(job) = &app.screenshot {
            // The worker stops at exactly the asked step, however fast it trains.
            app.send(Command::PauseAt(Some(job.steps)));
            app.send(Command::Speed(Speed::Max));
            app.send(Command::Play);
        } else {
            app.send(Command::Speed(app.state.speed));
        }
        app
    }

    fn send(&self, c: Command) {
        if let Some(cmp) = &self.compare {
            cmp.forward(&c);
        }
        if let Some(w) = &self.worker {
            w.send(c);
        }
    }

    /// Starts `preset` beside the current run (replacing any earlier one).
    fn start_compare(&mut self, preset: &str, ctx: &egui::Context) {
        let ctx = ctx.clone();
        match compare::Compare::start(preset, &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(c) => {
                c.send(Command::SetView(self.state.layers.request()));
                c.send(Command::Speed(self.state.speed));
                if self.snapshot.as_ref().is_some_and(|s| s.running) {
                    c.send(Command::Play);
                }
                self.compare = Some(c);
            }
            Err(e) => self.notice = Some((format!("Could not start {preset} beside this run: {e:#}"), Instant::now())),
        }
    }

    /// Starts B, a copy of the run's state, beside it.
    fn start_fork(&mut self, state: crate::trainer::state::TrainState) {
        let ctx = self.ctx.clone();
        match compare::Compare::fork(state, &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(c) => {
                c.send(Command::SetView(self.state.layers.request()));
                c.send(Command::Speed(self.state.speed));
                self.compare = Some(c);
            }
            Err(e) => self.notice = Some((format!("Could not fork: {e:#}"), Instant::now())),
        }
    }

    /// The side-by-side run's preset, if one is shown (for tests).
    pub fn compared(&self) -> Option<(&str, Option<&Snapshot>)> {
        self.compare.as_ref().map(|c| (c.preset.as_str(), c.snapshot()))
    }

    fn apply(&mut self, intent: Intent, ctx: &egui::Context) {
        match intent {
            Intent::Worker(c) => {
                if let Command::Speed(s) = &c {
                    self.state.speed = *s;
                }
                if let Command::LoadPreset(name) = &c {
                    // A preset that names a partner opens it beside itself; any other closes it.
                    self.compare = None;
                    if let Some(partner) = crate::presets::get(name).ok().and_then(|p| p.meta.compare) {
                        self.start_compare(&partner, ctx);
                    }
                }
                self.send(c)
            }
            Intent::Compare(name) => self.start_compare(&name, ctx),
            Intent::CloseCompare => self.compare = None,
            Intent::ApplyConfig(cfg) => self.send(Command::SetConfig(cfg)),
            Intent::OpenDirac(name) => {
                self.dirac.load_preset(&name);
                self.state.tab = Tab::Dirac;
            }
            Intent::TogglePlay if self.state.tab == Tab::Dirac => self.dirac.toggle_play(),
            Intent::TogglePlay => {
                let running = self.snapshot.as_ref().is_some_and(|s| s.running);
                self.apply(Intent::Worker(if running { Command::Pause } else { Command::Play }), ctx);
            }
            Intent::CopyShare => {
                let cfg = self.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                ctx.copy_text(crate::share::encode(&cfg));
                self.notice = Some(("Copied the run's share string to the clipboard".into(), Instant::now()));
            }
            Intent::StepPreset(n) if self.state.tab == Tab::Dirac => self.dirac.step_preset(n),
            Intent::StepPreset(n) => {
                let name = self.neighbour_preset(n);
                self.controls.choose_preset(&name);
                self.apply(Intent::Worker(Command::LoadPreset(name)), ctx);
            }
        }
    }

    /// The worker's events, then its newest snapshot, if any.
    pub fn poll(&mut self) {
        let Some(w) = &self.worker else { return };
        let mut forked = None;
        for e in w.events() {
            match e {
                Event::Metrics(m) => {
                    self.history.absorb_metrics(&m);
                    if self.metrics_log.len() < 100_000 {
                        self.metrics_log.retain(|old| old.step < m.step);
                        self.metrics_log.push(*m);
                    }
                }
                Event::Notice(n) => self.notice = Some((n, Instant::now())),
                Event::Restarted { run, config } => {
                    self.run = run;
                    self.history.clear();
                    self.metrics_log.clear();
                    self.controls.sync(&config);
                }
                Event::Rewound { step } => {
                    self.history.truncate_after(step);
                    self.metrics_log.retain(|m| m.step <= step);
                }
                Event::Forked(state) => forked = Some(state),
                Event::Crashed(msg) => self.crashed = Some(msg),
            }
        }
        if let Some(s) = w.latest().filter(|s| s.run >= self.run) {
            self.history.absorb(&s);
            if s.running && s.steps_per_second > 0.0 {
                self.train_rate = s.steps_per_second;
            }
            self.snapshot = Some(s);
        }
        if let Some(state) = forked {
            self.start_fork(*state);
        }
        if let Some(c) = &mut self.compare {
            c.poll();
        }
    }

    /// A new training thread after a crash, on the config the controls show.
    fn restart_worker(&mut self, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.worker = None; // joins the dead thread
        match WorkerHandle::spawn(self.controls.config().clone(), &self.worker_opts, Box::new(move || ctx.request_repaint())) {
            Ok(w) => {
                self.worker = Some(w);
                self.crashed = None;
                self.run = 0;
                self.send(Command::SetView(self.state.layers.request()));
            }
            Err(e) => self.crashed = Some(format!("could not restart: {e:#}")),
        }
    }

    /// The config the controls are editing (for tests).
    pub fn edited_config(&self) -> &Config {
        self.controls.config()
    }

    /// The "modes covered" side plot's points, (step, modes) (for tests).
    pub fn modes_covered_series(&self) -> &[[f64; 2]] {
        &self.history.modes.0
    }

    /// The tab shown (for tests).
    pub fn tab(&self) -> Tab {
        self.state.tab
    }

    /// The Dirac-GAN view (for tests).
    pub fn dirac_view(&mut self) -> &mut DiracView {
        &mut self.dirac
    }

    /// The latest snapshot (for tests).
    /// The notice shown under the toolbar, if any (also after it faded).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|(n, _)| n.as_str())
    }

    /// The folder "Record & export" writes to.
    pub fn export_folder(&self) -> &str {
        &self.state.export.folder
    }

    /// Where the main data view was drawn last frame, in points.
    pub fn data_view_rect(&self) -> Option<egui::Rect> {
        self.data_view.last_rect
    }

    /// The points drawn by hand so far ("Draw your own data").
    pub fn drawn_points(&self) -> &[[f32; 2]] {
        self.data_view.drawing.as_ref().map_or(&[], |d| &d.points)
    }

    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Enters or leaves presentation mode: the whole window scaled by `present_scale`.
    pub fn set_present(&mut self, on: bool, ctx: &egui::Context) {
        self.state.present = on;
        ctx.set_zoom_factor(if on { self.state.present_scale } else { 1.0 });
    }

    /// The layers shown (for tests).
    pub fn layers(&self) -> &Layers {
        &self.state.layers
    }

    /// Whether the shortcuts window is open (for tests).
    pub fn help_shown(&self) -> bool {
        self.show_help
    }

    /// Whether presentation mode is on (for tests).
    pub fn presenting(&self) -> bool {
        self.state.present
    }

    /// The preset `offset` places after the current one in the menu, wrapping around.
    fn neighbour_preset(&self, offset: isize) -> String {
        let names: Vec<&str> = crate::presets::names().collect();
        let at = names.iter().position(|n| *n == self.controls.preset()).unwrap_or(0) as isize;
        names[(at + offset).rem_euclid(names.len() as isize) as usize].to_string()
    }

    fn keyboard(&mut self, ctx: &egui::Context) -> Vec<Intent> {
        let mut out = Vec::new();
        if ctx.egui_wants_keyboard_input() {
            return out;
        }
        let (mut present, mut help, mut preset_step) = (false, false, 0isize);
        let mut exports = Vec::new();
        let layers = &mut self.state.layers;
        ctx.input(|i| {
            if i.key_pressed(egui::Key::Space) {
                out.push(Intent::TogglePlay);
            }
            if i.key_pressed(egui::Key::S) {
                out.push(Intent::Worker(Command::Step));
            }
            if i.key_pressed(egui::Key::R) {
                out.push(Intent::Worker(Command::Reset));
            }
            if i.key_pressed(egui::Key::N) {
                preset_step = 1;
            }
            if i.key_pressed(egui::Key::P) {
                preset_step = -1;
            }
            present = i.key_pressed(egui::Key::F11);
            if i.key_pressed(egui::Key::C) && !i.modifiers.any() {
                out.push(Intent::CopyShare);
            }
            if i.key_pressed(egui::Key::F9) {
                exports.push(export::ExportAction::ToggleRecording);
            }
            if i.key_pressed(egui::Key::F10) {
                exports.push(export::ExportAction::Png(export::Region::Window));
            }
            help = i.key_pressed(egui::Key::Questionmark) || i.events.iter().any(|e| matches!(e, egui::Event::Text(t) if t == "?"));
            let toggles: [(egui::Key, &mut bool); 7] = [
                (egui::Key::Num1, &mut layers.surface),
                (egui::Key::Num2, &mut layers.real),
                (egui::Key::Num3, &mut layers.fake),
                (egui::Key::Num4, &mut layers.arrows),
                (egui::Key::Num5, &mut layers.manifold),
                (egui::Key::Num6, &mut layers.field),
                (egui::Key::Num7, &mut layers.modes),
            ];
            for (key, on) in toggles {
                if i.key_pressed(key) {
                    *on = !*on;
                }
            }
        });
        if preset_step != 0 {
            out.push(Intent::StepPreset(preset_step));
        }
        if present {
            self.set_present(!self.state.present, ctx);
        }
        if help {
            self.show_help = !self.show_help;
        }
        for e in exports {
            self.export(e, ctx);
        }
        out
    }

    /// A file name for this run's outputs: preset and step.
    fn output_name(&self, what: &str, ext: &str) -> std::path::PathBuf {
        let step = self.snapshot.as_ref().map_or(0, |s| s.step);
        export::file_in(&self.state.export.folder, &format!("ganscope-{}-step{step}{what}.{ext}", self.controls.preset()))
    }

    /// The pixel rectangle of `region` in a screenshot of `size` pixels.
    fn region_pixels(&self, region: export::Region, ctx: &egui::Context, size: [usize; 2]) -> (u32, u32, u32, u32) {
        let full = (0, 0, size[0] as u32, size[1] as u32);
        let view = match region {
            export::Region::Window => None,
            export::Region::DataView => self.data_view.last_rect,
            // The view and the side plots beside it: the rectangle holding both.
            export::Region::ViewAndPlots => self.data_view.last_rect.map(|r| self.side_rect.map_or(r, |s| r.union(s))),
        };
        match view {
            Some(r) => {
                let ppp = ctx.pixels_per_point();
                let clamp = |v: f32, max: usize| (v * ppp).round().clamp(0.0, max as f32) as u32;
                let (x0, y0, x1, y1) = (clamp(r.min.x, size[0]), clamp(r.min.y, size[1]), clamp(r.max.x, size[0]), clamp(r.max.y, size[1]));
                if x1 > x0 && y1 > y0 { (x0, y0, x1, y1) } else { full }
            }
            None => full,
        }
    }

    /// Does what the "Record & export" panel (or a key) asked.
    fn export(&mut self, action: export::ExportAction, ctx: &egui::Context) {
        use export::ExportAction as A;
        let say = |app: &mut Self, msg: String| app.notice = Some((msg, Instant::now()));
        match action {
            A::ToggleRecording => match self.recorder.take() {
                Some(r) => {
                    let path = r.path.clone();
                    let dropped = r.dropped.clone();
                    let (notice, ctx2) = (self.pending_notice.clone(), ctx.clone());
                    say(self, format!("Finishing the recording to {}…", path.display()));
                    r.finish_in_background(move |result| {
                        let msg = match result {
                            Ok(n) => format!("Recorded {n} frames to {} ({} dropped).", path.display(), dropped.load(Ordering::Relaxed)),
                            Err(e) => format!("Recording failed: {e}"),
                        };
                        *notice.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                        ctx2.request_repaint();
                    });
                }
                None => {
                    let format = self.state.export.format;
                    if format == recorder::Format::Mp4
                        && let Some(why) = &self.mp4_unavailable
                    {
                        return say(self, why.clone());
                    }
                    let path = self.output_name("-recording", format.extension());
                    self.recorder = Some(recorder::Recorder::start(path, format, self.state.export.fps));
                }
            },
            A::Png(region) => {
                let what = if region == export::Region::DataView { "-view" } else { "" };
                let path = self.output_name(what, "png");
                let (done, ctx2) = (self.pending_notice.clone(), ctx.clone());
                // The crop is decided now; the pixels arrive after the frame renders.
                let size_px = |ctx: &egui::Context| {
                    let r = ctx.content_rect();
                    let p = ctx.pixels_per_point();
                    [(r.width() * p).round() as usize, (r.height() * p).round() as usize]
                };
                let rect = self.region_pixels(region, ctx, size_px(ctx));
                // The callback runs on the window's thread: crop and encode on another one.
                ctx.request_screenshot(move |image| {
                    std::thread::spawn(move || {
                        let f = recorder::crop_image(&image, rect);
                        let msg = match recorder::save_png(&path, &f) {
                            Ok(()) => format!("Saved {}", path.display()),
                            Err(e) => format!("Could not save {}: {e}", path.display()),
                        };
                        *done.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                        ctx2.request_repaint();
                    });
                });
            }
            A::MetricsCsv => {
                let path = self.output_name("-metrics", "csv");
                match crate::run::write_metrics_csv(&path, &self.metrics_log) {
                    Ok(()) => say(self, format!("Wrote {} ({} evaluations)", path.display(), self.metrics_log.len())),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::SamplesCsv => {
                let path = self.output_name("-samples", "csv");
                let fakes: Vec<f32> = self.snapshot.as_ref().map(|s| s.view.fake.iter().flatten().copied().collect()).unwrap_or_default();
                match crate::run::write_samples_csv(&path, &fakes) {
                    Ok(()) => say(self, format!("Wrote {} ({} samples)", path.display(), fakes.len() / 2)),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::SaveConfig => {
                let path = std::path::PathBuf::from(&self.state.export.config_path);
                let cfg = self.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                match crate::fsio::write_atomic(&path, cfg.to_toml()) {
                    Ok(()) => say(self, format!("Saved the config to {}", path.display())),
                    Err(e) => say(self, format!("Could not write {}: {e}", path.display())),
                }
            }
            A::LoadConfig => {
                let path = std::path::PathBuf::from(&self.state.export.config_path);
                match std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| Config::from_toml(&t).map_err(|e| e.to_string()))
                {
                    Ok(cfg) => {
                        self.send(Command::SetConfig(Box::new(cfg)));
                        self.send(Command::Reset);
                        say(self, format!("Loaded {}", path.display()));
                    }
                    Err(e) => say(self, format!("Could not load {}: {e}", path.display())),
                }
            }
        }
    }

    /// "Draw your own data": save the drawing, import a CSV into it, or train on it.
    fn drawn_data(&mut self, action: draw::DrawAction) {
        let Some(mut d) = self.data_view.drawing.take() else { return };
        let msg = self.drawn_data_with(&mut d, action);
        self.data_view.drawing = Some(d);
        if let Some(msg) = msg {
            self.notice = Some((msg, Instant::now()));
        }
    }

    /// `drawn_data` on the drawing taken out of the view: the notice to show, if any.
    fn drawn_data_with(&mut self, d: &mut draw::Drawing, action: draw::DrawAction) -> Option<String> {
        use draw::DrawAction as A;
        let path = PathBuf::from(d.path.trim());
        let msg = match action {
            A::SaveCsv => match d.save(&path) {
                Ok(()) => format!("Saved {} drawn points to {}", d.points.len(), path.display()),
                Err(e) => format!("Could not write {}: {e}", path.display()),
            },
            A::ImportCsv | A::UseAsData => {
                let ready = if action == A::ImportCsv {
                    crate::data::read_points_csv(&path).map_err(|e| e.to_string()).map(|mut pts| {
                        pts.truncate(draw::MAX_POINTS);
                        d.points = pts;
                    })
                } else {
                    d.save(&path).map_err(|e| format!("could not write {}: {e}", path.display()))
                };
                let mut cfg = self.snapshot.as_ref().map_or_else(|| self.controls.config().clone(), |s| (*s.config).clone());
                let applied = ready.and_then(|()| {
                    cfg.data.kind = crate::config::DataKind::Points;
                    cfg.data.points_file = path.clone();
                    cfg.validate().map_err(|e| e.to_string())
                });
                match applied {
                    Ok(()) => {
                        let why = format!(
                            "Training on {} drawn points from {} (each a mode of std {}): networks rebuilt, run restarted at step 0.",
                            d.points.len(),
                            path.display(),
                            cfg.data.std
                        );
                        self.send(Command::Restart(Box::new(cfg), why));
                        return None;
                    }
                    Err(e) => format!("Could not use {} as data: {e}", path.display()),
                }
            }
        };
        Some(msg)
    }

    /// While recording: a frame when one is due.
    fn record_frame(&mut self, ctx: &egui::Context) {
        if self.state.export.region != export::Region::Window && self.data_view.last_rect.is_none() {
            return; // not drawn yet: the first frame fixes the recording's size
        }
        let Some(rec) = &mut self.recorder else { return };
        if !rec.due() {
            ctx.request_repaint_after(Duration::from_millis(10));
            return;
        }
        let sink = rec.sink();
        let r = ctx.content_rect();
        let p = ctx.pixels_per_point();
        let rect = self.region_pixels(self.state.export.region, ctx, [(r.width() * p).round() as usize, (r.height() * p).round() as usize]);
        ctx.request_screenshot(move |image| sink.push(recorder::crop_image(&image, rect)));
        ctx.request_repaint_after(Duration::from_millis(10));
    }

    /// The recording indicator: elapsed time, frames, drops.
    fn recording_badge(&self, ui: &mut egui::Ui) {
        if let Some(r) = &self.recorder {
            let t = r.started.elapsed().as_secs();
            ui.colored_label(
                egui::Color32::from_rgb(230, 40, 40),
                format!(
                    "REC {}:{:02} · {} frames · {} dropped",
                    t / 60,
                    t % 60,
                    r.sent.load(Ordering::Relaxed),
                    r.dropped.load(Ordering::Relaxed)
                ),
            )
            .on_hover_text(format!("Recording to {} — F9 stops", r.path.display()));
        }
    }

    /// The `?` window: every shortcut.
    fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (key, what) in SHORTCUTS {
                    ui.label(egui::RichText::new(*key).strong());
                    ui.label(*what);
                    ui.end_row();
                }
            });
        });
        self.show_help = open;
    }

    /// The bar above the view in presentation mode: everything a presenter without a keyboard
    /// needs (play, step, the next preset, exit), then the view's settings.
    fn presenter_bar(&mut self, ui: &mut egui::Ui) -> Vec<Intent> {
        let mut out = Vec::new();
        let dirac = self.state.tab == Tab::Dirac;
        ui.horizontal_wrapped(|ui| {
            let running = if dirac { self.dirac.playing() } else { self.snapshot.as_ref().is_some_and(|s| s.running) };
            if ui.button(if running { "Pause" } else { "Play" }).on_hover_text("Space").clicked() {
                out.push(Intent::TogglePlay);
            }
            if !dirac && ui.button("Step").on_hover_text("S: one training step").clicked() {
                out.push(Intent::Worker(Command::Step));
            }
            if ui.button("Previous preset").on_hover_text("P").clicked() {
                out.push(Intent::StepPreset(-1));
            }
            if ui.button("Next preset").on_hover_text("N").clicked() {
                out.push(Intent::StepPreset(1));
            }
            if ui.button("Exit presentation").on_hover_text("F11").clicked() {
                let ctx = ui.ctx().clone();
                self.set_present(false, &ctx);
            }
            ui.separator();
            ui.checkbox(&mut self.state.caption, "Caption");
            let before = self.state.present_scale;
            ui.add(egui::Slider::new(&mut self.state.present_scale, 1.0..=2.5).text("scale"));
            if before != self.state.present_scale {
                ui.ctx().set_zoom_factor(self.state.present_scale);
            }
            if !dirac {
                ui.menu_button("Side plots", |ui| self.state.sections.menu(ui));
            }
            self.recording_badge(ui);
        });
        out
    }

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(s) = &self.snapshot {
                let gpu = match (&s.backend.backend_choice, s.backend.backend.as_str()) {
                    (Some(r), "cpu") => format!("CPU ({:.0} steps/s vs {:.0} on the GPU)", r.cpu_steps_per_second, r.gpu_steps_per_second),
                    (Some(r), _) => format!("GPU ({:.0} steps/s vs {:.0} on the CPU)", r.gpu_steps_per_second, r.cpu_steps_per_second),
                    (None, "cpu") => "CPU (no GPU in use)".into(),
                    (None, _) => "GPU".into(),
                };
                ui.label(format!("Training on {gpu}: {}, {}", s.backend.adapter, s.engine.describe()))
                    .on_hover_text(if s.backend.reason.is_empty() { "Chosen on the command line." } else { &s.backend.reason });
                ui.separator();
                ui.label(format!("step {}", s.step));
                ui.separator();
                ui.label(format!("{:.0} steps/s", s.steps_per_second));
                ui.separator();
                // Frames are timed only while training animates them: until then there is no
                // figure to show (a paused window keeps the last one).
                let (median, p99) = self.frame_times.stats();
                if median > 0.0 {
                    ui.label(format!("{:.0} fps (frame {:.1} ms, p99 {:.1} ms)", 1000.0 / median, median, p99));
                }
                if let Some(n) = self.raster_threads {
                    ui.label("· software renderer").on_hover_text(format!(
                        "The window is drawn by the CPU (no GPU), on {n} of the cores; training has the others. \
                         Set LP_NUM_THREADS to give drawing more (`--renderer glow`, the default, is the fast one here)."
                    ));
                }
                if s.config.schedule.unroll > 0 {
                    ui.separator();
                    ui.label(format!("unrolled GAN (first-order), k = {}", s.config.schedule.unroll));
                }
            } else {
                ui.label("Starting the trainer…");
            }
        });
    }
}

impl eframe::App for GanscopeApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        // Timed only while the previous frame was animating (training ran).
        let animating = self.snapshot.as_ref().is_some_and(|s| s.running);
        self.frame_times.tick(animating);
        self.frame_start = Some(Instant::now());
        if let Some(cpu) = frame.info().cpu_usage {
            self.cpu_ms.push(cpu * 1000.0);
        }
        self.poll();
        if let Some(msg) = self.pending_notice.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.notice = Some((msg, Instant::now()));
        }
        self.record_frame(ctx);
        if let Some(job) = &mut self.screenshot {
            let step = self.snapshot.as_ref().map_or(0, |s| s.step);
            if step >= 10_000 && !job.rss_logged {
                // For the memory-stability check: compare with the RSS logged at the end.
                job.rss_logged = true;
                eprintln!("window: RSS {:.1} MiB at step {step}", crate::run::rss_mib().unwrap_or(f64::NAN));
            }
            let paused = self.snapshot.as_ref().is_some_and(|s| !s.running);
            if step >= job.steps && paused && !job.requested {
                // Let a few frames draw the final state before the shot.
                job.frames_after_target += 1;
                if job.frames_after_target > 3 {
                    job.requested = true;
                    let (median, p99) = self.frame_times.stats();
                    let (build, build99) = self.build_ms.stats();
                    let (cpu, cpu99) = self.cpu_ms.stats();
                    eprintln!(
                        "window: frame time median {median:.1} ms, p99 {p99:.1} ms; app build {build:.2} ms (p99 {build99:.2}); \
                         eframe CPU incl. rendering {cpu:.1} ms (p99 {cpu99:.1}); {:.0} steps/s while training; RSS {:.1} MiB at step {step}",
                        self.train_rate,
                        crate::run::rss_mib().unwrap_or(f64::NAN)
                    );
                    if let Some(s) = &self.snapshot {
                        let b = &s.backend;
                        eprintln!(
                            "window: trained on {} ({}){}",
                            b.backend,
                            b.adapter,
                            if b.reason.is_empty() { String::new() } else { format!(": {}", b.reason) }
                        );
                    }
                    let (path, done) = (job.path.clone(), job.done.clone());
                    let ctx2 = ctx.clone();
                    ctx.request_screenshot(move |image| {
                        let [w, h] = image.size;
                        match recorder::save_png(&path, &recorder::crop_image(&image, (0, 0, w as u32, h as u32))) {
                            Ok(()) => eprintln!("wrote {} ({w}×{h})", path.display()),
                            Err(e) => eprintln!("error: cannot write {}: {e}", path.display()),
                        }
                        done.store(true, Ordering::SeqCst);
                        ctx2.request_repaint();
                    });
                }
            }
            if job.done.load(Ordering::SeqCst) {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            ctx.request_repaint();
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut intents = self.keyboard(ui.ctx());
        let mut restart = false;
        let mut intents_after = Vec::new();
        let mut exports: Vec<export::ExportAction> = Vec::new();
        let layers_before = self.state.layers.clone();
        self.help_window(ui.ctx());
        let mut open = self.show_export;
        egui::Window::new("Record and export").open(&mut open).resizable(false).show(ui.ctx(), |ui| {
            exports = export::ui(ui, &mut self.state.export, &mut self.browsers, self.recorder.is_some(), self.mp4_unavailable.as_deref());
        });
        self.show_export = open;
        egui::Panel::top("tabs").show(ui, |ui| {
            if self.state.present {
                let bar = self.presenter_bar(ui);
                intents.extend(bar);
                return;
            }
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.state.tab, Tab::Lab, "2-D lab").on_hover_text("A GAN learning a 2-D distribution, live.");
                ui.selectable_value(&mut self.state.tab, Tab::Dirac, "Dirac-GAN")
                    .on_hover_text("The one-dimensional GAN of Mescheder et al. 2018: which training methods converge, and why.");
                if ui.button("Present (F11)").on_hover_text("Controls hidden, everything larger: for a projector.").clicked() {
                    let ctx = ui.ctx().clone();
                    self.set_present(true, &ctx);
                }
                if ui.button("?").on_hover_text("Keyboard shortcuts").clicked() {
                    self.show_help = true;
                }
                if ui.button("Record & export").on_hover_text("PNGs, recordings (GIF, APNG, MP4), CSVs, the config as TOML.").clicked() {
                    self.show_export = !self.show_export;
                }
                self.recording_badge(ui);
            });
        });
        if !self.state.present {
            egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        }
        if self.state.tab == Tab::Dirac {
            self.dirac.ui(ui, self.state.present);
            for i in intents {
                self.apply(i, ui.ctx());
            }
            return;
        }
        if !self.state.present {
            egui::Panel::left("controls").resizable(true).default_size(300.0).show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    intents.extend(self.controls.ui(ui, self.snapshot.as_ref(), &mut self.state.layers));
                });
            });
        }
        let side_panel = egui::Panel::right("side plots").resizable(true).default_size(380.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                if let Some(c) = &self.compare {
                    compare::overlay_plot(ui, &self.history, &c.history);
                }
                if !self.state.present {
                    ui.menu_button("Side plots", |ui| self.state.sections.menu(ui));
                }
                self.side.ui(ui, &self.history, self.snapshot.as_ref(), &self.state.sections)
            });
        });
        self.side_rect = Some(side_panel.response.rect);
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(e) = &self.start_error {
                ui.colored_label(egui::Color32::RED, e);
            }
            if let Some(msg) = &self.crashed {
                ui.colored_label(egui::Color32::RED, format!("The training thread stopped with an error: {msg}"));
                if ui.button("Restart training").on_hover_text("Start a new training thread on the settings shown at the left.").clicked() {
                    restart = true;
                }
            }
            if let Some(s) = &self.snapshot
                && let Some(d) = &s.diverged
            {
                ui.colored_label(egui::Color32::from_rgb(220, 60, 60), format!("Diverged: {d}  — press Reset (R) to start again."));
            }
            if let Some((msg, at)) = &self.notice
                && at.elapsed().as_secs_f32() < 6.0
            {
                ui.label(egui::RichText::new(msg).italics());
            }
            if self.state.present
                && self.state.caption
                && let Ok(p) = crate::presets::get(self.controls.preset())
            {
                ui.label(egui::RichText::new(&p.meta.title).heading());
                ui.label(&p.meta.explain);
            }
            match &mut self.compare {
                None => self.data_view.ui(ui, self.snapshot.as_ref(), &self.state.layers, f32::INFINITY),
                Some(c) => {
                    let preset = self.controls.preset().to_string();
                    let mut close = false;
                    // Each view gets half the width (a wide legend must not push the other aside).
                    let side = (ui.available_width() - 2.0 * ui.spacing().item_spacing.x) / 2.0;
                    ui.columns(2, |cols| {
                        compare::caption(&mut cols[0], &preset, self.snapshot.as_ref(), &self.history, compare::LEFT);
                        self.data_view.ui(&mut cols[0], self.snapshot.as_ref(), &self.state.layers, side);
                        compare::caption(&mut cols[1], &c.preset, c.snapshot(), &c.history, compare::RIGHT);
                        close = cols[1].button("Close the side-by-side run").clicked();
                        c.ui(&mut cols[1], &self.state.layers, side);
                    });
                    if close {
                        intents_after.push(Intent::CloseCompare);
                    }
                }
            }
        });
        intents.extend(intents_after);
        if let Some(a) = self.data_view.draw_action.take() {
            self.drawn_data(a);
        }
        for e in exports {
            self.export(e, ui.ctx());
        }
        if self.state.layers != layers_before {
            intents.push(Intent::Worker(Command::SetView(self.state.layers.request())));
        }
        for i in intents {
            self.apply(i, ui.ctx());
        }
        if restart {
            self.restart_worker(ui.ctx());
        }
        if let Some(t) = self.frame_start.take() {
            self.build_ms.push(t.elapsed().as_secs_f32() * 1000.0);
        }
    }

    /// A recording in progress is finished, not lost, when the window closes.
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(r) = self.recorder.take() {
            let path = r.path.clone();
            let (tx, rx) = crossbeam_channel::bounded(1);
            r.finish_in_background(move |result| {
                let _ = tx.send(result);
            });
            // The encoder stops at `finish`'s stop message (a screenshot asked for in the last
            // frame, never fulfilled, still holds a sink); an APNG is encoded at the end, so
            // wait for it a while, not forever.
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(Ok(n)) => eprintln!("recorded {n} frames to {}", path.display()),
                Ok(Err(e)) => eprintln!("error: the recording to {} failed: {e}", path.display()),
                Err(_) => eprintln!("error: the recording to {} did not finish in 20 s", path.display()),
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}

/// Rolling frame-time statistics for the status bar: the interval between frames.
#[derive(Default)]
struct FrameTimes {
    last: Option<Instant>,
    ms: Rolling,
}

impl FrameTimes {
    /// A frame starts. `animating`: the window redraws continuously (training runs), so the
    /// interval since the previous frame is a frame time; otherwise it is idle time (a
    /// paused window redraws only on input) and is not counted.
    fn tick(&mut self, animating: bool) {
        let now = Instant::now();
        if let (Some(l), true) = (self.last, animating) {
            self.ms.push(now.duration_since(l).as_secs_f32() * 1000.0);
        }
        self.last = Some(now);
    }

    /// (median, p99) in milliseconds.
    fn stats(&self) -> (f32, f32) {
        self.ms.stats()
    }
}

/// The latest 240 values of a per-frame figure.
#[derive(Default)]
struct Rolling {
    ms: std::collections::VecDeque<f32>,
}

impl Rolling {
    fn push(&mut self, v: f32) {
        self.ms.push_back(v);
        if self.ms.len() > 240 {
            self.ms.pop_front();
        }
    }

    /// (median, p99) in milliseconds.
    fn stats(&self) -> (f32, f32) {
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

/// Holds Mesa's software rasteriser (llvmpipe / lavapipe) to `software_raster_threads()`:
/// left alone it starts a thread per core and contends with training on every one. Measured
/// on 2 cores (`xvfb-run ganscope --preset ns-ring --steps 8000 --screenshot x.png`): training
/// 725–764 steps/s in the window with one raster thread vs 382–576 with two, for a frame
/// interval of 185–193 ms vs 155–164 ms; two training threads beside one raster thread gave
/// 523–667 steps/s and 194–199 ms. GPU drivers ignore the variable; a value the user set is
/// kept.
///
/// # Safety
/// Sets an environment variable: call it before any other thread exists.
pub unsafe fn limit_software_rasteriser() {
    if std::env::var_os("LP_NUM_THREADS").is_none() {
        // SAFETY: the caller guarantees no other thread is running.
        unsafe { std::env::set_var("LP_NUM_THREADS", software_raster_threads().to_string()) };
    }
}

/// True when the window is drawn by a CPU rasteriser (Mesa's llvmpipe / lavapipe, WARP).
fn software_renderer(cc: &eframe::CreationContext<'_>) -> bool {
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

/// Opens the window (blocking until it closes).
pub fn run_window(launch: Launch) -> anyhow::Result<()> {
    let launch_renderer = launch.renderer;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1440.0, 900.0]).with_title("ganscope"),
        renderer: match launch.renderer {
            Renderer::Glow => eframe::Renderer::Glow,
            Renderer::Wgpu => eframe::Renderer::Wgpu,
        },
        persist_window: launch.screenshot.is_none(),
        ..Default::default()
    };
    eframe::run_native("ganscope", options, Box::new(move |cc| Ok(Box::new(GanscopeApp::new(cc, launch))))).map_err(|e| {
        let other = match launch_renderer {
            Renderer::Glow => "--renderer wgpu",
            Renderer::Wgpu => "--renderer glow",
        };
        anyhow::anyhow!("cannot open the window: {e} (the other renderer may work: {other})")
    })
}
