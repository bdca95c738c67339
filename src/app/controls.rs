//! The control panel: every knob, labelled and explained. Objective, schedule, noise and
//! optimizer settings apply live (weights kept); dataset and architecture are staged and
//! applied with a button, because they rebuild the networks.

use super::Intent;
use super::data_view::Layers;
use crate::config::*;
use crate::worker::{Command, Snapshot, Speed};
use eframe::egui::{self, ComboBox, DragValue, Slider, Ui};

pub struct ControlsPanel {
    /// What the widgets edit.
    edit: Config,
    /// What the trainer runs (as far as we know).
    applied: Config,
    preset: String,
    error: Option<String>,
    share: SharePanel,
}

/// Copy the running config as a share string, or open one.
#[derive(Default)]
struct SharePanel {
    /// The latest copied string (shown, selectable, so it can also be copied by hand).
    copied: String,
    /// What the user pasted.
    pasted: String,
    error: Option<String>,
}

impl SharePanel {
    fn ui(&mut self, ui: &mut Ui, running: &Config, lesson: Option<&crate::lesson::Lesson>, out: &mut Vec<Intent>) {
        if let Some(l) = lesson
            && ui
                .button("Copy the lesson's share string")
                .on_hover_text("The lesson being played — its start and every cue — as one line (gl1:…).")
                .clicked()
        {
            self.copied = crate::lesson::share(l);
            ui.ctx().copy_text(self.copied.clone());
        }
        if ui
            .button("Copy share string")
            .on_hover_text("The whole run — every setting and the seed — as one line to paste anywhere.")
            .clicked()
        {
            self.copied = crate::share::encode(running);
            ui.ctx().copy_text(self.copied.clone());
        }
        if !self.copied.is_empty() {
            ui.add(egui::TextEdit::singleline(&mut self.copied.as_str()).desired_width(f32::INFINITY)).labelled_by(ui.label("Copied:").id);
        }
        let paste = ui.label("Paste a share string:");
        ui.add(egui::TextEdit::singleline(&mut self.pasted).hint_text("gs1:… or gl1:…").desired_width(f32::INFINITY)).labelled_by(paste.id);
        if ui
            .button("Open share string")
            .on_hover_text("Start the run (gs1:) or the lesson (gl1:) the string describes, from step 0.")
            .clicked()
        {
            if self.pasted.trim().starts_with("gl") {
                match crate::lesson::unshare(&self.pasted) {
                    Ok(_) => {
                        self.error = None;
                        out.push(Intent::Lesson(Some(self.pasted.trim().to_string())));
                    }
                    Err(e) => self.error = Some(e),
                }
                return;
            }
            match crate::share::decode(&self.pasted) {
                Ok(cfg) => {
                    self.error = None;
                    out.push(Intent::Worker(Command::SetConfig(Box::new(cfg))));
                    out.push(Intent::Worker(Command::Reset));
                }
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(220, 60, 60), e);
        }
    }
}

impl ControlsPanel {
    pub fn new(cfg: Config, preset: &str) -> Self {
        Self { edit: cfg.clone(), applied: cfg, preset: preset.into(), error: None, share: SharePanel::default() }
    }

    pub fn config(&self) -> &Config {
        &self.edit
    }

    /// Shows `name` as the chosen preset (the keyboard's N / P load it).
    pub fn choose_preset(&mut self, name: &str) {
        self.preset = name.into();
    }

    /// The preset last chosen.
    pub fn preset(&self) -> &str {
        &self.preset
    }

    /// The trainer restarted with `cfg` (preset, reset, rebuild): show it.
    pub fn sync(&mut self, cfg: &Config) {
        self.edit = cfg.clone();
        self.applied = cfg.clone();
    }

