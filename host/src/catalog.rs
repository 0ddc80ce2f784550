//! The aggregated tool list of all loaded components, with compiled input validators.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use thiserror::Error;

use crate::runtime::{ComponentOrigin, LoadedComponent, ToolSpec};

/// Why a set of components cannot be served together.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// Two components declare a tool of the same name.
    #[error(
        "tool `{tool}` of component `{component}` ({origin}) duplicates the tool of the same name in component `{existing}` ({existing_origin}); rename one of them"
    )]
    DuplicateTool {
        tool: String,
        component: String,
        origin: String,
        existing: String,
        existing_origin: String,
    },
    /// A tool's input schema is not a valid JSON Schema.
    #[error("{0}")]
    InvalidSchema(String),
}

/// Arguments that do not match a tool's input schema; the message names every
/// offending field and is meant for the model.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct InvalidArguments(pub String);

/// One tool of the catalog.
pub struct CatalogEntry {
    pub component: Arc<LoadedComponent>,
    pub spec: ToolSpec,
    /// The input schema compiled into a validator: at load for a component from the
    /// components directory (a bad schema refuses the component), on the first call for
    /// a built-in one, whose schemas the test suite compiles (compiling all 32 at every
    /// start costs a fifth of the start-up time).
    validator: OnceLock<Result<jsonschema::Validator, String>>,
}

impl CatalogEntry {
    fn new(component: &Arc<LoadedComponent>, spec: &ToolSpec) -> CatalogEntry {
        CatalogEntry {
            component: component.clone(),
            spec: spec.clone(),
            validator: OnceLock::new(),
        }
    }

    /// The compiled input schema, or why it does not compile.
    pub fn validator(&self) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| {
                let schema = serde_json::Value::Object(self.spec.input_schema.clone());
                jsonschema::validator_for(&schema).map_err(|e| {
                    format!(
                        "the input schema of tool `{}` in component `{}` is not a valid JSON Schema: {e}",
                        self.spec.name, self.component.name
                    )
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// All tools, in component order then declaration order.
#[derive(Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    by_name: HashMap<String, usize>,
}

impl Catalog {
    /// Aggregate the tools of `components`. A duplicate name is refused with an error
    /// naming both components; an input schema that is not a valid JSON Schema too.
    pub fn build(components: &[Arc<LoadedComponent>]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for component in components {
            for spec in &component.tools {
                if let Some(&existing) = catalog.by_name.get(&spec.name) {
                    let existing = &catalog.entries[existing].component;
                    return Err(CatalogError::DuplicateTool {
                        tool: spec.name.clone(),
                        component: component.name.clone(),
                        origin: component.origin.to_string(),
                        existing: existing.name.clone(),
                        existing_origin: existing.origin.to_string(),
                    });
                }
                let entry = CatalogEntry::new(component, spec);
                if !matches!(component.origin, ComponentOrigin::Embedded) {
                    entry
                        .validator()
                        .map_err(|e| CatalogError::InvalidSchema(e.to_string()))?;
                }
                catalog
                    .by_name
                    .insert(spec.name.clone(), catalog.entries.len());
                catalog.entries.push(entry);
            }
        }
        Ok(catalog)
    }

    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// Compile every input schema now (those of built-in components are otherwise
    /// compiled on first use); the first that does not compile is the error.
    pub fn check_schemas(&self) -> Result<(), CatalogError> {
        for entry in &self.entries {
            entry
                .validator()
                .map_err(|e| CatalogError::InvalidSchema(e.to_string()))?;
        }
        Ok(())
    }
}

/// Validate arguments; the error names every offending field.
pub fn validate_arguments(
    entry: &CatalogEntry,
    arguments: &serde_json::Value,
) -> Result<(), InvalidArguments> {
    let problems: Vec<String> = entry
        .validator()
        .map_err(|e| InvalidArguments(e.to_string()))?
        .iter_errors(arguments)
        .map(|error| {
            let path = error.instance_path().to_string();
            if path.is_empty() {
                error.to_string()
            } else {
                format!(
                    "`{}`: {error}",
                    path.trim_start_matches('/').replace('/', ".")
                )
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InvalidArguments(format!(
            "invalid arguments for `{}`: {}. Fix them and call again.",
            entry.spec.name,
            problems.join("; ")
        )))
    }
}
