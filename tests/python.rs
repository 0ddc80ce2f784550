//! A third-party tool component written in Python (componentize-py), loaded by the real
//! binary from its components directory and called end to end over stdio against the
//! OrderDesk simulator on loopback: `components/python/order_summary`.

#[path = "support/python_component.rs"]
mod python_component;
#[path = "support/server.rs"]
mod server;

use std::time::Instant;

use orderdesk_sim::{DEMO_STORE_ID, SimConfig, SimHandle, Simulator};
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::{Value, json};
use server::{Launch, call, create_tenant, err, fresh_dir, ok, register_demo_store};

/// The manifest the component ships with: OrderDesk reads, nothing else.
const MANIFEST: &str = "[grants]\norderdesk = \"read\"\n";

struct Fixture {
    sim: SimHandle,
    client: RunningService<RoleClient, ()>,
    stderr_log: std::path::PathBuf,
}

/// As the `orders` fixture (a simulator, a real tenant, the demo store registered
/// through `stores_register`), with the Python component in `--components`.
async fn fixture(name: &str) -> Fixture {
    let wasm = python_component::python_component();
    let dir = fresh_dir(name);
    let components = dir.join("components");
    std::fs::create_dir_all(&components).unwrap();
    std::fs::write(components.join("order_summary.toml"), MANIFEST).unwrap();
    std::fs::copy(&wasm, components.join("order_summary.wasm")).unwrap();
    server::trust_component(
        &dir.join("config.toml"),
        &components.join("order_summary.wasm"),
        "order_summary",
    );

    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);
    let launch = Launch::new(&dir)
        .arg("--components")
        .arg(components.to_str().unwrap())
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let started = Instant::now();
    let client = launch.start().await;
    eprintln!(
        "python component: {} bytes; server ready (compile + load) in {:.1?}",
        std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0),
        started.elapsed()
    );
    register_demo_store(&client).await;
    Fixture {
        sim,
        client,
        stderr_log: launch.stderr_path(),
    }
}

fn id_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// OrderDesk money is a string ("85.29") or a number.
fn money(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("bad money {s:?}")),
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("bad money {other}")),
    }
}

fn order_gets(sim: &SimHandle) -> Vec<String> {
    sim.simulator
        .request_log()
        .iter()
        .filter(|r| {
            let path = r.path.strip_prefix("/api/v2").unwrap_or(&r.path);
            r.method == "GET" && path == "/orders"
        })
        .map(|r| r.query.clone())
        .collect()
}

#[tokio::test]
async fn the_python_component_lists_its_tool_and_summarises_recent_orders() {
    let f = fixture("python-order-summary").await;

    // tools/list: the Python tool, with the schema and annotations it declared.
    let tools = f.client.list_all_tools().await.unwrap();
    let tool = tools
        .iter()
        .find(|t| t.name == "order_summary_recent")
        .unwrap_or_else(|| {
            panic!(
                "order_summary_recent missing from {:?}",
                tools.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>()
            )
        });
    assert_eq!(
        Value::Object((*tool.input_schema).clone()),
        json!({
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "store": {"type": "string"}
            },
            "additionalProperties": false
        })
    );
    let annotations = tool.annotations.clone().expect("annotations");
    assert_eq!(annotations.read_only_hint, Some(true));

    // A call: five orders, each one as the store holds it, their totals summed.
    let started = Instant::now();
    let summary = ok(&call(&f.client, "order_summary_recent", json!({"limit": 5})).await);
    eprintln!("order_summary_recent answered in {:.1?}", started.elapsed());
    assert_eq!(summary["count"], 5, "{summary}");
    let orders = summary["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 5, "{summary}");
    let mut expected_total = 0.0;
    let mut ids = std::collections::BTreeSet::new();
    for order in orders {
        let id = id_text(&order["id"]);
        assert!(ids.insert(id.clone()), "order {id} came twice: {summary}");
        let stored = f
            .sim
            .simulator
            .stored_order(DEMO_STORE_ID, &id)
            .unwrap_or_else(|| panic!("order {id} is not in the store"));
        assert_eq!(order["email"], stored["email"], "order {id}");
        assert_eq!(order["order_total"], stored["order_total"], "order {id}");
        expected_total += money(&stored["order_total"]);
    }
    let total = summary["total_value"].as_f64().expect("total_value");
    assert!(
        (total - expected_total).abs() < 1e-6,
        "total_value {total} != {expected_total}"
    );
    assert_eq!(
        order_gets(&f.sim),
        vec!["limit=5".to_string()],
        "one GET /orders with the limit"
    );
    let all = f.sim.simulator.orders(DEMO_STORE_ID);
    assert!(all.len() > 5, "the store holds more than the 5 asked for");

    // The default limit is 10.
    let summary = ok(&call(&f.client, "order_summary_recent", json!({})).await);
    assert_eq!(summary["count"], 10, "{summary}");

    // Arguments outside the schema never reach the component, let alone OrderDesk.
    let before = order_gets(&f.sim).len();
    let message = err(&call(&f.client, "order_summary_recent", json!({"limit": 0})).await);
    assert!(message.contains("limit"), "{message}");
    assert_eq!(order_gets(&f.sim).len(), before);

    // A host error becomes the component's tool error.
    let message = err(&call(
        &f.client,
        "order_summary_recent",
        json!({"limit": 1, "store": "no-such-store"}),
    )
    .await);
    assert!(message.contains("no-such-store"), "{message}");

    let log = std::fs::read_to_string(&f.stderr_log).unwrap_or_default();
    for line in log.lines().filter(|l| l.contains("order_summary")) {
        eprintln!("host: {line}");
    }
}
