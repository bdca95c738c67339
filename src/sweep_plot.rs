//! `plot.png` of a sweep: the chosen metric (mean over seeds, error bars ± one standard
//! deviation) against the first swept key, one line per value of the second. Drawn into an
//! RGB buffer with a built-in 5×7 pixel font, so the command line needs no window, font file
//! or plotting stack.

use crate::sweep::RunRecord;
use crate::sweep::{METRICS, Sweep, summarise};

const W: u32 = 800;
const H: u32 = 520;
const LEFT: i32 = 90;
const RIGHT: i32 = 190;
const TOP: i32 = 50;
const BOTTOM: i32 = 70;

const PALETTE: [[u8; 3]; 6] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

struct Canvas {
    px: Vec<u8>,
}

impl Canvas {
    fn new() -> Self {
        Self { px: vec![255; (W * H * 3) as usize] }
    }

    fn set(&mut self, x: i32, y: i32, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as u32) < W && (y as u32) < H {
            let i = ((y as u32 * W + x as u32) * 3) as usize;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: [u8; 3]) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.set(x, y, c);
            }
        }
    }

    /// A line `width` pixels thick.
    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), width: i32, c: [u8; 3]) {
        let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as i32).max(1);
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let (x, y) = ((x0 + t * (x1 - x0)).round() as i32, (y0 + t * (y1 - y0)).round() as i32);
            self.rect(x - width / 2, y - width / 2, x + (width - 1) / 2, y + (width - 1) / 2, c);
        }
    }

    /// Text at (x, y) (top left), `scale` pixels per font pixel.
    fn text(&mut self, x: i32, y: i32, s: &str, scale: i32, c: [u8; 3]) {
        for (k, ch) in s.chars().enumerate() {
            let rows = glyph(ch);
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (1 << (4 - col)) != 0 {
                        let (px, py) = (x + (k as i32 * 6 + col) * scale, y + r as i32 * scale);
                        self.rect(px, py, px + scale - 1, py + scale - 1, c);
                    }
                }
            }
        }
    }
}

fn text_width(s: &str, scale: i32) -> i32 {
    s.chars().count() as i32 * 6 * scale
}

/// Short numbers for tick labels.
fn fmt(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        format!("{:.3}", v).trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Renders the plot as PNG bytes.
pub fn render(sweep: &Sweep, records: &[RunRecord]) -> Result<Vec<u8>, String> {
    let m = METRICS
        .iter()
        .position(|m| *m == sweep.metric)
        .ok_or_else(|| format!("unknown metric `{}` (one of: {})", sweep.metric, METRICS.join(", ")))?;
    let (key1, xs) = sweep.grid.first().ok_or("a sweep needs at least one --grid")?;
    let series_key = sweep.grid.get(1).map(|(k, _)| k.clone());
    let summary = summarise(sweep, records);
    // x: numeric when every value is a number (log scale when they span a decade or more), else
    // evenly spaced categories.
    let nums: Option<Vec<f64>> = xs.iter().map(|v| v.parse::<f64>().ok()).collect();
    let log = nums.as_ref().is_some_and(|n| {
        n.iter().all(|&v| v > 0.0) && n.iter().cloned().fold(0.0, f64::max) / n.iter().cloned().fold(f64::INFINITY, f64::min) >= 10.0
    });
    let xpos = |i: usize| -> f64 {
        match &nums {
            Some(n) if log => n[i].log10(),
            Some(n) => n[i],
            None => i as f64,
        }
    };
    let (xmin, xmax) = (0..xs.len()).map(xpos).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (xmin, xmax) = if xmax > xmin { (xmin, xmax) } else { (xmin - 1.0, xmax + 1.0) };
    // Points: (series index, x index, mean, std).
    let mut pts = Vec::new();
    let series_values: Vec<String> = sweep.grid.get(1).map(|(_, v)| v.clone()).unwrap_or_else(|| vec![String::new()]);
    for (point, _, stats) in &summary {
        let xi = xs.iter().position(|v| *v == point[0].1).expect("grid value");
        let si = point.get(1).map_or(0, |(_, v)| series_values.iter().position(|s| s == v).expect("grid value"));
        if let Some((mean, std)) = stats[m] {
            pts.push((si, xi, mean, std));
        }
    }
    let (mut ymin, mut ymax) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.2 - p.3), b.max(p.2 + p.3)));
    if !ymin.is_finite() {
        (ymin, ymax) = (0.0, 1.0);
    }
    if ymax - ymin < 1e-9 {
        (ymin, ymax) = (ymin - 0.5, ymax + 0.5);
    }
    let pad = 0.08 * (ymax - ymin);
    let (ymin, ymax) = (ymin - pad, ymax + pad);
    let (pw, ph) = ((W as i32 - LEFT - RIGHT) as f64, (H as i32 - TOP - BOTTOM) as f64);
    let xpad = 0.05 * (xmax - xmin);
    let sx = |x: f64| LEFT as f64 + (x - xmin + xpad) / (xmax - xmin + 2.0 * xpad) * pw;
    let sy = |y: f64| TOP as f64 + (1.0 - (y - ymin) / (ymax - ymin)) * ph;

    let mut c = Canvas::new();
    let ink = [40, 40, 40];
    let grid = [225, 225, 225];
    let title = format!("{} vs {key1} (mean +- std over {} seeds)", sweep.metric, sweep.seeds);
    c.text(LEFT, 16, &title, 2, ink);
    for k in 0..=4 {
        let y = ymin + (ymax - ymin) * k as f64 / 4.0;
        let py = sy(y);
        c.line((LEFT as f64, py), (LEFT as f64 + pw, py), 1, grid);
        let label = fmt(y);
        c.text(LEFT - 8 - text_width(&label, 1) * 2, py as i32 - 7, &label, 2, ink);
    }
    for (i, v) in xs.iter().enumerate() {
        let px = sx(xpos(i));
        c.line((px, TOP as f64), (px, TOP as f64 + ph), 1, grid);
        c.text(px as i32 - text_width(v, 2) / 2, TOP + ph as i32 + 10, v, 2, ink);
    }
    c.line((LEFT as f64, TOP as f64), (LEFT as f64, TOP as f64 + ph), 2, ink);
    c.line((LEFT as f64, TOP as f64 + ph), (LEFT as f64 + pw, TOP as f64 + ph), 2, ink);
    let xlabel = if log { format!("{key1} (log scale)") } else { key1.clone() };
    c.text(LEFT + pw as i32 / 2 - text_width(&xlabel, 2) / 2, H as i32 - 30, &xlabel, 2, ink);

    for (si, sv) in series_values.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let mut line: Vec<(f64, f64, f64)> = pts.iter().filter(|p| p.0 == si).map(|p| (xpos(p.1), p.2, p.3)).collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in line.windows(2) {
            c.line((sx(w[0].0), sy(w[0].1)), (sx(w[1].0), sy(w[1].1)), 2, colour);
        }
        for &(x, mean, std) in &line {
            let (px, lo, hi) = (sx(x), sy(mean - std), sy(mean + std));
            c.line((px, lo), (px, hi), 1, colour);
            c.line((px - 5.0, lo), (px + 5.0, lo), 1, colour);
            c.line((px - 5.0, hi), (px + 5.0, hi), 1, colour);
            c.rect(px as i32 - 3, sy(mean) as i32 - 3, px as i32 + 3, sy(mean) as i32 + 3, colour);
        }
        if let Some(k) = &series_key {
            let y = TOP + 10 + si as i32 * 22;
            let x = W as i32 - RIGHT + 16;
            c.rect(x, y, x + 14, y + 12, colour);
            c.text(x + 20, y - 1, &format!("{}={sv}", k.rsplit('.').next().unwrap_or(k)), 2, ink);
        }
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&c.px, W, H, image::ExtendedColorType::Rgb8)
        .map_err(|e| format!("cannot encode the plot: {e}"))?;
    Ok(png)
}

