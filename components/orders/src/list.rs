//! `orders_list`: OrderDesk's order search (`GET /orders`), one page or, with
//! `fetch_all`, every page of a date range up to a bound.

use order_model::{OrderList, lenient};
use orderdesk_store_api::Reply;
use orderdesk_store_api::views::{
    self, ORDERS, ReadOptions, View, answer_budget, pagination_schema, read_properties,
};
use orderdesk_tool_kit::args::{NonBlank, field, in_range, invalid};
use orderdesk_tool_kit::errors::describe;
use orderdesk_tool_kit::{Args, ToolError, session};
use serde_json::{Map, Value, json};

use crate::host::{self, CacheMode, Target};
use crate::schema::{self, DATE_PATTERN, pagination};

pub const DESCRIPTION: &str = "Search the store's orders (GET /orders), newest first by \
                               default. Changes nothing. Always give a date range (search_start_date/search_end_date for \
                               when orders were added, or modified_start_date/modified_end_date): OrderDesk asks clients \
                               to, and searches without one are slow. Filters combine (AND); there is no free-text search. \
                               Each order is a summary by default (id, source_id, date_added, date_updated, email, \
                               customer_name, order_total, folder_id, folder_name when OrderDesk sends it, \
                               payment_status, item_count, shipping {city, country}, tracking_count); `view: \"full\"` \
                               answers whole orders, `fields` only the fields named (dotted paths). One page holds up to \
                               `limit` orders (1–500, default 50) and stops early when the answer would grow too large \
                               for the client; `pagination.next_offset` gives the `offset` of the next page (null when \
                               there is none). `fetch_all: true` pages through everything in a date range (at most \
                               5,000 orders, reported when cut short). `include_history` adds each order's history and \
                               makes the search much slower. May answer from the host's short-lived cache (then \
                               `cache_age_s` says how old the answer is; `fresh: true` reads OrderDesk again).";

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
/// `fetch_all` bounds: pages of `MAX_LIMIT`, at most this many pages (5,000 orders).
const MAX_PAGES: u64 = 10;

/// How a filter's value is checked and written into the query.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
    Date,
    /// One folder id, or several separated by commas.
    Folders,
    /// An order field name.
    Field,
    /// `asc` or `desc`.
    Direction,
}

/// Every documented filter of `GET /orders`, passed through under its own name.
const FILTERS: &[(&str, Kind, &str)] = &[
    (
        "folder_id",
        Kind::Folders,
        "Folder id, or several separated by commas (e.g. \"1004,1009\"); stores_get_settings lists them.",
    ),
    ("folder_name", Kind::Text, "Folder name (e.g. \"New\")."),
    (
        "source_id",
        Kind::Text,
        "The order's id in its source (e.g. the Shopify order number).",
    ),
    (
        "source_name",
        Kind::Text,
        "The order's source (e.g. \"Shopify\", \"Order Desk\").",
    ),
    ("email", Kind::Text, "Customer email."),
    ("customer_id", Kind::Text, "Customer id from the source."),
    (
        "search_start_date",
        Kind::Date,
        "Added at or after this time, UTC (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).",
    ),
    (
        "search_end_date",
        Kind::Date,
        "Added at or before this time, UTC (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).",
    ),
    (
        "search_start_date_local",
        Kind::Date,
        "Added at or after this time in the store's local time zone.",
    ),
    (
        "search_end_date_local",
        Kind::Date,
        "Added at or before this time in the store's local time zone.",
    ),
    (
        "modified_start_date",
        Kind::Date,
        "Modified at or after this time, UTC.",
    ),
    (
        "modified_end_date",
        Kind::Date,
        "Modified at or before this time, UTC.",
    ),
    (
        "customer_first_name",
        Kind::Text,
        "Customer (billing) first name.",
    ),
    (
        "customer_last_name",
        Kind::Text,
        "Customer (billing) last name.",
    ),
    (
        "customer_company",
        Kind::Text,
        "Customer (billing) company.",
    ),
    ("customer_phone", Kind::Text, "Customer (billing) phone."),
    ("shipping_first_name", Kind::Text, "Shipping first name."),
    ("shipping_last_name", Kind::Text, "Shipping last name."),
    ("shipping_company", Kind::Text, "Shipping company."),
    ("shipping_phone", Kind::Text, "Shipping phone."),
    (
        "order_by",
        Kind::Field,
        "Order field to sort by (default date_added).",
    ),
    (
        "order",
        Kind::Direction,
        "Sort direction: asc or desc (default desc).",
    ),
];

