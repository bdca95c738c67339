//! Save and resume: the whole training state — config, step, both networks, both optimizers'
//! moments, the training stream's position and the evaluations the symptoms look back on — in
//! one versioned file (deflated JSON). A resumed run continues exactly: the same updates, the
//! same draws, bit for bit on the CPU.
//!
//! The instance-noise schedule needs nothing of its own: it is a function of the step.

use super::{Metrics, StepStats, TrainError, Trainer};
use crate::backend::Compute;
use crate::batch::TrainRng;
use crate::config::{Config, ConfigError};
use crate::engine::EngineState;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;

/// The format tag and version every state file starts with.
pub const FORMAT: &str = "ganscope-state";
/// The state-file version this ganscope writes and reads.
pub const VERSION: u32 = 1;
/// A state file's first bytes; the payload's length (u64) and CRC-32 (u32, both little-endian)
/// follow, so any damage — a flipped bit, a cut, bytes appended — is refused, not loaded as
/// silently wrong weights.
pub const MAGIC: &[u8; 16] = b"ganscope-state\x00\x02";
const HEADER: usize = 16 + 8 + 4;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// The payload after `MAGIC`, once its length and checksum hold.
fn checked_payload(rest: &[u8]) -> Result<&[u8], StateError> {
    let damaged = |why: String| StateError::NotState(format!("the file is damaged: {why}"));
    if rest.len() < HEADER - MAGIC.len() {
        return Err(damaged("it is cut short inside its header".into()));
    }
    let (len, rest) = rest.split_at(8);
    let (sum, payload) = rest.split_at(4);
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    if payload.len() as u64 != len {
        return Err(damaged(format!("it holds {} bytes of data, its header says {len}", payload.len())));
    }
    let sum = u32::from_le_bytes(sum.try_into().expect("4 bytes"));
    if crc32(payload) != sum {
        return Err(damaged("its checksum does not match its contents".into()));
    }
    Ok(payload)
}

/// The training stream's position (ChaCha12: key, stream and word position).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState {
    /// ChaCha key.
    pub seed: [u8; 32],
    /// ChaCha stream.
    pub stream: u64,
    /// A 68-bit counter, as a decimal string (JSON numbers stop at 64 bits).
    pub word_pos: String,
}

/// A whole training state (`--save-state`): continue it exactly where it stopped.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// Always `FORMAT`.
    pub format: String,
    /// The file's version.
    pub version: u32,
    /// The config as TOML (readable in the file, and checked like any config on load).
    pub config: String,
    /// Steps done.
    pub step: u64,
    /// The training random stream's position.
    pub rng: RngState,
    /// Both networks and optimizers.
    pub engine: EngineState,
    /// What the latest recorded updates measured.
    pub last: StepStats,
    /// The latest evaluations (the symptoms' window).
    pub history: Vec<Metrics>,
}

