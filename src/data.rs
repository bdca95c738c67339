//! Target distributions: where the real samples come from.
//!
//! Mixtures (ring, grid, single Gaussian, user points) expose their mode centres and std so
//! the mode metrics can use them. Ring centres are `r·(cos 2πi/K, sin 2πi/K)` for i in 0..K
//! (K distinct angles — not `linspace(0, 2π, K)`, which repeats the first one).

use crate::config::{DataConfig, DataKind};
use rand::Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use std::f32::consts::PI;
use std::path::Path;

/// A mixture's modes: centres and the per-coordinate std of every component.
#[derive(Clone, Debug, PartialEq)]
pub struct Modes {
    /// The mixture's centres (one per mode), or none for shapes without modes.
    pub centres: Vec<[f32; 2]>,
    /// Std of each mixture component, or of the noise around a shape.
    pub std: f32,
}

/// A sampler for one target distribution.
#[derive(Clone, Debug)]
pub struct Target {
    kind: DataKind,
    std: f32,
    radius: f32,
    modes: Option<Modes>,
}

/// A dataset that cannot be built (a user's points file).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be read.
    #[error("cannot read points file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// A row that is not two finite numbers.
    #[error("points file {path}, line {line}: {msg}")]
    BadRow {
        /// The file.
        path: String,
        /// The row's line number, from 1.
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// A file without a single point.
    #[error("points file {path} has no points")]
    Empty {
        /// The file.
        path: String,
    },
}

impl Target {
    /// The target `cfg` describes (reads the points file, if any).
    pub fn new(cfg: &DataConfig) -> Result<Self, DataError> {
        let modes = match cfg.kind {
            DataKind::Ring => Some(Modes { centres: ring_centres(cfg.modes, cfg.radius), std: cfg.std }),
            DataKind::Grid => Some(Modes { centres: grid_centres(cfg.grid_n, cfg.spacing), std: cfg.std }),
            DataKind::Gaussian => Some(Modes { centres: vec![[0.0, 0.0]], std: cfg.std }),
            DataKind::Points => Some(Modes { centres: read_points_csv(&cfg.points_file)?, std: cfg.std }),
            DataKind::Spiral | DataKind::Moons | DataKind::Line => None,
        };
        Ok(Self { kind: cfg.kind, std: cfg.std, radius: cfg.radius, modes })
    }

    /// Mode centres and std where the dataset has known components (ring, grid, Gaussian),
    /// for the mode metrics; `None` for continuous shapes and for a user's points, whose rows
    /// are where samples are drawn around, not modes (a drawing or a scan has thousands).
    pub fn modes(&self) -> Option<&Modes> {
        if self.kind == DataKind::Points { None } else { self.modes.as_ref() }
    }

    /// Draws `n` samples, row-major `[x0, y0, x1, y1, …]`.
    pub fn sample(&self, rng: &mut impl Rng, n: usize) -> Vec<f32> {
        self.sample_labelled(rng, n).0
    }

    /// `sample`, with each sample's mixture component (0 for continuous shapes); the same
    /// random draws in the same order.
    pub fn sample_labelled(&self, rng: &mut impl Rng, n: usize) -> (Vec<f32>, Vec<usize>) {
        let mut out = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        let noise = Normal::new(0.0f32, self.std).expect("std validated > 0");
        for _ in 0..n {
            let mut label = 0;
            let [x, y] = match (&self.modes, self.kind) {
                (Some(m), _) => {
                    label = rng.random_range(0..m.centres.len());
                    m.centres[label]
                }
                (None, DataKind::Spiral) => {
                    // sklearn's make_swiss_roll (columns 0 and 2), scaled by 1/7.5 as gan_toy.py.
                    let t = 1.5 * PI * (1.0 + 2.0 * rng.random::<f32>());
                    [t * t.cos() / 7.5, t * t.sin() / 7.5]
                }
                (None, DataKind::Moons) => {
                    // sklearn's make_moons, centred on the origin.
                    let t = PI * rng.random::<f32>();
                    if rng.random::<bool>() { [t.cos() - 0.5, t.sin() - 0.25] } else { [0.5 - t.cos(), 0.25 - t.sin()] }
                }
                (None, _) => {
                    // Line: a diagonal segment of half-length `radius`.
                    let t = rng.random_range(-1.0f32..1.0) * self.radius;
                    [t, 0.5 * t]
                }
            };
            out.push(x + noise.sample(rng));
            out.push(y + noise.sample(rng));
            labels.push(label);
        }
        (out, labels)
    }

    /// Half-width of a square view box that shows the whole distribution with a margin.
    pub fn fit_half_width(&self) -> f32 {
        let extent = match &self.modes {
            Some(m) => m.centres.iter().map(|c| c[0].abs().max(c[1].abs())).fold(0.0, f32::max) + 4.0 * m.std,
            None => match self.kind {
                DataKind::Spiral => 1.75 + 3.0 * self.std,
                DataKind::Moons => 1.5 + 3.0 * self.std,
                _ => self.radius + 3.0 * self.std,
            },
        };
        (1.25 * extent).max(0.1)
    }
}

