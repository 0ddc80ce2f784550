//! A loaded component and what the runtime checks of it at load: its imports against
//! its grants, its tools (names, sizes, schemas that parse).

use std::borrow::Cow;

use thiserror::Error;
use wasmtime::Engine;
use wasmtime::component::Component;

use super::compile_cache::{CacheOutcome, content_hash};
use super::limits::Limits;
use super::state::CallState;
use crate::bindings::{self, ToolGroupPre};
use crate::grants::{Capability, Grants, ImportKind, classify_import};

/// Where a component was loaded from.
#[derive(Clone, Debug)]
pub enum ComponentOrigin {
    /// Carried inside the binary.
    Embedded,
    /// A `.wasm` file from the components directory.
    File(std::path::PathBuf),
}

impl std::fmt::Display for ComponentOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentOrigin::Embedded => f.write_str("built-in"),
            ComponentOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A component's bytes and their SHA-256, which keys the compile cache.
#[derive(Clone, Debug)]
pub struct ComponentSource {
    pub bytes: Cow<'static, [u8]>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl ComponentSource {
    /// Bytes read at run time (hashed here).
    pub fn from_bytes(bytes: Vec<u8>) -> ComponentSource {
        ComponentSource {
            sha256: content_hash(&bytes),
            bytes: Cow::Owned(bytes),
        }
    }

    /// Bytes carried in the binary, hashed when it was built: a start with a warm
    /// compile cache then never reads them (nor pages them in).
    pub fn embedded(bytes: &'static [u8], sha256: &'static str) -> ComponentSource {
        ComponentSource {
            bytes: Cow::Borrowed(bytes),
            sha256: sha256.trim().to_string(),
        }
    }
}

/// A tool as a component declared it, checked at load.
#[derive(Clone, Debug)]
pub struct ToolSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub input_schema: serde_json::Map<String, serde_json::Value>,
    pub output_schema: Option<serde_json::Map<String, serde_json::Value>>,
    pub annotations: bindings::Annotations,
}

/// A component ready to serve calls.
pub struct LoadedComponent {
    pub name: String,
    pub origin: ComponentOrigin,
    pub content_hash: String,
    pub grants: Grants,
    /// The host interfaces it imports (WIT interface names).
    pub imports: Vec<String>,
    pub tools: Vec<ToolSpec>,
    pub cache: CacheOutcome,
    pub(super) pre: ToolGroupPre<CallState>,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Why a component could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("component `{name}` is not a valid component: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "component `{name}` imports interfaces it was not granted: {}; grant them in its manifest ({name}.toml) or remove the imports",
        .ungranted.join(", ")
    )]
    Ungranted {
        name: String,
        ungranted: Vec<String>,
    },
    #[error("component `{name}` imports interfaces this host does not provide: {}", .unknown.join(", "))]
    UnknownImports { name: String, unknown: Vec<String> },
    #[error("component `{name}` declares bad tools: {reason}")]
    BadTools { name: String, reason: String },
}

/// A tool name that the strictest mainstream MCP clients would refuse.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "tool name `{0}` is invalid: names must match ^[a-zA-Z0-9_-]{{1,64}}$ (e.g. `orders_list`, not `orders.list`)"
)]
pub struct InvalidToolName(pub String);

/// Check a tool name against what the strictest mainstream MCP clients accept.
pub fn check_tool_name(name: &str) -> Result<(), InvalidToolName> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(InvalidToolName(name.to_string()))
    }
}

/// The host interfaces `component` imports, or why it may not be loaded with `grants`.
pub(super) fn check_imports(
    engine: &Engine,
    name: &str,
    component: &Component,
    grants: &Grants,
) -> Result<Vec<String>, LoadError> {
    let mut host_imports = Vec::new();
    let mut ungranted = Vec::new();
    let mut unknown = Vec::new();
    for (import, _) in component.component_type().imports(engine) {
        match classify_import(import) {
            ImportKind::Host(Capability::Types) => {}
            ImportKind::Host(capability) => {
                host_imports.push(capability.interface().to_string());
                if !grants.allows_import(capability) {
                    ungranted.push(import.to_string());
                }
            }
            ImportKind::Wasi => {}
            ImportKind::Unknown => unknown.push(import.to_string()),
        }
    }
    if !ungranted.is_empty() {
        return Err(LoadError::Ungranted {
            name: name.to_string(),
            ungranted,
        });
    }
    if !unknown.is_empty() {
        return Err(LoadError::UnknownImports {
            name: name.to_string(),
            unknown,
        });
    }
    Ok(host_imports)
}

