//! docs/quickstart.md, run as written: its `sh` blocks in order in a fresh directory
//! outside the repository, each block's output compared with the `text` block that
//! follows it, and the MCP client configuration of its "Serve" step started by a real
//! MCP client. A page a newcomer follows step by step cannot drift from what the
//! program does.
//!
//! The built `orderdesk-mcp` is first on `PATH`, its data directory is in the temporary
//! directory, and the project's `target/` is a link to `target/quickstart-wasm` of this
//! repository, so that the component's dependencies are compiled once rather than on
//! every run (the commands themselves are the page's).

#[path = "support/outside.rs"]
mod outside;
#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::process::Command;

use outside::{environment, fenced_blocks, repo_root, run_script, share_target_dir, work_dir};
use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

const PAGE: &str = "docs/quickstart.md";
/// Where the runnable part of the page starts.
const MARKER: &str = "<!-- tests/quickstart.rs runs";

/// A fenced block of the page: its info string and its text.
#[derive(Debug)]
struct Block {
    lang: String,
    text: String,
}

/// The fenced blocks after the marker, in order.
fn runnable_blocks(page: &str) -> Vec<Block> {
    let start = page
        .find(MARKER)
        .unwrap_or_else(|| panic!("{PAGE} lost its marker `{MARKER}`"));
    fenced_blocks(&page[start..])
        .into_iter()
        .map(|(lang, text)| Block { lang, text })
        .collect()
}

/// Lines without trailing blanks, without leading and trailing empty lines.
fn normalized(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_string()
}

/// A step made only of `orderdesk-mcp` commands whose success is expected: its report
/// is on stdout, and stderr (warnings and errors only) must stay empty.
fn expects_quiet_stderr(script: &str) -> bool {
    script
        .lines()
        .filter(|line| !line.trim().is_empty())
        .all(|line| line.starts_with("orderdesk-mcp ") && !line.contains("||"))
}

#[tokio::test]
async fn the_quickstart_runs_as_written() {
    let page = std::fs::read_to_string(repo_root().join(PAGE)).unwrap();
    let blocks = runnable_blocks(&page);
    let work = work_dir("quickstart");

    let mut cwd = work.clone();
    let mut last_output: Option<(String, String)> = None;
    let mut served = None;
    let mut steps = 0;
    for block in &blocks {
        match block.lang.as_str() {
            "sh" => {
                let ran = run_script(&block.text, &cwd, &work);
                if expects_quiet_stderr(&block.text) {
                    assert_eq!(ran.stderr, "", "stderr of `{}`", block.text.trim());
                }
                cwd = ran.ended_in;
                if cwd.join("Cargo.toml").is_file() {
                    share_target_dir(&cwd);
                }
                last_output = Some((block.text.clone(), ran.stdout));
                steps += 1;
            }
            "text" => {
                let (script, stdout) = last_output
                    .take()
                    .expect("a `text` block follows the `sh` block whose output it shows");
                assert_eq!(
                    normalized(&stdout),
                    normalized(&block.text),
                    "the output of\n{}\ndiffers from {PAGE}",
                    script.trim()
                );
            }
            "json" if block.text.contains("mcpServers") => {
                served = Some(serve_as_configured(&block.text, &cwd).await);
            }
            _ => {}
        }
    }
    assert!(
        steps >= 8,
        "only {steps} steps ran: did the page's blocks change shape?"
    );
    let served = served.expect("the page's Serve step has an MCP client configuration");
    // The answer through a real MCP client equals the answer of `call` on the page.
    let call_answer = page_call_answer(&blocks);
    assert_eq!(served, call_answer);
    let _ = std::fs::remove_dir_all(&work);
}

/// Start the server as the MCP client configuration says (`/path/to/lowstock` stands
/// for the project directory), list the tools over stdio with rmcp's client and call
/// the new tool as the `call` step does; returns its structured answer.
async fn serve_as_configured(config: &str, project: &Path) -> Value {
    let config: Value = serde_json::from_str(config).expect("the configuration is JSON");
    let server = &config["mcpServers"]["orderdesk"];
    assert_eq!(server["command"], "orderdesk-mcp");
    let args: Vec<String> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| {
            let arg = arg.as_str().unwrap();
            arg.replace("/path/to/lowstock", &project.display().to_string())
        })
        .collect();
    let mut command = Command::new(server::binary());
    command.args(&args);
    environment(&mut command, project.parent().unwrap());
    let stderr = std::fs::File::create(project.join("serve.log")).unwrap();
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(command))
        .stderr(std::process::Stdio::from(stderr))
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.expect("the server starts");
    let tools = client.list_all_tools().await.unwrap();
    let tool = tools
        .iter()
        .find(|t| t.name == "lowstock_items")
        .expect("the served tools include lowstock_items");
    assert_eq!(
        tool.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    let answer = server::call(&client, "lowstock_items", json!({"below": 10})).await;
    let answer = server::ok(&answer);
    client.cancel().await.unwrap();
    answer
}

/// The JSON the page shows for `orderdesk-mcp call lowstock_items '{"below": 10}'`.
fn page_call_answer(blocks: &[Block]) -> Value {
    let position = blocks
        .iter()
        .position(|b| {
            b.lang == "sh"
                && b.text
                    .starts_with("orderdesk-mcp call lowstock_items '{\"below\": 10}'")
        })
        .expect("the page calls lowstock_items with below 10");
    serde_json::from_str(&blocks[position + 1].text).expect("its output is JSON")
}

#[test]
fn the_page_parses_into_steps_and_outputs() {
    let page = "intro\n```sh\nnot run\n```\n<!-- tests/quickstart.rs runs from here -->\n\
                ```sh\necho hi\n```\n\n```text\nhi\n```\n```json\n{}\n```\n";
    let blocks = runnable_blocks(page);
    let langs: Vec<&str> = blocks.iter().map(|b| b.lang.as_str()).collect();
    assert_eq!(langs, ["sh", "text", "json"]);
    assert_eq!(blocks[0].text, "echo hi\n");
    assert!(expects_quiet_stderr(
        "orderdesk-mcp component check x.wasm\n"
    ));
    assert!(!expects_quiet_stderr("orderdesk-mcp call x || echo $?\n"));
    assert!(!expects_quiet_stderr("cargo build\n"));
}
