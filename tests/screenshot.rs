//! A real window under Xvfb: `ganscope --preset … --steps N --screenshot FILE.png` draws the
//! lab, trains, writes a PNG of the whole window and exits. The PNG must show the heatmap
//! (many distinct surface colours) and the fake samples (their orange inside the plot).

mod common;

use std::process::Command;

fn has(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// ganscope in a window: on $DISPLAY, or under xvfb-run.
fn display_command() -> Command {
    if std::env::var_os("DISPLAY").is_some() {
        return Command::new(env!("CARGO_BIN_EXE_ganscope"));
    }
    assert!(
        has("xvfb-run"),
        "the window tests need an X display or xvfb-run (apt-get install xvfb xauth mesa-vulkan-drivers libgl1-mesa-dri); \
         GANSCOPE_SKIP_DISPLAY_TESTS=1 skips them outside CI"
    );
    let mut c = Command::new("xvfb-run");
    c.args(["-a", "-s", "-screen 0 1600x1000x24", env!("CARGO_BIN_EXE_ganscope")]);
    c
}

#[test]
fn screenshot_mode_writes_a_png_with_heatmap_and_samples() {
    if common::skip_display_test("the window screenshot") {
        return;
    }
    let mut cmd = display_command();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    let out = cmd
        .args(["--preset", "ns-ring", "--steps", "150", "--backend", "cpu", "--screenshot"])
        .arg(&png)
        .env("GANSCOPE_NO_GPU_PROBE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "window run failed:\n{err}");
    let img = image::open(&png).unwrap_or_else(|e| panic!("no PNG written ({e}):\n{err}")).to_rgba8();
    let (w, h) = img.dimensions();
    assert!(w >= 800 && h >= 500, "whole window expected, got {w}×{h}");
    // The data view sits between the control panel (left ~22 %) and the side plots (right
    // ~26 %).
    let (x0, x1, y0, y1) = (w / 4, 3 * w / 4 - 20, h / 6, 5 * h / 6);
    let mut colours = std::collections::HashSet::new();
    let (mut orange, mut bluish, mut reddish) = (0usize, 0usize, 0usize);
    for y in y0..y1 {
        for x in x0..x1 {
            let [r, g, b, _] = img.get_pixel(x, y).0;
            colours.insert((r, g, b));
            let (r, g, b) = (r as i32, g as i32, b as i32);
            if (r - 245).abs() < 30 && (g - 130).abs() < 35 && b < 60 {
                orange += 1;
            }
            if b > r + 40 && b > 120 {
                bluish += 1;
            }
            if r > b + 40 && r > 150 && g < 150 {
                reddish += 1;
            }
        }
    }
    eprintln!("{w}×{h}: {} colours, {orange} orange, {bluish} blue, {reddish} red pixels in the view", colours.len());
    assert!(colours.len() > 200, "heatmap expected: only {} distinct colours", colours.len());
    assert!(orange > 200, "fake samples expected: {orange} orange pixels");
    assert!(bluish > 1000 || reddish > 1000, "surface colours expected: {bluish} blue, {reddish} red");
}

/// `--record FILE.gif` records the window from the start; closing it (here: the screenshot
/// mode's exit) finishes the file, whose frames all have the first frame's size.
#[test]
fn record_flag_writes_a_gif_of_the_run() {
    if common::skip_display_test("the window recording") {
        return;
    }
    let mut cmd = display_command();
    let dir = tempfile::tempdir().unwrap();
    let (png, gif_path) = (dir.path().join("shot.png"), dir.path().join("run.gif"));
    let out = cmd
        .args(["--preset", "ns-ring", "--steps", "1500", "--backend", "cpu", "--screenshot"])
        .arg(&png)
        .arg("--record")
        .arg(&gif_path)
        .env("GANSCOPE_NO_GPU_PROBE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "window run failed:\n{err}");
    assert!(err.contains("recorded "), "the exit says what was recorded:\n{err}");
    let mut d = gif::DecodeOptions::new();
    d.set_color_output(gif::ColorOutput::RGBA);
    let file = std::fs::File::open(&gif_path).unwrap_or_else(|e| panic!("no GIF ({e}):\n{err}"));
    let mut dec = d.read_info(file).unwrap();
    let (w, h) = (dec.width(), dec.height());
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().unwrap() {
        assert_eq!((f.width, f.height), (w, h));
        frames += 1;
    }
    assert!(frames >= 2 && w >= 100 && h >= 100, "{frames} frames of {w}×{h}:\n{err}");
}

/// **C** in the window puts the run's share string on the system clipboard, where another
/// program (`xclip`) reads it: the same string `ganscope config --share` prints.
#[test]
fn the_share_string_reaches_the_system_clipboard() {
    if common::skip_display_test("the clipboard test") {
        return;
    }
    for tool in ["xvfb-run", "xdotool", "xclip"] {
        assert!(
            has(tool),
            "the clipboard test needs {tool} (apt-get install xvfb xauth xdotool xclip); GANSCOPE_SKIP_DISPLAY_TESTS=1 skips it"
        );
    }
    let exe = env!("CARGO_BIN_EXE_ganscope");
    // The window starts paused; once it is mapped and has drawn, C is pressed in it.
    let script = format!(
        "{exe} --preset wgan-gp --backend cpu & pid=$!; \
         win=$(xdotool search --sync --name ganscope | head -n 1); sleep 3; \
         xdotool windowfocus --sync $win key c; sleep 1; \
         xclip -o -selection clipboard; status=$?; kill $pid; wait $pid; exit $status"
    );
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x1000x24", "sh", "-c", &script])
        .env("GANSCOPE_NO_GPU_PROBE", "1")
        .output()
        .unwrap();
    let copied = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let expected = Command::new(exe).args(["config", "--preset", "wgan-gp", "--share"]).output().unwrap();
    let expected = String::from_utf8_lossy(&expected.stdout).trim().to_string();
    assert!(expected.starts_with("gs1:"), "{expected}");
    assert_eq!(copied, expected, "the clipboard holds the share string; stderr:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// The window probes for a GPU exactly as the command line does: under Xvfb with Mesa the probe
/// finds lavapipe (Vulkan) and names it as the reason training runs on the CPU — no panic text
/// from the graphics stack (whose GL backend used to panic inside the window's GL context).
#[test]
fn the_window_finds_the_adapter_the_command_line_finds() {
    if common::skip_display_test("the window's GPU probe") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = display_command()
        .args(["--preset", "ns-ring", "--steps", "20", "--screenshot"])
        .arg(dir.path().join("shot.png"))
        .env_remove("GANSCOPE_NO_GPU_PROBE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "window run failed:\n{err}");
    assert!(!err.contains("panicked"), "no panic text on stderr:\n{err}");
    let line = err.lines().find(|l| l.starts_with("window: trained on")).unwrap_or_else(|| panic!("no device line:\n{err}"));
    let cli = Command::new(env!("CARGO_BIN_EXE_ganscope"))
        .args(["train", "--preset", "ns-ring", "--steps", "5", "--summary-out"])
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    let reason = summary["backend_reason"].as_str().unwrap();
    assert!(line.ends_with(&format!(": {reason}")), "the window's reason `{line}` is the command line's `{reason}`");
    assert!(!reason.contains("panicked") && !reason.contains("inside the graphics driver"), "{reason}");

    // Asked for wgpu, the window trains on that adapter (lavapipe here).
    let out = display_command()
        .args(["--preset", "ns-ring", "--steps", "10", "--backend", "wgpu", "--screenshot"])
        .arg(dir.path().join("shot2.png"))
        .env_remove("GANSCOPE_NO_GPU_PROBE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("window: trained on wgpu")), "{err}");
}
