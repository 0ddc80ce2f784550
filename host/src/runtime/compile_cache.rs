//! On-disk cache of compiled (native) component code.
//!
//! Compiling a component with Cranelift takes hundreds of milliseconds; deserialising
//! its precompiled code takes under one. Entries are keyed by the SHA-256 of the
//! component's bytes *and* the engine's compatibility hash, so a changed component or a
//! different wasmtime/config never loads stale code.
//!
//! The host maps an entry's code executable, so an entry planted by someone who can
//! write the cache directory would run as the host. Each entry therefore starts with a
//! tag over the code, made by a [`CodeAuthenticator`] (the vault: HMAC-SHA256 under a
//! key derived from the server key, which such a person may not have — it can come
//! from the environment); an entry whose tag does not verify is discarded and the
//! component compiled afresh. The tag is checked on the very bytes that are then
//! deserialised (read once into memory), so the file cannot change in between.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component's native code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Deserialised from the on-disk cache.
    Hit,
    /// Compiled now (and written to the cache when it is enabled).
    Compiled,
}

impl CacheOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Compiled => "compiled",
        }
    }
}

/// Makes the tags that authenticate cache entries (the vault implements it).
pub trait CodeAuthenticator: Send + Sync {
    fn tag(&self, code: &[u8]) -> [u8; 32];
}

/// Where compiled code is cached and who vouches for it.
#[derive(Clone)]
pub struct CacheSetup {
    pub dir: PathBuf,
    pub authenticator: Arc<dyn CodeAuthenticator>,
}

/// Bytes of the tag at the start of every entry.
const TAG_LEN: usize = 32;

/// The cache directory, or none (compile every time).
#[derive(Clone)]
pub struct CompileCache {
    setup: Option<CacheSetup>,
    /// The engine's compatibility hash and which key tags the entries: a sandbox run
    /// (its own server key) and a real one keep separate entries rather than
    /// overwriting each other's.
    engine_key: String,
}

impl std::fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileCache")
            .field("dir", &self.setup.as_ref().map(|s| &s.dir))
            .finish_non_exhaustive()
    }
}

/// Hex SHA-256 of a component's bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl CompileCache {
    pub fn new(engine: &Engine, setup: Option<CacheSetup>) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let key_id = setup.as_ref().map_or_else(String::new, |s| {
            format!("-{}", hex::encode(&s.authenticator.tag(b"key id")[..4]))
        });
        CompileCache {
            setup,
            engine_key: format!("{:016x}{key_id}", hasher.finish()),
        }
    }

    fn entry_path(&self, hash: &str) -> Option<PathBuf> {
        let dir = &self.setup.as_ref()?.dir;
        // `.tcwasm`: tagged entries (an older host's untagged `.cwasm` files are never
        // read, so never trusted).
        Some(dir.join(format!("{hash}-{}.tcwasm", self.engine_key)))
    }

    /// Load the component from the cache, or compile it and store the result.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        hash: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        if let (Some(setup), Some(path)) = (&self.setup, self.entry_path(hash))
            && path.exists()
        {
            match deserialize(engine, &path, setup.authenticator.as_ref()) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(e) => {
                    // A truncated, foreign or forged file: drop it and compile afresh.
                    tracing::warn!(path = %path.display(), error = %e, "discarding unusable compile-cache entry");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        if let (Some(setup), Some(path)) = (&self.setup, self.entry_path(hash))
            && let Err(e) = store(&component, &path, setup.authenticator.as_ref())
        {
            tracing::warn!(path = %path.display(), error = %e, "could not write the compile cache");
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

#[allow(unsafe_code)]
fn deserialize(
    engine: &Engine,
    path: &Path,
    authenticator: &dyn CodeAuthenticator,
) -> wasmtime::Result<Component> {
    let entry = std::fs::read(path)?;
    let (tag, code) = entry
        .split_at_checked(TAG_LEN)
        .ok_or_else(|| wasmtime::format_err!("shorter than its tag"))?;
    if !constant_time_eq(tag, &authenticator.tag(code)) {
        return Err(wasmtime::format_err!(
            "its tag does not verify (not written by this host with this server key)"
        ));
    }
    // SAFETY: `deserialize` trusts that the bytes hold code this engine produced. They
    // carry a tag that only a holder of the server key can make, checked just above on
    // these very bytes; wasmtime still checks the header, version and engine
    // compatibility before using them.
    unsafe { Component::deserialize(engine, code) }
}

/// Compares without stopping at the first difference, so the time taken says nothing
/// about how much of a forged tag was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn store(
    component: &Component,
    path: &Path,
    authenticator: &dyn CodeAuthenticator,
) -> std::io::Result<()> {
    let code = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut bytes = Vec::with_capacity(TAG_LEN + code.len());
    bytes.extend_from_slice(&authenticator.tag(&code));
    bytes.extend_from_slice(&code);
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    // Write to a temporary name and rename, so a concurrent reader or a crash never sees
    // a half-written entry.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
