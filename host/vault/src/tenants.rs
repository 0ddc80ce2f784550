//! Tenants: creating one, authenticating with its master key, keeping a session's data
//! key valid across rotations, and the key lifecycle — rotating a master key (the old one
//! keeps working for a grace period), revoking and deleting a tenant.
//!
//! Owns the authentication path — limiter, one indexed lookup by the key's HMAC (then
//! the scheme-1 lookup and the retired keys, each one more index read), one bcrypt
//! verify (also for unknown keys, against a dummy hash, so that the time does not say
//! whether a key exists) — and auto-provisioning. The key material itself is handled in
//! `crypto`; this module only decides what to do with it, and never lets a master key,
//! hash or derived key out except inside a [`TenantSession`].
//!
//! # Rotation and the grace period
//!
//! A tenant's data key is derived from its current master key. Rotating re-encrypts its
//! store keys under the new key's data key in one transaction, and keeps the old key as
//! a *retired* key with a copy of the new data key encrypted under the old key's: the
//! old key still signs in (to the new data key) until `expires_at`, then stops, and its
//! row is deleted when the vault next opens. A rotation ends the grace period of any key
//! retired earlier (its copy could not be re-encrypted without that key). Every
//! rotation or revocation bumps the tenant's `key_generation`; a session whose data key
//! is of an older generation signs in again with the master key it was opened with, so a
//! running server follows a rotation made by the command line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::TransactionBehavior;
use secrecy::{ExposeSecret, SecretString};

use crate::clock::{format_unix, unix_now};
use crate::crypto::{
    self, KEY_VERSION, LEGACY_KEY_VERSION, MasterKey, MasterKeyMaterial, TenantKey,
};
use crate::types::SessionState;
use crate::{
    AuditSource, MasterKeyRotation, TenantId, TenantRecord, TenantRemoval, TenantSession, Vault,
    VaultError, audit, db, limiter,
};

/// Failed authentications allowed per minute before attempts are refused unchecked.
pub const MAX_FAILED_AUTH_PER_MINUTE: usize = limiter::MAX_FAILURES;

/// How long a master key replaced by a rotation keeps working unless the operator says
/// otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The limiter source used by [`Vault::authenticate`].
const DEFAULT_SOURCE: &str = "";

/// What a lookup found.
enum Found {
    Tenant(db::TenantRow),
    Retired(db::RetiredRow),
    Nothing,
}

impl Vault {
    /// Create a tenant with a new random master key. The key is returned once and
    /// stored only as a bcrypt hash and an HMAC lookup value.
    pub fn create_tenant(&self) -> Result<(TenantId, MasterKey), VaultError> {
        let material = Arc::new(MasterKeyMaterial::generate()?);
        let (id, _) = self.insert_tenant(&material)?;
        Ok((id, material.to_master_key()))
    }

    /// Authenticate with a master key; see [`Vault::authenticate_from`]. All callers of
    /// this method share one failure limiter.
    pub fn authenticate(&self, master_key: &SecretString) -> Result<TenantSession, VaultError> {
        self.authenticate_from(DEFAULT_SOURCE, master_key)
    }

    /// Authenticate with a master key, counting failures against `source` (e.g. a client
    /// address or session id; `authenticate` uses one shared source).
    ///
    /// One indexed read finds the tenant by the key's HMAC, then one bcrypt verify proves
    /// the key. An unknown key spends one bcrypt verify too, so the time does not say
    /// whether the key exists. After [`MAX_FAILED_AUTH_PER_MINUTE`] failures within a
    /// minute from a source, attempts are refused with `TooManyAttempts` unchecked.
    /// With `auto_provision`, an unknown well-formed key creates its tenant. A key
    /// retired by a rotation works until its grace period ends
    /// ([`TenantSession::key_expires_at`] says when); a tenant still on key scheme 1 is
    /// moved to scheme 2 (its store keys re-encrypted) on the way.
    pub fn authenticate_from(
        &self,
        source: &str,
        master_key: &SecretString,
    ) -> Result<TenantSession, VaultError> {
        self.limited(source, || {
            MasterKeyMaterial::parse(master_key.expose_secret())
                .and_then(|material| self.sign_in(&Arc::new(material)))
                .map(|(id, state)| TenantSession::new(id, state))
        })
    }

