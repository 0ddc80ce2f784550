//! Loading components: the built-in ones, then the components directory's, each with
//! its grants narrowed by the operator's config.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::config::ConfigFile;
use super::embedded::FIRST_PARTY;
use super::open::Setup;
use super::trust;
use crate::capabilities::CallContext;
use crate::catalog::{Catalog, CatalogError};
use crate::grants::Grants;
use crate::runtime::{ComponentOrigin, ComponentSource, LoadedComponent, Runtime};

/// A call context for a component's `list` at load time.
pub fn load_context(setup: &Setup, name: &str, grants: Grants) -> CallContext {
    CallContext::for_listing(setup.services.clone(), name, grants)
}

/// Load the built-in components (with their grants narrowed by the operator's config),
/// then every `.wasm` of the components directory. A component that fails to load stops
/// start-up with an error that names it.
pub async fn load_components(
    runtime: &Runtime,
    setup: &Setup,
    config: &ConfigFile,
    dir: Option<&Path>,
) -> anyhow::Result<Vec<Arc<LoadedComponent>>> {
    let mut loaded = Vec::new();
    for embedded in FIRST_PARTY {
        let grants = config.narrow(embedded.name, embedded.grants);
        let component = runtime
            .load(
                embedded.name,
                ComponentOrigin::Embedded,
                ComponentSource::embedded(embedded.wasm, embedded.sha256),
                grants,
                load_context(setup, embedded.name, grants),
            )
            .await?;
        loaded.push(Arc::new(component));
    }
    if let Some(dir) = dir {
        for path in component_files(dir)? {
            loaded.push(Arc::new(load_file(runtime, setup, config, &path).await?));
        }
    }
    Ok(loaded)
}

/// The `.wasm` files of a components directory, sorted by name.
pub fn component_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the components directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Load one component file, if the operator trusted exactly this file (`app::trust`),
/// with the grants of its manifest within what the operator allows, narrowed by the
/// config's `[grants]`.
pub async fn load_file(
    runtime: &Runtime,
    setup: &Setup,
    config: &ConfigFile,
    path: &Path,
) -> anyhow::Result<LoadedComponent> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = ComponentSource::from_bytes(bytes);
    let grants = trust::allowed_grants(config, &name, path, &source.sha256)?;
    let grants = config.narrow(&name, grants);
    let component = runtime
        .load(
            &name,
            ComponentOrigin::File(path.to_path_buf()),
            source,
            grants,
            load_context(setup, &name, grants),
        )
        .await?;
    Ok(component)
}

/// Build the catalog, refusing duplicate or invalid tool names.
pub fn build_catalog(components: &[Arc<LoadedComponent>]) -> Result<Catalog, CatalogError> {
    Catalog::build(components)
}
