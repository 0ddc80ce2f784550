//! The command line as a script uses it: `call` and `tools` against the sandbox,
//! `--json` output, reports on stdout with stderr kept for warnings and errors, global
//! options on either side of the subcommand, and `component new`'s refusals.

#[path = "support/server.rs"]
mod server;
#[path = "support/test_components.rs"]
mod test_components;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use server::{binary, fresh_dir};
use test_components::{repo_root, test_components_dir};

/// The binary with `args`, in `data_dir`, none of the caller's settings.
fn orderdesk_mcp(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args).output().unwrap()
}

fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.args(args).env("ORDERDESK_MCP_DATA_DIR", data_dir);
    for var in [
        "ORDERDESK_MCP_LOG",
        "ORDERDESK_MCP_COMPONENTS",
        "ORDERDESK_MCP_MASTER_KEY",
    ] {
        command.env_remove(var);
    }
    command
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn call_prints_the_structured_answer_and_keeps_stderr_quiet() {
    let dir = fresh_dir("cli-call");
    let output = orderdesk_mcp(
        &dir,
        &["call", "inventory_list", r#"{"limit": 2}"#, "--sandbox"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "no log lines without --verbose");
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(answer["inventory_items"][0]["code"], "MUG-WHT");
    assert_eq!(answer["pagination"]["next_offset"], 2);

    // Arguments from stdin with `-`.
    let mut child = command(&dir, &["call", "inventory_get", "-", "--sandbox"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"item_id": "701105"}"#)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(answer["inventory_item"]["stock"], 9);

    // --verbose shows the start-up lines on stderr; stdout is the same answer.
    let verbose = orderdesk_mcp(&dir, &["call", "tenant_info", "--sandbox", "--verbose"]);
    assert!(verbose.status.success());
    assert!(
        stderr(&verbose).contains("components loaded"),
        "{}",
        stderr(&verbose)
    );
    let info: Value = serde_json::from_str(&stdout(&verbose)).unwrap();
    assert_eq!(info["sandbox"], true);
}

#[test]
fn a_failed_call_says_why_on_stderr_and_exits_1() {
    let dir = fresh_dir("cli-call-errors");
    let missing = orderdesk_mcp(
        &dir,
        &["call", "inventory_get", r#"{"item_id": "1"}"#, "--sandbox"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stdout(&missing), "", "nothing on stdout for a failed call");
    let message = stderr(&missing);
    assert!(
        message
            .starts_with("error: inventory_get failed (not_found): inventory item 1 was not found"),
        "{message}"
    );

    // --json: the whole result on stdout, errors included, and still status 1.
    let json = orderdesk_mcp(
        &dir,
        &[
            "call",
            "inventory_list",
            r#"{"limit": 0}"#,
            "--sandbox",
            "--json",
        ],
    );
    assert_eq!(json.status.code(), Some(1));
    let result: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(result["isError"], true);
    assert_eq!(
        result["structuredContent"]["error"]["kind"],
        "invalid_input"
    );

    let unknown = orderdesk_mcp(&dir, &["call", "no_such_tool", "--sandbox"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("orderdesk-mcp tools"),
        "{}",
        stderr(&unknown)
    );

    let not_json = orderdesk_mcp(&dir, &["call", "tenant_info", "{limit: 5}", "--sandbox"]);
    assert_eq!(not_json.status.code(), Some(1));
    assert!(
        stderr(&not_json).contains("not valid JSON"),
        "{}",
        stderr(&not_json)
    );
}

#[test]
fn tools_lists_each_tool_with_its_arguments() {
    let dir = fresh_dir("cli-tools");
    let output = orderdesk_mcp(&dir, &["tools", "--sandbox"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert!(
        text.contains("inventory_list  List inventory items  [read-only, talks to OrderDesk]"),
        "{text}"
    );
    assert!(
        text.contains(
            "    arguments: limit?: integer, offset?: integer, code?: string, search?: string, \
             view?: string, fields?: array, fresh?: boolean, store?: string"
        ),
        "{text}"
    );
    let json = orderdesk_mcp(&dir, &["tools", "--sandbox", "--json"]);
    let tools: Vec<Value> = serde_json::from_str(&stdout(&json)).unwrap();
    let get = tools.iter().find(|t| t["name"] == "inventory_get").unwrap();
    assert_eq!(get["inputSchema"]["required"], json!(["item_id"]));
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let dir = fresh_dir("cli-global-options");
    let components = dir.join("components");
    std::fs::create_dir_all(&components).unwrap();
    std::fs::copy(
        test_components_dir().join("template.wasm"),
        components.join("template.wasm"),
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("components/template/template.toml"),
        components.join("template.toml"),
    )
    .unwrap();
    server::trust_component(
        &dir.join("config.toml"),
        &components.join("template.wasm"),
        "template",
    );
    let components = components.to_str().unwrap();
    let arguments = r#"{"name": "Ada"}"#;
    let after = orderdesk_mcp(
        &dir,
        &[
            "call",
            "template_hello",
            arguments,
            "--sandbox",
            "--components",
            components,
        ],
    );
    let before = orderdesk_mcp(
        &dir,
        &[
            "--components",
            components,
            "call",
            "template_hello",
            arguments,
            "--sandbox",
        ],
    );
    assert!(after.status.success(), "{}", stderr(&after));
    assert_eq!(stdout(&after), stdout(&before));
    assert!(stdout(&after).contains("Hello, Ada"));
}

#[test]
fn component_check_and_test_report_as_json_too() {
    let dir = fresh_dir("cli-component-json");
    let wasm = test_components_dir().join("template.wasm");
    let wasm = wasm.to_str().unwrap();
    let template = repo_root().join("components/template");
    let grants = template.join("template.toml");
    let grants = grants.to_str().unwrap();

    let check = orderdesk_mcp(
        &dir,
        &["component", "check", wasm, "--grants", grants, "--json"],
    );
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(stderr(&check), "");
    let report: Value = serde_json::from_str(&stdout(&check)).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["imports"], json!(["orderdesk", "log"]));
    assert_eq!(report["tools"][0]["name"], "template_hello");

    // Refused (no grants beside the file: `log` only): the verdict is JSON too.
    let refused = orderdesk_mcp(&dir, &["component", "check", wasm, "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    let verdict: Value = serde_json::from_str(&stdout(&refused)).unwrap();
    assert_eq!(verdict["ok"], false);
    assert!(
        verdict["error"].as_str().unwrap().contains("not granted"),
        "{verdict}"
    );

    let cases = template.join("cases.json");
    let test = orderdesk_mcp(
        &dir,
        &[
            "component",
            "test",
            wasm,
            cases.to_str().unwrap(),
            "--grants",
            grants,
            "--json",
        ],
    );
    assert!(test.status.success(), "{}", stderr(&test));
    assert_eq!(stderr(&test), "");
    let verdicts: Value = serde_json::from_str(&stdout(&test)).unwrap();
    assert_eq!(verdicts["failed"], 0);
    assert!(verdicts["passed"].as_u64().unwrap() >= 8);
    assert_eq!(verdicts["cases"][0]["failures"], json!([]));
}

#[test]
fn component_new_refuses_a_bad_name_and_an_existing_directory() {
    let dir = fresh_dir("cli-component-new");
    let run = |args: &[&str]| command(&dir, args).current_dir(&dir).output().unwrap();
    let bad = run(&["component", "new", "Low-Stock"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("lower-case letters"),
        "{}",
        stderr(&bad)
    );
    let made = run(&["component", "new", "shelf", "--lang", "python"]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(dir.join("shelf/app.py").is_file());
    assert!(dir.join("shelf/wit/host/orderdesk-mcp.wit").is_file());
    let again = run(&["component", "new", "shelf"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}