    /// How many tenants exist.
    pub fn tenant_count(&self) -> Result<u64, VaultError> {
        db::tenant_count(&self.conn())
    }

    /// Every tenant (revoked ones too), oldest first, without key material.
    pub fn list_tenants(&self) -> Result<Vec<TenantRecord>, VaultError> {
        db::list_tenants(&self.conn())
    }

    /// Find the tenant of a master key and prove the key: the tenant's id and a fresh
    /// session state.
    fn sign_in(
        &self,
        material: &Arc<MasterKeyMaterial>,
    ) -> Result<(TenantId, SessionState), VaultError> {
        let keys = self.keys();
        let lookup = keys.lookup_value(material);
        let legacy_lookup = keys.legacy_lookup_value(material);
        // A second and third round only when the tenant changed between our reads and
        // our write: a concurrent first use provisioned it, or another process moved it
        // to scheme 2 first.
        for _ in 0..3 {
            let found = {
                let conn = self.conn();
                if let Some(row) = db::tenant_by_lookup(&conn, &lookup)? {
                    Found::Tenant(row)
                } else if let Some(row) = db::tenant_by_lookup(&conn, &legacy_lookup)?
                    .filter(|row| row.key_version == LEGACY_KEY_VERSION)
                {
                    Found::Tenant(row)
                } else if let Some(row) = db::retired_by_lookup(&conn, &lookup)? {
                    Found::Retired(row)
                } else {
                    Found::Nothing
                }
            };
            match found {
                Found::Tenant(row) => {
                    if let Some(at) = &row.revoked_at {
                        // Same work as for a live key; the key itself was once valid, so
                        // its holder may learn what happened.
                        let _ = crypto::bcrypt_verify(material, self.dummy_hash()?);
                        return Err(revoked(at));
                    }
                    if !crypto::bcrypt_verify(material, &row.key_hash) {
                        return Err(unknown_key());
                    }
                    if row.key_version == LEGACY_KEY_VERSION {
                        match self.upgrade_legacy(material, &row, &lookup)? {
                            Some(state) => return Ok((TenantId(row.id), state)),
                            None => continue,
                        }
                    }
                    let state = current_key_state(material, &row)?;
                    return Ok((TenantId(row.id), state));
                }
                Found::Retired(row) => {
                    if !crypto::bcrypt_verify(material, &row.key_hash) {
                        return Err(unknown_key());
                    }
                    return match retired_key_state(material, &row, &lookup)? {
                        Some(state) => Ok((TenantId(row.tenant_id), state)),
                        None => Err(VaultError::Unauthenticated(format!(
                            "this master key was replaced on {} (`orderdesk-mcp tenant \
                             rotate-key`) and its grace period ended at {}; use the tenant's \
                             new master key",
                            row.retired_at,
                            format_unix(row.expires_at)
                        ))),
                    };
                }
                Found::Nothing if self.auto_provision => match self.insert_tenant(material) {
                    Err(VaultError::Conflict(_)) => continue,
                    other => return other,
                },
                Found::Nothing => {
                    // Same work as for a known key; the outcome is ignored.
                    let _ = crypto::bcrypt_verify(material, self.dummy_hash()?);
                    return Err(unknown_key());
                }
            }
        }
        Err(unknown_key())
    }

