//! The `stores` tool group: a tenant's OrderDesk stores.
//!
//! Grants: `session`, `vault`, `orderdesk` (read), `log`. API keys go into the host's
//! vault through `stores_register` and never come back out: no result of this component
//! carries key material.

use orderdesk_tool_kit::{
    Args, Guest, Tool, ToolError, ToolResult, annotations, host_error, ok_json, optional_bool,
    optional_str, orderdesk, parse_args, parse_body, required_str, session, store_json, tool,
    vault,
};
use serde_json::{Value, json};

struct Stores;

fn identifier_schema(required: bool, what: &str) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "identifier": {"type": "string", "minLength": 1, "description": what}
        },
        "additionalProperties": false
    });
    if required {
        schema["required"] = json!(["identifier"]);
    }
    schema
}

impl Guest for Stores {
    fn list() -> Vec<Tool> {
        vec![
            tool(
                "stores_register",
                "Register an OrderDesk store",
                "Save an OrderDesk store (its store id and API key) for this tenant. The key is \
                 encrypted by the host and never shown again. By default the credentials are \
                 first checked with OrderDesk's GET /test; pass `verify: false` to skip that. \
                 A duplicate store id or name is refused. Prefer `orderdesk-mcp stores add` on \
                 the command line so the API key never passes through the chat.",
                json!({
                    "type": "object",
                    "properties": {
                        "store_id": {"type": "string", "pattern": "^[0-9]+$",
                                     "description": "OrderDesk's numeric store id."},
                        "api_key": {"type": "string", "minLength": 1,
                                    "description": "The store's OrderDesk API key."},
                        "store_name": {"type": "string", "minLength": 1, "maxLength": 100,
                                       "description": "A unique name for the store (default: the store id)."},
                        "label": {"type": "string", "maxLength": 200,
                                  "description": "Optional free-text label."},
                        "verify": {"type": "boolean", "default": true,
                                   "description": "Check the credentials with OrderDesk first."}
                    },
                    "required": ["store_id", "api_key"],
                    "additionalProperties": false
                }),
                annotations(false, false, false, true),
            ),
            tool(
                "stores_list",
                "List stores",
                "List this tenant's registered stores (id, name, label, whether active). \
                 Changes nothing; never shows API keys.",
                json!({"type": "object", "properties": {}, "additionalProperties": false}),
                annotations(true, false, true, false),
            ),
            tool(
                "stores_use_store",
                "Set the active store",
                "Make a store the session's active store: store-bound tools use it when they \
                 are not given a `store`. Accepts a store id or a store name. Changes only this \
                 session.",
                identifier_schema(true, "Store id or store name."),
                annotations(false, false, true, false),
            ),
            tool(
                "stores_resolve",
                "Resolve a store",
                "Find a store by OrderDesk store id first, then by name, and say which matched. \
                 Changes nothing.",
                identifier_schema(true, "Store id or store name."),
                annotations(true, false, true, false),
            ),
            tool(
                "stores_delete",
                "Delete a store",
                "Remove a store and its encrypted API key from this tenant. Nothing changes in \
                 OrderDesk itself. Cannot be undone; register the store again to restore it.",
                identifier_schema(true, "Store id or store name."),
                annotations(false, true, true, false),
            ),
            tool(
                "stores_test",
                "Test a store's connection",
                "Call OrderDesk's GET /test for a store (the active one if no identifier is \
                 given), always live, never from cache. Changes nothing.",
                identifier_schema(false, "Store id or name (default: the active store)."),
                annotations(true, false, true, true),
            ),
            tool(
                "stores_get_settings",
                "Store settings and folders",
                "Read a store's settings from OrderDesk (GET /store): its name and folders \
                 (id and name) — use folder ids with orders_list and orders_move. Changes \
                 nothing.",
                json!({
                    "type": "object",
                    "properties": {
                        "store": {"type": "string", "minLength": 1,
                                  "description": "Store id or name (default: the active store)."}
                    },
                    "additionalProperties": false
                }),
                annotations(true, false, true, true),
            ),
        ]
    }

