//! Tenants: creating one, and authenticating with its master key.
//!
//! Owns the authentication path — limiter, one indexed lookup by the key's HMAC, one
//! bcrypt verify (also for unknown keys, against a dummy hash, so that the time does
//! not say whether a key exists) — and auto-provisioning. The key material itself is
//! handled in `crypto`; this module only decides what to do with it, and never lets a
//! master key, hash or derived key out except inside a [`TenantSession`].

use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, KEY_VERSION, MasterKey, MasterKeyMaterial};
use crate::{TenantId, TenantSession, Vault, VaultError, db, limiter};

/// Failed authentications allowed per minute before attempts are refused unchecked.
pub const MAX_FAILED_AUTH_PER_MINUTE: usize = limiter::MAX_FAILURES;

/// The limiter source used by [`Vault::authenticate`].
const DEFAULT_SOURCE: &str = "";

impl Vault {
    /// Create a tenant with a new random master key. The key is returned once and
    /// stored only as a bcrypt hash and an HMAC lookup value.
    pub fn create_tenant(&self) -> Result<(TenantId, MasterKey), VaultError> {
        let material = MasterKeyMaterial::generate()?;
        let session = self.insert_tenant(&material)?;
        Ok((session.tenant_id, material.to_master_key()))
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
    /// With `auto_provision`, an unknown well-formed key creates its tenant.
    pub fn authenticate_from(
        &self,
        source: &str,
        master_key: &SecretString,
    ) -> Result<TenantSession, VaultError> {
        let attempt = self.limiter.begin(source, Instant::now()).map_err(|wait| {
            VaultError::TooManyAttempts {
                retry_after_ms: limiter::wait_ms(wait),
            }
        })?;
        let result = self.check_master_key(master_key);
        match &result {
            Err(VaultError::Unauthenticated(_)) => self.limiter.fail(attempt),
            _ => self.limiter.withdraw(attempt),
        }
        result
    }

    /// How many tenants exist.
    pub fn tenant_count(&self) -> Result<u64, VaultError> {
        db::tenant_count(&self.conn())
    }

    fn check_master_key(&self, master_key: &SecretString) -> Result<TenantSession, VaultError> {
        let material = MasterKeyMaterial::parse(master_key.expose_secret())?;
        let lookup = crypto::lookup_value(self.server_key.bytes(), &material);
        // Two rounds at most: the second only when a concurrent first use of the same
        // key provisioned the tenant between our lookup and our insert.
        for _ in 0..2 {
            let row = db::tenant_by_lookup(&self.conn(), &lookup)?;
            match row {
                Some(row) => {
                    if !crypto::bcrypt_verify(&material, &row.key_hash) {
                        return Err(unknown_key());
                    }
                    let key = crypto::derive_tenant_key(
                        &material,
                        self.server_key.bytes(),
                        &row.kdf_salt,
                    )?;
                    return Ok(TenantSession {
                        tenant_id: TenantId(row.id),
                        key,
                    });
                }
                None if self.auto_provision => match self.insert_tenant(&material) {
                    Err(VaultError::Conflict(_)) => continue,
                    other => return other,
                },
                None => {
                    // Same work as for a known key; the outcome is ignored.
                    let _ = crypto::bcrypt_verify(&material, self.dummy_hash()?);
                    return Err(unknown_key());
                }
            }
        }
        Err(unknown_key())
    }

    fn dummy_hash(&self) -> Result<&str, VaultError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h);
        }
        let h = crypto::dummy_hash(self.bcrypt_cost)?;
        Ok(self.dummy_hash.get_or_init(|| h))
    }

    /// Insert a tenant for `material`; `Conflict` if its lookup value exists already.
    fn insert_tenant(&self, material: &MasterKeyMaterial) -> Result<TenantSession, VaultError> {
        let id = TenantId(uuid::Uuid::new_v4().to_string());
        let salt = crypto::random_salt()?;
        let lookup = crypto::lookup_value(self.server_key.bytes(), material);
        // The slow hash is computed before taking the database lock.
        let hash = crypto::bcrypt_hash(material, self.bcrypt_cost)?;
        let key = crypto::derive_tenant_key(material, self.server_key.bytes(), &salt)?;
        db::insert_tenant(&self.conn(), &id.0, &lookup, &hash, &salt, KEY_VERSION).map_err(
            |e| match e {
                db::InsertTenantError::LookupTaken => {
                    VaultError::Conflict("a tenant with this master key exists already".into())
                }
                db::InsertTenantError::Other(e) => e,
            },
        )?;
        Ok(TenantSession { tenant_id: id, key })
    }
}

fn unknown_key() -> VaultError {
    VaultError::Unauthenticated("the master key does not belong to any tenant".into())
}
