//! The vault's keys that come from the server key, held together while the vault is
//! open: the server key itself (scheme-1 tenants need it), its check value, the layer key
//! of every store key's outer encryption, the wrap key, the webhook key of stores'
//! encrypted HMAC states (see `webhooks`), and the random lookup key the wrap key
//! protects in the database.
//!
//! The lookup key is made once per database and never changes: a server-key rotation
//! only encrypts it again, so every master key's and access token's lookup value stays
//! valid.

use rusqlite::{Connection, TransactionBehavior};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::crypto::{self, TenantKey};
use crate::server_key::ServerKey;
use crate::{VaultError, db};

/// The name of the encrypted lookup key in `vault_meta`.
const LOOKUP_KEY: &str = "lookup_key";
/// Length of the lookup key.
const LOOKUP_KEY_LEN: usize = 32;

/// The keys derived from one server key, with the database's lookup key.
pub(crate) struct ServerKeys {
    pub(crate) server: ServerKey,
    pub(crate) check: [u8; 32],
    layer: TenantKey,
    wrap: TenantKey,
    webhook: TenantKey,
    lookup: TenantKey,
}

impl ServerKeys {
    /// The keys of `server`, with the lookup key read from the database (made and saved
    /// there, encrypted under the wrap key, the first time).
    pub(crate) fn load(conn: &mut Connection, server: ServerKey) -> Result<ServerKeys, VaultError> {
        let (layer, wrap) = crypto::server_subkeys(server.bytes())?;
        let webhook = crypto::server_webhook_key(server.bytes())?;
        let check = crypto::server_key_check(server.bytes());
        let lookup = match db::meta_get(conn, LOOKUP_KEY)? {
            Some(blob) => unwrap_lookup(&wrap, &blob)?,
            None => {
                let mut fresh = Zeroizing::new([0u8; LOOKUP_KEY_LEN]);
                crypto::fill_random(&mut fresh[..])?;
                let blob =
                    crypto::encrypt(wrap.expose_secret(), crypto::LOOKUP_KEY_AAD, &fresh[..])?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                db::meta_insert_new(&tx, LOOKUP_KEY, &blob)?;
                // Another process may have saved its own first: use what is saved.
                let saved = db::meta_get(&tx, LOOKUP_KEY)?
                    .ok_or_else(|| VaultError::Storage("the lookup key was not saved".into()))?;
                tx.commit()?;
                unwrap_lookup(&wrap, &saved)?
            }
        };
        Ok(ServerKeys {
            server,
            check,
            layer,
            wrap,
            webhook,
            lookup,
        })
    }

    /// The keys of a new server key `server` that keep this database's lookup key.
    pub(crate) fn rekeyed(&self, server: ServerKey) -> Result<ServerKeys, VaultError> {
        let (layer, wrap) = crypto::server_subkeys(server.bytes())?;
        Ok(ServerKeys {
            check: crypto::server_key_check(server.bytes()),
            webhook: crypto::server_webhook_key(server.bytes())?,
            server,
            layer,
            wrap,
            lookup: self.lookup.clone(),
        })
    }

    /// Save the lookup key encrypted under this server key's wrap key (a server-key
    /// rotation, inside its transaction).
    pub(crate) fn save_lookup_key(&self, conn: &Connection) -> Result<(), VaultError> {
        let blob = crypto::encrypt(
            self.wrap.expose_secret(),
            crypto::LOOKUP_KEY_AAD,
            self.lookup.expose_secret(),
        )?;
        db::meta_set(conn, LOOKUP_KEY, &blob)
    }

    /// The layer key of store keys' outer encryption.
    pub(crate) fn layer(&self) -> &[u8] {
        self.layer.expose_secret()
    }

    /// The key of stores' encrypted HMAC states (webhook verification).
    pub(crate) fn webhook(&self) -> &[u8] {
        self.webhook.expose_secret()
    }

    /// The lookup value of a master key (scheme 2).
    pub(crate) fn lookup_value(&self, key: &crypto::MasterKeyMaterial) -> [u8; 32] {
        crypto::lookup_value(self.lookup.expose_secret(), key)
    }

    /// The lookup value of an access token.
    pub(crate) fn token_lookup_value(&self, token: &crypto::AccessTokenMaterial) -> [u8; 32] {
        crypto::token_lookup_value(self.lookup.expose_secret(), token)
    }

    /// The lookup value of a master key under scheme 1 (the server key itself).
    pub(crate) fn legacy_lookup_value(&self, key: &crypto::MasterKeyMaterial) -> [u8; 32] {
        crypto::lookup_value(self.server.bytes(), key)
    }
}

fn unwrap_lookup(wrap: &TenantKey, blob: &[u8]) -> Result<TenantKey, VaultError> {
    let key =
        crypto::decrypt(wrap.expose_secret(), crypto::LOOKUP_KEY_AAD, blob).map_err(|_| {
            VaultError::Config(
                "the database's lookup key does not open under this server key; restore the \
             database's server key"
                    .into(),
            )
        })?;
    if key.len() != LOOKUP_KEY_LEN {
        return Err(VaultError::Config(
            "the database's lookup key has the wrong length".into(),
        ));
    }
    Ok(TenantKey::from(key.to_vec()))
}