    fn call(name: String, arguments: String) -> ToolResult {
        let args = parse_args(&arguments)?;
        match name.as_str() {
            "stores_register" => register(&args),
            "stores_list" => list(),
            "stores_use_store" => use_store(&args),
            "stores_resolve" => resolve(&args),
            "stores_delete" => delete(&args),
            "stores_test" => test(&args),
            "stores_get_settings" => settings(&args),
            other => Err(ToolError::InvalidInput(format!(
                "the stores component has no tool named `{other}`"
            ))),
        }
    }
}

fn summary_json(summary: &vault::StoreSummary) -> Value {
    let mut value = store_json(&summary.store);
    value["created_at"] = json!(summary.created_at);
    value["active"] = json!(summary.active);
    value
}

fn register(args: &Args) -> ToolResult {
    let store_id = required_str(args, "store_id")?;
    let api_key = required_str(args, "api_key")?;
    let name = optional_str(args, "store_name")?;
    let label = optional_str(args, "label")?;
    let verify = optional_bool(args, "verify")?.unwrap_or(true);
    let saved = vault::register_store(
        &store_id,
        &api_key,
        name.as_deref(),
        label.as_deref(),
        verify,
    )
    .map_err(host_error)?;
    ok_json(json!({
        "registered": summary_json(&saved),
        "verified": verify,
        "next": if saved.active {
            "It is the session's active store: store-bound tools use it when no store is named."
        } else {
            "Call stores_use_store to make it the active store, or name it in store-bound tools."
        },
    }))
}

fn list() -> ToolResult {
    let stores = vault::list_stores().map_err(host_error)?;
    ok_json(json!({
        "stores": stores.iter().map(summary_json).collect::<Vec<_>>(),
        "count": stores.len(),
    }))
}

fn use_store(args: &Args) -> ToolResult {
    let identifier = required_str(args, "identifier")?;
    let store = session::set_active_store(&identifier).map_err(host_error)?;
    ok_json(json!({"active_store": store_json(&store)}))
}

fn resolve(args: &Args) -> ToolResult {
    let identifier = required_str(args, "identifier")?;
    let found = vault::resolve_store(&identifier).map_err(host_error)?;
    let matched_by = match found.matched_by {
        vault::MatchKind::StoreId => "store_id",
        vault::MatchKind::Name => "name",
    };
    ok_json(json!({"store": summary_json(&found.store), "matched_by": matched_by}))
}

fn delete(args: &Args) -> ToolResult {
    let identifier = required_str(args, "identifier")?;
    let deleted = vault::delete_store(&identifier).map_err(host_error)?;
    ok_json(json!({"deleted": summary_json(&deleted)}))
}

fn get(
    path: &str,
    store: Option<String>,
    cache: orderdesk::CacheMode,
) -> Result<(Value, String), ToolError> {
    let response = orderdesk::send(&orderdesk::ApiRequest {
        method: orderdesk::Method::Get,
        path: path.to_string(),
        query: Vec::new(),
        body: None,
        store,
        cache,
    })
    .map_err(host_error)?;
    Ok((parse_body(&response.body)?, response.store_id))
}

fn test(args: &Args) -> ToolResult {
    let store = optional_str(args, "identifier")?;
    let (body, store_id) = get("/test", store, orderdesk::CacheMode::Bypass)?;
    ok_json(json!({
        "store_id": store_id,
        "ok": body.get("status").and_then(Value::as_str) == Some("success"),
        "message": body.get("message"),
        "orderdesk_time": body.get("current_date_time"),
    }))
}

/// OrderDesk sends `folders` as a map id→name in some accounts and as a list of
/// `{id, name}` in others; answer one shape.
fn normalise_folders(folders: Option<&Value>) -> Vec<Value> {
    let mut out: Vec<Value> = match folders {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| json!({"id": f.get("id").map(id_text), "name": f.get("name")}))
            .collect(),
        _ => Vec::new(),
    };
    out.sort_by_key(|f| {
        f["id"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    out
}

fn id_text(id: &Value) -> Value {
    match id {
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

fn settings(args: &Args) -> ToolResult {
    let store = optional_str(args, "store")?;
    let (body, store_id) = get("/store", store, orderdesk::CacheMode::UseCache)?;
    let settings = body.get("store").cloned().unwrap_or(Value::Null);
    ok_json(json!({
        "store_id": store_id,
        "name": settings.get("name"),
        "folders": normalise_folders(settings.get("folders")),
        "settings": settings,
    }))
}

orderdesk_tool_kit::bindings::export_tools!(Stores);
