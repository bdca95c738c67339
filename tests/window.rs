//! The window, headless, driven by accessibility labels (egui_kittest): play makes snapshots
//! arrive; loss, instance noise and the D:G ratio reach the trainer; reset; presets.

#![cfg(feature = "gui")]

mod common;

use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use ganscope::app::{GanscopeApp, Launch};
use ganscope::backend::BackendChoice;
use ganscope::config::LossKind;
use std::time::{Duration, Instant};

fn harness(preset: &str) -> Harness<'static, GanscopeApp> {
    let launch = Launch { preset: Some(preset.into()), backend: BackendChoice::Cpu, ..Default::default() };
    Harness::builder().with_size(eframe::egui::vec2(1400.0, 1000.0)).build_eframe(move |cc| GanscopeApp::new(cc, launch))
}

/// Steps the UI until `cond` holds (the worker runs on its own thread), or fails.
fn wait_for(h: &mut Harness<'static, GanscopeApp>, what: &str, cond: impl Fn(&GanscopeApp) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        h.step();
        if cond(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

/// Replaces the text of the field labelled `label` with `text`.
fn replace_text(h: &mut Harness<'static, GanscopeApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.run_steps(1);
    h.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    h.run_steps(1);
    h.get_by_label(label).type_text(text);
    h.run_steps(1);
}

fn step_of(app: &GanscopeApp) -> u64 {
    app.snapshot().map_or(0, |s| s.step)
}

/// Plays until the run has done at least `steps` steps, then pauses and waits for the pause.
fn train_to(h: &mut Harness<'static, GanscopeApp>, steps: u64) {
    h.get_by_label("Play").click();
    wait_for(h, &format!("step {steps}"), |a| step_of(a) >= steps);
    h.get_by_label("Pause").click();
    wait_for(h, "the pause", |a| a.snapshot().is_some_and(|s| !s.running));
}

#[test]
fn play_makes_snapshots_arrive_and_pause_stops_them() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    assert_eq!(step_of(h.state()), 0);
    h.get_by_label("Play").click();
    wait_for(&mut h, "training to advance", |a| step_of(a) >= 20);
    let s = h.state().snapshot().unwrap();
    assert_eq!(s.view.fake.len(), 2000, "the fixed fake batch is shown");
    assert_eq!(s.view.slow.surface.len(), 128 * 128, "the decision surface is computed");
    h.get_by_label("Pause").click();
    wait_for(&mut h, "the pause", |a| a.snapshot().is_some_and(|s| !s.running));
    let paused_at = step_of(h.state());
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(step_of(h.state()), paused_at);
}

#[test]
fn changing_the_loss_reaches_the_trainer() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    // Train a little and pause, so that a rebuild (back to step 0) would show.
    train_to(&mut h, 10);
    let before = step_of(h.state());
    h.get_by_label("Loss").click();
    h.run_steps(2);
    h.get_by_label("WGAN-GP").click();
    wait_for(&mut h, "the trainer to run WGAN-GP", |a| a.snapshot().is_some_and(|s| s.config.loss.kind == LossKind::WganGp));
    assert_eq!(h.state().edited_config().loss.kind, LossKind::WganGp);
    // No rebuild: an objective change keeps the weights and the step counter.
    assert!(before >= 10);
    assert_eq!(step_of(h.state()), before, "the loss change kept the run (no restart to step 0)");
}

#[test]
fn instance_noise_and_d_steps_reach_the_trainer() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_role_and_label(Role::Slider, "Instance noise σ").set_value_accesskit(0.25);
    h.run_steps(2);
    wait_for(&mut h, "σ = 0.25 in the trainer", |a| a.snapshot().is_some_and(|s| (s.config.noise.instance_std - 0.25).abs() < 1e-6));
    h.get_by_role_and_label(Role::Slider, "D steps").set_value_accesskit(5.0);
    h.run_steps(2);
    wait_for(&mut h, "5 D steps in the trainer", |a| a.snapshot().is_some_and(|s| s.config.schedule.d_steps == 5));
}

