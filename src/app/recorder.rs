//! Recording the window: frames are taken with egui's screenshot command at the chosen rate,
//! cropped to the chosen region, and handed through a bounded queue to an encoder thread —
//! GIF (streamed), APNG (encoded at the end from a temporary file of raw frames) or MP4 (raw
//! frames piped to `ffmpeg`). A full queue drops the frame and counts it: recording never
//! stalls the UI thread or training.

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    Gif,
    Apng,
    Mp4,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Gif => "gif",
            Format::Apng => "png",
            Format::Mp4 => "mp4",
        }
    }
}

/// Why MP4 is unavailable, if it is (no `ffmpeg` on PATH).
pub fn mp4_unavailable() -> Option<String> {
    match std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        _ => Some("MP4 needs ffmpeg on PATH (e.g. apt-get install ffmpeg); GIF and APNG need nothing".into()),
    }
}

/// One frame, RGBA.
#[derive(Clone)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// Frames waiting for the encoder at most; beyond, frames are dropped (and counted).
const QUEUE: usize = 8;

/// What goes to the encoder: a frame, or `None` to stop — even while screenshot callbacks
/// that will never run still hold sinks (at exit), so the encoder cannot wait for every sender
/// to go.
type Msg = Option<Frame>;

pub struct Recorder {
    tx: Option<Sender<Msg>>,
    thread: Option<JoinHandle<Result<usize, String>>>,
    pub path: PathBuf,
    pub started: Instant,
    fps: f32,
    last: Option<Instant>,
    pub sent: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicUsize>,
}

impl Recorder {
    /// Starts the encoder thread writing `path` in `format` at `fps`.
    pub fn start(path: PathBuf, format: Format, fps: f32) -> Self {
        let (tx, rx) = bounded(QUEUE);
        let out = path.clone();
        let thread = std::thread::Builder::new()
            .name("ganscope-recorder".into())
            .spawn(move || encode(rx, &out, format, fps))
            .expect("spawning the encoder thread");
        Self {
            tx: Some(tx),
            thread: Some(thread),
            path,
            started: Instant::now(),
            fps,
            last: None,
            sent: Arc::default(),
            dropped: Arc::default(),
        }
    }

    /// Whether a frame is due now (at most `fps` a second).
    pub fn due(&mut self) -> bool {
        let every = Duration::from_secs_f32(1.0 / self.fps.max(1.0));
        if self.last.is_none_or(|l| l.elapsed() >= every) {
            self.last = Some(Instant::now());
            return true;
        }
        false
    }

    /// A sink for frames (handed to the screenshot callback, which runs elsewhere).
    pub fn sink(&self) -> FrameSink {
        FrameSink { tx: self.tx.clone(), sent: self.sent.clone(), dropped: self.dropped.clone() }
    }

    /// Stops and waits for the encoder: the number of frames written, or what failed. Frames
    /// pushed after this are dropped.
    pub fn finish(mut self) -> Result<usize, String> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(None);
        }
        self.thread.take().expect("running").join().map_err(|_| "the encoder thread panicked".to_string())?
    }

    /// Stops without waiting (the window's thread): `done` gets `finish`'s result on another
    /// thread once the encoder has written the last frame (encoding an APNG can take a while).
    pub fn finish_in_background(self, done: impl FnOnce(Result<usize, String>) + Send + 'static) {
        let spawned = std::thread::Builder::new().name("ganscope-recorder-finish".into()).spawn(move || done(self.finish()));
        if let Err(e) = spawned {
            eprintln!("error: cannot finish the recording: {e}");
        }
    }
}

