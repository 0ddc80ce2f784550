//! Which third-party components may run: the operator's allow-list.
//!
//! A `.wasm` file in the components directory runs only if the config file has an entry
//! for it, naming the exact file (its SHA-256) and the most it may be granted:
//!
//! ```toml
//! [components.lowstock]
//! sha256 = "9f2c…"       # the file the operator reviewed
//! orderdesk = "read"     # absent capabilities are not granted
//! log = true
//! ```
//!
//! The manifest beside the file (`NAME.toml`) may only ask for less: the component gets
//! what both allow (without a manifest, what the entry allows). A file without an entry,
//! or whose content changed since it was trusted, is refused at start and on every
//! `--watch` reload, with the command that trusts it. `orderdesk-mcp components trust
//! X.wasm` shows what the file imports and asks for and prints (or, with `--write`,
//! writes) its entry. First-party components are trusted by the hash of the build that
//! embedded them and need no entry.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::config::ConfigFile;
use crate::grants::{Grants, OrderDeskAccess};

/// One `[components.NAME]` entry: the trusted file and the grants allowed to it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ComponentTrust {
    /// Lower-case hex SHA-256 of the trusted `.wasm` file.
    pub sha256: String,
    #[serde(default)]
    pub session: bool,
    #[serde(default)]
    pub vault: bool,
    #[serde(default)]
    pub orderdesk: OrderDeskAccess,
    #[serde(default)]
    pub log: bool,
    #[serde(default)]
    pub clocks: bool,
}

impl ComponentTrust {
    pub fn new(sha256: &str, grants: Grants) -> ComponentTrust {
        ComponentTrust {
            sha256: sha256.to_string(),
            session: grants.session,
            vault: grants.vault,
            orderdesk: grants.orderdesk,
            log: grants.log,
            clocks: grants.clocks,
        }
    }

    /// The most the trusted component may be granted.
    pub fn ceiling(&self) -> Grants {
        Grants {
            session: self.session,
            vault: self.vault,
            orderdesk: self.orderdesk,
            log: self.log,
            clocks: self.clocks,
        }
    }

    /// The entry as the config file spells it, header included.
    pub fn to_toml(&self, name: &str) -> String {
        let body = toml::to_string(self).expect("a trust entry serialises");
        format!("[components.{}]\n{body}", toml_key(name))
    }
}

/// A component file the operator has not allowed (or not in this form).
#[derive(Debug, Error)]
pub enum TrustError {
    #[error(
        "component `{name}` ({path}, sha256 {sha256}) is not trusted: review it, then run \
         `orderdesk-mcp components trust {path} --write` (or add its [components.{name}] \
         entry{config} by hand)"
    )]
    Untrusted {
        name: String,
        path: String,
        sha256: String,
        config: String,
    },
    #[error(
        "component `{name}` ({path}) changed since it was trusted: its sha256 is now \
         {sha256}, the config trusts {trusted}; review the new file, then run \
         `orderdesk-mcp components trust {path} --write`"
    )]
    Changed {
        name: String,
        path: String,
        sha256: String,
        trusted: String,
    },
}

/// The grants the component file at `path` (content hash `sha256`) may have, given
/// the operator's entry for `name` and the manifest beside it; refused when the
/// operator has not trusted exactly this file.
pub fn allowed_grants(
    config: &ConfigFile,
    name: &str,
    path: &Path,
    sha256: &str,
) -> anyhow::Result<Grants> {
    let shown = path.display().to_string();
    let Some(entry) = config.components.get(name) else {
        return Err(TrustError::Untrusted {
            name: name.to_string(),
            path: shown,
            sha256: sha256.to_string(),
            config: config
                .path
                .as_ref()
                .map(|p| format!(" to {}", p.display()))
                .unwrap_or_default(),
        }
        .into());
    };
    if !entry.sha256.trim().eq_ignore_ascii_case(sha256) {
        return Err(TrustError::Changed {
            name: name.to_string(),
            path: shown,
            sha256: sha256.to_string(),
            trusted: entry.sha256.clone(),
        }
        .into());
    }
    let ceiling = entry.ceiling();
    let requested = if path.with_extension("toml").exists() {
        Grants::for_file(path)?
    } else {
        ceiling
    };
    Ok(requested.within(ceiling))
}

