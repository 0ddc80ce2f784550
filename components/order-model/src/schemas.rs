//! JSON Schemas of OrderDesk's records, from one table per record: a lenient one to
//! describe what OrderDesk answers (an output schema must accept every real answer, PHP
//! quirks included), and a typed one for the `changes` of an update, which a model fills
//! in (editable fields with their enums and bounds; `null` removes a field).
//!
//! Both stay open (`additionalProperties`): OrderDesk sends fields no documentation
//! lists, and a full-record update must round-trip them.

use serde_json::{Map, Value, json};

/// What a field holds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Text (PHP may send a number, e.g. a numeric `source_id`).
    Text,
    /// A number, or a numeric string (`"1.70"`).
    Number,
    /// A whole number, or one as a string.
    Integer,
    /// One of the listed values.
    Enum(&'static [&'static str]),
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    DateTime,
    /// `YYYY-MM-DD`.
    Date,
    /// A map of names to values (`[]` is PHP's empty map), at most this many characters
    /// as JSON when given.
    Map(Option<usize>),
    /// An object with these fields.
    Object(&'static [Field]),
    /// A list of objects with these fields.
    List(&'static [Field]),
}

/// One field of a record.
pub struct Field {
    /// Its name in OrderDesk's JSON.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// What it is, for the model.
    pub about: &'static str,
    /// Whether an update may set it (ids and dates OrderDesk assigns may not).
    pub editable: bool,
}

const fn field(name: &'static str, kind: Kind, about: &'static str) -> Field {
    Field {
        name,
        kind,
        about,
        editable: true,
    }
}

const fn fixed(name: &'static str, kind: Kind, about: &'static str) -> Field {
    Field {
        name,
        kind,
        about,
        editable: false,
    }
}

/// `payment_status` values.
pub const PAYMENT_STATUSES: &[&str] = &[
    "Approved",
    "Authorized",
    "Captured",
    "Fully Refunded",
    "Partially Refunded",
    "Pending",
    "Rejected",
    "Voided",
];

/// `delivery_type` values of an order item.
pub const DELIVERY_TYPES: &[&str] = &["ship", "noship", "download", "future"];

/// OrderDesk's bound on `checkout_data`, as JSON text.
pub const CHECKOUT_DATA_MAX: usize = 3500;
/// OrderDesk's bound on `order_metadata`, as JSON text.
pub const ORDER_METADATA_MAX: usize = 2000;
/// OrderDesk's bound on a history note.
pub const NOTE_MAX: usize = 1800;

const ADDRESS: &[Field] = &[
    field("first_name", Kind::Text, "First name."),
    field("last_name", Kind::Text, "Last name."),
    field("company", Kind::Text, "Company."),
    field("address1", Kind::Text, "Street address."),
    field("address2", Kind::Text, "Address line 2."),
    field("address3", Kind::Text, "Address line 3."),
    field("address4", Kind::Text, "Address line 4."),
    field("city", Kind::Text, "City."),
    field("state", Kind::Text, "State or province (e.g. \"IL\")."),
    field("postal_code", Kind::Text, "Postal code."),
    field(
        "country",
        Kind::Text,
        "Country, as a two-letter code (e.g. \"US\").",
    ),
    field("phone", Kind::Text, "Phone."),
];

const RETURN_ADDRESS: &[Field] = &[
    field("title", Kind::Text, "Title."),
    field("name", Kind::Text, "Name."),
    field("company", Kind::Text, "Company."),
    field("address1", Kind::Text, "Street address."),
    field("address2", Kind::Text, "Address line 2."),
    field("city", Kind::Text, "City."),
    field("state", Kind::Text, "State or province."),
    field("postal_code", Kind::Text, "Postal code."),
    field("country", Kind::Text, "Country code."),
    field("phone", Kind::Text, "Phone."),
];

const DISCOUNT: &[Field] = &[
    field("name", Kind::Text, "Discount name."),
    field("code", Kind::Text, "Discount code."),
    field("amount", Kind::Number, "Amount."),
];

const NOTE: &[Field] = &[
    fixed("date_added", Kind::DateTime, "When it was written, UTC."),
    fixed("username", Kind::Text, "Who wrote it."),
    fixed(
        "content",
        Kind::Text,
        "The note (at most 1800 characters; add one with orders_add_note).",
    ),
];

/// An order item's fields.
pub const ORDER_ITEM: &[Field] = &[
    fixed("id", Kind::Text, "Item id, assigned by OrderDesk."),
    field("name", Kind::Text, "Item name."),
    field(
        "code",
        Kind::Text,
        "SKU, matched against inventory item codes.",
    ),
    field("price", Kind::Number, "Unit price."),
    field("quantity", Kind::Number, "Quantity."),
    field("weight", Kind::Number, "Unit weight."),
    field(
        "delivery_type",
        Kind::Enum(DELIVERY_TYPES),
        "How it is delivered.",
    ),
    field("category_code", Kind::Text, "Category code."),
    field("fulfillment_method", Kind::Text, "Fulfilment method."),
    field(
        "variation_list",
        Kind::Map(None),
        "Options, e.g. {\"Color\": \"White\"}.",
    ),
    field("metadata", Kind::Map(None), "Free metadata {key: value}."),
];

/// A shipment's fields (OrderDesk sends them all as strings).
pub const SHIPMENT: &[Field] = &[
    fixed("id", Kind::Text, "Shipment id, assigned by OrderDesk."),
    fixed("order_id", Kind::Text, "The order it belongs to."),
    fixed("store_id", Kind::Text, "The store."),
    field(
        "tracking_number",
        Kind::Text,
        "Tracking number (\"n/a\" when there is none).",
    ),
    field(
        "carrier_code",
        Kind::Text,
        "Carrier, e.g. USPS, UPS, FedEx, DHL.",
    ),
    field("shipment_method", Kind::Text, "Service, e.g. \"Priority\"."),
    field("weight", Kind::Number, "Weight."),
    field("cost", Kind::Number, "Cost."),
    field("status", Kind::Text, "Carrier status."),
    field(
        "tracking_url",
        Kind::Text,
        "Tracking link (OrderDesk derives one when left out).",
    ),
    field("date_shipped", Kind::Date, "Ship date, YYYY-MM-DD."),
    fixed("date_added", Kind::DateTime, "When it was recorded, UTC."),
];

/// An order's fields.
pub const ORDER: &[Field] = &[
    fixed("id", Kind::Text, "Order id, assigned by OrderDesk."),
    field(
        "source_id",
        Kind::Text,
        "The order's id in its source (e.g. a Shopify order number).",
    ),
    field(
        "source_name",
        Kind::Text,
        "Where it came from (default \"Order Desk\").",
    ),
    field("email", Kind::Text, "Customer email."),
    field("shipping_method", Kind::Text, "Shipping method."),
    field("quantity_total", Kind::Number, "Units in the order."),
    field("weight_total", Kind::Number, "Total weight."),
    field("product_total", Kind::Number, "Items total."),
    field("shipping_total", Kind::Number, "Shipping charged."),
    field("handling_total", Kind::Number, "Handling charged."),
    field("tax_total", Kind::Number, "Tax."),
    field("discount_total", Kind::Number, "Discounts."),
    field("order_total", Kind::Number, "Order total."),
    field("cc_number_masked", Kind::Text, "Masked card number."),
    field("cc_exp", Kind::Text, "Card expiry, MM/YYYY."),
    field(
        "processor_response",
        Kind::Text,
        "Payment processor's answer.",
    ),
    field("payment_type", Kind::Text, "Payment type (e.g. Visa)."),
    field(
        "payment_status",
        Kind::Enum(PAYMENT_STATUSES),
        "Payment status.",
    ),
    field(
        "processor_balance",
        Kind::Number,
        "Balance at the processor.",
    ),
    field("refund_total", Kind::Number, "Refunded."),
    field("customer_id", Kind::Text, "Customer id from the source."),
    fixed("email_count", Kind::Integer, "Emails sent for the order."),
    field("ip_address", Kind::Text, "Customer's IP address."),
    field("tag_color", Kind::Text, "Tag colour (e.g. \"#3366ff\")."),
    field("tag_name", Kind::Text, "Tag name."),
    field("fulfillment_name", Kind::Text, "Fulfilment service name."),
    field("fulfillment_id", Kind::Text, "Fulfilment service's id."),
    fixed(
        "folder_id",
        Kind::Integer,
        "Folder id; change it with orders_move (which runs the folder's automation).",
    ),
    fixed("date_added", Kind::DateTime, "When it was added, UTC."),
    fixed("date_updated", Kind::DateTime, "When it last changed, UTC."),
    field("shipping", Kind::Object(ADDRESS), "Shipping address."),
    field(
        "customer",
        Kind::Object(ADDRESS),
        "Customer (billing) address.",
    ),
    field(
        "return_address",
        Kind::Object(RETURN_ADDRESS),
        "Return address.",
    ),
    field(
        "checkout_data",
        Kind::Map(Some(CHECKOUT_DATA_MAX)),
        "Visible checkout fields {name: value}, at most 3500 characters as JSON.",
    ),
    field(
        "order_metadata",
        Kind::Map(Some(ORDER_METADATA_MAX)),
        "Hidden metadata {key: value}, at most 2000 characters as JSON.",
    ),
    field(
        "discount_list",
        Kind::List(DISCOUNT),
        "Discounts (a list replaces the whole list).",
    ),
    fixed(
        "order_notes",
        Kind::List(NOTE),
        "History notes; add one with orders_add_note.",
    ),
    field(
        "order_items",
        Kind::List(ORDER_ITEM),
        "Line items (a list replaces every item; prefer the order_items_* tools).",
    ),
    fixed(
        "order_shipments",
        Kind::List(SHIPMENT),
        "Shipments; change them with the shipments_* tools.",
    ),
];

/// An inventory item's fields.
pub const INVENTORY_ITEM: &[Field] = &[
    fixed(
        "id",
        Kind::Text,
        "Inventory item id, assigned by OrderDesk.",
    ),
    field("name", Kind::Text, "Item name."),
    field(
        "code",
        Kind::Text,
        "SKU, matched against the code of order items.",
    ),
    field("price", Kind::Number, "Price."),
    field("cost", Kind::Number, "Cost."),
    field("weight", Kind::Number, "Weight."),
    field(
        "stock",
        Kind::Number,
        "Quantity on hand (set, not adjusted).",
    ),
    field("location", Kind::Text, "Storage location."),
    field("manufacturer_sku", Kind::Text, "Manufacturer's SKU."),
    field("metadata", Kind::Map(None), "Free metadata {key: value}."),
    field(
        "variation_list",
        Kind::Map(None),
        "Options, e.g. {\"Color\": \"White\"}.",
    ),
    fixed("update_source", Kind::Text, "What last changed it."),
    fixed("date_added", Kind::DateTime, "When it was added, UTC."),
    fixed("date_updated", Kind::DateTime, "When it last changed, UTC."),
];

/// A number, or a number written as a string.
const NUMERIC: &str = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$";

/// The schema of a record as OrderDesk answers it: every field described, its type
/// read leniently (numbers as strings, `[]` for a map, `null`), nothing required, other
/// fields allowed. It also fits a projection of the record to some of its fields.
///
/// ```
/// use order_model::schemas::{ORDER, record};
///
/// let schema = record(ORDER, "An order.");
/// assert_eq!(schema["properties"]["order_total"]["type"], serde_json::json!(["number", "string", "null"]));
/// assert_eq!(schema["additionalProperties"], true);
/// ```
pub fn record(fields: &[Field], description: &str) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), read_property(f)))
        .collect();
    json!({"type": "object", "description": description, "properties": properties,
           "additionalProperties": true})
}

