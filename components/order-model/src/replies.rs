//! Typed models of OrderDesk's answers, one per endpoint, for reading them.
//!
//! `docs/orderdesk-replies.md` shows each endpoint's answer with a sample, and a test
//! parses the simulator's real answers into these types so that neither can drift.
//! The records inside ([`Order`], [`InventoryItem`], …) keep every field as received
//! and read them leniently (numbers sent as strings, `[]` for an empty map); the
//! envelopes read OrderDesk's bookkeeping (`total_records`, `offset`, …) as numbers
//! whichever way they arrive. `status` and `execution_time` are left out: an answer
//! that reaches a component succeeded.
//!
//! ```
//! use order_model::replies::InventoryPage;
//!
//! // `GET /inventory-items?limit=2`, abridged: PHP sends some stock levels as strings.
//! let body = r#"{"status": "success", "execution_time": "0.01 seconds",
//!     "total_records": 12, "records_returned": 2, "offset": 0, "limit": 2,
//!     "inventory_items": [
//!         {"id": "700101", "name": "Ceramic mug", "code": "MUG-WHT", "stock": "11"},
//!         {"id": "700102", "name": "Pour-over kit", "code": "POUR-01", "stock": 48}]}"#;
//! let page: InventoryPage = serde_json::from_str(body).unwrap();
//! assert_eq!(page.inventory_items[0].stock(), Some(11));
//! assert_eq!(page.inventory_items[1].code().as_deref(), Some("POUR-01"));
//! assert_eq!(page.paging.next_offset(), Some(2));
//! ```
//!
//! To change a record, send back the whole JSON object you read (OrderDesk replaces
//! records whole): records serialize to exactly the fields they were read from.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::lenient;
use crate::records::record;
pub use crate::records::{Order, OrderItem, Shipment};

record!(
    /// An inventory item (`GET /inventory-items/{id}` → `inventory_item`, and each entry
    /// of a page). `stock`, `price`, `cost` and `weight` arrive as numbers or numeric
    /// strings; `metadata` and `variation_list` as objects or `[]`.
    InventoryItem, "inventory item"
);

impl InventoryItem {
    /// The item's name.
    pub fn name(&self) -> Option<String> {
        self.text("name")
    }

    /// The SKU, matched against the `code` of order items.
    pub fn code(&self) -> Option<String> {
        self.text("code")
    }

    /// Units in stock, a whole count: `48` and `"48"` both read as 48. `None` when
    /// absent or not a whole number (`number("stock")` reads a fractional one).
    pub fn stock(&self) -> Option<i64> {
        self.integer("stock")
    }

    /// Unit price.
    pub fn price(&self) -> Option<f64> {
        self.number("price")
    }

    /// Where the item is kept, e.g. `A-01`.
    pub fn location(&self) -> Option<String> {
        self.text("location")
    }

    /// Variation options (e.g. `Color: White`); `[]` reads as empty.
    pub fn variation_list(&self) -> Map<String, Value> {
        self.map("variation_list")
            .map(Cow::into_owned)
            .unwrap_or_default()
    }
}

record!(
    /// A store's settings (`GET /store` → `store`): `id`, `name`, `folders`, and
    /// whatever else OrderDesk sends.
    StoreSettings, "store"
);

/// A folder of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    /// The folder id (the `folder_id` of orders).
    pub id: i64,
    /// The folder name, e.g. `Shipped`.
    pub name: String,
}

impl StoreSettings {
    /// The store's name.
    pub fn name(&self) -> Option<String> {
        self.text("name")
    }

