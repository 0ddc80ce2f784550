//! The `tenant` tool group: who the session is acting for, and what it did.
//!
//! Grants: `session`, `vault`, `log`. The master key passes through this component only
//! on its way to the host's vault; it is never logged, stored or returned.

use orderdesk_tool_kit::args::{NoArguments, NonBlank, WholeNumber, in_range, invalid};
use orderdesk_tool_kit::{
    ToolError, ToolSpec, Tools, annotations, host_error, session, store_json, store_schema, vault,
};
use serde::Deserialize;
use serde_json::{Value, json};

fn tools() -> Tools {
    Tools::new("tenant")
        .tool(
            ToolSpec::new(
                "tenant_info",
                "Session and tenant info",
                "Tell whether this session is authenticated and, if so, the tenant id, the \
                 active store and how many stores the tenant has, and the current date and \
                 time (UTC, `now_utc`: what \"today\" is for a search). Changes nothing and \
                 never shows key material.",
            )
            .output(info_schema)
            .annotations(annotations(true, false, true, false))
            .run(info),
        )
        .tool(
            ToolSpec::new(
                "tenant_use_master_key",
                "Authenticate with a master key",
                "Authenticate this session as the tenant that owns `master_key` (from \
                 `orderdesk-mcp tenant create`). Prefer starting the server with \
                 ORDERDESK_MCP_MASTER_KEY so the key never passes through the chat. Failed \
                 attempts are rate-limited.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "master_key": {"type": "string", "minLength": 1,
                                       "description": "The tenant's master key."}
                    },
                    "required": ["master_key"],
                    "additionalProperties": false
                })
            })
            .output(|| {
                object(
                    json!({
                        "authenticated": {"type": "boolean", "const": true},
                        "tenant_id": {"type": "string"},
                        "store_count": {"type": "integer", "minimum": 0},
                        "active_store": nullable(store_schema()),
                    }),
                    &["authenticated", "tenant_id", "store_count", "active_store"],
                )
            })
            .annotations(annotations(false, false, true, false))
            .run(use_master_key),
        )
        .tool(
            ToolSpec::new(
                "audit_recent",
                "Recent calls of this tenant",
                "List this tenant's own recent tool calls from the audit log, newest first: \
                 tool, outcome (`ok` or `error:KIND`), time (UTC), store, correlation id \
                 (also in the server's logs) and the arguments with secrets and emails \
                 redacted. Filter by `tool`, `outcome` (`ok`, `error`, or e.g. \
                 `error:conflict`), `store` and `since`. Use it to check what was already \
                 done (e.g. before retrying a write whose outcome was unknown) or why a \
                 call failed. Changes nothing.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "tool": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$",
                                 "description": "Only calls of this tool, e.g. \"orders_update\"."},
                        "outcome": {"type": "string", "pattern": "^(ok|error(:[a-z_]+)?)$",
                                    "description": "\"ok\", \"error\" (any error) or \"error:KIND\", e.g. \"error:outcome_unknown\"."},
                        "store": {"type": "string", "minLength": 1,
                                  "description": "Only calls that acted on this store (store id or name)."},
                        "since": {"type": "string",
                                  "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$",
                                  "description": "Only calls at or after this time, UTC (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)."},
                        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_CALLS, "default": DEFAULT_CALLS,
                                  "description": "At most this many calls (default 20, at most 200)."}
                    },
                    "additionalProperties": false
                })
            })
            .output(recent_schema)
            .annotations(annotations(true, false, true, false))
            .run(recent),
        )
}

/// `audit_recent`'s default and largest `limit`.
const DEFAULT_CALLS: u64 = 20;
const MAX_CALLS: u64 = 200;

/// The longest arguments text `audit_recent` shows whole (a created order's can be
/// kilobytes; the model needs the gist and the correlation id).
const MAX_ARGUMENTS_TEXT: usize = 600;

/// An object schema with `properties` and `required`.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// `schema` or null.
fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn info_schema() -> Value {
    object(
        json!({
            "authenticated": {"type": "boolean"},
            "sandbox": {"type": "boolean", "description": "Serving the built-in demo store."},
            "now_utc": {"type": "string", "description": "The current date and time, UTC (YYYY-MM-DD HH:MM:SS)."},
            "tenant_id": {"type": "string"},
            "active_store": nullable(store_schema()),
            "store_count": {"type": "integer", "minimum": 0},
            "hint": {"type": "string", "description": "How to authenticate (only when not authenticated)."},
        }),
        &["authenticated", "sandbox", "now_utc"],
    )
}

