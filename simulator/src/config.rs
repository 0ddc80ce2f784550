//! Simulator configuration: which stores exist, and how the rate limiter behaves.

/// Store id of the demo store that [`SimConfig::sandbox`] configures.
pub const DEMO_STORE_ID: &str = "100001";
/// API key of the demo store. Deliberately fake: it only ever unlocks the local simulator.
pub const DEMO_API_KEY: &str = "sandbox-demo-key-not-a-secret";
/// Display name of the demo store.
pub const DEMO_STORE_NAME: &str = "Demo Store";

/// Every simulated store runs on a fixed UTC offset (US Eastern standard time, without
/// daylight saving) so that the `*_local` date filters have something to convert with and
/// tests can compute expected results by hand.
pub const STORE_UTC_OFFSET_SECS: i64 = -5 * 3600;

/// One store the simulator accepts credentials for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStore {
    pub store_id: String,
    pub api_key: String,
    pub name: String,
}

impl SimStore {
    pub fn new(
        store_id: impl Into<String>,
        api_key: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            store_id: store_id.into(),
            api_key: api_key.into(),
            name: name.into(),
        }
    }

    /// The demo store of sandbox mode.
    pub fn demo() -> Self {
        Self::new(DEMO_STORE_ID, DEMO_API_KEY, DEMO_STORE_NAME)
    }
}

/// How the simulator is set up. The defaults mirror OrderDesk's documented limits.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub stores: Vec<SimStore>,
    /// Tokens in a full bucket (OrderDesk: 20).
    pub bucket_capacity: u32,
    /// Tokens added back per second (OrderDesk: 3).
    pub refill_per_sec: f64,
    /// How many generated orders each store starts with.
    pub seed_orders_per_store: usize,
}

impl SimConfig {
    /// The configuration of `serve --sandbox`: the demo store with 300 seeded orders.
    pub fn sandbox() -> Self {
        Self {
            stores: vec![SimStore::demo()],
            ..Self::default()
        }
    }

    /// A configuration with the given stores and the documented defaults otherwise.
    pub fn with_stores(stores: Vec<SimStore>) -> Self {
        Self {
            stores,
            ..Self::default()
        }
    }
}

impl Default for SimConfig {
    /// No stores, OrderDesk's rate limit, 300 orders per store.
    fn default() -> Self {
        Self {
            stores: Vec::new(),
            bucket_capacity: 20,
            refill_per_sec: 3.0,
            seed_orders_per_store: 300,
        }
    }
}