/// The entry that allows the component file at `wasm` exactly as it is, with the grants
/// its manifest asks for (what `components trust` writes after its review).
pub fn entry_for_file(wasm: &Path) -> anyhow::Result<ComponentTrust> {
    use anyhow::Context;
    let bytes = std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let sha256 = crate::runtime::compile_cache::content_hash(&bytes);
    Ok(ComponentTrust::new(&sha256, Grants::for_file(wasm)?))
}

/// Write (or replace) the `[components.NAME]` entry in the config file at
/// `config_path`, keeping the rest of the file — comments included — as it was.
pub fn write_entry(config_path: &Path, name: &str, entry: &ComponentTrust) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config_path.display())),
    };
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML; fix it first", config_path.display()))?;
    let components = document
        .entry("components")
        .or_insert_with(|| {
            let mut table = toml_edit::Table::new();
            table.set_implicit(true);
            toml_edit::Item::Table(table)
        })
        .as_table_mut()
        .context("`components` in the config file is not a table")?;
    let fresh: toml_edit::DocumentMut = entry
        .to_toml(name)
        .parse()
        .expect("a trust entry is valid TOML");
    let table = fresh["components"][name].clone();
    components.insert(name, table);
    if let Some(parent) = config_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // Replace atomically: a half-written config would stop the next start.
    let temporary = config_path.with_extension("toml.tmp");
    std::fs::write(&temporary, document.to_string())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, config_path)
        .with_context(|| format!("cannot replace {}", config_path.display()))?;
    Ok(())
}

/// A table key, quoted when it is not a bare TOML key.
fn toml_key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ConfigFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn only_the_trusted_file_loads_and_the_manifest_only_narrows() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("lowstock.wasm");
        std::fs::write(&wasm, b"not really wasm").unwrap();
        let untrusted = allowed_grants(&ConfigFile::default(), "lowstock", &wasm, "ab")
            .unwrap_err()
            .to_string();
        assert!(untrusted.contains("components trust"), "{untrusted}");

        let trusted =
            config("[components.lowstock]\nsha256 = \"AB\"\norderdesk = \"read\"\nlog = true\n");
        let changed = allowed_grants(&trusted, "lowstock", &wasm, "cd")
            .unwrap_err()
            .to_string();
        assert!(
            changed.contains("changed since it was trusted"),
            "{changed}"
        );

        // No manifest: what the operator allows.
        let grants = allowed_grants(&trusted, "lowstock", &wasm, "ab").unwrap();
        assert_eq!(grants.orderdesk, OrderDeskAccess::Read);
        assert!(grants.log && !grants.session && !grants.vault);

        // A manifest asking for more gets no more than the entry allows.
        std::fs::write(
            dir.path().join("lowstock.toml"),
            "[grants]\norderdesk = \"write\"\nsession = true\nlog = false\n",
        )
        .unwrap();
        let grants = allowed_grants(&trusted, "lowstock", &wasm, "ab").unwrap();
        assert_eq!(grants.orderdesk, OrderDeskAccess::Read);
        assert!(!grants.session && !grants.log);
    }

    #[test]
    fn writing_an_entry_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "# the operator's notes\n[limits]\ncpu_ms = 100\n").unwrap();
        let grants = Grants {
            orderdesk: OrderDeskAccess::Read,
            ..Grants::LOG_ONLY
        };
        write_entry(&path, "lowstock", &ComponentTrust::new("aa", grants)).unwrap();
        write_entry(&path, "lowstock", &ComponentTrust::new("bb", grants)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# the operator's notes\n[limits]\ncpu_ms = 100\n"),
            "{text}"
        );
        let parsed = ConfigFile::load(&path).unwrap();
        assert_eq!(
            parsed.components["lowstock"],
            ComponentTrust::new("bb", grants)
        );
        assert_eq!(parsed.limits.cpu_ms, Some(100));
    }
}
