//! Running commands as a newcomer would, in a fresh directory outside the repository:
//! the built `orderdesk-mcp` first on `PATH`, none of the caller's orderdesk-mcp or
//! cargo settings, the data directory inside the work directory. For the tests that run
//! documented commands as written (`quickstart.rs`, `scaffold.rs`).

// Each integration test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (this file is compiled into tests of the `cli/` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository root")
        .to_path_buf()
}

/// A fresh directory `orderdesk-NAME-PID` in the system's temporary directory.
pub fn work_dir(name: &str) -> PathBuf {
    let work = std::env::temp_dir().join(format!("orderdesk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    work
}

/// The environment of a newcomer's shell, with the data directory in `work`.
pub fn environment(command: &mut Command, work: &Path) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_orderdesk-mcp"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    command.env("PATH", std::env::join_paths(dirs).unwrap());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ORDERDESK_") {
            command.env_remove(&name);
        }
    }
    command.env("ORDERDESK_MCP_DATA_DIR", work.join("data"));
    // The cargo running these tests is not the newcomer's: nothing of its build may
    // leak into theirs.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let cargo_setting = name.starts_with("CARGO") && name != "CARGO_HOME";
        let rust_setting =
            name.starts_with("RUST") && !["RUSTUP_HOME", "RUSTUP_TOOLCHAIN"].contains(&&*name);
        if cargo_setting || rust_setting {
            command.env_remove(name.as_ref());
        }
    }
}

/// Point a new project's `target/` at `target/quickstart-wasm` of this repository, so
/// that its dependencies are compiled once for every run of these tests rather than on
/// each (the commands themselves stay the documented ones).
pub fn share_target_dir(project: &Path) {
    let shared = repo_root().join("target/quickstart-wasm");
    std::fs::create_dir_all(&shared).unwrap();
    let target = project.join("target");
    if !target.exists() {
        std::os::unix::fs::symlink(&shared, &target).unwrap();
    }
}

/// What a script printed, and the directory it ended in.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub ended_in: PathBuf,
}

/// Run `script` with `bash -e` in `cwd` (a failing command fails the test, showing
/// both outputs).
pub fn run_script(script: &str, cwd: &Path, work: &Path) -> Ran {
    let cwd_file = work.join(".cwd");
    let mut command = Command::new("bash");
    command
        .arg("-e")
        .arg("-c")
        .arg(format!("{script}\npwd > '{}'", cwd_file.display()))
        .current_dir(cwd);
    environment(&mut command, work);
    let output = command.output().expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "this script failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let ended_in = std::fs::read_to_string(&cwd_file).unwrap();
    Ran {
        stdout,
        stderr,
        ended_in: PathBuf::from(ended_in.trim()),
    }
}

/// The fenced blocks of a markdown text: info string and text, in order.
pub fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.push(open.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    blocks
}
