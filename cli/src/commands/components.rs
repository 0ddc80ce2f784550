//! `orderdesk-mcp components list`: every component the server would load, with its
//! origin, grants, imports and tools. `components trust X.wasm`: the operator's review
//! of a third-party component and its allow-list entry (`app::trust`).

use std::path::Path;
use std::sync::Arc;

use orderdesk_host::app::trust;
use orderdesk_host::app::{self, Settings};
use orderdesk_host::runtime::{LoadedComponent, Runtime};

use super::review::Review;
use crate::args::ComponentsCommand;

pub async fn run(command: &ComponentsCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        ComponentsCommand::List { json } => list(*json, settings).await,
        ComponentsCommand::Trust { wasm, name, write } => {
            trust(wasm, name.as_deref(), *write, settings).await
        }
    }
}

/// Show what the operator is about to allow, then print or write the entry.
async fn trust(
    wasm: &Path,
    name: Option<&str>,
    write: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let review = Review::of(wasm, name).await?;
    review.print();
    let name = &review.name;
    let entry = review.entry();
    let config_path = &settings.config_path;
    if write {
        trust::write_entry(config_path, name, &entry)?;
        println!(
            "\ntrusted: [components.{name}] written to {} (a running `serve --watch` uses it \
             at its next reload; otherwise at the next start). Narrow its grants there if \
             it asks for more than it should have.",
            config_path.display()
        );
    } else {
        println!(
            "\nTo allow it, add this to {} (or run again with --write); narrow the grants \
             if it asks for more than it should have:\n\n{}",
            config_path.display(),
            entry.to_toml(name)
        );
    }
    Ok(())
}

async fn list(json: bool, settings: &Settings) -> anyhow::Result<()> {
    // Listing needs no account: run the components against the sandbox.
    let setup = app::open_sandbox(&settings.data_dir).await?;
    let runtime = Runtime::new(
        settings.limits.clone(),
        Some(setup.compile_cache(settings.cache_dir())),
    )?;
    let components = app::load_components(
        &runtime,
        &setup,
        &settings.file,
        settings.components_dir.as_deref(),
    )
    .await?;
    // Listing is a check too: compile every input schema, the built-ins' included.
    app::build_catalog(&components)?.check_schemas()?;
    print_components(&components, json);
    Ok(())
}

fn print_components(components: &[Arc<LoadedComponent>], json: bool) {
    if json {
        let list: Vec<serde_json::Value> = components
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "origin": c.origin.to_string(),
                    "sha256": c.content_hash,
                    "compile_cache": c.cache.as_str(),
                    "grants": c.grants,
                    "imports": c.imports,
                    "tools": c.tools.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("JSON"));
        return;
    }
    for c in components {
        println!("{} ({})", c.name, c.origin);
        println!("  compile cache: {}", c.cache.as_str());
        println!("  grants:  {}", c.grants.describe());
        println!("  imports: {}", c.imports.join(", "));
        println!(
            "  tools:   {}",
            c.tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