/// The architecture's minibatch-discrimination slider: applying it rebuilds the networks with
/// the kernels (the run restarts on burn, which the status names).
#[test]
fn minibatch_kernels_apply_and_rebuild() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("Architecture").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Slider, "Minibatch kernels").set_value_accesskit(4.0);
    h.run_steps(2);
    assert_eq!(h.state().edited_config().discriminator.minibatch_kernels, 4, "the slider edits the config");
    // The button sits below the fold of the controls' scroll area once the section is open.
    h.get_by_label("Apply architecture (rebuilds the networks)").scroll_to_me();
    h.run_steps(3);
    h.get_by_label("Apply architecture (rebuilds the networks)").click();
    wait_for(&mut h, "4 kernels in the trainer", |a| {
        a.snapshot().is_some_and(|s| s.config.discriminator.minibatch_kernels == 4 && s.step == 0)
    });
}

#[test]
fn reset_and_presets_restart_the_run() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("Step").click();
    h.get_by_label("Step").click();
    wait_for(&mut h, "two steps", |a| step_of(a) == 2);
    h.get_by_label("Reset").click();
    wait_for(&mut h, "reset to step 0", |a| step_of(a) == 0);
    h.get_by_label("Preset").click();
    h.run_steps(2);
    h.get_by_label("wgan-clip").click();
    wait_for(&mut h, "the wgan-clip preset", |a| {
        a.snapshot().is_some_and(|s| s.config.loss.kind == LossKind::Wgan && s.config.schedule.d_steps == 5)
    });
    assert_eq!(h.state().edited_config().loss.kind, LossKind::Wgan, "the controls show the preset");
}

/// The side plots show what the metrics CSV says: on the oscillation preset (one Gaussian,
/// covered at every evaluation) the "Modes covered (of 1)" plot reads 1, and it holds one
/// point per evaluation.
#[test]
fn the_modes_plot_shows_every_evaluation() {
    let mut h = harness("oscillation");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    train_to(&mut h, 500);
    h.run_steps(2);
    let pts = h.state().modes_covered_series().to_vec();
    let step = step_of(h.state());
    let want: Vec<f64> = (0..=step / 100).map(|i| (i * 100) as f64).collect();
    assert_eq!(pts.iter().map(|p| p[0]).collect::<Vec<_>>(), want, "one point per evaluation");
    assert!(pts.iter().all(|p| p[1] == 1.0), "the single mode is covered at every evaluation: {pts:?}");
}

/// The Dirac-GAN tab: reachable from its tab button and from a 2-D preset's link, which loads
/// the linked Dirac preset; changing the method recomputes the path.
#[test]
fn the_dirac_tab_opens_from_the_r1_preset_and_recomputes() {
    let mut h = harness("r1");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("The same thing on the Dirac-GAN").click();
    h.run_steps(2);
    assert_eq!(h.state().tab(), ganscope::app::Tab::Dirac);
    assert_eq!(h.state_mut().dirac_view().preset_name(), "dirac-gp");
    let converged = h.state_mut().dirac_view().final_norm();
    assert!(converged < 1e-3, "R1 on the Dirac-GAN converges: {converged}");
    h.get_by_label("Method").click();
    h.run_steps(2);
    h.get_by_label("GAN").click();
    h.run_steps(2);
    let plain = h.state_mut().dirac_view().final_norm();
    assert!(plain > 1.0, "the plain GAN does not: {plain}");

    // Presented: no controls, the preset's title, and the presenter's bar steps the presets.
    h.get_by_label("Present (F11)").click();
    h.run_steps(3);
    assert_eq!(h.state().tab(), ganscope::app::Tab::Dirac, "the Dirac tab is presented, not the 2-D lab");
    assert!(h.query_by_label("Method").is_none(), "controls hidden");
    let before = h.state_mut().dirac_view().preset_name().to_string();
    h.get_by_label("Next preset").click();
    h.run_steps(2);
    let after = h.state_mut().dirac_view().preset_name().to_string();
    assert_ne!(after, before, "the bar's next preset changes the Dirac preset");
    let title = ganscope::dirac::presets::get(&after).unwrap().title;
    assert!(h.query_by_label(title).is_some(), "the Dirac preset's title is the caption");
    h.get_by_label("Exit presentation").click();
    h.run_steps(3);
    // N steps through every Dirac preset on this tab, each text drawn (a glyph the fonts lack
    // fails here).
    for _ in 0..ganscope::dirac::presets::PRESETS.len() {
        h.key_press(eframe::egui::Key::N);
        h.run_steps(2);
    }
    assert_eq!(h.state_mut().dirac_view().preset_name(), after, "round the whole list");
    h.get_by_label("2-D lab").click();
    h.run_steps(2);
    assert_eq!(h.state().tab(), ganscope::app::Tab::Lab);
}

