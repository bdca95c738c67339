//! The Dirac-GAN tab: the (θ, ψ) plane with the training vector field and the path from a
//! clicked start, the 1-D picture (two Diracs and the line D(x) = ψx), |(θ, ψ)| over steps on a
//! log scale, and the Jacobian's eigenvalues at the equilibrium against γ. It is all closed form
//! (`crate::dirac`), computed on the UI thread when a knob changes (≈ 1 ms for 500 steps).

use crate::dirac::presets::{self as dpresets, DiracPreset};
use crate::dirac::{self, DiracGan, Method, Update};
use eframe::egui::{self, Color32, ComboBox, DragValue, Slider, Ui};
use egui_plot::{Arrows, HLine, Line, Plot, PlotPoints, Points, VLine};
use std::time::Instant;

const PATH: Color32 = Color32::from_rgb(30, 110, 220);
const START: Color32 = Color32::from_rgb(220, 40, 40);
const DATA: Color32 = Color32::from_rgb(20, 150, 60);

#[derive(Clone, Copy, Debug, PartialEq)]
enum UpdateKind {
    Simultaneous,
    Alternating,
    Continuous,
}

/// Everything the trajectory depends on (recomputed when it changes).
#[derive(Clone, Debug, PartialEq)]
struct Settings {
    method: Method,
    kind: UpdateKind,
    d_steps: u32,
    h: f64,
    steps: usize,
    gamma: f64,
    sigma: f64,
    start: (f64, f64),
}

impl Settings {
    fn from_preset(p: &DiracPreset) -> Self {
        let (kind, d_steps) = match p.update {
            Update::Simultaneous => (UpdateKind::Simultaneous, 1),
            Update::Alternating { d_steps } => (UpdateKind::Alternating, d_steps),
            Update::Continuous => (UpdateKind::Continuous, 1),
        };
        let g = p.gan();
        Self { method: p.method, kind, d_steps, h: dirac::H, steps: dirac::STEPS, gamma: g.gamma, sigma: g.sigma, start: dirac::START }
    }

    fn update(&self) -> Update {
        match self.kind {
            UpdateKind::Simultaneous => Update::Simultaneous,
            UpdateKind::Alternating => Update::Alternating { d_steps: self.d_steps },
            UpdateKind::Continuous => Update::Continuous,
        }
    }

    fn gan(&self) -> DiracGan {
        let mut g = DiracGan::new(self.method).with_gamma(self.gamma);
        g.sigma = self.sigma;
        g
    }
}

/// What the plots draw, computed from `Settings`.
struct Computed {
    settings: Settings,
    gan: DiracGan,
    path: Vec<(f64, f64)>,
    /// None where (0, 0) is not stationary (WGAN-GP's jump).
    eigenvalues: Option<[(f64, f64); 2]>,
}

pub struct DiracView {
    preset: &'static str,
    settings: Settings,
    computed: Option<Computed>,
    /// How many steps of the path are drawn (the animation's position).
    shown: usize,
    playing: bool,
    last_tick: Option<Instant>,
    /// Steps drawn per second while playing.
    speed: f64,
    fine_field: bool,
}

impl Default for DiracView {
    fn default() -> Self {
        let p = &dpresets::PRESETS[0];
        Self {
            preset: p.name,
            settings: Settings::from_preset(p),
            computed: None,
            shown: dirac::STEPS,
            playing: false,
            last_tick: None,
            speed: 100.0,
            fine_field: true,
        }
    }
}

impl DiracView {
    /// Opens a Dirac preset by name (from a 2-D preset's "same thing on the Dirac-GAN" link).
    pub fn load_preset(&mut self, name: &str) {
        if let Some(p) = dpresets::get(name) {
            self.preset = p.name;
            self.settings = Settings::from_preset(p);
            self.restart_animation();
        }
    }

    /// Stops the animation at the path's end.
    pub fn show_whole_path(&mut self) {
        self.playing = false;
        self.shown = self.settings.steps;
    }

    fn restart_animation(&mut self) {
        self.shown = 0;
        self.playing = true;
        self.last_tick = None;
    }

    /// The final |(θ, ψ)| of the current settings (for tests).
    pub fn final_norm(&mut self) -> f64 {
        self.compute();
        let c = self.computed.as_ref().expect("computed");
        dirac::norm(*c.path.last().expect("points"))
    }

    pub fn preset_name(&self) -> &str {
        self.preset
    }

