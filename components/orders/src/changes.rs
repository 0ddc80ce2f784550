//! `orders_changes`: the orders OrderDesk reported changed ("post order to URL" rules
//! pushing to the server), newest first, compact, with a cursor. It asks the host
//! (`orderdesk::changes`), never OrderDesk, so it costs no rate-limit tokens: the
//! cheap way for an agent to learn what changed since it last looked, before reading
//! those orders with `orders_get`.

use orderdesk_tool_kit::args::{NonBlank, WholeNumber, in_range, invalid};
use orderdesk_tool_kit::orderdesk::{self, ChangeQuery, OrderChange};
use orderdesk_tool_kit::{ToolError, ToolSpec, host_error};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::schema::{self, DATE_PATTERN, READ};

/// The default and largest page.
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 100;

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "orders_changes",
            "Orders changed recently",
            "List the orders OrderDesk reported as created, changed or moved (its \"post \
             order to URL\" rules push them to this server), newest first: order id, store, \
             folder, the order's date_updated and when the change arrived (UTC). Filter by \
             `store` and `since` (UTC); follow `next_cursor` for older changes. Asks the \
             server, not OrderDesk (no rate-limit cost); read an order with orders_get. \
             Empty when no store has a push rule (`orderdesk-mcp webhooks info` shows how to \
             add one). Changes nothing.",
        )
        .input(input)
        .output(output)
        .annotations(READ)
        .run(changes),
    ]
}

fn input() -> Value {
    let mut input = schema::input(
        json!({
            "since": {"type": "string", "pattern": DATE_PATTERN,
                      "description": "Only changes received at or after this time, UTC (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)."},
            "cursor": {"type": "string", "pattern": "^[0-9]{1,18}$",
                       "description": "`next_cursor` of the previous page: the changes before it."},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
                      "description": "At most this many changes (default 20, at most 100)."}
        }),
        &[],
    );
    input["properties"]["store"]["description"] =
        json!("Only this store (name or OrderDesk store id); default: all of your stores.");
    input
}

fn output() -> Value {
    let change = json!({
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "store_id": {"type": "string"},
            "store": {"type": ["string", "null"], "description": "Your name for the store."},
            "folder_id": {"type": ["integer", "null"]},
            "date_updated": {"type": ["string", "null"], "description": "The order's date_updated as OrderDesk sent it."},
            "received_at": {"type": "string", "description": "When the change arrived, UTC."}
        },
        "required": ["order_id", "store_id", "received_at"]
    });
    json!({
        "type": "object",
        "properties": {
            "changes": {"type": "array", "items": change},
            "count": {"type": "integer", "minimum": 0},
            "next_cursor": {"type": "string", "description": "Pass as `cursor` for older changes; absent on the last page."}
        },
        "required": ["changes", "count"]
    })
}

#[derive(Deserialize)]
struct Changes {
    store: Option<NonBlank>,
    since: Option<NonBlank>,
    cursor: Option<NonBlank>,
    limit: Option<WholeNumber>,
}

fn changes(args: Changes) -> Result<Value, ToolError> {
    let limit = in_range("limit", args.limit, 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let before_event_id = match &args.cursor {
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
            invalid("`cursor` must be a `next_cursor` this tool answered".to_string())
        })?),
        None => None,
    };
    // One more than asked says whether an older page exists.
    let mut found = orderdesk::changes(&ChangeQuery {
        store: args.store.map(String::from),
        since: args.since.map(String::from),
        before_event_id,
        limit: (limit + 1) as u32,
    })
    .map_err(host_error)?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    let mut answer = json!({
        "count": found.len(),
        "changes": found.iter().map(change_json).collect::<Vec<_>>(),
    });
    if more && let Some(last) = found.last() {
        answer["next_cursor"] = json!(last.event_id.to_string());
    }
    Ok(answer)
}

fn change_json(change: &OrderChange) -> Value {
    json!({
        "order_id": change.order_id,
        "store_id": change.store_id,
        "store": change.store_name,
        "folder_id": change.folder_id,
        "date_updated": change.date_updated,
        "received_at": change.received_at,
    })
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{self, MockHost, error_message};
    use orderdesk_tool_kit::{ToolError, Tools};
    use serde_json::json;

    fn call(arguments: serde_json::Value) -> Result<serde_json::Value, ToolError> {
        testing::call(
            &Tools::new("orders").extend(super::tools()),
            "orders_changes",
            arguments,
        )
    }

    #[test]
    fn changes_come_newest_first_in_pages_with_a_cursor() {
        let _host = MockHost::with_store()
            .store("200002", "second")
            .pushed("100001", "11", Some(1))
            .pushed("200002", "22", None)
            .pushed("100001", "33", Some(2));
        let all = call(json!({})).unwrap();
        let ids: Vec<_> = all["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["order_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["33", "22", "11"]);
        assert_eq!(all["count"], 3);
        assert!(all.get("next_cursor").is_none());
        assert_eq!(all["changes"][0]["store"], "main");
        assert_eq!(all["changes"][0]["folder_id"], 2);

        let page = call(json!({"limit": 2})).unwrap();
        assert_eq!(page["count"], 2);
        let cursor = page["next_cursor"].as_str().unwrap().to_string();
        let rest = call(json!({"limit": 2, "cursor": cursor})).unwrap();
        assert_eq!(rest["changes"][0]["order_id"], "11");
        assert!(rest.get("next_cursor").is_none());

        let second = call(json!({"store": "second"})).unwrap();
        assert_eq!(second["count"], 1);
        assert_eq!(second["changes"][0]["order_id"], "22");
    }

    #[test]
    fn a_bad_cursor_or_limit_is_refused_with_what_to_do() {
        let _host = MockHost::with_store();
        let message = error_message(call(json!({"cursor": "x1"})), ToolError::InvalidInput);
        assert!(message.contains("cursor"), "{message}");
        assert!(call(json!({"limit": 0})).is_err());
        assert!(call(json!({"limit": 101})).is_err());
    }
}
