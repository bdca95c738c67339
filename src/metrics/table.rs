//! The columns of `Metrics`, listed once: the metrics CSV's header and cells, the run summary's
//! figures, the names a promise or a caption can read and the sweep's columns all come from
//! `COLUMNS`. Adding a metric is a field in `Metrics` and a line here.

use super::Metrics;
use serde::ser::{Serialize, Serializer};

/// One cell of a column, typed as the field is so that it is written as it always was.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// A count or an index (empty when undefined).
    Int(Option<u64>),
    /// An `f32` figure, written in full.
    F32(Option<f32>),
    /// An `f64` figure, written in full.
    F64(Option<f64>),
    /// A wall-clock figure: three decimals in the CSV, in full in JSON.
    Millis(f64),
    /// Counts per mode: space-separated in the CSV, an array in JSON.
    Counts(Option<&'a [usize]>),
    /// Shares per label: space-separated with three decimals in the CSV, an array in JSON.
    Shares(Option<&'a [f64]>),
}

impl Cell<'_> {
    /// The cell as one number (None when undefined, or for a list).
    pub fn number(self) -> Option<f64> {
        match self {
            Cell::Int(v) => v.map(|v| v as f64),
            Cell::F32(v) => v.map(f64::from),
            Cell::F64(v) => v,
            Cell::Millis(v) => Some(v),
            Cell::Counts(_) | Cell::Shares(_) => None,
        }
    }

    /// The cell as the metrics CSV writes it.
    pub fn csv(self) -> String {
        fn join<T>(v: &[T], f: impl Fn(&T) -> String) -> String {
            v.iter().map(f).collect::<Vec<_>>().join(" ")
        }
        match self {
            Cell::Int(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Cell::F32(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Cell::F64(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Cell::Millis(v) => format!("{v:.3}"),
            Cell::Counts(v) => v.map(|v| join(v, ToString::to_string)).unwrap_or_default(),
            Cell::Shares(v) => v.map(|v| join(v, |a| format!("{a:.3}"))).unwrap_or_default(),
        }
    }
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Cell::Int(v) => v.serialize(s),
            Cell::F32(v) => v.serialize(s),
            Cell::F64(v) => v.serialize(s),
            Cell::Millis(v) => v.serialize(s),
            Cell::Counts(v) => v.serialize(s),
            Cell::Shares(v) => v.serialize(s),
        }
    }
}

/// What a column is used for, beside the metrics CSV (which has every column).
pub type Uses = u8;
/// A promise's or a lesson caption's metric (`presets::metric`).
pub const PROMISE: Uses = 1;
/// A column of a sweep's `runs.csv` and `summary.csv`.
pub const SWEEP: Uses = 2;
/// A figure at the run summary's top level (the final evaluation's).
pub const SUMMARY: Uses = 4;

/// One column: its name (the CSV header, the JSON key, the promise's metric), what it is used
/// for and how it is read from an evaluation.
pub struct Column {
    /// The column's name.
    pub name: &'static str,
    /// `PROMISE | SWEEP | SUMMARY`, as it applies.
    pub uses: Uses,
    /// The cell of one evaluation.
    pub read: for<'a> fn(&'a Metrics) -> Cell<'a>,
}

impl Column {
    /// Whether the column serves `use_`.
    pub fn is(&self, use_: Uses) -> bool {
        self.uses & use_ != 0
    }
}

