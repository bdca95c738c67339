//! Entry point: parse the command line and dispatch (see `cli.rs`).

mod cli;

use clap::Parser;

// Training frees and re-allocates the same activation-sized buffers thousands of times a
// second; glibc's malloc returns them to the kernel and page-faults them back in each time,
// mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(feature = "gui")]
    ganscope::app::mark_process_start();
    let args = cli::Cli::parse();
    let result = args.compute.apply_threads().and_then(|()| match &args.command {
        Some(cli::Command::Presets) => cli::config::presets_cmd(),
        Some(cli::Command::Config(a)) => cli::config::config_cmd(a),
        Some(cli::Command::Train(a)) => cli::train::train_cmd(&args, a),
        Some(cli::Command::Eval(a)) => cli::eval::eval_cmd(a),
        Some(cli::Command::Bench(a)) => cli::bench::bench_cmd(&args, a),
        Some(cli::Command::Dirac(a)) => cli::dirac::dirac_cmd(a),
        Some(cli::Command::Sweep(a)) => cli::sweep::sweep_cmd(&args, a),
        Some(cli::Command::Render(a)) => cli::render::render_cmd(&args, a),
        Some(cli::Command::Symptoms(a)) => cli::symptoms::symptoms_cmd(a),
        Some(cli::Command::Lesson(a)) => cli::lesson::lesson_cmd(&args, a),
        None => cli::window::window_cmd(&args),
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`ganscope presets | head`): nothing is wrong, stop quietly.
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
