//! `orderdesk-mcp components list`: every component the server would load, with its
//! origin, grants, imports and tools.

use std::sync::Arc;

use orderdesk_host::app::{self, Settings};
use orderdesk_host::runtime::{LoadedComponent, Runtime};

use crate::args::ComponentsCommand;

pub async fn run(command: &ComponentsCommand, settings: &Settings) -> anyhow::Result<()> {
    let ComponentsCommand::List { json } = command;
    // Listing needs no account: run the components against the sandbox.
    let setup = app::open_sandbox(&settings.data_dir).await?;
    let runtime = Runtime::new(settings.limits.clone(), Some(settings.cache_dir()))?;
    let components = app::load_components(
        &runtime,
        &setup,
        &settings.file,
        settings.components_dir.as_deref(),
    )
    .await?;
    // Listing is a check too: compile every input schema, the built-ins' included.
    app::build_catalog(&components)?.check_schemas()?;
    print_components(&components, *json);
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