/// The trilemma preset opens its diffusion partner side by side; Play reaches both runs, and
/// the partner reports what a sample costs it.
#[test]
fn the_trilemma_trains_a_diffusion_model_beside_the_gan() {
    let mut h = harness("trilemma");
    wait_for(&mut h, "both first snapshots", |a| a.snapshot().is_some() && a.compared().is_some_and(|(_, s)| s.is_some()));
    assert_eq!(h.state().compared().unwrap().0, "trilemma-diffusion");
    h.get_by_label("Play").click();
    wait_for(&mut h, "both runs to train", |a| step_of(a) >= 20 && a.compared().is_some_and(|(_, s)| s.is_some_and(|s| s.step >= 20)));
    let partner = h.state().compared().unwrap().1.unwrap();
    assert_eq!(partner.config.model.kind, ganscope::config::ModelKind::Diffusion);
    assert_eq!(h.state().snapshot().unwrap().config.model.kind, ganscope::config::ModelKind::Gan);
    h.get_by_label("Pause").click();
    wait_for(&mut h, "both paused", |a| {
        a.snapshot().is_some_and(|s| !s.running) && a.compared().is_some_and(|(_, s)| s.is_some_and(|s| !s.running))
    });
    h.get_by_label("Close the side-by-side run").click();
    h.run_steps(2);
    assert!(h.state().compared().is_none());
}

/// The share string round-trips through the window: copy it on one run, open it on another,
/// and the second trains the first one's config.
/// Pastes `text` into the Share section of a fresh window and opens it.
fn open_share_string(h: &mut Harness<'static, GanscopeApp>, text: &str) {
    wait_for(h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("Share").click();
    h.run_steps(2);
    h.get_by_label("Paste a share string:").click();
    h.run_steps(1);
    h.get_by_label("Paste a share string:").type_text(text);
    h.run_steps(1);
    h.get_by_label("Open share string").click();
}

#[test]
fn a_share_string_round_trips_through_the_window() {
    let mut h = harness("wgan-gp");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("Share").click();
    h.run_steps(2);
    h.get_by_label("Copy share string").click();
    h.run_steps(2);
    let copied = h.get_by_label("Copied:").value().expect("the copied string is shown");
    assert!(copied.starts_with("gs1:"), "{copied}");
    let want = (*h.state().snapshot().unwrap().config).clone();

    h.get_by_label("Paste a share string:").click();
    h.run_steps(1);
    h.get_by_label("Paste a share string:").type_text("gs1:broken");
    h.run_steps(1);
    h.get_by_label("Open share string").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("damaged").is_some(), "a damaged string is named");

    let mut other = harness("ns-ring");
    open_share_string(&mut other, &copied);
    wait_for(&mut other, "the shared config in the trainer", |a| a.snapshot().is_some_and(|s| *s.config == want));
}

