//! Share strings: a whole run (every config key, the seed included) as one copyable line,
//! `gs1:` then URL-safe base64 of the deflated TOML. Pasted into `ganscope --share`, `ganscope
//! config --share` or the window, it gives back exactly that config. A damaged or foreign string
//! is an error that says which stage failed.

use crate::config::{Config, ConfigError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read, Write};

/// The version prefix this ganscope writes and reads.
pub const PREFIX: &str = "gs1:";

/// Decoded TOML larger than this is refused (a share string is a config, not a payload).
const MAX_TOML: u64 = 1 << 20;

/// A share string that cannot be opened, with what failed.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// It does not start with the expected prefix (`gs1:` for a run, `gl1:` for a lesson).
    #[error("not a ganscope share string: it must start with `{want}` (got `{got}`)")]
    Prefix {
        /// The prefix wanted.
        want: &'static str,
        /// What the text starts with.
        got: String,
    },
    /// A version this ganscope does not read.
    #[error("share string version `{got}` is not one this ganscope reads (it reads `{want}`); it may come from a newer ganscope")]
    Version {
        /// The prefix wanted.
        want: &'static str,
        /// The version found.
        got: String,
    },
    /// The base64 is damaged.
    #[error("share string damaged: its text is not URL-safe base64 ({0})")]
    Decode(base64::DecodeError),
    /// The compressed data is damaged.
    #[error("share string damaged: it does not decompress ({0})")]
    Decompress(std::io::Error),
    /// The text is not UTF-8.
    #[error("share string damaged: the config inside is not UTF-8 text")]
    Utf8,
    /// The config inside is rejected.
    #[error("share string holds a config this ganscope rejects: {0}")]
    Config(ConfigError),
}

/// The share string of `cfg`.
pub fn encode(cfg: &Config) -> String {
    pack(PREFIX, &cfg.to_toml())
}

/// `prefix` then URL-safe base64 of `text` deflated (run and lesson share strings alike).
pub fn pack(prefix: &str, text: &str) -> String {
    let mut z = DeflateEncoder::new(Vec::new(), Compression::best());
    z.write_all(text.as_bytes()).expect("writing to memory");
    let bytes = z.finish().expect("writing to memory");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The config a share string holds. Surrounding whitespace (from a copy-paste) is ignored.
pub fn decode(text: &str) -> Result<Config, ShareError> {
    let toml = decode_toml(text)?;
    Config::from_toml(&toml).map_err(ShareError::Config)
}

/// The TOML a share string holds, before it is read as a config.
pub fn decode_toml(text: &str) -> Result<String, ShareError> {
    unpack(PREFIX, text)
}

/// The text a share string with `prefix` (`gs1:`, `gl1:`) holds.
pub fn unpack(prefix: &'static str, text: &str) -> Result<String, ShareError> {
    let text = text.trim();
    let Some(body) = text.strip_prefix(prefix) else {
        // `gs7:…` is ours, from another version; anything else is not a share string at all.
        let kind = &prefix[..2];
        if let Some((head, _)) = text.split_once(':')
            && head.len() <= 4
            && head.starts_with(kind)
            && head[2..].chars().all(|c| c.is_ascii_digit())
        {
            return Err(ShareError::Version { want: prefix, got: format!("{head}:") });
        }
        return Err(ShareError::Prefix { want: prefix, got: text.chars().take(12).collect() });
    };
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(ShareError::Decode)?;
    let mut out = Vec::new();
    DeflateDecoder::new(bytes.as_slice()).take(MAX_TOML).read_to_end(&mut out).map_err(ShareError::Decompress)?;
    String::from_utf8(out).map_err(|_| ShareError::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for p in crate::presets::all() {
            let mut cfg = p.config.clone();
            cfg.train.seed = 1234;
            let s = encode(&cfg);
            assert!(s.starts_with(PREFIX) && !s.contains(char::is_whitespace), "{s}");
            assert!(s.chars().skip(PREFIX.len()).all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {s}");
            assert_eq!(decode(&format!("  {s}\n")).unwrap(), cfg, "{}", p.name);
        }
    }

    #[test]
    fn damaged_strings_say_what_failed() {
        let good = encode(&Config::default());
        let err = |s: &str| decode(s).unwrap_err().to_string();
        assert!(err("hello").contains("must start with `gs1:`"), "{}", err("hello"));
        assert!(err(&good.replacen("gs1:", "gs2:", 1)).contains("version `gs2:`"));
        assert!(err("gs1:@@@").contains("not URL-safe base64"));
        assert!(err(&format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(b"plain, not deflated"))).contains("does not decompress"));
        // Cut short: the deflate stream ends early.
        assert!(err(&good[..good.len() / 2]).contains("damaged"), "{}", err(&good[..good.len() / 2]));
        let mut z = DeflateEncoder::new(Vec::new(), Compression::best());
        z.write_all(b"[loss]\nkind = \"banana\"\n").unwrap();
        let foreign = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap()));
        assert!(err(&foreign).contains("config this ganscope rejects") && err(&foreign).contains("banana"), "{}", err(&foreign));
    }
}
