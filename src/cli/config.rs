//! `ganscope presets` and `ganscope config`: the presets, and a full config as TOML or as a
//! share string.

use super::ConfigArgs;
use anyhow::{Result, bail};
use clap::Args;
use ganscope::presets;

pub fn presets_cmd() -> Result<()> {
    for p in presets::all() {
        outln!("{:<18} {}", p.name, p.meta.title);
    }
    Ok(())
}

/// `ganscope config`: the full config as TOML, or as a share string.
#[derive(Args, Debug)]
pub struct ConfigCmdArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Alone: print the config as one share string (`gs1:…`). With a STRING: print the TOML
    /// that share string holds.
    #[arg(long, value_name = "STRING", num_args = 0..=1)]
    pub share: Option<Option<String>>,
}

pub fn config_cmd(args: &ConfigCmdArgs) -> Result<()> {
    match &args.share {
        Some(Some(text)) => {
            if args.cfg.preset.is_some() || args.cfg.config.is_some() || !args.cfg.set.is_empty() {
                bail!("--share STRING prints the config a share string holds; --preset, --config and --set do not apply to it");
            }
            outln!("{}", ganscope::share::decode(text)?.to_toml().trim_end());
        }
        Some(None) => outln!("{}", ganscope::share::encode(&args.cfg.load()?)),
        None => outln!("{}", args.cfg.load()?.to_toml().trim_end()),
    }
    Ok(())
}
