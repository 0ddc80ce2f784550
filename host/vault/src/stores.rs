//! A tenant's stores: registering one (its API key encrypted under the tenant key and
//! the server's layer key, for one OrderDesk API origin), listing, resolving by id or
//! name, deleting, replacing a store's key, and decrypting the key for a request to its
//! origin.
//!
//! Also the limits on what a caller may register: store ids, names and labels end up
//! in HTTP headers, tool results and logs, and API keys in a header. Validation
//! messages name the field and the rule, never a key's value. Encryption goes through
//! `crypto` with associated data binding each ciphertext to its tenant, store id and
//! API origin; this module never handles a key in the clear except to hand it to the
//! caller of [`Vault::store_api_key`], and to derive the store's webhook key state
//! from it (see `webhooks`: what lets the vault verify OrderDesk's pushes) where it has
//! it in the clear anyway: when the key is saved, and when a session reads a key saved
//! before those states existed.
//!
//! # Origins
//!
//! A key is saved for the API origin the host sends OrderDesk requests to
//! (`https://app.orderdesk.me` unless the operator set another API base), and
//! [`Vault::store_api_key`] refuses to hand it out for a request to any other origin
//! ([`VaultError::OriginMismatch`], naming both). A key saved before origins were
//! recorded has none: it is accepted once from the origin of its first use, then bound
//! to it (re-encrypted with that origin in its associated data). Saving the key again
//! with [`Vault::update_store_key`] is how a store moves to another origin.

use rusqlite::{Connection, TransactionBehavior};
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, KEY_VERSION};
use crate::webhooks;
use crate::{MatchKind, StoreRecord, TenantId, TenantSession, Vault, VaultError, db};

const MAX_STORE_ID_LEN: usize = 64;
const MAX_NAME_LEN: usize = 100;
pub(crate) const MAX_LABEL_LEN: usize = 200;
const MAX_API_KEY_LEN: usize = 256;
const MAX_ORIGIN_LEN: usize = 255;

