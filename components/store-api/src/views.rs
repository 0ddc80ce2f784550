//! Answers sized for an agent, shared by every read tool: a summary of each record by
//! default, whole records (`view: "full"`) or only some fields (`fields`) on request;
//! pages cut to a byte budget; `fresh: true` to bypass the host's cache, and the age of
//! an answer the cache gave.
//!
//! A read tool describes its records once ([`Records`]), adds [`read_properties`] to
//! its input schema, reads [`ReadOptions`] from its arguments, and answers with
//! [`Records::one`] or [`Records::list`] (a paged list cuts its page with
//! [`Records::fit`] to [`answer_budget`]); its output schema comes from
//! [`Records::one_output`] or [`Records::list_output`], a write's from
//! [`Records::write_output`].
//!
//! ```
//! use orderdesk_store_api::views::{ReadOptions, View, ORDERS};
//! use serde_json::json;
//!
//! let order = json!({"id": "7", "email": "jo@example.com", "order_total": "9.50",
//!                    "shipping": {"first_name": "Jo", "city": "Springfield"}});
//! assert_eq!(ORDERS.render(&order, &View::Summary)["order_total"], 9.5);
//! let fields = ReadOptions { fields: Some(vec!["shipping.first_name".into()]), ..Default::default() };
//! assert_eq!(
//!     ORDERS.render(&order, &fields.view()?),
//!     json!({"id": "7", "shipping": {"first_name": "Jo"}})
//! );
//! # Ok::<(), orderdesk_tool_kit::ToolError>(())
//! ```

use order_model::schemas::{self, Field};
use order_model::views::{self, PATH_PATTERN};
use orderdesk_tool_kit::args::invalid;
use orderdesk_tool_kit::{ToolError, session};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{CacheMode, Reply};

/// How many bytes of JSON one answer may hold: the host's budget for a tool result
/// (what an MCP client keeps of a result without cutting it; `[limits]` sets it).
pub fn answer_budget() -> usize {
    usize::try_from(session::budget().result_bytes).unwrap_or(usize::MAX)
}

/// What the envelope around a page's records may take (pagination, notes, hints).
const ENVELOPE_BYTES: usize = 2 * 1024;

/// What a read answers of each record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    /// The record's lean summary (the default).
    Summary,
    /// The whole record, as OrderDesk holds it.
    Full,
    /// The fields at these dotted paths, plus the id.
    Fields(Vec<String>),
}

impl View {
    /// The view's name in an answer (`view`).
    pub fn name(&self) -> &'static str {
        match self {
            View::Summary => "summary",
            View::Full => "full",
            View::Fields(_) => "fields",
        }
    }
}

/// The arguments every read tool takes about its answer ([`read_properties`]).
#[derive(Debug, Default, Deserialize)]
pub struct ReadOptions {
    /// `summary` (default) or `full`.
    pub view: Option<String>,
    /// Dotted paths of the fields to answer.
    pub fields: Option<Vec<String>>,
    /// Read OrderDesk, not the host's cache.
    pub fresh: Option<bool>,
}

impl ReadOptions {
    /// The options among a tool's arguments, for handlers that read them by name.
    pub fn from_args(args: &orderdesk_tool_kit::Args) -> Result<Self, ToolError> {
        use orderdesk_tool_kit::args::field;
        Ok(ReadOptions {
            view: field(args, "view")?,
            fields: field(args, "fields")?,
            fresh: field(args, "fresh")?,
        })
    }

    /// The view asked for: `fields` when given, else `view`, else the summary.
    pub fn view(&self) -> Result<View, ToolError> {
        match (self.view.as_deref(), &self.fields) {
            (Some(view @ ("summary" | "full")), Some(_)) => Err(invalid(format!(
                "give either `view` or `fields`, not both (`view: \"{view}\"` with `fields`): \
                 `fields` alone answers just those fields"
            ))),
            (_, Some(fields)) => {
                if fields.is_empty() {
                    return Err(invalid(
                        "`fields` names no field; e.g. [\"email\", \"shipping.city\"]",
                    ));
                }
                if let Some(bad) = fields.iter().find(|path| !views::is_path(path)) {
                    return Err(invalid(format!(
                        "`fields`: {bad:?} is not a dotted path of field names, e.g. \
                         \"shipping.first_name\" or \"order_items.code\""
                    )));
                }
                Ok(View::Fields(fields.clone()))
            }
            (None | Some("summary"), None) => Ok(View::Summary),
            (Some("full"), None) => Ok(View::Full),
            (Some(other), None) => Err(invalid(format!(
                "`view` must be \"summary\" or \"full\", got {other:?}"
            ))),
        }
    }

