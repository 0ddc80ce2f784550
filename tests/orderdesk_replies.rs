//! docs/orderdesk-replies.md against the simulator: every request the page marks with
//! `<!-- check: … -->` is sent, in the page's order, to a fresh sandbox simulator through
//! the host's gateway (the way `orderdesk.send` reaches OrderDesk), and the sample that
//! follows the marker must match the answer. Each answer also parses into its typed
//! model of `order_model::replies`, so the page, the simulator and the models agree.
//!
//! A sample is a shortened answer: an object may leave keys out, but what it shows must
//! be exact (the value, and string versus number); a list shows every entry (each one
//! shortened); a `YYYY-MM-DD HH:MM:SS` string stands for any such time, since writes
//! stamp the current one.
//!
//! Markers:
//! - `<!-- check: METHOD PATH[?QUERY] -->`: no body;
//! - `… with the body above -->`: the JSON block before the marker is the body;
//! - `… with the `KEY` just read, changed as above -->`: the body is the `KEY` record of
//!   the previous answer with the JSON block before the marker merged in (fetch, merge,
//!   PUT);
//! - `… fails: not-found -->` or `… fails: upstream STATUS -->`: the request fails so,
//!   and the sample is OrderDesk's error envelope, whose `message` (and `errors`) the
//!   gateway's error carries.

use std::path::Path;

use order_model::replies::{
    InventoryItemReply, InventoryItemsReply, InventoryPage, MessageReply, MoveOrdersReply,
    OrderItemReply, OrderItemsReply, OrderPage, OrderReply, ShipmentReply, ShipmentsReply,
    StoreReply, TestReply,
};
use orderdesk_gateway::StoreCredentials;
use orderdesk_gateway::{ApiRequest, CacheMode, Gateway, GatewayConfig, GatewayError, Method};
use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator};
use serde_json::Value;

const PAGE: &str = "docs/orderdesk-replies.md";

/// One `<!-- check: … -->` of the page.
#[derive(Debug, PartialEq)]
struct Check {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    failure: Option<String>,
    /// The sample after the marker.
    sample: Value,
}

#[derive(Debug, PartialEq)]
enum Body {
    None,
    Given(Value),
    /// The record under this key of the previous answer, with these changes merged in.
    Merged(String, Value),
}

fn checks(page: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut last_json: Option<Value> = None;
    let mut pending: Option<(String, Option<Value>)> = None;
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if let Some(marker) = line
            .trim()
            .strip_prefix("<!-- check: ")
            .and_then(|m| m.strip_suffix(" -->"))
        {
            pending = Some((marker.to_string(), last_json.take()));
        } else if line.trim() == "```json" {
            let mut text = String::new();
            for line in lines.by_ref() {
                if line.trim() == "```" {
                    break;
                }
                text.push_str(line);
                text.push('\n');
            }
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("a JSON block of {PAGE} is not JSON ({e}):\n{text}"));
            match pending.take() {
                Some((marker, before)) => checks.push(parse_marker(&marker, before, json)),
                None => last_json = Some(json),
            }
        }
    }
    checks
}