    /// Open `tenant`'s session state with a master key proven otherwise than by bcrypt
    /// (an access token's copy of it, whose AEAD tag proves it is the key wrapped when the
    /// token was made): the same lookup as [`Vault::authenticate`] and the same state
    /// after its bcrypt verify. The key must still be `tenant`'s current master key or a
    /// retired one in its grace period.
    pub(crate) fn sign_in_proven(
        &self,
        material: &Arc<MasterKeyMaterial>,
        tenant: &TenantId,
    ) -> Result<SessionState, VaultError> {
        let lookup = self.keys().lookup_value(material);
        let (current, retired) = {
            let conn = self.conn();
            (
                db::tenant_by_lookup(&conn, &lookup)?,
                db::retired_by_lookup(&conn, &lookup)?,
            )
        };
        if let Some(row) = current.filter(|row| row.id == tenant.0) {
            if let Some(at) = &row.revoked_at {
                return Err(revoked(at));
            }
            // A key that made a token has signed in, which moved its tenant to scheme 2.
            if row.key_version == KEY_VERSION {
                return current_key_state(material, &row);
            }
        } else if let Some(row) = retired.filter(|row| row.tenant_id == tenant.0)
            && let Some(state) = retired_key_state(material, &row, &lookup)?
        {
            return Ok(state);
        }
        Err(VaultError::Unauthenticated(
            "the master key this access token was made with has been replaced \
             (`orderdesk-mcp tenant rotate-key`) and its grace period is over, so the token \
             no longer works: make a new one with the tenant's current master key \
             (`orderdesk-mcp token create`)"
                .into(),
        ))
    }

    /// Move a tenant of scheme 1 to scheme 2: its lookup value under the lookup key, its
    /// data key from the master key alone, each store key re-encrypted in two layers.
    /// `None` when the tenant changed meanwhile (look it up again). A store key that does
    /// not decrypt (altered data) is left as it is and fails when used: replacing it with
    /// `stores update-key` fixes it.
    fn upgrade_legacy(
        &self,
        material: &Arc<MasterKeyMaterial>,
        row: &db::TenantRow,
        lookup: &[u8],
    ) -> Result<Option<SessionState>, VaultError> {
        let keys = self.keys();
        let old_key = crypto::derive_tenant_key(material, keys.server.bytes(), &row.kdf_salt)?;
        let new_key = crypto::derive_tenant_key_v2(material, &row.kdf_salt)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match db::tenant_by_id(&tx, &row.id)? {
            Some(now) if now.key_version == LEGACY_KEY_VERSION && now.lookup == row.lookup => {}
            _ => return Ok(None),
        }
        for store in db::store_keys(&tx, Some(&row.id))? {
            if store.key_version != LEGACY_KEY_VERSION || store.api_key.is_empty() {
                continue;
            }
            let Ok(plain) = crypto::decrypt(
                old_key.expose_secret(),
                &crypto::store_aad(&row.id, &store.store_id),
                &store.api_key,
            ) else {
                continue;
            };
            let origin = store.api_origin.as_deref();
            let blob = crypto::seal_store_key(
                new_key.expose_secret(),
                keys.layer(),
                &crypto::store_aad_v2(&row.id, &store.store_id, origin),
                &plain,
            )?;
            db::set_store_key(&tx, &row.id, &store.store_id, &blob, origin, KEY_VERSION)?;
        }
        db::update_tenant_key(
            &tx,
            &db::TenantKeyUpdate {
                id: &row.id,
                lookup,
                key_hash: &row.key_hash,
                kdf_salt: &row.kdf_salt,
                key_version: KEY_VERSION,
                key_generation: row.key_generation,
            },
        )?;
        tx.commit()?;
        db::checkpoint(&conn);
        Ok(Some(SessionState {
            master: material.clone(),
            key: new_key,
            generation: row.key_generation,
            expires_at: None,
            dead: None,
        }))
    }

