//! `orderdesk-mcp component new|check|test|pack`: start a component project, run a
//! component file against the mock host of `orderdesk_harness` (no account and no MCP
//! client needed), or bundle it for an operator to trust. Reports go to stdout, as text
//! or, with `--json`, as JSON.

use std::path::{Path, PathBuf};

use orderdesk_harness as harness;
use orderdesk_host::grants::Grants;
use serde_json::json;

use crate::args::ComponentCommand;

pub async fn run(command: &ComponentCommand) -> anyhow::Result<()> {
    match command {
        ComponentCommand::New { name, lang, grants } => {
            super::new::run(name, *lang, *grants, Path::new("."))?
        }
        ComponentCommand::Check { wasm, grants, json } => {
            let checked = match grants_for(wasm, grants) {
                Ok(grants) => harness::check_component(wasm, grants).await,
                Err(e) => Err(e),
            };
            match (checked, json) {
                (Ok(report), false) => print!("{report}"),
                (Ok(report), true) => {
                    let mut report = serde_json::to_value(&report)?;
                    report["ok"] = json!(true);
                    println!("{}", serde_json::to_string_pretty(&report)?);
                }
                (Err(e), false) => return Err(e),
                // A script reads the verdict on stdout either way; the status says it too.
                (Err(e), true) => {
                    let refusal = json!({"ok": false, "error": format!("{e:#}")});
                    println!("{}", serde_json::to_string_pretty(&refusal)?);
                    anyhow::bail!("the component did not pass the check");
                }
            }
        }
        ComponentCommand::Test {
            wasm,
            cases,
            grants,
            json,
        } => {
            let results = harness::run_case_file(wasm, cases, grants_for(wasm, grants)?).await?;
            let failed = results.iter().filter(|r| !r.failures.is_empty()).count();
            let passed = results.len() - failed;
            if *json {
                let verdicts = json!({"passed": passed, "failed": failed, "cases": results});
                println!("{}", serde_json::to_string_pretty(&verdicts)?);
            } else {
                print_verdicts(&results);
                println!("{passed} passed, {failed} failed");
            }
            anyhow::ensure!(failed == 0, "{failed} case(s) failed");
        }
        ComponentCommand::Pack { wasm, out } => {
            let review = super::review::Review::of(wasm, None).await?;
            review.print();
            let packed = review.write_bundle(out)?;
            println!(
                "\nbundle: {} ({}.wasm, its manifest, {}.sha256). The operator reviews and \
                 allows it with `orderdesk-mcp components trust {} --write`, which checks \
                 the checksum; the entry it writes:\n\n{}",
                out.display(),
                review.name,
                review.name,
                packed.display(),
                review.entry().to_toml(&review.name)
            );
        }
    }
    Ok(())
}

fn print_verdicts(results: &[harness::CaseResult]) {
    for result in results {
        if result.failures.is_empty() {
            println!("ok     {}", result.name);
            continue;
        }
        println!("FAILED {}", result.name);
        for failure in &result.failures {
            for line in failure.lines() {
                println!("         {line}");
            }
        }
    }
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
