//! The `stores` tool group: a tenant's OrderDesk stores.
//!
//! Grants: `session`, `vault`, `orderdesk` (read), `log`. API keys go into the host's
//! vault through `stores_register` and `stores_update_key` and never come back out: no
//! result of this component carries key material.

use orderdesk_tool_kit::args::{NoArguments, NonBlank, invalid};
use orderdesk_tool_kit::{
    ToolError, ToolSpec, Tools, annotations, host_error, orderdesk, parse_body, session,
    store_json, store_schema, vault,
};
use serde::Deserialize;
use serde_json::{Value, json};

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

fn tools() -> Tools {
    Tools::new("stores")
        .tool(
            ToolSpec::new(
                "stores_register",
                "Register an OrderDesk store",
                "Save an OrderDesk store (its store id and API key) for this tenant. The key is \
                 encrypted by the host and never shown again. By default the credentials are \
                 first checked with OrderDesk's GET /test; pass `verify: false` to skip that. \
                 A duplicate store id or name is refused. Prefer `orderdesk-mcp stores add` on \
                 the command line so the API key never passes through the chat.",
            )
            .input(|| {
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
                })
            })
            .output(|| registered_schema("registered"))
            .annotations(annotations(false, false, false, true))
            .run(register),
        )
        .tool(
            ToolSpec::new(
                "stores_update_key",
                "Replace a store's API key",
                "Replace the OrderDesk API key of a registered store (by store id or name), e.g. \
                 after it was regenerated in OrderDesk or when OrderDesk answers 401. The new key \
                 is first checked with OrderDesk's GET /test; if OrderDesk refuses it, the old key \
                 is kept. The key is encrypted by the host and never shown again. Prefer \
                 `orderdesk-mcp stores update-key STORE` on the command line so the API key \
                 never passes through the chat.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "identifier": {"type": "string", "minLength": 1,
                                       "description": "Store id or store name."},
                        "api_key": {"type": "string", "minLength": 1,
                                    "description": "The store's new OrderDesk API key."}
                    },
                    "required": ["identifier", "api_key"],
                    "additionalProperties": false
                })
            })
            .output(|| registered_schema("updated"))
            .annotations(annotations(false, true, true, true))
            .run(update_key),
        )
        .tool(
            ToolSpec::new(
                "stores_list",
                "List stores",
                "List this tenant's registered stores (id, name, label, whether active). \
                 Changes nothing; never shows API keys.",
            )
            .output(|| {
                object(
                    json!({"stores": {"type": "array", "items": summary_schema()},
                           "count": {"type": "integer", "minimum": 0}}),
                    &["stores", "count"],
                )
            })
            .annotations(annotations(true, false, true, false))
            .run(list),
        )
        .tool(
            ToolSpec::new(
                "stores_use_store",
                "Set the active store",
                "Make a store the session's active store: store-bound tools use it when they \
                 are not given a `store`. Accepts a store id or a store name. Changes only this \
                 session.",
            )
            .input(|| identifier_schema(true, "Store id or store name."))
            .output(|| object(json!({"active_store": store_schema()}), &["active_store"]))
            .annotations(annotations(false, false, true, false))
            .run(use_store),
        )
        .tool(
            ToolSpec::new(
                "stores_resolve",
                "Resolve a store",
                "Find a store by OrderDesk store id first, then by name, and say which matched. \
                 Changes nothing.",
            )
            .input(|| identifier_schema(true, "Store id or store name."))
            .output(|| {
                object(
                    json!({"store": summary_schema(),
                           "matched_by": {"type": "string", "enum": ["store_id", "name"]}}),
                    &["store", "matched_by"],
                )
            })
            .annotations(annotations(true, false, true, false))
            .run(resolve),
        )
        .tool(
            ToolSpec::new(
                "stores_delete",
                "Delete a store",
                "Remove a store and its encrypted API key from this tenant. Nothing changes in \
                 OrderDesk itself. Cannot be undone; register the store again to restore it.",
            )
            .input(|| identifier_schema(true, "Store id or store name."))
            .output(|| object(json!({"deleted": summary_schema()}), &["deleted"]))
            .annotations(annotations(false, true, true, false))
            .run(delete),
        )
        .tool(
            ToolSpec::new(
                "stores_test",
                "Test a store's connection",
                "Call OrderDesk's GET /test for a store (`store`: its id or name; the active \
                 one if none is given), always live, never from cache: checks the saved API \
                 key. Changes nothing.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "store": store_property(),
                        "identifier": {"type": "string", "minLength": 1,
                                       "description": "Deprecated: the same as `store`."}
                    },
                    "additionalProperties": false
                })
            })
            .output(|| {
                object(
                    json!({
                        "store_id": {"type": "string"},
                        "ok": {"type": "boolean", "description": "OrderDesk accepted the store id and key."},
                        "message": {"type": ["string", "null"]},
                        "orderdesk_time": {"type": ["string", "null"],
                                           "description": "OrderDesk's clock (YYYY-MM-DD HH:MM:SS)."}
                    }),
                    &["store_id", "ok", "message", "orderdesk_time"],
                )
            })
            .annotations(annotations(true, false, true, true))
            .run(test),
        )
        .tool(
            ToolSpec::new(
                "stores_get_settings",
                "Store settings and folders",
                "Read a store's settings from OrderDesk (GET /store): its name and folders \
                 (id and name) — use folder ids with orders_list and orders_move. May answer \
                 from the host's cache (then `cache_age_s` says how old it is; `fresh: true` \
                 reads OrderDesk again). Changes nothing.",
            )
            .input(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "store": store_property(),
                        "fresh": {"type": "boolean", "default": false,
                                  "description": "Read OrderDesk now instead of the host's cache."}
                    },
                    "additionalProperties": false
                })
            })
            .output(|| {
                let folder = object(
                    json!({"id": {"type": ["string", "null"]}, "name": {}}),
                    &["id", "name"],
                );
                object(
                    json!({
                        "store_id": {"type": "string"},
                        "name": {"description": "The store's name in OrderDesk."},
                        "folders": {"type": "array", "items": folder},
                        "settings": {"description": "Everything GET /store answered, as OrderDesk sent it."},
                        "cache_age_s": {"type": "integer", "minimum": 0,
                                        "description": "Seconds since OrderDesk gave this answer (only when the host's cache answered)."}
                    }),
                    &["store_id", "name", "folders", "settings"],
                )
            })
            .annotations(annotations(true, false, true, true))
            .run(settings),
        )
}

