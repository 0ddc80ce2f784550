//! The project's one entry point for building, running and testing: it needs nothing
//! installed beyond cargo (and rustup, to add the `wasm32-wasip2` target when missing).
//!
//! `cargo xtask test` runs everything CI runs; `.ci/run` calls exactly that.

use std::process::{Command, ExitCode};

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("setup") => ensure_wasm_target(),
        _ => {
            eprintln!("usage: cargo xtask <test|setup>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Run a command, failing with its description when it fails.
fn run(description: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("==> {description}");
    let status = cmd
        .status()
        .map_err(|e| format!("{description}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{description} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Add the wasm32-wasip2 target when a fresh machine lacks it.
fn ensure_wasm_target() -> Result<(), String> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the {WASM_TARGET} target: {e}"))?;
    let installed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .any(|line| line.trim() == WASM_TARGET);
    if installed {
        return Ok(());
    }
    run(
        "rustup target add wasm32-wasip2",
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
    )
}

/// Everything CI checks: formatting, lints, and the whole test suite.
fn test() -> Result<(), String> {
    ensure_wasm_target()?;
    let components = "components/Cargo.toml";
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run(
        "cargo fmt --check (components)",
        cargo().args(["fmt", "--all", "--check", "--manifest-path", components]),
    )?;
    run(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo clippy (components, wasm32-wasip2)",
        cargo().args([
            "clippy",
            "--manifest-path",
            components,
            "--target",
            WASM_TARGET,
            "--target-dir",
            "target/wasm",
            "--workspace",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "build the tool components (wasm32-wasip2)",
        cargo().args([
            "build",
            "--manifest-path",
            components,
            "--target",
            WASM_TARGET,
            "--target-dir",
            "target/wasm",
            "--release",
            "--workspace",
        ]),
    )?;
    run(
        "cargo test (order model)",
        cargo().args([
            "test",
            "--manifest-path",
            components,
            "--target-dir",
            "target/components-native",
            "-p",
            "order-model",
        ]),
    )?;
    run("cargo test", cargo().args(["test", "--workspace"]))
}
