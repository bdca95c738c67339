//! The side plots: losses, mode coverage, grid KL / JS, gradient norms, the live per-mode
//! histogram, the mode-visit strip (which modes hold the mass over time) and the latent
//! interpolation. `History` keeps bounded series: past `MAX_POINTS` every other point is
//! dropped, so a long run never grows memory.

use super::colormap::{self, FAKE};
use crate::trainer::Metrics;
use crate::worker::Snapshot;
use eframe::egui::{self, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, Points};

const MAX_POINTS: usize = 4000;
const MAX_VISITS: usize = 400;

/// One named series of (step, value).
#[derive(Default, Clone)]
pub struct Series(pub Vec<[f64; 2]>);

impl Series {
    fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        if self.0.last().is_some_and(|l| l[0] == x) {
            return;
        }
        self.0.push([x, y]);
        if self.0.len() > MAX_POINTS {
            self.0 = self.0.iter().step_by(2).copied().collect();
        }
    }
    fn line(&self, name: &str) -> Line<'static> {
        Line::new(name, PlotPoints::new(self.0.clone()))
    }
}

#[derive(Default)]
pub struct History {
    pub d_loss: Series,
    pub g_loss: Series,
    pub modes: Series,
    pub hq: Series,
    /// A conditional G's label accuracy, %.
    pub label_acc: Series,
    pub kl: Series,
    pub js: Series,
    pub d_grad: Series,
    pub g_grad: Series,
    pub input_grad: Series,
    pub critic_gap: Series,
    /// Fraction of HQ fakes per mode, one column per recorded snapshot.
    pub visits: std::collections::VecDeque<Vec<f32>>,
    /// The symptoms of mode collapse at the latest evaluation.
    pub symptoms: Vec<crate::symptoms::Symptom>,
    /// Network evaluations per sample and ms per 1,000 samples, at the latest evaluation.
    pub sampling: Option<(usize, f64)>,
    /// The latest evaluation (a lesson's caption fills its `{metric}`s from it).
    latest: Option<Metrics>,
    last_visit_step: Option<u64>,
}

impl History {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Forgets everything after `step` (the run went back there).
    pub fn truncate_after(&mut self, step: u64) {
        let x = step as f64;
        for s in [
            &mut self.d_loss,
            &mut self.g_loss,
            &mut self.modes,
            &mut self.hq,
            &mut self.label_acc,
            &mut self.kl,
            &mut self.js,
            &mut self.d_grad,
            &mut self.g_grad,
            &mut self.input_grad,
            &mut self.critic_gap,
        ] {
            s.0.retain(|p| p[0] <= x);
        }
        self.last_visit_step = self.last_visit_step.filter(|&v| v <= step);
        self.latest = self.latest.take().filter(|m| m.step <= step);
    }

    /// The latest evaluation.
    pub fn latest_metrics(&self) -> Option<&Metrics> {
        self.latest.as_ref()
    }

    /// One evaluation's metrics.
    pub fn absorb_metrics(&mut self, m: &Metrics) {
        self.symptoms = m.symptoms.clone();
        self.sampling = Some((m.nfe_per_sample, m.sample_ms_per_1000));
        let x = m.step as f64;
        if let Some(s) = &m.modes {
            self.modes.push(x, s.modes_covered as f64);
            self.hq.push(x, 100.0 * s.hq_fraction);
        }
        if let Some(a) = m.label_accuracy {
            self.label_acc.push(x, 100.0 * a);
        }
        self.kl.push(x, m.kl_grid);
        self.js.push(x, m.js_grid);
        self.input_grad.push(x, m.d_input_grad_norm as f64);
        self.latest = Some(m.clone());
    }

    /// A snapshot's per-frame values (losses, norms, the mode-visit strip).
    pub fn absorb(&mut self, s: &Snapshot) {
        if s.step > 0 {
            // Losses and norms: a point per snapshot, so the curves move every frame.
            let x = s.step as f64;
            self.d_loss.push(x, s.stats.d_loss as f64);
            self.g_loss.push(x, s.stats.g_loss as f64);
            self.d_grad.push(x, s.stats.d_grad_norm as f64);
            self.g_grad.push(x, s.stats.g_grad_norm as f64);
            if s.config.loss.kind.is_wasserstein() {
                self.critic_gap.push(x, (s.stats.d_real - s.stats.d_fake) as f64);
            }
        }
        if let Some(l) = &s.live_modes
            && self.last_visit_step != Some(s.step)
        {
            self.last_visit_step = Some(s.step);
            // By nearest mode, so a clump sitting off the modes still shows where it is.
            let total: usize = l.per_mode_nearest.iter().sum();
            self.visits.push_back(l.per_mode_nearest.iter().map(|&c| c as f32 / total.max(1) as f32).collect());
            if self.visits.len() > MAX_VISITS {
                self.visits.pop_front();
            }
        }
    }
}

