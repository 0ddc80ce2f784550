//! MCP prompts: short templates for the jobs merchants ask for most, each a plan in
//! terms of this server's tools (`prompts/list`, `prompts/get`). A client shows them as
//! commands (e.g. `/review_new_orders` in Claude Code); the model then runs the plan.
//!
//! A template names the tools it uses; `tests/e2e.rs` checks each name against the
//! served tool list, so a renamed tool cannot leave a prompt pointing at nothing. Dates
//! are filled in by the host (the model need not guess what "today" is).

use std::time::{Duration, SystemTime};

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

/// A prompt's arguments as the client sent them.
pub(super) type PromptArguments = Map<String, Value>;

/// Why a prompt cannot be made: the message says what to send instead.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct PromptError(pub String);

struct Template {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    /// `(name, description, required)`.
    arguments: &'static [(&'static str, &'static str, bool)],
    render: fn(&Filled) -> String,
}

const TEMPLATES: &[Template] = &[
    Template {
        name: "review_new_orders",
        title: "Review today's new orders",
        description: "Go through the orders added today (UTC) and point out the ones that \
                      need attention: unpaid or refunded, missing shipping details, large or \
                      unusual. Changes nothing.",
        arguments: &[
            (
                "folder",
                "Only orders in this folder (its name, e.g. \"New\"); default: every folder.",
                false,
            ),
            (
                "store",
                "Store name or id (default: the active store).",
                false,
            ),
        ],
        render: review_new_orders,
    },
    Template {
        name: "find_customer_orders",
        title: "Find a customer's orders",
        description: "Find every order of one customer by email or name, newest first, and \
                      summarise them. Changes nothing.",
        arguments: &[
            (
                "customer",
                "The customer's email address, or their name (\"Jo Rivera\").",
                true,
            ),
            (
                "since",
                "Search orders added since this date (YYYY-MM-DD); default: one year ago.",
                false,
            ),
            (
                "store",
                "Store name or id (default: the active store).",
                false,
            ),
        ],
        render: find_customer_orders,
    },
    Template {
        name: "check_low_stock",
        title: "Check low stock",
        description: "List the inventory items whose stock is at or below a threshold, lowest \
                      first, with the orders of the last week that used them. Changes nothing \
                      unless you ask for a stock change.",
        arguments: &[
            (
                "threshold",
                "Stock at or below this is low (a whole number; default 5).",
                false,
            ),
            (
                "store",
                "Store name or id (default: the active store).",
                false,
            ),
        ],
        render: check_low_stock,
    },
];

/// The prompts, as `prompts/list` answers them.
pub(super) fn list() -> Vec<Prompt> {
    TEMPLATES
        .iter()
        .map(|t| {
            let arguments = t
                .arguments
                .iter()
                .map(|(name, description, required)| {
                    PromptArgument::new(*name)
                        .with_description(*description)
                        .with_required(*required)
                })
                .collect();
            Prompt::new(t.name, Some(t.description), Some(arguments)).with_title(t.title)
        })
        .collect()
}

/// `prompts/get`: the template `name` filled with `arguments`, at time `now`.
pub(super) fn get(
    name: &str,
    arguments: &PromptArguments,
    now: SystemTime,
) -> Result<GetPromptResult, PromptError> {
    let Some(template) = TEMPLATES.iter().find(|t| t.name == name) else {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        return Err(PromptError(format!(
            "unknown prompt `{name}`; the prompts are {}",
            names.join(", ")
        )));
    };
    let filled = Filled::new(template, arguments, now)?;
    let text = (template.render)(&filled);
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(template.description),
    )
}

/// A template's arguments, checked, with the dates a plan needs.
struct Filled {
    values: Map<String, Value>,
    /// `YYYY-MM-DD`, UTC.
    today: String,
    now: SystemTime,
}