/// Presentation mode (button or F11) hides the controls and restores them; N loads the next
/// preset; a digit toggles a layer; `?` lists the shortcuts.
#[test]
fn presentation_mode_and_the_keyboard_flow() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    assert!(h.query_by_label("Reset").is_some(), "controls shown");
    h.get_by_label("Present (F11)").click();
    h.run_steps(3);
    assert!(h.state().presenting());
    assert!(h.query_by_label("Reset").is_none(), "controls hidden while presenting");
    assert!(h.query_by_label_contains("The baseline").is_some(), "the preset's caption is shown");
    // The bar for a presenter without a keyboard: play, pause.
    h.get_by_label("Play").click();
    wait_for(&mut h, "running", |a| a.snapshot().is_some_and(|s| s.running));
    h.get_by_label("Pause").click();
    wait_for(&mut h, "paused", |a| a.snapshot().is_some_and(|s| !s.running));
    h.key_press(eframe::egui::Key::F11);
    h.run_steps(3);
    assert!(!h.state().presenting());
    assert!(h.query_by_label("Reset").is_some(), "controls back");

    let surface = h.state().layers().surface;
    h.key_press(eframe::egui::Key::Num1);
    h.run_steps(2);
    assert_eq!(h.state().layers().surface, !surface, "1 toggles the surface");

    h.key_press(eframe::egui::Key::N);
    let next = {
        let names: Vec<&str> = ganscope::presets::names().collect();
        names[(names.iter().position(|n| *n == "ns-ring").unwrap() + 1) % names.len()].to_string()
    };
    let want = ganscope::presets::get(&next).unwrap().config;
    wait_for(&mut h, "the next preset", |a| a.snapshot().is_some_and(|s| *s.config == want));

    h.get_by_label("?").click();
    h.run_steps(4);
    assert!(h.query_by_label_contains("next / previous preset").is_some());
}

/// Drawing the controls never changes a preset's config: a value outside a slider's range
/// (oscillation's clip of 100) is kept until the user edits it.
#[test]
fn every_preset_reaches_the_trainer_unchanged() {
    for p in ganscope::presets::all() {
        let mut h = harness(p.name);
        wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
        h.run_steps(5);
        std::thread::sleep(Duration::from_millis(100));
        h.run_steps(2);
        let got = h.state().snapshot().unwrap().config.to_toml();
        assert_eq!(got, p.config.to_toml(), "{}: the window changed the config", p.name);
    }
}

/// Fork: B starts beside A from A's exact state (same step, same config), and a knob changed
/// in B reaches B's trainer only.
#[test]
fn fork_creates_a_second_run_from_the_same_state() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    for _ in 0..3 {
        h.get_by_label("Step").click();
        h.run_steps(1);
    }
    wait_for(&mut h, "three steps", |a| step_of(a) == 3);
    h.get_by_label("Fork").click();
    wait_for(&mut h, "B's first snapshot", |a| a.compared().is_some_and(|(_, s)| s.is_some()));
    let (name, b) = h.state().compared().unwrap();
    assert_eq!(name, "fork at step 3");
    let b = b.unwrap().clone();
    assert_eq!(b.step, 3, "B starts at A's step");
    assert_eq!(*b.config, *h.state().snapshot().unwrap().config);
    assert_eq!(b.view.fake, h.state().snapshot().unwrap().view.fake, "B's generator is A's");

    h.get_by_label("Change B:").click();
    h.run_steps(1);
    h.get_by_label("Change B:").type_text("loss.kind=hinge");
    h.run_steps(1);
    h.get_by_label("Apply to B").click();
    wait_for(&mut h, "B's new loss", |a| a.compared().is_some_and(|(_, s)| s.is_some_and(|s| s.config.loss.kind == LossKind::Hinge)));
    assert_eq!(h.state().snapshot().unwrap().config.loss.kind, LossKind::Ns, "A is unchanged");
}