pub fn input() -> Value {
    let mut properties = Map::new();
    properties.insert(
        "limit".into(),
        json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
               "description": "Orders per page, 1–500 (default 50). Ignored with fetch_all."}),
    );
    properties.insert(
        "offset".into(),
        json!({"type": "integer", "minimum": 0, "default": 0,
               "description": "How many matching orders to skip (use pagination.next_offset)."}),
    );
    for (name, kind, description) in FILTERS {
        let property = match kind {
            Kind::Text => json!({"type": "string", "minLength": 1}),
            Kind::Date => json!({"type": "string", "pattern": DATE_PATTERN}),
            Kind::Folders => {
                json!({"type": ["string", "integer"], "pattern": "^[0-9]+(,[0-9]+)*$"})
            }
            Kind::Field => json!({"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"}),
            Kind::Direction => json!({"type": "string", "enum": ["asc", "desc"]}),
        };
        properties.insert(
            name.to_string(),
            schema::with_description(property, description),
        );
    }
    properties.insert(
        "include_history".into(),
        json!({"type": "boolean", "default": false,
               "description": "Include each order's history. Slow: leave it out unless needed."}),
    );
    properties.insert(
        "fetch_all".into(),
        json!({"type": "boolean", "default": false,
               "description": "Fetch every page (500 per page, at most 5,000 orders). Requires a \
                               date range (search_* or modified_* dates)."}),
    );
    if let Value::Object(read) = read_properties(order_model::views::ORDER_SUMMARY_FIELDS) {
        properties.extend(read);
    }
    schema::input(Value::Object(properties), &[])
}

/// The answer: a page of orders in the view asked for.
pub fn output() -> Value {
    ORDERS.list_output(json!({
        "pagination": pagination_schema(),
        "incomplete": {"type": "string",
                       "description": "Why fetch_all stopped early, and where to continue."}
    }))
}

/// The handler. The filters are read by name from their table, so the arguments stay
/// an object rather than a struct.
pub fn run(args: Args) -> Result<Value, ToolError> {
    let filters = filters(&args)?;
    let has_date_range = FILTERS.iter().any(|(name, kind, _)| {
        matches!(kind, Kind::Date) && filters.iter().any(|(k, _)| k == name)
    });
    let offset = in_range("offset", field(&args, "offset")?, 0..=u32::MAX.into())?.unwrap_or(0);
    let limit = in_range("limit", field(&args, "limit")?, 1..=MAX_LIMIT)?;
    let include_history = field::<Option<bool>>(&args, "include_history")?.unwrap_or(false);
    let fetch_all = field::<Option<bool>>(&args, "fetch_all")?.unwrap_or(false);
    let store: Option<NonBlank> = field(&args, "store")?;
    let options = ReadOptions::from_args(&args)?;
    let view = options.view()?;
    let read = Read {
        view: &view,
        cache: options.cache(),
    };

    let mut notes = Vec::new();
    let mut query = filters;
    if include_history {
        query.push(("include_history".into(), "1".into()));
    }
    let target = host::target(store, "the order search")
        .lookup("check the filters (folder ids come from stores_get_settings)");
    let mut result = if fetch_all {
        if !has_date_range {
            return Err(invalid(
                "`fetch_all` needs a date range: give search_start_date/search_end_date (or the \
                 _local ones) or modified_start_date/modified_end_date",
            ));
        }
        if limit.is_some() {
            notes.push(format!(
                "limit is ignored with fetch_all (pages of {MAX_LIMIT})"
            ));
        }
        fetch_every_page(&target, &query, offset, &read, &mut notes)?
    } else {
        if !has_date_range {
            notes.push(
                "no date range given: OrderDesk asks for one (search_start_date/search_end_date \
                 or modified_start_date/modified_end_date)"
                    .to_string(),
            );
        }
        let limit = limit.unwrap_or_else(|| {
            notes.push(format!("limit defaulted to {DEFAULT_LIMIT}"));
            DEFAULT_LIMIT
        });
        one_page(&target, &query, offset, limit, &read, &mut notes)?
    };
    if !notes.is_empty() {
        views::add_note(&mut result, &notes.join("; "));
    }
    views::add_now(&mut result);
    Ok(result)
}