    /// The cache mode the options ask for: `fresh: true` bypasses the host's cache.
    pub fn cache(&self) -> CacheMode {
        if self.fresh == Some(true) {
            CacheMode::Bypass
        } else {
            CacheMode::UseCache
        }
    }
}

/// The `view`, `fields` and `fresh` properties of a read tool's input schema, for
/// records whose summary holds `summary_fields`.
///
/// ```
/// let properties = orderdesk_store_api::views::read_properties("id, name");
/// assert_eq!(properties["view"]["enum"], serde_json::json!(["summary", "full"]));
/// ```
pub fn read_properties(summary_fields: &str) -> Value {
    json!({
        "view": {"type": "string", "enum": ["summary", "full"], "default": "summary",
                 "description": format!(
                     "What to answer of each record: \"summary\" ({summary_fields}) or \
                      \"full\" (the whole record). Leave it out with `fields`.")},
        "fields": {"type": "array", "minItems": 1, "uniqueItems": true,
                   "items": {"type": "string", "pattern": PATH_PATTERN},
                   "description": "Only these fields of each record (plus its id), as dotted \
                                   paths; a path through a list applies to each element, e.g. \
                                   [\"shipping.first_name\", \"order_items.code\"]."},
        "fresh": {"type": "boolean", "default": false,
                  "description": "Read OrderDesk now instead of the host's short-lived cache."}
    })
}

/// A kind of record a read tool answers: its names, its summary and its schema.
pub struct Records {
    /// The key of one record in an answer (`order`).
    pub one: &'static str,
    /// The key of a list of them (`orders`).
    pub many: &'static str,
    /// What they are called in hints (`order items`).
    pub plural: &'static str,
    /// Paths of fields worth asking for, as an example in hints.
    pub example_fields: &'static str,
    /// Its lean summary.
    pub summary: fn(&Value) -> Value,
    /// The summary's fields, for descriptions and hints.
    pub summary_fields: &'static str,
    /// The summary's keys, for its schema.
    pub summary_keys: &'static [&'static str],
    /// Its fields, for its schema.
    pub fields: &'static [Field],
    /// What one is, for its schema.
    pub about: &'static str,
}

/// Orders.
pub const ORDERS: Records = Records {
    one: "order",
    many: "orders",
    plural: "orders",
    example_fields: "[\"email\", \"shipping.city\", \"order_items.code\"]",
    summary: views::order_summary,
    summary_fields: views::ORDER_SUMMARY_FIELDS,
    summary_keys: views::ORDER_SUMMARY_KEYS,
    fields: schemas::ORDER,
    about: "An OrderDesk order.",
};

/// Order items.
pub const ORDER_ITEMS: Records = Records {
    one: "order_item",
    many: "order_items",
    plural: "order items",
    example_fields: "[\"weight\", \"variation_list\"]",
    summary: views::item_summary,
    summary_fields: views::ITEM_SUMMARY_FIELDS,
    summary_keys: views::ITEM_SUMMARY_KEYS,
    fields: schemas::ORDER_ITEM,
    about: "A line item of an order.",
};

/// Shipments.
pub const SHIPMENTS: Records = Records {
    one: "shipment",
    many: "shipments",
    plural: "shipments",
    example_fields: "[\"tracking_url\", \"cost\"]",
    summary: views::shipment_summary,
    summary_fields: views::SHIPMENT_SUMMARY_FIELDS,
    summary_keys: views::SHIPMENT_SUMMARY_KEYS,
    fields: schemas::SHIPMENT,
    about: "A shipment of an order (OrderDesk sends its fields as strings).",
};

/// Inventory items.
pub const INVENTORY_ITEMS: Records = Records {
    one: "inventory_item",
    many: "inventory_items",
    plural: "inventory items",
    example_fields: "[\"location\", \"cost\"]",
    summary: views::inventory_summary,
    summary_fields: views::INVENTORY_SUMMARY_FIELDS,
    summary_keys: views::INVENTORY_SUMMARY_KEYS,
    fields: schemas::INVENTORY_ITEM,
    about: "An inventory item.",
};

