//! The records OrderDesk exchanges, each a JSON object kept exactly as received.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::lenient;

/// A payload that is not the JSON object a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The text is not JSON at all.
    Json(String),
    /// The JSON is not an object.
    NotAnObject {
        /// The record that was expected (e.g. `order`).
        record: &'static str,
        /// What was found instead (e.g. `a list`).
        found: &'static str,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Json(e) => write!(f, "not valid JSON: {e}"),
            ModelError::NotAnObject { record, found } => {
                write!(f, "{record} must be a JSON object, found {found}")
            }
        }
    }
}

impl std::error::Error for ModelError {}

/// Declares a record: a transparent wrapper over the JSON object, so serialising it
/// writes back exactly the fields (and spellings) that were read, plus shared lenient
/// accessors.
macro_rules! record {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(::serde_json::Map<String, ::serde_json::Value>);

        impl $name {
            /// Take a JSON value, which must be an object.
            pub fn from_value(value: ::serde_json::Value) -> Result<Self, $crate::ModelError> {
                match value {
                    ::serde_json::Value::Object(fields) => Ok(Self(fields)),
                    other => Err($crate::ModelError::NotAnObject {
                        record: $label,
                        found: $crate::lenient::kind(&other),
                    }),
                }
            }

            /// Parse JSON text, which must hold an object.
            pub fn from_json(text: &str) -> Result<Self, $crate::ModelError> {
                let value = ::serde_json::from_str(text).map_err(|e| $crate::ModelError::Json(e.to_string()))?;
                Self::from_value(value)
            }

            /// All fields, as received (including the ones this crate does not know).
            pub fn fields(&self) -> &::serde_json::Map<String, ::serde_json::Value> {
                &self.0
            }

            /// All fields, for changes in place.
            pub fn fields_mut(&mut self) -> &mut ::serde_json::Map<String, ::serde_json::Value> {
                &mut self.0
            }

            /// Back to a JSON value: the fields as received.
            pub fn into_value(self) -> ::serde_json::Value {
                ::serde_json::Value::Object(self.0)
            }

            /// One raw field.
            pub fn get(&self, key: &str) -> Option<&::serde_json::Value> {
                self.0.get(key)
            }

            /// A field as text (strings as is, numbers spelled out).
            pub fn text(&self, key: &str) -> Option<String> {
                self.0.get(key).and_then($crate::lenient::text)
            }

            /// A field as a number (numbers and numeric strings).
            pub fn number(&self, key: &str) -> Option<f64> {
                self.0.get(key).and_then($crate::lenient::number)
            }

            /// A field as a whole number (numbers and numeric strings).
            pub fn integer(&self, key: &str) -> Option<i64> {
                self.0.get(key).and_then($crate::lenient::integer)
            }

            /// A field as a map (`[]` reads as an empty map).
            pub fn map(&self, key: &str) -> Option<::std::borrow::Cow<'_, ::serde_json::Map<String, ::serde_json::Value>>> {
                self.0.get(key).and_then($crate::lenient::map)
            }

            /// The record's `id` as text, whether OrderDesk sent a string or a number.
            pub fn id(&self) -> Option<String> {
                self.text("id")
            }
        }

        impl From<$name> for ::serde_json::Value {
            fn from(record: $name) -> ::serde_json::Value {
                record.into_value()
            }
        }

        impl TryFrom<::serde_json::Value> for $name {
            type Error = $crate::ModelError;
            fn try_from(value: ::serde_json::Value) -> Result<Self, $crate::ModelError> {
                Self::from_value(value)
            }
        }
    };
}

pub(crate) use record;

record!(
    /// An order (`GET /orders/{id}` → `order`).
    Order, "order"
);
record!(
    /// A line item of an order (`order_items[…]`, `/orders/{id}/order-items/{item_id}`).
    OrderItem, "order item"
);
record!(
    /// A shipment of an order (`order_shipments[…]`, `/orders/{id}/shipments/{id}`).
    /// OrderDesk sends all its fields as strings.
    Shipment, "shipment"
);
record!(
    /// A `shipping`, `customer` or `return_address` block.
    Address, "address"
);
record!(
    /// The envelope of `GET /orders`: counts and a page of orders.
    OrderList, "order list"
);
record!(
    /// OrderDesk's error envelope: `{"status":"error","message":…,"errors":[…]}`.
    ErrorEnvelope, "error envelope"
);

/// Records that appear inside others, read leniently: a missing field or `[]` is an
/// empty record, anything else that is not an object is skipped.
fn nested<T: TryFrom<Value>>(value: Option<&Value>) -> Option<T> {
    let fields = value.and_then(lenient::map)?.into_owned();
    T::try_from(Value::Object(fields)).ok()
}

fn nested_list<T: TryFrom<Value>>(value: Option<&Value>) -> Vec<T> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|v| v.is_object())
            .filter_map(|v| T::try_from(v.clone()).ok())
            .collect(),
        _ => Vec::new(),
    }
}

impl Order {
    /// The customer's email.
    pub fn email(&self) -> Option<String> {
        self.text("email")
    }

    /// The folder the order is in (an integer, sometimes sent as a string).
    pub fn folder_id(&self) -> Option<i64> {
        self.integer("folder_id")
    }