/// The filters present in `args`, checked, in the table's order, as query parameters.
fn filters(args: &Args) -> Result<Vec<(String, String)>, ToolError> {
    let mut query = Vec::new();
    for (name, kind, _) in FILTERS {
        let Some(raw) = args.get(*name).filter(|v| !v.is_null()) else {
            continue;
        };
        // Text, or a number as its text: a folder id may come as either.
        let Some(value) = lenient::non_empty_text(raw) else {
            return Err(invalid(format!("`{name}` must be a non-empty string")));
        };
        let ok = match kind {
            Kind::Text => true,
            Kind::Date => is_date(&value),
            Kind::Folders => value
                .split(',')
                .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())),
            Kind::Field => {
                value.len() <= 64
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }
            Kind::Direction => value == "asc" || value == "desc",
        };
        if !ok {
            return Err(invalid(format!(
                "`{name}` is not valid ({value:?}): {}",
                match kind {
                    Kind::Text => "give some text",
                    Kind::Date => "use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS",
                    Kind::Folders =>
                        "use a folder id or ids separated by commas, e.g. \"1004,1009\"",
                    Kind::Field => "use an order field name such as date_added",
                    Kind::Direction => "use \"asc\" or \"desc\"",
                }
            )));
        }
        query.push((name.to_string(), value));
    }
    Ok(query)
}

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, digits where digits belong.
fn is_date(value: &str) -> bool {
    let shape = match value.len() {
        10 => "dddd-dd-dd",
        19 => "dddd-dd-dd dd:dd:dd",
        _ => return false,
    };
    value.bytes().zip(shape.bytes()).all(|(c, s)| {
        if s == b'd' {
            c.is_ascii_digit()
        } else {
            c == s
        }
    })
}

/// What a search answers of each order, and whether the host's cache may answer it.
struct Read<'a> {
    view: &'a View,
    cache: CacheMode,
}

fn get_page(
    target: &Target,
    query: &[(String, String)],
    offset: u64,
    limit: u64,
    cache: CacheMode,
) -> Result<(OrderList, Reply), ToolError> {
    let mut page_query = vec![
        ("limit".to_string(), limit.to_string()),
        ("offset".to_string(), offset.to_string()),
    ];
    page_query.extend_from_slice(query);
    let mut reply = target.get("/orders", page_query, cache)?;
    let page = OrderList::from_value(reply.body.take()).map_err(|e| {
        ToolError::Upstream(format!("OrderDesk's order search answered oddly: {e}"))
    })?;
    Ok((page, reply))
}

/// One page of up to `limit` orders, cut to the answer budget: when it stops early,
/// `next_offset` is the first order left out.
fn one_page(
    target: &Target,
    query: &[(String, String)],
    offset: u64,
    limit: u64,
    read: &Read,
    notes: &mut Vec<String>,
) -> Result<Value, ToolError> {
    let (page, reply) = get_page(target, query, offset, limit, read.cache)?;
    let total = page.total_records();
    let limit = page.limit().unwrap_or(limit);
    let offset = page.offset().unwrap_or(offset);
    let budget = answer_budget();
    let fitted = ORDERS.fit(page.into_orders(), read.view, budget);
    let kept = fitted.records.len() as u64;
    let mut pagination = pagination(total, kept, offset, limit);
    if fitted.left_out > 0 {
        let next = offset + kept;
        pagination["has_more"] = json!(true);
        pagination["next_offset"] = json!(next);
        notes.push(cut_note(kept, fitted.left_out, budget, next, read.view));
    }
    let mut answer = json!({
        "orders": fitted.records,
        "view": read.view.name(),
        "more": ORDERS.more(read.view),
        "pagination": pagination,
        "store_id": reply.store_id,
    });
    views::add_cached(&mut answer, &reply);
    Ok(answer)
}

/// The note of a page cut short by the byte budget.
fn cut_note(kept: u64, left_out: usize, budget: usize, next: u64, view: &View) -> String {
    let smaller = match view {
        View::Full => "; the summary view or `fields` fit more per page",
        View::Fields(_) => "; fewer `fields` fit more per page",
        View::Summary => "",
    };
    let first = if kept == 0 {
        format!(
            "the order at offset {next} alone is larger than the answer budget ({budget} \
             bytes): read it with orders_get or ask for fewer fields"
        )
    } else {
        format!(
            "stopped after {kept} orders ({left_out} of this page left out) to keep the answer \
             within {budget} bytes; continue with offset {next}"
        )
    };
    format!("{first}{smaller}")
}

