//! The config's tests: keys, values, notices, diffs, round trips.

use super::*;

#[test]
fn conditioning_needs_labelled_unpacked_gan_data() {
    let mut c = Config::default();
    c.set("model.conditional=true").unwrap();
    assert_eq!(c.classes(), 8);
    c.set("data.kind=grid").unwrap();
    assert_eq!(c.classes(), 25);
    let err = Config::default().set_all(&["model.conditional=true", "discriminator.pack=2"]).unwrap_err().to_string();
    assert!(err.contains("model.conditional") && err.contains("packing"), "{err}");
    let err = Config::default().set_all(&["model.conditional=true", "data.kind=moons"]).unwrap_err().to_string();
    assert!(err.contains("labelled data"), "{err}");
    assert_eq!(Config::default().classes(), 0);
}

#[test]
fn set_changes_nested_keys() {
    let mut c = Config::default();
    c.set("data.kind=grid").unwrap();
    c.set("loss.kind=wgan-gp").unwrap();
    c.set("optim.d_lr=1e-4").unwrap();
    c.set("schedule.d_steps=5").unwrap();
    c.set("noise.instance_std=0.1").unwrap();
    assert_eq!(c.data.kind, DataKind::Grid);
    assert_eq!(c.loss.kind, LossKind::WganGp);
    assert_eq!(c.optim.d.lr, 1e-4);
    assert_eq!(c.schedule.d_steps, 5);
    assert_eq!(c.noise.instance_std, 0.1);
}

#[test]
fn a_networks_section_refuses_unknown_keys_and_bad_values_with_their_line() {
    // The shared shape keys are flattened into both sections, so the check is ours, not serde's.
    let err = Config::from_toml("[train]\nseed = 1\n\n[generator]\nwidht = 64\n").unwrap_err().to_string();
    assert!(err.contains("line 5") && err.contains("`generator.widht`") && err.contains("`width`"), "{err}");
    let err = Config::from_toml("[discriminator]\ndepth = 2\nspectral_norm = 1\n").unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("discriminator.spectral_norm") && err.contains("boolean"), "{err}");
    let table: toml::Table = toml::from_str("[discriminator]\npakc = 2\n").unwrap();
    assert!(Config::from_table(table).unwrap_err().to_string().contains("discriminator.pakc"));
    // Both sections still read every shape key.
    let c = Config::from_toml("[generator]\nwidth = 64\ninit = \"orthogonal\"\n[discriminator]\ndepth = 3\npack = 2\n").unwrap();
    assert_eq!(
        (c.generator.shape.width, c.generator.shape.init, c.discriminator.shape.depth, c.discriminator.pack),
        (64, Init::Orthogonal, 3, 2)
    );
    assert_eq!(c.discriminator.shape.width, NetShape::default().width);
}

#[test]
fn unknown_key_is_named() {
    let err = Config::default().set("loss.kindd=ns").unwrap_err().to_string();
    assert!(err.contains("loss.kindd"), "{err}");
}

#[test]
fn bad_value_is_named() {
    let err = Config::default().set("loss.kind=banana").unwrap_err().to_string();
    assert!(err.contains("loss.kind"), "{err}");
    let err = Config::default().set("train.batch_size=-3").unwrap_err().to_string();
    assert!(err.contains("train.batch_size"), "{err}");
    let err = Config::default().set("optim.g.lr=0").unwrap_err().to_string();
    assert!(err.contains("optim.g.lr"), "{err}");
}

#[test]
fn a_setting_without_effect_gets_a_notice() {
    let mut c = Config::default();
    c.set("loss.label_smoothing=0.1").unwrap();
    assert!(c.notices().is_empty(), "smoothing applies to the NS loss");
    c.set("loss.kind=hinge").unwrap();
    let n = c.notices();
    assert!(n.len() == 1 && n[0].contains("label_smoothing"), "{n:?}");
}

#[test]
fn diff_says_what_rebuilds() {
    let a = Config::default();
    let mut b = a.clone();
    b.set_all(&["loss.kind=wgan-gp", "optim.d.lr=1e-4", "noise.instance_std=0.1"]).unwrap();
    assert!(!a.diff(&b).rebuild, "objective, optimizer and noise changes keep the weights");
    b.set("data.kind=grid").unwrap();
    b.set("train.seed=5").unwrap();
    assert_eq!(a.diff(&b).why, vec!["dataset", "seed"]);
}

#[test]
fn toml_round_trip() {
    let mut c = Config::default();
    c.set("data.points_file=/tmp/x.csv").unwrap();
    let back = Config::from_toml(&c.to_toml()).unwrap();
    assert_eq!(back, c);
}
