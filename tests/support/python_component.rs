//! The Python tool component `components/python/order_summary` (built with componentize-py),
//! built on demand for the host's integration tests.
//!
//! Include it from an integration test of the host crate, e.g.
//! `#[path = "support/python_component.rs"] mod python_component;`, then
//! `python_component::python_component()` is the path of the built `.wasm`.
//!
//! The build needs `python3` (or the interpreter named by `$PYTHON`) and, the first time,
//! PyPI: a virtualenv in `<repo>/target/py-venv` gets componentize-py at the version
//! pinned in `components/python/requirements.txt`. The component is rebuilt when it is
//! missing or older than one of its inputs (`app.py`, its `wit/` world, the host's WIT).

// Each integration test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The world the component is built against (`components/python/order_summary/wit/`):
/// `tool-group` narrowed to the `orderdesk` import.
const WORLD: &str = "orderdesk:order-summary/order-summary";

/// The repository root (this file is compiled as part of the `host/` crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate sits in the repository root")
        .to_path_buf()
}

/// Build the Python component (once per process) and return the path of
/// `<repo>/target/python/order_summary.wasm`.
///
/// Panics with the failing tool's output if the virtualenv, the install or the build
/// fails.
pub fn python_component() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let root = repo_root();
    let venv = root.join("target").join("py-venv");
    let requirements = root.join("components/python/requirements.txt");
    let source_dir = root.join("components/python/order_summary");
    let world_dir = source_dir.join("wit");
    let out_dir = root.join("target").join("python");
    let wasm = out_dir.join("order_summary.wasm");

    let componentize_py = ensure_componentize_py(&venv, &requirements);

    let inputs = [
        source_dir.join("app.py"),
        world_dir.join("world.wit"),
        root.join("components/kit/wit/orderdesk-mcp.wit"),
    ];
    if is_up_to_date(&wasm, &inputs) {
        return wasm;
    }

    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    // Build to a temporary name and rename: a half-written component is never left
    // behind as if it were up to date.
    let tmp = out_dir.join(format!(".order_summary.{}.wasm.part", std::process::id()));
    let mut cmd = Command::new(&componentize_py);
    cmd.current_dir(&root)
        .arg("-d")
        .arg(root.join("components/kit/wit"))
        .arg("-d")
        .arg(&world_dir)
        .args(["-w", WORLD, "componentize", "app", "-p"])
        .arg(&source_dir)
        .arg("-o")
        .arg(&tmp)
        // componentize-py adds `$VIRTUAL_ENV`'s site-packages to the app's path: make it
        // ours, never whatever environment the tests happen to run in.
        .env("VIRTUAL_ENV", &venv)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME");
    let output = run(cmd, "componentize-py componentize");
    if !tmp.is_file() {
        panic!(
            "componentize-py succeeded but wrote no {}:\n{}",
            tmp.display(),
            describe(&output)
        );
    }
    std::fs::rename(&tmp, &wasm)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), wasm.display()));
    wasm
}

/// The tests' `componentize-py` (`<repo>/target/py-venv`) at the pinned version,
/// installed on first use.
pub fn componentize_py() -> PathBuf {
    let root = repo_root();
    ensure_componentize_py(
        &root.join("target").join("py-venv"),
        &root.join("components/python/requirements.txt"),
    )
}

/// The venv's `componentize-py`, creating the venv and installing the pinned version
/// when it is missing (or another version is installed).
fn ensure_componentize_py(venv: &Path, requirements: &Path) -> PathBuf {
    let bin = venv.join("bin");
    let componentize_py = bin.join("componentize-py");
    let pinned = pinned_version(requirements);

    if !bin.join("python").exists() {
        let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
        let mut cmd = Command::new(python);
        cmd.args(["-m", "venv"]).arg(venv);
        run(cmd, "python3 -m venv");
    }

    let installed = installed_version(&componentize_py);
    let wanted = match (&installed, &pinned) {
        (None, _) => true,
        (Some(have), Some(want)) => have != want,
        (Some(_), None) => false,
    };
    if wanted {
        let mut cmd = Command::new(bin.join("python"));
        cmd.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
        ])
        .arg(requirements)
        .env_remove("PIP_REQUIRE_VIRTUALENV");
        run(cmd, "pip install -r components/python/requirements.txt");
        assert!(
            componentize_py.is_file(),
            "pip succeeded but {} is missing",
            componentize_py.display()
        );
    }
    componentize_py
}

/// `componentize-py --version` (`componentize-py 0.25.1` → `0.25.1`), if it runs.
fn installed_version(componentize_py: &Path) -> Option<String> {
    if !componentize_py.is_file() {
        return None;
    }
    let output = Command::new(componentize_py)
        .arg("--version")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .last()
        .map(str::to_string)
}

/// The version pinned as `componentize-py==X` in the requirements file.
fn pinned_version(requirements: &Path) -> Option<String> {
    let text = std::fs::read_to_string(requirements)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements.display()));
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .find_map(|line| line.strip_prefix("componentize-py=="))
        .map(|v| v.trim().to_string())
}

/// Whether `output` exists and is at least as new as every input.
fn is_up_to_date(output: &Path, inputs: &[PathBuf]) -> bool {
    let modified = |path: &Path| -> Option<SystemTime> {
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    };
    let Some(built) = modified(output) else {
        return false;
    };
    inputs.iter().all(|input| match modified(input) {
        Some(changed) => changed <= built,
        None => panic!("missing input of the Python component: {}", input.display()),
    })
}

/// Run `cmd`; panic with its output unless it succeeds.
fn run(mut cmd: Command, what: &str) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("failed to run `{what}` ({cmd:?}): {e}"));
    if !output.status.success() {
        panic!(
            "`{what}` failed ({}):\n{}",
            output.status,
            describe(&output)
        );
    }
    output
}

fn describe(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
