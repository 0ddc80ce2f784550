//! The `tenant` tool group: who the session is acting for.
//!
//! Grants: `session`, `vault`, `log`. The master key passes through this component only
//! on its way to the host's vault; it is never logged, stored or returned.

use orderdesk_tool_kit::{
    Args, Guest, Tool, ToolError, ToolResult, annotations, host_error, ok_json, parse_args,
    required_str, session, store_json, tool, vault,
};
use serde_json::json;

struct Tenant;

impl Guest for Tenant {
    fn list() -> Vec<Tool> {
        vec![
            tool(
                "tenant_info",
                "Session and tenant info",
                "Tell whether this session is authenticated and, if so, the tenant id, the \
                 active store and how many stores the tenant has. Changes nothing and never \
                 shows key material.",
                json!({"type": "object", "properties": {}, "additionalProperties": false}),
                annotations(true, false, true, false),
            ),
            tool(
                "tenant_use_master_key",
                "Authenticate with a master key",
                "Authenticate this session as the tenant that owns `master_key` (from \
                 `orderdesk-mcp tenant create`). Prefer starting the server with \
                 ORDERDESK_MCP_MASTER_KEY so the key never passes through the chat. Failed \
                 attempts are rate-limited.",
                json!({
                    "type": "object",
                    "properties": {
                        "master_key": {"type": "string", "minLength": 1,
                                       "description": "The tenant's master key."}
                    },
                    "required": ["master_key"],
                    "additionalProperties": false
                }),
                annotations(false, false, true, false),
            ),
        ]
    }

    fn call(name: String, arguments: String) -> ToolResult {
        let args = parse_args(&arguments)?;
        match name.as_str() {
            "tenant_info" => info(),
            "tenant_use_master_key" => use_master_key(&args),
            other => Err(ToolError::InvalidInput(format!(
                "the tenant component has no tool named `{other}`"
            ))),
        }
    }
}

fn info() -> ToolResult {
    let session = session::info();
    if !session.authenticated {
        return ok_json(json!({
            "authenticated": false,
            "sandbox": session.sandbox,
            "hint": "Authenticate with tenant_use_master_key, or start the server with \
                     ORDERDESK_MCP_MASTER_KEY set (or with --sandbox to try the demo store)."
        }));
    }
    let store_count = vault::list_stores().map_err(host_error)?.len();
    ok_json(json!({
        "authenticated": true,
        "sandbox": session.sandbox,
        "tenant_id": session.tenant_id,
        "active_store": session.active_store.as_ref().map(store_json),
        "store_count": store_count,
    }))
}

fn use_master_key(args: &Args) -> ToolResult {
    let key = required_str(args, "master_key")?;
    let tenant = vault::authenticate(&key).map_err(host_error)?;
    ok_json(json!({
        "authenticated": true,
        "tenant_id": tenant.tenant_id,
        "store_count": tenant.store_count,
        "active_store": tenant.active_store.as_ref().map(store_json),
    }))
}

orderdesk_tool_kit::bindings::export_tools!(Tenant);
