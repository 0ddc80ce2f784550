//! Deterministic seed data: a few hundred orders and a small inventory per store.
//!
//! Every order starts as a clone of one of the two real-world-shaped fixtures in
//! `simulator/fixtures/` (same keys, same key order, same PHP quirks), with its values
//! replaced by generated ones. The generator is a splitmix64 keyed by the store id, and
//! nothing reads the clock, so two simulators with the same config hold identical data.

mod data;
mod prng;

use serde_json::{Value, json};

use crate::clock::{format_date, format_datetime, unix_from_parts};
use crate::config::SimStore;
use crate::model::{FULL_TEMPLATE, QUIRKS_TEMPLATE, count, empty_map, money, tracking_url};
use crate::state::StoreData;
use data::{CARD_TYPES, CATALOGUE, Person, Product, SHIPPING, SOURCES};
use prng::SplitMix64;

const DAY: i64 = 86_400;
const SHIPPED_FOLDER: u64 = 1007;

/// A store's data with `orders` generated orders and the catalogue as inventory.
pub fn seed_store(store: SimStore, orders: usize) -> StoreData {
    let mut rng = SplitMix64::keyed(&store.store_id);
    let mut data = StoreData::new(store);
    // Ids look like real OrderDesk ones (seven or eight digits), differ per store, and
    // leave gaps, as ids of deleted orders do.
    data.next_order_id = 3_000_000 + rng.below(1_000) * 1_000 + 1;
    data.next_item_id = 80_000_000 + rng.below(1_000) * 10_000 + 1;
    data.next_shipment_id = 550_000 + rng.below(100) * 1_000 + 1;
    data.next_inventory_id = 700_000 + rng.below(100) * 100 + 1;

    seed_inventory(&mut data);

    // Spread over 2026-01-01 .. 2026-10-31, sorted so that later orders get higher ids.
    let start = unix_from_parts(2026, 1, 1, 0, 0, 0);
    let span = unix_from_parts(2026, 11, 1, 0, 0, 0) - start;
    let mut times: Vec<i64> = (0..orders)
        .map(|_| start + rng.below(span as u64) as i64)
        .collect();
    times.sort_unstable();
    for added in times {
        let id = data.allocate_order_id();
        data.next_order_id += rng.below(3); // a few ids lost to deletions
        let order = generate_order(&mut rng, &mut data, id, added);
        data.orders.insert(id, order);
    }
    data
}

fn seed_inventory(data: &mut StoreData) {
    let created = unix_from_parts(2025, 12, 15, 9, 0, 0);
    for (i, product) in CATALOGUE.iter().enumerate() {
        let id = data.allocate_inventory_id();
        let stock = (i as i64 * 37 + 11) % 150;
        let variations = match product.variation {
            Some((name, value)) => json!({ name: value }),
            None => empty_map(),
        };
        let item = json!({
            "id": id.to_string(),
            "name": product.name,
            "code": product.code,
            "price": money(product.price_cents as f64 / 100.0),
            "cost": money((product.price_cents * 45 / 100) as f64 / 100.0),
            "weight": money(product.weight_cents as f64 / 100.0),
            // PHP again: stock is a string in some records, a number in others.
            "stock": if i % 3 == 0 { json!(stock.to_string()) } else { json!(stock) },
            "location": format!("A-{:02}", i + 1),
            "metadata": empty_map(),
            "variation_list": variations,
            "manufacturer_sku": format!("MFR-{}", product.code),
            "update_source": "Order Desk",
            "date_added": format_datetime(created + i as i64 * 3600),
            "date_updated": format_datetime(created + i as i64 * 3600 + 86_400),
        });
        data.inventory.insert(id, item);
    }
}

/// How the numbers of an order are written: OrderDesk mixes both.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `"74.97"`, like order-full.json.
    Strings,
    /// `40`, `14.99`, like order-php-quirks.json.
    Numbers,
}

impl Style {
    fn money(self, cents: i64) -> Value {
        match self {
            Style::Strings => money(cents as f64 / 100.0),
            Style::Numbers if cents % 100 == 0 => json!(cents / 100),
            Style::Numbers => json!(cents as f64 / 100.0),
        }
    }
}

/// The items of an order and what they add up to, in cents.
struct Basket {
    items: Vec<Value>,
    product_cents: i64,
    weight_cents: i64,
    quantity: i64,
}