fn parse_marker(marker: &str, before: Option<Value>, sample: Value) -> Check {
    let (marker, failure) = match marker.split_once(" fails: ") {
        Some((request, failure)) => (request, Some(failure.to_string())),
        None => (marker, None),
    };
    let (request, body) = if let Some(request) = marker.strip_suffix(" with the body above") {
        (
            request,
            Body::Given(before.expect("a JSON block before `with the body above`")),
        )
    } else if let Some((request, rest)) = marker.split_once(" with the `") {
        let key = rest
            .strip_suffix("` just read, changed as above")
            .unwrap_or_else(|| panic!("unknown marker: {marker}"));
        let changes = before.expect("a JSON block of changes before the marker");
        (request, Body::Merged(key.to_string(), changes))
    } else {
        (marker, Body::None)
    };
    let (method, target) = request
        .split_once(' ')
        .unwrap_or_else(|| panic!("a marker names METHOD PATH: {request}"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    Check {
        method: method.to_string(),
        path: path.to_string(),
        query,
        body,
        failure,
        sample,
    }
}

/// Whether `text` is a `YYYY-MM-DD HH:MM:SS` time.
fn is_time(text: &str) -> bool {
    let shape = "0000-00-00 00:00:00";
    text.len() == shape.len()
        && text
            .chars()
            .zip(shape.chars())
            .all(|(c, s)| if s == '0' { c.is_ascii_digit() } else { c == s })
}

/// Whether the answer `actual` has everything the sample shows; where not, the path.
fn matches(actual: &Value, sample: &Value, path: &str) -> Result<(), String> {
    match (actual, sample) {
        (Value::Object(actual), Value::Object(sample)) => {
            for (key, expected) in sample {
                let here = format!("{path}.{key}");
                let value = actual
                    .get(key)
                    .ok_or_else(|| format!("{here} is missing"))?;
                matches(value, expected, &here)?;
            }
            Ok(())
        }
        (Value::Array(actual), Value::Array(sample)) => {
            if actual.len() != sample.len() {
                return Err(format!(
                    "{path} has {} entries, the sample {}",
                    actual.len(),
                    sample.len()
                ));
            }
            for (i, (a, s)) in actual.iter().zip(sample).enumerate() {
                matches(a, s, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::String(a), Value::String(s)) if is_time(s) && is_time(a) => Ok(()),
        (a, s) if a == s => Ok(()),
        (a, s) => Err(format!("{path} is {a}, the sample says {s}")),
    }
}

/// Parse an answer into the model of its endpoint (the page names it too).
fn parses_into_its_model(method: &str, path: &str, body: &str) -> Result<(), String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<(), String> {
        serde_json::from_str::<T>(body)
            .map(drop)
            .map_err(|e| format!("{} ({e})", std::any::type_name::<T>()))
    }
    match (method, segments.as_slice()) {
        ("GET", ["test"]) => parse::<TestReply>(body),
        ("GET", ["store"]) => parse::<StoreReply>(body),
        ("GET", ["orders"]) => parse::<OrderPage>(body),
        ("GET" | "PUT", ["orders", _]) | ("POST", ["orders"]) => parse::<OrderReply>(body),
        ("POST", ["orders", _, "order-history"]) => parse::<OrderReply>(body),
        ("POST", ["move-orders"]) => parse::<MoveOrdersReply>(body),
        ("GET", ["orders", _, "order-items"]) => parse::<OrderItemsReply>(body),
        ("POST", ["orders", _, "order-items"]) => {
            parse::<OrderItemReply>(body).or_else(|_| parse::<OrderItemsReply>(body))
        }
        ("GET" | "PUT", ["orders", _, "order-items", _]) => parse::<OrderItemReply>(body),
        ("GET", ["orders", _, "shipments"]) | ("POST", ["batch-shipments"]) => {
            parse::<ShipmentsReply>(body)
        }
        ("GET" | "PUT", ["orders", _, "shipments", _]) | ("POST", ["orders", _, "shipments"]) => {
            parse::<ShipmentReply>(body)
        }
        ("GET", ["inventory-items"]) => parse::<InventoryPage>(body),
        ("GET" | "PUT", ["inventory-items", _]) | ("POST", ["inventory-items"]) => {
            parse::<InventoryItemReply>(body)
        }
        ("PUT", ["batch-inventory-items"]) => parse::<InventoryItemsReply>(body),
        ("DELETE", _) => parse::<MessageReply>(body),
        _ => Err(format!("no model is known for {method} {path}")),
    }
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        other => panic!("the page uses an unknown method {other}"),
    }
}

/// The gateway's error against the `fails: …` of a marker and the envelope sample.
fn failed_as_documented(error: &GatewayError, failure: &str, sample: &Value) -> Result<(), String> {
    let (kind_ok, message) = match (error, failure) {
        (GatewayError::NotFound(m), "not-found") => (true, m),
        (GatewayError::Upstream { status, message }, failure) => {
            (failure == format!("upstream {status}"), message)
        }
        _ => (false, &String::new()),
    };
    if !kind_ok {
        return Err(format!(
            "expected {failure}, the gateway answered {error:?}"
        ));
    }
    let documented = sample["message"].as_str().unwrap_or_default();
    if !message.starts_with(documented) {
        return Err(format!(
            "the message is {message:?}, the sample says {documented:?}"
        ));
    }
    for field in sample["errors"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap_or_default();
        if !message.contains(field) {
            return Err(format!("the message {message:?} does not name {field}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_sample_on_the_page_is_what_the_simulator_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let page = std::fs::read_to_string(root.join(PAGE)).unwrap();
    let checks = checks(&page);
    assert!(checks.len() >= 25, "only {} checks on {PAGE}", checks.len());

    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let gateway = Gateway::new(GatewayConfig::new(sim.api_base())).unwrap();
    let credentials = StoreCredentials::new(DEMO_STORE_ID, DEMO_API_KEY);
    let mut previous = Value::Null;
    let mut problems = Vec::new();
    for check in &checks {
        let label = format!("{} {}", check.method, check.path);
        let body = match &check.body {
            Body::None => None,
            Body::Given(body) => Some(body.clone()),
            Body::Merged(key, changes) => {
                let mut record = previous[key.as_str()].clone();
                assert!(
                    record.is_object(),
                    "{label}: the previous answer has no `{key}`"
                );
                for (field, value) in changes.as_object().unwrap() {
                    record[field.as_str()] = value.clone();
                }
                Some(record)
            }
        };
        let mut request = ApiRequest::new(method(&check.method), check.path.clone())
            .with_cache(CacheMode::Bypass);
        for (name, value) in &check.query {
            request = request.with_query(name.clone(), value.clone());
        }
        if let Some(body) = body {
            request = request.with_body(body.to_string());
        }
        match (
            gateway.send("docs", &credentials, request).await,
            &check.failure,
        ) {
            (Ok(response), None) => {
                let answer: Value = serde_json::from_str(&response.body).unwrap();
                if let Err(problem) = matches(&answer, &check.sample, "$") {
                    problems.push(format!("{label}: {problem}\n  the answer: {answer}"));
                }
                if let Err(model) =
                    parses_into_its_model(&check.method, &check.path, &response.body)
                {
                    problems.push(format!("{label}: the answer does not parse into {model}"));
                }
                previous = answer;
            }
            (Err(error), Some(failure)) => {
                if let Err(problem) = failed_as_documented(&error, failure, &check.sample) {
                    problems.push(format!("{label}: {problem}"));
                }
            }
            (Ok(response), Some(failure)) => problems.push(format!(
                "{label}: expected it to fail ({failure}), it answered {}",
                response.body
            )),
            (Err(error), None) => problems.push(format!("{label} failed: {error}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{PAGE} differs from the simulator:\n{}",
        problems.join("\n")
    );
}

#[test]
fn markers_and_samples_are_read_as_documented() {
    let page = "<!-- check: GET /orders?limit=1&folder_id=1007 -->\n```json\n{\"orders\": []}\n```\n\
                ```json\n{\"stock\": 3}\n```\n\
                <!-- check: PUT /inventory-items/7 with the `inventory_item` just read, changed as above -->\n\
                ```json\n{}\n```\n\
                ```json\n{\"email\": \"x\"}\n```\n\
                <!-- check: POST /orders with the body above fails: upstream 422 -->\n```json\n{}\n```\n";
    let checks = checks(page);
    assert_eq!(checks.len(), 3);
    assert_eq!(
        checks[0].query,
        [
            ("limit".into(), "1".into()),
            ("folder_id".into(), "1007".into())
        ]
    );
    assert_eq!(
        checks[1].body,
        Body::Merged("inventory_item".into(), serde_json::json!({"stock": 3}))
    );
    assert_eq!(checks[2].failure.as_deref(), Some("upstream 422"));
    assert_eq!(
        checks[2].body,
        Body::Given(serde_json::json!({"email": "x"}))
    );

    let answer = serde_json::json!({"a": "11", "b": [1, 2], "t": "2026-12-02 10:00:00", "c": 1});
    assert!(
        matches(
            &answer,
            &serde_json::json!({"a": "11", "t": "2025-01-01 00:00:00"}),
            "$"
        )
        .is_ok()
    );
    assert!(
        matches(&answer, &serde_json::json!({"a": 11}), "$").is_err(),
        "a string is not a number"
    );
    assert!(
        matches(&answer, &serde_json::json!({"b": [1]}), "$").is_err(),
        "lists show every entry"
    );
    assert!(matches(&answer, &serde_json::json!({"z": 1}), "$").is_err());
}