/// The optional `store` argument of the tools that act on one store.
fn store_property() -> Value {
    json!({"type": "string", "minLength": 1,
           "description": "Store id or name (default: the session's active store)."})
}

/// An object schema with `properties` and `required`.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// A store with its bookkeeping, as `summary_json` shows it.
fn summary_schema() -> Value {
    let mut schema = store_schema();
    schema["properties"]["created_at"] =
        json!({"type": "string", "description": "When it was registered, UTC."});
    schema["properties"]["active"] =
        json!({"type": "boolean", "description": "The session's active store."});
    schema["required"] = json!(["store_id", "name", "label", "created_at", "active"]);
    schema
}

/// The answer of a tool that saved a key: the store under `key`, `verified`, `next`.
fn registered_schema(key: &str) -> Value {
    let mut properties = json!({
        "verified": {"type": "boolean", "description": "OrderDesk accepted the key before it was saved."},
        "next": {"type": "string"}
    });
    properties[key] = summary_schema();
    object(properties, &[key, "verified", "next"])
}

fn summary_json(summary: &vault::StoreSummary) -> Value {
    let mut value = store_json(&summary.store);
    value["created_at"] = json!(summary.created_at);
    value["active"] = json!(summary.active);
    value
}

#[derive(Deserialize)]
struct Register {
    store_id: NonBlank,
    api_key: NonBlank,
    store_name: Option<NonBlank>,
    label: Option<NonBlank>,
    verify: Option<bool>,
}

fn register(args: Register) -> Result<Value, ToolError> {
    let verify = args.verify.unwrap_or(true);
    let saved = vault::register_store(
        &args.store_id,
        &args.api_key,
        args.store_name.as_deref(),
        args.label.as_deref(),
        verify,
    )
    .map_err(host_error)?;
    Ok(json!({
        "registered": summary_json(&saved),
        "verified": verify,
        "next": if saved.active {
            "It is the session's active store: store-bound tools use it when no store is named."
        } else {
            "Call stores_use_store to make it the active store, or name it in store-bound tools."
        },
    }))
}

#[derive(Deserialize)]
struct UpdateKey {
    identifier: NonBlank,
    api_key: NonBlank,
}

fn update_key(args: UpdateKey) -> Result<Value, ToolError> {
    let updated = vault::update_store_key(&args.identifier, &args.api_key).map_err(host_error)?;
    Ok(json!({
        "updated": summary_json(&updated),
        "verified": true,
        "next": "The new key is in use for this store from now on; stores_test checks it again.",
    }))
}

fn list(_: NoArguments) -> Result<Value, ToolError> {
    let stores = vault::list_stores().map_err(host_error)?;
    Ok(json!({
        "stores": stores.iter().map(summary_json).collect::<Vec<_>>(),
        "count": stores.len(),
    }))
}

/// The argument of the tools that name one store.
#[derive(Deserialize)]
struct Identifier {
    identifier: NonBlank,
}