fn recent_schema() -> Value {
    let call = object(
        json!({
            "at": {"type": "string", "description": "UTC, YYYY-MM-DD HH:MM:SS."},
            "tool": {"type": "string"},
            "outcome": {"type": "string", "description": "ok, error:KIND, or pending (a write still under way)."},
            "store_id": {"type": ["string", "null"]},
            "correlation_id": {"type": "string"},
            "arguments": {"description": "The call's arguments, redacted; a long one is cut (a string ending in …)."},
            "duration_ms": {"type": "integer", "minimum": 0},
            "source": {"type": "string", "enum": ["mcp", "cli", "console"]},
        }),
        &[
            "at",
            "tool",
            "outcome",
            "store_id",
            "correlation_id",
            "arguments",
            "duration_ms",
            "source",
        ],
    );
    object(
        json!({
            "calls": {"type": "array", "items": call},
            "count": {"type": "integer", "minimum": 0},
            "now_utc": {"type": "string"},
            "note": {"type": "string"},
        }),
        &["calls", "count", "now_utc"],
    )
}

fn info(_: NoArguments) -> Result<Value, ToolError> {
    let session = session::info();
    let now = session::now();
    if !session.authenticated {
        return Ok(json!({
            "authenticated": false,
            "sandbox": session.sandbox,
            "now_utc": now,
            "hint": "Authenticate with tenant_use_master_key, or start the server with \
                     ORDERDESK_MCP_MASTER_KEY set (or with --sandbox to try the demo store)."
        }));
    }
    let store_count = vault::list_stores().map_err(host_error)?.len();
    Ok(json!({
        "authenticated": true,
        "sandbox": session.sandbox,
        "now_utc": now,
        "tenant_id": session.tenant_id,
        "active_store": session.active_store.as_ref().map(store_json),
        "store_count": store_count,
    }))
}

#[derive(Deserialize)]
struct Recent {
    tool: Option<NonBlank>,
    outcome: Option<NonBlank>,
    store: Option<NonBlank>,
    since: Option<NonBlank>,
    limit: Option<WholeNumber>,
}

fn recent(args: Recent) -> Result<Value, ToolError> {
    let limit = in_range("limit", args.limit, 1..=MAX_CALLS)?.unwrap_or(DEFAULT_CALLS);
    let outcome = args.outcome.map(String::from);
    if let Some(outcome) = &outcome
        && !(outcome == "ok" || outcome == "error" || outcome.starts_with("error:"))
    {
        return Err(invalid(format!(
            "`outcome` must be \"ok\", \"error\" or \"error:KIND\" (e.g. \"error:conflict\"), got {outcome:?}"
        )));
    }
    // A store named by name or id is found as every tool finds it, so the filter is the
    // store id the audit rows carry.
    let store_id = match args.store {
        Some(store) => Some(
            vault::resolve_store(&store)
                .map_err(host_error)?
                .store
                .store
                .store_id,
        ),
        None => None,
    };
    let filter = vault::CallFilter {
        tool: args.tool.map(String::from),
        outcome,
        store_id,
        since: args.since.map(String::from),
        limit: limit as u32,
    };
    let entries = vault::recent_calls(&filter).map_err(host_error)?;
    // The answer stays within the call's budget: newest first, so what is left out is
    // the oldest, and the note says how to reach it.
    let budget = session::budget().result_bytes as usize;
    let mut used = 256;
    let mut calls = Vec::new();
    let mut cut_at = None;
    for entry in &entries {
        let call = json!({
            "at": entry.at,
            "tool": entry.tool,
            "outcome": entry.outcome,
            "store_id": entry.store_id,
            "correlation_id": entry.correlation_id,
            "arguments": shown_arguments(&entry.arguments),
            "duration_ms": entry.duration_ms,
            "source": entry.source,
        });
        let size = call.to_string().len() + 1;
        if used + size > budget && !calls.is_empty() {
            cut_at = Some(entry.at.clone());
            break;
        }
        used += size;
        calls.push(call);
    }
    let mut answer = json!({"count": calls.len(), "now_utc": session::now()});
    if let Some(older) = cut_at {
        answer["note"] = json!(format!(
            "stopped at {} calls to keep the answer short; narrow with `tool`, `outcome` or \
             `since` to see calls from {older} and before",
            calls.len()
        ));
    } else if entries.len() as u64 == limit {
        answer["note"] = json!(format!(
            "the newest {limit}; older calls may exist (raise `limit`, up to {MAX_CALLS}, or narrow the filter)"
        ));
    }
    answer["calls"] = Value::Array(calls);
    Ok(answer)
}

