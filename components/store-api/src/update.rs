//! The only way OrderDesk updates a record: it replaces the whole record, so a change
//! must be merged into a fresh copy first.

use order_model::deep_merge;
use order_model::validate::validate_changes;
use orderdesk_tool_kit::ToolError;
use orderdesk_tool_kit::args::invalid;
use orderdesk_tool_kit::errors::conflict;
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
        self.apply_expecting(target, changes, None)
    }

    /// [`Update::apply`], refused with a `conflict` (and nothing written) when the
    /// record's `date_updated` is not the one `expected` names.
    ///
    /// ```
    /// use orderdesk_store_api::{Expected, Target, Update, any_record};
    /// use orderdesk_tool_kit::errors::conflict;
    /// use orderdesk_tool_kit::testing::{MockHost, error_message};
    /// use serde_json::json;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, json!({"status": "success",
    ///                        "order": {"id": "7", "date_updated": "2026-03-14 10:00:02"}}));
    /// let update = Update { path: "/orders/7", key: "order", noun: "record", locked: &["id"],
    ///                       check_merged: any_record };
    /// let expected = Expected::own("2026-03-14 09:12:45", "order 7", "orders_get");
    /// let refused = update.apply_expecting(&Target::new(None::<String>, "order 7"),
    ///                                      &json!({"email": "b@example.org"}), Some(&expected));
    /// let message = error_message(refused, conflict);
    /// assert!(message.contains("2026-03-14 10:00:02") && message.contains("2026-03-14 09:12:45"));
    /// assert_eq!(host.requests().len(), 1, "no PUT");
    /// ```
    pub fn apply_expecting(
        &self,
        target: &Target,
        changes: &Value,
        expected: Option<&Expected>,
    ) -> Result<Value, ToolError> {
        // The shape is checked before any request; the locked fields need the record.
        validate_changes(changes, "changes", &Map::new(), &[])
            .map_err(|e| invalid(e.to_string()))?;
        self.apply_computed(target, expected, |_| Ok(changes.clone()))
    }

    /// Fetch → merge → PUT with the change set computed from the fresh record, e.g. a
    /// stock level adjusted by a delta. `expected` as in [`Update::apply_expecting`].
    pub fn apply_computed(
        &self,
        target: &Target,
        expected: Option<&Expected>,
        compute: impl FnOnce(&Value) -> Result<Value, ToolError>,
    ) -> Result<Value, ToolError> {
        let key = self.key;
        if let Some(
            expected @ Expected {
                order_path: Some(path),
                ..
            },
        ) = expected
        {
            let order = target
                .get(path, Vec::new(), CacheMode::Bypass)?
                .record("order")?;
            expected.check(&order)?;
        }
        let fetched = target.get(self.path, Vec::new(), CacheMode::Bypass)?;
        let current = fetched.record(key)?;
        if let Some(
            expected @ Expected {
                order_path: None, ..
            },
        ) = expected
        {
            expected.check(&current)?;
        }
        let changes = compute(&current)?;
        let fields = current.as_object().cloned().unwrap_or_default();
        validate_changes(&changes, "changes", &fields, self.locked)
            .map_err(|e| invalid(e.to_string()))?;

        let mut merged = current.clone();
        deep_merge(&mut merged, &changes);
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

/// The `date_updated` a caller read a record at: an update is refused with a
/// `conflict` when the record changed since (see [`Update::apply_expecting`]).
///
/// OrderDesk has no conditional PUT, so this is a check just before the write, not a
/// lock: it catches what changed between the caller's read and this call, not a
/// change landing between the check and the PUT, nor one within the same second
/// (`date_updated` has one-second resolution).
pub struct Expected<'a> {
    /// `date_updated` as the caller read it (`YYYY-MM-DD HH:MM:SS`).
    pub date_updated: &'a str,
    /// Where that date is: `None` in the updated record itself (orders, inventory
    /// items); else the path of the order the record belongs to (`/orders/7`): order
    /// items and shipments carry no `date_updated` of their own, and OrderDesk bumps
    /// the order's whenever one of them changes.
    pub order_path: Option<&'a str>,
    /// What carries the date, for the message (e.g. `order 7`).
    pub subject: &'a str,
    /// The tool that reads it again (e.g. `orders_get`).
    pub read_with: &'a str,
}

