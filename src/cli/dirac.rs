//! `ganscope dirac`: the Dirac-GAN of Mescheder et al. 2018 — which training methods converge.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

#[derive(Args, Debug)]
pub struct DiracArgs {
    /// Print |(θ, ψ)| after the run for every method × {simultaneous, alternating 1, alternating 5}.
    #[arg(long, conflicts_with_all = ["method", "update", "d_steps", "gamma"])]
    pub table: bool,
    /// List the Dirac presets of the window's Dirac-GAN tab.
    #[arg(long, conflicts_with_all = ["method", "table"])]
    pub list: bool,
    /// gan, nsgan, wgan, wgan-gp, instance-noise, gp, nsgan-gp, consensus.
    #[arg(long, required_unless_present_any = ["table", "list"])]
    pub method: Option<String>,
    #[arg(long, value_enum, default_value_t = UpdateArg::Sim)]
    pub update: UpdateArg,
    /// Discriminator steps per generator step (alternating updates).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub d_steps: u32,
    #[arg(long, default_value_t = ganscope::dirac::STEPS)]
    pub steps: usize,
    /// Step size (both players).
    #[arg(long, default_value_t = ganscope::dirac::H)]
    pub h: f64,
    /// Penalty / consensus weight, as γ/2·‖∇D‖² (default: the method's, from the paper's notebook).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Start point θ,ψ.
    #[arg(long, value_parser = parse_pair, default_value = "1,1")]
    pub start: (f64, f64),
    /// Print JSON (`theta`, `psi`, `norm`, `converged`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum UpdateArg {
    /// Simultaneous gradient steps.
    Sim,
    /// The generator, then the discriminator (`--d-steps` of them).
    Alt,
    /// The continuous flow, integrated by Runge–Kutta 4 with step h.
    Cont,
}

fn parse_pair(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("expected θ,ψ (two numbers and a comma), got `{s}`"))?;
    let num = |t: &str| t.trim().parse::<f64>().map_err(|_| format!("`{t}` is not a number"));
    Ok((num(a)?, num(b)?))
}

pub fn dirac_cmd(args: &DiracArgs) -> Result<()> {
    use ganscope::dirac::{self, DiracGan, Method, Outcome, Update};
    if !(args.h.is_finite() && args.h > 0.0) {
        bail!("--h must be a positive number, got {}", args.h);
    }
    if args.list {
        for p in dirac::presets::PRESETS {
            outln!("{:<18} {}", p.name, p.title);
        }
        return Ok(());
    }
    if args.table {
        if args.json {
            let rows: Vec<_> = dirac::table_rows()
                .into_iter()
                .map(|(name, gan)| {
                    let cells: Vec<_> = dirac::TABLE_UPDATES
                        .iter()
                        .map(|&u| {
                            let o = Outcome::of(*gan.trajectory(args.start, u, args.h, args.steps).last().expect("points"));
                            serde_json::json!({ "update": u.describe(), "outcome": o })
                        })
                        .collect();
                    serde_json::json!({ "method": name, "cells": cells })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        outln!(
            "|(θ, ψ)| after {} steps of size {} from ({}, {}); converged below {}",
            args.steps,
            args.h,
            args.start.0,
            args.start.1,
            dirac::CONVERGED_BELOW
        );
        outln!("{:<16} {:>24} {:>24} {:>24}", "method", "simultaneous", "alternating, 1 D step", "alternating, 5 D steps");
        for (name, gan) in dirac::table_rows() {
            let cells: Vec<String> = dirac::TABLE_UPDATES
                .iter()
                .map(|&u| {
                    let o = Outcome::of(*gan.trajectory(args.start, u, args.h, args.steps).last().expect("points"));
                    format!("{:.2e} {}", o.norm, if o.converged { "converged" } else { "NOT converged" })
                })
                .collect();
            outln!("{:<16} {:>24} {:>24} {:>24}", name, cells[0], cells[1], cells[2]);
        }
        return Ok(());
    }
    let method = Method::parse(args.method.as_deref().unwrap_or_default()).map_err(anyhow::Error::msg)?;
    let mut gan = DiracGan::new(method);
    if let Some(g) = args.gamma {
        if !method.uses_gamma() {
            bail!("--gamma has no effect on `{}` (it weighs the penalty of wgan-gp, gp, nsgan-gp and consensus)", method.name());
        }
        gan = gan.with_gamma(g);
    }
    let update = match args.update {
        UpdateArg::Sim => Update::Simultaneous,
        UpdateArg::Alt => Update::Alternating { d_steps: args.d_steps },
        UpdateArg::Cont => Update::Continuous,
    };
    let o = Outcome::of(*gan.trajectory(args.start, update, args.h, args.steps).last().expect("points"));
    if args.json {
        outln!("{}", serde_json::to_string(&o)?);
    } else {
        outln!(
            "{}, {}: after {} steps θ = {:.6}, ψ = {:.6}, |(θ, ψ)| = {:.3e} ({})",
            method.title(),
            update.describe(),
            args.steps,
            o.theta,
            o.psi,
            o.norm,
            if o.converged { "converged" } else { "not converged" }
        );
    }
    Ok(())
}
