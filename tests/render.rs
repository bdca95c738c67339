//! `ganscope render`: frame count and size, frames that move, byte-identical reruns (GIF and
//! APNG), MP4 through ffmpeg, PNG frames in a directory, and clear errors.

#![cfg(feature = "gui")]

mod common;

use std::path::Path;
use std::process::Command;

/// `ganscope render` of ns-ring, seed 1, 600 steps every 20 at 320x240; `extra` flag/value
/// pairs replace these defaults or add to them.
fn render(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<(String, String)> =
        [("--preset", "ns-ring"), ("--seed", "1"), ("--steps", "600"), ("--every", "20"), ("--size", "320x240")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    for pair in extra.chunks(2) {
        match args.iter_mut().find(|(k, _)| k == pair[0]) {
            Some(a) => a.1 = pair[1].to_string(),
            None => args.push((pair[0].to_string(), pair[1].to_string())),
        }
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_ganscope"));
    c.env("GANSCOPE_NO_GPU_PROBE", "1").args(["--backend", "cpu", "render", "--out"]).arg(out);
    for (k, v) in args {
        c.arg(k).arg(v);
    }
    c.output().unwrap()
}

fn render_ok(out: &Path, extra: &[&str]) {
    let o = render(out, extra);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // The graphics stack's complaint about XDG_RUNTIME_DIR (unset in CI) is filtered out.
    assert!(!err.contains("error"), "a successful render says no error:\n{err}");
}

/// Every frame of a GIF, as RGBA.
fn gif_frames(bytes: &[u8]) -> Vec<(u16, u16, Vec<u8>)> {
    let mut d = gif::DecodeOptions::new();
    d.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = d.read_info(bytes).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = dec.read_next_frame().unwrap() {
        frames.push((f.width, f.height, f.buffer.to_vec()));
    }
    frames
}

#[test]
fn gif_has_a_frame_per_k_steps_of_the_asked_size_and_reruns_byte_identical() {
    if common::skip_display_test("render (needs a graphics adapter)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.gif"), dir.path().join("b.gif"));
    render_ok(&a, &[]);
    render_ok(&b, &[]);
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(bytes, std::fs::read(&b).unwrap(), "same seed, same backend: the same bytes");
    let frames = gif_frames(&bytes);
    assert_eq!(frames.len(), 31, "steps 0, 20, …, 600");
    assert!(frames.iter().all(|f| (f.0, f.1) == (320, 240)));
    for (k, w) in frames.windows(2).enumerate() {
        assert_ne!(w[0].2, w[1].2, "frames {k} and {} are the same picture", k + 1);
    }
    assert!(bytes.len() < 3_000_000, "a 31-frame 320x240 GIF is {} bytes", bytes.len());
}

#[test]
fn apng_likewise_and_a_directory_gets_png_frames() {
    if common::skip_display_test("render (needs a graphics adapter)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.apng"), dir.path().join("b.apng"));
    render_ok(&a, &["--plots", ""]);
    render_ok(&b, &["--plots", ""]);
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (320, 240));
    assert_eq!(info.animation_control.unwrap().num_frames, 31);
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let mut frames = Vec::new();
    while reader.next_frame(&mut buf).is_ok() {
        frames.push(buf.clone());
    }
    assert_eq!(frames.len(), 31);
    assert!(frames.windows(2).all(|w| w[0] != w[1]), "every frame differs from the one before");

    let frames_dir = dir.path().join("frames");
    render_ok(Path::new(&format!("{}/", frames_dir.display())), &["--steps", "100"]);
    let mut names: Vec<String> = std::fs::read_dir(&frames_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, (0..=5).map(|k| format!("frame_{k:05}.png")).collect::<Vec<_>>());
    let first = image::open(frames_dir.join("frame_00005.png")).unwrap();
    assert_eq!((first.width(), first.height()), (320, 240));
}

#[test]
fn mp4_when_ffmpeg_is_installed() {
    if common::skip_display_test("render (needs a graphics adapter)") {
        return;
    }
    let have = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.mp4");
    if !have {
        assert!(std::env::var_os("CI").is_none(), "CI installs ffmpeg (.ci/run)");
        let o = render(&out, &[]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("ffmpeg"), "the error names what is missing");
        eprintln!("SKIPPED the MP4 check: no ffmpeg on PATH");
        return;
    }
    render_ok(&out, &[]);
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    assert_eq!(text.trim(), "320,240,31", "width, height, frames");
}

