//! The one error type of the vault.
//!
//! Its variants map one-to-one onto the WIT `host-error` variants the host answers
//! components with, so every message here may end up in front of a model or a user:
//! none may carry key material, a ciphertext or an API key. Callers build messages only
//! from identifiers (tenant ids, store ids, store names, paths).

/// Why a vault operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The master key is unknown, malformed or wrong.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// Too many failed authentications in the recent window; nothing was checked.
    #[error("too many failed authentication attempts; retry after {retry_after_ms} ms")]
    TooManyAttempts {
        /// How long until the next attempt will be checked.
        retry_after_ms: u32,
    },
    /// The named store (or tenant) does not exist for this tenant.
    #[error("not found: {0}")]
    NotFound(String),
    /// The change conflicts with existing state (duplicate store id or name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An argument is invalid; the message says which and why (never its value when it
    /// is a secret).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored secret failed authenticated decryption: the wrong tenant key, a tampered
    /// or moved ciphertext. Deliberately carries no detail.
    #[error("a stored secret could not be decrypted (wrong key, or the data was altered)")]
    Decrypt,
    /// The store's API key was saved for another OrderDesk API origin than the one this
    /// request would go to. The key is never sent anywhere but where it was saved for.
    #[error(
        "store {store_id}'s API key was saved for {registered}, but this server sends \
         OrderDesk requests to {requested}; a key is never sent to another origin. Serve \
         with the API base the store was saved for, or save its key for {requested} with \
         `orderdesk-mcp stores update-key {store_id}` (or the stores_update_key tool)"
    )]
    OriginMismatch {
        store_id: String,
        /// The origin the key was saved for.
        registered: String,
        /// The origin of the request.
        requested: String,
    },
    /// The database failed (I/O, corruption, migration).
    #[error("storage error: {0}")]
    Storage(String),
    /// The vault's configuration is unusable (server key, data directory, permissions).
    #[error("configuration error: {0}")]
    Config(String),
}

impl From<rusqlite::Error> for VaultError {
    // Every statement binds its values as parameters, so SQLite's messages can name SQL
    // text and constraint names but never a bound secret.
    fn from(e: rusqlite::Error) -> Self {
        VaultError::Storage(e.to_string())
    }
}

impl From<rusqlite_migration::Error> for VaultError {
    fn from(e: rusqlite_migration::Error) -> Self {
        VaultError::Storage(format!("database migration failed: {e}"))
    }
}
