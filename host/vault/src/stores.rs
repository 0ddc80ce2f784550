//! A tenant's stores: registering one (its API key encrypted under the tenant key),
//! listing, resolving by id or name, deleting, and decrypting the key for a request.
//!
//! Also the limits on what a caller may register: store ids, names and labels end up
//! in HTTP headers, tool results and logs, and API keys in a header. Validation
//! messages name the field and the rule, never a key's value. Encryption goes through
//! `crypto` with associated data binding each ciphertext to its tenant and store id;
//! this module never handles a key in the clear except to hand it to the caller of
//! [`Vault::store_api_key`].

use rusqlite::{Connection, TransactionBehavior};
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, KEY_VERSION};
use crate::{MatchKind, StoreRecord, TenantId, TenantSession, Vault, VaultError, db};

const MAX_STORE_ID_LEN: usize = 64;
const MAX_NAME_LEN: usize = 100;
const MAX_LABEL_LEN: usize = 200;
const MAX_API_KEY_LEN: usize = 256;

impl Vault {
    /// Register a store for the session's tenant, its API key encrypted under the
    /// tenant key. `name` defaults to the store id. A store id or name already used by
    /// this tenant (names compare case-insensitively; a name may not be another store's
    /// id, nor a store id another store's name, so that resolving stays unambiguous)
    /// gives `Conflict` naming which.
    pub fn add_store(
        &self,
        t: &TenantSession,
        store_id: &str,
        api_key: &SecretString,
        name: Option<&str>,
        label: Option<&str>,
    ) -> Result<StoreRecord, VaultError> {
        let store_id = validate_store_id(store_id)?;
        let name = match name.map(str::trim) {
            Some(n) if !n.is_empty() => validate_text("store name", n, MAX_NAME_LEN)?,
            _ => store_id,
        };
        let label = match label.map(str::trim) {
            Some(l) if !l.is_empty() => Some(validate_text("label", l, MAX_LABEL_LEN)?),
            _ => None,
        };
        let api_key = validate_api_key(api_key.expose_secret())?;
        let tenant = &t.tenant_id;
        let blob = crypto::encrypt(
            t.key.expose_secret(),
            &crypto::store_aad(&tenant.0, store_id),
            api_key.as_bytes(),
        )?;

        let mut conn = self.conn();
        // IMMEDIATE: take the write lock up front, so the checks below still hold when
        // the row is inserted, even against another process.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if db::store_by_id(&tx, tenant, store_id)?.is_some() {
            return Err(VaultError::Conflict(format!(
                "store id '{store_id}' is already registered for this tenant"
            )));
        }
        if let Some(other) = db::store_by_name(&tx, tenant, store_id)? {
            return Err(VaultError::Conflict(format!(
                "store id '{store_id}' is already the name of store {}",
                other.store_id
            )));
        }
        if let Some(other) = db::store_by_name(&tx, tenant, name)? {
            return Err(VaultError::Conflict(format!(
                "store name '{name}' is already used by store {}",
                other.store_id
            )));
        }
        if name != store_id && db::store_by_id(&tx, tenant, name)?.is_some() {
            return Err(VaultError::Conflict(format!(
                "store name '{name}' is the store id of another store; choose another name"
            )));
        }
        let record = db::insert_store(
            &tx,
            &db::NewStore {
                tenant,
                store_id,
                name,
                label,
                api_key_blob: &blob,
                key_version: KEY_VERSION,
            },
        )?;
        tx.commit()?;
        Ok(record)
    }

    /// The tenant's stores, ordered by name (case-insensitively).
    pub fn list_stores(&self, tenant: &TenantId) -> Result<Vec<StoreRecord>, VaultError> {
        db::list_stores(&self.conn(), tenant)
    }

    /// Find one of the tenant's stores by OrderDesk store id, else by name
    /// (case-insensitively).
    pub fn resolve_store(
        &self,
        tenant: &TenantId,
        identifier: &str,
    ) -> Result<(StoreRecord, MatchKind), VaultError> {
        resolve(&self.conn(), tenant, identifier)
    }

    /// Delete one of the tenant's stores (found as by `resolve_store`) and its encrypted
    /// key; returns what was deleted.
    pub fn delete_store(
        &self,
        tenant: &TenantId,
        identifier: &str,
    ) -> Result<StoreRecord, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (record, _) = resolve(&tx, tenant, identifier)?;
        db::delete_store(&tx, tenant, &record.store_id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Decrypt a store's API key with the session's tenant key. The ciphertext is bound
    /// to `store`'s tenant and store id: a session of another tenant, a ciphertext moved
    /// from another row or any altered byte gives `VaultError::Decrypt`.
    pub fn store_api_key(
        &self,
        t: &TenantSession,
        store: &StoreRecord,
    ) -> Result<SecretString, VaultError> {
        let blob = db::store_api_key_blob(&self.conn(), &store.tenant_id, &store.store_id)?
            .ok_or_else(|| store_not_found(&store.store_id))?;
        crypto::decrypt_string(
            t.key.expose_secret(),
            &crypto::store_aad(&store.tenant_id.0, &store.store_id),
            &blob,
        )
    }
}