/// A page of records cut to a byte budget ([`Records::fit`]).
#[derive(Debug)]
pub struct Fitted {
    /// The records that fit, in the view asked for.
    pub records: Vec<Value>,
    /// How many were left out at the end.
    pub left_out: usize,
}

impl Records {
    /// The record in `view`.
    pub fn render(&self, record: &Value, view: &View) -> Value {
        match view {
            View::Summary => (self.summary)(record),
            View::Full => record.clone(),
            View::Fields(paths) => {
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                views::project(record, &paths)
            }
        }
    }

    /// `records` in `view`, as many from the start as fit in `budget` bytes of JSON.
    pub fn fit(&self, records: Vec<Value>, view: &View, budget: usize) -> Fitted {
        let room = budget.saturating_sub(ENVELOPE_BYTES);
        let total = records.len();
        let mut used = 0;
        let mut kept = Vec::new();
        for record in &records {
            let rendered = self.render(record, view);
            // The record's text plus the comma between records.
            let size = serde_json::to_string(&rendered).map_or(0, |t| t.len()) + 1;
            if used + size > room {
                break;
            }
            used += size;
            kept.push(rendered);
        }
        Fitted {
            left_out: total - kept.len(),
            records: kept,
        }
    }

    /// The hint an answer in `view` gives about getting more (`more`).
    pub fn more(&self, view: &View) -> String {
        match view {
            View::Summary => format!(
                "summaries; view: \"full\" answers whole {}, fields: {} just the fields \
                 named (dotted paths)",
                self.plural, self.example_fields
            ),
            View::Full => format!(
                "whole records; fields: {} answers just the fields named, the default view a \
                 summary (smaller, more per page)",
                self.example_fields
            ),
            View::Fields(_) => {
                "just the fields asked for (and the id); view: \"full\" answers whole records"
                    .to_string()
            }
        }
    }

    /// The answer of a read of one record: `{<one>: record, view, more, store_id}` and
    /// `cached` when the host's cache answered.
    pub fn one(&self, record: &Value, view: &View, reply: &Reply) -> Value {
        let mut answer = json!({
            self.one: self.render(record, view),
            "view": view.name(),
            "more": self.more(view),
            "store_id": reply.store_id,
        });
        add_cached(&mut answer, reply);
        answer
    }

    /// The answer of a list of `records` (a whole list, as OrderDesk answers an order's
    /// items or shipments), cut to `budget` bytes: `{<many>: […], view, more, store_id}`,
    /// with `left_out` and a `note` when some did not fit.
    pub fn list(&self, records: Vec<Value>, view: &View, reply: &Reply, budget: usize) -> Value {
        let fitted = self.fit(records, view, budget);
        let mut answer = json!({
            self.many: fitted.records,
            "view": view.name(),
            "more": self.more(view),
            "store_id": reply.store_id,
        });
        if fitted.left_out > 0 {
            answer["left_out"] = json!(fitted.left_out);
            answer["note"] = json!(format!(
                "{} more {} did not fit in the answer ({budget} bytes); use the summary view, \
                 fewer `fields`, or read them one by one",
                fitted.left_out, self.plural
            ));
        }
        add_cached(&mut answer, reply);
        add_now(&mut answer);
        answer
    }

    /// The schema of a record in any view: the summary, or the record (whole, or the
    /// fields asked for: the same shape, with fewer fields).
    pub fn record_schema(&self) -> Value {
        json!({"anyOf": [self.summary_schema(), schemas::record(self.fields, self.about)]})
    }

    /// The schema of a summary: what [`Records::summary`] answers.
    pub fn summary_schema(&self) -> Value {
        let properties: Map<String, Value> = self
            .summary_keys
            .iter()
            .map(|name| (name.to_string(), summary_property(name)))
            .collect();
        json!({"type": "object", "description": format!("Summary: {}.", self.summary_fields),
               "properties": properties})
    }

    /// The output schema of a read of one record ([`Records::one`]); `extra` adds
    /// properties (e.g. `order_id`).
    pub fn one_output(&self, extra: Value) -> Value {
        let mut properties = self.envelope();
        properties.insert(self.one.to_string(), self.record_schema());
        output(properties, extra, &[self.one, "view", "more", "store_id"])
    }

