//! The `GET /orders` query: parsing every documented parameter, filtering, sorting.
//!
//! Text filters compare case-insensitively and exactly (MySQL's default collation);
//! phone filters compare digits only, since the same number is written many ways.
//! Parameters OrderDesk does not document (`page`, `status`, `search`…) are ignored, as
//! the real API ignores them: a client relying on one gets unfiltered results, here too.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use crate::clock;
use crate::config::STORE_UTC_OFFSET_SECS;
use crate::model::{number, scalar_text};
use crate::routes::{ApiError, paging};
use crate::state::StoreData;

/// An inclusive range of Unix seconds; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Range {
    start: Option<i64>,
    end: Option<i64>,
}

impl Range {
    fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    fn is_open(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// Narrow the range by a start and/or end parameter. `shift` converts the parameter's
    /// clock to UTC (seconds to add).
    fn narrow(
        &mut self,
        params: &HashMap<String, String>,
        start_key: &str,
        end_key: &str,
        shift: i64,
    ) -> Result<(), ApiError> {
        if let Some(start) = date_param(params, start_key)? {
            let start = start.unix + shift;
            self.start = Some(self.start.map_or(start, |s| s.max(start)));
        }
        if let Some(end) = date_param(params, end_key)? {
            // A bare date as the end means "through the end of that day".
            let end = end.unix + shift + if end.date_only { 86_399 } else { 0 };
            self.end = Some(self.end.map_or(end, |e| e.min(end)));
        }
        Ok(())
    }
}

fn date_param(
    params: &HashMap<String, String>,
    key: &str,
) -> Result<Option<clock::Parsed>, ApiError> {
    params
        .get(key)
        .map(|text| {
            clock::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!("{key} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"))
            })
        })
        .transpose()
}

/// How a text filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Text,
    Phone,
}

/// A parsed `GET /orders` query.
#[derive(Debug, Clone)]
pub struct OrdersQuery {
    pub limit: usize,
    pub offset: usize,
    order_by: String,
    descending: bool,
    folder_ids: Option<Vec<u64>>,
    folder_name: Option<String>,
    /// (path of the field within the order, wanted value, how to compare)
    fields: Vec<(Vec<&'static str>, String, Match)>,
    added: Range,
    modified: Range,
    pub include_history: bool,
}

/// Simple filters: parameter name, the order field it looks at, comparison.
const FIELD_FILTERS: [(&str, &[&str], Match); 12] = [
    ("source_id", &["source_id"], Match::Text),
    ("source_name", &["source_name"], Match::Text),
    ("email", &["email"], Match::Text),
    ("customer_id", &["customer_id"], Match::Text),
    (
        "customer_first_name",
        &["customer", "first_name"],
        Match::Text,
    ),
    (
        "customer_last_name",
        &["customer", "last_name"],
        Match::Text,
    ),
    ("customer_company", &["customer", "company"], Match::Text),
    ("customer_phone", &["customer", "phone"], Match::Phone),
    (
        "shipping_first_name",
        &["shipping", "first_name"],
        Match::Text,
    ),
    (
        "shipping_last_name",
        &["shipping", "last_name"],
        Match::Text,
    ),
    ("shipping_company", &["shipping", "company"], Match::Text),
    ("shipping_phone", &["shipping", "phone"], Match::Phone),
];

impl OrdersQuery {
    /// Parse the query parameters (already de-duplicated, empty ones dropped).
    pub fn parse(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        let (limit, offset) = paging(params)?;
        let descending = match params.get("order").map(|o| o.trim().to_ascii_lowercase()) {
            None => true,
            Some(o) if o == "desc" => true,
            Some(o) if o == "asc" => false,
            Some(_) => return Err(ApiError::bad_request("order must be asc or desc")),
        };
        let folder_ids = params
            .get("folder_id")
            .map(|list| {
                list.split(',')
                    .map(|id| id.trim().parse::<u64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        ApiError::bad_request("folder_id must be a comma-separated list of ids")
                    })
            })
            .transpose()?;
        let fields = FIELD_FILTERS
            .iter()
            .filter_map(|(param, path, how)| {
                params
                    .get(*param)
                    .map(|want| (path.to_vec(), want.trim().to_owned(), *how))
            })
            .collect();

        let mut added = Range::default();
        added.narrow(params, "search_start_date", "search_end_date", 0)?;
        // Local time = UTC + offset, so UTC = local - offset.
        added.narrow(
            params,
            "search_start_date_local",
            "search_end_date_local",
            -STORE_UTC_OFFSET_SECS,
        )?;
        let mut modified = Range::default();
        modified.narrow(params, "modified_start_date", "modified_end_date", 0)?;

        Ok(Self {
            limit,
            offset,
            order_by: params
                .get("order_by")
                .map_or_else(|| "date_added".to_owned(), |f| f.trim().to_owned()),
            descending,
            folder_ids,
            folder_name: params.get("folder_name").cloned(),
            fields,
            added,
            modified,
            include_history: params.get("include_history").is_some_and(|v| {
                matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes")
            }),
        })
    }