/// "Record & export": the metrics CSV holds every evaluation; the config saved as TOML loads
/// back into a run; the samples CSV holds the shown fakes.
#[test]
fn export_buttons_write_csvs_and_the_config_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness("oscillation");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    train_to(&mut h, 300);
    h.get_by_label("Record & export").click();
    h.run_steps(4);
    replace_text(&mut h, "Folder:", dir.path().to_str().unwrap());
    h.get_by_label("Export metrics CSV").click();
    h.get_by_label("Export samples CSV").click();
    h.run_steps(2);
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    let find = |suffix: &str| {
        files.iter().find(|p| p.to_str().unwrap().ends_with(suffix)).unwrap_or_else(|| panic!("no *{suffix} in {files:?}")).clone()
    };
    let metrics = std::fs::read_to_string(find("-metrics.csv")).unwrap();
    let step = step_of(h.state());
    assert_eq!(metrics.lines().count(), 1 + (step / 100 + 1) as usize, "header + one row per evaluation:\n{metrics}");
    assert!(metrics.starts_with("step,seconds,modes_covered"));
    let samples = std::fs::read_to_string(find("-samples.csv")).unwrap();
    assert_eq!(samples.lines().count(), 1 + 2000, "header + the 2,000 shown fakes");

    let toml = dir.path().join("cfg.toml");
    replace_text(&mut h, "Config file:", toml.to_str().unwrap());
    h.get_by_label("Save config").click();
    h.run_steps(2);
    let saved = ganscope::config::Config::from_toml(&std::fs::read_to_string(&toml).unwrap()).unwrap();
    assert_eq!(saved, *h.state().snapshot().unwrap().config);

    let mut other = harness("ns-ring");
    wait_for(&mut other, "first snapshot", |a| a.snapshot().is_some());
    other.get_by_label("Record & export").click();
    other.run_steps(4);
    replace_text(&mut other, "Config file:", toml.to_str().unwrap());
    other.get_by_label("Load config").click();
    wait_for(&mut other, "the loaded config", |a| a.snapshot().is_some_and(|s| *s.config == saved && s.step == 0));
}

/// "Draw your own data": dragging with the brush adds points where the pointer went; "Use as
/// data" saves them and restarts the run on them as the `points` dataset.
#[test]
fn drawing_adds_points_and_they_become_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("mine.csv");
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some() && a.data_view_rect().is_some());
    h.get_by_label("Draw").click();
    h.run_steps(3);
    replace_text(&mut h, "CSV:", csv.to_str().unwrap());
    // A stroke from the centre of the view (data (0, 0)) to the right.
    let r = h.state().data_view_rect().unwrap();
    let start = r.center();
    h.hover_at(start);
    h.step();
    h.drag_at(start);
    h.step();
    for k in 1..=10 {
        h.hover_at(start + eframe::egui::vec2(3.0 * k as f32, 0.0));
        h.step();
    }
    h.drop_at(start + eframe::egui::vec2(30.0, 0.0));
    h.run_steps(2);
    let pts = h.state().drawn_points().to_vec();
    assert!(pts.len() >= 20, "a stroke of ~11 frames paints points: {}", pts.len());
    // The stroke went right from the origin: every point lies near y = 0, x ≥ −radius.
    assert!(pts.iter().all(|p| p[1].abs() <= 0.11 && p[0] >= -0.11), "{pts:?}");
    let n_before = pts.len();
    // The view did not pan while painting: it still shows the box centred on the origin.
    let r2 = h.state().data_view_rect().unwrap();
    assert_eq!(r, r2);

    h.get_by_label("Use as data").click();
    wait_for(&mut h, "the run on the drawn points", |a| {
        a.snapshot().is_some_and(|s| s.config.data.kind == ganscope::config::DataKind::Points && s.step == 0)
    });
    let back = ganscope::data::read_points_csv(&csv).unwrap();
    assert_eq!(back.len(), n_before, "the CSV holds every drawn point");
    let s = h.state().snapshot().unwrap();
    // Reals are drawn around the drawn points (std 0.02): none far from the stroke.
    assert!(s.real.iter().all(|q| q[1].abs() < 0.11 + 0.15 && q[0] > -0.3), "reals follow the drawing");
}