/// The redacted arguments as JSON when short, else their start as text.
fn shown_arguments(text: &str) -> Value {
    if text.len() <= MAX_ARGUMENTS_TEXT {
        return serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
    }
    let mut end = MAX_ARGUMENTS_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(format!("{}…", &text[..end]))
}

#[derive(Deserialize)]
struct MasterKey {
    master_key: NonBlank,
}

fn use_master_key(args: MasterKey) -> Result<Value, ToolError> {
    let tenant = vault::authenticate(&args.master_key).map_err(host_error)?;
    Ok(json!({
        "authenticated": true,
        "tenant_id": tenant.tenant_id,
        "store_count": tenant.store_count,
        "active_store": tenant.active_store.as_ref().map(store_json),
    }))
}

orderdesk_tool_kit::export!(tools);

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{self, MockHost};

    use super::*;

    #[test]
    fn info_tells_an_anonymous_session_how_to_authenticate() {
        let _host = MockHost::new();
        let info = testing::call(&tools(), "tenant_info", json!({})).unwrap();
        assert_eq!(info["authenticated"], false);
        assert!(
            info["hint"]
                .as_str()
                .unwrap()
                .contains("tenant_use_master_key")
        );
    }

    #[test]
    fn the_master_key_authenticates_and_never_comes_back() {
        let _host = MockHost::new()
            .master_key("odmk_secret")
            .store("100001", "main");
        let wrong = testing::call(
            &tools(),
            "tenant_use_master_key",
            json!({"master_key": "x"}),
        );
        assert!(
            matches!(wrong, Err(ToolError::Unauthorized(_))),
            "{wrong:?}"
        );
        let result = testing::call(
            &tools(),
            "tenant_use_master_key",
            json!({"master_key": "odmk_secret"}),
        )
        .unwrap();
        assert_eq!(result["tenant_id"], "tenant-1");
        assert_eq!(result["store_count"], 1);
        assert!(!result.to_string().contains("odmk_secret"));
        let info = testing::call(&tools(), "tenant_info", json!({})).unwrap();
        assert_eq!(info["authenticated"], true);
        assert_eq!(info["store_count"], 1);
    }

    #[test]
    fn info_says_what_time_it_is() {
        let _host = MockHost::with_store().now("2026-12-02 09:30:00");
        let info = testing::call(&tools(), "tenant_info", json!({})).unwrap();
        assert_eq!(info["now_utc"], "2026-12-02 09:30:00");
    }

    #[test]
    fn recent_calls_are_filtered_and_kept_within_the_budget() {
        let _host = MockHost::with_store()
            .audit("orders_get", "ok")
            .audit("orders_update", "error:conflict")
            .audit("orders_get", "ok");
        let all = testing::call(&tools(), "audit_recent", json!({})).unwrap();
        assert_eq!(all["count"], 3);
        assert_eq!(all["calls"][0]["correlation_id"], "mock-3", "newest first");
        let errors = testing::call(&tools(), "audit_recent", json!({"outcome": "error"})).unwrap();
        assert_eq!(errors["calls"][0]["tool"], "orders_update");
        assert_eq!(errors["count"], 1);
        let by_tool = testing::call(
            &tools(),
            "audit_recent",
            json!({"tool": "orders_get", "store": "main", "limit": 1}),
        )
        .unwrap();
        assert_eq!(by_tool["count"], 1);
        assert!(
            by_tool["note"]
                .as_str()
                .unwrap()
                .contains("older calls may exist")
        );
        let bad = testing::call(&tools(), "audit_recent", json!({"outcome": "failed"}));
        assert!(matches!(bad, Err(ToolError::InvalidInput(_))), "{bad:?}");
    }

    #[test]
    fn recent_calls_stop_at_the_budget_and_say_how_to_see_older_ones() {
        let mut host = MockHost::with_store().budget(700, 30_000);
        for _ in 0..10 {
            host = host.audit("orders_list", "ok");
        }
        let answer = testing::call(&tools(), "audit_recent", json!({})).unwrap();
        let shown = answer["calls"].as_array().unwrap().len();
        assert!((1..10).contains(&shown), "{answer}");
        assert!(answer.to_string().len() < 1000, "{answer}");
        assert!(
            answer["note"].as_str().unwrap().contains("narrow with"),
            "{answer}"
        );
    }

    #[test]
    fn long_arguments_are_cut_with_a_mark() {
        assert_eq!(shown_arguments(r#"{"a":1}"#), json!({"a": 1}));
        let long = format!(r#"{{"note":"{}"}}"#, "é".repeat(400));
        let shown = shown_arguments(&long);
        assert!(shown.as_str().unwrap().ends_with('…'));
    }
}