#[derive(Default)]
pub struct SidePlots;

/// Which side plots are shown (persisted; a presenter picks a few).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Sections {
    pub symptoms: bool,
    pub losses: bool,
    pub modes: bool,
    pub divergences: bool,
    pub gradients: bool,
    pub histogram: bool,
    pub interpolation: bool,
}

impl Default for Sections {
    fn default() -> Self {
        Self { symptoms: true, losses: true, modes: true, divergences: true, gradients: true, histogram: true, interpolation: true }
    }
}

impl Sections {
    /// No side plot.
    pub fn none() -> Self {
        Self { symptoms: false, losses: false, modes: false, divergences: false, gradients: false, histogram: false, interpolation: false }
    }

    /// Checkboxes for each section.
    pub fn menu(&mut self, ui: &mut Ui) {
        ui.checkbox(&mut self.symptoms, "Symptoms of mode collapse");
        ui.checkbox(&mut self.losses, "Losses");
        ui.checkbox(&mut self.modes, "Modes covered and HQ %");
        ui.checkbox(&mut self.divergences, "Grid KL and JS");
        ui.checkbox(&mut self.gradients, "Gradient norms");
        ui.checkbox(&mut self.histogram, "Per-mode histogram and visits");
        ui.checkbox(&mut self.interpolation, "Latent interpolation");
    }
}

impl SidePlots {
    pub fn ui(&mut self, ui: &mut Ui, h: &History, snap: Option<&Snapshot>, show: &Sections) {
        let height = 110.0;
        if show.symptoms && !h.symptoms.is_empty() {
            symptoms_ui(ui, &h.symptoms);
            ui.separator();
        }
        ui.heading("Training curves");
        if show.losses {
            small_plot(ui, "Losses", height, |p| {
                p.line(h.d_loss.line("D loss"));
                p.line(h.g_loss.line("G loss"));
                if !h.critic_gap.0.is_empty() {
                    p.line(h.critic_gap.line("critic gap (W estimate)"));
                }
            });
        }
        if show.modes && !h.modes.0.is_empty() {
            let total = snap.and_then(|s| s.modes.as_ref()).map_or(0, |m| m.centres.len());
            small_plot(ui, &format!("Modes covered (of {total})"), height, |p| p.line(h.modes.line("modes covered")));
            small_plot(ui, "High-quality samples %", height, |p| {
                p.line(h.hq.line("HQ %"));
                if !h.label_acc.0.is_empty() {
                    // Conditional G: of the fakes asked for mode i, the share HQ at mode i.
                    p.line(h.label_acc.line("label accuracy %"));
                }
            });
        }
        if show.divergences {
            small_plot(ui, "Grid KL(real || fake) and JS", height, |p| {
                p.line(h.kl.line("KL"));
                p.line(h.js.line("JS"));
            });
        }
        if show.gradients {
            small_plot(ui, "Gradient norms", height, |p| {
                p.line(h.d_grad.line("|grad D loss|"));
                p.line(h.g_grad.line("|grad G loss|"));
                p.line(h.input_grad.line("mean |∂D/∂x| at fakes"));
            });
        }
        if let Some(s) = snap {
            if let Some(l) = s.live_modes.as_ref().filter(|_| show.histogram) {
                let total: usize = l.per_mode_nearest.iter().sum();
                let off = 100.0 * (1.0 - l.hq_fraction);
                ui.label(egui::RichText::new(format!("Samples per mode (live) · {off:.0} % off the modes")).strong()).on_hover_text(
                    "Every fake counted by its nearest mode: the pale bar is all of them, the solid part the high-quality ones \
                     (within 3σ of the mode). Collapse: one tall bar — pale when the clump sits off the mode.",
                );
                let k = l.per_mode_counts.len();
                let pale = |i: usize| colormap::mode_colour(i, k).gamma_multiply(0.35);
                let share = |c: usize| 100.0 * c as f64 / total.max(1) as f64;
                let all: Vec<Bar> =
                    l.per_mode_nearest.iter().enumerate().map(|(i, &c)| Bar::new(i as f64, share(c)).fill(pale(i))).collect();
                let bars: Vec<Bar> = l
                    .per_mode_counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| Bar::new(i as f64, share(c)).fill(colormap::mode_colour(i, k)))
                    .collect();
                Plot::new("per-mode histogram").height(height).allow_drag(false).allow_zoom(false).allow_scroll(false).show(ui, |p| {
                    p.bar_chart(BarChart::new("% nearest the mode", all));
                    p.bar_chart(BarChart::new("% high quality", bars));
                });
                ui.label(egui::RichText::new("Mode visits over time").strong())
                    .on_hover_text("Each column is a moment, each row a mode; the stronger the colour, the more samples it holds (full colour = its fair share). A diagonal band means G rotates through the modes.");
                visit_strip(ui, h, k);
            }
            if !show.interpolation {
                return;
            }
            ui.label(egui::RichText::new("Latent interpolation").strong())
                .on_hover_text("G along a straight line between two latent points: jumps show where G tears between modes.");
            let pts: Vec<[f64; 2]> = s.view.interpolation.iter().map(|q| [q[0] as f64, q[1] as f64]).collect();
            let real: Vec<[f64; 2]> = s.real.iter().take(500).map(|q| [q[0] as f64, q[1] as f64]).collect();
            let hw = s.view.half_width as f64;
            Plot::new("latent interpolation").height(160.0).data_aspect(1.0).default_x_bounds(-hw, hw).default_y_bounds(-hw, hw).show(
                ui,
                |p| {
                    p.points(Points::new("real", PlotPoints::new(real)).color(egui::Color32::from_gray(170)).radius(1.0));
                    p.line(Line::new("G(z) along a line", PlotPoints::new(pts.clone())).color(FAKE));
                    p.points(Points::new("G(z)", PlotPoints::new(pts)).color(FAKE).radius(2.0));
                },
            );
        }
    }
}