fn store_not_found(identifier: &str) -> VaultError {
    VaultError::NotFound(format!(
        "no store with id or name '{identifier}' is registered for this tenant"
    ))
}

fn resolve(
    conn: &Connection,
    tenant: &TenantId,
    identifier: &str,
) -> Result<(StoreRecord, MatchKind), VaultError> {
    let identifier = identifier.trim();
    if identifier.is_empty() {
        return Err(VaultError::InvalidInput(
            "give a store id or store name".into(),
        ));
    }
    if identifier.chars().count() > MAX_NAME_LEN.max(MAX_STORE_ID_LEN) {
        // Too long to be either; and not echoed, in case it is a pasted secret.
        return Err(VaultError::NotFound(
            "no store has that id or name (it is longer than any store id or name)".into(),
        ));
    }
    if let Some(s) = db::store_by_id(conn, tenant, identifier)? {
        return Ok((s, MatchKind::StoreId));
    }
    if let Some(s) = db::store_by_name(conn, tenant, identifier)? {
        return Ok((s, MatchKind::Name));
    }
    Err(store_not_found(identifier))
}

/// OrderDesk store ids are numeric; letters, '-', '_' and '.' are tolerated, but nothing
/// that could break the HTTP header the id is sent in.
fn validate_store_id(store_id: &str) -> Result<&str, VaultError> {
    let s = store_id.trim();
    let ok = !s.is_empty()
        && s.len() <= MAX_STORE_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(s)
    } else {
        Err(VaultError::InvalidInput(format!(
            "the store id must be 1 to {MAX_STORE_ID_LEN} letters, digits, '-', '_' or '.' \
             (OrderDesk store ids are numbers)"
        )))
    }
}

fn validate_text<'a>(what: &str, s: &'a str, max: usize) -> Result<&'a str, VaultError> {
    if s.chars().count() > max {
        return Err(VaultError::InvalidInput(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(VaultError::InvalidInput(format!(
            "the {what} contains control characters"
        )));
    }
    Ok(s)
}

/// API keys travel in an HTTP header: printable ASCII without spaces. The message never
/// includes the key.
fn validate_api_key(key: &str) -> Result<&str, VaultError> {
    let k = key.trim();
    if k.is_empty() || k.len() > MAX_API_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(VaultError::InvalidInput(format!(
            "the API key must be 1 to {MAX_API_KEY_LEN} printable ASCII characters without \
             spaces"
        )));
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_hold_no_secret() {
        let key = "sk live with spaces";
        let err = validate_api_key(key).unwrap_err().to_string();
        assert!(!err.contains("live"));
        assert!(validate_api_key("  abcDEF123-_.  ").is_ok());
        assert!(validate_api_key("").is_err());
        assert!(validate_api_key(&"a".repeat(257)).is_err());
        assert!(validate_store_id(" 12345 ").is_ok());
        for bad in ["", "12 34", "12\r\nX-Evil: 1", "ü", &"1".repeat(65)] {
            assert!(validate_store_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_text("store name", "Main\nstore", 100).is_err());
    }
}