/// How much order JSON one `fetch_all` call returns at most: more than a page's answer
/// budget (the caller asked for everything), under the host's default 1 MiB hard limit
/// on a result, with room for the pagination and notes around it.
const FETCH_ALL_BYTES: usize = 900 * 1024;

/// Time to keep for one more page of 500 orders (a slow OrderDesk answer, its retries)
/// and for answering: with less left, `fetch_all` answers what it has.
const PAGE_TIME_MS: u32 = 10_000;

/// Page through the search with the largest page size, reporting progress after each
/// page, until the end, the bound, or a failure after the first page (then what was
/// fetched is returned with the error and the offset to resume from).
fn fetch_every_page(
    target: &Target,
    query: &[(String, String)],
    start: u64,
    read: &Read,
    notes: &mut Vec<String>,
) -> Result<Value, ToolError> {
    let cap = MAX_LIMIT * MAX_PAGES;
    let mut orders = Vec::new();
    let mut offset = start;
    let mut total = None;
    let mut last_reply = None;
    let mut incomplete = None;
    let mut result_bytes = 0usize;
    let mut budget_stop = false;
    let mut out_of_time = false;
    // The answer budget when the operator set it larger (it is never over the hard limit).
    let budget = FETCH_ALL_BYTES.max(answer_budget());
    for page_number in 0..MAX_PAGES {
        if page_number > 0 && session::budget().time_left_ms < PAGE_TIME_MS {
            out_of_time = true;
            break;
        }
        let (page, reply) = match get_page(target, query, offset, MAX_LIMIT, read.cache) {
            Ok(answer) => answer,
            Err(error) if page_number == 0 => return Err(error),
            Err(error) => {
                incomplete = Some(describe(&error));
                break;
            }
        };
        total = page.total_records().or(total);
        let returned = page.records_returned();
        // Keep orders while they fit the budget; the next call resumes at the first
        // order left out.
        let mut kept = 0u64;
        for order in page.into_orders() {
            let order = ORDERS.render(&order, read.view);
            let size = serde_json::to_string(&order).map_or(0, |text| text.len()) + 1;
            if result_bytes + size > budget {
                budget_stop = true;
                break;
            }
            result_bytes += size;
            orders.push(order);
            kept += 1;
        }
        last_reply = Some(reply);
        offset += if budget_stop { kept } else { returned };
        let expected = total.map(|t| t.saturating_sub(start).min(cap) as f64);
        session::report_progress(
            orders.len() as f64,
            expected,
            Some(&format!(
                "fetched {} of {} orders",
                orders.len(),
                total.map_or("?".to_string(), |t| t.saturating_sub(start).to_string())
            )),
        );
        if budget_stop || returned == 0 || total.is_none_or(|t| offset >= t) {
            break;
        }
    }
    let fetched = orders.len() as u64;
    let mut pagination = pagination(total, fetched, start, MAX_LIMIT);
    // The loop's stopping offset is where a next call resumes (even when not one order
    // fitted, which `pagination` alone would call the end).
    if budget_stop || pagination["has_more"] == json!(true) {
        pagination["has_more"] = json!(true);
        pagination["next_offset"] = json!(offset);
        if budget_stop {
            let smaller = match read.view {
                View::Summary => "",
                _ => ", use the summary view or fewer `fields`",
            };
            notes.push(format!(
                "stopped at {fetched} orders to keep the result within {budget} bytes; \
                 continue with offset {offset}{smaller} or narrow the date range"
            ));
        } else if out_of_time {
            notes.push(format!(
                "stopped at {fetched} orders to answer within the call's time limit; continue \
                 with offset {offset} or narrow the date range"
            ));
        } else if incomplete.is_none() {
            notes.push(format!(
                "truncated at {fetched} orders (fetch_all stops after {MAX_PAGES} pages of \
                 {MAX_LIMIT}); continue with offset {offset} or narrow the date range"
            ));
        }
    }
    let reply = last_reply.expect("the first page was fetched or the call failed");
    let mut result = json!({
        "orders": orders,
        "view": read.view.name(),
        "more": ORDERS.more(read.view),
        "pagination": pagination,
        "store_id": reply.store_id,
    });
    views::add_cached(&mut result, &reply);
    if let Some(error) = incomplete {
        result["incomplete"] = json!(format!(
            "stopped after {fetched} orders: {error}; continue with offset {offset}"
        ));
    }
    Ok(result)
}