    fn compute(&mut self) {
        if self.computed.as_ref().is_some_and(|c| c.settings == self.settings) {
            return;
        }
        let gan = self.settings.gan();
        let path = gan.trajectory(self.settings.start, self.settings.update(), self.settings.h, self.settings.steps);
        let eigenvalues = gan.eigenvalues_at_equilibrium();
        self.computed = Some(Computed { settings: self.settings.clone(), gan, path, eigenvalues });
    }

    /// The preset `offset` places after the current one, wrapping around (N / P, and the
    /// presenter's bar).
    pub fn step_preset(&mut self, offset: isize) {
        let n = dpresets::PRESETS.len() as isize;
        let at = dpresets::PRESETS.iter().position(|p| p.name == self.preset).unwrap_or(0) as isize;
        self.load_preset(dpresets::PRESETS[(at + offset).rem_euclid(n) as usize].name);
    }

    /// Plays the path's animation from where it is (from the start once at the end), or stops it.
    pub fn toggle_play(&mut self) {
        if self.playing {
            self.playing = false;
        } else {
            if self.shown >= self.settings.steps {
                self.shown = 0;
            }
            self.playing = true;
            self.last_tick = None;
        }
    }

    /// Whether the path is being animated.
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// The preset's title, for the presentation caption.
    pub fn title(&self) -> &'static str {
        dpresets::get(self.preset).map_or("", |p| p.title)
    }

    /// The tab. `present`: no controls, the phase portrait as large as the window allows.
    pub fn ui(&mut self, ui: &mut Ui, present: bool) {
        if !present {
            egui::Panel::left("dirac controls").resizable(true).default_size(300.0).show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
        }
        self.compute();
        self.animate(ui.ctx());
        // The phase portrait is the tab's picture: the side plots get a third at most.
        let third = ui.available_width() / 3.0;
        egui::Panel::right("dirac plots").resizable(true).default_size(third.min(380.0)).max_size(third).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let c = self.computed.as_ref().expect("computed");
                let at = c.path[self.shown.min(c.path.len() - 1)];
                one_d_picture(ui, at);
                norm_plot(ui, &c.path, self.shown);
                eigen_plot(ui, c);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            if present {
                ui.label(egui::RichText::new(self.title()).heading());
            }
            self.field_plot(ui)
        });
    }

    fn animate(&mut self, ctx: &egui::Context) {
        let len = self.settings.steps;
        if !self.playing {
            self.last_tick = None;
            return;
        }
        let now = Instant::now();
        if let Some(t) = self.last_tick {
            let advance = (now.duration_since(t).as_secs_f64() * self.speed).max(0.0);
            // Carry the fraction: at low speeds a step takes several frames.
            let whole = advance.floor() as usize;
            if whole > 0 {
                self.shown = (self.shown + whole).min(len);
                self.last_tick = Some(t + std::time::Duration::from_secs_f64(whole as f64 / self.speed));
            }
        } else {
            self.last_tick = Some(now);
        }
        if self.shown >= len {
            self.playing = false;
        } else {
            ctx.request_repaint();
        }
    }

    fn controls(&mut self, ui: &mut Ui) {
        ui.heading("Dirac-GAN");
        ui.label("Data: a point at 0. Generator: a point at θ. Discriminator: D(x) = ψ·x. The only equilibrium is (θ, ψ) = (0, 0).");
        let mut chosen = self.preset;
        ComboBox::from_label("Dirac preset")
            .selected_text(self.preset)
            .width(200.0)
            .show_ui(ui, |ui| {
                for p in dpresets::PRESETS {
                    ui.selectable_value(&mut chosen, p.name, p.name).on_hover_text(p.title);
                }
            })
            .response
            .on_hover_text("Ready-made setups after Mescheder et al. 2018, each with what to watch for.");
        if chosen != self.preset {
            self.load_preset(chosen);
        }
        if let Some(p) = dpresets::get(self.preset) {
            ui.label(egui::RichText::new(p.title).strong());
            ui.label(p.explain);
        }
        ui.separator();
        let before = self.settings.clone();
        let s = &mut self.settings;
        ComboBox::from_label("Method")
            .selected_text(s.method.title())
            .show_ui(ui, |ui| {
                for m in Method::ALL {
                    ui.selectable_value(&mut s.method, m, m.title());
                }
            })
            .response
            .on_hover_text("The objective and regulariser the two players follow.");
        if s.method != before.method {
            s.gamma = s.method.default_gamma();
        }
        ComboBox::from_label("Updates")
            .selected_text(match s.kind {
                UpdateKind::Simultaneous => "simultaneous",
                UpdateKind::Alternating => "alternating",
                UpdateKind::Continuous => "continuous (RK4)",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.kind, UpdateKind::Simultaneous, "simultaneous");
                ui.selectable_value(&mut s.kind, UpdateKind::Alternating, "alternating");
                ui.selectable_value(&mut s.kind, UpdateKind::Continuous, "continuous (RK4)");
            })
            .response
            .on_hover_text(
                "Simultaneous: both step from the same point. Alternating: G steps, then D. Continuous: the limit of h going to 0.",
            );
        if s.kind == UpdateKind::Alternating {
            ui.add(Slider::new(&mut s.d_steps, 1..=10).clamping(egui::SliderClamping::Edits).text("D steps per G step"));
        }
        ui.add(Slider::new(&mut s.h, 0.01..=1.0).clamping(egui::SliderClamping::Edits).logarithmic(true).text("step size h"));
        ui.add(Slider::new(&mut s.steps, 10..=3000).clamping(egui::SliderClamping::Edits).logarithmic(true).text("steps"));
        if s.method.uses_gamma() {
            let what = match s.method {
                Method::WganGp => "γ: penalty γ/2·(|∂D/∂x| − 1)²",
                Method::Consensus => "γ: consensus weight, v − γ·grad(½|v|²)",
                _ => "γ: penalty γ/2·|∂D/∂x|² (code that writes reg·|∂D/∂x|² has γ = 2·reg)",
            };
            ui.add(Slider::new(&mut s.gamma, 0.0..=3.0).clamping(egui::SliderClamping::Edits).text("γ")).on_hover_text(what);
            ui.small(what);
        }
        if s.method == Method::InstanceNoise {
            ui.add(Slider::new(&mut s.sigma, 0.0..=2.0).clamping(egui::SliderClamping::Edits).text("noise σ")).on_hover_text(
                "Standard deviation of the noise added to real and fake points (1,000 fixed draws, so the field does not flicker).",
            );
        }
        ui.horizontal(|ui| {
            ui.label("start θ, ψ");
            ui.add(DragValue::new(&mut s.start.0).speed(0.01).range(-2.0..=2.0));
            ui.add(DragValue::new(&mut s.start.1).speed(0.01).range(-2.0..=2.0));
        });
        ui.small("Or click the (θ, ψ) plane to start there.");
        ui.checkbox(&mut self.fine_field, "Fine field (25 × 25 directions)");
        if self.settings != before {
            self.restart_animation();
        }
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button(if self.playing { "Pause path" } else { "Play path" }).clicked() {
                if !self.playing && self.shown >= self.settings.steps {
                    self.shown = 0;
                }
                self.playing = !self.playing;
            }
            if ui.button("Show whole path").clicked() {
                self.show_whole_path();
            }
        });
        ui.add(Slider::new(&mut self.speed, 10.0..=1000.0).clamping(egui::SliderClamping::Edits).logarithmic(true).text("steps / s"));
        let steps = self.settings.steps;
        if ui.add(Slider::new(&mut self.shown, 0..=steps).clamping(egui::SliderClamping::Edits).text("step")).changed() {
            self.playing = false;
        }
        if let Some(c) = &self.computed {
            let (t, p) = c.path[self.shown.min(c.path.len() - 1)];
            let end = dirac::norm(*c.path.last().expect("points"));
            ui.label(format!("step {}: θ = {t:.4}, ψ = {p:.4}, |(θ, ψ)| = {:.3e}", self.shown, dirac::norm((t, p))));
            ui.label(format!(
                "after {} steps: |(θ, ψ)| = {end:.3e} — {}",
                steps,
                if end < dirac::CONVERGED_BELOW { "converged" } else { "not converged" }
            ));
        }
    }

    /// The (θ, ψ) plane: the paper's 10 × 10 arrows over [−2, 2]², a finer field of directions,
    /// the path and its start. A click sets the start.
    fn field_plot(&mut self, ui: &mut Ui) {
        let c = self.computed.as_ref().expect("computed");
        use super::key::Swatch;
        let mut key = vec![(Swatch::Arrow(Color32::from_gray(150)), "v(θ, ψ)")];
        if self.fine_field {
            key.push((Swatch::Arrow(Color32::from_gray(95)), "direction"));
        }
        if c.gan.method == Method::Wgan {
            key.push((Swatch::Line(Color32::from_gray(120)), "clip |ψ| ≤ 1"));
        }
        key.extend([
            (Swatch::Line(PATH), "path"),
            (Swatch::Dot(START), "start (click to move)"),
            (Swatch::Diamond(PATH), "now"),
            (Swatch::Dot(DATA), "equilibrium"),
        ]);
        super::key::row(ui, &key);
        let side = ui.available_width().min(ui.available_height()).max(100.0);
        let shown = self.shown.min(c.path.len() - 1);
        let fine = self.fine_field;
        let resp = Plot::new("dirac plane")
            .data_aspect(1.0)
            .width(side)
            .height(side)
            .default_x_bounds(-2.2, 2.2)
            .default_y_bounds(-2.2, 2.2)
            .allow_drag(false)
            .allow_scroll(false)
            .allow_zoom(false)
            .allow_boxed_zoom(false)
            .x_axis_label("θ (generator)")
            .y_axis_label("ψ (discriminator)")
            .show(ui, |p| {
                if fine {
                    let (o, t) = field_arrows(&c.gan, 25, 0.6);
                    p.arrows(
                        Arrows::new("direction", PlotPoints::new(o), PlotPoints::new(t)).color(Color32::from_gray(95)).tip_length(3.0),
                    );
                }
                let (o, t) = field_arrows(&c.gan, 10, 0.0);
                p.arrows(Arrows::new("v(θ, ψ)", PlotPoints::new(o), PlotPoints::new(t)).color(Color32::from_gray(235)).tip_length(6.0));
                if c.gan.method == Method::Wgan {
                    p.hline(HLine::new("clip |ψ| ≤ 1", c.gan.clip).color(Color32::from_gray(120)));
                    p.hline(HLine::new("clip |ψ| ≤ 1", -c.gan.clip).color(Color32::from_gray(120)));
                }
                let pts: Vec<[f64; 2]> = c.path[..=shown].iter().map(|&(t, s)| [t, s]).collect();
                p.line(Line::new("path", PlotPoints::new(pts.clone())).color(PATH).width(1.5));
                p.points(Points::new("path", PlotPoints::new(pts)).color(PATH).radius(1.5));
                p.points(Points::new("start", PlotPoints::new(vec![[c.path[0].0, c.path[0].1]])).color(START).radius(5.0));
                let (t, s) = c.path[shown];
                p.points(Points::new("now", PlotPoints::new(vec![[t, s]])).color(PATH).radius(6.0).shape(egui_plot::MarkerShape::Diamond));
                p.points(Points::new("equilibrium", PlotPoints::new(vec![[0.0, 0.0]])).color(DATA).radius(4.0));
                if p.response().clicked() { p.pointer_coordinate() } else { None }
            });
        if let Some(at) = resp.inner {
            self.settings.start = (at.x.clamp(-2.0, 2.0), at.y.clamp(-2.0, 2.0));
            self.restart_animation();
        }
    }
}