    /// The session's data key, checked against its tenant's row (`tenant`, read by the
    /// caller without holding the connection): signed in again with the session's master
    /// key when a rotation (here or in another process) made it stale or its retired
    /// key's grace period ended; refused when the tenant was revoked or deleted, or the
    /// master key no longer works.
    pub(crate) fn session_key(
        &self,
        t: &TenantSession,
        tenant: Option<&db::TenantRow>,
    ) -> Result<TenantKey, VaultError> {
        let Some(tenant) = tenant else {
            return Err(VaultError::NotFound(format!(
                "tenant {} no longer exists; authenticate again",
                t.tenant_id
            )));
        };
        if let Some(at) = &tenant.revoked_at {
            return Err(revoked(at));
        }
        if let Some(grant) = &t.token {
            self.check_token_standing(grant)?;
        }
        let (master, retired) = {
            let state = t.lock();
            if let Some(why) = &state.dead {
                return Err(VaultError::Unauthenticated(why.clone()));
            }
            let current = state.generation == tenant.key_generation;
            if current && state.expires_at.is_none() {
                return Ok(state.key.clone());
            }
            (state.master.clone(), current && state.expires_at.is_some())
        };
        if retired {
            // Signed in with a retired key: its row says whether it still works (one
            // index read; the grace period may have been ended since).
            let lookup = self.keys().lookup_value(&master);
            let row = db::retired_by_lookup(&self.conn(), &lookup)?;
            if let Some(row) = row
                && row.key_generation == tenant.key_generation
                && unix_now() < row.expires_at
            {
                let mut state = t.lock();
                state.expires_at = Some(row.expires_at);
                return Ok(state.key.clone());
            }
        }
        // A token's session proved its master key with the token's copy of it: no bcrypt.
        let signed_in = match &t.token {
            Some(_) => self
                .sign_in_proven(&master, &t.tenant_id)
                .map(|state| (t.tenant_id.clone(), state)),
            None => self.sign_in(&master),
        };
        match signed_in {
            Ok((id, state)) if id == t.tenant_id => {
                let key = state.key.clone();
                *t.lock() = state;
                Ok(key)
            }
            Ok(_) => Err(VaultError::Unauthenticated(
                "this session's master key now belongs to another tenant; sign in again".into(),
            )),
            Err(VaultError::Unauthenticated(m)) => {
                let why = match &t.token {
                    Some(_) => format!("this session's access token no longer works ({m})"),
                    None => format!(
                        "this session's master key no longer works ({m}); sign in with the \
                         tenant's current master key"
                    ),
                };
                t.lock().dead = Some(why.clone());
                Err(VaultError::Unauthenticated(why))
            }
            Err(e) => Err(e),
        }
    }

    /// The generation of the data key `session_key` just checked.
    pub(crate) fn session_generation(t: &TenantSession) -> i64 {
        t.lock().generation
    }

