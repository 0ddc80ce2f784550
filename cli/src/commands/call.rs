//! `orderdesk-mcp call TOOL [JSON]` and `orderdesk-mcp tools`: one MCP exchange with the
//! server the same flags would start, run in this process (`app::InProcess`).

use std::io::Read;

use anyhow::Context;
use orderdesk_host::app::{InProcess, Settings};
use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde_json::Value;

/// Call `tool` with `arguments` (JSON text, `-` for stdin, `None` for `{}`): the
/// structured result on stdout; a tool error on stderr and an `Err` (exit status 1).
pub async fn call(
    tool: &str,
    arguments: Option<&str>,
    json: bool,
    settings: Settings,
) -> anyhow::Result<()> {
    let arguments = parse_arguments(arguments)?;
    let session = InProcess::connect(&one_shot(settings)).await?;
    let result = session.call(tool, arguments).await.map_err(|e| {
        anyhow::anyhow!("{e:#}; `orderdesk-mcp tools` lists the tools with the same flags")
    });
    session.close().await?;
    let result = result?;
    let failed = result.is_error == Some(true);
    if json {
        println!("{}", serde_json::to_string(&result)?);
    } else if !failed {
        println!("{}", serde_json::to_string_pretty(&structured(&result))?);
    }
    if failed {
        let error = structured(&result);
        let kind = error
            .pointer("/error/kind")
            .and_then(Value::as_str)
            .unwrap_or("error");
        anyhow::bail!("{tool} failed ({kind}): {}", text_of(&result));
    }
    Ok(())
}

/// List the tools: name, title, annotations and arguments, or `tools/list` as JSON.
pub async fn tools(json: bool, settings: Settings) -> anyhow::Result<()> {
    let session = InProcess::connect(&one_shot(settings)).await?;
    let tools = session.tools().await;
    session.close().await?;
    let tools = tools?;
    if json {
        println!("{}", serde_json::to_string_pretty(&tools)?);
        return Ok(());
    }
    for tool in &tools {
        print!("{}", describe(tool));
    }
    Ok(())
}

/// A one-shot session keeps what start-up used: the process ends right after.
fn one_shot(mut settings: Settings) -> Settings {
    settings.keep_startup_memory = true;
    settings
}

fn parse_arguments(arguments: Option<&str>) -> anyhow::Result<JsonObject> {
    let text = match arguments {
        None => return Ok(JsonObject::new()),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the arguments from stdin")?;
            text
        }
        Some(text) => text.to_string(),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(arguments)) => Ok(arguments),
        Ok(_) => anyhow::bail!("the arguments must be a JSON object, e.g. '{{\"limit\": 5}}'"),
        Err(e) => anyhow::bail!(
            "the arguments are not valid JSON ({e}); quote them for the shell, e.g. '{{\"limit\": 5}}'"
        ),
    }
}

/// `structuredContent` (every result of this server has one).
fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(Value::Null)
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A tool in a few lines: `name  title  [hints]`, then its arguments from the input
/// schema (`name: type`, `?` when optional).
fn describe(tool: &Tool) -> String {
    let mut hints = Vec::new();
    if let Some(a) = &tool.annotations {
        if a.read_only_hint == Some(true) {
            hints.push("read-only");
        } else if a.destructive_hint == Some(true) {
            hints.push("destructive");
        }
        if a.open_world_hint == Some(true) {
            hints.push("talks to OrderDesk");
        }
    }
    let title = tool.title.as_deref().unwrap_or_default();
    let mut text = format!("{}  {title}  [{}]\n", tool.name, hints.join(", "));
    let required: Vec<&str> = tool
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let arguments: Vec<String> = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, schema)| {
                    let optional = if required.contains(&name.as_str()) {
                        ""
                    } else {
                        "?"
                    };
                    format!("{name}{optional}: {}", type_of(schema))
                })
                .collect()
        })
        .unwrap_or_default();
    if !arguments.is_empty() {
        text.push_str(&format!("    arguments: {}\n", arguments.join(", ")));
    }
    text
}

/// A property's JSON type as a schema states it: `integer`, `integer|string` for a
/// list or an `anyOf`/`oneOf` of types, `any` when it does not say.
fn type_of(schema: &Value) -> String {
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => ["anyOf", "oneOf"]
            .iter()
            .filter_map(|key| schema.get(*key).and_then(Value::as_array))
            .flatten()
            .map(type_of)
            .collect(),
    };
    if types.is_empty() {
        "any".to_string()
    } else {
        types.join("|")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_property_type_reads_from_type_or_its_alternatives() {
        assert_eq!(type_of(&json!({"type": "integer"})), "integer");
        assert_eq!(type_of(&json!({"type": ["string", "null"]})), "string|null");
        let either = json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
        assert_eq!(type_of(&either), "string|integer");
        assert_eq!(type_of(&json!({"description": "anything"})), "any");
    }

    #[test]
    fn arguments_must_be_a_json_object() {
        assert!(parse_arguments(None).unwrap().is_empty());
        assert_eq!(parse_arguments(Some(r#"{"a": 1}"#)).unwrap()["a"], 1);
        let list = parse_arguments(Some("[1]")).unwrap_err().to_string();
        assert!(list.contains("must be a JSON object"), "{list}");
    }
}
