//! `orderdesk-mcp`: the command line. It parses arguments and hands them to
//! `orderdesk_host::app` (the server), `orderdesk_harness` (component checks and tests)
//! or the vault (tenant and store administration); it holds no logic of its own beyond
//! printing.

mod args;
mod commands;
mod logging;

use clap::Parser;
use orderdesk_host::app::Settings;

use args::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, log_level(&cli));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What stderr shows unless ORDERDESK_MCP_LOG says otherwise. `serve` is a long-running
/// server whose operator reads its start-up and failures there; every other command
/// reports on stdout, so stderr keeps to warnings and errors (`--verbose` adds the
/// rest), and a script can read stdout and stderr apart.
fn log_level(cli: &Cli) -> tracing::Level {
    match (&cli.command, cli.verbose) {
        (Command::Serve { .. }, false) => tracing::Level::INFO,
        (Command::Serve { .. }, true) => tracing::Level::DEBUG,
        (_, false) => tracing::Level::WARN,
        (_, true) => tracing::Level::INFO,
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve { .. } => commands::serve::run(&settings(&cli)?).await,
        Command::Call {
            tool,
            arguments,
            json,
            ..
        } => commands::call::call(tool, arguments.as_deref(), *json, settings(&cli)?).await,
        Command::Tools { json, .. } => commands::call::tools(*json, settings(&cli)?).await,
        Command::Components { command } => {
            commands::components::run(command, &settings(&cli)?).await
        }
        // Checking or testing a component file needs neither a data directory nor settings.
        Command::Component { command } => commands::component::run(command).await,
        Command::Tenant { command } => commands::tenant::run(command, &settings(&cli)?).await,
        Command::Stores { command } => commands::stores::run(command, &settings(&cli)?).await,
        Command::Token { command } => commands::token::run(command, &settings(&cli)?).await,
        Command::Webhooks { command } => commands::webhooks::run(command, &settings(&cli)?).await,
        Command::ServerKey { command } => {
            commands::server_key::run(command, &settings(&cli)?).await
        }
    }
}

/// The flags merged with the environment and the config file; the data directory made
/// private to this user (0700) or checked to be.
fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let settings = Settings::from_process(cli.flags())?;
    orderdesk_host::app::prepare_data_dir(&settings.data_dir)?;
    Ok(settings)
}