/// "Record & export" with a renderer (wgpu, offscreen): a PNG of the data view has the view's
/// size; a recording started and stopped with F9 holds the frames it counted, all of one size.
#[test]
fn png_and_recording_from_the_window_hold_the_data_view() {
    if common::skip_display_test("the window's PNG and recording (needs a graphics adapter)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch { preset: Some("ns-ring".into()), backend: BackendChoice::Cpu, ..Default::default() };
    let mut h = Harness::builder().with_size(eframe::egui::vec2(1200.0, 800.0)).wgpu().build_eframe(move |cc| GanscopeApp::new(cc, launch));
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some() && a.data_view_rect().is_some());
    h.get_by_label("Record & export").click();
    h.run_steps(3);
    replace_text(&mut h, "Folder:", dir.path().to_str().unwrap());
    h.get_by_label("PNG of the data view").click();
    // The PNG is encoded on its own thread; its notice says when the file is complete.
    wait_for(&mut h, "the PNG to be saved", |a| a.notice().is_some_and(|n| n.starts_with("Saved")));
    let rect = h.state().data_view_rect().unwrap();
    let files = || -> Vec<std::path::PathBuf> { std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect() };
    let png = files().into_iter().find(|p| p.to_str().unwrap().ends_with("-view.png")).expect("the PNG is written");
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (rect.width().round() as u32, rect.height().round() as u32));

    h.get_by_label("Play").click();
    h.key_press(eframe::egui::Key::F9);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.key_press(eframe::egui::Key::F9);
    // The encoder finishes on its own thread; its notice says when.
    wait_for(&mut h, "the recording to finish", |a| a.notice().is_some_and(|n| n.starts_with("Recorded")));
    let gif_path = files().into_iter().find(|p| p.to_str().unwrap().ends_with("-recording.gif")).expect("the recording is written");
    let mut d = gif::DecodeOptions::new();
    d.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = d.read_info(std::fs::File::open(&gif_path).unwrap()).unwrap();
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().unwrap() {
        assert_eq!((f.width as u32, f.height as u32), (img.width(), img.height()), "every frame is the data view");
        frames += 1;
    }
    assert!(frames >= 3, "3 s at 15 frames/s gives more than {frames} frames");
}

/// "Browse…" opens the desktop's file dialog on its own thread: the window keeps drawing while
/// it is open, and where there is no dialog (no portal, no zenity: CI) it closes by itself and
/// leaves the path field as it was.
#[test]
fn browse_never_blocks_the_window() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    h.get_by_label("Record & export").click();
    h.run_steps(3);
    let folder_before = h.state().export_folder().to_string();
    let start = Instant::now();
    h.get_all_by_label("Browse…").next().expect("a Browse… button").click();
    h.run_steps(3);
    assert!(start.elapsed() < Duration::from_secs(5), "frames go on while the dialog is open");
    let t = Instant::now();
    // Two fields, two buttons: while the dialog is open one reads "Browsing…".
    let idle = |h: &Harness<'static, GanscopeApp>| h.query_all_by_label("Browse…").count() == 2;
    while !idle(&h) && t.elapsed() < Duration::from_secs(30) {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(idle(&h), "the dialog came back");
    assert_eq!(h.state().export_folder(), folder_before, "a cancelled dialog changes nothing");
}