impl Vault {
    /// Register a store for the session's tenant, its API key encrypted for
    /// `api_origin` (the origin of the OrderDesk API base requests go to, e.g.
    /// `https://app.orderdesk.me`). `name` defaults to the store id. A store id or name
    /// already used by this tenant (names compare case-insensitively; a name may not be
    /// another store's id, nor a store id another store's name, so that resolving stays
    /// unambiguous) gives `Conflict` naming which. The store's webhook key state is saved
    /// with it, so its pushes verify from now on.
    pub fn add_store(
        &self,
        t: &TenantSession,
        store_id: &str,
        api_key: &SecretString,
        name: Option<&str>,
        label: Option<&str>,
        api_origin: &str,
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
        let origin = validate_origin(api_origin)?;
        let tenant = &t.tenant_id;
        let keys = self.keys();
        // The connection is not held while the session key is checked (that may sign in
        // again, which reads the database).
        let row = db::tenant_by_id(&self.conn(), &tenant.0)?;
        let key = self.session_key(t, row.as_ref())?;
        let generation = Vault::session_generation(t);
        let blob = crypto::seal_store_key(
            key.expose_secret(),
            keys.layer(),
            &crypto::store_aad_v2(&tenant.0, store_id, Some(origin)),
            api_key.as_bytes(),
        )?;
        let webhook_state = webhooks::seal_state(&keys, &tenant.0, store_id, api_key)?;

        let mut conn = self.conn();
        // IMMEDIATE: take the write lock up front, so the checks below still hold when
        // the row is inserted, even against another process.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.check_server_key(&tx, &keys)?;
        self.check_generation(&tx, t, generation)?;
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
                api_origin: origin,
            },
        )?;
        db::set_webhook_state(&tx, &tenant.0, store_id, &webhook_state)?;
        tx.commit()?;
        Ok(record)
    }

    /// Replace the API key of one of the tenant's stores (found as by `resolve_store`)
    /// with `api_key`, saved for `api_origin` (which may differ from the old key's: this
    /// is how a store moves to another API origin). The caller checks the new key with
    /// OrderDesk first (the host's `stores update-key` and `stores_update_key` do); the
    /// old key is kept until the new one is saved, and the webhook key state is replaced
    /// with it (pushes signed with the old key no longer verify). Returns the store.
    pub fn update_store_key(
        &self,
        t: &TenantSession,
        identifier: &str,
        api_key: &SecretString,
        api_origin: &str,
    ) -> Result<StoreRecord, VaultError> {
        let api_key = validate_api_key(api_key.expose_secret())?;
        let origin = validate_origin(api_origin)?;
        let tenant = &t.tenant_id;
        let keys = self.keys();
        // The connection is not held while the session key is checked (that may sign in
        // again, which reads the database).
        let row = db::tenant_by_id(&self.conn(), &tenant.0)?;
        let key = self.session_key(t, row.as_ref())?;
        let generation = Vault::session_generation(t);
        let (record, _) = resolve(&self.conn(), tenant, identifier)?;
        let blob = crypto::seal_store_key(
            key.expose_secret(),
            keys.layer(),
            &crypto::store_aad_v2(&tenant.0, &record.store_id, Some(origin)),
            api_key.as_bytes(),
        )?;
        let webhook_state = webhooks::seal_state(&keys, &tenant.0, &record.store_id, api_key)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.check_server_key(&tx, &keys)?;
        self.check_generation(&tx, t, generation)?;
        let updated = db::set_store_key(
            &tx,
            &tenant.0,
            &record.store_id,
            &blob,
            Some(origin),
            KEY_VERSION,
        )?;
        if updated == 0 {
            return Err(store_not_found(&record.store_id));
        }
        db::set_webhook_state(&tx, &tenant.0, &record.store_id, &webhook_state)?;
        tx.commit()?;
        // The old ciphertext goes from the write-ahead log too.
        db::checkpoint(&conn);
        Ok(StoreRecord {
            api_origin: Some(origin.to_string()),
            ..record
        })
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

    /// Delete one of the tenant's stores (found as by `resolve_store`) with its encrypted
    /// key and its webhook key state (the foreign key cascades: its pushes are refused
    /// from now on); returns what was deleted.
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
        db::checkpoint(&conn);
        Ok(record)
    }

    /// Decrypt a store's API key with the session's tenant key, for one request to
    /// `api_origin` (the origin of the API base the request goes to). The ciphertext is
    /// bound to `store`'s tenant, store id and the origin it was saved for: a request to
    /// another origin gives [`VaultError::OriginMismatch`] naming both, before anything
    /// is decrypted; a session of another tenant, a ciphertext moved from another row or
    /// any altered byte gives `VaultError::Decrypt`. A key saved before origins were
    /// recorded is bound to `api_origin` now, and a key saved before webhook key states
    /// existed gets its state now.
    pub fn store_api_key(
        &self,
        t: &TenantSession,
        store: &StoreRecord,
        api_origin: &str,
    ) -> Result<SecretString, VaultError> {
        let origin = validate_origin(api_origin)?;
        // Twice at most: again when another process bound or replaced an unbound key
        // between our read and our write.
        for _ in 0..2 {
            let keys = self.keys();
            let (row, tenant, has_webhook_state) = {
                let conn = self.conn();
                (
                    db::store_key(&conn, &store.tenant_id, &store.store_id)?,
                    db::tenant_by_id(&conn, &t.tenant_id.0)?,
                    db::has_webhook_state(&conn, &store.tenant_id.0, &store.store_id)?,
                )
            };
            let row = row.ok_or_else(|| store_not_found(&store.store_id))?;
            if let Some(registered) = &row.api_origin
                && registered != origin
            {
                return Err(VaultError::OriginMismatch {
                    store_id: row.store_id,
                    registered: registered.clone(),
                    requested: origin.to_string(),
                });
            }
            let key = self.session_key(t, tenant.as_ref())?;
            if row.key_version != KEY_VERSION || row.api_key.is_empty() {
                return Err(VaultError::Decrypt);
            }
            let aad =
                crypto::store_aad_v2(&row.tenant_id, &row.store_id, row.api_origin.as_deref());
            let api_key =
                match crypto::open_store_key(key.expose_secret(), keys.layer(), &aad, &row.api_key)
                {
                    Ok(api_key) => api_key,
                    Err(VaultError::Decrypt) => {
                        // Say so when the cause is a server key changed under us.
                        self.check_server_key(&self.conn(), &keys)?;
                        return Err(VaultError::Decrypt);
                    }
                    Err(e) => return Err(e),
                };
            if !has_webhook_state {
                // Saved before pushes were verified: now its pushes can be.
                self.add_missing_webhook_state(&keys, &row, &api_key)?;
            }
            if row.api_origin.is_some() {
                return Ok(api_key);
            }
            // Saved before origins were recorded: bound to this origin from now on.
            let blob = crypto::reseal_tenant(
                (key.expose_secret(), keys.layer()),
                key.expose_secret(),
                (
                    &aad,
                    &crypto::store_aad_v2(&row.tenant_id, &row.store_id, Some(origin)),
                ),
                &row.api_key,
            )?;
            let conn = self.conn();
            self.check_server_key(&conn, &keys)?;
            if db::bind_store_origin(
                &conn,
                &row.tenant_id,
                &row.store_id,
                &row.api_key,
                &blob,
                origin,
            )? {
                return Ok(api_key);
            }
        }
        Err(VaultError::Conflict(format!(
            "store {}'s key changed while it was being read; try again",
            store.store_id
        )))
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
pub(crate) fn validate_store_id(store_id: &str) -> Result<&str, VaultError> {
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

pub(crate) fn validate_text<'a>(what: &str, s: &'a str, max: usize) -> Result<&'a str, VaultError> {
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

/// An API origin as the host computes it from its API base: `scheme://host[:port]`,
/// printable ASCII.
fn validate_origin(origin: &str) -> Result<&str, VaultError> {
    let o = origin.trim();
    let ok = !o.is_empty()
        && o.len() <= MAX_ORIGIN_LEN
        && o.contains("://")
        && o.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(o)
    } else {
        Err(VaultError::InvalidInput(format!(
            "the API origin must be scheme://host[:port] in at most {MAX_ORIGIN_LEN} \
             printable characters (e.g. https://app.orderdesk.me)"
        )))
    }
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
