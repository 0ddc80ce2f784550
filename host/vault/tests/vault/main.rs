//! The vault through its public API, with raw SQLite access where a test plays the
//! attacker (altering or moving ciphertexts) or inspects what is at rest.
//!
//! One test binary, one module per subject; the helpers every subject uses are here.

mod at_rest;
mod audit;
mod data_dir;
mod lifecycle;
mod stores;
mod tenants;
mod tokens;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use orderdesk_vault::{DB_FILE_NAME, Vault, VaultOptions};
use rusqlite::Connection;
use secrecy::SecretString;

fn options(auto_provision: bool) -> VaultOptions {
    VaultOptions {
        bcrypt_cost: 4,
        auto_provision,
        server_key: None,
        ..VaultOptions::default()
    }
}

fn open(dir: &Path) -> Vault {
    Vault::open(dir, options(false)).unwrap()
}

fn raw(dir: &Path) -> Connection {
    let c = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// The API origin the tests' stores are saved for.
const ORIGIN: &str = "https://app.orderdesk.me";

const API_KEY_A: &str = "ApiKeyAlpha0123456789abcdefXYZ";
const API_KEY_B: &str = "ApiKeyBravo9876543210zyxwvuABC";

/// A new tenant of `vault`, signed in, with store `1001` (API key A, saved for
/// [`ORIGIN`]): the starting point of most store and key tests.
fn tenant_with_store(
    vault: &Vault,
) -> (
    orderdesk_vault::TenantId,
    orderdesk_vault::MasterKey,
    orderdesk_vault::TenantSession,
    orderdesk_vault::StoreRecord,
) {
    let (id, key) = vault.create_tenant().unwrap();
    let session = vault.authenticate(key.as_secret()).unwrap();
    let store = vault
        .add_store(&session, "1001", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();
    (id, key, session, store)
}