impl Basket {
    /// One to four distinct products, one to three of each.
    fn fill(rng: &mut SplitMix64, data: &mut StoreData, style: Style) -> Basket {
        let mut basket = Basket {
            items: Vec::new(),
            product_cents: 0,
            weight_cents: 0,
            quantity: 0,
        };
        let first = rng.below(CATALOGUE.len() as u64) as usize;
        for n in 0..=rng.below(4) as usize {
            // Stepping by 5 through 12 products never repeats one within four picks.
            let product = &CATALOGUE[(first + n * 5) % CATALOGUE.len()];
            let quantity = 1 + rng.below(3) as i64;
            basket.product_cents += product.price_cents * quantity;
            basket.weight_cents += product.weight_cents * quantity;
            basket.quantity += quantity;
            let id = data.allocate_item_id();
            basket.items.push(item(rng, id, style, product, quantity));
        }
        basket
    }
}

fn item(rng: &mut SplitMix64, id: String, style: Style, product: &Product, qty: i64) -> Value {
    let variations = match product.variation {
        Some((name, value)) => json!({ name: value }),
        None => empty_map(),
    };
    let metadata = if rng.chance(30) {
        let image = format!(
            "https://cdn.example.org/{}.png",
            product.code.to_ascii_lowercase()
        );
        json!({ "image": image })
    } else {
        empty_map()
    };
    json!({
        "id": id,
        "name": product.name,
        "price": style.money(product.price_cents),
        "quantity": count(qty as f64),
        "weight": style.money(product.weight_cents),
        "code": product.code,
        "delivery_type": if product.category == "gift" { "noship" } else { "ship" },
        "category_code": product.category,
        "fulfillment_method": "",
        "variation_list": variations,
        "metadata": metadata,
    })
}

/// Text when `present`, else the empty string OrderDesk uses for "none".
fn text_if(present: bool, make: impl FnOnce() -> String) -> Value {
    Value::String(if present { make() } else { String::new() })
}

/// The card and payment fields of an order totalling `total_cents`.
fn payment(rng: &mut SplitMix64, style: Style, total_cents: i64) -> Vec<(&'static str, Value)> {
    let status = rng.pick(&[
        "Captured",
        "Captured",
        "Captured",
        "Approved",
        "Approved",
        "Authorized",
        "Pending",
        "Fully Refunded",
        "Partially Refunded",
        "Voided",
    ]);
    let refund_cents = match status {
        "Fully Refunded" => total_cents,
        "Partially Refunded" => total_cents / 4,
        _ => 0,
    };
    let balance_cents = match status {
        "Pending" | "Voided" => 0,
        _ => total_cents - refund_cents,
    };
    let card = style == Style::Strings || rng.chance(30);
    vec![
        (
            "cc_number_masked",
            text_if(card, || format!("xxxx-xxxx-xxxx-{:04}", rng.below(10_000))),
        ),
        (
            "cc_exp",
            text_if(card, || {
                format!("{:02}/{}", 1 + rng.below(12), 2027 + rng.below(5))
            }),
        ),
        (
            "processor_response",
            text_if(card, || format!("Approved: {:06}", rng.below(1_000_000))),
        ),
        (
            "payment_type",
            text_if(card, || rng.pick(&CARD_TYPES).to_owned()),
        ),
        ("payment_status", json!(status)),
        ("processor_balance", style.money(balance_cents)),
        ("refund_total", style.money(refund_cents)),
    ]
}

/// Old orders have mostly shipped; recent ones are still being worked on.
fn folder_for(rng: &mut SplitMix64, added: i64) -> u64 {
    let age_days = (unix_from_parts(2026, 11, 1, 0, 0, 0) - added) / DAY;
    match (age_days, rng.below(10)) {
        (_, 0) => 1008,               // cancelled
        (0..=6, n) if n < 6 => 1004,  // new
        (0..=6, _) => 1005,           // prepared
        (7..=20, n) if n < 3 => 1006, // backordered
        _ => SHIPPED_FOLDER,
    }
}

