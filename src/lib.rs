//! ganscope: watch a GAN learn a 2-D distribution.
//!
//! The core (no UI): `config`, `data`, `nets`, `loss`, `penalty`, `optim`, `trainer`,
//! `metrics`, `view` (what the window draws, computed here), `presets`, `run` (the headless
//! loop the CLI and tests use), `backend`. On top: `worker` (the training thread) and `app`
//! (the eframe window).

pub mod backend;
pub mod config;
pub mod data;
pub mod fused;
pub mod loss;
pub mod metrics;
pub mod nets;
pub mod optim;
pub mod penalty;
pub mod presets;
pub mod run;
pub mod trainer;
pub mod view;
pub mod worker;
pub mod app;