/// The timeline: moving its slider back goes to an earlier checkpoint (one per evaluation) and
/// the run goes back to that step; Play continues from there.
#[test]
fn scrubbing_the_timeline_restores_an_earlier_step() {
    let mut h = harness("ns-ring");
    wait_for(&mut h, "first snapshot", |a| a.snapshot().is_some());
    // ns-ring evaluates (and keeps a checkpoint) every 250 steps.
    h.get_by_label("Play").click();
    wait_for(&mut h, "step 800", |a| step_of(a) >= 800);
    h.get_by_label("Pause").click();
    wait_for(&mut h, "the pause", |a| a.snapshot().is_some_and(|s| !s.running && s.timeline.steps.len() >= 4));
    let at = step_of(h.state());
    let checkpoints = h.state().snapshot().unwrap().timeline.steps.clone();
    // The slider runs over checkpoint indexes: two back from the last.
    h.get_by_role_and_label(Role::Slider, "Timeline").set_value_accesskit((checkpoints.len() - 3) as f64);
    wait_for(&mut h, "the rewind", |a| step_of(a) < at);
    let back = step_of(h.state());
    assert!(checkpoints.contains(&back), "the run is back at a checkpoint ({back} in {checkpoints:?})");
    assert_eq!(back, checkpoints[checkpoints.len() - 3], "two checkpoints back from {at}");
    h.get_by_label("Play").click();
    wait_for(&mut h, "training on from the checkpoint", |a| step_of(a) > back + 50);
}

/// The string literals of `text` (roughly: what sits between unescaped quotes on lines that
/// are not comments).
fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut inside = None;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            match (inside, c) {
                (Some(_), '\\') if !escaped => escaped = true,
                (Some(start), '"') if !escaped => {
                    out.push(line[start..i].to_string());
                    inside = None;
                }
                (None, '"') if !line[..i].ends_with('\'') => inside = Some(i + 1),
                _ => escaped = false,
            }
        }
        if let Some(start) = inside {
            out.push(line[start..].to_string()); // a string continued on the next line
        }
    }
    out
}

/// Every character of the texts the window can show — the sources' string literals and the
/// presets' files — has a glyph in the window's fonts (egui would draw a box; the harness
/// panics, but only on the texts a test happens to draw).
#[test]
fn every_character_the_window_can_show_has_a_glyph() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { files(&p, out) } else { out.push(p) }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("src"), &mut paths);
    files(&root.join("assets"), &mut paths);
    let mut chars = std::collections::BTreeMap::<char, String>::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let texts = if p.extension().is_some_and(|e| e == "rs") { string_literals(&text) } else { vec![text] };
        for c in texts.iter().flat_map(|t| t.chars()).filter(|c| !c.is_ascii()) {
            chars.entry(c).or_insert_with(|| p.strip_prefix(root).unwrap().display().to_string());
        }
    }
    let ctx = eframe::egui::Context::default();
    let _ = ctx.run_ui(Default::default(), |_| {});
    let font = eframe::egui::FontId::proportional(14.0);
    let missing: Vec<String> = chars
        .iter()
        .filter(|(c, _)| !ctx.fonts_mut(|f| f.has_glyph(&font, **c)))
        .map(|(c, p)| format!("{c:?} (U+{:04X}, {p})", *c as u32))
        .collect();
    assert!(chars.len() > 20, "the scan found the texts: {} characters", chars.len());
    assert!(missing.is_empty(), "no glyph for: {}", missing.join(", "));
}

