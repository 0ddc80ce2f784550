//! What `orderdesk-mcp component new` writes works as it stands, outside the
//! repository: each project's README commands, run as written, build the component,
//! check it, pass its own case file and answer in the sandbox; a Rust project's unit
//! tests pass natively. (The quickstart test covers a project after the edit.)

#[path = "support/outside.rs"]
mod outside;
#[path = "support/python_component.rs"]
mod python_component;

use std::path::Path;

use outside::{Ran, fenced_blocks, run_script, share_target_dir, work_dir};
use serde_json::Value;

/// The first `sh` block of a project's README: its next commands.
fn next_commands(project: &Path) -> String {
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    fenced_blocks(&readme)
        .into_iter()
        .find(|(lang, _)| lang == "sh")
        .map(|(_, text)| text)
        .expect("the README has the next commands")
}

/// The parts of a README run's output that show each step worked.
fn assert_checked_tested_and_called(ran: &Ran, name: &str, cases: usize) {
    let out = &ran.stdout;
    assert!(out.contains(&format!("component `{name}`: OK")), "{out}");
    assert!(out.contains(&format!("{cases} passed, 0 failed")), "{out}");
    // The call's answer is the last thing printed: the sandbox's mug.
    let answer: Value = serde_json::from_str(&out[out.rfind("\n{").unwrap()..]).unwrap();
    assert_eq!(answer["count"], 1, "{answer}");
    assert_eq!(answer["items"][0]["code"], "MUG-WHT", "{answer}");
    assert_eq!(answer["items"][0]["stock"], 11, "{answer}");
}

#[test]
fn rust_projects_work_as_their_readme_says() {
    let work = work_dir("scaffold-rust");
    for (name, grants, cases) in [("finder", "read", 2), ("shelf", "write", 3)] {
        run_script(
            &format!("orderdesk-mcp component new {name} --grants {grants}"),
            &work,
            &work,
        );
        let project = work.join(name);
        share_target_dir(&project);
        let ran = run_script(&next_commands(&project), &project, &work);
        assert_checked_tested_and_called(&ran, name, cases);
        let imports = if grants == "write" {
            "orderdesk, log"
        } else {
            "orderdesk"
        };
        assert!(
            ran.stdout.contains(&format!("  imports: {imports}\n")),
            "only what the code calls is imported: {}",
            ran.stdout
        );
    }
    // `cargo test` of the write project: its unit tests, natively, with the mock host.
    let tested = run_script("cargo test", &work.join("shelf"), &work);
    assert!(
        tested
            .stdout
            .contains("test tests::items_reads_every_page ... ok"),
        "{}",
        tested.stdout
    );
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_python_project_works_as_its_readme_says() {
    let work = work_dir("scaffold-python");
    run_script(
        "orderdesk-mcp component new pyfinder --lang python",
        &work,
        &work,
    );
    let project = work.join("pyfinder");
    // The README installs componentize-py into .venv; the tests' virtualenv has the
    // same pinned version.
    let componentize_py = python_component::componentize_py();
    let commands = next_commands(&project);
    assert!(
        commands.contains(".venv/bin/componentize-py "),
        "{commands}"
    );
    let commands = commands.replace(
        ".venv/bin/componentize-py ",
        &format!("'{}' ", componentize_py.display()),
    );
    let ran = run_script(&commands, &project, &work);
    assert_checked_tested_and_called(&ran, "pyfinder", 2);
    assert!(
        ran.stdout.contains("  imports: orderdesk\n"),
        "{}",
        ran.stdout
    );
    let _ = std::fs::remove_dir_all(&work);
}