use image::ImageEncoder as _;

/// Rows of a 5×7 glyph (upper case for letters; unknown characters draw as a box).
fn glyph(c: char) -> [u8; 7] {
    let rows: [&str; 7] = match c.to_ascii_uppercase() {
        ' ' => ["00000"; 7],
        'A' => ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
        'B' => ["11110", "10001", "10001", "11110", "10001", "10001", "11110"],
        'C' => ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
        'D' => ["11100", "10010", "10001", "10001", "10001", "10010", "11100"],
        'E' => ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
        'F' => ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
        'G' => ["01110", "10001", "10000", "10111", "10001", "10001", "01111"],
        'H' => ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
        'I' => ["01110", "00100", "00100", "00100", "00100", "00100", "01110"],
        'J' => ["00111", "00010", "00010", "00010", "00010", "10010", "01100"],
        'K' => ["10001", "10010", "10100", "11000", "10100", "10010", "10001"],
        'L' => ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
        'M' => ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
        'N' => ["10001", "10001", "11001", "10101", "10011", "10001", "10001"],
        'O' => ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
        'P' => ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
        'Q' => ["01110", "10001", "10001", "10001", "10101", "10010", "01101"],
        'R' => ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
        'S' => ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
        'T' => ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
        'U' => ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
        'V' => ["10001", "10001", "10001", "10001", "10001", "01010", "00100"],
        'W' => ["10001", "10001", "10001", "10101", "10101", "10101", "01010"],
        'X' => ["10001", "10001", "01010", "00100", "01010", "10001", "10001"],
        'Y' => ["10001", "10001", "10001", "01010", "00100", "00100", "00100"],
        'Z' => ["11111", "00001", "00010", "00100", "01000", "10000", "11111"],
        '0' => ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
        '1' => ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
        '2' => ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
        '3' => ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
        '4' => ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
        '5' => ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
        '6' => ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
        '7' => ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
        '8' => ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
        '9' => ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
        '.' => ["00000", "00000", "00000", "00000", "00000", "01100", "01100"],
        '-' => ["00000", "00000", "00000", "11111", "00000", "00000", "00000"],
        '+' => ["00000", "00100", "00100", "11111", "00100", "00100", "00000"],
        '=' => ["00000", "00000", "11111", "00000", "11111", "00000", "00000"],
        ',' => ["00000", "00000", "00000", "00000", "01100", "00100", "01000"],
        ':' => ["00000", "01100", "01100", "00000", "01100", "01100", "00000"],
        '_' => ["00000", "00000", "00000", "00000", "00000", "00000", "11111"],
        '(' => ["00010", "00100", "01000", "01000", "01000", "00100", "00010"],
        ')' => ["01000", "00100", "00010", "00010", "00010", "00100", "01000"],
        '/' => ["00000", "00001", "00010", "00100", "01000", "10000", "00000"],
        '%' => ["11000", "11001", "00010", "00100", "01000", "10011", "00011"],
        _ => ["11111", "10001", "10001", "10001", "10001", "10001", "11111"],
    };
    rows.map(|r| u8::from_str_radix(r, 2).expect("binary row"))
}