impl Filled {
    fn new(
        template: &Template,
        arguments: &PromptArguments,
        now: SystemTime,
    ) -> Result<Filled, PromptError> {
        for name in arguments.keys() {
            if !template.arguments.iter().any(|(known, _, _)| known == name) {
                return Err(PromptError(format!(
                    "prompt `{}` has no argument `{name}`; it takes {}",
                    template.name,
                    argument_names(template)
                )));
            }
        }
        let mut values = Map::new();
        for (name, _, required) in template.arguments {
            let text = match arguments.get(*name) {
                None | Some(Value::Null) => None,
                // Clients send prompt arguments as strings; a number is taken as its text.
                Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(other) => {
                    return Err(PromptError(format!(
                        "argument `{name}` of prompt `{}` must be text, not {other}",
                        template.name
                    )));
                }
            };
            match text {
                Some(text) => {
                    values.insert(name.to_string(), Value::String(text));
                }
                None if *required => {
                    return Err(PromptError(format!(
                        "prompt `{}` needs `{name}`",
                        template.name
                    )));
                }
                None => {}
            }
        }
        Ok(Filled {
            values,
            today: date_of(now),
            now,
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// ` in store X` when a store was named, for the tool calls.
    fn store_clause(&self) -> String {
        match self.get("store") {
            Some(store) => format!(" Pass `store: \"{store}\"` to every tool call."),
            None => String::new(),
        }
    }

    fn days_ago(&self, days: u64) -> String {
        date_of(self.now - Duration::from_secs(days * 86_400))
    }
}

fn argument_names(template: &Template) -> String {
    let names: Vec<String> = template
        .arguments
        .iter()
        .map(|(name, _, _)| format!("`{name}`"))
        .collect();
    names.join(", ")
}

/// `YYYY-MM-DD` of `t`, UTC.
fn date_of(t: SystemTime) -> String {
    orderdesk_vault::format_utc(t)[..10].to_string()
}

fn review_new_orders(f: &Filled) -> String {
    let today = &f.today;
    let folder = match f.get("folder") {
        Some(folder) => format!(" with `folder_name: \"{folder}\"`"),
        None => String::new(),
    };
    format!(
        "Review the orders added today ({today}, UTC) and tell me which need my attention.\n\n\
         1. Call orders_list with `search_start_date: \"{today}\"`{folder} (the default \
         summary view is enough). If `pagination.next_offset` is set, call it again with that \
         `offset` until you have them all.\n\
         2. Flag orders whose payment_status is not Captured or Approved, orders without a \
         ship-to city or country, and totals far above the others. For a flagged order, \
         orders_get with `fields` (e.g. [\"shipping\", \"order_notes\"]) shows the details.\n\
         3. Answer with a short table (id, customer, total, folder, why it is flagged) and \
         how many orders were fine.\n\n\
         Do not change, move or delete any order unless I ask you to.{}",
        f.store_clause()
    )
}

fn find_customer_orders(f: &Filled) -> String {
    let customer = f.get("customer").unwrap_or_default();
    let since = f
        .get("since")
        .map(str::to_string)
        .unwrap_or_else(|| f.days_ago(365));
    let search = if customer.contains('@') {
        format!("`email: \"{customer}\"`")
    } else {
        let mut names = customer.split_whitespace();
        match (names.next(), names.next_back()) {
            (Some(first), Some(last)) => format!(
                "`customer_first_name: \"{first}\"` and `customer_last_name: \"{last}\"` (if \
                 that finds nothing, try `shipping_last_name: \"{last}\"`)"
            ),
            _ => format!(
                "`customer_last_name: \"{customer}\"` (if that finds nothing, try \
                 `customer_company` or `shipping_last_name`)"
            ),
        }
    };
    format!(
        "Find the orders of customer {customer:?} added since {since} (UTC; today is {}).\n\n\
         1. Call orders_list with {search} and `search_start_date: \"{since}\"`, and follow \
         `pagination.next_offset` until there are no more pages.\n\
         2. Answer with their orders, newest first: id, date, total, folder, payment status, \
         and the total spent. Mention when the search matched several different people.\n\
         3. If I ask about one order, orders_get shows it (`view: \"full\"` for everything).\n\n\
         Change nothing.{}",
        f.today,
        f.store_clause()
    )
}

fn check_low_stock(f: &Filled) -> String {
    let threshold = f.get("threshold").unwrap_or("5");
    let week_ago = f.days_ago(7);
    format!(
        "Check which inventory items are low on stock (stock at or below {threshold}).\n\n\
         1. Call inventory_list with `fields: [\"code\", \"name\", \"stock\"]` and follow \
         `pagination.next_offset` until you have every item.\n\
         2. List the items with stock at or below {threshold}, lowest first: code, name, \
         stock. Say how many items you checked.\n\
         3. For the five lowest, say whether they sold recently: orders_list with \
         `search_start_date: \"{week_ago}\"` and `fields: [\"order_items.code\", \
         \"order_items.quantity\"]` shows what the last week's orders used.\n\n\
         Do not change any stock unless I ask; then use inventory_adjust_stock with the \
         item's `date_updated` as `expected_date_updated`.{}",
        f.store_clause()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// 2026-12-02 10:00:00 UTC.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_205_600)
    }

    fn text(result: &GetPromptResult) -> String {
        result.messages[0]
            .content
            .as_text()
            .map(|t| t.text.clone())
            .unwrap()
    }

    fn args(value: Value) -> PromptArguments {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn every_prompt_is_listed_with_its_arguments() {
        let prompts = list();
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "review_new_orders",
                "find_customer_orders",
                "check_low_stock"
            ]
        );
        let customer = &prompts[1].arguments.as_ref().unwrap()[0];
        assert_eq!(
            (customer.name.as_str(), customer.required),
            ("customer", Some(true))
        );
    }

    #[test]
    fn templates_fill_in_todays_date_and_the_arguments() {
        let review = get(
            "review_new_orders",
            &args(json!({"folder": "New", "store": "eu"})),
            now(),
        )
        .unwrap();
        let review = text(&review);
        assert!(
            review.contains("`search_start_date: \"2026-12-02\"` with `folder_name: \"New\"`"),
            "{review}"
        );
        assert!(review.contains("`store: \"eu\"`"), "{review}");

        let by_email = text(
            &get(
                "find_customer_orders",
                &args(json!({"customer": "jo@example.com"})),
                now(),
            )
            .unwrap(),
        );
        assert!(
            by_email.contains("`email: \"jo@example.com\"`"),
            "{by_email}"
        );
        assert!(by_email.contains("since 2025-12-02"), "{by_email}");
        let by_name = text(
            &get(
                "find_customer_orders",
                &args(json!({"customer": "Jo Rivera", "since": "2026-06-01"})),
                now(),
            )
            .unwrap(),
        );
        assert!(
            by_name.contains("`customer_first_name: \"Jo\"` and `customer_last_name: \"Rivera\"`"),
            "{by_name}"
        );

        let stock = text(&get("check_low_stock", &args(json!({"threshold": 3})), now()).unwrap());
        assert!(stock.contains("at or below 3"), "{stock}");
        assert!(
            stock.contains("`search_start_date: \"2026-11-25\"`"),
            "{stock}"
        );
    }

    #[test]
    fn wrong_arguments_say_what_the_prompt_takes() {
        assert_eq!(
            get("find_customer_orders", &args(json!({})), now()).unwrap_err(),
            PromptError("prompt `find_customer_orders` needs `customer`".into())
        );
        let unknown = get("check_low_stock", &args(json!({"limit": "3"})), now()).unwrap_err();
        assert!(
            unknown.0.contains("takes `threshold`, `store`"),
            "{unknown:?}"
        );
        let missing = get("nope", &args(json!({})), now()).unwrap_err();
        assert!(missing.0.contains("review_new_orders"), "{missing:?}");
    }
}