/// `k` centres evenly spaced on a circle of `radius`, the first on the positive x axis.
pub fn ring_centres(k: usize, radius: f32) -> Vec<[f32; 2]> {
    (0..k)
        .map(|i| {
            let a = 2.0 * PI * i as f32 / k as f32;
            [radius * a.cos(), radius * a.sin()]
        })
        .collect()
}

/// n×n centres spaced `spacing` apart, centred on the origin ({-4,-2,0,2,4}² for n=5, spacing 2).
pub fn grid_centres(n: usize, spacing: f32) -> Vec<[f32; 2]> {
    let off = (n as f32 - 1.0) / 2.0;
    let mut c = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            c.push([(i as f32 - off) * spacing, (j as f32 - off) * spacing]);
        }
    }
    c
}

/// Reads `x,y` rows. Blank lines and `#` comments are skipped; a first row (after them)
/// that is not numeric is taken as a header. Any other bad row is an error naming its line.
pub fn read_points_csv(path: &Path) -> Result<Vec<[f32; 2]>, DataError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { path: shown.clone(), source })?;
    parse_points(&text, &shown)
}

/// Parses `x,y` rows (a header line and `#` comments are skipped); `path` names the file in errors.
pub fn parse_points(text: &str, path: &str) -> Result<Vec<[f32; 2]>, DataError> {
    let mut points = Vec::new();
    let mut first_row = true;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let is_first = std::mem::take(&mut first_row);
        let bad = |msg: String| DataError::BadRow { path: path.into(), line: i + 1, msg };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(bad(format!("expected 2 fields `x,y`, found {}: `{line}`", fields.len())));
        }
        let parsed: Vec<Result<f32, _>> = fields.iter().map(|f| f.parse::<f32>()).collect();
        if is_first && parsed.iter().all(|p| p.is_err()) {
            continue; // header such as `x,y` (after any comments)
        }
        let mut xy = [0.0f32; 2];
        for (k, p) in parsed.into_iter().enumerate() {
            match p {
                Ok(v) if v.is_finite() => xy[k] = v,
                _ => return Err(bad(format!("`{}` is not a finite number", fields[k]))),
            }
        }
        points.push(xy);
    }
    if points.is_empty() {
        return Err(DataError::Empty { path: path.into() });
    }
    Ok(points)
}

/// Standard-normal or uniform(−1, 1) latent noise, `n × dim` row-major.
pub fn sample_latent(rng: &mut impl Rng, kind: crate::config::LatentKind, n: usize, dim: usize) -> Vec<f32> {
    match kind {
        crate::config::LatentKind::Gaussian => (0..n * dim).map(|_| StandardNormal.sample(rng)).collect(),
        crate::config::LatentKind::Uniform => (0..n * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ring_has_k_distinct_centres() {
        let c = ring_centres(8, 1.0);
        assert_eq!(c.len(), 8);
        for i in 0..8 {
            for j in 0..i {
                let d = ((c[i][0] - c[j][0]).powi(2) + (c[i][1] - c[j][1]).powi(2)).sqrt();
                assert!(d > 0.7, "centres {i} and {j} coincide");
            }
        }
    }

    #[test]
    fn grid_matches_the_papers() {
        let c = grid_centres(5, 2.0);
        assert_eq!(c.len(), 25);
        assert_eq!(c[0], [-4.0, -4.0]);
        assert_eq!(c[24], [4.0, 4.0]);
    }

    #[test]
    fn bad_csv_row_names_its_line() {
        let err = parse_points("x,y\n0,0\n1,abc\n", "p.csv").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("abc"), "{err}");
        let err = parse_points("0,0\n1,2,3\n", "p.csv").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(parse_points("# nothing\n", "p.csv").is_err());
        assert_eq!(parse_points("x,y\n1,2\n\n3,4\n", "p.csv").unwrap(), vec![[1.0, 2.0], [3.0, 4.0]]);
        // A header after a comment line is still a header; a second non-numeric row is not.
        assert_eq!(parse_points("# drawn by hand\nx,y\n1,2\n", "p.csv").unwrap(), vec![[1.0, 2.0]]);
        let err = parse_points("# c\nx,y\nx,y\n", "p.csv").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    /// A user's points are drawn around, not scored as modes.
    #[test]
    fn points_data_has_no_mode_metrics() {
        let dir = std::env::temp_dir().join(format!("ganscope-points-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.csv");
        std::fs::write(&path, "x,y\n0,0\n1,1\n2,2\n").unwrap();
        let cfg = DataConfig { kind: DataKind::Points, points_file: path, ..DataConfig::default() };
        let t = Target::new(&cfg).unwrap();
        assert!(t.modes().is_none());
        let s = t.sample(&mut rand::rngs::StdRng::seed_from_u64(1), 300);
        assert!(s.chunks(2).all(|p| [[0.0f32, 0.0], [1.0, 1.0], [2.0, 2.0]].iter().any(|c| (p[0] - c[0]).hypot(p[1] - c[1]) < 0.2)));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn mixture_samples_sit_near_centres() {
        let cfg = DataConfig::default();
        let t = Target::new(&cfg).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let s = t.sample(&mut rng, 500);
        let centres = &t.modes().unwrap().centres;
        for p in s.chunks(2) {
            let d = centres.iter().map(|c| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt()).fold(f32::MAX, f32::min);
            assert!(d < 6.0 * cfg.std);
        }
    }
}