#[test]
fn a_lesson_plays_from_its_menu_pauses_at_its_cue_and_goes_back() {
    let mut h = harness("ns-ring");
    let l = ganscope::lesson::load("circling").unwrap();
    let pause = l.cues.iter().find(|c| c.pause).expect("the lesson has a pause cue").clone();
    h.get_by_label("Lesson").click();
    h.run_steps(2);
    h.get_by_label(&format!("{} ({} steps)", l.title, l.steps)).click();
    wait_for(&mut h, "the lesson starts", |a| a.snapshot().is_some_and(|s| s.lesson.as_ref().is_some_and(|x| x.lesson.name == "circling")));
    // The first cue's caption is shown, and its layers.
    let first = l.caption_at(0, None).unwrap();
    let shown = first.split('{').next().unwrap().trim().to_string();
    assert!(h.query_by_label_contains(&shown).is_some(), "caption on screen: {shown}");
    if let Some(names) = l.layers_at(0) {
        assert_eq!(h.state().layers().fake, names.contains("fake"));
    }
    h.get_by_label("Play").click();
    wait_for(&mut h, "the pause cue", |a| a.snapshot().is_some_and(|s| s.lesson.as_ref().is_some_and(|x| x.waiting)));
    let s = h.state().snapshot().unwrap();
    assert_eq!(s.step, pause.step, "stopped exactly at the pause cue");
    assert!(!s.running);
    // The controls show the cue's settings.
    let mut scripted = l.config.clone();
    for c in l.cues.iter().take_while(|c| c.step <= pause.step) {
        scripted.set_all(&c.set).unwrap();
    }
    assert_eq!(h.state().edited_config().schedule, scripted.schedule);
    assert_eq!(h.state().edited_config().reg, scripted.reg);
    // Next goes on; Back returns to the cue.
    h.get_by_label("Next").click();
    wait_for(&mut h, "past the cue", |a| step_of(a) > pause.step);
    h.get_by_label("Pause").click();
    wait_for(&mut h, "the pause", |a| a.snapshot().is_some_and(|s| !s.running));
    h.get_by_label("Back").click();
    wait_for(&mut h, "back at the cue", |a| step_of(a) == pause.step);
    // C copies the lesson's share string.
    h.key_press(eframe::egui::Key::C);
    h.run_steps(2);
    assert!(h.state().notice().is_some_and(|n| n.contains("lesson's share string")), "{:?}", h.state().notice());
    // Ending the lesson keeps the run going without cues.
    h.get_by_label("Lesson").click();
    h.run_steps(2);
    h.get_by_label("End the lesson").click();
    wait_for(&mut h, "the lesson ended", |a| a.snapshot().is_some_and(|s| s.lesson.is_none()));
}

#[test]
fn a_lesson_share_string_plays_the_lesson_in_another_window() {
    let launch = Launch { lesson: Some(ganscope::lesson::load("saturation").unwrap()), backend: BackendChoice::Cpu, ..Default::default() };
    let mut h = Harness::builder().with_size(eframe::egui::vec2(1400.0, 1000.0)).build_eframe(move |cc| GanscopeApp::new(cc, launch));
    wait_for(&mut h, "the lesson from the command line", |a| a.snapshot().is_some_and(|s| s.lesson.is_some()));
    h.get_by_label("Share").click();
    h.run_steps(2);
    h.get_by_label("Copy the lesson's share string").click();
    h.run_steps(2);
    let copied = h.get_by_label("Copied:").value().expect("the copied string is shown");
    assert_eq!(copied, ganscope::lesson::share(&ganscope::lesson::load("saturation").unwrap()));

    let mut other = harness("ns-ring");
    open_share_string(&mut other, &copied);
    wait_for(&mut other, "the shared lesson plays", |a| {
        a.snapshot().is_some_and(|s| s.lesson.as_ref().is_some_and(|l| l.lesson.name == "saturation") && s.config.optim.g.lr == 0.1)
    });
}

#[test]
fn every_lesson_starts_in_the_window_on_its_first_cue() {
    for l in ganscope::lesson::all() {
        let launch = Launch { lesson: Some(l.clone()), backend: BackendChoice::Cpu, ..Default::default() };
        let mut h = Harness::builder().with_size(eframe::egui::vec2(1400.0, 1000.0)).build_eframe(move |cc| GanscopeApp::new(cc, launch));
        wait_for(&mut h, &format!("lesson {} on its first cue", l.name), |a| {
            a.snapshot().is_some_and(|s| s.lesson.as_ref().is_some_and(|x| x.lesson.name == l.name && x.cue == Some(0)))
        });
        let want = l.config_at(&l.config, 0);
        assert_eq!(*h.state().snapshot().unwrap().config, want, "{}: the trainer runs the lesson's start", l.name);
        assert_eq!(h.state().compared().map(|(name, _)| name.to_string()), l.compare.clone(), "{}: the run beside it", l.name);
    }
}
