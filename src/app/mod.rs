//! The window: draws the latest snapshot and turns clicks into worker commands. Each panel is
//! a small struct with a `ui` method; panels return intents, which `GanscopeApp` applies once
//! per frame. The UI thread never waits on training: it only `try_recv`s snapshots.

mod bars;
mod colormap;
mod compare;
mod controls;
mod data_view;
mod dirac_view;
mod draw;
mod draw_actions;
mod export;
mod export_actions;
mod file_dialog;
mod frame_stats;
mod inspect;
mod intents;
mod key;
mod keyboard;
mod lesson_strip;
mod live_run;
mod recorder;
pub mod render;
mod runs;
mod screenshot;
mod side_plots;

use crate::backend::BackendChoice;
use crate::config::Config;
use crate::engine::EngineChoice;
use crate::worker::{Command, Speed, WorkerHandle, WorkerOptions};
use controls::ControlsPanel;
use data_view::{DataView, Layers};
use dirac_view::DiracView;
use eframe::egui;
use frame_stats::{FrameTimes, Rolling, software_renderer};
pub use frame_stats::{mark_process_start, software_raster_threads};
pub use intents::Intent;
use screenshot::ScreenshotJob;
use side_plots::{Sections, SidePlots};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    ("N / P", "next / previous preset (lesson, while one plays)"),
    ("B", "back to the lesson's previous cue"),
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
    /// Play this lesson from the start.
    pub lesson: Option<crate::lesson::Lesson>,
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
    worker_opts: WorkerOptions,
    /// The main run: its worker, newest snapshot, curves and evaluations.
    live: live_run::LiveRun,
    start_error: Option<String>,
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
    /// Frames begun so far, and when the first was on screen (ms after the process started).
    frames: u64,
    first_frame_ms: Option<f32>,
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
    /// Why MP4 cannot be recorded here, if it cannot.
    mp4_unavailable: Option<String>,
    /// Messages from the screenshot callbacks (they run on the render thread).
    pending_notice: Arc<std::sync::Mutex<Option<String>>>,
    /// Where the side plots were drawn last frame (recording "data view + side plots").
    side_rect: Option<egui::Rect>,
    /// The "Record & export" panel's file dialogs.
    browsers: export::Browsers,
    /// The lesson asked for, until the worker's snapshots say where it stands.
    lesson: Option<crate::worker::LessonStatus>,
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
        let (live, start_error) = match worker {
            Ok(w) => (live_run::LiveRun::new(w), start_error),
            Err(e) => (live_run::LiveRun::default(), Some(format!("Could not start training: {e:#}"))),
        };
        let mut app = Self {
            controls: ControlsPanel::new(cfg, &preset_name),
            state,
            live,
            worker_opts,
            start_error,
            data_view: DataView::with_drawing(),
            side: SidePlots,
            dirac: DiracView::default(),
            compare: None,
            notice: None,
            frame_times: FrameTimes::default(),
            build_ms: Rolling::default(),
            cpu_ms: Rolling::default(),
            frame_start: None,
            frames: 0,
            first_frame_ms: None,
            raster_threads,
            train_rate: 0.0,
            show_help: false,
            ctx: cc.egui_ctx.clone(),
            recorder: None,
            show_export: false,
            mp4_unavailable: export::mp4_check(),
            pending_notice: Arc::default(),
            side_rect: None,
            browsers: export::Browsers::default(),
            screenshot: launch.screenshot.map(|(path, steps)| ScreenshotJob::new(path, steps)),
            lesson: None,
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
        if let Some(lesson) = launch.lesson {
            app.play_lesson(Some(lesson), &cc.egui_ctx);
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

    /// The lesson being played, as the latest snapshot says (or as just asked for).
    fn playing_lesson(&self) -> Option<crate::worker::LessonStatus> {
        match &self.live.snapshot {
            Some(s) if s.lesson.is_some() => s.lesson.clone(),
            _ => self.lesson.clone(),
        }
    }

    /// Enters or leaves presentation mode: the whole window scaled by `present_scale`.
    pub fn set_present(&mut self, on: bool, ctx: &egui::Context) {
        self.state.present = on;
        ctx.set_zoom_factor(if on { self.state.present_scale } else { 1.0 });
    }
}

impl eframe::App for GanscopeApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        // Timed only while the previous frame was animating (training ran).
        let animating = self.live.snapshot.as_ref().is_some_and(|s| s.running);
        self.frame_times.tick(animating);
        self.frame_start = Some(Instant::now());
        // The first frame has been painted once the second begins.
        self.frames += 1;
        if self.frames == 2 {
            self.first_frame_ms = frame_stats::since_process_start_ms();
        }
        if let Some(cpu) = frame.info().cpu_usage {
            self.cpu_ms.push(cpu * 1000.0);
        }
        self.poll();
        if let Some(msg) = self.pending_notice.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.notice = Some((msg, Instant::now()));
        }
        self.record_frame(ctx);
        self.screenshot_tick(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut intents = self.keyboard(ui.ctx());
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
                let playing = self.playing_lesson();
                lesson_strip::menu(ui, playing.as_ref(), &mut intents);
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
                    intents.extend(self.controls.ui(ui, self.live.snapshot.as_ref(), &mut self.state.layers));
                });
            });
        }
        let side_panel = egui::Panel::right("side plots").resizable(true).default_size(380.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                if let Some(c) = &self.compare {
                    compare::overlay_plot(ui, &self.live.history, c.history());
                }
                if !self.state.present {
                    ui.menu_button("Side plots", |ui| self.state.sections.menu(ui));
                }
                self.side.ui(ui, &self.live.history, self.live.snapshot.as_ref(), &self.state.sections)
            });
        });
        self.side_rect = Some(side_panel.response.rect);
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(e) = &self.start_error {
                ui.colored_label(egui::Color32::RED, e);
            }
            if let Some(msg) = &self.live.crashed {
                ui.colored_label(egui::Color32::RED, format!("The training thread stopped with an error: {msg}"));
                if ui.button("Restart training").on_hover_text("Start a new training thread on the settings shown at the left.").clicked() {
                    intents_after.push(Intent::RestartWorker);
                }
            }
            if let Some(s) = &self.live.snapshot
                && let Some(d) = &s.diverged
            {
                ui.colored_label(egui::Color32::from_rgb(220, 60, 60), format!("Diverged: {d}  — press Reset (R) to start again."));
            }
            if let Some((msg, at)) = &self.notice
                && at.elapsed().as_secs_f32() < 6.0
            {
                ui.label(egui::RichText::new(msg).italics());
            }
            let lesson = self.live.snapshot.as_ref().and_then(|s| s.lesson.clone().map(|l| (s, l)));
            if let Some((snap, status)) = &lesson {
                lesson_strip::strip(ui, snap, status, &self.live.history, &mut intents_after);
            } else if self.state.present
                && self.state.caption
                && let Ok(p) = crate::presets::get(self.controls.preset())
            {
                ui.label(egui::RichText::new(&p.meta.title).heading());
                ui.label(&p.meta.explain);
            }
            match &mut self.compare {
                None => self.data_view.ui(ui, self.live.snapshot.as_ref(), &self.state.layers, f32::INFINITY),
                Some(c) => {
                    let preset = self.controls.preset().to_string();
                    let mut close = false;
                    // Each view gets half the width (a wide legend must not push the other aside).
                    let side = (ui.available_width() - 2.0 * ui.spacing().item_spacing.x) / 2.0;
                    ui.columns(2, |cols| {
                        compare::caption(&mut cols[0], &preset, self.live.snapshot.as_ref(), &self.live.history, compare::LEFT);
                        self.data_view.ui(&mut cols[0], self.live.snapshot.as_ref(), &self.state.layers, side);
                        compare::caption(&mut cols[1], &c.preset, c.snapshot(), c.history(), compare::RIGHT);
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
        intents.extend(self.data_view.draw_action.take().map(Intent::Draw));
        intents.extend(exports.into_iter().map(Intent::Export));
        if self.state.layers != layers_before {
            intents.push(Intent::Worker(Command::SetView(self.state.layers.request())));
        }
        // The frame's one intent path: everything asked for is applied here, in order.
        for i in intents {
            self.apply(i, ui.ctx());
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
