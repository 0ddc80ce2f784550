//! Builds the first-party tool components (wasm32-wasip2) and hands them to the host
//! crate, which embeds them, so that `cargo build --release` alone yields one
//! self-contained `orderdesk-mcp` binary.
//!
//! The components live in their own workspace (`components/`) and are built by a nested
//! cargo with its own target directory: sharing the outer build's target directory would
//! deadlock on cargo's build lock.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The components embedded in the binary, by crate name.
const FIRST_PARTY: &[&str] = &["tenant", "stores", "orders", "inventory"];
const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    let components = root.join("components");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", components.display());
    println!(
        "cargo:rerun-if-changed={}",
        components.join("kit").join("wit").display()
    );
    println!("cargo:rerun-if-env-changed=ORDERDESK_MCP_PREBUILT_COMPONENTS");

    // Escape hatch for packagers who build the components separately.
    if let Ok(dir) = std::env::var("ORDERDESK_MCP_PREBUILT_COMPONENTS") {
        copy_components(Path::new(&dir), &out_dir);
        return;
    }

    ensure_wasm_target();
    let target_dir = component_target_dir(root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(components.join("Cargo.toml"))
        .args(["--target", WASM_TARGET, "--release", "--quiet"])
        .arg("--target-dir")
        .arg(&target_dir);
    for name in FIRST_PARTY {
        cmd.args(["-p", name]);
    }
    // The outer cargo's settings are for the host target (and, under `cargo clippy`, wrap
    // rustc in clippy-driver): none of them must leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_PROFILE_RELEASE_OPT_LEVEL",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo to build the components");
    assert!(
        status.success(),
        "building the tool components failed (see the errors above); \
         try `cargo build --manifest-path components/Cargo.toml --target {WASM_TARGET}`"
    );
    copy_components(&target_dir.join(WASM_TARGET).join("release"), &out_dir);
}

/// `target/wasm` beside the outer build's target dir.
fn component_target_dir(root: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>/out (or one level deeper when
    // cross-compiling); the workspace target dir is the ancestor named by CARGO_TARGET_DIR
    // or, by default, <root>/target.
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("wasm"),
        None => root.join("target").join("wasm"),
    }
}

fn ensure_wasm_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET)
        })
        .unwrap_or(true); // no rustup: let cargo report a missing target itself
    if !installed {
        let status = Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .status()
            .expect("failed to run rustup");
        assert!(status.success(), "`rustup target add {WASM_TARGET}` failed");
    }
}

fn copy_components(from: &Path, out_dir: &Path) {
    for name in FIRST_PARTY {
        let src = from.join(format!("{name}.wasm"));
        let dst = out_dir.join(format!("{name}.wasm"));
        let bytes = std::fs::read(&src).unwrap_or_else(|e| {
            panic!("component {} is missing ({e})", src.display());
        });
        // The compile cache is keyed by this hash: computed here, a start-up with a warm
        // cache never has to read the embedded bytes.
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        std::fs::write(&dst, &bytes).expect("writing to OUT_DIR");
        std::fs::write(out_dir.join(format!("{name}.wasm.sha256")), sha256)
            .expect("writing to OUT_DIR");
    }
}
