//! The `inventory` tool group: the inventory items (SKUs, stock, prices) of an
//! OrderDesk store, at `/inventory-items[/{id}]`.
//!
//! Grants: `orderdesk` (read and write), `session` (`budget`: how large a page of items
//! may grow and how long `inventory_update_many` may go on; `report-progress` for it)
//! and `log`. Never `vault`: this component sees no key.
//!
//! Layout: `items.rs` declares the tools (the kit's `ToolSpec`s) and holds the
//! get/create/update/delete handlers, `list.rs` the paged list, `stock.rs`
//! `inventory_adjust_stock`, `bulk.rs` `inventory_update_many`; `item.rs` checks items
//! and change sets before anything is sent; `host.rs` gives requests this component's
//! hints. Requests, fetch → merge → PUT, the `store` and id arguments come from
//! `orderdesk-store-api`.

mod bulk;
mod host;
mod item;
mod items;
mod list;
mod stock;

use orderdesk_tool_kit::Tools;

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> Tools {
    Tools::new("inventory")
        .extend(items::tools())
        .tool(stock::tool())
        .tool(bulk::tool())
}

orderdesk_tool_kit::export!(tools);

/// Native unit tests: each calls a tool through the table, as the host would, with the
/// kit's mock host scripting OrderDesk.
#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::orderdesk::{CacheMode, Method};
    use orderdesk_tool_kit::testing::{self, MockHost, error_message};
    use orderdesk_tool_kit::{HostError, ToolError};
    use serde_json::{Value, json};

    use super::tools;

    fn call(name: &str, arguments: Value) -> Result<Value, ToolError> {
        testing::call(&tools(), name, arguments)
    }

    #[test]
    fn list_sends_the_page_and_filters_and_answers_pagination() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "records_returned": 2, "total_records": "7",
                   "offset": 5, "limit": 2,
                   "inventory_items": {"a": {"id": "1", "code": "MUG"}, "b": {"id": "2"}}}),
        );
        let listed = call(
            "inventory_list",
            json!({"limit": 2, "offset": 5, "code": " MUG "}),
        )
        .unwrap();
        assert_eq!(
            listed["inventory_items"],
            json!([{"id": "1", "code": "MUG"}, {"id": "2"}])
        );
        assert_eq!(
            listed["pagination"],
            json!({"total_records": 7, "records_returned": 2, "offset": 5,
                   "limit": 2, "has_more": false, "next_offset": null})
        );
        assert_eq!(
            (&listed["view"], &listed["store_id"]),
            (&json!("summary"), &json!("100001"))
        );
        let request = &host.requests()[0];
        assert_eq!(
            (request.method, request.path.as_str(), request.cache),
            (Method::Get, "/inventory-items", CacheMode::UseCache)
        );
        assert_eq!(
            request.query,
            [("limit", "2"), ("offset", "5"), ("code", "MUG")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    /// An inventory item as OrderDesk answers it, PHP quirks included.
    fn item(id: u64) -> Value {
        json!({"id": id.to_string(), "name": "Ceramic mug", "code": format!("MUG-{id}"),
               "price": "12.00", "cost": "4.10", "weight": "0.75", "stock": "11",
               "location": "Aisle 4, bin 12", "manufacturer_sku": "CM-WHT-350",
               "metadata": {"supplier": "Potter & Co", "reorder_note": "x".repeat(300)},
               "variation_list": [], "update_source": "api",
               "date_added": "2026-01-10 09:00:00", "date_updated": "2026-11-02 09:15:40"})
    }

    fn page(count: u64) -> Value {
        let items: Vec<Value> = (0..count).map(item).collect();
        json!({"status": "success", "records_returned": count, "total_records": 2000,
               "offset": 0, "limit": count, "inventory_items": items})
    }

    #[test]
    fn reads_answer_a_summary_by_default_and_whole_items_or_fields_on_request() {
        let host = MockHost::with_store();
        for _ in 0..3 {
            host.reply(200, json!({"status": "success", "inventory_item": item(7)}));
        }
        let summary = call("inventory_get", json!({"item_id": "7"})).unwrap();
        assert_eq!(
            summary["inventory_item"],
            json!({"id": "7", "name": "Ceramic mug", "code": "MUG-7", "price": 12,
                   "stock": 11})
        );
        assert_eq!(summary["view"], "summary");
        let full = call(
            "inventory_get",
            json!({"item_id": "7", "view": "full", "fresh": true}),
        )
        .unwrap();
        assert_eq!(
            (&full["inventory_item"], &full["view"]),
            (&item(7), &json!("full"))
        );
        let fields = call(
            "inventory_get",
            json!({"item_id": "7", "fields": ["location", "metadata.supplier"]}),
        )
        .unwrap();
        assert_eq!(
            fields["inventory_item"],
            json!({"id": "7", "location": "Aisle 4, bin 12",
                   "metadata": {"supplier": "Potter & Co"}})
        );
        let caches: Vec<CacheMode> = host.requests().iter().map(|r| r.cache).collect();
        assert_eq!(
            caches,
            [CacheMode::UseCache, CacheMode::Bypass, CacheMode::UseCache]
        );
    }

    #[test]
    fn a_cached_answer_says_how_old_it_is() {
        let host = MockHost::with_store();
        host.reply_cached(
            200,
            json!({"status": "success", "inventory_item": item(7)}),
            12,
        )
        .reply_cached(200, page(3), 30);
        let got = call("inventory_get", json!({"item_id": "7"})).unwrap();
        assert_eq!(got["cache_age_s"], 12);
        assert!(got["note"].as_str().unwrap().contains("fresh: true"));
        let listed = call("inventory_list", json!({})).unwrap();
        assert_eq!(listed["cache_age_s"], 30);
    }

    #[test]
    fn a_list_page_stops_at_the_answer_budget_in_every_view() {
        let host = MockHost::with_store();
        for _ in 0..3 {
            host.reply(200, page(500));
        }
        let budget = orderdesk_store_api::views::answer_budget();
        let mut kept = Vec::new();
        for arguments in [
            json!({"limit": 500, "view": "full"}),
            json!({"limit": 500}),
            json!({"limit": 500, "fields": ["stock", "location"], "fresh": true}),
        ] {
            let listed = call("inventory_list", arguments).unwrap();
            let count = listed["inventory_items"].as_array().unwrap().len();
            assert!(listed.to_string().len() <= budget);
            if count < 500 {
                assert_eq!(listed["pagination"]["next_offset"], count);
                let note = listed["note"].as_str().unwrap();
                assert!(
                    note.contains(&format!("continue with offset {count}")),
                    "{note}"
                );
            }
            kept.push(count);
        }
        assert!(kept[0] < kept[1] && kept[0] < kept[2], "{kept:?}");
        assert_eq!(host.requests()[2].cache, CacheMode::Bypass);
    }

    #[test]
    fn out_of_range_and_undeclared_arguments_never_reach_orderdesk() {
        let host = MockHost::with_store();
        let limit = error_message(
            call("inventory_list", json!({"limit": 501})),
            ToolError::InvalidInput,
        );
        assert_eq!(limit, "`limit` must be a whole number from 1 to 500");
        let sku = error_message(
            call("inventory_list", json!({"sku": "MUG"})),
            ToolError::InvalidInput,
        );
        assert!(sku.contains("`sku`") && sku.contains("`code`"), "{sku}");
        assert!(host.requests().is_empty());
    }

    #[test]
    fn update_keeps_every_field_it_does_not_name_and_refuses_an_unnamed_item() {
        let host = MockHost::with_store();
        let stored = json!({"status": "success",
                            "inventory_item": {"id": "700101", "name": "Mug", "code": "",
                                               "stock": 25, "supplier": {"id": 3}}});
        host.reply(200, stored.clone())
            .reply(200, json!({"status": "success"}))
            .reply(200, stored);
        let updated = call(
            "inventory_update",
            json!({"item_id": "700101", "changes": {"stock": 40}}),
        )
        .unwrap();
        assert_eq!(updated["changed"], true);
        assert_eq!(
            updated["note"],
            "OrderDesk's answer did not include the item; this is what was sent"
        );
        assert_eq!(
            host.requests()[1].body,
            Some(
                json!({"id": "700101", "name": "Mug", "code": "", "stock": 40,
                        "supplier": {"id": 3}})
            )
        );
        let unnamed = error_message(
            call(
                "inventory_update",
                json!({"item_id": "700101", "changes": {"name": null}}),
            ),
            ToolError::InvalidInput,
        );
        assert!(unnamed.contains("neither a name nor a code"), "{unnamed}");
        assert_eq!(
            host.requests().len(),
            3,
            "the refused update only read the item"
        );
    }

    #[test]
    fn a_create_whose_outcome_is_unknown_says_how_to_look_for_the_item() {
        let host = MockHost::with_store();
        host.fail(HostError::OutcomeUnknown("timed out after sending".into()));
        let message = error_message(
            call(
                "inventory_create",
                json!({"item": {"name": "Dripper", "code": "DRIP-9"}}),
            ),
            ToolError::OutcomeUnknown,
        );
        assert!(
            message.contains("inventory_list with {\"code\": \"DRIP-9\"}"),
            "{message}"
        );
        assert_eq!(
            host.requests()[0].body,
            Some(json!({"name": "Dripper", "code": "DRIP-9"}))
        );
        assert_eq!(host.logs()[0].message, "orderdesk write outcome unknown");
    }

    #[test]
    fn an_unknown_item_points_to_inventory_list() {
        let host = MockHost::with_store().store("200002", "second");
        host.reply(
            404,
            json!({"status": "error", "message": "Inventory item not found"}),
        );
        let message = error_message(
            call(
                "inventory_get",
                json!({"item_id": "999", "store": "second"}),
            ),
            ToolError::NotFound,
        );
        assert_eq!(
            message,
            "inventory item 999 was not found in store `second` (Inventory item not found); \
             check the id with inventory_list (filter by SKU with `code`)"
        );
    }
}
