//! Read endpoints: `/test`, `/store`, `GET /orders` and its filters, inventory lists.

use std::collections::HashSet;

use orderdesk_sim::{DEMO_STORE_ID, STORE_UTC_OFFSET_SECS};
use serde_json::Value;

use crate::common::{Api, ids};

#[tokio::test]
async fn connection_test_and_store_settings() {
    let api = Api::roomy().await;
    let (status, body) = api.get("/test").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["message"], "Connection Successful");
    assert_eq!(body["current_date_time"].as_str().unwrap().len(), 19);

    let (status, body) = api.get("/store").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert!(
        body["execution_time"]
            .as_str()
            .unwrap()
            .ends_with("seconds")
    );
    assert_eq!(body["store"]["id"], DEMO_STORE_ID);
    assert_eq!(body["store"]["name"], "Demo Store");
    assert_eq!(body["store"]["folders"]["1004"], "New");
    assert_eq!(body["store"]["folders"]["1005"], "Prepared");
}

#[tokio::test]
async fn unknown_order_and_endpoint_are_404_envelopes() {
    let api = Api::roomy().await;
    let (status, body) = api.get("/orders/999").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({"status": "error", "message": "Order Not Found"})
    );
    let (status, body) = api.get("/customers").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], "error");
    let (status, body) = api
        .send_json(reqwest::Method::PATCH, "/orders/1", &serde_json::json!({}))
        .await;
    assert_eq!(status, 405);
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn list_envelope_defaults_and_limit_bounds() {
    let api = Api::roomy().await;
    let (status, body) = api.get("/orders").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["total_records"], 300);
    assert_eq!(body["records_returned"], 50);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["limit"], 50);
    assert_eq!(body["orders"].as_array().unwrap().len(), 50);

    for bad in ["501", "abc", "-1", "1.5"] {
        let (status, body) = api.get(&format!("/orders?limit={bad}")).await;
        assert_eq!(status, 400, "limit={bad}");
        assert_eq!(body["status"], "error");
        assert!(body["message"].as_str().unwrap().contains("limit"));
    }
    let (status, body) = api.get("/orders?limit=500").await;
    assert_eq!(status, 200);
    assert_eq!(body["records_returned"], 300);
    let (status, _) = api.get("/orders?order=sideways").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pages_cover_every_order_once_in_date_order() {
    let api = Api::roomy().await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let (status, body) = api
            .get(&format!("/orders?limit=70&offset={offset}&order=asc"))
            .await;
        assert_eq!(status, 200);
        let returned = body["records_returned"].as_u64().unwrap() as usize;
        seen.extend(ids(&body["orders"]));
        offset += returned;
        if offset >= body["total_records"].as_u64().unwrap() as usize {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 300, "no overlap");

    // Ascending by date_added, ties by id: the same order as sorting the store by hand.
    let mut expected = api.simulator().orders(DEMO_STORE_ID);
    expected.sort_by_key(|o| {
        (
            o["date_added"].as_str().unwrap().to_owned(),
            o["id"].as_str().unwrap().parse::<u64>().unwrap(),
        )
    });
    let expected: Vec<String> = expected
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, expected);

    // The default is newest first, and past the end is an empty page.
    let (_, newest) = api.get("/orders?limit=1").await;
    assert_eq!(ids(&newest["orders"]), vec![expected[299].clone()]);
    let (_, past) = api.get("/orders?offset=300").await;
    assert_eq!(past["records_returned"], 0);
    assert_eq!(past["total_records"], 300);
}

#[tokio::test]
async fn order_by_any_field_sorts_numerically_and_deterministically() {
    let api = Api::roomy().await;
    let (_, body) = api
        .get("/orders?order_by=order_total&order=desc&limit=500")
        .await;
    let totals: Vec<f64> = body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| match &o["order_total"] {
            Value::String(s) => s.parse().unwrap(),
            other => other.as_f64().unwrap(),
        })
        .collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");
    let (_, again) = api
        .get("/orders?order_by=order_total&order=desc&limit=500")
        .await;
    assert_eq!(ids(&body["orders"]), ids(&again["orders"]));
}

