//! `orderdesk-bench`: the benchmarks of orderdesk-mcp. They are programs that print
//! figures, not tests; `cargo xtask bench` builds everything in release, runs
//! `orderdesk-bench all` and writes the figures to `docs/benchmarks.md`.
//!
//! 1. a trivial tool call through the whole stdio path, interleaved with the same client
//!    against a null MCP server (the host's share), and the bare component call;
//! 2. 8 concurrent calls on one connection;
//! 3. start-up to `tools/list`, cold and warm compile cache;
//! 4. authentication with 1, 1,000 and 100,000 tenants;
//! 5. the gateway against the simulator's bucket, cached reads, a cached `orders_list`;
//! 6. the server's memory;
//! 7. the sizes of typical answers (bytes and estimated tokens), before and after the
//!    compact views and the TOON text copy;
//! 8. MCP over Streamable HTTP: calls/s and latency with 1, 8 and 64 clients, and the
//!    memory of 1,000 idle sessions, against the null server's HTTP mode.
//!
//! Each figure is compared with its target from the issue (PASS/MISS).

mod answers;
mod auth;
mod calls;
mod client;
mod http;
mod report;
mod startup;
mod stats;
mod upstream;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use report::Report;

#[derive(Parser)]
#[command(
    name = "orderdesk-bench",
    about = "Benchmarks of orderdesk-mcp (release builds only)"
)]
struct Cli {
    /// Which benchmarks to run.
    #[arg(value_enum, default_value_t = Which::All)]
    which: Which,
    /// The `orderdesk-mcp` binary (default: next to this one).
    #[arg(long)]
    server: Option<PathBuf>,
    /// The `null-mcp-server` binary (default: next to this one).
    #[arg(long)]
    null_server: Option<PathBuf>,
    /// The trivial test component (default: `<target>/wasm/wasm32-wasip2/release/echo.wasm`).
    #[arg(long)]
    echo: Option<PathBuf>,
    /// The test component with many imports, for comparison (default:
    /// `<target>/wasm/wasm32-wasip2/release/hostile.wasm`).
    #[arg(long)]
    hostile: Option<PathBuf>,
    /// Scratch directory for data directories and logs (emptied first; default:
    /// `<target>/bench`).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Also write the figures as a markdown table to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    All,
    /// Figure 1 (stdio, interleaved with the null server) and the memory after it (and
    /// after as many calls without the sandbox).
    Stdio,
    /// Figure 1b: `Runtime::call` without MCP.
    Bare,
    /// Figure 2 and the peak memory after it.
    Concurrency,
    /// Figure 3.
    Startup,
    /// Figure 4.
    Auth,
    /// Figure 5.
    Upstream,
    /// Figure 7.
    Answers,
    /// Figure 8.
    Http,
}

/// Where the benchmarks find what they run.
#[derive(Debug)]
pub struct Paths {
    pub server: PathBuf,
    pub null_server: PathBuf,
    pub echo: PathBuf,
    pub hostile: PathBuf,
    pub work: PathBuf,
}

impl Paths {
    fn resolve(cli: &Cli) -> anyhow::Result<Paths> {
        let exe = std::env::current_exe()?;
        let bin_dir = exe
            .parent()
            .ok_or_else(|| anyhow::anyhow!("no directory for {}", exe.display()))?
            .to_path_buf();
        // <target>/release/orderdesk-bench → <target>
        let target = bin_dir.parent().unwrap_or(&bin_dir).to_path_buf();
        let wasm_dir = target.join("wasm").join("wasm32-wasip2").join("release");
        let paths = Paths {
            server: cli
                .server
                .clone()
                .unwrap_or_else(|| bin_dir.join("orderdesk-mcp")),
            null_server: cli
                .null_server
                .clone()
                .unwrap_or_else(|| bin_dir.join("null-mcp-server")),
            echo: cli
                .echo
                .clone()
                .unwrap_or_else(|| wasm_dir.join("echo.wasm")),
            hostile: cli
                .hostile
                .clone()
                .unwrap_or_else(|| wasm_dir.join("hostile.wasm")),
            work: cli.work_dir.clone().unwrap_or_else(|| target.join("bench")),
        };
        for (what, path) in [
            ("orderdesk-mcp", &paths.server),
            ("null-mcp-server", &paths.null_server),
            ("echo.wasm", &paths.echo),
            ("hostile.wasm", &paths.hostile),
        ] {
            anyhow::ensure!(
                path.is_file(),
                "{what} not found at {} (run `cargo xtask bench`, which builds everything)",
                path.display()
            );
        }
        stats::fresh_dir(&paths.work)?;
        Ok(paths)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cfg!(debug_assertions) {
        eprintln!(
            "orderdesk-bench: this is a debug build; the figures mean little (use --release)"
        );
    }
    let set = |var: &str| std::env::var_os(var).is_some_and(|v| v != "0");
    if set("RUST_BACKTRACE") || set("RUST_LIB_BACKTRACE") {
        eprintln!(
            "orderdesk-bench: RUST_BACKTRACE is set: figure 1b (in this process) includes a \
             backtrace capture per call (wasmtime makes an error value each time a Store is \
             dropped); `cargo xtask bench` unsets it"
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("orderdesk-bench: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("orderdesk-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    let paths = Paths::resolve(cli)?;
    let started = Instant::now();
    let mut report = Report::default();
    let mut memory = calls::Memory::default();
    let all = cli.which == Which::All;
    if all || cli.which == Which::Stdio {
        calls::stdio(&paths, &mut report, &mut memory).await?;
        calls::memory_plain(&paths, &mut memory).await?;
    }
    if all || cli.which == Which::Bare {
        calls::bare(&paths, &mut report).await?;
    }
    if all || cli.which == Which::Concurrency {
        calls::concurrency(&paths, &mut report, &mut memory).await?;
    }
    if all || cli.which == Which::Startup {
        startup::run(&paths, &mut report).await?;
    }
    if all || cli.which == Which::Auth {
        // bcrypt and SQLite block: keep them off the other async workers.
        tokio::task::block_in_place(|| auth::run(&paths, &mut report))?;
    }
    if all || cli.which == Which::Upstream {
        upstream::gateway(&mut report).await?;
        upstream::mcp(&paths, &mut report).await?;
    }
    if all || cli.which == Which::Stdio || cli.which == Which::Concurrency {
        calls::memory(&memory, &mut report);
    }
    if all || cli.which == Which::Answers {
        answers::run(&paths, &mut report).await?;
    }
    if all || cli.which == Which::Http {
        http::run(&paths, &mut report).await?;
    }
    report.print_summary();
    println!();
    println!(
        "orderdesk-bench: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &cli.markdown {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, report.markdown())?;
    }
    Ok(())
}