fn use_store(args: Identifier) -> Result<Value, ToolError> {
    let store = session::set_active_store(&args.identifier).map_err(host_error)?;
    Ok(json!({"active_store": store_json(&store)}))
}

fn resolve(args: Identifier) -> Result<Value, ToolError> {
    let found = vault::resolve_store(&args.identifier).map_err(host_error)?;
    let matched_by = match found.matched_by {
        vault::MatchKind::StoreId => "store_id",
        vault::MatchKind::Name => "name",
    };
    Ok(json!({"store": summary_json(&found.store), "matched_by": matched_by}))
}

fn delete(args: Identifier) -> Result<Value, ToolError> {
    let deleted = vault::delete_store(&args.identifier).map_err(host_error)?;
    Ok(json!({"deleted": summary_json(&deleted)}))
}

/// `GET path` for `store`: the parsed body, the store id, and the age of a cached answer.
fn get(
    path: &str,
    store: Option<NonBlank>,
    cache: orderdesk::CacheMode,
) -> Result<(Value, String, Option<u32>), ToolError> {
    let response = orderdesk::request(&orderdesk::ApiRequest {
        method: orderdesk::Method::Get,
        path: path.to_string(),
        query: Vec::new(),
        body: None,
        store: store.map(String::from),
        cache,
    })
    .map_err(host_error)?;
    Ok((
        parse_body(&response.body)?,
        response.store_id,
        response.cache_age_s,
    ))
}

#[derive(Deserialize)]
struct TestArgs {
    store: Option<NonBlank>,
    /// What `store` was called before every store-bound tool took `store`.
    identifier: Option<NonBlank>,
}

