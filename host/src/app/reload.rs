//! Live reload of the components directory (`serve --watch`): an added, changed or
//! removed `.wasm` (or its grants manifest) is loaded, reloaded or unloaded without a
//! restart; a component that fails to load is reported and skipped; the client gets
//! `notifications/tools/list_changed` whenever the tool list changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

use super::components::{component_files, load_file};
use super::config::ConfigFile;
use super::open::Setup;
use crate::catalog::Catalog;
use crate::mcp::McpServer;
use crate::runtime::{ComponentOrigin, LoadedComponent, Runtime};

/// Changes closer together than this are handled as one (an editor or `cp` writes a
/// file in several steps).
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Keeps the directory watched until dropped.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watch `dir`; `current` is what was loaded at start-up (built-in and file components).
pub fn watch(
    dir: PathBuf,
    server: McpServer,
    runtime: Arc<Runtime>,
    setup: Arc<Setup>,
    config: Arc<ConfigFile>,
    current: Vec<Arc<LoadedComponent>>,
) -> anyhow::Result<WatchHandle> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })
    .context("cannot watch the components directory")?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "watching the components directory");
    let task = tokio::spawn(async move {
        let mut state = Reloader::new(current);
        while rx.recv().await.is_some() {
            // Let the burst of events of one change settle, then rescan once.
            tokio::time::sleep(DEBOUNCE).await;
            while rx.try_recv().is_ok() {}
            if let Some(catalog) = state.rescan(&dir, &runtime, &setup, &config).await {
                server.replace_catalog(catalog).await;
            }
        }
    });
    Ok(WatchHandle {
        _watcher: watcher,
        task,
    })
}

/// What is loaded, and from which file content.
struct Reloader {
    builtin: Vec<Arc<LoadedComponent>>,
    /// Path → (hash of the wasm and manifest bytes, the component).
    files: BTreeMap<PathBuf, (String, Arc<LoadedComponent>)>,
    /// Files that failed to load, by the fingerprint that failed: not retried (nor
    /// reported again) until they change.
    failed: BTreeMap<PathBuf, String>,
    /// Loaded files left out of the catalog because their tool names clash with a
    /// component before them; reported once, taken in when the clash goes away.
    clashing: BTreeSet<PathBuf>,
}

impl Reloader {
    fn new(current: Vec<Arc<LoadedComponent>>) -> Reloader {
        let mut builtin = Vec::new();
        let mut files = BTreeMap::new();
        for component in current {
            match &component.origin {
                ComponentOrigin::Embedded => builtin.push(component),
                ComponentOrigin::File(path) => {
                    let fingerprint = fingerprint(path).unwrap_or_default();
                    files.insert(path.clone(), (fingerprint, component));
                }
            }
        }
        Reloader {
            builtin,
            files,
            failed: BTreeMap::new(),
            clashing: BTreeSet::new(),
        }
    }

    /// Bring the loaded set in line with the directory. Returns the new catalog when
    /// the set changed.
    async fn rescan(
        &mut self,
        dir: &Path,
        runtime: &Runtime,
        setup: &Setup,
        config: &ConfigFile,
    ) -> Option<Catalog> {
        let paths = match component_files(dir) {
            Ok(paths) => paths,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "cannot rescan the components directory");
                return None;
            }
        };
        // Read the config again: the operator trusts a new version of a component
        // (`components trust --write`) before copying it in.
        let config = config.reread().unwrap_or_else(|error| {
            tracing::warn!(error = %error, "cannot read the config file again; using the one read at start");
            config.clone()
        });
        let config = &config;
        let mut changed = false;
        let before: Vec<PathBuf> = self.files.keys().cloned().collect();
        for path in before {
            if !paths.contains(&path) {
                self.files.remove(&path);
                tracing::info!(path = %path.display(), "component removed: unloaded");
                changed = true;
            }
        }
        self.failed.retain(|path, _| paths.contains(path));
        for path in paths {
            let Ok(fingerprint) = fingerprint(&path) else {
                continue; // vanished between listing and reading
            };
            if self
                .files
                .get(&path)
                .is_some_and(|(known, _)| *known == fingerprint)
            {
                continue;
            }
            if self.failed.get(&path) == Some(&fingerprint) {
                continue; // reported when it failed; retried once it changes
            }
            // A changed file is never served stale: the old version goes whatever happens
            // to the new one.
            if self.files.remove(&path).is_some() {
                changed = true;
            }
            match load_file(runtime, setup, config, &path).await {
                Ok(component) => {
                    tracing::info!(path = %path.display(), tools = component.tools.len(), "component (re)loaded");
                    self.failed.remove(&path);
                    self.files.insert(path, (fingerprint, Arc::new(component)));
                    changed = true;
                }
                Err(error) => {
                    tracing::error!(path = %path.display(), error = %format!("{error:#}"), "component skipped: it failed to load");
                    self.failed.insert(path, fingerprint);
                }
            }
        }
        changed.then(|| self.catalog())
    }

    /// The catalog of what is loaded; a file component whose tool names clash with a
    /// component before it is left out (and reported when it starts to clash).
    fn catalog(&mut self) -> Catalog {
        let mut accepted: Vec<Arc<LoadedComponent>> = self.builtin.clone();
        let mut clashing = BTreeSet::new();
        for (path, (_, component)) in &self.files {
            accepted.push(component.clone());
            if let Err(error) = Catalog::build(&accepted) {
                if !self.clashing.contains(path) {
                    tracing::error!(path = %path.display(), error = %error, "component skipped");
                }
                accepted.pop();
                clashing.insert(path.clone());
            }
        }
        self.clashing = clashing;
        Catalog::build(&accepted).expect("every accepted component was checked")
    }
}

/// Hash of a component file and its manifest: what decides whether to reload.
fn fingerprint(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(std::fs::read(path)?);
    if let Ok(manifest) = std::fs::read(path.with_extension("toml")) {
        hasher.update(manifest);
    }
    Ok(hex::encode(hasher.finalize()))
}
