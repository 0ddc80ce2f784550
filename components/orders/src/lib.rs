//! The `orders` tool group: orders, order items and shipments of an OrderDesk store.
//!
//! Grants: `orderdesk` (read and write), `session` (`budget`: how large an answer may
//! grow and how long `fetch_all` and the bulk tools may go on; `report-progress` for
//! them), `log`. Never `vault`: this component sees no key.
//!
//! Layout: `orders.rs`, `list.rs`, `items.rs` and `shipments.rs` each declare their
//! tools (the kit's `ToolSpec`s) and hold the handlers; `bulk.rs` the tools for many
//! orders at once (`orders_update_many`, `orders_move`); `changes.rs` the changes
//! OrderDesk pushed (`orders_changes`, answered by the host, not OrderDesk); `resource.rs` is the
//! list/get/create/update/delete shape items and shipments share; `schema.rs` holds the
//! schema pieces only this group uses; `host.rs` gives requests this group's hints. The
//! requests themselves, fetch → merge → PUT, the `store` and id arguments come from
//! `orderdesk-store-api`; the order JSON (lenient reads, merge, validation) is the
//! `order-model` crate.

mod bulk;
mod changes;
mod host;
mod items;
mod list;
mod orders;
mod resource;
mod schema;
mod shipments;

use orderdesk_tool_kit::Tools;

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> Tools {
    Tools::new("orders")
        .extend(orders::tools())
        .extend(bulk::tools())
        .extend(items::tools())
        .extend(shipments::tools())
        .extend(changes::tools())
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

    /// A page of `GET /orders` holding orders `first..first + count` of `total`.
    fn page(first: u64, count: u64, total: u64) -> Value {
        let orders: Vec<Value> = (first..first + count)
            .map(|n| json!({"id": n.to_string(), "email": format!("c{n}@example.org")}))
            .collect();
        json!({"status": "success", "records_returned": count, "total_records": total,
               "offset": first, "orders": orders})
    }

    /// A whole order as OrderDesk answers it (PHP quirks included), with id `id`.
    fn full_order(id: u64) -> Value {
        let mut order: Value = serde_json::from_str(include_str!(
            "../../order-model/tests/fixtures/order-full.json"
        ))
        .unwrap();
        order["id"] = json!(id.to_string());
        order
    }

    /// A page of `GET /orders` holding whole orders `first..first + count` of `total`.
    fn full_page(first: u64, count: u64, total: u64) -> Value {
        let orders: Vec<Value> = (first..first + count).map(full_order).collect();
        json!({"status": "success", "records_returned": count, "total_records": total,
               "offset": first, "limit": count, "orders": orders})
    }

    fn size(value: &Value) -> usize {
        value.to_string().len()
    }

    #[test]
    fn get_answers_a_summary_by_default_and_the_whole_order_or_fields_on_request() {
        let host = MockHost::with_store().store("200002", "second");
        for _ in 0..3 {
            host.reply(
                200,
                json!({"status": "success", "execution_time": "0.02",
                                   "order": full_order(3344551)}),
            );
        }
        let summary = call(
            "orders_get",
            json!({"order_id": "3344551", "store": "second"}),
        )
        .unwrap();
        assert_eq!(
            summary["order"],
            json!({"id": "3344551", "source_id": "#10482", "date_added": "2026-10-30 14:02:11",
                   "date_updated": "2026-11-02 09:15:40", "email": "sam.chen@example.org",
                   "customer_name": "Sam Chen", "order_total": 85.29, "folder_id": 1004,
                   "payment_status": "Captured", "item_count": 2,
                   "shipping": {"city": "San Francisco", "country": "US"}, "tracking_count": 1})
        );
        assert_eq!(summary["view"], "summary");
        assert!(summary["more"].as_str().unwrap().contains("view: \"full\""));
        assert_eq!(summary["store_id"], "200002");
        assert!(summary.get("cache_age_s").is_none());

        let full = call(
            "orders_get",
            json!({"order_id": "3344551", "view": "full", "fresh": true}),
        )
        .unwrap();
        assert_eq!(full["order"], full_order(3344551));
        assert_eq!(full["view"], "full");

        let fields = call(
            "orders_get",
            json!({"order_id": "3344551", "fields": ["shipping.first_name", "order_items.code"]}),
        )
        .unwrap();
        assert_eq!(
            fields["order"],
            json!({"id": "3344551", "shipping": {"first_name": "Sam"},
                   "order_items": [{"code": "MUG-WHT"}, {"code": "POUR-01"}]})
        );
        assert_eq!(fields["view"], "fields");

        let requests = host.requests();
        assert_eq!(
            (
                requests[0].method,
                requests[0].path.as_str(),
                requests[0].cache
            ),
            (Method::Get, "/orders/3344551", CacheMode::UseCache)
        );
        assert_eq!(requests[0].store_id, "200002");
        assert_eq!(requests[1].cache, CacheMode::Bypass, "fresh: true");
        assert_eq!(requests[2].cache, CacheMode::UseCache);
    }

    #[test]
    fn views_and_fields_are_checked_before_anything_is_sent() {
        let host = MockHost::with_store();
        let both = error_message(
            call(
                "orders_get",
                json!({"order_id": "7", "view": "full", "fields": ["email"]}),
            ),
            ToolError::InvalidInput,
        );
        assert!(both.contains("either `view` or `fields`"), "{both}");
        let path = error_message(
            call("orders_list", json!({"fields": ["order_items[0].code"]})),
            ToolError::InvalidInput,
        );
        assert!(path.contains("dotted path"), "{path}");
        let view = error_message(
            call(
                "shipments_list",
                json!({"order_id": "7", "view": "compact"}),
            ),
            ToolError::InvalidInput,
        );
        assert!(view.contains("\"summary\" or \"full\""), "{view}");
        assert!(host.requests().is_empty());
    }

    #[test]
    fn a_page_stops_at_the_answer_budget_and_says_where_to_continue() {
        let host = MockHost::with_store();
        host.reply(200, full_page(0, 500, 1200))
            .reply(200, full_page(0, 500, 1200))
            .reply(200, full_page(0, 50, 1200))
            .reply(200, full_page(0, 50, 1200));
        let budget = orderdesk_store_api::views::answer_budget();

        let full = call("orders_list", json!({"limit": 500, "view": "full"})).unwrap();
        let kept = full["orders"].as_array().unwrap().len();
        assert!(kept > 0 && kept < 500, "{kept}");
        assert!(size(&full) <= budget, "{} > {budget}", size(&full));
        assert_eq!(full["pagination"]["next_offset"], kept);
        assert_eq!(full["pagination"]["records_returned"], kept);
        assert_eq!(full["pagination"]["has_more"], true);
        let note = full["note"].as_str().unwrap();
        assert!(
            note.contains(&format!("continue with offset {kept}")),
            "{note}"
        );
        assert!(note.contains("summary view or `fields`"), "{note}");

        let summaries = call("orders_list", json!({"limit": 500})).unwrap();
        let summarised = summaries["orders"].as_array().unwrap().len();
        assert!(
            summarised > 5 * kept,
            "{summarised} summaries, {kept} whole orders"
        );
        assert!(size(&summaries) <= budget);
        assert_eq!(summaries["pagination"]["next_offset"], summarised);

        // What issue 15 measured: 50 whole orders, against 50 summaries.
        let fifty_full = call("orders_list", json!({"limit": 50, "view": "full"})).unwrap();
        let fifty = call("orders_list", json!({"limit": 50})).unwrap();
        assert_eq!(fifty["orders"].as_array().unwrap().len(), 50);
        assert_eq!(fifty["pagination"]["next_offset"], 50);
        eprintln!(
            "orders_list limit 50: summary {} bytes; full {} bytes for {} orders (budget {budget})",
            size(&fifty),
            size(&fifty_full),
            fifty_full["orders"].as_array().unwrap().len()
        );
        let requests = host.requests();
        assert_eq!(requests[0].query[0], ("limit".into(), "500".into()));
    }

    #[test]
    fn update_writes_back_the_whole_order_with_the_change_merged_in() {
        let host = MockHost::with_store();
        let stored = json!({"id": "7", "email": "old@example.org",
                            "shipping": {"city": "Springfield", "address2": ""},
                            "x_undocumented": [1, 2]});
        host.reply(200, json!({"status": "success", "order": stored}))
            .reply(200, json!({"status": "success", "order": {"id": "7"}}));
        let result = call(
            "orders_update",
            json!({"order_id": "7", "changes": {"shipping": {"address2": "Suite 5"}}}),
        )
        .unwrap();
        assert_eq!(result["changed"], true);
        let requests = host.requests();
        assert_eq!(requests[0].cache, CacheMode::Bypass, "the fetch is fresh");
        assert_eq!(
            (requests[1].method, requests[1].path.as_str()),
            (Method::Put, "/orders/7")
        );
        assert_eq!(
            requests[1].body,
            Some(json!({"id": "7", "email": "old@example.org",
                        "shipping": {"city": "Springfield", "address2": "Suite 5"},
                        "x_undocumented": [1, 2]}))
        );
        assert_eq!(host.logs()[0].message, "orderdesk write done");
    }

    #[test]
    fn move_names_the_folder_once_and_answers_per_order() {
        let host = MockHost::with_store();
        host.reply(200, json!({"status": "success"}));
        let moved = call(
            "orders_move",
            json!({"order_ids": ["1", "2"], "destination_folder_id": 1004.0}),
        )
        .unwrap();
        assert_eq!(
            moved["results"],
            json!([{"order_id": "1", "status": "moved"}, {"order_id": "2", "status": "moved"}])
        );
        assert_eq!(moved["complete"], true);
        assert!(moved["note"].as_str().unwrap().contains("automation"));
        assert_eq!(
            host.requests()[0].body,
            Some(json!({"order_id_list": ["1", "2"], "destination_folder_id": 1004}))
        );
        let both = error_message(
            call(
                "orders_move",
                json!({"order_ids": ["1"], "destination_folder_id": 1, "destination_folder_name": "New"}),
            ),
            ToolError::InvalidInput,
        );
        assert!(both.contains("exactly one of"), "{both}");
        let bad_id = error_message(
            call(
                "orders_move",
                json!({"order_ids": ["1", "../x"], "destination_folder_id": 1}),
            ),
            ToolError::InvalidInput,
        );
        assert!(
            bad_id.starts_with("`order_ids[1]`: must be an OrderDesk id"),
            "{bad_id}"
        );
        assert_eq!(
            host.requests().len(),
            1,
            "invalid arguments never reach OrderDesk"
        );
    }

    #[test]
    fn a_batch_refused_for_an_unknown_order_is_checked_order_by_order_and_the_rest_moved() {
        let host = MockHost::with_store();
        host.reply(
            404,
            json!({"status": "error", "message": "Order Not Found"}),
        )
        // The folder was named: its id comes from the store's settings.
        .reply(
            200,
            json!({"status": "success",
                               "store": {"folders": {"1004": "New", "1005": "Prepared"}}}),
        )
        .reply(
            200,
            json!({"status": "success", "order": {"id": "1", "folder_id": 1005}}),
        )
        .reply(
            404,
            json!({"status": "error", "message": "Order Not Found"}),
        )
        .reply(
            200,
            json!({"status": "success", "order": {"id": "3", "folder_id": "1004"}}),
        )
        .reply(200, json!({"status": "success"}));
        let moved = call(
            "orders_move",
            json!({"order_ids": ["1", "2", "3"], "destination_folder_name": "new"}),
        )
        .unwrap();
        let statuses: Vec<&str> = moved["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["moved", "failed", "in_destination"], "{moved}");
        assert_eq!(moved["results"][1]["error"]["kind"], "not_found");
        assert_eq!(moved["summary"]["failed"], 1);
        let requests = host.requests();
        assert_eq!(requests[1].path, "/store");
        assert_eq!(
            requests[5].body,
            Some(json!({"order_id_list": ["1"], "destination_folder_name": "new"})),
            "only the order that exists and is elsewhere is sent again"
        );
    }

    #[test]
    fn update_many_goes_on_past_a_failed_order_and_answers_per_order() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success",
                               "order": {"id": "1", "date_updated": "2026-03-14 09:00:00"}}),
        )
        .reply(
            200,
            json!({"status": "success",
                               "order": {"id": "1", "tag_name": "Rush",
                                         "date_updated": "2026-03-14 11:00:00"}}),
        )
        .reply(
            404,
            json!({"status": "error", "message": "Order Not Found"}),
        )
        .reply(
            200,
            json!({"status": "success",
                               "order": {"id": "3", "date_updated": "2026-03-14 10:30:00"}}),
        );
        let answer = call(
            "orders_update_many",
            json!({"updates": [
                {"order_id": "1", "changes": {"tag_name": "Rush"}},
                {"order_id": "2", "changes": {"tag_name": "Rush"}},
                {"order_id": "3", "changes": {"tag_name": "Rush"},
                 "expected_date_updated": "2026-03-14 09:00:00"}
            ]}),
        )
        .unwrap();
        assert_eq!(
            answer["results"][0],
            json!({"order_id": "1", "status": "updated", "date_updated": "2026-03-14 11:00:00"})
        );
        assert_eq!(answer["results"][1]["error"]["kind"], "not_found");
        assert_eq!(answer["results"][2]["error"]["kind"], "conflict");
        assert_eq!(
            answer["summary"],
            json!({"requested": 3, "succeeded": 1, "failed": 2, "not_attempted": 0})
        );
        assert_eq!(answer["complete"], true);
        assert_eq!(answer["store_id"], "100001");
        assert_eq!(host.progress().len(), 3);
        assert_eq!(
            host.requests().len(),
            4,
            "no PUT for the missing or changed order"
        );
    }

    #[test]
    fn update_many_with_too_little_time_left_sends_nothing_and_answers_how_to_resume() {
        let host = MockHost::with_store().budget(60 * 1024, 3_000);
        let arguments = json!({"updates": [{"order_id": "1", "changes": {"tag_name": "Rush"}}]});
        let answer = call("orders_update_many", arguments.clone()).unwrap();
        assert_eq!(answer["complete"], false);
        assert!(
            answer["stopped"].as_str().unwrap().contains("3000 ms left"),
            "{answer}"
        );
        assert_eq!(
            answer["resume"],
            json!({"tool": "orders_update_many", "arguments": arguments})
        );
        assert!(host.requests().is_empty());
    }

    #[test]
    fn update_many_stops_at_the_rate_limit_and_answers_the_arguments_to_resume_with() {
        let host = MockHost::with_store();
        host.reply(200, json!({"status": "success", "order": {"id": "1"}}))
            .reply(
                200,
                json!({"status": "success", "order": {"id": "1", "email": "a@b.c"}}),
            )
            .fail(HostError::RateLimited(3000));
        let answer = call(
            "orders_update_many",
            json!({"store": "main", "updates": [
                {"order_id": "1", "changes": {"email": "a@b.c"}},
                {"order_id": "2", "changes": {"email": "d@e.f"},
                 "expected_date_updated": "2026-03-14 09:00:00"},
                {"order_id": "3", "changes": {"email": "g@h.i"}}
            ]}),
        )
        .unwrap();
        assert_eq!(answer["complete"], false);
        assert_eq!(answer["summary"]["not_attempted"], 2);
        assert!(
            answer["stopped"].as_str().unwrap().contains("3.0 s"),
            "{answer}"
        );
        assert_eq!(
            answer["resume"],
            json!({"tool": "orders_update_many", "arguments": {"store": "main", "updates": [
                {"order_id": "2", "changes": {"email": "d@e.f"},
                 "expected_date_updated": "2026-03-14 09:00:00"},
                {"order_id": "3", "changes": {"email": "g@h.i"}}
            ]}})
        );
    }

    #[test]
    fn list_passes_filters_through_and_points_at_the_next_page() {
        let host = MockHost::with_store();
        host.reply(200, page(0, 2, 5));
        let listed = call(
            "orders_list",
            json!({"folder_id": 1004, "search_start_date": "2025-01-01", "order": "asc"}),
        )
        .unwrap();
        assert_eq!(listed["pagination"]["next_offset"], 2);
        assert_eq!(
            listed["note"], "limit defaulted to 50; now 2026-12-02 12:00:00 UTC",
            "the time is in every list answer's notes"
        );
        let requests = host.requests();
        let query: Vec<(&str, &str)> = requests[0]
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            query,
            [
                ("limit", "50"),
                ("offset", "0"),
                ("folder_id", "1004"),
                ("search_start_date", "2025-01-01"),
                ("order", "asc")
            ]
        );
        let bad_date = error_message(
            call("orders_list", json!({"search_end_date": "yesterday"})),
            ToolError::InvalidInput,
        );
        assert!(bad_date.contains("`search_end_date`"), "{bad_date}");
        let typo = error_message(
            call("orders_list", json!({"limt": 5})),
            ToolError::InvalidInput,
        );
        assert!(typo.starts_with("unknown argument(s) `limt`"), "{typo}");
    }

    #[test]
    fn fetch_all_pages_with_progress_and_keeps_what_it_had_when_a_page_fails() {
        let host = MockHost::with_store();
        host.reply(200, page(0, 500, 1200))
            .reply(200, page(500, 500, 1200))
            .fail(HostError::RateLimited(2000));
        let result = call(
            "orders_list",
            json!({"fetch_all": true, "modified_start_date": "2025-01-01"}),
        )
        .unwrap();
        assert_eq!(result["orders"].as_array().unwrap().len(), 1000);
        assert_eq!(result["pagination"]["next_offset"], 1000);
        let incomplete = result["incomplete"].as_str().unwrap();
        assert!(
            incomplete.contains("continue with offset 1000"),
            "{incomplete}"
        );
        let offsets: Vec<String> = host
            .requests()
            .iter()
            .map(|r| {
                r.query
                    .iter()
                    .find(|(k, _)| k == "offset")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert_eq!(offsets, ["0", "500", "1000"]);
        let progress = host.progress();
        assert_eq!(progress.len(), 2);
        assert_eq!(
            (progress[1].progress, progress[1].total),
            (1000.0, Some(1200.0))
        );
        let no_range = error_message(
            call("orders_list", json!({"fetch_all": true})),
            ToolError::InvalidInput,
        );
        assert!(no_range.contains("needs a date range"), "{no_range}");
    }

    #[test]
    fn a_cached_answer_says_how_old_it_is_and_fresh_reads_orderdesk() {
        let host = MockHost::with_store();
        host.reply_cached(
            200,
            json!({"status": "success", "order": full_order(7)}),
            42,
        )
        .reply_cached(200, page(0, 2, 2), 5)
        .reply(200, json!({"status": "success", "order": full_order(7)}));
        let cached = call("orders_get", json!({"order_id": "7"})).unwrap();
        assert_eq!(cached["cache_age_s"], 42);
        let note = cached["note"].as_str().unwrap();
        assert!(
            note.contains("42 s old") && note.contains("fresh: true"),
            "{note}"
        );
        let listed = call(
            "orders_list",
            json!({"limit": 2, "search_start_date": "2026-01-01"}),
        )
        .unwrap();
        assert_eq!(listed["cache_age_s"], 5);
        let fresh = call("orders_get", json!({"order_id": "7", "fresh": true})).unwrap();
        assert!(fresh.get("cache_age_s").is_none() && fresh.get("note").is_none());
        assert_eq!(host.requests()[2].cache, CacheMode::Bypass);
    }

    #[test]
    fn the_page_budget_comes_from_the_host() {
        let host = MockHost::with_store().budget(8 * 1024, 30_000);
        host.reply(200, full_page(0, 50, 50));
        let listed = call("orders_list", json!({"view": "full"})).unwrap();
        let kept = listed["orders"].as_array().unwrap().len();
        assert!(kept > 0 && kept < 5, "{kept}");
        assert!(listed.to_string().len() <= 8 * 1024);
        assert!(
            listed["note"]
                .as_str()
                .unwrap()
                .contains("within 8192 bytes"),
            "{listed}"
        );
    }

    #[test]
    fn fetch_all_answers_what_it_has_before_the_call_runs_out_of_time() {
        let host = MockHost::with_store().budget(60 * 1024, 4_000);
        host.reply(200, page(0, 500, 1200));
        let result = call(
            "orders_list",
            json!({"fetch_all": true, "search_start_date": "2025-01-01"}),
        )
        .unwrap();
        assert_eq!(result["orders"].as_array().unwrap().len(), 500);
        assert_eq!(result["pagination"]["next_offset"], 500);
        let note = result["note"].as_str().unwrap();
        assert!(
            note.contains("time limit") && note.contains("offset 500"),
            "{note}"
        );
        assert_eq!(host.requests().len(), 1);
    }

    #[test]
    fn item_and_shipment_reads_answer_each_view() {
        let host = MockHost::with_store();
        let order = full_order(7);
        let items = order["order_items"].clone();
        let shipments = order["order_shipments"].clone();
        host.reply(200, json!({"status": "success", "order_items": items}))
            .reply(200, json!({"status": "success", "order_items": items}))
            .reply(200, json!({"status": "success", "order_item": items[0]}))
            .reply(200, json!({"status": "success", "shipments": shipments}))
            .reply(200, json!({"status": "success", "shipment": shipments[0]}))
            .reply(200, json!({"status": "success", "shipment": shipments[0]}));

        let listed = call("order_items_list", json!({"order_id": "7"})).unwrap();
        assert_eq!(
            listed["order_items"],
            json!([{"id": "88120001", "name": "Ceramic mug", "code": "MUG-WHT", "price": 14.99,
                    "quantity": 2},
                   {"id": "88120002", "name": "Pour-over kit", "code": "POUR-01",
                    "price": 44.99, "quantity": 1}])
        );
        assert_eq!(
            (&listed["view"], &listed["order_id"]),
            (&json!("summary"), &json!("7"))
        );
        let full = call(
            "order_items_list",
            json!({"order_id": "7", "view": "full", "fresh": true}),
        )
        .unwrap();
        assert_eq!(full["order_items"], items);
        let one = call(
            "order_items_get",
            json!({"order_id": "7", "item_id": "88120001", "fields": ["variation_list"]}),
        )
        .unwrap();
        assert_eq!(
            one["order_item"],
            json!({"id": "88120001", "variation_list": {"Color": "White"}})
        );

        let listed = call("shipments_list", json!({"order_id": "7"})).unwrap();
        let summary = &listed["shipments"][0];
        assert_eq!(summary["tracking_number"], "9400111899223197428490");
        assert!(summary.get("tracking_url").is_none(), "{summary}");
        let one = call(
            "shipments_get",
            json!({"order_id": "7", "shipment_id": "551200", "view": "full"}),
        )
        .unwrap();
        assert_eq!(
            (&one["shipment"], &one["view"]),
            (&shipments[0], &json!("full"))
        );
        let fields = call(
            "shipments_get",
            json!({"order_id": "7", "shipment_id": "551200", "fields": ["tracking_url"]}),
        )
        .unwrap();
        assert_eq!(fields["view"], "fields");
        assert_eq!(
            fields["shipment"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["id", "tracking_url"]
        );

        let caches: Vec<CacheMode> = host.requests().iter().map(|r| r.cache).collect();
        assert_eq!(caches[1], CacheMode::Bypass);
        assert!(caches.iter().filter(|c| **c == CacheMode::Bypass).count() == 1);
    }

    #[test]
    fn item_tools_address_the_item_below_its_order() {
        let host = MockHost::with_store();
        host.reply(404, json!({"status": "error", "message": "Item not found"}))
            .reply(200, json!({"status": "success"}));
        let message = error_message(
            call("order_items_get", json!({"order_id": "7", "item_id": "88"})),
            ToolError::NotFound,
        );
        assert_eq!(
            message,
            "item 88 of order 7 was not found in the session's active store (Item not found); \
             check the order id with orders_list and the item id with order_items_list"
        );
        let deleted = call(
            "shipments_delete",
            json!({"order_id": "7", "shipment_id": "551200"}),
        )
        .unwrap();
        assert_eq!(
            deleted,
            json!({"store_id": "100001", "deleted": true, "order_id": "7", "shipment_id": "551200"})
        );
        let requests = host.requests();
        assert_eq!(requests[0].path, "/orders/7/order-items/88");
        assert_eq!(
            (requests[1].method, requests[1].path.as_str()),
            (Method::Delete, "/orders/7/shipments/551200")
        );
    }

    #[test]
    fn batch_shipments_and_notes_are_checked_before_anything_is_sent() {
        let _host = MockHost::with_store();
        let bad = error_message(
            call(
                "shipments_batch_create",
                json!({"shipments": [{"order_id": "1", "tracking_number": "1Z"},
                                 {"order_id": "../2", "tracking_number": "1Z"}]}),
            ),
            ToolError::InvalidInput,
        );
        assert!(
            bad.starts_with("`shipments[1].order_id` must be an OrderDesk id"),
            "{bad}"
        );
        let long = error_message(
            call(
                "orders_add_note",
                json!({"order_id": "7", "note": "n".repeat(1801)}),
            ),
            ToolError::InvalidInput,
        );
        assert_eq!(
            long,
            "`note` is 1801 characters long; OrderDesk takes at most 1800"
        );
    }
}