    pub fn ui(&mut self, ui: &mut Ui, snap: Option<&Snapshot>, layers: &mut Layers) -> Vec<Intent> {
        let mut out = Vec::new();
        self.run_controls(ui, snap, &mut out);
        ui.separator();
        self.preset_menu(ui, &mut out);
        ui.separator();
        egui::CollapsingHeader::new("Share").default_open(false).show(ui, |ui| {
            let running = snap.map_or_else(|| self.applied.clone(), |s| (*s.config).clone());
            let lesson = snap.and_then(|s| s.lesson.as_ref()).map(|l| l.lesson.clone());
            self.share.ui(ui, &running, lesson.as_deref(), &mut out);
        });
        egui::CollapsingHeader::new("Layers").default_open(true).show(ui, |ui| layers_ui(ui, layers));
        egui::CollapsingHeader::new("Objective").default_open(true).show(ui, |ui| objective_ui(ui, &mut self.edit));
        egui::CollapsingHeader::new("Schedule").default_open(true).show(ui, |ui| schedule_ui(ui, &mut self.edit));
        egui::CollapsingHeader::new("Optimizers").default_open(false).show(ui, |ui| {
            optimizer_ui(ui, "G", &mut self.edit.optim.g);
            optimizer_ui(ui, "D", &mut self.edit.optim.d);
        });
        let mut rebuild = false;
        // What the pending edits would rebuild (`Config::diff` decides, as for the trainer).
        let pending = self.applied.diff(&self.edit).why;
        egui::CollapsingHeader::new("Dataset").default_open(false).show(ui, |ui| {
            data_ui(ui, &mut self.edit.data);
            rebuild |= rebuild_button(ui, pending.contains(&"dataset"), "Apply dataset");
        });
        egui::CollapsingHeader::new("Architecture").default_open(false).show(ui, |ui| {
            architecture_ui(ui, &mut self.edit);
            rebuild |= rebuild_button(ui, pending.contains(&"architecture"), "Apply architecture");
        });
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::RED, e);
        }
        // Live changes: everything except dataset / architecture, which wait for their button.
        // Whether a change rebuilds the networks is `Config::diff`'s call (a new seed does).
        let mut live = self.edit.clone();
        if !rebuild {
            live.data = self.applied.data.clone();
            live.generator = self.applied.generator.clone();
            live.discriminator = self.applied.discriminator.clone();
        }
        if live != self.applied {
            match live.validate() {
                Ok(()) => {
                    self.error = None;
                    self.applied = live.clone();
                    out.push(Intent::ApplyConfig(Box::new(live)));
                }
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        out
    }

    fn run_controls(&mut self, ui: &mut Ui, snap: Option<&Snapshot>, out: &mut Vec<Intent>) {
        let running = snap.is_some_and(|s| s.running);
        ui.horizontal(|ui| {
            let (label, cmd) = if running { ("Pause", Command::Pause) } else { ("Play", Command::Play) };
            if ui.button(label).on_hover_text("Start or stop training (space).").clicked() {
                out.push(Intent::Worker(cmd));
            }
            if ui.button("Step").on_hover_text("One full step: the D updates, then the G updates (S).").clicked() {
                out.push(Intent::Worker(Command::Step));
            }
            if ui.button("Step D/G").on_hover_text("One single update of D or G, whichever is next.").clicked() {
                out.push(Intent::Worker(Command::SubStep));
            }
            if ui.button("Reset").on_hover_text("New weights from the seed, step 0 (R).").clicked() {
                out.push(Intent::Worker(Command::Reset));
            }
            if ui
                .button("Fork")
                .on_hover_text(
                    "Copy this run, its whole state, into a second run B beside it; change B's knobs under its view and compare.",
                )
                .clicked()
            {
                out.push(Intent::Worker(Command::Fork));
            }
        });
        let current = snap.map(|s| s.speed).unwrap_or(Speed::StepsPerFrame(5));
        let speed_name = |s: Speed| match s {
            Speed::StepsPerFrame(n) => format!("{n} steps / frame"),
            Speed::Max => "As fast as possible".into(),
            Speed::SlowMotion(r) => format!("Slow motion ({r} updates/s)"),
        };
        let mut chosen = current;
        ComboBox::from_label("Speed")
            .selected_text(speed_name(current))
            .show_ui(ui, |ui| {
                for s in [Speed::SlowMotion(2.0), Speed::StepsPerFrame(1), Speed::StepsPerFrame(5), Speed::StepsPerFrame(20), Speed::Max] {
                    ui.selectable_value(&mut chosen, s, speed_name(s));
                }
            })
            .response
            .on_hover_text("How many training steps happen between two frames. Slow motion shows each D and G update.");
        if chosen != current {
            out.push(Intent::Worker(Command::Speed(chosen)));
        }
        if let Some(s) = snap
            && matches!(s.speed, Speed::SlowMotion(_))
        {
            let phase = match s.phase {
                crate::trainer::Phase::UpdatingD => "next: updating D",
                crate::trainer::Phase::UpdatingG => "next: updating G",
            };
            ui.label(egui::RichText::new(phase).strong());
        }
        ui.add(DragValue::new(&mut self.edit.train.seed).prefix("seed "))
            .on_hover_text("Random seed: the same seed replays the same run. Changing it restarts.")
            .labelled_by(ui.label("Seed").id);
        if let Some(s) = snap {
            timeline_ui(ui, s, out);
        }
    }

    fn preset_menu(&mut self, ui: &mut Ui, out: &mut Vec<Intent>) {
        let mut chosen = self.preset.clone();
        ComboBox::from_label("Preset")
            .selected_text(&self.preset)
            .width(200.0)
            .show_ui(ui, |ui| {
                for p in crate::presets::all() {
                    ui.selectable_value(&mut chosen, p.name.to_string(), p.name).on_hover_text(&p.meta.title);
                }
            })
            .response
            .on_hover_text("Load a ready-made demonstration (restarts the run).");
        if chosen != self.preset {
            self.preset = chosen.clone();
            out.push(Intent::Worker(Command::LoadPreset(chosen)));
        }
        if let Ok(p) = crate::presets::get(&self.preset) {
            ui.label(egui::RichText::new(&p.meta.title).strong());
            ui.label(&p.meta.explain);
            if let Some(c) = &p.meta.compare
                && ui.button(format!("Train {c} beside it")).on_hover_text("Start the partner preset side by side with this run.").clicked()
            {
                out.push(Intent::Compare(c.clone()));
            }
            // Any other preset beside this one: two runs drawn side by side, curves overlaid.
            let mut other = None;
            egui::ComboBox::from_label("Compare presets")
                .selected_text("train beside it…")
                .width(140.0)
                .show_ui(ui, |ui| {
                    for p in crate::presets::all() {
                        if ui.selectable_label(false, p.name).on_hover_text(&p.meta.title).clicked() {
                            other = Some(p.name.to_string());
                        }
                    }
                })
                .response
                .on_hover_text("Start another preset side by side with this run (two data views, the curves overlaid).");
            if let Some(name) = other {
                out.push(Intent::Compare(name));
            }
            if let Some(d) = &p.meta.dirac
                && ui
                    .button("The same thing on the Dirac-GAN")
                    .on_hover_text("The one-dimensional GAN of Mescheder et al. 2018, where this can be seen exactly.")
                    .clicked()
            {
                out.push(Intent::OpenDirac(d.clone()));
            }
        }
    }
}

