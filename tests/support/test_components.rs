//! Test-only tool components (`components/testing/*`), built on demand for the host's
//! integration tests.
//!
//! Include it from an integration test of the host crate, e.g.
//! `#[path = "../../tests/support/test_components.rs"] mod test_components;`, then:
//!
//! ```ignore
//! let dir: &Path = /* the host's components directory for this test */;
//! test_components::copy_component(
//!     "hostile",
//!     dir,
//!     "hostile",
//!     Some("[grants]\norderdesk = \"read\"\nlog = true\n"),
//! );
//! ```
//!
//! | package       | wasm file          | tools                                                  |
//! |---------------|--------------------|--------------------------------------------------------|
//! | `hostile`     | `hostile.wasm`     | `hostile_echo`, `hostile_loop`, `hostile_memory`, `hostile_big_result`, `hostile_big_error`, `hostile_panic`, `hostile_bad_json`, `hostile_read_file`, `hostile_env`, `hostile_socket`, `hostile_post`, `hostile_get`, `hostile_log_flood` (imports `orderdesk`, `log`, `types`) |
//! | `duplicate`   | `duplicate.wasm`   | `tenant_info` (clashes with the first-party tool)      |
//! | `bloated`     | `bloated.wasm`     | `bloated_0` … `bloated_999`                            |
//! | `huge-schema` | `huge_schema.wasm` | `huge_schema_tool` (input schema ≈ 1 MB)               |
//! | `reload-v1`   | `reload_v1.wasm`   | `reload_probe` → `{"version":1}`                       |
//! | `reload-v2`   | `reload_v2.wasm`   | `reload_probe` → `{"version":2}`, `reload_added` → `{"added":true}` |
//!
//! All but `hostile` import nothing from `orderdesk:mcp` except what they export (`tools`).
//! Every component also imports WASI interfaces (std's runtime), which the host answers
//! with its deny-everything WASI context.

// Each integration test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const WASM_TARGET: &str = "wasm32-wasip2";

/// The cargo packages of `components/testing/`.
pub const TEST_PACKAGES: &[&str] = &[
    "hostile",
    "duplicate",
    "bloated",
    "huge-schema",
    "reload-v1",
    "reload-v2",
    "template",
];

/// The repository root (this file is compiled as part of the `host/` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate sits in the repository root")
        .to_path_buf()
}

/// Build the test components (once per process) and return the directory holding their
/// `.wasm` files: `<repo>/target/wasm/wasm32-wasip2/release`.
///
/// Panics with cargo's output if the build fails.
pub fn test_components_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(build_test_components).clone()
}

fn build_test_components() -> PathBuf {
    let root = repo_root();
    let target_dir = root.join("target").join("wasm");
    ensure_wasm_target();

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .args(["--release", "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--manifest-path")
        .arg(root.join("components").join("Cargo.toml"));
    for package in TEST_PACKAGES {
        cmd.args(["-p", package]);
    }
    // Nothing of the outer cargo (the host target's flags, clippy's or a coverage tool's
    // rustc wrapper, the test crate's package metadata) may leak into the wasm build.
    // Mirrors (and extends) the list host/build.rs strips.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
        "CARGO_RUSTC_CURRENT_DIR",
        "CARGO_MAKEFLAGS",
        "OUT_DIR",
    ] {
        cmd.env_remove(var);
    }
    const STRIPPED_PREFIXES: &[&str] = &[
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_MANIFEST_",
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_PROFILE_",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if STRIPPED_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }

    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("failed to run cargo to build the test components: {e}"));
    if !output.status.success() {
        panic!(
            "building the test components failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let dir = target_dir.join(WASM_TARGET).join("release");
    for package in TEST_PACKAGES {
        let wasm = dir.join(format!("{}.wasm", package.replace('-', "_")));
        assert!(
            wasm.is_file(),
            "cargo succeeded but {} is missing",
            wasm.display()
        );
    }
    dir
}

/// Install the `wasm32-wasip2` target with rustup when it is missing (as host/build.rs).
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

/// Copy the test component `name` into a components directory as `to_dir/<as_name>.wasm`
/// and, when `manifest_toml` is given, write its grants manifest `to_dir/<as_name>.toml`
/// (written first, so the grants are in place when the `.wasm` appears). Without
/// `manifest_toml` an existing `<as_name>.toml` is left as it is. Builds the components
/// first if needed; creates `to_dir` if missing.
///
/// `name` is the wasm file stem (`"huge_schema"`, `"reload_v1"`); the package name
/// (`"huge-schema"`) is accepted too. Both files are written to a temporary name and
/// renamed into place, so a watching host never sees a half-written component.
///
/// # Manifest format (host/src/grants.rs)
///
/// A `[grants]` table; unknown keys, at the top level or in the table, make the manifest
/// invalid (`deny_unknown_fields`), and so does anything else that is not this shape:
///
/// ```toml
/// [grants]
/// session = true        # bool, import `session`
/// vault = true          # bool, import `vault`
/// orderdesk = "read"    # "none" | "read" (GET only) | "write" (GET/POST/PUT/DELETE)
/// log = true            # bool, import `log`
/// ```
///
/// Inside `[grants]` every key is optional and defaults to `false` / `"none"`, so
/// `[grants]\norderdesk = "read"\n` grants **no** `log`. A missing `.toml` file, or one
/// without a `[grants]` table, means `log` only. `types` is always allowed; WASI imports
/// need no grant. E.g. the `hostile` component needs
/// `"[grants]\norderdesk = \"write\"\nlog = true\n"` to load with full access; with
/// `orderdesk = "read"` it loads but `hostile_post` answers `access-denied`.
pub fn copy_component(name: &str, to_dir: &Path, as_name: &str, manifest_toml: Option<&str>) {
    let from = test_components_dir().join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::create_dir_all(to_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", to_dir.display()));
    if let Some(toml) = manifest_toml {
        write_atomically(&to_dir.join(format!("{as_name}.toml")), |tmp| {
            std::fs::write(tmp, toml)
        });
    }
    write_atomically(&to_dir.join(format!("{as_name}.wasm")), |tmp| {
        std::fs::copy(&from, tmp).map(|_| ())
    });
}

/// Write `path` through `write(tmp)` on a hidden temporary file beside it, then rename.
fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a file name");
    let tmp = path.with_file_name(format!(".{file_name}.part"));
    write(&tmp).unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), path.display()));
}
