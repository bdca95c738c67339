//! The set-up says the truth: `rust-version` in Cargo.toml is the newest that any locked
//! dependency asks for, so a user with an older Rust is told "update Rust", not given a wall
//! of dependency errors.

use std::process::Command;

fn version(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// This machine's target triple (its packages are the ones the build has fetched).
fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().find_map(|l| l.strip_prefix("host: ")).unwrap().to_string()
}

#[test]
fn rust_version_is_the_lockfiles_largest() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ours = None;
    let mut largest: Option<(Vec<u64>, String)> = None;
    for p in meta["packages"].as_array().unwrap() {
        let Some(rv) = p["rust_version"].as_str() else { continue };
        let name = p["name"].as_str().unwrap();
        if name == "ganscope" {
            ours = Some(version(rv));
        } else if largest.as_ref().is_none_or(|(v, _)| version(rv) > *v) {
            largest = Some((version(rv), format!("{name} {}", p["version"].as_str().unwrap())));
        }
    }
    let (largest, who) = largest.expect("dependencies state a rust-version");
    assert_eq!(ours, Some(largest.clone()), "Cargo.toml's rust-version should be {largest:?} ({who} asks for it)");
}