/// The five symptoms of mode collapse: a lit or unlit dot, the name, the value; the reason
/// and threshold on hover.
fn symptoms_ui(ui: &mut Ui, symptoms: &[crate::symptoms::Symptom]) {
    let lit = symptoms.iter().filter(|s| s.present).count();
    let readable = symptoms.iter().filter(|s| s.applicable).count();
    let verdict = if crate::symptoms::verdict(symptoms) { " — mode collapse" } else { "" };
    ui.label(egui::RichText::new(format!("Symptoms of mode collapse: {lit} of {readable}{verdict}")).strong()).on_hover_text(format!(
        "Computed at every evaluation (definitions and thresholds in src/symptoms.rs, calibrated by `ganscope symptoms \
         --calibrate`); the verdict needs {} lit. Grey: not applicable to this run.",
        crate::symptoms::VERDICT
    ));
    for s in symptoms {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            if !s.applicable {
                // Not applicable: a hollow grey ring, the text grey too.
                ui.painter().circle_stroke(rect.center(), 4.5, egui::Stroke::new(1.5, egui::Color32::from_gray(150)));
            } else if s.present {
                ui.painter().circle_filled(rect.center(), 5.0, egui::Color32::from_rgb(230, 80, 60));
            } else {
                ui.painter().circle_filled(rect.center(), 5.0, egui::Color32::from_gray(90));
            }
            let label = match s.name {
                "few_templates" => "few templates",
                "d_loss_oscillates" => "D loss oscillates",
                "quality_stalls" => "quality stalls while G loss falls",
                "flat_interpolation" => "flat latent interpolation",
                "peaked_histogram" => "peaked histogram",
                other => other,
            };
            if s.applicable {
                ui.label(format!("{label}: {:.2}", s.value)).on_hover_text(format!("{} (threshold {})", s.why, s.threshold));
            } else {
                ui.label(egui::RichText::new(format!("{label}: n/a")).color(egui::Color32::from_gray(150))).on_hover_text(&s.why);
            }
        });
    }
}

fn small_plot(ui: &mut Ui, title: &str, height: f32, add: impl FnOnce(&mut egui_plot::PlotUi<'_>)) {
    ui.label(egui::RichText::new(title).strong());
    Plot::new(title).height(height).legend(Legend::default()).allow_scroll(false).show(ui, add);
}

fn visit_strip(ui: &mut Ui, h: &History, k: usize) {
    let width = ui.available_width().max(100.0);
    let row_h = (80.0 / k.max(1) as f32).clamp(2.0, 12.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, row_h * k as f32), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::WHITE);
    let n = h.visits.len().max(1);
    let col_w = width / MAX_VISITS as f32;
    let x0 = rect.right() - col_w * n as f32;
    for (j, col) in h.visits.iter().enumerate() {
        for (i, &frac) in col.iter().enumerate().take(k) {
            if frac <= 0.0 {
                continue;
            }
            let base = colormap::mode_colour(i, k);
            // Uniform share 1/k maps to full colour.
            let a = (frac * k as f32).min(1.0);
            let c = egui::Color32::from_rgba_unmultiplied(base.r(), base.g(), base.b(), (a * 255.0) as u8);
            let r = egui::Rect::from_min_size(
                egui::pos2(x0 + j as f32 * col_w, rect.top() + i as f32 * row_h),
                egui::vec2(col_w.max(1.0), row_h),
            );
            painter.rect_filled(r, 0.0, c);
        }
    }
}