const fn col(name: &'static str, uses: Uses, read: for<'a> fn(&'a Metrics) -> Cell<'a>) -> Column {
    Column { name, uses, read }
}

const ALL: Uses = PROMISE | SWEEP | SUMMARY;
const PS: Uses = PROMISE | SUMMARY;

/// Every column, in the metrics CSV's order (the symptoms' columns follow, from `symptoms::NAMES`).
pub const COLUMNS: &[Column] = &[
    col("step", 0, |m| Cell::Int(Some(m.step))),
    col("seconds", 0, |m| Cell::Millis(m.seconds)),
    col("modes_covered", ALL, |m| Cell::Int(m.modes.as_ref().map(|s| s.modes_covered as u64))),
    col("modes_total", PS, |m| Cell::Int(m.modes.as_ref().map(|s| s.modes_total as u64))),
    col("hq_fraction", ALL, |m| Cell::F64(m.modes.as_ref().map(|s| s.hq_fraction))),
    col("reverse_kl", ALL, |m| Cell::F64(m.modes.as_ref().and_then(|s| s.reverse_kl))),
    col("kl_grid", ALL, |m| Cell::F64(Some(m.kl_grid))),
    col("js_grid", ALL, |m| Cell::F64(Some(m.js_grid))),
    col("d_loss", ALL, |m| Cell::F32(Some(m.updates.d_loss))),
    col("g_loss", ALL, |m| Cell::F32(Some(m.updates.g_loss))),
    col("d_real", PS, |m| Cell::F32(Some(m.updates.d_real))),
    col("d_fake", PS, |m| Cell::F32(Some(m.updates.d_fake))),
    col("d_grad_norm", PS, |m| Cell::F32(Some(m.updates.d_grad_norm))),
    col("g_grad_norm", PS, |m| Cell::F32(Some(m.updates.g_grad_norm))),
    col("d_input_grad_norm", PS, |m| Cell::F32(Some(m.d_input_grad_norm))),
    col("critic_gap", PS, |m| Cell::F32(m.critic_gap)),
    col("instance_std", PS, |m| Cell::F32(Some(m.instance_std))),
    col("per_mode_counts", SUMMARY, |m| Cell::Counts(m.modes.as_ref().map(|s| &s.per_mode_counts[..]))),
    col("dominant_mode", SUMMARY, |m| Cell::Int(m.modes.as_ref().and_then(|s| s.dominant_mode).map(|i| i as u64))),
    col("dominant_share", PS, |m| Cell::F64(m.modes.as_ref().map(|s| s.dominant_share))),
    col("per_mode_nearest", SUMMARY, |m| Cell::Counts(m.modes.as_ref().map(|s| &s.per_mode_nearest[..]))),
    col("nfe_per_sample", PS, |m| Cell::Int(Some(m.nfe_per_sample as u64))),
    col("sample_ms_per_1000", PS, |m| Cell::Millis(m.sample_ms_per_1000)),
    col("label_accuracy", PS, |m| Cell::F64(m.label_accuracy)),
    col("per_label_accuracy", SUMMARY, |m| Cell::Shares(m.per_label_accuracy.as_deref())),
];

/// The column named `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// The names of the columns that serve `use_`, in the CSV's order.
pub fn names(use_: Uses) -> Vec<&'static str> {
    COLUMNS.iter().filter(|c| c.is(use_)).map(|c| c.name).collect()
}

/// Every column's name, in the CSV's order.
pub fn names_all() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.name).collect()
}

/// A metric of one evaluation by its name, as a promise reads it (None when it is not a
/// promise's metric, or undefined here: no modes, not a WGAN, an unconditional G).
pub fn value(m: &Metrics, name: &str) -> Option<f64> {
    column(name).filter(|c| c.is(PROMISE)).and_then(|c| (c.read)(m).number())
}

/// The run summary's figures of an evaluation: every `SUMMARY` column's name and cell, in order.
pub fn summary_figures(m: &Metrics) -> Vec<(&'static str, Cell<'_>)> {
    COLUMNS.iter().filter(|c| c.is(SUMMARY)).map(|c| (c.name, (c.read)(m))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{ModeStats, StepStats};

    fn sample() -> Metrics {
        Metrics {
            step: 500,
            seconds: 1.23456,
            modes: Some(ModeStats {
                modes_covered: 3,
                modes_total: 8,
                hq_fraction: 0.5,
                reverse_kl: Some(0.25),
                per_mode_counts: vec![1, 0, 2],
                per_mode_nearest: vec![4, 5, 6],
                dominant_mode: Some(2),
                dominant_share: 0.4,
            }),
            updates: StepStats { d_loss: 0.1, g_loss: 2.5, ..Default::default() },
            critic_gap: None,
            per_label_accuracy: Some(vec![0.12345, 1.0]),
            ..Default::default()
        }
    }

    #[test]
    fn names_are_unique_and_the_csv_has_one_cell_per_column() {
        let mut seen: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), COLUMNS.len());
        let m = sample();
        let cells: Vec<String> = COLUMNS.iter().map(|c| (c.read)(&m).csv()).collect();
        assert_eq!(cells[..3], ["500".to_string(), "1.235".into(), "3".into()]);
        assert_eq!((cells[8].as_str(), cells[17].as_str(), cells[24].as_str()), ("0.1", "1 0 2", "0.123 1.000"));
    }

    #[test]
    fn a_promise_reads_numbers_and_undefined_is_none() {
        let m = sample();
        assert_eq!(value(&m, "hq_fraction"), Some(0.5));
        assert_eq!(value(&m, "d_loss"), Some(f64::from(0.1f32)));
        assert_eq!(value(&m, "critic_gap"), None, "not a WGAN");
        assert_eq!(value(&m, "per_mode_counts"), None, "a list is not a promise's metric");
        assert_eq!(value(&m, "step"), None);
        assert_eq!(value(&Metrics::default(), "modes_covered"), None, "no modes");
    }

    #[test]
    fn summary_figures_serialise_as_the_fields_do() {
        let m = sample();
        let figures: std::collections::BTreeMap<_, _> = summary_figures(&m).into_iter().collect();
        let v = serde_json::to_value(figures).unwrap();
        assert_eq!(v["per_mode_counts"], serde_json::json!([1, 0, 2]));
        assert_eq!(v["reverse_kl"], 0.25);
        assert_eq!(v["critic_gap"], serde_json::Value::Null);
        assert!(v.get("step").is_none() && v.get("seconds").is_none(), "the summary states its own");
    }
}