/// The timeline: a slider over the worker's checkpoints (one per evaluation); letting go goes
/// back there. Play from the past replays the same run, or forks it if a knob changed.
fn timeline_ui(ui: &mut Ui, s: &Snapshot, out: &mut Vec<Intent>) {
    let t = &s.timeline;
    if t.steps.len() < 2 {
        return;
    }
    // The slider shows the checkpoint at or before the current step.
    let mut idx = t.steps.iter().rposition(|&c| c <= s.step).unwrap_or(0);
    let last = t.steps.len() - 1;
    let steps = t.steps.clone();
    let r = ui
        .add(Slider::new(&mut idx, 0..=last).clamping(egui::SliderClamping::Edits).custom_formatter(move |i, _| format!("step {}", steps[(i as usize).min(last)])).text("Timeline"))
        .on_hover_text("Go back to any checkpoint (one per evaluation). Play from there replays the same run — or a fork of it, if you change a knob first.");
    if r.changed() && t.steps[idx] != s.step {
        out.push(Intent::Worker(Command::Rewind(t.steps[idx])));
    }
    if let Some(l) = &s.lesson {
        cue_marks(ui, r.rect, &t.steps, &l.lesson);
    }
    let mut note = format!("{} checkpoints, {:.1} MB", t.steps.len(), t.bytes as f64 / 1e6);
    if let Some(f) = t.forked_at {
        note += &format!(" · forked at step {f}: a knob changed there");
    }
    ui.small(note);
}