    /// The output schema of a list ([`Records::list`]) or page of records; `extra` adds
    /// properties (e.g. `pagination`).
    pub fn list_output(&self, extra: Value) -> Value {
        let mut properties = self.envelope();
        properties.insert(
            self.many.to_string(),
            json!({"type": "array", "items": self.record_schema()}),
        );
        properties.insert(
            "left_out".into(),
            json!({"type": "integer", "description": "Records that did not fit."}),
        );
        output(properties, extra, &[self.many, "view", "more", "store_id"])
    }

    /// The output schema of a write that answers the record (as OrderDesk does, or as
    /// sent): `{<one>: whole record, store_id, …}`; `extra` adds properties. Open, since
    /// OrderDesk's answer is passed on with whatever else it holds (`message`, …).
    pub fn write_output(&self, extra: Value) -> Value {
        let mut properties = Map::new();
        properties.insert(
            self.one.to_string(),
            schemas::record(self.fields, self.about),
        );
        write_properties(&mut properties);
        write_schema(properties, extra)
    }

    fn envelope(&self) -> Map<String, Value> {
        let mut properties = Map::new();
        properties.insert(
            "view".into(),
            json!({"type": "string", "enum": ["summary", "full", "fields"],
                   "description": "What the answer holds of each record."}),
        );
        properties.insert(
            "more".into(),
            json!({"type": "string", "description": "How to get more of each record."}),
        );
        properties.insert("store_id".into(), json!({"type": "string"}));
        properties.insert("cache_age_s".into(), cache_age_schema());
        properties.insert("note".into(), json!({"type": "string"}));
        properties
    }
}

/// The output schema of a write that answers no record of a kind (a move, a delete):
/// `{store_id, …}` with `extra`'s properties, open like [`Records::write_output`].
pub fn write_result_output(extra: Value) -> Value {
    let mut properties = Map::new();
    write_properties(&mut properties);
    write_schema(properties, extra)
}

fn write_properties(properties: &mut Map<String, Value>) {
    properties.insert("store_id".into(), json!({"type": "string"}));
    properties.insert(
        "changed".into(),
        json!({"type": "boolean", "description": "Whether anything was written."}),
    );
    properties.insert(
        "message".into(),
        json!({"type": "string", "description": "OrderDesk's message."}),
    );
    properties.insert("note".into(), json!({"type": "string"}));
}

fn write_schema(mut properties: Map<String, Value>, extra: Value) -> Value {
    if let Value::Object(extra) = extra {
        properties.extend(extra);
    }
    json!({"type": "object", "properties": properties, "required": ["store_id"],
           "additionalProperties": true})
}

fn output(mut properties: Map<String, Value>, extra: Value, required: &[&str]) -> Value {
    if let Value::Object(extra) = extra {
        properties.extend(extra);
    }
    json!({"type": "object", "properties": properties, "required": required,
           "additionalProperties": false})
}

/// The type of a summary's field.
fn summary_property(name: &str) -> Value {
    match name {
        "order_total" | "price" | "quantity" | "stock" => json!({"type": "number"}),
        "folder_id" | "item_count" | "tracking_count" => json!({"type": "integer"}),
        "shipping" => json!({"type": "object", "properties": {
            "city": {"type": "string"}, "country": {"type": "string"}}}),
        // Dates and texts as OrderDesk sent them (PHP may send a number as text).
        _ => json!({"type": ["string", "number"]}),
    }
}

/// Say how old an answer the host's cache gave is: `cache_age_s`, and a note that
/// `fresh: true` reads OrderDesk again.
pub fn add_cached(answer: &mut Value, reply: &Reply) {
    if let Some(age) = reply.cache_age_s {
        answer["cache_age_s"] = json!(age);
        add_note(
            answer,
            &format!(
                "answered from the host's cache, {age} s old; fresh: true reads OrderDesk again"
            ),
        );
    }
}

