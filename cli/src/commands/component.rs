//! `orderdesk-mcp component check|test`: a component file against the mock host of
//! `orderdesk_harness`, no account and no MCP client needed.

use std::path::{Path, PathBuf};

use orderdesk_harness as harness;
use orderdesk_host::grants::Grants;

use crate::args::ComponentCommand;

pub async fn run(command: &ComponentCommand) -> anyhow::Result<()> {
    match command {
        ComponentCommand::Check { wasm, grants } => {
            let report = harness::check_component(wasm, grants_for(wasm, grants)?).await?;
            print!("{report}");
        }
        ComponentCommand::Test {
            wasm,
            cases,
            grants,
        } => {
            let results = harness::run_case_file(wasm, cases, grants_for(wasm, grants)?).await?;
            let failed = results.iter().filter(|r| !r.failures.is_empty()).count();
            for result in &results {
                if result.failures.is_empty() {
                    println!("ok     {}", result.name);
                } else {
                    println!("FAILED {}", result.name);
                    for failure in &result.failures {
                        for line in failure.lines() {
                            println!("         {line}");
                        }
                    }
                }
            }
            println!("{} passed, {failed} failed", results.len() - failed);
            anyhow::ensure!(failed == 0, "{failed} case(s) failed");
        }
    }
    Ok(())
}

/// `--grants FILE` must exist (a typo must not quietly test with `log` only); without
/// it, `<name>.toml` beside the component is used when there is one.
fn grants_for(wasm: &Path, grants: &Option<PathBuf>) -> anyhow::Result<Grants> {
    match grants {
        Some(manifest) => Grants::from_manifest(manifest).map_err(|e| {
            anyhow::anyhow!(
                "{e}; give --grants an existing manifest, or leave it out to use {} (or `log` only without it)",
                wasm.with_extension("toml").display()
            )
        }),
        None => Ok(Grants::for_file(wasm)?),
    }
}