/// A lesson's cues as marks under the timeline's slider, at their checkpoints.
fn cue_marks(ui: &Ui, slider: egui::Rect, steps: &[u64], lesson: &crate::lesson::Lesson) {
    let last = steps.len().saturating_sub(1).max(1) as f32;
    // The slider's rail, without its label.
    let rail = egui::Rect::from_min_size(slider.min, egui::vec2(ui.spacing().slider_width, slider.height()));
    let colour = ui.visuals().strong_text_color();
    for c in &lesson.cues {
        if let Some(i) = steps.iter().position(|&s| s == c.step) {
            let x = egui::lerp(rail.x_range(), i as f32 / last);
            let y = rail.bottom();
            ui.painter().add(egui::Shape::convex_polygon(
                vec![egui::pos2(x, y - 5.0), egui::pos2(x - 4.0, y + 2.0), egui::pos2(x + 4.0, y + 2.0)],
                colour,
                egui::Stroke::NONE,
            ));
        }
    }
}

fn rebuild_button(ui: &mut Ui, changed: bool, label: &str) -> bool {
    ui.add_enabled(changed, egui::Button::new(format!("{label} (rebuilds the networks)")))
        .on_hover_text("Dataset and architecture changes need fresh networks: the run restarts at step 0.")
        .clicked()
}

fn layers_ui(ui: &mut Ui, l: &mut Layers) {
    ui.checkbox(&mut l.surface, "D surface").on_hover_text("D's output over the plane: where it thinks real data is.");
    ui.checkbox(&mut l.real, "Real samples").on_hover_text("Samples from the target distribution.");
    ui.checkbox(&mut l.fake, "Fake samples").on_hover_text("G's samples from a fixed z batch: each dot keeps its identity.");
    ui.checkbox(&mut l.arrows, "Arrows").on_hover_text("∂D/∂x at each fake: the direction G pushes it.");
    ui.checkbox(&mut l.manifold, "G manifold").on_hover_text("G's image of a grid of latent lines (a 2-D slice of z).");
    ui.checkbox(&mut l.field, "Gradient field").on_hover_text("∂D/∂x over the whole plane.");
    ui.checkbox(&mut l.modes, "Mode circles").on_hover_text("3σ circles around each mode: green when covered, red when missed.");
}

fn combo<T: PartialEq + Copy>(ui: &mut Ui, label: &str, value: &mut T, options: &[(T, &str)], tip: &str) {
    let text = options.iter().find(|(v, _)| v == value).map(|(_, n)| *n).unwrap_or("?");
    ComboBox::from_label(label)
        .selected_text(text)
        .show_ui(ui, |ui| {
            for (v, n) in options {
                ui.selectable_value(value, *v, *n);
            }
        })
        .response
        .on_hover_text(tip);
}

fn slider(ui: &mut Ui, label: &str, v: &mut f32, range: std::ops::RangeInclusive<f32>, log: bool, tip: &str) {
    ui.add(Slider::new(v, range).clamping(egui::SliderClamping::Edits).logarithmic(log).text(label)).on_hover_text(tip);
}

fn usize_slider(ui: &mut Ui, label: &str, v: &mut usize, range: std::ops::RangeInclusive<usize>, tip: &str) {
    ui.add(Slider::new(v, range).clamping(egui::SliderClamping::Edits).text(label)).on_hover_text(tip);
}