/// Say in a list answer's `note` what time it is (UTC): a model asked for "today's
/// orders" or "orders of the last hour" can then check its date range without
/// guessing (components have no clock of their own; the host's `session::now`).
///
/// ```
/// use orderdesk_tool_kit::testing::MockHost;
/// let _host = MockHost::with_store().now("2026-12-02 09:30:00");
/// let mut answer = serde_json::json!({"note": "limit defaulted to 50"});
/// orderdesk_store_api::views::add_now(&mut answer);
/// assert_eq!(answer["note"], "limit defaulted to 50; now 2026-12-02 09:30:00 UTC");
/// ```
pub fn add_now(answer: &mut Value) {
    let now = orderdesk_tool_kit::session::now();
    if !now.is_empty() {
        add_note(answer, &format!("now {now} UTC"));
    }
}

/// Add `note` to the answer's `note` (notes are joined with "; ").
pub fn add_note(answer: &mut Value, note: &str) {
    let joined = match answer.get("note").and_then(Value::as_str) {
        Some(earlier) if !earlier.is_empty() => format!("{earlier}; {note}"),
        _ => note.to_string(),
    };
    answer["note"] = json!(joined);
}

/// The schema of `cache_age_s`.
pub fn cache_age_schema() -> Value {
    json!({"type": "integer", "minimum": 0,
           "description": "Present when the host's cache answered: seconds since OrderDesk \
                           gave the answer (fresh: true reads OrderDesk again)."})
}

/// The schema of a `pagination` ([`crate::schema::pagination`]).
pub fn pagination_schema() -> Value {
    json!({"type": "object", "properties": {
        "total_records": {"type": ["integer", "null"]},
        "records_returned": {"type": "integer"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "has_more": {"type": "boolean"},
        "next_offset": {"type": ["integer", "null"],
                        "description": "The `offset` of the next page: the first record left \
                                        out; null when there is none."}
    }, "required": ["has_more", "next_offset"]})
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::error_message;

    use super::*;

    fn options(view: Option<&str>, fields: Option<&[&str]>) -> ReadOptions {
        ReadOptions {
            view: view.map(str::to_string),
            fields: fields.map(|f| f.iter().map(|s| s.to_string()).collect()),
            fresh: None,
        }
    }

    #[test]
    fn the_view_is_the_summary_unless_full_or_fields_are_asked_for() {
        assert_eq!(options(None, None).view().unwrap(), View::Summary);
        assert_eq!(options(Some("full"), None).view().unwrap(), View::Full);
        assert_eq!(
            options(None, Some(&["email"])).view().unwrap(),
            View::Fields(vec!["email".into()])
        );
        let both = error_message(
            options(Some("full"), Some(&["email"])).view(),
            ToolError::InvalidInput,
        );
        assert!(both.contains("either `view` or `fields`"), "{both}");
        let bad = error_message(
            options(None, Some(&["order_items[0]"])).view(),
            ToolError::InvalidInput,
        );
        assert!(bad.contains("dotted path"), "{bad}");
        assert_eq!(options(None, None).cache(), CacheMode::UseCache);
        let fresh = ReadOptions {
            fresh: Some(true),
            ..Default::default()
        };
        assert_eq!(fresh.cache(), CacheMode::Bypass);
    }

    #[test]
    fn a_page_keeps_the_records_that_fit_the_budget() {
        let big = "x".repeat(1000);
        let records: Vec<Value> = (0..10)
            .map(|n| json!({"id": n.to_string(), "email": big}))
            .collect();
        let full = ORDERS.fit(records.clone(), &View::Full, ENVELOPE_BYTES + 3500);
        assert_eq!((full.records.len(), full.left_out), (3, 7));
        let summary = ORDERS.fit(records, &View::Summary, ENVELOPE_BYTES + 3500);
        assert_eq!((summary.records.len(), summary.left_out), (3, 7));
        let none = ORDERS.fit(vec![json!({"id": "1", "email": big})], &View::Full, 100);
        assert_eq!(
            (none.records.len(), none.left_out),
            (0, 1),
            "never over the budget"
        );
    }

    #[test]
    fn the_summary_schema_names_each_summary_field() {
        let schema = ORDERS.summary_schema();
        let properties = schema["properties"].as_object().unwrap();
        let names: Vec<&str> = properties.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "id",
                "source_id",
                "date_added",
                "date_updated",
                "email",
                "customer_name",
                "order_total",
                "folder_id",
                "folder_name",
                "payment_status",
                "item_count",
                "shipping",
                "tracking_count"
            ]
        );
        assert_eq!(properties["order_total"]["type"], "number");
    }
}
