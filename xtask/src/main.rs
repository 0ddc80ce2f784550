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
        Some("run") => serve(&args[1..]),
        Some("scan-secrets") => scan_secrets(),
        _ => {
            eprintln!("usage: cargo xtask <run [ARGS]|test|setup|scan-secrets>");
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

/// Build everything (release) and start the server on stdio. Without an account
/// (ORDERDESK_MCP_MASTER_KEY unset) it serves the built-in sandbox; extra arguments go
/// to `orderdesk-mcp serve`.
fn serve(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "orderdesk-mcp",
        "--",
        "serve",
    ]);
    let has_account = std::env::var("ORDERDESK_MCP_MASTER_KEY").is_ok_and(|k| !k.trim().is_empty());
    if !has_account && !extra.iter().any(|a| a == "--sandbox") {
        eprintln!(
            "xtask: no ORDERDESK_MCP_MASTER_KEY set: serving the sandbox (a simulated OrderDesk with a demo store)"
        );
        cmd.arg("--sandbox");
    }
    cmd.args(extra);
    run("orderdesk-mcp serve", &mut cmd)
}

/// Patterns of our own secrets, on top of ripsecrets' built-in ones.
const OWN_SECRET_PATTERNS: &[&str] = &[
    // master keys as `orderdesk-mcp tenant create` prints them
    "odmk_[0-9a-f]{64}",
];

/// Scan the tree (honouring .gitignore and .secretsignore, where the fake keys of test
/// fixtures are allow-listed by name) for committed secrets.
fn scan_secrets() -> Result<(), String> {
    eprintln!("==> scan for committed secrets (ripsecrets)");
    let patterns: Vec<String> = OWN_SECRET_PATTERNS.iter().map(|p| p.to_string()).collect();
    let writer = termcolor::BufferWriter::stderr(termcolor::ColorChoice::Never);
    let found = ripsecrets::find_secrets(
        &[std::path::PathBuf::from(".")],
        &patterns,
        false,
        false,
        writer,
    )
    .map_err(|e| format!("the secrets scan failed to run: {e}"))?;
    if found > 0 {
        return Err(format!(
            "{found} possible secret(s) committed (listed above): remove them, or if one is a \
             test fixture's fake key, allow-list it by name in .secretsignore"
        ));
    }
    Ok(())
}

/// Everything CI checks: formatting, lints, the secrets scan and the whole test suite.
fn test() -> Result<(), String> {
    ensure_wasm_target()?;
    scan_secrets()?;
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
