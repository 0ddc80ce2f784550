//! The `tenant` tool group: who the session is acting for.
//!
//! Grants: `session`, `vault`, `log`. The master key passes through this component only
//! on its way to the host's vault; it is never logged, stored or returned.

use orderdesk_tool_kit::args::{NoArguments, NonBlank};
use orderdesk_tool_kit::{
    ToolError, ToolSpec, Tools, annotations, host_error, session, store_json, vault,
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
                 active store and how many stores the tenant has. Changes nothing and never \
                 shows key material.",
            )
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
            .annotations(annotations(false, false, true, false))
            .run(use_master_key),
        )
}

fn info(_: NoArguments) -> Result<Value, ToolError> {
    let session = session::info();
    if !session.authenticated {
        return Ok(json!({
            "authenticated": false,
            "sandbox": session.sandbox,
            "hint": "Authenticate with tenant_use_master_key, or start the server with \
                     ORDERDESK_MCP_MASTER_KEY set (or with --sandbox to try the demo store)."
        }));
    }
    let store_count = vault::list_stores().map_err(host_error)?.len();
    Ok(json!({
        "authenticated": true,
        "sandbox": session.sandbox,
        "tenant_id": session.tenant_id,
        "active_store": session.active_store.as_ref().map(store_json),
        "store_count": store_count,
    }))
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
}