fn objective_ui(ui: &mut Ui, c: &mut Config) {
    use LossKind::*;
    combo(
        ui,
        "Loss",
        &mut c.loss.kind,
        &[
            (Minimax, "minimax (saturating)"),
            (Ns, "non-saturating"),
            (Ls, "least squares"),
            (Hinge, "hinge"),
            (Wgan, "WGAN (clip)"),
            (WganGp, "WGAN-GP"),
        ],
        "The game D and G play. Changing it keeps the weights.",
    );
    match c.loss.kind {
        Wgan => {
            slider(ui, "Weight clip c", &mut c.loss.clip, 0.001..=1.0, true, "WGAN: every D weight is clipped to ±c after each D step.")
        }
        WganGp => slider(ui, "GP λ", &mut c.loss.gp_lambda, 0.01..=100.0, true, "Strength of the (|∂D/∂x| − 1)² penalty on interpolates."),
        _ => {}
    }
    if c.loss.kind.takes_label_smoothing() {
        slider(
            ui,
            "Label smoothing",
            &mut c.loss.label_smoothing,
            0.0..=0.45,
            false,
            "One-sided: D's target for real samples becomes 1 − s, so it is less sure.",
        );
    }
    slider(
        ui,
        "R1 γ",
        &mut c.reg.r1,
        0.0..=100.0,
        false,
        "Penalise D's slope at real samples: γ/2·E|∂D/∂x|² (Mescheder et al.'s γ). No cliffs around the data.",
    );
    slider(ui, "R2 γ", &mut c.reg.r2, 0.0..=100.0, false, "Penalise D's slope at fake samples: γ/2·E|∂D/∂x|².");
    slider(
        ui,
        "DRAGAN λ",
        &mut c.reg.dragan,
        0.0..=100.0,
        false,
        "λ·E(|∂D/∂x| − 1)² at random points between each real x and x + 0.5·std·U[0,1] (Kodali et al.): slope 1 near the data.",
    );
    slider(
        ui,
        "GP λ (any loss)",
        &mut c.reg.gp,
        0.0..=100.0,
        false,
        "WGAN-GP's λ·E(|∂D/∂x| − 1)² at random interpolates of real and fake samples, with whatever loss is chosen.",
    );
    slider(
        ui,
        "Instance noise σ",
        &mut c.noise.instance_std,
        0.0..=1.0,
        false,
        "Blur every D input with Gaussian noise: the distributions overlap, D stays smooth.",
    );
    combo(
        ui,
        "Noise annealing",
        &mut c.noise.anneal,
        &[(Anneal::Constant, "constant"), (Anneal::Linear, "linear"), (Anneal::Exponential, "exponential")],
        "How σ shrinks over the run, down to the floor.",
    );
    if c.noise.anneal != Anneal::Constant {
        ui.add(DragValue::new(&mut c.noise.anneal_steps).range(1..=1_000_000).prefix("over ").suffix(" steps"))
            .on_hover_text("Length of the annealing.");
        slider(ui, "Noise floor", &mut c.noise.floor, 0.0..=0.5, false, "σ never goes below this.");
    }
}

fn schedule_ui(ui: &mut Ui, c: &mut Config) {
    usize_slider(ui, "D steps", &mut c.schedule.d_steps, 1..=10, "D updates per step: a stronger opponent for G.");
    usize_slider(ui, "G steps", &mut c.schedule.g_steps, 1..=10, "G updates per step.");
    combo(
        ui,
        "Update order",
        &mut c.schedule.mode,
        &[(ScheduleMode::Alternating, "alternating"), (ScheduleMode::Simultaneous, "simultaneous")],
        "Alternating: G sees the new D. Simultaneous: both gradients from the same weights (can circle).",
    );
    usize_slider(
        ui,
        "Unroll k (first-order)",
        &mut c.schedule.unroll,
        0..=10,
        "G is scored against D advanced k steps ahead (first-order unrolled GAN).",
    );
    usize_slider(ui, "Batch size", &mut c.train.batch_size, 8..=2048, "Samples per update.");
}

fn optimizer_ui(ui: &mut Ui, who: &str, o: &mut OptimizerConfig) {
    ui.label(egui::RichText::new(format!("{who} optimizer")).strong());
    combo(
        ui,
        &format!("{who} optimizer"),
        &mut o.kind,
        &[(OptimKind::Adam, "Adam"), (OptimKind::Sgd, "SGD"), (OptimKind::Rmsprop, "RMSProp")],
        "Changing the kind resets this network's optimizer state; other changes keep it.",
    );
    slider(ui, &format!("{who} learning rate"), &mut o.lr, 1e-6..=1.0, true, "Step size of this network's updates.");
    if o.kind == OptimKind::Adam {
        slider(ui, &format!("{who} β1"), &mut o.beta1, 0.0..=0.99, false, "Adam's momentum: 0.5 is common for GANs.");
        slider(ui, &format!("{who} β2"), &mut o.beta2, 0.5..=0.9999, false, "Adam's second-moment decay.");
    } else {
        slider(ui, &format!("{who} momentum"), &mut o.momentum, 0.0..=0.99, false, "Momentum (SGD, RMSProp).");
    }
}

