//! ganscope: watch a GAN learn a 2-D distribution.
//!
//! The core (no UI, no command line, no environment variables): `config`, `data`, `nets`,
//! `objective` (with `loss` and `penalty`), `engine` (the host fast path and burn autodiff),
//! `optim`, `trainer`, `metrics`, `presets`, `run` (the headless loop the CLI and tests use),
//! `backend`, `worker` (the training thread and its channels). On top, with the `gui`
//! feature: `app` (the eframe window).

#![warn(missing_docs)]

pub mod backend;
pub mod batch;
pub mod calibrate;
pub mod column;
pub mod config;
pub mod data;
pub mod diffusion;
pub mod dirac;
pub mod engine;
pub mod fsio;
pub mod lesson;
pub mod loss;
pub mod metrics;
pub mod minibatch;
pub mod nets;
pub mod objective;
pub mod optim;
pub mod penalty;
pub mod presets;
pub mod run;
pub mod share;
pub mod simd;
pub mod sweep;
pub mod sweep_plot;
pub mod symptoms;
pub mod tensor_util;
pub mod trainer;
pub mod worker;

#[cfg(feature = "gui")]
#[allow(missing_docs)]
pub mod app;