    /// The matching orders of a store, sorted, before pagination.
    pub fn select<'a>(&self, data: &'a StoreData) -> Vec<&'a Value> {
        // An unknown folder name matches no order (there is none in a folder that doesn't exist).
        let folder_from_name = self
            .folder_name
            .as_ref()
            .map(|name| data.folder_id_by_name(name));
        let mut found: Vec<&Value> = data
            .orders
            .values()
            .filter(|order| self.matches(order, folder_from_name))
            .collect();
        found.sort_by(|a, b| {
            let by_field = sort_key(a, &self.order_by).cmp(&sort_key(b, &self.order_by));
            // Ties fall back to the id so that pages never overlap or skip.
            let ordering = by_field.then_with(|| id_of(a).cmp(&id_of(b)));
            if self.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        found
    }

    fn matches(&self, order: &Value, folder_from_name: Option<Option<u64>>) -> bool {
        let folder = order.get("folder_id").and_then(number).map(|f| f as u64);
        if let Some(ids) = &self.folder_ids
            && !folder.is_some_and(|f| ids.contains(&f))
        {
            return false;
        }
        if let Some(wanted) = folder_from_name
            && (wanted.is_none() || folder != wanted)
        {
            return false;
        }
        for (path, want, how) in &self.fields {
            let have = lookup(order, path)
                .and_then(scalar_text)
                .unwrap_or_default();
            let equal = match how {
                Match::Text => have.trim().to_lowercase() == want.to_lowercase(),
                Match::Phone => digits(&have) == digits(want),
            };
            if !equal {
                return false;
            }
        }
        in_range(order, "date_added", &self.added)
            && in_range(order, "date_updated", &self.modified)
    }
}

fn in_range(order: &Value, field: &str, range: &Range) -> bool {
    if range.is_open() {
        return true;
    }
    order
        .get(field)
        .and_then(Value::as_str)
        .and_then(clock::parse)
        .is_some_and(|t| range.contains(t.unix))
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A field by path; `order_by` may also name a nested field as `shipping.last_name`.
fn lookup<'a>(order: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(order, |value, key| value.get(*key))
}

fn id_of(order: &Value) -> u64 {
    order.get("id").and_then(number).map_or(0, |id| id as u64)
}

/// Sort keys order missing values first, then numbers (including numeric strings, as
/// PHP compares them), then text.
#[derive(Debug, PartialEq)]
enum SortKey {
    Missing,
    Number(f64),
    Text(String),
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        use SortKey::*;
        match (self, other) {
            (Missing, Missing) => Ordering::Equal,
            (Missing, _) => Ordering::Less,
            (_, Missing) => Ordering::Greater,
            (Number(a), Number(b)) => a.total_cmp(b),
            (Number(_), Text(_)) => Ordering::Less,
            (Text(_), Number(_)) => Ordering::Greater,
            (Text(a), Text(b)) => a.cmp(b),
        }
    }
}

fn sort_key(order: &Value, field: &str) -> SortKey {
    let path: Vec<&str> = field.split('.').collect();
    match lookup(order, &path) {
        None | Some(Value::Null) => SortKey::Missing,
        Some(value) => match (number(value), scalar_text(value)) {
            (Some(n), _) if n.is_finite() => SortKey::Number(n),
            (_, Some(text)) => SortKey::Text(text.to_lowercase()),
            // Objects and arrays have no meaningful order.
            _ => SortKey::Missing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn end_date_without_time_covers_the_whole_day() {
        let q = OrdersQuery::parse(&params(&[
            ("search_start_date", "2026-03-01"),
            ("search_end_date", "2026-03-01"),
        ]))
        .unwrap();
        assert_eq!(
            q.added.start,
            Some(clock::parse("2026-03-01 00:00:00").unwrap().unix)
        );
        assert_eq!(
            q.added.end,
            Some(clock::parse("2026-03-01 23:59:59").unwrap().unix)
        );
    }

    #[test]
    fn local_dates_shift_by_the_store_offset() {
        let q = OrdersQuery::parse(&params(&[(
            "search_start_date_local",
            "2026-03-01 00:00:00",
        )]))
        .unwrap();
        // Midnight at UTC-5 is 05:00 UTC.
        assert_eq!(
            q.added.start,
            Some(clock::parse("2026-03-01 05:00:00").unwrap().unix)
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        for bad in [
            ("limit", "501"),
            ("limit", "ten"),
            ("limit", "-1"),
            ("offset", "x"),
            ("order", "sideways"),
            ("folder_id", "1004,new"),
            ("search_start_date", "03/01/2026"),
        ] {
            let err = OrdersQuery::parse(&params(&[bad])).unwrap_err();
            assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn numeric_strings_sort_as_numbers() {
        assert!(SortKey::Number(9.0) < SortKey::Number(10.0));
        let nine = serde_json::json!({"order_total": "9.00"});
        let ten = serde_json::json!({"order_total": 10});
        assert!(sort_key(&nine, "order_total") < sort_key(&ten, "order_total"));
        assert_eq!(sort_key(&nine, "nope"), SortKey::Missing);
    }
}
