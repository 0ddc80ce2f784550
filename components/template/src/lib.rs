//! `template`: the smallest useful orderdesk-mcp tool component. Copy this crate to
//! start your own; docs/authoring-rust.md walks through it step by step.
//!
//! Tools:
//!
//! - `template_hello {name}` → `{"greeting": "Hello, NAME"}`. Calls nothing of the host.
//! - `template_store_test {store?}` → sends OrderDesk's `GET /test` for a store through
//!   the host and answers `{"connected": true, "store_id": …, "message": …}`.
//!
//! Imports from `orderdesk:mcp`: `orderdesk` (to send the request) and `log` (one log
//! line), plus the shared `types`. A Rust component imports only the host functions its
//! code actually calls, so its manifest `template.toml` grants exactly those two:
//! `orderdesk = "read"` (GET only) and `log = true`. Delete `template_store_test` and
//! the component imports nothing from the host at all.
//!
//! The shape every component follows: `tools()` declares the tools, each with the
//! handler that runs it, and `export!(tools)` exports that table as the component's
//! `tools` interface. The unit tests at the end run the tools natively (`cargo test`)
//! against the kit's mock host.

use orderdesk_tool_kit::args::NonBlank;
use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
use orderdesk_tool_kit::{ToolError, ToolSpec, Tools, annotations, host_error, log, parse_body};
use serde::Deserialize;
use serde_json::{Value, json};

/// The tools, in the order `tools/list` shows them. The host calls `list` once when it
/// loads the component and checks every entry: names (`^[a-zA-Z0-9_-]{1,64}$`, prefixed
/// with the component's name by convention), input schemas (a JSON object that is a
/// valid JSON Schema), sizes.
fn tools() -> Tools {
    Tools::new("template")
        .tool(
            ToolSpec::new(
                "template_hello",
                "Say hello",
                // What the model reads to decide when to call the tool: what it does,
                // what it changes, and when to use it.
                "Greet someone by name: answers {\"greeting\": \"Hello, NAME\"}. Changes \
                 nothing and talks to no outside system.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Who to greet, e.g. \"Ada\"."
                        }
                    },
                    "required": ["name"],
                    "additionalProperties": false
                })
            })
            // read_only, destructive, idempotent, open_world
            .annotations(annotations(true, false, true, false))
            .run(hello),
        )
        .tool(
            ToolSpec::new(
                "template_store_test",
                "Test the store connection",
                "Check that OrderDesk accepts the credentials registered for a store (sends \
                 OrderDesk's GET /test, never from the cache). Changes nothing. Use it when \
                 requests to a store fail with HTTP 401.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "store": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Store name or OrderDesk store id (default: the \
                                            session's active store)."
                        }
                    },
                    "additionalProperties": false
                })
            })
            // open_world: it talks to OrderDesk.
            .annotations(annotations(true, false, true, true))
            .run(store_test),
        )
}

// The WIT `tools` interface of this component: `list` answers the table's tools, `call`
// finds the tool, parses the arguments into its handler's argument type (an
// `invalid-input` naming the field when they do not fit), runs it and serialises the
// result. The host makes a fresh instance for every call, so nothing survives from one
// call to the next (no globals, no caches).
orderdesk_tool_kit::export!(tools);

/// The arguments of `template_hello`, as its input schema declares them.
#[derive(Deserialize)]
struct HelloArgs {
    name: NonBlank,
}

/// `template_hello`: pure computation, no host call.
fn hello(args: HelloArgs) -> Result<Value, ToolError> {
    Ok(json!({ "greeting": format!("Hello, {}", args.name) }))
}

#[derive(Deserialize)]
struct StoreTestArgs {
    /// `None` lets the host use the session's active store.
    store: Option<NonBlank>,
}

/// `template_store_test`: one OrderDesk request through the host.
fn store_test(args: StoreTestArgs) -> Result<Value, ToolError> {
    let request = ApiRequest {
        method: Method::Get, // a read-only grant allows only GET
        path: "/test".to_string(),
        query: Vec::new(),
        body: None, // GET and DELETE carry no body
        store: args.store.map(String::from),
        cache: CacheMode::Bypass, // a connection test must really ask OrderDesk
    };
    // The host adds the store's API key (the component never sees it), paces and
    // retries the request, and answers an error status as a `HostError`. `host_error`
    // maps it to the `ToolError` the model reads.
    let response = orderdesk::send(&request).map_err(host_error)?;
    log::write(
        log::Level::Info,
        "store connection tested",
        &[("store_id".to_string(), response.store_id.clone())],
    );
    let body = parse_body(&response.body)?;
    Ok(json!({
        "connected": true,
        "store_id": response.store_id,
        "message": body.get("message").cloned().unwrap_or(Value::Null),
    }))
}

/// Native unit tests (`cargo test`): the kit answers host calls from its mock host.
#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{self, MockHost, error_message};

    use super::*;

    #[test]
    fn hello_greets_by_name() {
        let result = testing::call(&tools(), "template_hello", json!({"name": "Ada"}));
        assert_eq!(result, Ok(json!({"greeting": "Hello, Ada"})));
    }

    #[test]
    fn a_blank_name_is_refused_naming_the_field() {
        let message = error_message(
            testing::call(&tools(), "template_hello", json!({"name": "  "})),
            ToolError::InvalidInput,
        );
        assert!(
            message.starts_with("`name`: must not be empty"),
            "{message}"
        );
    }

    #[test]
    fn store_test_sends_get_test_to_the_active_store() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "message": "Connection Successful"}),
        );
        let result = testing::call(&tools(), "template_store_test", json!({})).unwrap();
        assert_eq!(
            result,
            json!({"connected": true, "store_id": "100001", "message": "Connection Successful"})
        );
        let requests = host.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, Method::Get);
        assert_eq!(requests[0].path, "/test");
        assert_eq!(requests[0].cache, CacheMode::Bypass);
        assert_eq!(requests[0].body, None);
        assert_eq!(host.logs()[0].message, "store connection tested");
    }

    #[test]
    fn a_revoked_key_is_an_upstream_error_and_an_unknown_store_sends_nothing() {
        let host = MockHost::with_store();
        host.reply(
            401,
            json!({"status": "error", "message": "Invalid API key"}),
        );
        let revoked = testing::call(&tools(), "template_store_test", json!({"store": "main"}));
        let message = error_message(revoked, ToolError::Upstream);
        assert!(
            message.starts_with("OrderDesk answered HTTP 401: Invalid API key; "),
            "{message}"
        );
        let message = error_message(
            testing::call(&tools(), "template_store_test", json!({"store": "nope"})),
            ToolError::NotFound,
        );
        assert!(message.contains("stores_list"), "{message}");
        assert_eq!(
            host.requests().len(),
            1,
            "only the first call reached OrderDesk"
        );
    }
}