    /// The order total.
    pub fn order_total(&self) -> Option<f64> {
        self.number("order_total")
    }

    /// How many units the order holds.
    pub fn quantity_total(&self) -> Option<f64> {
        self.number("quantity_total")
    }

    /// `payment_status` (Approved, Authorized, Captured, …).
    pub fn payment_status(&self) -> Option<String> {
        self.text("payment_status")
    }

    /// The shipping address; empty when absent or `[]`.
    pub fn shipping(&self) -> Address {
        nested(self.get("shipping")).unwrap_or_default()
    }

    /// The customer (billing) address; empty when absent or `[]`.
    pub fn customer(&self) -> Address {
        nested(self.get("customer")).unwrap_or_default()
    }

    /// The visible free-form checkout data; `[]` reads as empty.
    pub fn checkout_data(&self) -> Map<String, Value> {
        self.map("checkout_data")
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    /// The hidden metadata map; `[]` reads as empty.
    pub fn order_metadata(&self) -> Map<String, Value> {
        self.map("order_metadata")
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    /// The line items (copies; change them through `fields_mut`).
    pub fn items(&self) -> Vec<OrderItem> {
        nested_list(self.get("order_items"))
    }

    /// The shipments (copies).
    pub fn shipments(&self) -> Vec<Shipment> {
        nested_list(self.get("order_shipments"))
    }
}

impl OrderItem {
    /// The item name.
    pub fn name(&self) -> Option<String> {
        self.text("name")
    }

    /// The SKU, matched against inventory item codes.
    pub fn code(&self) -> Option<String> {
        self.text("code")
    }

    /// Unit price.
    pub fn price(&self) -> Option<f64> {
        self.number("price")
    }

    /// Quantity.
    pub fn quantity(&self) -> Option<f64> {
        self.number("quantity")
    }

    /// Variation options (e.g. `Color: White`); `[]` reads as empty.
    pub fn variation_list(&self) -> Map<String, Value> {
        self.map("variation_list")
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    /// Item metadata; `[]` reads as empty.
    pub fn metadata(&self) -> Map<String, Value> {
        self.map("metadata")
            .map(Cow::into_owned)
            .unwrap_or_default()
    }
}

impl Shipment {
    /// The order the shipment belongs to.
    pub fn order_id(&self) -> Option<String> {
        self.text("order_id")
    }

    /// The tracking number (`"n/a"` is allowed).
    pub fn tracking_number(&self) -> Option<String> {
        self.text("tracking_number")
    }

    /// The carrier code (e.g. `USPS`).
    pub fn carrier_code(&self) -> Option<String> {
        self.text("carrier_code")
    }
}

impl Address {
    /// Whether the address names someone: a first name, last name or company with text.
    pub fn names_someone(&self) -> bool {
        names_someone(&self.0)
    }
}

/// Whether an address block has a first name, last name or company with text.
pub(crate) fn names_someone(address: &Map<String, Value>) -> bool {
    ["first_name", "last_name", "company"]
        .iter()
        .any(|k| address.get(*k).and_then(lenient::non_empty_text).is_some())
}

impl OrderList {
    /// How many orders match the search in all.
    pub fn total_records(&self) -> Option<u64> {
        self.integer("total_records")
            .and_then(|n| u64::try_from(n).ok())
    }

    /// How many orders this page holds (counted when OrderDesk leaves it out).
    pub fn records_returned(&self) -> u64 {
        self.integer("records_returned")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(self.orders().len() as u64)
    }

    /// The offset of this page.
    pub fn offset(&self) -> Option<u64> {
        self.integer("offset").and_then(|n| u64::try_from(n).ok())
    }

    /// The page size OrderDesk applied.
    pub fn limit(&self) -> Option<u64> {
        self.integer("limit").and_then(|n| u64::try_from(n).ok())
    }

    /// The orders of this page, as sent.
    pub fn orders(&self) -> &[Value] {
        match self.get("orders") {
            Some(Value::Array(orders)) => orders,
            _ => &[],
        }
    }

    /// Take the orders out of the page.
    pub fn into_orders(mut self) -> Vec<Value> {
        match self.0.remove("orders") {
            Some(Value::Array(orders)) => orders,
            _ => Vec::new(),
        }
    }

    /// Whether more pages exist: `offset + records_returned < total_records`.
    pub fn has_more(&self) -> bool {
        match self.total_records() {
            Some(total) => self.offset().unwrap_or(0) + self.records_returned() < total,
            None => false,
        }
    }
}

impl ErrorEnvelope {
    /// Whether the envelope reports an error (`"status":"error"`).
    pub fn is_error(&self) -> bool {
        self.text("status").as_deref() == Some("error")
    }

    /// OrderDesk's message.
    pub fn message(&self) -> Option<String> {
        self.text("message")
    }

    /// The fields OrderDesk named in `errors`, if any, as text.
    pub fn errors(&self) -> Vec<String> {
        match self.get("errors") {
            Some(Value::Array(errors)) => errors
                .iter()
                .map(|e| lenient::text(e).unwrap_or_else(|| e.to_string()))
                .collect(),
            _ => Vec::new(),
        }
    }
}
