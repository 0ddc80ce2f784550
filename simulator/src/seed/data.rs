//! The raw material of seed data: a product catalogue, names and places.

use serde_json::{Map, Value};

use super::prng::SplitMix64;

pub struct Product {
    pub code: &'static str,
    pub name: &'static str,
    pub price_cents: i64,
    pub weight_cents: i64,
    pub category: &'static str,
    pub variation: Option<(&'static str, &'static str)>,
}

const fn product(
    code: &'static str,
    name: &'static str,
    price_cents: i64,
    weight_cents: i64,
    category: &'static str,
    variation: Option<(&'static str, &'static str)>,
) -> Product {
    Product {
        code,
        name,
        price_cents,
        weight_cents,
        category,
        variation,
    }
}

pub const CATALOGUE: [Product; 12] = [
    product(
        "MUG-WHT",
        "Ceramic mug",
        1499,
        75,
        "kitchen",
        Some(("Color", "White")),
    ),
    product("POUR-01", "Pour-over kit", 4499, 100, "kitchen", None),
    product("234", "Canvas tote", 4000, 0, "", None),
    product(
        "TEE-BLK-M",
        "Logo T-shirt",
        2200,
        20,
        "apparel",
        Some(("Size", "M")),
    ),
    product(
        "TEE-BLK-L",
        "Logo T-shirt",
        2200,
        22,
        "apparel",
        Some(("Size", "L")),
    ),
    product("CAP-NVY", "Baseball cap", 1850, 15, "apparel", None),
    product(
        "BEAN-1LB",
        "Whole bean coffee 1 lb",
        1695,
        100,
        "coffee",
        None,
    ),
    product(
        "BEAN-5LB",
        "Whole bean coffee 5 lb",
        6995,
        500,
        "coffee",
        None,
    ),
    product("FILT-100", "Paper filters (100)", 699, 10, "kitchen", None),
    product("GIFT-25", "Gift card $25", 2500, 0, "gift", None),
    product("STKR-SET", "Sticker set", 500, 2, "", None),
    product(
        "KETTLE-GN",
        "Gooseneck kettle",
        5900,
        140,
        "kitchen",
        Some(("Finish", "Matte")),
    ),
];

const FIRST_NAMES: [&str; 16] = [
    "Sam", "Jo", "Alex", "Priya", "Marcus", "Elena", "Kenji", "Fatima", "Liam", "Noor", "Grace",
    "Diego", "Hana", "Owen", "Zoe", "Ravi",
];
const LAST_NAMES: [&str; 16] = [
    "Chen", "Rivera", "Smith", "Patel", "Johnson", "Garcia", "Tanaka", "Okafor", "Murphy",
    "Haddad", "Kim", "Lopez", "Novak", "Brown", "Schmidt", "Nguyen",
];
const COMPANIES: [&str; 4] = [
    "Chen Studio",
    "Rivera & Sons",
    "Blue Door Cafe",
    "Northwind LLC",
];
const CITIES: [(&str, &str, &str, &str); 8] = [
    ("San Francisco", "CA", "94105", "415"),
    ("Springfield", "IL", "62701", "217"),
    ("Austin", "TX", "73301", "512"),
    ("Portland", "OR", "97201", "503"),
    ("Brooklyn", "NY", "11201", "718"),
    ("Denver", "CO", "80202", "303"),
    ("Madison", "WI", "53703", "608"),
    ("Raleigh", "NC", "27601", "919"),
];
const STREETS: [&str; 6] = [
    "Market St",
    "Elm St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Main St",
];
pub const SOURCES: [&str; 5] = ["Shopify", "Order Desk", "Amazon", "Etsy", "WooCommerce"];
pub const SHIPPING: [(&str, &str, &str); 5] = [
    ("USPS Priority", "USPS", "Priority"),
    ("USPS First Class", "USPS", "First Class"),
    ("UPS Ground", "UPS", "Ground"),
    ("FedEx 2Day", "FedEx", "2Day"),
    ("Free Shipping", "USPS", "Ground Advantage"),
];
pub const CARD_TYPES: [&str; 4] = ["Visa", "MasterCard", "American Express", "Discover"];

/// A generated buyer or recipient.
#[derive(Clone)]
pub struct Person {
    first: &'static str,
    last: &'static str,
    company: &'static str,
    street: String,
    city: (&'static str, &'static str, &'static str, &'static str),
    phone: String,
}

impl Person {
    pub fn random(rng: &mut SplitMix64) -> Person {
        let city = rng.pick(&CITIES);
        Person {
            first: rng.pick(&FIRST_NAMES),
            last: rng.pick(&LAST_NAMES),
            company: if rng.chance(20) {
                rng.pick(&COMPANIES)
            } else {
                ""
            },
            street: format!("{} {}", 1 + rng.below(990), rng.pick(&STREETS)),
            city,
            phone: if rng.chance(70) {
                format!("{}-555-{:04}", city.3, rng.below(10_000))
            } else {
                String::new()
            },
        }
    }

    /// The `shipping` or `customer` object. Shipping addresses have four address lines,
    /// customer addresses two, as in the fixtures.
    pub fn address(&self, with_extra_lines: bool) -> Value {
        let mut map = Map::new();
        let mut put = |key: &str, value: &str| {
            map.insert(key.into(), value.into());
        };
        put("first_name", self.first);
        put("last_name", self.last);
        put("company", self.company);
        put("address1", &self.street);
        put("address2", "");
        if with_extra_lines {
            put("address3", "");
            put("address4", "");
        }
        put("city", self.city.0);
        put("state", self.city.1);
        put("postal_code", self.city.2);
        put("country", "US");
        put("phone", &self.phone);
        Value::Object(map)
    }

    pub fn email(&self, rng: &mut SplitMix64) -> String {
        let domain = rng.pick(&["example.com", "example.org", "example.net"]);
        format!(
            "{}.{}@{domain}",
            self.first.to_ascii_lowercase(),
            self.last.to_ascii_lowercase()
        )
    }
}
