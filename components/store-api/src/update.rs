//! The only way OrderDesk updates a record: it replaces the whole record, so a change
//! must be merged into a fresh copy first.

use order_model::deep_merge;
use order_model::validate::validate_changes;
use orderdesk_tool_kit::ToolError;
use orderdesk_tool_kit::args::invalid;
use serde_json::{Map, Value, json};

use crate::{CacheMode, Target};

/// An update of one record: fetch it fresh (bypassing the cache), merge the change set
/// into the whole record, and PUT the whole record back, so every field the change does
/// not name — known or not — is sent back unchanged.
///
/// ```
/// use orderdesk_store_api::{Target, Update, any_record};
/// use orderdesk_tool_kit::testing::MockHost;
/// use serde_json::json;
///
/// let host = MockHost::with_store();
/// let stored = json!({"id": "701101", "stock": "11", "vendor_note": "kept"});
/// host.reply(200, json!({"status": "success", "inventory_item": stored}))
///     .reply(200, json!({"status": "success", "inventory_item": {"id": "701101", "stock": 5, "vendor_note": "kept"}}));
/// let update = Update {
///     path: "/inventory-items/701101",
///     key: "inventory_item",
///     noun: "item",
///     locked: &["id"],
///     check_merged: any_record,
/// };
/// let result = update.apply(&Target::new(None::<String>, "inventory item 701101"), &json!({"stock": 5}))?;
/// assert_eq!(result["changed"], true);
/// // The whole item went back, with the field this crate does not know.
/// assert_eq!(host.requests()[1].body, Some(json!({"id": "701101", "stock": 5, "vendor_note": "kept"})));
/// # Ok::<(), orderdesk_tool_kit::ToolError>(())
/// ```
pub struct Update<'a> {
    /// The record's path, e.g. `/orders/3344551`.
    pub path: &'a str,
    /// The key of the record in OrderDesk's envelope, e.g. `order`.
    pub key: &'a str,
    /// What the record is called in the result's notes, e.g. `record` or `item`.
    pub noun: &'a str,
    /// Fields the change set may not change.
    pub locked: &'a [&'a str],
    /// A check of the merged record before it is written (e.g. that it keeps a name);
    /// its message becomes an `invalid-input`.
    pub check_merged: fn(&Value) -> Result<(), String>,
}

impl Update<'_> {
    /// Apply `changes` (objects merge key by key, `null` removes a field, lists and
    /// values replace). Returns `{<key>: record, changed, store_id}`; with nothing to
    /// change, nothing is written.
    pub fn apply(&self, target: &Target, changes: &Value) -> Result<Value, ToolError> {
        let key = self.key;
        // The shape is checked before any request; the locked fields need the record.
        validate_changes(changes, "changes", &Map::new(), &[])
            .map_err(|e| invalid(e.to_string()))?;
        let fetched = target.get(self.path, Vec::new(), CacheMode::Bypass)?;
        let current = fetched.record(key)?;
        let fields = current.as_object().cloned().unwrap_or_default();
        validate_changes(changes, "changes", &fields, self.locked)
            .map_err(|e| invalid(e.to_string()))?;

        let mut merged = current.clone();
        deep_merge(&mut merged, changes);
        (self.check_merged)(&merged).map_err(invalid)?;
        if merged == current {
            return Ok(json!({
                key: current,
                "changed": false,
                "note": format!(
                    "the changes match the current {}; nothing was sent to OrderDesk",
                    self.noun
                ),
                "store_id": fetched.store_id,
            }));
        }
        let reply = target.put(self.path, &merged)?;
        let mut result = match reply.record(key) {
            Ok(updated) => json!({key: updated}),
            Err(_) => json!({
                key: merged,
                "note": format!(
                    "OrderDesk's answer did not include the {}; this is what was sent",
                    self.noun
                ),
            }),
        };
        result["changed"] = json!(true);
        result["store_id"] = json!(reply.store_id);
        Ok(result)
    }
}

/// For [`Update::check_merged`]: any merged record may be written (see [`Update`]).
pub fn any_record(_: &Value) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::orderdesk::Method;
    use orderdesk_tool_kit::testing::{MockHost, error_message};

    use super::*;

    const ORDER: Update = Update {
        path: "/orders/7",
        key: "order",
        noun: "record",
        locked: &["id"],
        check_merged: any_record,
    };

    #[test]
    fn the_whole_record_goes_back_with_the_change_merged_in() {
        let host = MockHost::with_store();
        let stored = json!({"id": "7", "email": "a@example.org", "x_unknown": {"keep": 1}});
        host.reply(200, json!({"status": "success", "order": stored}))
            .reply(
                200,
                json!({"status": "success", "order": {"id": "7", "email": "b@example.org"}}),
            );
        let result = ORDER
            .apply(
                &Target::new(None::<String>, "order 7"),
                &json!({"email": "b@example.org"}),
            )
            .unwrap();
        assert_eq!(result["changed"], true);
        let requests = host.requests();
        assert_eq!(requests[0].cache, CacheMode::Bypass);
        assert_eq!(requests[1].method, Method::Put);
        assert_eq!(
            requests[1].body,
            Some(json!({"id": "7", "email": "b@example.org", "x_unknown": {"keep": 1}}))
        );
    }

    #[test]
    fn nothing_is_written_when_nothing_changes_or_a_locked_field_would() {
        let host = MockHost::with_store();
        let stored = json!({"status": "success", "order": {"id": "7", "email": "a@example.org"}});
        host.reply(200, stored.clone()).reply(200, stored);
        let target = Target::new(None::<String>, "order 7");
        let same = ORDER
            .apply(&target, &json!({"email": "a@example.org"}))
            .unwrap();
        assert_eq!(same["changed"], false);
        assert_eq!(
            same["note"],
            "the changes match the current record; nothing was sent to OrderDesk"
        );
        let m = error_message(
            ORDER.apply(&target, &json!({"id": "8"})),
            ToolError::InvalidInput,
        );
        assert!(m.contains("changes.id"), "{m}");
        assert_eq!(host.requests().len(), 2, "two reads, no write");
    }
}
