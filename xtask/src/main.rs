//! The project's one entry point for building, running and testing: it needs nothing
//! installed beyond cargo (and rustup, to add the `wasm32-wasip2` target when missing).
//!
//! `cargo xtask test` runs everything CI runs; `.ci/run` calls exactly that.
//! `cargo xtask bench` runs the benchmarks (release) and writes `docs/benchmarks.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("setup") => ensure_wasm_target(),
        Some("run") => serve(&args[1..]),
        Some("scan-secrets") => scan_secrets(),
        Some("bench") => bench(),
        _ => {
            eprintln!("usage: cargo xtask <run [ARGS]|test|bench|setup|scan-secrets>");
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
    // access tokens as `orderdesk-mcp token create` prints them
    "odat_[0-9a-f]{64}",
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
    // The SDK's documentation, as an author reads it with `cargo doc` (a project from
    // `orderdesk-mcp component new` carries these crates): broken links fail.
    run(
        "cargo doc (the component SDK)",
        cargo()
            .args([
                "doc",
                "--manifest-path",
                components,
                "--target-dir",
                "target/components-native",
                "--no-deps",
                "-p",
                "orderdesk-tool-kit",
                "-p",
                "orderdesk-store-api",
                "-p",
                "order-model",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // Every component crate's unit tests, compiled natively: the kit answers their host
    // calls with its mock host, so no wasm runtime is involved. The test components build
    // natively too, so the whole workspace runs.
    run(
        "cargo test (components, native)",
        cargo().args([
            "test",
            "--manifest-path",
            components,
            "--target-dir",
            "target/components-native",
            "--workspace",
        ]),
    )?;
    run("cargo test", cargo().args(["test", "--workspace"]))
}

/// The workspace root (xtask/ sits in it).
///
/// `cargo run` says where the xtask package is; the path compiled in is only the
/// fallback (a binary built from a copy of the repository that shares this target
/// directory would point at the copy).
fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Build the server and the benchmarks in release, run every benchmark (they print their
/// figures) and write them, with the machine they ran on, to `docs/benchmarks.md`.
fn bench() -> Result<(), String> {
    let started = Instant::now();
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    ensure_wasm_target()?;
    run(
        "cargo build --release -p orderdesk-mcp -p orderdesk-bench",
        cargo().current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "orderdesk-mcp",
            "-p",
            "orderdesk-bench",
        ]),
    )?;
    // The trivial component the per-call benchmarks call (`echo`), and the one with
    // many imports they compare it with (`hostile_echo`).
    let wasm_target_dir = target.join("wasm");
    run(
        "build the test components echo and hostile (wasm32-wasip2)",
        cargo()
            .current_dir(&root)
            .args([
                "build",
                "--manifest-path",
                "components/Cargo.toml",
                "--target",
                WASM_TARGET,
                "--release",
                "--quiet",
                "-p",
                "echo",
                "-p",
                "hostile",
                "--target-dir",
            ])
            .arg(&wasm_target_dir),
    )?;
    let wasm_out = wasm_target_dir.join(WASM_TARGET).join("release");
    let built = started.elapsed();

    let release = target.join("release");
    let results = target.join("bench-results.md");
    let _ = std::fs::remove_file(&results);
    let bench_started = Instant::now();
    run(
        "orderdesk-bench all",
        Command::new(release.join("orderdesk-bench"))
            .current_dir(&root)
            // As an MCP client starts the server: with these set, every error value
            // captures a backtrace, and wasmtime makes one each time a Store is dropped.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .arg("all")
            .arg("--server")
            .arg(release.join("orderdesk-mcp"))
            .arg("--null-server")
            .arg(release.join("null-mcp-server"))
            .arg("--echo")
            .arg(wasm_out.join("echo.wasm"))
            .arg("--hostile")
            .arg(wasm_out.join("hostile.wasm"))
            .arg("--work-dir")
            .arg(target.join("bench"))
            .arg("--markdown")
            .arg(&results),
    )?;
    let ran = bench_started.elapsed();
    let table = std::fs::read_to_string(&results)
        .map_err(|e| format!("cannot read {}: {e}", results.display()))?;

    let doc = benchmarks_markdown(&table, built.as_secs_f64(), ran.as_secs_f64());
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| format!("cannot create {}: {e}", docs.display()))?;
    let out = docs.join("benchmarks.md");
    std::fs::write(&out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "==> wrote {} (build {:.0} s, benchmarks {:.0} s, total {:.0} s)",
        out.display(),
        built.as_secs_f64(),
        ran.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// docs/benchmarks.md: the machine, the command, the date, then the figures.
fn benchmarks_markdown(table: &str, build_s: f64, bench_s: f64) -> String {
    let cpus = command_output("nproc", &[]).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    });
    let cpu_model = cpuinfo_field("model name").unwrap_or_else(|| "unknown".into());
    let cpu_model = match (
        cpuinfo_field("cpu family"),
        cpuinfo_field("model"),
        cpuinfo_field("flags"),
    ) {
        (Some(family), Some(model), flags) => {
            let virtualised =
                flags.is_some_and(|f| f.split_whitespace().any(|x| x == "hypervisor"));
            format!(
                "{cpu_model} (family {family}, model {model}{})",
                if virtualised { ", virtual machine" } else { "" }
            )
        }
        _ => cpu_model,
    };
    let ram = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map(|kib| format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
        .unwrap_or_else(|| "unknown".into());
    let kernel = command_output("uname", &["-sr"]).unwrap_or_else(|| "unknown".into());
    let rustc = command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into());
    let date = utc_now();
    format!(
        "# Benchmarks\n\
         \n\
         Written by `cargo xtask bench` (do not edit by hand: run it again). The benchmarks are\n\
         the programs of `bench/` (crate `orderdesk-bench`), built in release; they print these\n\
         figures too. PASS/MISS compares a figure with its target.\n\
         \n\
         | | |\n\
         |---|---|\n\
         | command | `cargo xtask bench` |\n\
         | date | {date} |\n\
         | CPUs (`nproc`) | {cpus} |\n\
         | CPU | {cpu_model} |\n\
         | RAM | {ram} |\n\
         | OS | {kernel} |\n\
         | toolchain | {rustc} |\n\
         | time | benchmarks {bench_s:.0} s (build beforehand {build_s:.0} s) |\n\
         | load average after the run (1, 5, 15 min) | {load} |\n\
         \n\
         ## Figures\n\
         \n\
         {table}\n\
         ## How they are measured\n\
         \n\
         - **1. trivial tool call**: rmcp's client spawns `target/release/orderdesk-mcp serve \
         --sandbox --components DIR` (DIR holds the test components `echo.wasm` — one tool, \
         `echo`, no host imports — and `hostile.wasm`) and calls `echo {{\"ping\": 1}}` one call \
         at a time. In the same run, in alternating batches of 200, the same client calls \
         `echo` on `null-mcp-server` (rmcp stdio, one tool, no components). Latency is from \
         sending the request to the parsed answer. Host share = p50(ours) − p50(null). \
         Server CPU time per call = utime + stime delta of `/proc/<pid>/stat` over the \
         measured calls.\n\
         - **1b. bare component call**: the library API in-process (`app::open_sandbox`, \
         `Runtime::new`, `app::load_file`, then `Runtime::call` with `app::load_context`): a \
         fresh instance and one call each, of `echo` (the target) and, for comparison, of \
         `hostile_echo` (a component with many more imports, each wired up per instance).\n\
         - Everything runs without `RUST_BACKTRACE` (as MCP clients start servers): with it \
         set, wasmtime's `Store` drop captures a backtrace on every call.\n\
         - **2. concurrency**: 8 tasks share one rmcp client and each keeps one call in \
         flight until 2,000 calls are done.\n\
         - **3. start-up**: from spawning the process to `tools/list` answered (the MCP \
         `initialize` handshake included); cold = `<data dir>/cache` deleted first. The \
         servers of the other figures start warm, as a server normally does (a first start \
         in their data directory fills the cache). The target is checked on plain `serve`; \
         `serve --sandbox` also builds a throw-away vault with a demo tenant and store at \
         every start (by design) and is shown for information.\n\
         - **4. authentication**: `Vault::insert_tenants_for_benchmark(n, 4)`, then \
         `Vault::authenticate` with keys that authenticate, the three vaults taking turns.\n\
         - **5. upstream**: 60 concurrent \
         uncached reads through the gateway against the simulator's bucket (20, 3/s), ideal \
         = (60 − 20) / 3 s; the simulator's request log shows when the requests arrived (where \
         the time over the ideal went); then cached reads; then `orders_list` over MCP \
         (sandbox) with the same arguments again and again.\n\
         - **6. memory**: `VmRSS`, `VmHWM` and `RssAnon` (anon: heap, stacks, wasm \
         memories; the rest of `VmRSS` is mapped files: the binary's code, compiled \
         components) from `/proc/<pid>/status`. The target is checked on `serve --components \
         DIR` without the sandbox (the production shape), 0.5 s after `tools/list` (idle) and \
         after 2,000 calls; the server hands back start-up-only memory 200 ms after the first \
         `tools/list` (`host/src/app/memory.rs`), and the same run with \
         `ORDERDESK_MCP_KEEP_STARTUP_MEMORY=1` shows the figures without that. The sandbox \
         figures (the servers of figures 1 and 2) include the in-process OrderDesk simulator \
         and its demo data.\n\
         - **8. HTTP**: `orderdesk-mcp serve --sandbox --components DIR --http 127.0.0.1:0` \
         with the sandbox's access token, against `null-mcp-server --http` (rmcp's Streamable \
         HTTP session manager under axum, the `echo` tool, no authentication) and, below it, \
         `null-mcp-server --http-raw` (one axum handler answering each JSON-RPC request as \
         JSON, no MCP library: the floor of HTTP and JSON on this machine). \
         Each client is one MCP session (`initialize` and `notifications/initialized` as \
         plain HTTP requests with reqwest, one keep-alive connection each) calling back to \
         back for 3 s after 20 warm-up calls. The load generator shares the machine's two \
         cores with the server, so calls/s is what the server does with part of them; server \
         CPU per call (utime + stime over the run / calls) says what a call costs it. Idle \
         sessions: the growth of `VmRSS` after opening 1,000 sessions and waiting 0.5 s, on \
         fresh servers (ours with `[http] sessions_per_tenant` raised to allow them).\n"
    )
}

/// The first `field` of /proc/cpuinfo.
fn cpuinfo_field(field: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == field).then(|| value.trim().to_string())
    })
}

/// The trimmed standard output of a command that succeeded.
fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        (rem % 3_600) / 60
    )
}
