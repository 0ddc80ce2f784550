//! Everything the simulator remembers, behind one `Arc`.
//!
//! Plain `std::sync::Mutex`es: every critical section is short and none spans an
//! `.await`, so an async mutex would only add cost.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value};

use crate::bucket::{Bucket, Take};
use crate::clock::now_string;
use crate::config::{SimConfig, SimStore};
use crate::control::{FaultTable, LoggedRequest};
use crate::model::number;
use crate::seed;
use crate::webhooks::{OrderChange, Trigger, Webhooks};

/// The folders every simulated store has, in OrderDesk's order (the first is where new
/// orders land).
pub const FOLDERS: [(u64, &str); 5] = [
    (1004, "New"),
    (1005, "Prepared"),
    (1006, "Backordered"),
    (1007, "Shipped"),
    (1008, "Cancelled"),
];

/// One store's data. Records are kept as raw JSON so that whatever a client PUTs, known
/// fields or not, is stored and returned exactly.
#[derive(Debug)]
pub struct StoreData {
    pub store: SimStore,
    pub folders: Vec<(u64, String)>,
    /// Keyed by the numeric value of the (string) id, so iteration is in id order.
    pub orders: BTreeMap<u64, Value>,
    pub inventory: BTreeMap<u64, Value>,
    pub next_order_id: u64,
    pub next_item_id: u64,
    pub next_shipment_id: u64,
    pub next_inventory_id: u64,
    /// Orders the current request created or reached for writing, for the webhook rules
    /// (see [`StoreData::take_changes`]); empty between requests.
    touched: BTreeMap<u64, Touch>,
}

/// What the current request did to an order, as far as the accessors saw.
#[derive(Debug)]
enum Touch {
    Created,
    /// Reached through [`StoreData::order_mut`]: the order as it was before.
    Changed(Value),
}

/// The folder an order is in, read as leniently as PHP would (`1005` or `"1005"`).
fn folder_of(order: &Value) -> Option<u64> {
    order
        .get("folder_id")
        .and_then(number)
        .filter(|folder| *folder >= 0.0 && folder.fract() == 0.0)
        .map(|folder| folder as u64)
}

impl StoreData {
    pub fn new(store: SimStore) -> Self {
        Self {
            store,
            folders: FOLDERS
                .iter()
                .map(|&(id, name)| (id, name.to_owned()))
                .collect(),
            orders: BTreeMap::new(),
            inventory: BTreeMap::new(),
            next_order_id: 1,
            next_item_id: 1,
            next_shipment_id: 1,
            next_inventory_id: 1,
            touched: BTreeMap::new(),
        }
    }

    pub fn order(&self, id: &str) -> Option<&Value> {
        self.orders.get(&parse_id(id)?)
    }

    /// The order, to change. Every write to an existing order comes through here, which
    /// keeps the order as it was so that a real change can fire the webhook rules, and a
    /// failed or idle request fires nothing.
    pub fn order_mut(&mut self, id: &str) -> Option<&mut Value> {
        let key = parse_id(id)?;
        let order = self.orders.get_mut(&key)?;
        self.touched
            .entry(key)
            .or_insert_with(|| Touch::Changed(order.clone()));
        Some(order)
    }

    /// Store a new order (of a request, not of seeding): it fires the `Created` rules.
    pub fn insert_new_order(&mut self, id: u64, order: Value) {
        self.orders.insert(id, order);
        self.touched.insert(id, Touch::Created);
    }

    /// What the request that just ran did to orders, for the webhook rules, and forget it:
    /// an order created, or changed (compared with how it was, so a request that failed
    /// half-way or changed nothing is no change), each with its JSON as it is now.
    pub fn take_changes(&mut self) -> Vec<OrderChange> {
        let touched = std::mem::take(&mut self.touched);
        touched
            .into_iter()
            .filter_map(|(order_id, touch)| {
                // An order deleted since is gone: OrderDesk pushes nothing for that.
                let order = self.orders.get(&order_id)?;
                let events = match touch {
                    Touch::Created => vec![Trigger::Created],
                    Touch::Changed(before) if before == *order => return None,
                    Touch::Changed(before) => {
                        let folder = folder_of(order);
                        match folder {
                            Some(folder) if folder_of(&before) != Some(folder) => {
                                vec![Trigger::MovedToFolder(folder), Trigger::Updated]
                            }
                            _ => vec![Trigger::Updated],
                        }
                    }
                };
                let order_json = serde_json::to_string(order).ok()?;
                Some(OrderChange {
                    order_id,
                    events,
                    order_json,
                })
            })
            .collect()
    }

    /// Forget what the request did, when no rule could care.
    pub fn forget_changes(&mut self) {
        self.touched.clear();
    }

    /// Another writer's edit (a merchant in OrderDesk's web app, another API client):
    /// set the top-level fields of `changes` on the stored order (never its `id`) and
    /// stamp `date_updated`, as any change in OrderDesk does. The order as stored now.
    pub fn edit_order(&mut self, id: &str, changes: &Map<String, Value>) -> Option<Value> {
        let order = self.order_mut(id)?.as_object_mut()?;
        for (key, value) in changes {
            if key != "id" {
                order.insert(key.clone(), value.clone());
            }
        }
        order.insert("date_updated".into(), Value::String(now_string()));
        Some(Value::Object(order.clone()))
    }

