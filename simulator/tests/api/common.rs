//! Helpers shared by the integration tests: a running simulator and an authenticated client.

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, SimHandle, SimStore, Simulator};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub const OTHER_STORE_ID: &str = "200002";
pub const OTHER_API_KEY: &str = "sandbox-other-key-not-a-secret";

/// The sandbox store plus a second one, with a bucket big enough that ordinary tests
/// never meet the rate limit.
pub fn roomy_config() -> SimConfig {
    SimConfig {
        stores: vec![
            SimStore::demo(),
            SimStore::new(OTHER_STORE_ID, OTHER_API_KEY, "Other Store"),
        ],
        bucket_capacity: 10_000,
        ..SimConfig::default()
    }
}

pub struct Api {
    pub sim: SimHandle,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn start(config: SimConfig) -> Api {
        let sim = Simulator::spawn(config).await.expect("simulator starts");
        let http = reqwest::Client::builder()
            .user_agent("orderdesk-sim-tests")
            .build()
            .expect("client builds");
        Api { sim, http }
    }

    pub async fn roomy() -> Api {
        Api::start(roomy_config()).await
    }

    pub fn simulator(&self) -> &Simulator {
        &self.sim.simulator
    }

    /// A request to `path` (relative to `/api/v2`) with the demo store's credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sim.api_base()))
            .header("ORDERDESK-STORE-ID", DEMO_STORE_ID)
            .header("ORDERDESK-API-KEY", DEMO_API_KEY)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.request(Method::GET, path)).await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> (u16, Value) {
        send(self.request(method, path).json(body)).await
    }
}

/// Send and decode: the status and the JSON body.
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request is answered");
    decode(response).await
}

pub async fn decode(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.expect("body is JSON");
    (status, body)
}

/// The ids of a list of orders, in order.
pub fn ids(orders: &Value) -> Vec<String> {
    orders
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["id"].as_str().expect("string id").to_owned())
        .collect()
}