fn read_property(field: &Field) -> Value {
    let mut property = match field.kind {
        Kind::Text | Kind::Enum(_) | Kind::DateTime | Kind::Date => {
            json!({"type": ["string", "number", "null"]})
        }
        Kind::Number | Kind::Integer => json!({"type": ["number", "string", "null"]}),
        Kind::Map(_) => json!({"type": ["object", "array", "null"]}),
        Kind::Object(fields) => {
            let mut object = record(fields, field.about);
            object["type"] = json!(["object", "array", "null"]);
            object
        }
        Kind::List(fields) => json!({
            "type": ["array", "object", "null"],
            "items": record(fields, field.about)
        }),
    };
    property["description"] = json!(describe(field));
    property
}

fn describe(field: &Field) -> String {
    match field.kind {
        Kind::Enum(values) => format!("{} One of: {}.", field.about, values.join(", ")),
        Kind::DateTime => format!("{} (YYYY-MM-DD HH:MM:SS)", field.about),
        _ => field.about.to_string(),
    }
}

/// The schema of an update's `changes` to a record of `fields`: the editable fields,
/// typed (enums, patterns, numbers also as numeric strings), each removable with
/// `null`; objects merge key by key, lists replace. Other fields are allowed, so a
/// field OrderDesk added can be changed too.
///
/// ```
/// use order_model::schemas::{ORDER, changes};
///
/// let schema = changes(ORDER, "Only the fields to change.");
/// assert!(schema["properties"]["payment_status"]["enum"].as_array().unwrap().iter().any(|v| v == "Captured"));
/// assert!(schema["properties"].get("id").is_none(), "ids are not editable");
/// ```
pub fn changes(fields: &[Field], description: &str) -> Value {
    let mut schema = change_object(fields, description);
    schema["minProperties"] = json!(1);
    schema
}