/// Check one declared tool: its name, and schemas that are JSON objects within the size
/// limit. (Whether a schema is a valid JSON Schema is the catalog's check.)
pub(super) fn check_tool(tool: bindings::Tool, limits: &Limits) -> Result<ToolSpec, String> {
    check_tool_name(&tool.name).map_err(|e| e.to_string())?;
    let parse =
        |what: &str, text: &str| -> Result<serde_json::Map<String, serde_json::Value>, String> {
            if text.len() > limits.max_schema_bytes {
                return Err(format!(
                    "the {what} of `{}` is {} bytes; at most {} are allowed",
                    tool.name,
                    text.len(),
                    limits.max_schema_bytes
                ));
            }
            match serde_json::from_str(text) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                Ok(_) => Err(format!(
                    "the {what} of `{}` is not a JSON object",
                    tool.name
                )),
                Err(e) => Err(format!(
                    "the {what} of `{}` is not valid JSON: {e}",
                    tool.name
                )),
            }
        };
    let input_schema = parse("input schema", &tool.input_schema)?;
    let output_schema = match &tool.output_schema {
        Some(text) => Some(parse("output schema", text)?),
        None => None,
    };
    Ok(ToolSpec {
        name: tool.name.clone(),
        title: tool.title,
        description: tool.description,
        input_schema,
        output_schema,
        annotations: tool.annotations,
    })
}

/// Functions `component` imports, WASI's included (those of imported interfaces, and
/// bare ones): each is wired up again for every instance, so this is what a call's
/// instantiation cost grows with.
#[cfg(feature = "bench")]
pub(super) fn count_imported_functions(engine: &Engine, component: &Component) -> usize {
    use wasmtime::component::types::ComponentItem;
    component
        .component_type()
        .imports(engine)
        .map(|(_, item)| match item.ty {
            ComponentItem::ComponentFunc(_) => 1,
            ComponentItem::ComponentInstance(instance) => instance
                .exports(engine)
                .filter(|(_, export)| matches!(export.ty, ComponentItem::ComponentFunc(_)))
                .count(),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, input_schema: &str) -> bindings::Tool {
        bindings::Tool {
            name: name.into(),
            title: None,
            description: "d".into(),
            input_schema: input_schema.into(),
            output_schema: None,
            annotations: bindings::Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
        }
    }

    #[test]
    fn tool_names() {
        assert!(check_tool_name("orders_list").is_ok());
        assert!(check_tool_name("order-items_get2").is_ok());
        assert!(check_tool_name("orders.list").is_err());
        assert!(check_tool_name("").is_err());
        assert!(check_tool_name(&"a".repeat(65)).is_err());
        assert!(check_tool_name(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn a_tool_is_refused_for_a_bad_name_or_schema() {
        let limits = Limits::default();
        assert!(check_tool(tool("ok_tool", r#"{"type":"object"}"#), &limits).is_ok());
        let bad_name = check_tool(tool("bad.name", r#"{"type":"object"}"#), &limits);
        assert!(bad_name.unwrap_err().contains("bad.name"));
        let not_object = check_tool(tool("t", "[1]"), &limits).unwrap_err();
        assert!(not_object.contains("not a JSON object"), "{not_object}");
        let not_json = check_tool(tool("t", "{"), &limits).unwrap_err();
        assert!(not_json.contains("not valid JSON"), "{not_json}");
        let small = Limits {
            max_schema_bytes: 10,
            ..Limits::default()
        };
        let big = check_tool(tool("t", r#"{"type":"object"}"#), &small).unwrap_err();
        assert!(big.contains("at most 10"), "{big}");
    }
}