/// Arrows of the field on an n × n grid over [−2, 2]², as (origins, tips). `unit` > 0 draws
/// directions only, each that fraction of the grid spacing long; 0 scales all arrows by the
/// longest (as the paper's quiver plots do).
fn field_arrows(gan: &DiracGan, n: usize, unit: f64) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let spacing = 4.0 / (n - 1) as f64;
    let mut cells = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let (t, p) = (-2.0 + spacing * i as f64, -2.0 + spacing * j as f64);
            cells.push(((t, p), gan.field(t, p)));
        }
    }
    let longest = cells.iter().map(|(_, v)| v.0.hypot(v.1)).filter(|l| l.is_finite()).fold(0.0, f64::max).max(1e-12);
    let mut origins = Vec::with_capacity(cells.len());
    let mut tips = Vec::with_capacity(cells.len());
    for ((t, p), (a, b)) in cells {
        let len = a.hypot(b);
        if !len.is_finite() || len < 1e-12 {
            continue;
        }
        let scale = if unit > 0.0 { unit * spacing / len } else { 0.9 * spacing / longest };
        origins.push([t, p]);
        tips.push([t + scale * a, p + scale * b]);
    }
    (origins, tips)
}

/// The 1-D picture: the data's Dirac at 0, the generator's at θ, and D(x) = ψx.
fn one_d_picture(ui: &mut Ui, (theta, psi): (f64, f64)) {
    ui.label(egui::RichText::new("In one dimension").strong());
    use super::key::Swatch;
    super::key::row(
        ui,
        &[
            (Swatch::Line(Color32::from_rgb(200, 80, 40)), "D(x) = ψx"),
            (Swatch::Line(DATA), "data δ₀"),
            (Swatch::Line(PATH), "generator δ_θ"),
        ],
    );
    Plot::new("dirac 1d")
        .height(170.0)
        .default_x_bounds(-2.5, 2.5)
        .default_y_bounds(-2.5, 2.5)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .x_axis_label("x")
        .show(ui, |p| {
            p.line(
                Line::new("D(x) = ψx", PlotPoints::new(vec![[-2.5, -2.5 * psi], [2.5, 2.5 * psi]]))
                    .color(Color32::from_rgb(200, 80, 40))
                    .width(2.0),
            );
            p.line(Line::new("data δ₀", PlotPoints::new(vec![[0.0, 0.0], [0.0, 1.5]])).color(DATA).width(4.0));
            p.line(Line::new("generator δ_θ", PlotPoints::new(vec![[theta, 0.0], [theta, 1.5]])).color(PATH).width(4.0));
        });
}