fn data_ui(ui: &mut Ui, d: &mut DataConfig) {
    use DataKind::*;
    combo(
        ui,
        "Dataset",
        &mut d.kind,
        &[(Ring, "ring"), (Grid, "grid"), (Spiral, "spiral"), (Moons, "two moons"), (Line, "line"), (Gaussian, "single Gaussian")],
        "The distribution G must learn.",
    );
    match d.kind {
        Ring => {
            usize_slider(ui, "Modes", &mut d.modes, 1..=32, "Gaussians on the circle.");
            slider(ui, "Radius", &mut d.radius, 0.1..=5.0, false, "Circle radius.");
        }
        Grid => {
            usize_slider(ui, "Grid n", &mut d.grid_n, 1..=10, "n×n Gaussians.");
            slider(ui, "Spacing", &mut d.spacing, 0.1..=5.0, false, "Distance between neighbouring modes.");
        }
        Line => slider(ui, "Half-length", &mut d.radius, 0.1..=5.0, false, "Half-length of the segment."),
        _ => {}
    }
    slider(ui, "Std", &mut d.std, 0.001..=1.0, true, "Spread of each mode (or of the noise).");
}

fn architecture_ui(ui: &mut Ui, c: &mut Config) {
    let acts =
        [(Activation::Relu, "ReLU"), (Activation::LeakyRelu, "LeakyReLU"), (Activation::Tanh, "tanh"), (Activation::Sigmoid, "sigmoid")];
    ui.label(egui::RichText::new("Generator").strong());
    usize_slider(ui, "G depth", &mut c.generator.shape.depth, 0..=6, "Hidden layers of G.");
    usize_slider(ui, "G width", &mut c.generator.shape.width, 4..=512, "Units per hidden layer of G.");
    combo(ui, "G activation", &mut c.generator.shape.activation, &acts, "G's nonlinearity.");
    usize_slider(ui, "Latent dim", &mut c.generator.latent_dim, 1..=256, "Size of z.");
    ui.label(egui::RichText::new("Discriminator").strong());
    usize_slider(ui, "D depth", &mut c.discriminator.shape.depth, 0..=6, "Hidden layers of D.");
    usize_slider(ui, "D width", &mut c.discriminator.shape.width, 4..=512, "Units per hidden layer of D.");
    combo(ui, "D activation", &mut c.discriminator.shape.activation, &acts, "D's nonlinearity.");
    ui.checkbox(&mut c.discriminator.spectral_norm, "Spectral norm")
        .on_hover_text("Divide each D weight by its largest singular value: D becomes 1-Lipschitz per layer.");
    ui.checkbox(&mut c.discriminator.minibatch_stddev, "Minibatch stddev")
        .on_hover_text("D also sees how varied the batch is: a collapsed batch is easy to spot.");
    usize_slider(
        ui,
        "Minibatch kernels",
        &mut c.discriminator.minibatch_kernels,
        0..=32,
        "Minibatch discrimination (Salimans et al. 2016): D compares every sample with every other one in its batch \
         through this many learned kernels, so a batch whose samples all look alike is easy to reject. 0 = off. \
         Runs on burn's autodiff, and costs batch² comparisons: slower.",
    );
    ui.add_enabled_ui(c.discriminator.minibatch_kernels > 0, |ui| {
        usize_slider(ui, "Kernel dim", &mut c.discriminator.minibatch_kernel_dim, 1..=16, "Numbers per minibatch-discrimination kernel.");
    });
    usize_slider(ui, "PacGAN pack", &mut c.discriminator.pack, 1..=4, "D judges this many samples at once.");
    // A conditional GAN needs labelled data and no packing (`Config::validate`).
    let can = matches!(c.data.kind, crate::config::DataKind::Ring | crate::config::DataKind::Grid) && c.discriminator.pack == 1;
    if !can {
        c.model.conditional = false;
    }
    ui.add_enabled(can, egui::Checkbox::new(&mut c.model.conditional, "Conditional GAN (labels)"))
        .on_hover_text(
            "Mirza & Osindero 2014: G and D also get the mode's number, one-hot. D judges each sample with its label, \
             so G must draw every mode it is asked for. Rebuilds the networks.",
        )
        .on_disabled_hover_text("Needs ring or grid data and PacGAN pack 1.");
}
