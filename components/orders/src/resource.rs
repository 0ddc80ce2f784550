//! The sub-resources of an order (items, shipments) share one shape — list, get,
//! create, update by fetch → merge → PUT, delete — described once here by a
//! [`Resource`]. Their tools name the record's id and body differently (`item_id`,
//! `shipment`…), so the handlers read their arguments by name ([`field`]).

use order_model::validate::ValidationError;
use orderdesk_store_api::views::{ReadOptions, Records, answer_budget};
use orderdesk_store_api::{Expected, Id, Update, any_record};
use orderdesk_tool_kit::args::{NonBlank, field, invalid};
use orderdesk_tool_kit::{Args, ToolError};
use serde_json::{Value, json};

use crate::host::{self, Target};

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
    /// How reads answer it (summary, schema).
    pub records: &'static Records,
}

impl Resource {
    fn collection(&self, order_id: &Id) -> String {
        format!("/orders/{order_id}/{}", self.segment)
    }

    /// The target and path of one record named by `order_id` and the resource's id.
    fn one(&self, args: &Args) -> Result<(Target, String, Id, Id), ToolError> {
        let order_id: Id = field(args, "order_id")?;
        let id: Id = field(args, self.id_arg)?;
        let target = store_target(args, format!("{} {id} of order {order_id}", self.noun))?
            .lookup(format!(
                "check the order id with orders_list and the {} id with {}_list",
                self.noun, self.tools
            ))
            .verify(format!("check with {}_get before retrying", self.tools));
        let path = format!("{}/{id}", self.collection(&order_id));
        Ok((target, path, order_id, id))
    }

    /// Every record of the order, in the view asked for, as many as fit the answer
    /// budget (OrderDesk answers the whole list at once).
    pub fn list(&self, args: Args) -> Result<Value, ToolError> {
        let order_id: Id = field(&args, "order_id")?;
        let read = ReadOptions::from_args(&args)?;
        let view = read.view()?;
        let target = store_target(&args, format!("order {order_id}"))?;
        let mut reply = target.get(&self.collection(&order_id), Vec::new(), read.cache())?;
        let records = match reply.body[self.records.many].take() {
            Value::Array(records) => records,
            // PHP writes a keyed list as an object.
            Value::Object(records) => records.into_iter().map(|(_, record)| record).collect(),
            _ => Vec::new(),
        };
        let answer = self.records.list(records, &view, &reply, answer_budget());
        Ok(with(answer, "order_id", json!(order_id)))
    }

    pub fn get(&self, args: Args) -> Result<Value, ToolError> {
        let read = ReadOptions::from_args(&args)?;
        let view = read.view()?;
        let (target, path, order_id, _) = self.one(&args)?;
        let reply = target.get(&path, Vec::new(), read.cache())?;
        let record = reply.record(self.key)?;
        Ok(with(
            self.records.one(&record, &view, &reply),
            "order_id",
            json!(order_id),
        ))
    }

    pub fn create(&self, args: Args) -> Result<Value, ToolError> {
        let order_id: Id = field(&args, "order_id")?;
        let record: Value = field(&args, self.body_arg)?;
        (self.validate)(&record, self.body_arg).map_err(|e| invalid(e.to_string()))?;
        let target = store_target(&args, format!("order {order_id}"))?.verify(format!(
            "check with {}_list whether the new {} is already there before retrying",
            self.tools, self.noun
        ));
        let reply = target.post(&self.collection(&order_id), &record)?;
        Ok(with(reply.payload(), "order_id", json!(order_id)))
    }

    pub fn update(&self, args: Args) -> Result<Value, ToolError> {
        let (target, path, order_id, _) = self.one(&args)?;
        let changes: Value = field(&args, "changes")?;
        let expected_date: Option<String> = field(&args, "expected_date_updated")?;
        let update = Update {
            path: &path,
            key: self.key,
            noun: "record",
            locked: self.locked,
            check_merged: any_record,
        };
        let order_path = format!("/orders/{order_id}");
        let subject = format!("order {order_id}");
        let expected = expected_date.as_deref().map(|date_updated| Expected {
            date_updated,
            order_path: Some(&order_path),
            subject: &subject,
            read_with: "orders_get",
        });
        let result = update.apply_expecting(&target, &changes, expected.as_ref())?;
        Ok(with(result, "order_id", json!(order_id)))
    }

    pub fn delete(&self, args: Args) -> Result<Value, ToolError> {
        let (target, path, order_id, id) = self.one(&args)?;
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

/// A target in the store the arguments name (`store`), else the active store.
fn store_target(args: &Args, subject: String) -> Result<Target, ToolError> {
    let store: Option<NonBlank> = field(args, "store")?;
    Ok(host::target(store, subject))
}

/// `value` (an object) with `key` set.
pub fn with(mut value: Value, key: &str, field: Value) -> Value {
    if let Value::Object(fields) = &mut value {
        fields.insert(key.to_string(), field);
    }
    value
}