    pub fn allocate_order_id(&mut self) -> u64 {
        allocate(&mut self.next_order_id)
    }

    pub fn allocate_item_id(&mut self) -> String {
        allocate(&mut self.next_item_id).to_string()
    }

    pub fn allocate_shipment_id(&mut self) -> String {
        allocate(&mut self.next_shipment_id).to_string()
    }

    pub fn allocate_inventory_id(&mut self) -> u64 {
        allocate(&mut self.next_inventory_id)
    }

    pub fn first_folder_id(&self) -> u64 {
        self.folders.first().map_or(0, |(id, _)| *id)
    }

    pub fn has_folder(&self, id: u64) -> bool {
        self.folders.iter().any(|(folder, _)| *folder == id)
    }

    /// Folder names are matched the way a MySQL collation would: case-insensitively.
    pub fn folder_id_by_name(&self, name: &str) -> Option<u64> {
        self.folders
            .iter()
            .find(|(_, folder)| folder.eq_ignore_ascii_case(name.trim()))
            .map(|(id, _)| *id)
    }
}

fn allocate(next: &mut u64) -> u64 {
    let id = *next;
    *next += 1;
    id
}

/// Ids on the wire are strings of digits; anything else names no record.
pub fn parse_id(id: &str) -> Option<u64> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

#[derive(Debug)]
pub struct SimState {
    pub config: SimConfig,
    stores: Mutex<HashMap<String, StoreData>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    pub faults: Mutex<FaultTable>,
    pub log: Mutex<Vec<LoggedRequest>>,
    /// `METHOD PATH` of every `/api/v2` request as it arrives (the log above is written
    /// when the answer is, so a request whose client hung up first may be missing there).
    pub arrivals: Mutex<Vec<String>>,
    /// "Post order to URL" rules and their deliveries, shared with the delivery tasks.
    pub webhooks: Arc<Webhooks>,
}

impl SimState {
    /// Stores are seeded on first use (see [`SimState::with_store`]), so that creating
    /// a simulator is instant; [`SimState::seed_all`] seeds them ahead of time.
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            stores: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultTable::default()),
            log: Mutex::new(Vec::new()),
            arrivals: Mutex::new(Vec::new()),
            webhooks: Arc::new(Webhooks::default()),
        }
    }

    /// The configured store with this id, if any.
    pub fn store_config(&self, store_id: &str) -> Option<&SimStore> {
        self.config.stores.iter().find(|s| s.store_id == store_id)
    }

    /// Run `f` on a store's data, seeding the store first if this is its first use.
    /// `None` when the store does not exist.
    ///
    /// Every change to an order goes through here, so this is where the store's webhook
    /// rules fire: once `f` is done, for what it created or changed (queued for delivery,
    /// never waited for).
    pub fn with_store<R>(&self, store_id: &str, f: impl FnOnce(&mut StoreData) -> R) -> Option<R> {
        let mut stores = lock(&self.stores);
        if !stores.contains_key(store_id) {
            // The first configured entry for a store id wins, like the credential lookup.
            let store = self.store_config(store_id)?.clone();
            let data = seed::seed_store(store, self.config.seed_orders_per_store);
            stores.insert(store_id.to_owned(), data);
        }
        let data = stores.get_mut(store_id)?;
        let result = f(data);
        if data.touched.is_empty() {
            return Some(result);
        }
        if !self.webhooks.has_rules(store_id) {
            data.forget_changes();
            return Some(result);
        }
        let changes = data.take_changes();
        if !changes.is_empty() {
            // Queued under the stores' lock (it only signs and enqueues), so that pushes
            // leave in the order the changes were made even when requests race.
            let api_key = data.store.api_key.clone();
            self.webhooks.dispatch(store_id, &api_key, changes);
        }
        Some(result)
    }

    /// Seed every configured store now (seeding is deterministic, so when it happens
    /// does not change what a store holds).
    pub fn seed_all(&self) {
        for store in &self.config.stores {
            self.with_store(&store.store_id, |_| ());
        }
    }

    fn with_bucket<R>(&self, store_id: &str, f: impl FnOnce(&mut Bucket) -> R) -> R {
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(store_id.to_owned()).or_insert_with(|| {
            Bucket::new(self.config.bucket_capacity, self.config.refill_per_sec)
        });
        f(bucket)
    }

    /// Spend one of the store's tokens on a request.
    pub fn take_token(&self, store_id: &str) -> Take {
        self.with_bucket(store_id, Bucket::take)
    }

    /// The store's whole tokens left, without spending one.
    pub fn peek_tokens(&self, store_id: &str) -> u32 {
        self.with_bucket(store_id, Bucket::peek)
    }
}

/// Lock, shrugging off poisoning: a panicking handler must not wedge the simulator for
/// every later test, and the data stays structurally valid at every await-free step.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
