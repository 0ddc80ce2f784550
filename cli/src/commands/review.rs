//! What an operator sees before trusting a third-party component, shared by
//! `components trust` (which then writes the entry) and `component pack` (which writes
//! a bundle for the operator): the file's size and SHA-256, the grants its manifest
//! asks for, and the load-time checks' report (imports, tools).
//!
//! A bundle is a directory with `NAME.wasm`, its manifest `NAME.toml` (if any) and
//! `NAME.sha256` (`sha256sum` format); the checksum is verified whenever a `.wasm`
//! with a `.sha256` beside it is reviewed.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use orderdesk_harness as harness;
use orderdesk_host::app::trust::ComponentTrust;
use orderdesk_host::grants::Grants;
use orderdesk_host::runtime::compile_cache::content_hash;

/// A component file, checked and described.
pub struct Review {
    pub name: String,
    pub wasm: PathBuf,
    pub size: usize,
    pub sha256: String,
    pub requested: Grants,
    report: String,
}

impl Review {
    /// Review `path`: a `.wasm` file or a bundle directory holding one. `name`
    /// overrides the file stem.
    pub async fn of(path: &Path, name: Option<&str>) -> anyhow::Result<Review> {
        let wasm = if path.is_dir() {
            single_wasm_in(path)?
        } else {
            path.to_path_buf()
        };
        let bytes =
            std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
        let sha256 = content_hash(&bytes);
        let checksum = wasm.with_extension("sha256");
        if checksum.exists() {
            let text = std::fs::read_to_string(&checksum)
                .with_context(|| format!("cannot read {}", checksum.display()))?;
            let packed = text.split_whitespace().next().unwrap_or_default();
            if !packed.eq_ignore_ascii_case(&sha256) {
                bail!(
                    "{} does not match its checksum {} (packed {packed}, now {sha256}): the \
                     file changed after it was packed; ask its author for the bundle again",
                    wasm.display(),
                    checksum.display()
                );
            }
        }
        let name = match name {
            Some(name) => name.to_string(),
            None => wasm
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .context("give the component file's path, e.g. lowstock.wasm")?,
        };
        let requested = Grants::for_file(&wasm)?;
        // The same checks a load makes (imports against the requested grants, tool
        // names, schemas), against the mock host: a file that would not load is not
        // trusted or packed.
        let report = harness::check_component(&wasm, requested)
            .await
            .with_context(|| format!("{} is not a component this host can load", wasm.display()))?
            .to_string();
        Ok(Review {
            name,
            size: bytes.len(),
            wasm,
            sha256,
            requested,
            report,
        })
    }

    /// The entry that allows this file with what it asks for.
    pub fn entry(&self) -> ComponentTrust {
        ComponentTrust::new(&self.sha256, self.requested)
    }

    pub fn print(&self) {
        let manifest = self.wasm.with_extension("toml");
        println!("file:     {} ({} bytes)", self.wasm.display(), self.size);
        println!("sha256:   {}", self.sha256);
        println!(
            "asks for: {} ({})",
            self.requested.describe(),
            if manifest.exists() {
                format!("from {}", manifest.display())
            } else {
                "no manifest beside it: log only".to_string()
            }
        );
        print!("{}", self.report);
    }

    /// Write the bundle into `out`: the `.wasm`, its manifest, its checksum.
    pub fn write_bundle(&self, out: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let wasm = out.join(format!("{}.wasm", self.name));
        if wasm != self.wasm {
            std::fs::copy(&self.wasm, &wasm)
                .with_context(|| format!("cannot write {}", wasm.display()))?;
        }
        let manifest = self.wasm.with_extension("toml");
        if manifest.exists() {
            let to = out.join(format!("{}.toml", self.name));
            if to != manifest {
                std::fs::copy(&manifest, &to)
                    .with_context(|| format!("cannot write {}", to.display()))?;
            }
        }
        let checksum = out.join(format!("{}.sha256", self.name));
        std::fs::write(&checksum, format!("{}  {}.wasm\n", self.sha256, self.name))
            .with_context(|| format!("cannot write {}", checksum.display()))?;
        Ok(wasm)
    }
}

fn single_wasm_in(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "{} holds no .wasm file (a bundle from `component pack` holds one)",
            dir.display()
        ),
        _ => bail!(
            "{} holds several .wasm files: name the one to review",
            dir.display()
        ),
    }
}
