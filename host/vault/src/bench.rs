//! Benchmark-only API, compiled with the `bench` feature (off by default): filling a
//! vault with many tenants fast, for the `bench` crate and the vault's own tests.
//!
//! Production code must not call it. Building the host alone leaves it out; cargo
//! unifies features across the packages of one build, though, so a workspace-wide
//! build that includes `bench` compiles it into the host's vault too (unused there).

use rusqlite::TransactionBehavior;

use crate::crypto::{self, KEY_VERSION, MasterKey, MasterKeyMaterial};
use crate::{Vault, VaultError, db};

/// How many of the keys returned by [`Vault::insert_tenants_for_benchmark`] carry their
/// own bcrypt hash (the first ones; the last key does too).
pub const BENCHMARK_AUTHENTICATING_KEYS: usize = 32;

impl Vault {
    /// **Benchmark and test helper only.** Insert `n` tenants in one transaction and
    /// return their master keys (distinct, random, each with its correct HMAC lookup
    /// value, so every one is found by the index exactly as in production).
    ///
    /// To stay fast for large `n`, only the first [`BENCHMARK_AUTHENTICATING_KEYS`] keys
    /// and the last key get their own bcrypt hash (at `bcrypt_cost`) and authenticate;
    /// all the others share one hash of a throwaway key, so authenticating with them
    /// costs the same bcrypt verify but fails like a wrong key (and counts toward the
    /// failure limit).
    pub fn insert_tenants_for_benchmark(
        &self,
        n: usize,
        bcrypt_cost: u32,
    ) -> Result<Vec<MasterKey>, VaultError> {
        let shared_hash = crypto::dummy_hash(bcrypt_cost)?;
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let material = MasterKeyMaterial::generate()?;
            let hash = if i < BENCHMARK_AUTHENTICATING_KEYS || i + 1 == n {
                Some(crypto::bcrypt_hash(&material, bcrypt_cost)?)
            } else {
                None
            };
            let lookup = self.keys().lookup_value(&material);
            rows.push((material, lookup, hash, crypto::random_salt()?));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (_, lookup, hash, salt) in &rows {
            let id = uuid::Uuid::new_v4().to_string();
            let hash = hash.as_deref().unwrap_or(&shared_hash);
            db::insert_tenant(&tx, &id, lookup, hash, salt, KEY_VERSION).map_err(|e| match e {
                db::InsertTenantError::LookupTaken => {
                    VaultError::Conflict("a generated master key collided".into())
                }
                db::InsertTenantError::Other(e) => e,
            })?;
        }
        tx.commit()?;
        Ok(rows.iter().map(|(m, ..)| m.to_master_key()).collect())
    }
}