    /// The folders, in the order sent. OrderDesk is documented to send a map of id to
    /// name (`{"1004": "New"}`) and seen to send a list of `{id, name}`: both read.
    pub fn folders(&self) -> Vec<Folder> {
        let folder = |id: Option<i64>, name: Option<String>| {
            Some(Folder {
                id: id?,
                name: name?,
            })
        };
        match self.get("folders") {
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(id, name)| folder(id.trim().parse().ok(), lenient::text(name)))
                .collect(),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|entry| {
                    folder(
                        entry.get("id").and_then(lenient::integer),
                        entry.get("name").and_then(lenient::text),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The paging fields of a list answer (`GET /orders`, `GET /inventory-items`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct Paging {
    /// How many records match in all.
    #[serde(deserialize_with = "count")]
    pub total_records: u64,
    /// How many this page holds.
    #[serde(deserialize_with = "count")]
    pub records_returned: u64,
    /// How many matching records come before this page.
    #[serde(deserialize_with = "count")]
    pub offset: u64,
    /// The page size applied (at most 500).
    #[serde(deserialize_with = "count")]
    pub limit: u64,
}

impl Paging {
    /// OrderDesk's largest page: `limit` above it is refused with HTTP 400.
    pub const MAX_LIMIT: u64 = 500;

    /// Whether more pages follow: `offset + records_returned < total_records`.
    pub fn has_more(&self) -> bool {
        self.records_returned > 0 && self.offset + self.records_returned < self.total_records
    }

    /// The `offset` of the next page, or `None` on the last one.
    pub fn next_offset(&self) -> Option<u64> {
        self.has_more()
            .then_some(self.offset + self.records_returned)
    }
}

/// `GET /inventory-items`: a page of inventory items.
#[derive(Debug, Clone, Deserialize)]
pub struct InventoryPage {
    /// Where this page is among all matches.
    #[serde(flatten)]
    pub paging: Paging,
    /// The items of this page.
    #[serde(deserialize_with = "records")]
    pub inventory_items: Vec<InventoryItem>,
}

/// `GET /orders`: a page of orders.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderPage {
    /// Where this page is among all matches.
    #[serde(flatten)]
    pub paging: Paging,
    /// The orders of this page.
    #[serde(deserialize_with = "records")]
    pub orders: Vec<Order>,
}

/// `GET /test`: the credentials work.
#[derive(Debug, Clone, Deserialize)]
pub struct TestReply {
    /// `Connection Successful`.
    pub message: String,
    /// OrderDesk's clock, `YYYY-MM-DD HH:MM:SS`.
    pub current_date_time: String,
}

/// `GET /store`.
#[derive(Debug, Clone, Deserialize)]
pub struct StoreReply {
    /// The store's settings.
    pub store: StoreSettings,
}

/// One order: `GET` and `PUT /orders/{id}`, `POST /orders` (with `message: "Order
/// Created"`), `POST /orders/{id}/order-history` (with `message: "History Added"`).
#[derive(Debug, Clone, Deserialize)]
pub struct OrderReply {
    /// The order.
    pub order: Order,
    /// What was done, for a create or a note.
    #[serde(default)]
    pub message: Option<String>,
}

/// `GET /orders/{id}/order-items`, and `POST` of a list of items.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderItemsReply {
    /// The items.
    #[serde(deserialize_with = "records")]
    pub order_items: Vec<OrderItem>,
}

/// One order item: `GET`, `PUT /orders/{id}/order-items/{item_id}`, `POST` of one item.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderItemReply {
    /// The item.
    pub order_item: OrderItem,
}

/// `GET /orders/{id}/shipments`, and `POST /batch-shipments`.
#[derive(Debug, Clone, Deserialize)]
pub struct ShipmentsReply {
    /// The shipments.
    #[serde(deserialize_with = "records")]
    pub shipments: Vec<Shipment>,
}

/// One shipment: `GET`, `PUT /orders/{id}/shipments/{id}`, `POST /orders/{id}/shipments`.
#[derive(Debug, Clone, Deserialize)]
pub struct ShipmentReply {
    /// The shipment.
    pub shipment: Shipment,
}

/// One inventory item: `GET`, `PUT /inventory-items/{id}`, `POST /inventory-items`.
#[derive(Debug, Clone, Deserialize)]
pub struct InventoryItemReply {
    /// The item.
    pub inventory_item: InventoryItem,
}

/// `PUT /batch-inventory-items`: the items as updated.
#[derive(Debug, Clone, Deserialize)]
pub struct InventoryItemsReply {
    /// The items as stored now.
    #[serde(deserialize_with = "records")]
    pub inventory_items: Vec<InventoryItem>,
}

/// `POST /move-orders`.
#[derive(Debug, Clone, Deserialize)]
pub struct MoveOrdersReply {
    /// e.g. `2 order(s) moved`.
    pub message: String,
    /// The orders moved.
    #[serde(deserialize_with = "texts")]
    pub order_id_list: Vec<String>,
    /// The folder they are in now.
    #[serde(deserialize_with = "whole")]
    pub destination_folder_id: i64,
}

/// A `DELETE`: `{"message": "Order Deleted"}` (likewise items, shipments, inventory
/// items).
#[derive(Debug, Clone, Deserialize)]
pub struct MessageReply {
    /// e.g. `Order Deleted`.
    pub message: String,
}

/// A count sent as a number or a numeric string.
fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    lenient::integer(&value)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("expected a count, found {value}")))
}

