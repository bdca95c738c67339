//! Entry point: parse the command line and dispatch (see `cli.rs`).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let result = match &args.command {
        Some(cli::Command::Presets) => cli::presets_cmd(),
        Some(cli::Command::Config(a)) => cli::config_cmd(a),
        Some(cli::Command::Train(a)) => cli::train_cmd(a),
        Some(cli::Command::Eval(a)) => cli::eval_cmd(a),
        Some(cli::Command::Bench(a)) => cli::bench_cmd(a),
        None => cli::window_cmd(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