/// A state file that cannot be saved or continued, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file cannot be read or written.
    #[error("cannot read or write the state file: {0}")]
    Io(#[from] std::io::Error),
    /// Not a state file.
    #[error("not a ganscope state file, or a damaged one ({0})")]
    NotState(String),
    /// A version this ganscope does not read.
    #[error("state file version {found} is not one this ganscope reads (it reads version {VERSION})")]
    Version {
        /// The file's version.
        found: u32,
    },
    /// The config inside is rejected.
    #[error("the state file's config is rejected: {0}")]
    Config(#[from] ConfigError),
    /// The weights do not fit the config's networks.
    #[error("the state file does not fit its config: {0}")]
    Mismatch(String),
    /// Saved between the updates of a step.
    #[error("a state is saved between steps: finish the step in progress first")]
    MidStep,
    /// The change asked for needs fresh networks.
    #[error("cannot continue under this change: it needs fresh networks ({0}); start a new run instead")]
    Rebuild(String),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl Trainer {
    /// The whole training state, between two steps.
    pub fn save_state(&self) -> Result<TrainState, StateError> {
        if self.cursor != 0 || self.kept_g.is_some() {
            return Err(StateError::MidStep);
        }
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
        Ok(TrainState {
            format: FORMAT.into(),
            version: VERSION,
            config: self.cfg.to_toml(),
            step: self.step,
            rng: RngState { seed: self.rng.get_seed(), stream: self.rng.get_stream(), word_pos: self.rng.get_word_pos().to_string() },
            engine: self.model.export_state(),
            last: self.last.clone(),
            history,
        })
    }

    /// A run continued from `state` on `compute`. Nothing is half-applied: the trainer is
    /// built whole, or an error names what did not fit.
    pub fn from_state(state: TrainState, compute: Compute) -> Result<Trainer, StateError> {
        Self::from_state_with(state, compute, |_| Ok(()))
    }

    /// As `from_state`, with the saved config changed by `change` first (e.g. `--set` on the
    /// command line). A change that needs fresh networks is refused.
    pub fn from_state_with(
        state: TrainState,
        compute: Compute,
        change: impl FnOnce(&mut Config) -> Result<(), ConfigError>,
    ) -> Result<Trainer, StateError> {
        if state.format != FORMAT {
            return Err(StateError::NotState(format!("format `{}`, expected `{FORMAT}`", state.format)));
        }
        if state.version != VERSION {
            return Err(StateError::Version { found: state.version });
        }
        let saved = Config::from_toml(&state.config)?;
        let mut cfg = saved.clone();
        change(&mut cfg)?;
        let diff = saved.diff(&cfg);
        if diff.rebuild {
            return Err(StateError::Rebuild(diff.why.join(", ")));
        }
        let word_pos: u128 =
            state.rng.word_pos.parse().map_err(|_| StateError::NotState(format!("bad word_pos `{}`", state.rng.word_pos)))?;
        // Built on the saved config (same networks), then switched to the changed one.
        let mut t = Trainer::on(saved, compute)?;
        t.model.import_state(state.engine).map_err(StateError::Mismatch)?;
        let mut rng = TrainRng::from_seed(state.rng.seed);
        rng.set_stream(state.rng.stream);
        rng.set_word_pos(word_pos);
        t.rng = rng;
        t.step = state.step;
        t.last = state.last;
        *t.history.lock().unwrap_or_else(|e| e.into_inner()) = state.history.into();
        t.set_config(cfg)?;
        Ok(t)
    }
}

impl TrainState {
    /// Writes the state to `path`: `MAGIC`, the payload's length and CRC-32, then the payload
    /// (deflated JSON); whole or not at all.
    pub fn write(&self, path: &Path) -> Result<(), StateError> {
        let json = serde_json::to_vec(self).map_err(|e| StateError::NotState(e.to_string()))?;
        let mut z = DeflateEncoder::new(Vec::new(), Compression::fast());
        z.write_all(&json)?;
        let payload = z.finish()?;
        let mut file = Vec::with_capacity(HEADER + payload.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        file.extend_from_slice(&crc32(&payload).to_le_bytes());
        file.extend_from_slice(&payload);
        crate::fsio::write_atomic(path, file)?;
        Ok(())
    }

    /// Reads a state file; a damaged (any byte changed, cut or appended) or foreign file is an
    /// error that says so.
    pub fn read(path: &Path) -> Result<TrainState, StateError> {
        let bytes = std::fs::read(path)?;
        let payload = match bytes.strip_prefix(MAGIC) {
            Some(rest) => checked_payload(rest)?,
            // Files from before the checksum: raw deflate, read as they were.
            None => &bytes[..],
        };
        let mut json = Vec::new();
        DeflateDecoder::new(payload).read_to_end(&mut json).map_err(|e| StateError::NotState(format!("it does not decompress: {e}")))?;
        // Check the tag first, so a foreign JSON says "not a state file", not "missing field".
        let head: serde_json::Value = serde_json::from_slice(&json).map_err(|e| StateError::NotState(e.to_string()))?;
        if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(StateError::NotState(format!("no `format = \"{FORMAT}\"` tag")));
        }
        if let Some(v) = head.get("version").and_then(|v| v.as_u64())
            && v != VERSION as u64
        {
            return Err(StateError::Version { found: v as u32 });
        }
        serde_json::from_value(head).map_err(|e| StateError::NotState(e.to_string()))
    }
}
