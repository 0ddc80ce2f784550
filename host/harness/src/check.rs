//! `orderdesk-mcp component check`: load a component as a production host would, call
//! none of its tools, and report what was found.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::{Harness, HarnessOptions};
use orderdesk_host::grants::Grants;

/// What `component check` found: the component as the host loaded it.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The component's name (its file stem).
    pub component: String,
    /// The grants it was loaded with.
    pub grants: Grants,
    /// The host interfaces it imports.
    pub imports: Vec<String>,
    pub tools: Vec<CheckedTool>,
}

/// One tool of a checked component.
#[derive(Debug, Serialize)]
pub struct CheckedTool {
    pub name: String,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
    /// What a production host accepts but a client would find wanting.
    pub warnings: Vec<String>,
}

/// Load the component at `wasm` with `grants` without calling any tool, and report
/// what a production host would refuse (WIT version, imports against grants, tool
/// names, schemas, sizes) as an error.
pub async fn check_component(wasm: &Path, grants: Grants) -> anyhow::Result<CheckReport> {
    let harness = Harness::load(wasm, HarnessOptions::anonymous(grants))
        .await
        .map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("orderdesk:mcp/") && text.contains("does not provide") {
                anyhow::anyhow!(
                    "{text}\nhint: this host implements orderdesk:mcp@{}; rebuild the component against the WIT in this repository's components/kit/wit/",
                    orderdesk_host::grants::WIT_VERSION
                )
            } else {
                e
            }
        })?;
    let component = harness.component();
    let tools = component
        .tools
        .iter()
        .map(|tool| {
            let a = &tool.annotations;
            let mut warnings = Vec::new();
            if tool.description.trim().is_empty() {
                warnings.push("no description".to_string());
            }
            CheckedTool {
                name: tool.name.clone(),
                read_only: a.read_only,
                destructive: a.destructive,
                idempotent: a.idempotent,
                open_world: a.open_world,
                warnings,
            }
        })
        .collect();
    Ok(CheckReport {
        component: component.name.clone(),
        grants: component.grants,
        imports: component.imports.clone(),
        tools,
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "component `{}`: OK", self.component)?;
        writeln!(f, "  grants:  {}", self.grants.describe())?;
        writeln!(f, "  imports: {}", self.imports.join(", "))?;
        for tool in &self.tools {
            write!(
                f,
                "  tool {}: read_only={} destructive={} idempotent={} open_world={}",
                tool.name, tool.read_only, tool.destructive, tool.idempotent, tool.open_world
            )?;
            for warning in &tool.warnings {
                write!(f, "  WARNING: {warning}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