fn test(args: TestArgs) -> Result<Value, ToolError> {
    let store = match (args.store, args.identifier) {
        (Some(store), Some(identifier)) if *store != *identifier => {
            return Err(invalid(
                "`store` and `identifier` name different stores: give only `store`",
            ));
        }
        (store, identifier) => store.or(identifier),
    };
    let (body, store_id, _) = get("/test", store, orderdesk::CacheMode::Bypass)?;
    Ok(json!({
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

#[derive(Deserialize)]
struct Settings {
    store: Option<NonBlank>,
    fresh: Option<bool>,
}

fn settings(args: Settings) -> Result<Value, ToolError> {
    let cache = if args.fresh.unwrap_or(false) {
        orderdesk::CacheMode::Bypass
    } else {
        orderdesk::CacheMode::UseCache
    };
    let (body, store_id, cache_age) = get("/store", args.store, cache)?;
    let settings = body.get("store").cloned().unwrap_or(Value::Null);
    let mut answer = json!({
        "store_id": store_id,
        "name": settings.get("name"),
        "folders": normalise_folders(settings.get("folders")),
        "settings": settings,
    });
    if let Some(age) = cache_age {
        answer["cache_age_s"] = json!(age);
    }
    Ok(answer)
}

orderdesk_tool_kit::export!(tools);

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{self, MockHost, error_message};

    use orderdesk_tool_kit::orderdesk::CacheMode;

    use super::*;

    #[test]
    fn register_verifies_with_get_test_and_keeps_the_key_in_the_vault() {
        let host = MockHost::new().tenant("t");
        host.reply(
            200,
            json!({"status": "success", "message": "Connection Successful"}),
        );
        let result = testing::call(
            &tools(),
            "stores_register",
            json!({"store_id": "123", "api_key": "secret-key", "store_name": "shop"}),
        )
        .unwrap();
        assert_eq!(result["registered"]["name"], "shop");
        assert_eq!(result["registered"]["active"], true);
        assert!(!result.to_string().contains("secret-key"));
        assert_eq!(host.api_key("123").as_deref(), Some("secret-key"));
        let requests = host.requests();
        assert_eq!(
            (requests[0].path.as_str(), requests[0].store_id.as_str()),
            ("/test", "123")
        );
        let listed = testing::call(&tools(), "stores_list", json!({})).unwrap();
        assert_eq!(listed["count"], 1);
    }

    #[test]
    fn a_key_orderdesk_refuses_is_not_saved() {
        let host = MockHost::new().tenant("t");
        host.reply(
            401,
            json!({"status": "error", "message": "Invalid API key"}),
        );
        let refused = testing::call(
            &tools(),
            "stores_register",
            json!({"store_id": "123", "api_key": "wrong"}),
        );
        let message = error_message(refused, ToolError::InvalidInput);
        assert!(message.contains("nothing was saved"), "{message}");
        assert_eq!(host.api_key("123"), None);
        let listed = testing::call(&tools(), "stores_list", json!({})).unwrap();
        assert_eq!(listed["count"], 0);
    }

    #[test]
    fn update_key_checks_the_new_key_before_it_replaces_the_old_one() {
        let host = MockHost::with_store();
        let store = testing::STORE_ID.to_string();
        let before = host.api_key(&store);
        // OrderDesk refuses the new key: the old one stays.
        host.reply(
            401,
            json!({"status": "error", "message": "Invalid API key"}),
        );
        let refused = testing::call(
            &tools(),
            "stores_update_key",
            json!({"identifier": store, "api_key": "wrong-key"}),
        );
        let message = error_message(refused, ToolError::InvalidInput);
        assert!(message.contains("old key was kept"), "{message}");
        assert_eq!(host.api_key(&store), before);
        // OrderDesk accepts it: it replaces the old one, and no result shows it.
        host.reply(
            200,
            json!({"status": "success", "message": "Connection Successful"}),
        );
        let result = testing::call(
            &tools(),
            "stores_update_key",
            json!({"identifier": store, "api_key": "new-secret-key"}),
        )
        .unwrap();
        assert_eq!(result["updated"]["store_id"], store.as_str());
        assert!(!result.to_string().contains("new-secret-key"));
        assert_eq!(host.api_key(&store).as_deref(), Some("new-secret-key"));
        let requests = host.requests();
        assert_eq!(requests.len(), 2);
        assert!(requests.iter().all(|r| r.path == "/test"));
        // An unknown store is not found, and nothing is sent.
        let missing = testing::call(
            &tools(),
            "stores_update_key",
            json!({"identifier": "nope", "api_key": "k"}),
        );
        let message = error_message(missing, ToolError::NotFound);
        assert!(message.contains("stores_list"), "{message}");
        assert_eq!(host.requests().len(), 2);
    }

    #[test]
    fn a_blank_label_is_refused_naming_the_field() {
        let _host = MockHost::new().tenant("t");
        let refused = testing::call(
            &tools(),
            "stores_register",
            json!({"store_id": "123", "api_key": "k", "label": "", "verify": false}),
        );
        let message = error_message(refused, ToolError::InvalidInput);
        assert!(
            message.starts_with("`label`: must not be empty"),
            "{message}"
        );
    }

    #[test]
    fn settings_answer_folders_in_one_shape_sorted_by_id() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "store": {"name": "Demo", "folders": {"9": "Shipped", "1": "New"}}}),
        )
        .reply(
            200,
            json!({"status": "success", "store": {"folders": [{"id": 9, "name": "Shipped"}, {"id": "1", "name": "New"}]}}),
        );
        let expected = json!([{"id": "1", "name": "New"}, {"id": "9", "name": "Shipped"}]);
        for _ in 0..2 {
            let settings = testing::call(&tools(), "stores_get_settings", json!({})).unwrap();
            assert_eq!(settings["folders"], expected);
        }
        assert_eq!(host.requests()[0].path, "/store");
    }

    #[test]
    fn settings_say_how_old_a_cached_answer_is_and_fresh_reads_orderdesk() {
        let host = MockHost::with_store();
        host.reply_cached(
            200,
            json!({"status": "success", "store": {"name": "Demo"}}),
            17,
        )
        .reply(200, json!({"status": "success", "store": {"name": "Demo"}}));
        let cached = testing::call(&tools(), "stores_get_settings", json!({})).unwrap();
        assert_eq!(cached["cache_age_s"], 17);
        let fresh = testing::call(&tools(), "stores_get_settings", json!({"fresh": true})).unwrap();
        assert!(fresh.get("cache_age_s").is_none(), "{fresh}");
        let requests = host.requests();
        assert_eq!(requests[0].cache, CacheMode::UseCache);
        assert_eq!(requests[1].cache, CacheMode::Bypass);
    }

    #[test]
    fn test_takes_store_like_every_store_bound_tool() {
        let host = MockHost::with_store().store("200002", "second");
        host.reply(
            200,
            json!({"status": "success", "message": "Connection Successful",
                               "current_date_time": "2026-12-02 10:00:00"}),
        )
        .reply(
            200,
            json!({"status": "success", "message": "Connection Successful"}),
        );
        let tested = testing::call(&tools(), "stores_test", json!({"store": "second"})).unwrap();
        assert_eq!(
            (tested["store_id"].as_str(), tested["ok"].as_bool()),
            (Some("200002"), Some(true))
        );
        // The old argument name still works.
        testing::call(&tools(), "stores_test", json!({"identifier": "second"})).unwrap();
        assert!(
            host.requests()
                .iter()
                .all(|r| r.store_id == "200002" && r.cache == CacheMode::Bypass)
        );
        let both = error_message(
            testing::call(
                &tools(),
                "stores_test",
                json!({"store": "main", "identifier": "second"}),
            ),
            ToolError::InvalidInput,
        );
        assert!(both.contains("give only `store`"), "{both}");
    }
}
