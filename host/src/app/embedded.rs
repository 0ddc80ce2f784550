//! The first-party components, built by `build.rs` and carried inside the binary.

use crate::grants::{Grants, OrderDeskAccess};

/// A component compiled into the binary, with the grants it needs.
#[derive(Debug)]
pub struct EmbeddedComponent {
    pub name: &'static str,
    pub wasm: &'static [u8],
    /// Hex SHA-256 of `wasm`, computed by `build.rs`.
    pub sha256: &'static str,
    pub grants: Grants,
}

/// `tenant`, `stores`, `orders`, `inventory`.
pub const FIRST_PARTY: &[EmbeddedComponent] = &[
    EmbeddedComponent {
        name: "tenant",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/tenant.wasm")),
        sha256: include_str!(concat!(env!("OUT_DIR"), "/tenant.wasm.sha256")),
        grants: Grants {
            session: true,
            vault: true,
            orderdesk: OrderDeskAccess::None,
            log: true,
            clocks: false,
        },
    },
    EmbeddedComponent {
        name: "stores",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/stores.wasm")),
        sha256: include_str!(concat!(env!("OUT_DIR"), "/stores.wasm.sha256")),
        grants: Grants {
            session: true,
            vault: true,
            orderdesk: OrderDeskAccess::Read,
            log: true,
            clocks: false,
        },
    },
    EmbeddedComponent {
        name: "orders",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/orders.wasm")),
        sha256: include_str!(concat!(env!("OUT_DIR"), "/orders.wasm.sha256")),
        grants: Grants {
            session: true,
            vault: false,
            orderdesk: OrderDeskAccess::Write,
            log: true,
            clocks: false,
        },
    },
    EmbeddedComponent {
        name: "inventory",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/inventory.wasm")),
        sha256: include_str!(concat!(env!("OUT_DIR"), "/inventory.wasm.sha256")),
        grants: Grants {
            session: true,
            vault: false,
            orderdesk: OrderDeskAccess::Write,
            log: true,
            clocks: false,
        },
    },
];
