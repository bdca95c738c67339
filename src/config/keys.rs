//! `--set key=value`: a dotted key (or its alias) changed in the config's TOML, then read back
//! and checked whole, so a bad value never half-applies.

use super::{Config, ConfigError};

impl Config {
    /// Applies one `key=value` override, e.g. `loss.kind=wgan-gp` or `optim.d.lr=1e-4`.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        self.set_all(&[assignment])
    }

    /// Applies several overrides, then validates once (so `data.kind=points` may come before
    /// `data.points_file=…`).
    pub fn set_all<S: AsRef<str>>(&mut self, assignments: &[S]) -> Result<(), ConfigError> {
        let mut next = self.clone();
        for a in assignments {
            let a = a.as_ref();
            let (key, value) = a.split_once('=').ok_or_else(|| ConfigError::BadSet(a.into()))?;
            next.set_unchecked(key.trim(), value.trim())?;
        }
        *self = next.normalized()?;
        Ok(())
    }

    /// Sets one key (type-checked, not range-checked).
    pub fn set_key(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        self.set_all(&[format!("{key}={value}")])
    }

    fn set_unchecked(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let key = alias(key);
        let mut root = toml::Value::try_from(&*self).expect("config always serialises");
        // The LR shorthands are absent until set: accept them.
        let known_optional = ["optim.g_lr", "optim.d_lr"];
        let slot =
            lookup_mut(&mut root, &key, known_optional.contains(&key.as_str())).ok_or_else(|| ConfigError::UnknownKey(key.clone()))?;
        if slot.is_table() {
            return Err(ConfigError::BadValue { key, msg: "this is a section, not a value".into() });
        }
        *slot = parse_value(value, slot);
        *self = root.try_into().map_err(|e: toml::de::Error| ConfigError::BadValue { key: key.clone(), msg: e.message().to_string() })?;
        Ok(())
    }
}

/// Short names kept for scripts: `optim.g_lr` is `optim.g.lr`.
fn alias(key: &str) -> String {
    match key {
        "optim.g_lr" => "optim.g.lr".into(),
        "optim.d_lr" => "optim.d.lr".into(),
        "train.seed" | "seed" => "train.seed".into(),
        other => other.to_string(),
    }
}

fn lookup_mut<'a>(root: &'a mut toml::Value, key: &str, create_leaf: bool) -> Option<&'a mut toml::Value> {
    let mut parts = key.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        let table = node.as_table_mut()?;
        if parts.peek().is_none() && create_leaf && !table.contains_key(part) {
            table.insert(part.to_string(), toml::Value::String(String::new()));
        }
        node = table.get_mut(part)?;
    }
    Some(node)
}

/// Parses `text` as the same TOML type as the value it replaces, so `--set data.kind=grid`
/// needs no quotes and `--set loss.clip=1` still becomes a float.
fn parse_value(text: &str, current: &toml::Value) -> toml::Value {
    use toml::Value;
    match current {
        Value::Float(_) => text.parse::<f64>().map(Value::Float).unwrap_or_else(|_| Value::String(text.into())),
        Value::Integer(_) => text.parse::<i64>().map(Value::Integer).unwrap_or_else(|_| Value::String(text.into())),
        Value::Boolean(_) => text.parse::<bool>().map(Value::Boolean).unwrap_or_else(|_| Value::String(text.into())),
        _ => {
            // Shorthand LRs are absent (None) until set; give them a number.
            if let Ok(f) = text.parse::<f64>()
                && !text.chars().all(|c| c.is_ascii_alphabetic())
            {
                return Value::Float(f);
            }
            Value::String(text.trim_matches('"').into())
        }
    }
}