/// A whole number sent as a number or a numeric string.
fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    lenient::integer(&value)
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, found {value}")))
}

/// Ids sent as strings or numbers.
fn texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let values = Vec::<Value>::deserialize(deserializer)?;
    Ok(values.iter().filter_map(lenient::text).collect())
}

/// A list of records: a JSON list, or an object of records (PHP writes a keyed array
/// as an object), or `null`. Entries that are not objects are skipped.
fn records<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<Value>,
{
    let entries = match Value::deserialize(deserializer)? {
        Value::Array(list) => list,
        Value::Object(map) => map.into_iter().map(|(_, record)| record).collect(),
        _ => Vec::new(),
    };
    Ok(entries
        .into_iter()
        .filter(Value::is_object)
        .filter_map(|record| T::try_from(record).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paging_reads_counts_sent_as_strings_and_finds_the_next_page() {
        let page: OrderPage = serde_json::from_value(json!({
            "total_records": "120", "records_returned": 50, "offset": "50", "limit": 50,
            "orders": [{"id": "1"}, "not a record"]
        }))
        .unwrap();
        assert_eq!(page.paging.total_records, 120);
        assert_eq!(page.paging.next_offset(), Some(100));
        assert_eq!(
            page.orders.len(),
            1,
            "entries that are not objects are skipped"
        );
        let last = Paging {
            total_records: 120,
            records_returned: 20,
            offset: 100,
            limit: 50,
        };
        assert!(!last.has_more());
        assert_eq!(last.next_offset(), None);
        let empty = Paging {
            total_records: 0,
            records_returned: 0,
            offset: 0,
            limit: 50,
        };
        assert_eq!(empty.next_offset(), None);
    }

    #[test]
    fn a_keyed_list_and_a_missing_count_are_handled() {
        let page: InventoryPage = serde_json::from_value(json!({
            "total_records": 1, "records_returned": 1, "offset": 0, "limit": 50,
            "inventory_items": {"7": {"id": 7, "stock": "3", "variation_list": []}}
        }))
        .unwrap();
        let item = &page.inventory_items[0];
        assert_eq!(item.id().as_deref(), Some("7"));
        assert_eq!(item.stock(), Some(3));
        assert!(item.variation_list().is_empty());
        let broken = serde_json::from_value::<InventoryPage>(json!({"inventory_items": []}));
        assert!(broken.unwrap_err().to_string().contains("total_records"));
    }

    #[test]
    fn folders_read_from_a_map_or_a_list() {
        let as_map: StoreReply = serde_json::from_value(
            json!({"store": {"folders": {"1004": "New", "1007": "Shipped"}}}),
        )
        .unwrap();
        let as_list: StoreReply = serde_json::from_value(
            json!({"store": {"folders": [{"id": "1004", "name": "New"}, {"id": 1007, "name": "Shipped"}]}}),
        )
        .unwrap();
        assert_eq!(as_map.store.folders(), as_list.store.folders());
        assert_eq!(
            as_map.store.folders()[1],
            Folder {
                id: 1007,
                name: "Shipped".into()
            }
        );
    }

    #[test]
    fn a_record_writes_back_exactly_what_was_read() {
        let sent = json!({"id": "7", "stock": "3", "metadata": [], "vendor_note": "kept"});
        let reply: InventoryItemReply =
            serde_json::from_value(json!({"inventory_item": sent.clone()})).unwrap();
        assert_eq!(serde_json::to_value(&reply.inventory_item).unwrap(), sent);
    }
}