#[test]
fn bad_render_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let o = render(&dir.path().join("a.webm"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out wants"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = render(&dir.path().join("a.gif"), &["--layers", "surface,ghosts"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown layer `ghosts`"));
    let o = render(&dir.path().join("a.gif"), &["--size", "320by240"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--size wants WxH"));
    assert!(!dir.path().join("a.gif").exists(), "nothing is written for bad arguments");
}

/// CIE L* of an sRGB colour.
fn lightness([r, g, b]: [f64; 3]) -> f64 {
    let lin = |v: f64| {
        let v = v / 255.0;
        if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    let y = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    if y > 216.0 / 24389.0 { 116.0 * y.cbrt() - 16.0 } else { y * 24389.0 / 27.0 }
}

/// A covered and a missed mode differ in lightness, not only in hue (green / red is what most
/// colour-blind viewers confuse): on a collapsed run both are drawn, and their rings' L* differ
/// by at least 15.
#[test]
fn covered_and_missed_modes_differ_in_lightness() {
    if common::skip_display_test("render (needs a graphics adapter)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("modes");
    let args = ["--preset", "collapse", "--steps", "800", "--every", "800", "--size", "400x400", "--layers", "modes", "--plots", ""];
    render_ok(Path::new(&format!("{}/", frames.display())), &args);
    let img = image::open(frames.join("frame_00001.png")).unwrap().to_rgb8();
    // Ring pixels: saturated ones (the background, the axes and the text are grey).
    let (mut dark, mut light) = (Vec::new(), Vec::new());
    for p in img.pixels() {
        let [r, g, b] = p.0.map(f64::from);
        let chroma = r.max(g).max(b) - r.min(g).min(b);
        if chroma < 60.0 {
            continue;
        }
        // Blue-dominant: a covered ring; red-dominant: a missed one.
        if b > r { dark.push([r, g, b]) } else { light.push([r, g, b]) }
    }
    assert!(dark.len() > 30 && light.len() > 30, "both mode states drawn: {} covered, {} missed ring pixels", dark.len(), light.len());
    let mean = |v: &[[f64; 3]]| {
        let n = v.len() as f64;
        [0, 1, 2].map(|i| v.iter().map(|p| p[i]).sum::<f64>() / n)
    };
    let (covered, missed) = (lightness(mean(&dark)), lightness(mean(&light)));
    eprintln!("L*: covered {covered:.1}, missed {missed:.1}");
    assert!((covered - missed).abs() >= 15.0, "covered L* {covered:.1} vs missed L* {missed:.1}: told apart by hue alone");
}

/// A lesson file with a caption at step 0 and a pause cue at step 200.
const LESSON: &str = r#"[lesson]
title = "A small lesson"
preset = "oscillation"
seeds = [0, 1, 2, 3, 4]
steps = 400

[[cue]]
step = 0
caption = "Simultaneous updates."
layers = "real,fake"

[[cue]]
step = 200
set = ["schedule.mode=alternating"]
pause = true
caption = "Alternating updates."
layers = "surface,real,fake"
[[cue.promise]]
metric = "js_grid"
at_least = 0.0
"#;

fn render_lesson(lesson: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_ganscope"))
        .env("GANSCOPE_NO_GPU_PROBE", "1")
        .args(["--backend", "cpu", "render", "--lesson"])
        .arg(lesson)
        .args(["--every", "100", "--size", "320x240", "--fps", "10", "--hold", "1", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_lesson_renders_with_its_captions_and_holds_at_its_pause_byte_identically() {
    if common::skip_display_test("render (needs a graphics adapter)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lesson = dir.path().join("small.toml");
    std::fs::write(&lesson, LESSON).unwrap();
    // PNG frames: 5 stills (steps 0 … 400 every 100), the one at the pause cue held 1 s at 10 fps.
    let frames = dir.path().join("frames/");
    render_lesson(&lesson, &frames);
    let mut names: Vec<String> = std::fs::read_dir(&frames).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 5 + 10, "{names:?}");
    let frame = |k: usize| std::fs::read(frames.join(format!("frame_{k:05}.png"))).unwrap();
    // Held: the frames after the cue's still are that still; the caption changed with the cue.
    assert!((3..=12).all(|k| frame(k) == frame(2)), "the pause cue's still is held");
    assert_ne!(frame(1), frame(2));
    assert_ne!(frame(12), frame(13));
    // Two MP4 renders of the lesson are the same bytes.
    let have = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    if !have {
        assert!(std::env::var_os("CI").is_none(), "CI installs ffmpeg (.ci/run)");
        return;
    }
    let (a, b) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"));
    render_lesson(&lesson, &a);
    render_lesson(&lesson, &b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "byte-identical MP4 reruns");
}
