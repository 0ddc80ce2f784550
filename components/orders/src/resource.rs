//! The sub-resources of an order (items, shipments) share one shape — list, get,
//! create, update by fetch → merge → PUT, delete — described once here by a
//! [`Resource`]; orders reuse [`fetch_merge_put`].

use order_model::deep_merge;
use order_model::validate::{ValidationError, validate_changes};
use orderdesk_tool_kit::{Args, ToolError};
use serde_json::{Map, Value, json};

use crate::args;
use crate::host::{self, CacheMode, Target};

/// A kind of record below `/orders/{order_id}/…`.
pub struct Resource {
    /// What one is called in messages (`item`, `shipment`).
    pub noun: &'static str,
    /// The path segment below the order (`order-items`, `shipments`).
    pub segment: &'static str,
    /// The key of one record in OrderDesk's envelope (`order_item`, `shipment`).
    pub key: &'static str,
    /// The argument holding its id (`item_id`, `shipment_id`).
    pub id_arg: &'static str,
    /// The argument holding a new record (`item`, `shipment`).
    pub body_arg: &'static str,
    /// The tool names' prefix (`order_items`, `shipments`), for hints.
    pub tools: &'static str,
    /// Fields a change set may not change.
    pub locked: &'static [&'static str],
    /// The check a new record must pass.
    pub validate: fn(&Value, &str) -> Result<(), ValidationError>,
}

impl Resource {
    fn collection(&self, order_id: &str) -> String {
        format!("/orders/{order_id}/{}", self.segment)
    }

    /// The target and path of one record named by `order_id` and the resource's id.
    fn one(&self, args: &Args) -> Result<(Target, String, String, String), ToolError> {
        let order_id = args::id(args, "order_id")?;
        let id = args::id(args, self.id_arg)?;
        let target = host::target(args, format!("{} {id} of order {order_id}", self.noun))?
            .lookup(format!(
                "check the order id with orders_list and the {} id with {}_list",
                self.noun, self.tools
            ))
            .verify(format!("check with {}_get before retrying", self.tools));
        let path = format!("{}/{id}", self.collection(&order_id));
        Ok((target, path, order_id, id))
    }

    pub fn list(&self, args: &Args) -> Result<Value, ToolError> {
        let order_id = args::id(args, "order_id")?;
        let target = host::target(args, format!("order {order_id}"))?;
        let reply = target.get(&self.collection(&order_id), Vec::new(), CacheMode::UseCache)?;
        Ok(with(reply.payload(), "order_id", json!(order_id)))
    }

    pub fn get(&self, args: &Args) -> Result<Value, ToolError> {
        let (target, path, order_id, _) = self.one(args)?;
        let reply = target.get(&path, Vec::new(), CacheMode::UseCache)?;
        Ok(with(reply.payload(), "order_id", json!(order_id)))
    }

    pub fn create(&self, args: &Args) -> Result<Value, ToolError> {
        let order_id = args::id(args, "order_id")?;
        let record = args::value(args, self.body_arg)?;
        (self.validate)(record, self.body_arg).map_err(|e| args::invalid(e.to_string()))?;
        let target = host::target(args, format!("order {order_id}"))?.verify(format!(
            "check with {}_list whether the new {} is already there before retrying",
            self.tools, self.noun
        ));
        let reply = target.post(&self.collection(&order_id), record)?;
        Ok(with(reply.payload(), "order_id", json!(order_id)))
    }

    pub fn update(&self, args: &Args) -> Result<Value, ToolError> {
        let (target, path, order_id, _) = self.one(args)?;
        let changes = args::value(args, "changes")?;
        let result = fetch_merge_put(&target, &path, self.key, changes, self.locked)?;
        Ok(with(result, "order_id", json!(order_id)))
    }

    pub fn delete(&self, args: &Args) -> Result<Value, ToolError> {
        let (target, path, order_id, id) = self.one(args)?;
        let target = target.verify(format!(
            "check with {}_list before retrying (if it is gone, it was deleted)",
            self.tools
        ));
        let reply = target.delete(&path)?;
        let result = with(reply.payload(), "deleted", json!(true));
        let result = with(result, "order_id", json!(order_id));
        Ok(with(result, self.id_arg, json!(id)))
    }
}

/// Update a record the only way OrderDesk allows: fetch it fresh (bypassing the
/// cache), merge `changes` into the whole record, and PUT the whole record back, so
/// every field the change does not name — known or not — is sent back unchanged.
/// Returns `{<key>: record, changed, store_id}`.
pub fn fetch_merge_put(
    target: &Target,
    path: &str,
    key: &str,
    changes: &Value,
    locked: &[&str],
) -> Result<Value, ToolError> {
    let invalid = |e: ValidationError| args::invalid(e.to_string());
    // The shape is checked before any request; the locked fields need the record.
    validate_changes(changes, "changes", &Map::new(), &[]).map_err(invalid)?;
    let fetched = target.get(path, Vec::new(), CacheMode::Bypass)?;
    let current = fetched.record(key)?;
    let fields = current.as_object().cloned().unwrap_or_default();
    validate_changes(changes, "changes", &fields, locked).map_err(invalid)?;

    let mut merged = current.clone();
    deep_merge(&mut merged, changes);
    if merged == current {
        return Ok(json!({
            key: current,
            "changed": false,
            "note": "the changes match the current record; nothing was sent to OrderDesk",
            "store_id": fetched.store_id,
        }));
    }
    let reply = target.put(path, &merged)?;
    let mut result = match reply.record(key) {
        Ok(updated) => json!({key: updated}),
        Err(_) => json!({
            key: merged,
            "note": "OrderDesk's answer did not include the record; this is what was sent",
        }),
    };
    result["changed"] = json!(true);
    result["store_id"] = json!(reply.store_id);
    Ok(result)
}

/// `value` (an object) with `key` set.
pub fn with(mut value: Value, key: &str, field: Value) -> Value {
    if let Value::Object(fields) = &mut value {
        fields.insert(key.to_string(), field);
    }
    value
}
