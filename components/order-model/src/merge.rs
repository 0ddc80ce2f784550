//! Applying a change set to a fetched record before a full-record `PUT`.

use serde_json::{Map, Value};

/// Merge `changes` into `target`, in the manner of JSON Merge Patch (RFC 7396):
///
/// - an object merges key by key into the target's object, recursively, and every key
///   of the target that `changes` does not name stays as it was;
/// - `null` as a value removes that key;
/// - arrays and scalars replace what was there (so `order_items: […]` replaces the whole
///   list);
/// - an object merged onto something that is not an object (including OrderDesk's `[]`
///   for an empty map) starts from an empty object.
pub fn deep_merge(target: &mut Value, changes: &Value) {
    let Value::Object(changes) = changes else {
        *target = changes.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(fields) = target else {
        unreachable!("target was made an object above");
    };
    for (key, change) in changes {
        if change.is_null() {
            fields.remove(key);
        } else {
            deep_merge(fields.entry(key.clone()).or_insert(Value::Null), change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_and_null_removes() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]});
        deep_merge(
            &mut target,
            &json!({"b": {"c": 20, "d": null}, "e": [3], "f": "x"}),
        );
        assert_eq!(target, json!({"a": 1, "b": {"c": 20}, "e": [3], "f": "x"}));
    }

    #[test]
    fn object_onto_php_empty_list_becomes_object() {
        let mut target = json!({"checkout_data": []});
        deep_merge(
            &mut target,
            &json!({"checkout_data": {"Gift": "yes", "Drop": null}}),
        );
        assert_eq!(target, json!({"checkout_data": {"Gift": "yes"}}));
    }

    #[test]
    fn scalar_replaces_object() {
        let mut target = json!({"a": {"b": 1}});
        deep_merge(&mut target, &json!({"a": "flat"}));
        assert_eq!(target, json!({"a": "flat"}));
    }
}