/// The schema of a new record of `fields`: the editable fields, typed as in
/// [`changes`], plus the fields named in `also` that only a new record may set (e.g.
/// an order's `folder_id`). Other fields are allowed.
///
/// ```
/// use order_model::schemas::{ORDER, new_record};
///
/// let schema = new_record(ORDER, "The order.", &["folder_id"]);
/// assert!(schema["properties"].get("folder_id").is_some());
/// assert!(schema["properties"].get("id").is_none());
/// ```
pub fn new_record(fields: &[Field], description: &str, also: &[&str]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .filter(|f| f.editable || also.contains(&f.name))
        .map(|f| (f.name.to_string(), change_property(f)))
        .collect();
    json!({"type": "object", "description": description, "properties": properties,
           "additionalProperties": true})
}

fn change_object(fields: &[Field], description: &str) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .filter(|f| f.editable)
        .map(|f| (f.name.to_string(), change_property(f)))
        .collect();
    json!({"type": "object", "description": description, "properties": properties,
           "additionalProperties": true})
}

fn change_property(field: &Field) -> Value {
    let mut property = match field.kind {
        Kind::Text => json!({"type": ["string", "number", "null"]}),
        Kind::Number => json!({"type": ["number", "string", "null"], "pattern": NUMERIC}),
        Kind::Integer => {
            json!({"type": ["integer", "string", "null"], "pattern": r"^\s*-?[0-9]+\s*$"})
        }
        Kind::Enum(values) => {
            let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            values.push(Value::Null);
            json!({"enum": values})
        }
        Kind::DateTime => json!({"type": ["string", "null"],
                                 "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"}),
        Kind::Date => {
            json!({"type": ["string", "null"], "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
        }
        // `[]` too: it is what a read answered for an empty map, sent back unchanged.
        Kind::Map(_) => json!({"type": ["object", "array", "null"], "maxItems": 0,
                               "additionalProperties": true}),
        Kind::Object(fields) => {
            let mut object = change_object(fields, field.about);
            object["type"] = json!(["object", "null"]);
            object
        }
        Kind::List(fields) => json!({
            "type": ["array", "null"],
            "items": change_object(fields, field.about)
        }),
    };
    property["description"] = json!(describe(field));
    property
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_schemas_describe_every_field_leniently_and_stay_open() {
        let order = record(ORDER, "An order.");
        let items = &order["properties"]["order_items"];
        assert_eq!(
            items["items"]["properties"]["delivery_type"]["description"],
            "How it is delivered. One of: ship, noship, download, future."
        );
        assert_eq!(
            order["properties"]["checkout_data"]["type"],
            json!(["object", "array", "null"])
        );
        assert_eq!(order["additionalProperties"], true);
    }

    #[test]
    fn change_schemas_hold_the_editable_fields_with_enums_and_bounds() {
        let order = changes(ORDER, "Changes.");
        let properties = order["properties"].as_object().unwrap();
        for locked in ["id", "date_added", "folder_id", "order_shipments"] {
            assert!(!properties.contains_key(locked), "{locked}");
        }
        assert_eq!(order["minProperties"], 1);
        assert_eq!(
            properties["order_items"]["items"]["properties"]["delivery_type"]["enum"],
            json!(["ship", "noship", "download", "future", null])
        );
        assert!(
            properties["checkout_data"]["description"]
                .as_str()
                .unwrap()
                .contains("3500")
        );
        let shipment = changes(SHIPMENT, "Changes.");
        assert_eq!(
            shipment["properties"]["date_shipped"]["pattern"],
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        );
    }
}
