//! Grants: which host interfaces a component may import.
//!
//! Every import of a host interface is a capability. A component comes with the grants
//! it asks for (first-party components carry theirs; a third-party `NAME.wasm` reads them
//! from `NAME.toml` beside it, and gets only `log` without one). The host refuses to load
//! a component that imports more than it was granted, and checks the grant again on
//! every host call.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The WIT package every host interface belongs to.
pub const WIT_PACKAGE: &str = "orderdesk:mcp";
/// The WIT package version this host implements.
pub const WIT_VERSION: &str = "0.1.0";

/// Access to OrderDesk through the host's gateway.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OrderDeskAccess {
    /// No access.
    #[default]
    None,
    /// GET requests only.
    Read,
    /// GET, POST, PUT and DELETE.
    Write,
}

/// What a component may import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// `session`: who is calling, the active store, progress reports.
    pub session: bool,
    /// `vault`: authenticate tenants, register and resolve stores.
    pub vault: bool,
    /// `orderdesk`: requests to OrderDesk for the tenant's stores.
    pub orderdesk: OrderDeskAccess,
    /// `log`: log lines into the host's log.
    pub log: bool,
    /// WASI clocks that tell the real time. Without it a component still links (Rust's
    /// std imports the clocks) but reads a frozen clock: wall time 1970-01-01T00:00:00Z,
    /// monotonic time 0.
    pub clocks: bool,
}

/// A host interface of the WIT package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    Types,
    Session,
    Vault,
    OrderDesk,
    Log,
}

impl Capability {
    /// The WIT interface name (`orderdesk:mcp/NAME@version`).
    pub fn interface(self) -> &'static str {
        match self {
            Capability::Types => "types",
            Capability::Session => "session",
            Capability::Vault => "vault",
            Capability::OrderDesk => "orderdesk",
            Capability::Log => "log",
        }
    }

    fn from_interface(name: &str) -> Option<Capability> {
        Some(match name {
            "types" => Capability::Types,
            "session" => Capability::Session,
            "vault" => Capability::Vault,
            "orderdesk" => Capability::OrderDesk,
            "log" => Capability::Log,
            _ => return None,
        })
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// A grants manifest that cannot be used.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("invalid manifest {path}: {source}")]
    Invalid {
        path: std::path::PathBuf,
        source: Box<toml::de::Error>,
    },
}

/// The manifest beside a third-party component: `NAME.toml` next to `NAME.wasm`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub grants: Option<Grants>,
}

impl Grants {
    /// Only logging: what a component without a manifest gets.
    pub const LOG_ONLY: Grants = Grants {
        session: false,
        vault: false,
        orderdesk: OrderDeskAccess::None,
        log: true,
        clocks: false,
    };

    /// What both `self` and `ceiling` allow.
    pub fn within(self, ceiling: Grants) -> Grants {
        Grants {
            session: self.session && ceiling.session,
            vault: self.vault && ceiling.vault,
            orderdesk: self.orderdesk.min(ceiling.orderdesk),
            log: self.log && ceiling.log,
            clocks: self.clocks && ceiling.clocks,
        }
    }

    /// Whether this grant covers importing `capability` at all.
    pub fn allows_import(&self, capability: Capability) -> bool {
        match capability {
            // `types` holds only type definitions: importing it grants nothing.
            Capability::Types => true,
            Capability::Session => self.session,
            Capability::Vault => self.vault,
            Capability::OrderDesk => self.orderdesk != OrderDeskAccess::None,
            Capability::Log => self.log,
        }
    }

    /// Read the grants of the component at `wasm_path` from `NAME.toml` beside it.
    pub fn for_file(wasm_path: &Path) -> Result<Grants, ManifestError> {
        let manifest_path = wasm_path.with_extension("toml");
        if !manifest_path.exists() {
            return Ok(Grants::LOG_ONLY);
        }
        Grants::from_manifest(&manifest_path)
    }

    /// The grants of the manifest at `manifest_path` (a missing file is an error here:
    /// the caller named it).
    pub fn from_manifest(manifest_path: &Path) -> Result<Grants, ManifestError> {
        let text =
            std::fs::read_to_string(manifest_path).map_err(|source| ManifestError::Unreadable {
                path: manifest_path.to_path_buf(),
                source,
            })?;
        let manifest: Manifest =
            toml::from_str(&text).map_err(|source| ManifestError::Invalid {
                path: manifest_path.to_path_buf(),
                source: Box::new(source),
            })?;
        Ok(manifest.grants.unwrap_or(Grants::LOG_ONLY))
    }

    /// A one-line description, e.g. `session, vault, orderdesk(read), log`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.session {
            parts.push("session".to_string());
        }
        if self.vault {
            parts.push("vault".to_string());
        }
        match self.orderdesk {
            OrderDeskAccess::None => {}
            OrderDeskAccess::Read => parts.push("orderdesk(read)".to_string()),
            OrderDeskAccess::Write => parts.push("orderdesk(write)".to_string()),
        }
        if self.log {
            parts.push("log".to_string());
        }
        if self.clocks {
            parts.push("clocks".to_string());
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// What an import name (as the component model spells it) refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// One of our host interfaces.
    Host(Capability),
    /// A WASI interface (answered by an empty, deny-everything WASI context).
    Wasi,
    /// Something this host does not provide (another package, another version).
    Unknown,
}

/// Classify an import such as `orderdesk:mcp/vault@0.1.0` or `wasi:cli/stdout@0.2.6`.
pub fn classify_import(name: &str) -> ImportKind {
    if name.starts_with("wasi:") {
        return ImportKind::Wasi;
    }
    let Some(rest) = name
        .strip_prefix(WIT_PACKAGE)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return ImportKind::Unknown;
    };
    let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
    if version != WIT_VERSION {
        return ImportKind::Unknown;
    }
    Capability::from_interface(interface).map_or(ImportKind::Unknown, ImportKind::Host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_imports() {
        assert_eq!(
            classify_import("orderdesk:mcp/vault@0.1.0"),
            ImportKind::Host(Capability::Vault)
        );
        assert_eq!(classify_import("wasi:cli/stdout@0.2.6"), ImportKind::Wasi);
        assert_eq!(
            classify_import("orderdesk:mcp/vault@0.2.0"),
            ImportKind::Unknown
        );
        assert_eq!(classify_import("evil:net/socket"), ImportKind::Unknown);
    }

    #[test]
    fn manifest_parses_and_defaults_to_log_only() {
        let m: Manifest = toml::from_str("[grants]\norderdesk = \"read\"\nlog = true\n").unwrap();
        let g = m.grants.unwrap();
        assert_eq!(g.orderdesk, OrderDeskAccess::Read);
        assert!(!g.vault);
        assert!(g.allows_import(Capability::OrderDesk));
        assert!(!g.allows_import(Capability::Vault));
        assert!(toml::from_str::<Manifest>("[grants]\nsockets = true\n").is_err());
        assert_eq!(Grants::LOG_ONLY.describe(), "log");
    }
}