/// |(θ, ψ)| over steps, log10 scale, with a marker at the shown step.
fn norm_plot(ui: &mut Ui, path: &[(f64, f64)], shown: usize) {
    ui.label(egui::RichText::new("Distance from the equilibrium, |(θ, ψ)|").strong());
    let pts: Vec<[f64; 2]> =
        path.iter().enumerate().map(|(i, &p)| [i as f64, dirac::norm(p).max(1e-300).log10()]).filter(|q| q[1].is_finite()).collect();
    Plot::new("dirac norm")
        .height(170.0)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("step")
        .y_axis_formatter(|m, _| format!("1e{}", m.value))
        .show(ui, |p| {
            p.line(Line::new("|(θ, ψ)|", PlotPoints::new(pts)).color(PATH));
            p.hline(HLine::new("converged below", dirac::CONVERGED_BELOW.log10()).color(DATA));
            p.vline(VLine::new("now", shown as f64).color(Color32::from_gray(140)));
        });
}

/// The Jacobian's eigenvalues at (0, 0) in the complex plane. For the GAN with a zero-centred
/// penalty, the locus over γ ∈ [0, 2] with the live γ marked: complex below γ = 1, real above.
fn eigen_plot(ui: &mut Ui, c: &Computed) {
    ui.label(egui::RichText::new("Eigenvalues of the Jacobian at (0, 0)").strong());
    let Some(e) = c.eigenvalues else {
        ui.label(dirac::NOT_STATIONARY);
        return;
    };
    ui.label(format!(
        "{:.3} {:+.3}i,  {:.3} {:+.3}i — {}",
        e[0].0,
        e[0].1,
        e[1].0,
        e[1].1,
        if e.iter().all(|l| l.0 < -1e-9) {
            "both real parts negative: locally convergent for small h"
        } else if e.iter().all(|l| l.0.abs() < 1e-9) {
            "on the imaginary axis: circles, no convergence"
        } else {
            "a real part ≥ 0: not convergent"
        }
    ));
    let penalised = matches!(c.gan.method, Method::GradPenalty | Method::NsGanGradPenalty);
    use super::key::Swatch;
    let mut key = vec![(Swatch::Dot(START), "now"), (Swatch::Line(Color32::from_gray(100)), "stable to the left of 0")];
    if penalised {
        key.extend([(Swatch::Line(Color32::from_gray(150)), "λ(γ), 0 ≤ γ ≤ 2"), (Swatch::Dot(DATA), "critical γ = 1")]);
    }
    super::key::row(ui, &key);
    Plot::new("dirac eigenvalues")
        .height(200.0)
        .data_aspect(1.0)
        .default_x_bounds(-2.0, 0.5)
        .default_y_bounds(-0.7, 0.7)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("real part")
        .y_axis_label("imaginary part")
        .show(ui, |p| {
            if penalised {
                // The locus λ(γ) of the closed form, γ from 0 to 2.
                let (mut upper, mut lower) = (Vec::new(), Vec::new());
                for k in 0..=200 {
                    let g = 2.0 * k as f64 / 200.0;
                    let l = dirac::gradient_penalty_eigenvalues(g);
                    upper.push([l[1].0, l[1].1]);
                    lower.push([l[0].0, l[0].1]);
                }
                p.line(Line::new("λ(γ), 0 ≤ γ ≤ 2", PlotPoints::new(upper)).color(Color32::from_gray(150)));
                p.line(Line::new("λ(γ), 0 ≤ γ ≤ 2", PlotPoints::new(lower)).color(Color32::from_gray(150)));
                let crit = dirac::gradient_penalty_eigenvalues(dirac::critical_gamma());
                p.points(Points::new("critical γ = 1", PlotPoints::new(vec![[crit[0].0, 0.0]])).color(DATA).radius(4.0));
            }
            p.vline(VLine::new("stable to the left", 0.0).color(Color32::from_gray(100)));
            p.points(Points::new("now", PlotPoints::new(vec![[e[0].0, e[0].1], [e[1].0, e[1].1]])).color(START).radius(5.0));
        });
}
