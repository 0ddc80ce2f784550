//! What store-bound tools share in their schemas and results: the optional `store`
//! argument, ids that are safe in a request path, annotation sets, pagination.

use orderdesk_tool_kit::{Annotations, annotations};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Reads: change nothing, safe to repeat, talk to OrderDesk.
///
/// ```
/// # use orderdesk_tool_kit::{Args, ToolSpec};
/// use orderdesk_store_api::schema;
///
/// let spec = ToolSpec::new("demo_list", "List", "Lists.").annotations(schema::READ).run(|a: Args| Ok(a));
/// # let _ = spec;
/// assert!(schema::READ.read_only && !schema::UPDATE.read_only && schema::DELETE.destructive);
/// ```
pub const READ: Annotations = annotations(true, false, true, true);
/// Creates something new (an order, item, shipment, note): additive, but each call adds
/// another one.
pub const CREATE: Annotations = annotations(false, false, false, true);
/// Fetch → merge → PUT: overwrites (or, with `null`, removes) fields; repeating it with
/// the same changes changes nothing more.
pub const UPDATE: Annotations = annotations(false, true, true, true);
/// Deletes: destructive; deleting again changes nothing more.
pub const DELETE: Annotations = annotations(false, true, true, true);

/// The ids OrderDesk uses are numeric strings; this pattern also keeps ids safe to put
/// in a request path (no `/`, `.`, `?` or `#`).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// An id argument (`order_id`, `item_id`, …) that matches [`ID_PATTERN`], so it can go
/// into a request path.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String")]
pub struct Id(String);

impl Id {
    /// Whether `id` may be used as an OrderDesk id; the problem otherwise.
    ///
    /// ```
    /// use orderdesk_store_api::Id;
    ///
    /// assert!(Id::check("3344551").is_ok());
    /// assert!(Id::check("7/../../store").is_err());
    /// ```
    pub fn check(id: &str) -> Result<(), String> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "must be an OrderDesk id (letters, digits, `_` or `-`, e.g. \"3344551\"), \
                 got {id:?}"
            ))
        }
    }

    /// The id, e.g. to build a path.
    ///
    /// ```
    /// use orderdesk_store_api::Id;
    ///
    /// let id = Id::try_from("3344551".to_string()).unwrap();
    /// assert_eq!(format!("/orders/{}", id.as_str()), "/orders/3344551");
    /// assert!(Id::try_from("../store".to_string()).is_err());
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = String;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Id::check(&id)?;
        Ok(Id(id))
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An id property of an input schema (a string matching [`ID_PATTERN`]).
///
/// ```
/// use orderdesk_store_api::schema;
///
/// let property = schema::id("The order's id, e.g. \"3344551\".");
/// assert_eq!(property["pattern"], schema::ID_PATTERN);
/// ```
pub fn id(description: &str) -> Value {
    json!({"type": "string", "pattern": ID_PATTERN, "description": description})
}

/// OrderDesk's timestamps (`date_added`, `date_updated`): `YYYY-MM-DD HH:MM:SS`, UTC.
pub const DATE_TIME_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";

/// The optional `expected_date_updated` property of an update: the `date_updated` of
/// `whose` (e.g. `the order`, `the item's order`) as the caller read it. See
/// [`Expected`](crate::Expected).
///
/// ```
/// let property = orderdesk_store_api::schema::expected_date_updated("the order");
/// assert_eq!(property["pattern"], orderdesk_store_api::schema::DATE_TIME_PATTERN);
/// ```
pub fn expected_date_updated(whose: &str) -> Value {
    json!({
        "type": "string",
        "pattern": DATE_TIME_PATTERN,
        "description": format!(
            "Optional safety check: `date_updated` of {whose} exactly as you read it \
             (e.g. \"2026-03-14 09:12:45\"). If it is different now, someone changed it since \
             you read it: nothing is written and the answer is a `conflict` naming both \
             dates; read it again and re-apply your change. OrderDesk keeps the date to the \
             second and has no conditional update, so this catches changes made before \
             this call, not one landing in the same second or during it."
        )
    })
}

/// An object property: a JSON object of OrderDesk fields.
///
/// ```
/// let property = orderdesk_store_api::schema::object("The fields to change.");
/// assert_eq!(property["type"], "object");
/// ```
pub fn object(description: &str) -> Value {
    json!({"type": "object", "description": description})
}

/// The object schema of a store-bound tool's arguments: `properties` plus the optional
/// `store`, `required`, and no other properties.
///
/// ```
/// use orderdesk_store_api::schema;
/// use serde_json::json;
///
/// let schema = schema::input(json!({"below": {"type": "integer", "minimum": 1}}), &[]);
/// assert_eq!(schema["properties"]["store"]["type"], "string");
/// assert_eq!(schema["additionalProperties"], false);
/// ```
pub fn input(properties: Value, required: &[&str]) -> Value {
    let mut properties = match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    properties.insert(
        "store".to_string(),
        json!({
            "type": "string",
            "minLength": 1,
            "description": "Store name or OrderDesk store id to act on (default: the session's \
                            active store, set with stores_use_store)."
        }),
    );
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// The `pagination` of a paged list: more pages exist while `offset + records_returned
/// < total_records`; `next_offset` is the `offset` of the next page, or null. For a
/// tool that answers one page at a time.
///
/// ```
/// let page = orderdesk_store_api::schema::pagination(Some(120), 50, 0, 50);
/// assert_eq!(page["has_more"], true);
/// assert_eq!(page["next_offset"], 50);
/// ```
pub fn pagination(total: Option<u64>, returned: u64, offset: u64, limit: u64) -> Value {
    let next = offset + returned;
    let has_more = returned > 0 && total.is_some_and(|t| next < t);
    json!({
        "total_records": total,
        "records_returned": returned,
        "offset": offset,
        "limit": limit,
        "has_more": has_more,
        "next_offset": if has_more { Some(next) } else { None },
    })
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::ToolError;
    use orderdesk_tool_kit::args::parse;
    use orderdesk_tool_kit::testing::error_message;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Get {
        order_id: Id,
    }

    #[test]
    fn an_id_that_could_change_the_path_is_refused_naming_the_field() {
        let got: Get = parse(json!({"order_id": "3344551"})).unwrap();
        assert_eq!(got.order_id.as_str(), "3344551");
        for bad in ["../orders", "", "1?x=2", &"9".repeat(65)] {
            let m = error_message(
                parse::<Get>(json!({"order_id": bad})),
                ToolError::InvalidInput,
            );
            assert!(m.starts_with("`order_id`: must be an OrderDesk id"), "{m}");
        }
    }

    #[test]
    fn pagination_points_at_the_next_page_while_there_is_one() {
        let first = pagination(Some(120), 50, 0, 50);
        assert_eq!(first["has_more"], true);
        assert_eq!(first["next_offset"], 50);
        let last = pagination(Some(120), 20, 100, 50);
        assert_eq!(last["has_more"], false);
        assert_eq!(last["next_offset"], Value::Null);
        assert_eq!(pagination(None, 50, 0, 50)["has_more"], false);
    }

    #[test]
    fn every_store_bound_input_takes_an_optional_store_and_nothing_undeclared() {
        let schema = input(json!({"order_id": id("The order.")}), &["order_id"]);
        assert_eq!(schema["required"], json!(["order_id"]));
        assert_eq!(schema["properties"]["store"]["type"], "string");
        assert_eq!(schema["additionalProperties"], false);
    }
}