fn generate_order(rng: &mut SplitMix64, data: &mut StoreData, id: u64, added: i64) -> Value {
    let style = if rng.chance(25) {
        Style::Numbers
    } else {
        Style::Strings
    };
    let template = match style {
        Style::Strings => &*FULL_TEMPLATE,
        Style::Numbers => &*QUIRKS_TEMPLATE,
    };
    // Inserting a key the template has keeps its position, so the shape stays the fixture's.
    let mut order = template.as_object().cloned().unwrap_or_default();

    let id_text = id.to_string();
    let buyer = Person::random(rng);
    let recipient = if rng.chance(15) {
        Person::random(rng)
    } else {
        buyer.clone()
    };
    let source = rng.pick(&SOURCES);
    let (shipping_method, carrier, service) = rng.pick(&SHIPPING);
    let basket = Basket::fill(rng, data, style);
    let shipping_cents = if shipping_method == "Free Shipping" {
        0
    } else {
        rng.pick(&[595, 895, 1295])
    };
    let tax_cents = if rng.chance(60) {
        basket.product_cents * 85 / 1000
    } else {
        0
    };
    let discounted = rng.chance(12) && basket.product_cents > 1000;
    let discount_cents = if discounted { 500 } else { 0 };
    let total_cents = basket.product_cents + shipping_cents + tax_cents - discount_cents;
    let folder = folder_for(rng, added);

    let mut updated = added;
    if !rng.chance(30) {
        updated += rng.below(3 * DAY as u64) as i64;
    }
    let mut notes = Vec::new();
    if source != "Order Desk" && rng.chance(60) {
        notes.push(json!({
            "date_added": format_datetime(added + 180),
            "username": "System",
            "content": format!("Order imported from {source}"),
        }));
    }
    let mut shipments = Vec::new();
    if folder == SHIPPED_FOLDER {
        let shipped = added + DAY * (1 + rng.below(3) as i64) + rng.below(36_000) as i64;
        updated = updated.max(shipped);
        let tracking = format!("94001118992{:011}", rng.below(100_000_000_000));
        shipments.push(json!({
            "id": data.allocate_shipment_id(),
            "order_id": id_text,
            "store_id": data.store.store_id,
            "tracking_number": tracking,
            "carrier_code": carrier,
            "shipment_method": service,
            "weight": format!("{}", basket.weight_cents as f64 / 100.0),
            "cost": format!("{:.2}", shipping_cents as f64 / 100.0),
            "status": "",
            "tracking_url": tracking_url(carrier, &tracking),
            "label_format": "", "label_image": "", "order_items": "", "print_status": "",
            "cart_shipment_id": "",
            "date_shipped": format_date(shipped),
            "date_added": format_datetime(shipped),
        }));
    }
    let vip = rng.chance(8);
    let emails = rng.below(4);

    let mut fields = vec![
        ("id", json!(id_text)),
        ("email", json!(buyer.email(rng))),
        ("shipping_method", json!(shipping_method)),
        ("quantity_total", json!(basket.quantity)),
        ("weight_total", style.money(basket.weight_cents)),
        ("product_total", style.money(basket.product_cents)),
        // A string even in the numbers-as-numbers fixture: PHP is not consistent.
        ("shipping_total", money(shipping_cents as f64 / 100.0)),
        ("handling_total", style.money(0)),
        ("tax_total", style.money(tax_cents)),
        ("discount_total", style.money(discount_cents)),
        ("order_total", style.money(total_cents)),
        (
            "customer_id",
            text_if(rng.chance(60), || format!("C-{}", 1000 + rng.below(9000))),
        ),
        // A number in some records, a string in others.
        (
            "email_count",
            if rng.chance(50) {
                json!(emails)
            } else {
                json!(emails.to_string())
            },
        ),
        (
            "ip_address",
            json!(format!("203.0.113.{}", 1 + rng.below(254))),
        ),
        ("tag_color", json!(if vip { "#3366ff" } else { "" })),
        ("tag_name", json!(if vip { "VIP" } else { "" })),
        ("source_name", json!(source)),
        (
            "source_id",
            text_if(source != "Order Desk", || {
                format!("#{}", 10_000 + id % 90_000)
            }),
        ),
        ("folder_id", json!(folder)),
        ("date_added", json!(format_datetime(added))),
        ("date_updated", json!(format_datetime(updated))),
        ("shipping", recipient.address(true)),
        ("customer", buyer.address(false)),
        (
            "checkout_data",
            if rng.chance(15) {
                json!({ "Gift Message": "Happy birthday!" })
            } else {
                empty_map()
            },
        ),
        (
            "order_metadata",
            if style == Style::Strings && rng.chance(50) {
                json!({ "fraud_protection_score": rng.below(40), "channel": "web" })
            } else {
                empty_map()
            },
        ),
        (
            "discount_list",
            if discounted {
                json!([{ "name": "Welcome", "code": "HELLO5", "amount": "5.00" }])
            } else {
                json!([])
            },
        ),
        ("order_notes", Value::Array(notes)),
        ("order_items", Value::Array(basket.items)),
        ("order_shipments", Value::Array(shipments)),
    ];
    fields.extend(payment(rng, style, total_cents));
    // The full template carries an undocumented field; keep it, with varied values.
    if order.contains_key("shipping_carrier_preference") {
        let preference = rng.pick(&["fastest", "cheapest", ""]);
        fields.push(("shipping_carrier_preference", json!(preference)));
    }
    for (key, value) in fields {
        order.insert(key.to_owned(), value);
    }
    Value::Object(order)
}