/// Ids of the stored orders that satisfy `keep`, newest first (the API's default order).
fn expected_ids(api: &Api, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut orders: Vec<Value> = api
        .simulator()
        .orders(DEMO_STORE_ID)
        .into_iter()
        .filter(|o| keep(o))
        .collect();
    orders.sort_by_key(|o| {
        std::cmp::Reverse((
            o["date_added"].as_str().unwrap().to_owned(),
            o["id"].as_str().unwrap().parse::<u64>().unwrap(),
        ))
    });
    orders
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn listed(api: &Api, query: &str) -> Vec<String> {
    let (status, body) = api.get(&format!("/orders?limit=500&{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(
        body["total_records"].as_u64().unwrap() as usize,
        body["records_returned"].as_u64().unwrap() as usize
    );
    ids(&body["orders"])
}

fn added(o: &Value) -> &str {
    o["date_added"].as_str().unwrap()
}

#[tokio::test]
async fn date_filters_select_the_right_orders() {
    let api = Api::roomy().await;

    let march = listed(
        &api,
        "search_start_date=2026-03-01&search_end_date=2026-03-31",
    )
    .await;
    let expected = expected_ids(&api, |o| {
        added(o) >= "2026-03-01" && added(o) < "2026-04-01"
    });
    assert!(!expected.is_empty());
    assert_eq!(march, expected, "a date-only end includes that whole day");

    let timed = listed(
        &api,
        "search_start_date=2026-05-10%2006:00:00&search_end_date=2026-06-02%2012:30:00",
    )
    .await;
    let expected = expected_ids(&api, |o| {
        added(o) >= "2026-05-10 06:00:00" && added(o) <= "2026-06-02 12:30:00"
    });
    assert_eq!(timed, expected);

    // Local dates are store time (UTC-5): local March is 05:00 UTC on the 1st to
    // 04:59:59 UTC on April 1st.
    assert_eq!(STORE_UTC_OFFSET_SECS, -5 * 3600);
    let local = listed(
        &api,
        "search_start_date_local=2026-03-01&search_end_date_local=2026-03-31",
    )
    .await;
    let expected = expected_ids(&api, |o| {
        added(o) >= "2026-03-01 05:00:00" && added(o) <= "2026-04-01 04:59:59"
    });
    assert_eq!(local, expected);

    let modified = listed(
        &api,
        "modified_start_date=2026-07-01&modified_end_date=2026-07-15",
    )
    .await;
    let expected = expected_ids(&api, |o| {
        let updated = o["date_updated"].as_str().unwrap();
        ("2026-07-01".."2026-07-16").contains(&updated)
    });
    assert!(!expected.is_empty());
    assert_eq!(modified, expected);

    let (status, body) = api.get("/orders?search_start_date=03/01/2026").await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn field_filters_select_the_right_orders() {
    let api = Api::roomy().await;
    let in_folders = listed(&api, "folder_id=1004,1005").await;
    let expected = expected_ids(&api, |o| o["folder_id"] == 1004 || o["folder_id"] == 1005);
    assert!(!expected.is_empty());
    assert_eq!(in_folders, expected);

    let shipped = listed(&api, "folder_name=shipped").await;
    assert_eq!(shipped, expected_ids(&api, |o| o["folder_id"] == 1007));
    assert!(listed(&api, "folder_name=Nowhere").await.is_empty());

    let sample = api.simulator().orders(DEMO_STORE_ID)[42].clone();
    let email = sample["email"].as_str().unwrap();
    let by_email = listed(&api, &format!("email={}", email.to_uppercase())).await;
    assert_eq!(by_email, expected_ids(&api, |o| o["email"] == email));
    assert!(by_email.contains(&sample["id"].as_str().unwrap().to_owned()));

    let last = sample["shipping"]["last_name"].as_str().unwrap();
    let by_last = listed(&api, &format!("shipping_last_name={last}")).await;
    assert_eq!(
        by_last,
        expected_ids(&api, |o| o["shipping"]["last_name"] == last)
    );

    let source = listed(&api, "source_name=Etsy").await;
    assert_eq!(source, expected_ids(&api, |o| o["source_name"] == "Etsy"));

    let combined = listed(
        &api,
        "source_name=Shopify&folder_id=1007&search_start_date=2026-06-01",
    )
    .await;
    assert_eq!(
        combined,
        expected_ids(&api, |o| o["source_name"] == "Shopify"
            && o["folder_id"] == 1007
            && added(o) >= "2026-06-01")
    );
}

#[tokio::test]
async fn include_history_adds_order_history() {
    let api = Api::roomy().await;
    let (_, plain) = api.get("/orders?limit=5").await;
    assert!(plain["orders"][0].get("order_history").is_none());
    assert!(plain["orders"][0].get("order_notes").is_some());
    let (_, with) = api.get("/orders?limit=5&include_history=1").await;
    for order in with["orders"].as_array().unwrap() {
        assert_eq!(order["order_history"], order["order_notes"]);
    }
}

#[tokio::test]
async fn inventory_list_paginates_and_filters() {
    let api = Api::roomy().await;
    let (status, body) = api.get("/inventory-items?limit=5&offset=10").await;
    assert_eq!(status, 200);
    assert_eq!(body["total_records"], 12);
    assert_eq!(body["records_returned"], 2);
    assert_eq!(body["offset"], 10);
    assert_eq!(body["limit"], 5);
    assert_eq!(body["inventory_items"].as_array().unwrap().len(), 2);

    let (_, by_code) = api.get("/inventory-items?code=mug-wht").await;
    assert_eq!(by_code["total_records"], 1);
    assert_eq!(by_code["inventory_items"][0]["name"], "Ceramic mug");
    let (_, search) = api.get("/inventory-items?search=coffee").await;
    assert_eq!(search["total_records"], 2);

    let id = by_code["inventory_items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, one) = api.get(&format!("/inventory-items/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["inventory_item"]["code"], "MUG-WHT");
    let (status, _) = api.get("/inventory-items?limit=501").await;
    assert_eq!(status, 400);
}
