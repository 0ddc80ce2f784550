//! A faithful local simulator of the OrderDesk REST API v2.
//!
//! It serves every documented endpoint under `/api/v2` with OrderDesk's envelopes,
//! status codes, per-store leaky-bucket rate limit and PHP quirks (string ids, numbers as
//! strings, empty maps as `[]`), over deterministic seed data. Tests use it on
//! `127.0.0.1:0`; the product's `serve --sandbox` mode serves [`SimConfig::sandbox`].
//!
//! A control surface for tests — fault injection, the request log, raw stored records,
//! "post order to URL" rules — is available both as methods on [`Simulator`] and over
//! HTTP under `/_sim/…` (see [`control`] for the routes). The rules push orders to a URL,
//! signed, as OrderDesk does (see [`webhooks`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use orderdesk_sim::{Fault, FaultKind, SimConfig, Simulator};
//!
//! let sim = Simulator::spawn(SimConfig::sandbox()).await?;
//! sim.simulator.inject_fault(Fault::new("/orders", FaultKind::Status(503), 2));
//! let base = sim.api_base(); // "http://127.0.0.1:PORT/api/v2"
//! # let _ = base; Ok(()) }
//! ```

mod bucket;
mod clock;
mod config;
pub mod control;
mod filters;
mod model;
mod pipeline;
mod routes;
mod seed;
mod server;
mod state;
pub mod webhooks;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::{
    DEMO_API_KEY, DEMO_STORE_ID, DEMO_STORE_NAME, STORE_UTC_OFFSET_SECS, SimConfig, SimStore,
};
pub use control::{Fault, FaultKind, LoggedRequest};
pub use pipeline::{API_KEY_HEADER, RETRY_AFTER_HEADER, STORE_ID_HEADER, TOKENS_HEADER};
pub use webhooks::{
    PUSH_HASH_HEADER, PUSH_STORE_ID_HEADER, Trigger, WebhookDelivery, WebhookRule, sign_push,
};

use state::{SimState, lock, parse_id};

/// The simulator: its state, shared by every clone and by the router it builds.
#[derive(Debug, Clone)]
pub struct Simulator {
    state: Arc<SimState>,
}

impl Simulator {
    /// A simulator with freshly seeded stores (each seeded on its first use). Seeding is
    /// deterministic: the same config always yields the same orders and inventory.
    pub fn new(config: SimConfig) -> Simulator {
        Simulator {
            state: Arc::new(SimState::new(config)),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// The API under `/api/v2/…` and the control surface under `/_sim/…`.
    pub fn router(&self) -> Router {
        Router::new()
            .nest(control::API_PREFIX, routes::api_router())
            .merge(control::router())
            .fallback(routes::endpoint_not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                pipeline::api_pipeline,
            ))
            .with_state(self.state.clone())
    }

    /// Serve on a bound listener until `shutdown` resolves; in-flight requests then get a
    /// few seconds to finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        server::serve(self.router(), listener, shutdown).await
    }