impl<'a> Expected<'a> {
    /// A date the updated record carries itself (orders, inventory items).
    pub fn own(date_updated: &'a str, subject: &'a str, read_with: &'a str) -> Self {
        Expected {
            date_updated,
            order_path: None,
            subject,
            read_with,
        }
    }

    /// A conflict unless `record` carries the expected `date_updated`.
    fn check(&self, record: &Value) -> Result<(), ToolError> {
        let expected = self.date_updated.trim();
        match record.get("date_updated").and_then(Value::as_str) {
            Some(current) if current.trim() == expected => Ok(()),
            Some(current) => Err(conflict(format!(
                "{subject} changed since it was read: its date_updated is now \"{current}\", not \
                 \"{expected}\" as expected_date_updated says; nothing was written. Read it again \
                 with {read_with}, check that the change still makes sense against what is \
                 there now, and send it again with expected_date_updated \"{current}\"",
                subject = self.subject,
                read_with = self.read_with,
            ))),
            None => Err(ToolError::Upstream(format!(
                "OrderDesk's answer holds no date_updated for {}, so expected_date_updated \
                 cannot be checked; nothing was written. Leave expected_date_updated out to \
                 update without the check",
                self.subject
            ))),
        }
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

    #[test]
    fn an_expected_date_that_still_holds_lets_the_update_through() {
        let host = MockHost::with_store();
        let stored =
            json!({"id": "7", "email": "a@example.org", "date_updated": "2026-03-14 09:12:45"});
        host.reply(200, json!({"status": "success", "order": stored}))
            .reply(200, json!({"status": "success", "order": {"id": "7"}}));
        let expected = Expected::own("2026-03-14 09:12:45", "order 7", "orders_get");
        let result = ORDER
            .apply_expecting(
                &Target::new(None::<String>, "order 7"),
                &json!({"email": "b@example.org"}),
                Some(&expected),
            )
            .unwrap();
        assert_eq!(result["changed"], true);
        assert_eq!(host.requests()[1].method, Method::Put);
    }

    #[test]
    fn an_item_is_checked_against_its_orders_date_before_it_is_even_read() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "order": {"id": "7", "date_updated": "2026-03-14 10:00:02"}}),
        );
        let item = Update {
            path: "/orders/7/order-items/88",
            key: "order_item",
            noun: "record",
            locked: &["id"],
            check_merged: any_record,
        };
        let expected = Expected {
            date_updated: "2026-03-14 09:12:45",
            order_path: Some("/orders/7"),
            subject: "order 7",
            read_with: "orders_get",
        };
        let message = error_message(
            item.apply_expecting(
                &Target::new(None::<String>, "item 88 of order 7"),
                &json!({"quantity": 3}),
                Some(&expected),
            ),
            conflict,
        );
        assert_eq!(
            message,
            "order 7 changed since it was read: its date_updated is now \"2026-03-14 10:00:02\", \
             not \"2026-03-14 09:12:45\" as expected_date_updated says; nothing was written. Read \
             it again with orders_get, check that the change still makes sense against what is \
             there now, and send it again with expected_date_updated \"2026-03-14 10:00:02\""
        );
        let requests = host.requests();
        assert_eq!(requests.len(), 1, "only the order was read");
        assert_eq!(
            (requests[0].path.as_str(), requests[0].cache),
            ("/orders/7", CacheMode::Bypass)
        );
    }

    #[test]
    fn a_record_without_a_date_cannot_be_checked_and_is_not_written() {
        let host = MockHost::with_store();
        host.reply(200, json!({"status": "success", "order": {"id": "7"}}));
        let expected = Expected::own("2026-03-14 09:12:45", "order 7", "orders_get");
        let message = error_message(
            ORDER.apply_expecting(
                &Target::new(None::<String>, "order 7"),
                &json!({"email": "b@example.org"}),
                Some(&expected),
            ),
            ToolError::Upstream,
        );
        assert!(
            message.contains("Leave expected_date_updated out"),
            "{message}"
        );
        assert_eq!(host.requests().len(), 1);
    }
}