    /// Refuse a write whose data key (of `generation`) went stale while it was being
    /// prepared; checked inside the write's transaction.
    pub(crate) fn check_generation(
        &self,
        conn: &rusqlite::Connection,
        t: &TenantSession,
        generation: i64,
    ) -> Result<(), VaultError> {
        match db::tenant_by_id(conn, &t.tenant_id.0)? {
            None => Err(VaultError::NotFound(format!(
                "tenant {} no longer exists; authenticate again",
                t.tenant_id
            ))),
            Some(row) if row.revoked_at.is_some() => {
                Err(revoked(row.revoked_at.as_deref().unwrap_or_default()))
            }
            Some(row) if row.key_generation != generation => Err(VaultError::Conflict(
                "the tenant's master key was rotated while this change was being made; \
                 nothing was changed: try again"
                    .into(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Replace the tenant's master key with a new one, returned once. The session must
    /// have signed in with the current key (not a retired one). Every store key of the
    /// tenant is re-encrypted under the new key in one transaction, with the audit row
    /// saying so (from `source`). The old key keeps working for `grace` (zero: it stops
    /// at once), then stops; a key retired by an earlier rotation stops now. The session
    /// goes on with the new key.
    pub fn rotate_master_key(
        &self,
        t: &TenantSession,
        grace: Duration,
        source: AuditSource,
    ) -> Result<MasterKeyRotation, VaultError> {
        let started = Instant::now();
        if t.token.is_some() {
            return Err(VaultError::Unauthenticated(
                "a session opened with an access token cannot rotate the master key: rotate \
                 it with the current master key (`orderdesk-mcp tenant rotate-key`)"
                    .into(),
            ));
        }
        let id = t.tenant_id.0.clone();
        let tenant = db::tenant_by_id(&self.conn(), &id)?;
        let current = self.session_key(t, tenant.as_ref())?;
        let (old_master, generation, retired) = {
            let state = t.lock();
            (
                state.master.clone(),
                state.generation,
                state.expires_at.is_some(),
            )
        };
        if retired {
            return Err(VaultError::Unauthenticated(
                "this session signed in with a retired master key: rotate with the tenant's \
                 current master key"
                    .into(),
            ));
        }
        let keys = self.keys();
        let old_lookup = keys.lookup_value(&old_master);
        let new_master = Arc::new(MasterKeyMaterial::generate()?);
        let new_lookup = keys.lookup_value(&new_master);
        let salt = crypto::random_salt()?;
        // The slow hash is computed before taking the database lock.
        let hash = crypto::bcrypt_hash(&new_master, self.bcrypt_cost)?;
        let new_key = crypto::derive_tenant_key_v2(&new_master, &salt)?;
        let next_generation = generation + 1;
        let grace_secs = i64::try_from(grace.as_secs()).unwrap_or(i64::MAX / 4);
        let expires_at = (grace_secs > 0).then(|| unix_now().saturating_add(grace_secs));
        let copy = crypto::encrypt(
            current.expose_secret(),
            &crypto::retired_key_aad(&id, &old_lookup, next_generation),
            new_key.expose_secret(),
        )?;

        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.check_server_key(&tx, &keys)?;
        let row = db::tenant_by_id(&tx, &id)?.ok_or_else(|| tenant_not_found(&id))?;
        if row.lookup != old_lookup || row.key_generation != generation || row.revoked_at.is_some()
        {
            return Err(VaultError::Conflict(
                "the tenant's master key was rotated or revoked meanwhile; nothing was changed"
                    .into(),
            ));
        }
        let ended: Vec<String> = db::delete_retired_of(&tx, &id)?
            .iter()
            .map(|lookup| crypto::key_id(lookup))
            .collect();
        if let Some(expires_at) = expires_at {
            db::insert_retired(
                &tx,
                &db::NewRetiredKey {
                    tenant_id: &id,
                    lookup: &old_lookup,
                    key_hash: &row.key_hash,
                    kdf_salt: &row.kdf_salt,
                    data_key: &copy,
                    key_generation: next_generation,
                    expires_at,
                },
            )?;
        }
        let mut reencrypted = 0;
        let mut unreadable = Vec::new();
        for store in db::store_keys(&tx, Some(&id))? {
            if store.api_key.is_empty() {
                continue;
            }
            if store.key_version != KEY_VERSION {
                unreadable.push(store.store_id);
                continue;
            }
            let aad = crypto::store_aad_v2(&id, &store.store_id, store.api_origin.as_deref());
            match crypto::reseal_tenant(
                (current.expose_secret(), keys.layer()),
                new_key.expose_secret(),
                (&aad, &aad),
                &store.api_key,
            ) {
                Ok(blob) => {
                    db::set_store_key(
                        &tx,
                        &id,
                        &store.store_id,
                        &blob,
                        store.api_origin.as_deref(),
                        KEY_VERSION,
                    )?;
                    reencrypted += 1;
                }
                Err(VaultError::Decrypt) => unreadable.push(store.store_id),
                Err(e) => return Err(e),
            }
        }
        db::update_tenant_key(
            &tx,
            &db::TenantKeyUpdate {
                id: &id,
                lookup: &new_lookup,
                key_hash: &hash,
                kdf_salt: &salt,
                key_version: KEY_VERSION,
                key_generation: next_generation,
            },
        )?;
        let old_key_id = crypto::key_id(&old_lookup);
        let new_key_id = crypto::key_id(&new_lookup);
        let old_key_expires_at = expires_at.map(format_unix);
        audit::record_change(
            &tx,
            source,
            Some(&id),
            "tenant rotate-key",
            &audit::json_object(&[
                ("old_key_id", audit::Json::Str(&old_key_id)),
                ("new_key_id", audit::Json::Str(&new_key_id)),
                ("grace_seconds", audit::Json::Int(grace_secs)),
                (
                    "old_key_expires_at",
                    audit::Json::Str(old_key_expires_at.as_deref().unwrap_or("now")),
                ),
                ("stores_reencrypted", audit::Json::Int(reencrypted as i64)),
                ("stores_unreadable", audit::Json::List(&unreadable)),
                ("ended_grace_of", audit::Json::List(&ended)),
            ]),
            started,
        )?;
        tx.commit()?;
        db::checkpoint(&conn);
        drop(conn);
        *t.lock() = SessionState {
            master: new_master.clone(),
            key: new_key,
            generation: next_generation,
            expires_at: None,
            dead: None,
        };
        Ok(MasterKeyRotation {
            master_key: new_master.to_master_key(),
            old_key_id,
            new_key_id,
            old_key_expires_at,
            stores_reencrypted: reencrypted,
            stores_unreadable: unreadable,
        })
    }

    /// Revoke a tenant: its master keys (current and retired) stop working at once, in
    /// this process's sessions and every other's, and its stores' encrypted API keys
    /// are erased; the tenant row (marked revoked), its stores' ids and names and the
    /// audit log stay. Cannot be undone: the tenant needs a new tenant. Revoking a
    /// revoked tenant changes nothing and says since when.
    pub fn revoke_tenant(
        &self,
        tenant: &TenantId,
        source: AuditSource,
    ) -> Result<TenantRemoval, VaultError> {
        let started = Instant::now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = db::tenant_by_id(&tx, &tenant.0)?.ok_or_else(|| tenant_not_found(&tenant.0))?;
        if let Some(at) = row.revoked_at {
            return Ok(TenantRemoval {
                tenant_id: tenant.clone(),
                stores: 0,
                already_revoked_at: Some(at),
            });
        }
        let stores = db::revoke_tenant(&tx, &tenant.0)?;
        audit::record_change(
            &tx,
            source,
            Some(&tenant.0),
            "tenant revoke",
            &audit::json_object(&[("store_keys_erased", audit::Json::Int(stores as i64))]),
            started,
        )?;
        tx.commit()?;
        db::checkpoint(&conn);
        Ok(TenantRemoval {
            tenant_id: tenant.clone(),
            stores,
            already_revoked_at: None,
        })
    }

    /// Delete a tenant with its stores, encrypted keys and retired keys; its audit rows
    /// stay (with one more saying so). Sessions of the tenant stop working.
    pub fn delete_tenant(
        &self,
        tenant: &TenantId,
        source: AuditSource,
    ) -> Result<TenantRemoval, VaultError> {
        let started = Instant::now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = db::tenant_by_id(&tx, &tenant.0)?.ok_or_else(|| tenant_not_found(&tenant.0))?;
        let stores = db::delete_tenant(&tx, &tenant.0)?;
        audit::record_change(
            &tx,
            source,
            Some(&tenant.0),
            "tenant delete",
            &audit::json_object(&[
                ("stores_deleted", audit::Json::Int(stores as i64)),
                ("was_revoked", audit::Json::Bool(row.revoked_at.is_some())),
            ]),
            started,
        )?;
        tx.commit()?;
        db::checkpoint(&conn);
        Ok(TenantRemoval {
            tenant_id: tenant.clone(),
            stores,
            already_revoked_at: row.revoked_at,
        })
    }

    /// Delete retired master keys whose grace period is over (they no longer sign in
    /// anyway; this erases their copy of the data key).
    pub(crate) fn forget_expired_keys(&self) -> Result<(), VaultError> {
        let conn = self.conn();
        let gone = db::delete_expired_retired(&conn, unix_now())?;
        if !gone.is_empty() {
            db::checkpoint(&conn);
        }
        Ok(())
    }

    fn dummy_hash(&self) -> Result<&str, VaultError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h);
        }
        let h = crypto::dummy_hash(self.bcrypt_cost)?;
        Ok(self.dummy_hash.get_or_init(|| h))
    }

    /// Insert a tenant for `material`; `Conflict` if its lookup value exists already.
    fn insert_tenant(
        &self,
        material: &Arc<MasterKeyMaterial>,
    ) -> Result<(TenantId, SessionState), VaultError> {
        let id = TenantId(uuid::Uuid::new_v4().to_string());
        let salt = crypto::random_salt()?;
        let lookup = self.keys().lookup_value(material);
        // The slow hash is computed before taking the database lock.
        let hash = crypto::bcrypt_hash(material, self.bcrypt_cost)?;
        let key = crypto::derive_tenant_key_v2(material, &salt)?;
        db::insert_tenant(&self.conn(), &id.0, &lookup, &hash, &salt, KEY_VERSION).map_err(
            |e| match e {
                db::InsertTenantError::LookupTaken => {
                    VaultError::Conflict("a tenant with this master key exists already".into())
                }
                db::InsertTenantError::Other(e) => e,
            },
        )?;
        Ok((
            id,
            SessionState {
                master: material.clone(),
                key,
                generation: 0,
                expires_at: None,
                dead: None,
            },
        ))
    }
}

/// The session state of `material`, the current master key of `row` (scheme 2),
/// once the key is proven.
fn current_key_state(
    material: &Arc<MasterKeyMaterial>,
    row: &db::TenantRow,
) -> Result<SessionState, VaultError> {
    let key = crypto::derive_tenant_key_v2(material, &row.kdf_salt)?;
    Ok(SessionState {
        master: material.clone(),
        key,
        generation: row.key_generation,
        expires_at: None,
        dead: None,
    })
}

/// The session state of `material`, the retired master key of `row` (whose lookup value
/// is `lookup`), once the key is proven: its copy of the tenant's data key; `None` when
/// its grace period is over.
fn retired_key_state(
    material: &Arc<MasterKeyMaterial>,
    row: &db::RetiredRow,
    lookup: &[u8],
) -> Result<Option<SessionState>, VaultError> {
    if row.expires_at <= unix_now() {
        return Ok(None);
    }
    let own = crypto::derive_tenant_key_v2(material, &row.kdf_salt)?;
    let data_key = crypto::decrypt(
        own.expose_secret(),
        &crypto::retired_key_aad(&row.tenant_id, lookup, row.key_generation),
        &row.data_key,
    )?;
    Ok(Some(SessionState {
        master: material.clone(),
        key: TenantKey::from(data_key.to_vec()),
        generation: row.key_generation,
        expires_at: Some(row.expires_at),
        dead: None,
    }))
}

fn unknown_key() -> VaultError {
    VaultError::Unauthenticated("the master key does not belong to any tenant".into())
}

fn revoked(at: &str) -> VaultError {
    VaultError::Unauthenticated(format!(
        "the tenant of this master key was revoked on {at} (`orderdesk-mcp tenant revoke`); \
         ask the operator for a new tenant"
    ))
}

fn tenant_not_found(id: &str) -> VaultError {
    VaultError::NotFound(format!(
        "no tenant has the id '{id}'; `orderdesk-mcp tenant list` shows the tenants"
    ))
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params};
    use rusqlite_migration::Migrations;

    use super::*;
    use crate::{DB_FILE_NAME, SERVER_KEY_FILE_NAME, VaultOptions, files};

    const API_KEY: &str = "LegacyApiKey0123456789abcdef";
    const ORIGIN: &str = "https://app.orderdesk.me";

    /// A data directory as the version before key rotation and origins left it: schema
    /// version 1, a tenant and a store under key scheme 1, an audit row.
    fn legacy_data_dir(dir: &std::path::Path) -> (TenantId, MasterKey) {
        let server_key = [0xabu8; 32];
        std::fs::write(dir.join(SERVER_KEY_FILE_NAME), hex::encode(server_key)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.join(SERVER_KEY_FILE_NAME);
            std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let path = dir.join(DB_FILE_NAME);
        files::ensure_private_file(&path).unwrap();
        let mut conn = Connection::open(&path).unwrap();
        Migrations::from_slice(&db::MIGRATION_LIST[..1])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute(
            "INSERT INTO vault_meta (name, value) VALUES ('server_key_check', ?1)",
            [&crypto::server_key_check(&server_key)[..]],
        )
        .unwrap();
        let material = MasterKeyMaterial::generate().unwrap();
        let salt = crypto::random_salt().unwrap();
        let id = "11111111-2222-4333-8444-555555555555";
        conn.execute(
            "INSERT INTO tenants (id, lookup, key_hash, kdf_salt, key_version) \
             VALUES (?1, ?2, ?3, ?4, 1)",
            params![
                id,
                &crypto::lookup_value(&server_key, &material)[..],
                crypto::bcrypt_hash(&material, 4).unwrap(),
                &salt[..]
            ],
        )
        .unwrap();
        let key = crypto::derive_tenant_key(&material, &server_key, &salt).unwrap();
        let blob = crypto::encrypt(
            key.expose_secret(),
            &crypto::store_aad(id, "1001"),
            API_KEY.as_bytes(),
        )
        .unwrap();
        conn.execute(
            "INSERT INTO stores (tenant_id, store_id, name, api_key, key_version) \
             VALUES (?1, '1001', 'main', ?2, 1)",
            params![id, blob],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit_log (at, tool, arguments, outcome, duration_ms, correlation_id) \
             VALUES ('2030-01-01 00:00:00', 'stores_list', '{}', 'ok', 1, 'c')",
            [],
        )
        .unwrap();
        (TenantId(id.to_string()), material.to_master_key())
    }

    #[test]
    fn a_tenant_of_the_previous_version_moves_to_scheme_2_and_its_store_binds_to_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let (id, master_key) = legacy_data_dir(dir.path());
        let options = VaultOptions {
            bcrypt_cost: 4,
            ..VaultOptions::default()
        };
        let vault = Vault::open(dir.path(), options.clone()).unwrap();
        // The old audit row was a tool call.
        let log = vault.audit_log(None, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].0, AuditSource::Mcp);
        // Its keys still depend on the server key in a way only its master key undoes.
        let refused = vault.rotate_server_key(None, AuditSource::Cli).unwrap_err();
        assert!(
            matches!(&refused, VaultError::Conflict(m) if m.contains(id.as_str())),
            "{refused:?}"
        );
        assert!(!dir.path().join(crate::NEW_SERVER_KEY_FILE_NAME).exists());

        // Signing in moves it to scheme 2.
        let t = vault.authenticate(master_key.as_secret()).unwrap();
        assert_eq!(t.tenant_id(), &id);
        let raw = Connection::open(dir.path().join(DB_FILE_NAME)).unwrap();
        let (tenant_version, store_version, origin): (i64, i64, Option<String>) = raw
            .query_row(
                "SELECT t.key_version, s.key_version, s.api_origin FROM tenants t \
                 JOIN stores s ON s.tenant_id = t.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((tenant_version, store_version, origin), (2, 2, None));
        let store = vault.resolve_store(&id, "main").unwrap().0;
        assert_eq!(store.api_origin, None, "no origin recorded yet");

        // The first request binds the store to its origin; another origin is refused.
        let key = vault.store_api_key(&t, &store, ORIGIN).unwrap();
        assert_eq!(key.expose_secret(), API_KEY);
        assert_eq!(
            vault
                .resolve_store(&id, "1001")
                .unwrap()
                .0
                .api_origin
                .as_deref(),
            Some(ORIGIN)
        );
        let error = vault
            .store_api_key(&t, &store, "https://attacker.example")
            .unwrap_err();
        assert_eq!(
            error,
            VaultError::OriginMismatch {
                store_id: "1001".into(),
                registered: ORIGIN.into(),
                requested: "https://attacker.example".into(),
            }
        );
        // Signing in again finds it by its new lookup value.
        assert_eq!(
            vault
                .authenticate(master_key.as_secret())
                .unwrap()
                .tenant_id(),
            &id
        );

        // Now the server key can be replaced, and everything still opens afterwards.
        vault.rotate_server_key(None, AuditSource::Cli).unwrap();
        drop(vault);
        let vault = Vault::open(dir.path(), options).unwrap();
        let t = vault.authenticate(master_key.as_secret()).unwrap();
        let store = vault.resolve_store(&id, "main").unwrap().0;
        assert_eq!(
            vault
                .store_api_key(&t, &store, ORIGIN)
                .unwrap()
                .expose_secret(),
            API_KEY
        );
    }
}
