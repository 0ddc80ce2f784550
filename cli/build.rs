//! Build-time work for the `orderdesk-mcp` binary: the component SDK that `component
//! new` writes into a new project (`sdk.rs`), and link-time settings.

#[path = "build/sdk.rs"]
mod sdk;

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let components = manifest_dir
        .parent()
        .expect("cli/ sits in the workspace root")
        .join("components");
    sdk::embed(&components, &out_dir);
    pack_relative_relocations(&out_dir);
}

/// Links the binary with packed relative relocations (`DT_RELR`) when the toolchain
/// and C library support them (GNU ld 2.38+ or lld, glibc 2.36+): the binary is a
/// position-independent executable with some 100,000 relative relocations, which as
/// classic `.rela.dyn` entries take 1.6 MB that the loader reads at every start (and
/// that then stay resident); packed they take a few KB. Probed with a tiny link rather
/// than assumed, so an older toolchain just links the classic way.
fn pack_relative_relocations(out_dir: &Path) {
    let target = std::env::var("TARGET").unwrap_or_default();
    if !(target.contains("linux") && target.ends_with("gnu")) {
        return;
    }
    let source = out_dir.join("relr_probe.c");
    let binary = out_dir.join("relr_probe");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return;
    }
    let probe = Command::new("cc")
        .arg(&source)
        .args(["-pie", "-fPIE", "-Wl,-z,pack-relative-relocs", "-o"])
        .arg(&binary)
        .output();
    let supported = probe.is_ok_and(|out| {
        // GNU ld only warns about a `-z` keyword it does not know.
        out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("warning")
    });
    if supported {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