    /// Bind `127.0.0.1:0`, serve on the current tokio runtime, and return a handle that
    /// stops the server when shut down or dropped.
    pub async fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let simulator = Simulator::new(config);
        // Seed the stores in the background (300 orders take ~15 ms): the server answers
        // at once, and a request that comes before the seeding is done waits for it.
        let seeding = simulator.state.clone();
        std::thread::Builder::new()
            .name("orderdesk-sim-seed".into())
            .spawn(move || seeding.seed_all())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = simulator.clone();
        tokio::spawn(async move {
            // A dropped sender also resolves the receiver: dropping the handle stops us.
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = server.serve(listener, shutdown).await {
                eprintln!("orderdesk-sim: server failed: {error}");
            }
        });
        Ok(SimHandle {
            simulator,
            addr,
            stop: Some(stop),
        })
    }

    /// Apply `fault` to the next `fault.times` matching `/api/v2` requests.
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.state.faults).add(fault);
    }

    /// Forget every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Every `/api/v2` request received so far (since the last clear), oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.state.log).clone()
    }

    pub fn clear_request_log(&self) {
        lock(&self.state.log).clear();
        lock(&self.state.arrivals).clear();
    }

    /// `METHOD PATH` of every `/api/v2` request as it arrived, oldest first: counts a
    /// request even when its client gave up before the answer.
    pub fn arrivals(&self) -> Vec<String> {
        lock(&self.state.arrivals).clone()
    }

    /// An order exactly as stored (no envelope, no `order_history`).
    pub fn stored_order(&self, store_id: &str, order_id: &str) -> Option<Value> {
        self.state
            .with_store(store_id, |data| data.order(order_id).cloned())
            .flatten()
    }

    /// Another writer's edit of an order, between a client's read and its write: the
    /// top-level fields of `changes` set (never `id`) and `date_updated` stamped, as
    /// any change in OrderDesk does. The order as stored now; `None` when the store or
    /// the order is unknown (or `changes` is no object).
    pub fn edit_order(&self, store_id: &str, order_id: &str, changes: &Value) -> Option<Value> {
        let changes = changes.as_object()?;
        self.state
            .with_store(store_id, |data| data.edit_order(order_id, changes))
            .flatten()
    }

    /// Every stored order of a store, in id order (empty for an unknown store).
    pub fn orders(&self, store_id: &str) -> Vec<Value> {
        self.state
            .with_store(store_id, |data| data.orders.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How many orders a store holds (0 for an unknown store).
    pub fn order_count(&self, store_id: &str) -> usize {
        self.state
            .with_store(store_id, |data| data.orders.len())
            .unwrap_or(0)
    }

    /// A store's folders, `(id, name)` in OrderDesk's order (empty for an unknown store).
    pub fn folders(&self, store_id: &str) -> Vec<(u64, String)> {
        self.state
            .with_store(store_id, |data| data.folders.clone())
            .unwrap_or_default()
    }

    /// An inventory item exactly as stored.
    pub fn stored_inventory_item(&self, store_id: &str, item_id: &str) -> Option<Value> {
        self.state
            .with_store(store_id, |data| {
                parse_id(item_id).and_then(|id| data.inventory.get(&id).cloned())
            })
            .flatten()
    }

    /// Add a "post order to URL" rule to a store: from now on the store's orders are
    /// pushed to `rule.url` on its triggers (see [`webhooks`]). The rule's id, or `None`
    /// when the store is unknown. The rule is taken as given: a URL that cannot be
    /// reached shows as an error in each of its deliveries.
    pub fn add_webhook_rule(&self, store_id: &str, rule: WebhookRule) -> Option<u64> {
        self.state.store_config(store_id)?;
        Some(self.state.webhooks.add_rule(store_id, rule))
    }

    /// Remove a rule; `false` when the store has no such rule. Pushes it already queued
    /// are still sent.
    pub fn remove_webhook_rule(&self, store_id: &str, rule_id: u64) -> bool {
        self.state.webhooks.remove_rule(store_id, rule_id)
    }

    /// A store's rules with their ids, in id order (empty for an unknown store).
    pub fn webhook_rules(&self, store_id: &str) -> Vec<(u64, WebhookRule)> {
        self.state.webhooks.rules(store_id)
    }

    /// A store's push attempts so far, oldest first (the last
    /// [`webhooks::MAX_DELIVERIES`]). Pushes are delivered in the background, so a test
    /// polls this until the ones it expects are there.
    pub fn webhook_deliveries(&self, store_id: &str) -> Vec<WebhookDelivery> {
        self.state.webhooks.deliveries(store_id)
    }

    /// Every stored inventory item of a store, in id order.
    pub fn inventory_items(&self, store_id: &str) -> Vec<Value> {
        self.state
            .with_store(store_id, |data| data.inventory.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// A running simulator on `127.0.0.1`. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    pub simulator: Simulator,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT/api/v2`, the base URL to point a client at.
    pub fn api_base(&self) -> String {
        format!("http://{}{}", self.addr, control::API_PREFIX)
    }

    /// `http://127.0.0.1:PORT`, for the `/_sim/…` control routes.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting connections; in-flight requests finish in the background.
    pub fn shutdown(mut self) {
        self.stop_server();
    }

    fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_server();
    }
}