/// Where frames go: never blocks.
#[derive(Clone)]
pub struct FrameSink {
    tx: Option<Sender<Msg>>,
    sent: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl FrameSink {
    pub fn push(&self, f: Frame) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(Some(f)) {
            Ok(()) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits for room in the queue (offscreen rendering, where no frame may be dropped); an
    /// error when the encoder has stopped (it failed: `Recorder::finish` says why).
    pub fn push_wait(&self, f: Frame) -> Result<(), String> {
        let Some(tx) = &self.tx else { return Err("the recording has stopped".into()) };
        tx.send(Some(f)).map_err(|_| "the encoder stopped taking frames (see the error that follows)".to_string())?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Crops a screenshot to the pixel rectangle [x0, x1) × [y0, y1), clamped to the image (at
/// least one pixel), converting only the rows and columns kept.
pub fn crop_image(image: &eframe::egui::ColorImage, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> Frame {
    let (w, h) = (image.size[0] as u32, image.size[1] as u32);
    let (x0, y0) = (x0.min(w.saturating_sub(1)), y0.min(h.saturating_sub(1)));
    let (x1, y1) = (x1.min(w).max(x0 + 1), y1.min(h).max(y0 + 1));
    let mut rgba = Vec::with_capacity(((x1 - x0) * (y1 - y0) * 4) as usize);
    for y in y0..y1 {
        let row = &image.pixels[(y * w) as usize..((y + 1) * w) as usize];
        rgba.extend(row[x0 as usize..x1 as usize].iter().flat_map(|c| c.to_array()));
    }
    Frame { width: x1 - x0, height: y1 - y0, rgba }
}

/// Writes `f` as a PNG at `path` through a sibling `.part` file and a rename, so whoever waits
/// for the file (a file manager, a script, a test) never reads half an image.
pub fn save_png(path: &std::path::Path, f: &Frame) -> Result<(), String> {
    let mut png = std::io::Cursor::new(Vec::new());
    image::write_buffer_with_format(&mut png, &f.rgba, f.width, f.height, image::ColorType::Rgba8, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    crate::fsio::write_atomic(path, png.into_inner()).map_err(|e| e.to_string())
}

/// `f` cut or padded (black, top-left aligned) to `w` × `h`: the first frame's size holds for
/// the whole recording, even if the window or the view is resized mid-way.
fn fit(f: Frame, w: u32, h: u32) -> Frame {
    if (f.width, f.height) == (w, h) {
        return f;
    }
    let mut out = vec![0u8; (w * h * 4) as usize];
    for i in (3..out.len()).step_by(4) {
        out[i] = 255;
    }
    for y in 0..h.min(f.height) {
        let n = (w.min(f.width) * 4) as usize;
        let src = (y * f.width * 4) as usize;
        let dst = (y * w * 4) as usize;
        out[dst..dst + n].copy_from_slice(&f.rgba[src..src + n]);
    }
    Frame { width: w, height: h, rgba: out }
}

/// The encoder thread: every frame at the first frame's size (`fit`), into a temporary sibling
/// renamed over `path` once the file is complete (a crash mid-recording leaves no broken file).
fn encode(rx: Receiver<Msg>, path: &Path, format: Format, fps: f32) -> Result<usize, String> {
    let part = crate::fsio::part_path(path);
    match encode_into(rx, &part, format, fps) {
        Ok(n) => crate::fsio::finish(&part, path).map(|()| n).map_err(|e| format!("cannot write {}: {e}", path.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e.replace(&part.display().to_string(), &path.display().to_string()))
        }
    }
}

/// `encode`'s work, writing to `path` as it goes.
fn encode_into(rx: Receiver<Msg>, path: &Path, format: Format, fps: f32) -> Result<usize, String> {
    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut size = None;
    let mut n = 0usize;
    match format {
        Format::Gif => {
            let file = BufWriter::new(std::fs::File::create(path).map_err(io)?);
            let mut enc: Option<gif::Encoder<BufWriter<std::fs::File>>> = None;
            let mut file = Some(file);
            let delay = (100.0 / fps).round().max(2.0) as u16;
            for f in rx.iter().map_while(|m| m) {
                let (w, h) = *size.get_or_insert((f.width, f.height));
                let mut f = fit(f, w, h);
                if enc.is_none() {
                    let mut e = gif::Encoder::new(file.take().expect("once"), w as u16, h as u16, &[]).map_err(|e| e.to_string())?;
                    e.set_repeat(gif::Repeat::Infinite).map_err(|e| e.to_string())?;
                    enc = Some(e);
                }
                let mut frame = gif::Frame::from_rgba_speed(w as u16, h as u16, &mut f.rgba, 10);
                frame.delay = delay;
                enc.as_mut().expect("made").write_frame(&frame).map_err(|e| e.to_string())?;
                n += 1;
            }
        }
        Format::Apng => {
            // The frame count goes in the header: spool raw frames, then encode.
            let spool_path = path.with_extension("frames.tmp");
            let mut spool = BufWriter::new(std::fs::File::create(&spool_path).map_err(io)?);
            for f in rx.iter().map_while(|m| m) {
                let (w, h) = *size.get_or_insert((f.width, f.height));
                let f = fit(f, w, h);
                spool.write_all(&f.rgba).map_err(io)?;
                n += 1;
            }
            drop(spool);
            let result = (|| -> Result<(), String> {
                let Some((w, h)) = size else { return Ok(()) };
                let file = BufWriter::new(std::fs::File::create(path).map_err(io)?);
                let mut enc = png::Encoder::new(file, w, h);
                enc.set_color(png::ColorType::Rgba);
                enc.set_animated(n as u32, 0).map_err(|e| e.to_string())?;
                enc.set_frame_delay(1, fps.round().max(1.0) as u16).map_err(|e| e.to_string())?;
                let mut writer = enc.write_header().map_err(|e| e.to_string())?;
                let mut raw = std::fs::File::open(&spool_path).map_err(io)?;
                let mut buf = vec![0u8; (w * h * 4) as usize];
                for _ in 0..n {
                    raw.read_exact(&mut buf).map_err(io)?;
                    writer.write_image_data(&buf).map_err(|e| e.to_string())?;
                }
                writer.finish().map_err(|e| e.to_string())
            })();
            let _ = std::fs::remove_file(&spool_path);
            result?;
        }
        Format::Mp4 => {
            let mut child: Option<std::process::Child> = None;
            for f in rx.iter().map_while(|m| m) {
                let (w, h) = *size.get_or_insert((f.width, f.height));
                let f = fit(f, w, h);
                if child.is_none() {
                    let c = std::process::Command::new("ffmpeg")
                        .args([
                            "-y",
                            "-loglevel",
                            "error",
                            "-f",
                            "rawvideo",
                            "-pix_fmt",
                            "rgba",
                            "-s",
                            &format!("{w}x{h}"),
                            "-r",
                            &fps.to_string(),
                            "-i",
                            "-",
                        ])
                        // `-f mp4`: the temporary file's name says nothing of the container.
                        // Bit-exact muxing (no encoder version or time stamps in the file) and
                        // x264's deterministic default: the same frames give the same bytes.
                        .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-fflags", "+bitexact", "-f", "mp4"])
                        .arg(path)
                        .stdin(std::process::Stdio::piped())
                        .spawn()
                        .map_err(|e| format!("cannot start ffmpeg: {e}"))?;
                    child = Some(c);
                }
                let stdin = child.as_mut().and_then(|c| c.stdin.as_mut()).expect("piped");
                stdin.write_all(&f.rgba).map_err(|e| format!("ffmpeg stopped taking frames: {e}"))?;
                n += 1;
            }
            if let Some(mut c) = child {
                drop(c.stdin.take());
                let status = c.wait().map_err(|e| e.to_string())?;
                if !status.success() {
                    return Err(format!("ffmpeg failed ({status})"));
                }
            }
        }
    }
    if n == 0 {
        // Nothing arrived (stopped before the first frame rendered): no file at all.
        return Err(format!("no frame was captured, so {} was not written", path.display()));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(k: u8) -> Frame {
        let (w, h) = (40u32, 30u32);
        let rgba = (0..w * h).flat_map(|i| [k.wrapping_mul(40), (i % 255) as u8, 255 - k, 255]).collect();
        Frame { width: w, height: h, rgba }
    }

    #[test]
    fn gif_and_apng_hold_every_frame_sent() {
        let dir = std::env::temp_dir().join(format!("ganscope-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in [Format::Gif, Format::Apng] {
            let path = dir.join(format!("r.{}", format.extension()));
            let rec = Recorder::start(path.clone(), format, 10.0);
            let sink = rec.sink();
            for k in 0..6 {
                // Slow enough that the bounded queue never fills.
                sink.push(frame(k));
                std::thread::sleep(Duration::from_millis(30));
            }
            sink.push(Frame { width: 10, height: 10, rgba: vec![0; 400] }); // a resized window: fitted
            drop(sink);
            let n = rec.finish().unwrap();
            assert_eq!(n, 7, "{format:?}");
            let bytes = std::fs::read(&path).unwrap();
            match format {
                Format::Gif => {
                    let mut d = gif::DecodeOptions::new();
                    d.set_color_output(gif::ColorOutput::RGBA);
                    let mut dec = d.read_info(bytes.as_slice()).unwrap();
                    let mut frames = 0;
                    while let Some(f) = dec.read_next_frame().unwrap() {
                        assert_eq!((f.width, f.height), (40, 30));
                        frames += 1;
                    }
                    assert_eq!(frames, 7);
                }
                _ => {
                    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
                    let reader = dec.read_info().unwrap();
                    let info = reader.info();
                    assert_eq!((info.width, info.height), (40, 30));
                    assert_eq!(info.animation_control.unwrap().num_frames, 7);
                }
            }
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (tx, _rx) = bounded::<Msg>(QUEUE);
        let sink = FrameSink { tx: Some(tx), sent: Arc::default(), dropped: Arc::default() };
        let start = Instant::now();
        for k in 0..20 {
            sink.push(frame(k));
        }
        assert!(start.elapsed() < Duration::from_secs(1), "pushing never waits");
        assert_eq!(sink.sent.load(Ordering::Relaxed), QUEUE);
        assert_eq!(sink.dropped.load(Ordering::Relaxed), 20 - QUEUE);
    }

    #[test]
    fn save_png_leaves_only_the_finished_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let f = frame(3);
        save_png(&path, &f).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.png")], "no .part file is left behind");
        let back = image::open(&path).unwrap().to_rgba8();
        assert_eq!((back.width(), back.height()), (f.width, f.height));
        assert_eq!(back.into_raw(), f.rgba);
        let err = save_png(&dir.path().join("missing/x.png"), &f).unwrap_err();
        assert!(!err.is_empty());
    }

    #[test]
    fn crop_image_takes_the_rectangle_and_clamps() {
        let f = frame(2);
        let pixels = f.rgba.chunks_exact(4).map(|p| eframe::egui::Color32::from_rgba_premultiplied(p[0], p[1], p[2], p[3])).collect();
        let img = eframe::egui::ColorImage::new([40, 30], pixels);
        let a = crop_image(&img, (5, 3, 15, 13));
        assert_eq!((a.width, a.height, a.rgba.len()), (10, 10, 400));
        for (y, x) in [(0, 0), (4, 7), (9, 9)] {
            let src = (((3 + y) * 40 + 5 + x) * 4) as usize;
            let dst = ((y * 10 + x) * 4) as usize;
            assert_eq!(&a.rgba[dst..dst + 4], &f.rgba[src..src + 4], "pixel ({x}, {y})");
        }
        let c = crop_image(&img, (35, 25, 99, 99));
        assert_eq!((c.width, c.height), (5, 5), "clamped to the image");
    }
}
