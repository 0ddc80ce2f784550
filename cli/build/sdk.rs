//! The component SDK that `orderdesk-mcp component new` writes into a new project, so
//! that it builds without this repository: the crates `orderdesk-tool-kit` (with its
//! WIT), `orderdesk-store-api` and `order-model`, their sources as they are here and a
//! manifest of their own each (the ones here inherit from the components workspace).
//!
//! Writes `$OUT_DIR/sdk.rs`: `SDK_FILES`, each file's path in the project (under
//! `sdk/`) and its text, included from the sources; and `LOCK_FILE`, the components
//! workspace's `Cargo.lock`, so that a new project builds with the dependency versions
//! this repository builds and tests the SDK with (cargo drops the entries it does not
//! need on the first build).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates of the SDK: directory under `components/`, and the package name, which
/// is also its directory under `sdk/` in a new project.
const CRATES: &[(&str, &str)] = &[
    ("kit", "orderdesk-tool-kit"),
    ("store-api", "orderdesk-store-api"),
    ("order-model", "order-model"),
];

pub fn embed(components: &Path, out_dir: &Path) {
    let workspace = read_toml(&components.join("Cargo.toml"));
    let mut files = String::from(
        "/// The SDK's files: path in a new project, text.\n\
         pub const SDK_FILES: &[(&str, &str)] = &[\n",
    );
    for (dir, package) in CRATES {
        let source = components.join(dir);
        println!("cargo:rerun-if-changed={}", source.display());
        let manifest = standalone_manifest(&read_toml(&source.join("Cargo.toml")), &workspace);
        let generated = out_dir.join("sdk").join(package);
        std::fs::create_dir_all(&generated).unwrap();
        let manifest_path = generated.join("Cargo.toml");
        std::fs::write(&manifest_path, manifest).unwrap();
        entry(
            &mut files,
            &format!("sdk/{package}/Cargo.toml"),
            &manifest_path,
        );
        for sub in ["src", "wit"] {
            for file in files_under(&source.join(sub)) {
                let relative = file.strip_prefix(&source).unwrap();
                let relative = relative.to_string_lossy().replace('\\', "/");
                entry(&mut files, &format!("sdk/{package}/{relative}"), &file);
            }
        }
    }
    files.push_str("];\n");
    let lock = components.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    writeln!(
        files,
        "/// The components workspace's `Cargo.lock`.\n\
         pub const LOCK_FILE: &str = include_str!({:?});",
        lock.display().to_string()
    )
    .unwrap();
    std::fs::write(out_dir.join("sdk.rs"), files).unwrap();
}

fn entry(files: &mut String, path: &str, source: &Path) {
    writeln!(
        files,
        "    ({path:?}, include_str!({:?})),",
        source.display().to_string()
    )
    .unwrap();
}

/// The `.rs` and `.wit` files under `dir`, sorted (so the output is stable).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if path
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "wit")
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()))
}

/// A crate's manifest with what it inherits from the components workspace written
/// out: package fields, dependency versions, and sibling crates as `../NAME` paths.
fn standalone_manifest(manifest: &toml::Table, workspace: &toml::Table) -> String {
    let shared_package = &workspace["workspace"]["package"];
    let shared_dependencies = &workspace["workspace"]["dependencies"];
    let mut manifest = manifest.clone();
    // The workspace's lints only allow wit-bindgen's `unsafe` glue, as rustc does by default.
    manifest.remove("lints");
    if let Some(toml::Value::Table(package)) = manifest.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if inherits(value) {
                *value = shared_package[key.as_str()].clone();
            }
        }
    }
    if let Some(toml::Value::Table(dependencies)) = manifest.get_mut("dependencies") {
        for (name, value) in dependencies.iter_mut() {
            if !inherits(value) {
                continue;
            }
            let mut spec = shared_dependencies[name.as_str()].clone();
            if let Some(table) = spec.as_table_mut()
                && table.contains_key("path")
            {
                table.insert("path".into(), toml::Value::String(format!("../{name}")));
            }
            *value = spec;
        }
    }
    format!(
        "# Written by `orderdesk-mcp component new` (orderdesk-mcp {}): the SDK's own\n\
         # manifest. To update the SDK, run `component new` of a newer orderdesk-mcp and\n\
         # copy its `sdk/` over this one.\n{}",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        toml::to_string(&manifest).unwrap()
    )
}

/// `key.workspace = true`.
fn inherits(value: &toml::Value) -> bool {
    value
        .get("workspace")
        .and_then(toml::Value::as_bool)
        .unwrap_or(false)
}
