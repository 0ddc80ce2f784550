//! Access tokens: what a remote MCP client presents (`Authorization: Bearer odat_…`)
//! instead of a master key, made by the tenant with its master key (`orderdesk-mcp token
//! create`), listed and revoked by id.
//!
//! A token is `odat_` + 64 hex digits (256 random bits), shown once and never stored. Its
//! row holds its HMAC lookup value (under the vault's lookup key, as master keys'; one
//! read of a unique index finds it), what it allows (`read` or `write`, optionally one
//! store), when it expires and was last used, and the tenant's master key encrypted
//! under a key derived from the token (`crypto`): so the token alone opens a session
//! that can decrypt the tenant's store keys, without a bcrypt verify, and a copy of the
//! database alone opens nothing.
//!
//! # What a token lives and dies with
//!
//! - Revoking it (`token revoke`) stops it at once, in running sessions too, and erases
//!   its copy of the master key; so does its expiry.
//! - Revoking or deleting its tenant stops it (deleting removes its row).
//! - It works while the master key it was made with does: rotating that key
//!   (`tenant rotate-key`) leaves it working during the rotation's grace period and
//!   stops it with the old key. That is on purpose: a rotation is what an operator does
//!   about a key that may have leaked, and tokens made with a leaked key die with it.
//!   Make new tokens with the new key.
//! - A server-key rotation changes nothing: the lookup key is only re-encrypted.
//!
//! Scope and store are the caller's to enforce (the host narrows a token session's
//! grants); the vault refuses a token session only what needs the master key itself:
//! making tokens and rotating the master key.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::TransactionBehavior;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::clock::{format_unix, unix_now};
pub use crate::crypto::ACCESS_TOKEN_PREFIX;
use crate::crypto::{self, AccessTokenMaterial, TOKEN_KEY_VERSION};
use crate::stores::{MAX_LABEL_LEN, validate_store_id, validate_text};
use crate::types::TokenGrant;
use crate::{AuditSource, TenantId, TenantSession, Vault, VaultError, audit, db};

/// A token's last use is written at most this often (seconds), so that the per-request
/// check rarely writes.
const LAST_USE_INTERVAL: i64 = 60;
/// The longest lifetime a token may be given (100 years; longer means "never").
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// Longer input is not a token id (they are 16 characters).
const MAX_TOKEN_ID_LEN: usize = 32;

/// What a token's session may do: `read` calls only read-only tools (the safer
/// default), `write` may change orders, inventory and stores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    #[default]
    Read,
    Write,
}

impl TokenScope {
    /// `read` or `write`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            s if s.eq_ignore_ascii_case("read") => Ok(TokenScope::Read),
            s if s.eq_ignore_ascii_case("write") => Ok(TokenScope::Write),
            _ => Err(VaultError::InvalidInput(
                "a token's scope is `read` or `write`".into(),
            )),
        }
    }
}

/// What to make a token for ([`Vault::create_access_token`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewAccessToken {
    pub scope: TokenScope,
    /// The one store (OrderDesk's id, resolved by the caller) the token is for; `None`:
    /// every store of the tenant.
    pub store_id: Option<String>,
    /// How long it works; `None`: until revoked.
    pub expires_in: Option<Duration>,
    /// The operator's name for it (e.g. which client holds it).
    pub label: Option<String>,
}

/// An access token as its tenant sees it: never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessTokenRecord {
    /// The public id (`tok_` + 12 hex digits) that `revoke_access_token` takes.
    pub token_id: String,
    pub tenant_id: TenantId,
    pub label: Option<String>,
    pub scope: TokenScope,
    /// The one store (OrderDesk's id) it is for; `None`: every store of the tenant.
    pub store_id: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC, like every time below.
    pub created_at: String,
    /// To the minute: uses within a minute of the last recorded one are not written.
    pub last_used_at: Option<String>,
    /// `None`: it does not expire.
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl Vault {
    /// Make an access token for the session's tenant. The token text is returned once
    /// (it is never stored: only its keyed lookup value and, encrypted under a key
    /// derived from it, the master key the session signed in with), with its record.
    ///
    /// The session must have signed in with the tenant's current master key: a
    /// session opened with an access token, or with a master key retired by a rotation,
    /// is refused (`Unauthenticated`). `store_id` must be one of the tenant's stores
    /// (`NotFound` otherwise); it is kept as given. Audited (`token create`, from
    /// `source`) in the same transaction, without the token.
    pub fn create_access_token(
        &self,
        t: &TenantSession,
        new: &NewAccessToken,
        source: AuditSource,
    ) -> Result<(SecretString, AccessTokenRecord), VaultError> {
        let started = Instant::now();
        if t.token.is_some() {
            return Err(VaultError::Unauthenticated(
                "a session opened with an access token cannot make access tokens: make them \
                 with the tenant's master key (`orderdesk-mcp token create`)"
                    .into(),
            ));
        }
        let label = match new.label.as_deref().map(str::trim) {
            Some(l) if !l.is_empty() => Some(validate_text("label", l, MAX_LABEL_LEN)?),
            _ => None,
        };
        let store_id = new.store_id.as_deref().map(validate_store_id).transpose()?;
        let expires_at = match new.expires_in {
            None => None,
            Some(d) if d.is_zero() => {
                return Err(VaultError::InvalidInput(
                    "a token's lifetime must be longer than zero (leave it out for a token \
                     that works until it is revoked)"
                        .into(),
                ));
            }
            Some(d) if d > MAX_LIFETIME => {
                return Err(VaultError::InvalidInput(
                    "a token's lifetime must be at most 100 years (leave it out for a token \
                     that works until it is revoked)"
                        .into(),
                ));
            }
            Some(d) => Some(unix_now().saturating_add(i64::try_from(d.as_secs()).unwrap_or(0))),
        };
        let tenant = &t.tenant_id;
        let keys = self.keys();
        // The connection is not held while the session key is checked (that may sign in
        // again, which reads the database).
        let row = db::tenant_by_id(&self.conn(), &tenant.0)?;
        self.session_key(t, row.as_ref())?;
        let (master, generation, retired) = {
            let state = t.lock();
            (
                state.master.clone(),
                state.generation,
                state.expires_at.is_some(),
            )
        };
        if retired {
            return Err(VaultError::Unauthenticated(
                "this session signed in with a master key retired by a rotation: make tokens \
                 with the tenant's current master key (a token stops with the key it was made \
                 with)"
                    .into(),
            ));
        }
        let master_lookup = keys.lookup_value(&master);
        let token = AccessTokenMaterial::generate()?;
        let lookup = keys.token_lookup_value(&token);

        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.check_server_key(&tx, &keys)?;
        self.check_generation(&tx, t, generation)?;
        if let Some(id) = store_id
            && db::store_by_id(&tx, tenant, id)?.is_none()
        {
            return Err(VaultError::NotFound(format!(
                "no store with id '{id}' is registered for this tenant; `orderdesk-mcp stores \
                 list` shows its stores"
            )));
        }
        let mut record = None;
        // A random 48-bit id is drawn again in the unlikely case it is taken.
        for _ in 0..3 {
            let token_id = crypto::random_token_id()?;
            let wrapped =
                crypto::wrap_master_key(&token, &crypto::token_aad(&tenant.0, &token_id), &master)?;
            let inserted = db::insert_token(
                &tx,
                &db::NewToken {
                    token_id: &token_id,
                    tenant_id: &tenant.0,
                    lookup: &lookup,
                    master_lookup: &master_lookup,
                    wrapped_master: &wrapped,
                    key_version: TOKEN_KEY_VERSION,
                    scope: new.scope.as_str(),
                    store_id,
                    label,
                    expires_at,
                },
            );
            match inserted {
                Ok(r) => {
                    record = Some(r);
                    break;
                }
                Err(db::InsertTokenError::IdTaken) => continue,
                Err(db::InsertTokenError::Other(e)) => return Err(e),
            }
        }
        let record = record.ok_or_else(|| {
            VaultError::Conflict("could not draw an unused token id; try again".into())
        })?;
        let expires = record.expires_at.as_deref().unwrap_or("never");
        audit::record_store_change(
            &tx,
            source,
            Some(&tenant.0),
            store_id,
            "token create",
            &audit::json_object(&[
                ("token_id", audit::Json::Str(&record.token_id)),
                ("scope", audit::Json::Str(record.scope.as_str())),
                ("expires_at", audit::Json::Str(expires)),
            ]),
            started,
        )?;
        tx.commit()?;
        Ok((token.to_secret(), record))
    }

    /// The tenant's access tokens, oldest first, revoked and expired ones included; never
    /// a token itself.
    pub fn list_access_tokens(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<AccessTokenRecord>, VaultError> {
        db::list_tokens(&self.conn(), tenant)
    }

    /// Revoke one of the tenant's access tokens by id: it stops working at once, in
    /// running sessions too, and its copy of the master key is erased. A token of
    /// another tenant, or an unknown id, is `NotFound`. Revoking a revoked token changes
    /// nothing (its `revoked_at` says since when). Audited (`token revoke`, from
    /// `source`) in the same transaction.
    pub fn revoke_access_token(
        &self,
        tenant: &TenantId,
        token_id: &str,
        source: AuditSource,
    ) -> Result<AccessTokenRecord, VaultError> {
        let started = Instant::now();
        let token_id = validate_token_id(token_id)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing =
            db::token_by_id(&tx, tenant, token_id)?.ok_or_else(|| token_not_found(token_id))?;
        if existing.revoked_at.is_some() {
            return Ok(existing);
        }
        let record =
            db::revoke_token(&tx, tenant, token_id)?.ok_or_else(|| token_not_found(token_id))?;
        audit::record_store_change(
            &tx,
            source,
            Some(&tenant.0),
            record.store_id.as_deref(),
            "token revoke",
            &audit::json_object(&[("token_id", audit::Json::Str(&record.token_id))]),
            started,
        )?;
        tx.commit()?;
        // The erased copy of the master key goes from the write-ahead log too.
        db::checkpoint(&conn);
        Ok(record)
    }

    /// Check an access token, for each request: one keyed hash, one read of a unique
    /// index (with its tenant and master key's rows by their keys), no decryption. A
    /// token that is malformed, unknown, revoked, expired, of a revoked tenant, or made
    /// with a master key that no longer works gives `Unauthenticated`, saying what to do
    /// and never holding the token. Records the use (at most one write a minute per
    /// token; a use that cannot be recorded does not refuse the request).
    pub fn check_access_token(
        &self,
        token: &SecretString,
    ) -> Result<AccessTokenRecord, VaultError> {
        let token = AccessTokenMaterial::parse(token.expose_secret())?;
        Ok(self.check_token(&token)?.record)
    }

    /// Check an access token as [`Vault::check_access_token`] does and open a session of
    /// its tenant, which decrypts the tenant's store keys as one opened with
    /// [`Vault::authenticate`] and the master key would: the master key is unwrapped from
    /// the token's row (its AEAD tag proves it is the key wrapped when the token was
    /// made, so there is no bcrypt verify) and must still be the tenant's current key, or
    /// a key retired by `tenant rotate-key` still in its grace period (then
    /// [`TenantSession::key_expires_at`] says until when). So a token made with a key that
    /// is later rotated works during the rotation's grace period and stops with the old
    /// key: tokens made with a possibly leaked key die with it.
    ///
    /// The session carries the token's grant ([`TenantSession::access_token`]) and stops
    /// working once the token is revoked or expires.
    pub fn authenticate_access_token(
        &self,
        token: &SecretString,
    ) -> Result<(TenantSession, AccessTokenRecord), VaultError> {
        let token = AccessTokenMaterial::parse(token.expose_secret())?;
        let row = self.check_token(&token)?;
        let record = row.record;
        if row.key_version != TOKEN_KEY_VERSION {
            return Err(VaultError::Decrypt);
        }
        let master = Arc::new(crypto::unwrap_master_key(
            &token,
            &crypto::token_aad(&record.tenant_id.0, &record.token_id),
            &row.wrapped_master,
        )?);
        if self.keys().lookup_value(&master)[..] != row.master_lookup[..] {
            // The row's record of the key was altered; the key itself is authentic.
            return Err(VaultError::Decrypt);
        }
        let state = self.sign_in_proven(&master, &record.tenant_id)?;
        let grant = TokenGrant {
            token_id: record.token_id.clone(),
            scope: record.scope,
            store_id: record.store_id.clone(),
        };
        let session = TenantSession::with_token(record.tenant_id.clone(), state, grant);
        Ok((session, record))
    }

    /// [`Vault::check_access_token`] for a request from `source` (a client address):
    /// after [`MAX_FAILED_AUTH_PER_MINUTE`](crate::MAX_FAILED_AUTH_PER_MINUTE) failures
    /// within a minute from it, attempts are refused with `TooManyAttempts` unchecked
    /// (the limiter master keys use, bounded in the sources it tracks; only failures
    /// count, so requests sent at once with a valid token all pass).
    pub fn check_access_token_from(
        &self,
        source: &str,
        token: &SecretString,
    ) -> Result<AccessTokenRecord, VaultError> {
        self.limited_quick(source, || self.check_access_token(token))
    }

    /// [`Vault::authenticate_access_token`], limited per `source` as
    /// [`Vault::check_access_token_from`] is.
    pub fn authenticate_access_token_from(
        &self,
        source: &str,
        token: &SecretString,
    ) -> Result<(TenantSession, AccessTokenRecord), VaultError> {
        self.limited_quick(source, || self.authenticate_access_token(token))
    }

    /// Run `attempt` as one attempt from `source` of the failure limiter: refused
    /// unchecked past the allowance; counted as a failure when it answers
    /// `Unauthenticated`.
    pub(crate) fn limited<T>(
        &self,
        source: &str,
        attempt: impl FnOnce() -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let started = self
            .limiter
            .begin(source, std::time::Instant::now())
            .map_err(|wait| VaultError::TooManyAttempts {
                retry_after_ms: crate::limiter::wait_ms(wait),
            })?;
        let result = attempt();
        match &result {
            Err(VaultError::Unauthenticated(_)) => self.limiter.fail(started),
            _ => self.limiter.withdraw(started),
        }
        result
    }

    /// Run `attempt`, a check too quick for a burst of guesses to gain anything (no
    /// bcrypt), refused unchecked past the allowance of `source`, whose failures alone
    /// count (`Unauthenticated`): requests sent at once with a valid token all pass.
    fn limited_quick<T>(
        &self,
        source: &str,
        attempt: impl FnOnce() -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.limiter
            .admit(source, std::time::Instant::now())
            .map_err(|wait| VaultError::TooManyAttempts {
                retry_after_ms: crate::limiter::wait_ms(wait),
            })?;
        let result = attempt();
        if let Err(VaultError::Unauthenticated(_)) = &result {
            self.limiter
                .record_failure(source, std::time::Instant::now());
        }
        result
    }

    /// Find a token by its lookup value and check its row; record the use.
    fn check_token(&self, token: &AccessTokenMaterial) -> Result<db::TokenCheckRow, VaultError> {
        let lookup = self.keys().token_lookup_value(token);
        let now = unix_now();
        let conn = self.conn();
        let mut row = db::token_by_lookup(&conn, &lookup)?.ok_or_else(unknown_token)?;
        let id = &row.record.token_id;
        if let Some(at) = &row.record.revoked_at {
            return Err(token_revoked(id, at));
        }
        if let Some(at) = &row.tenant_revoked_at {
            return Err(VaultError::Unauthenticated(format!(
                "the tenant of access token {id} was revoked on {at} (`orderdesk-mcp tenant \
                 revoke`); ask the operator for a new tenant"
            )));
        }
        if let Some(at) = row.expires_at
            && at <= now
        {
            return Err(token_expired(id, at));
        }
        if !row.master_is_current && row.master_retired_until.is_none_or(|until| until <= now) {
            return Err(VaultError::Unauthenticated(format!(
                "access token {id} was made with a master key that has been replaced \
                 (`orderdesk-mcp tenant rotate-key`) and whose grace period is over, so it no \
                 longer works: make a new one with the tenant's current master key \
                 (`orderdesk-mcp token create`)"
            )));
        }
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USE_INTERVAL)
            && matches!(
                db::touch_token(&conn, &row.record.token_id, now, LAST_USE_INTERVAL),
                Ok(true)
            )
        {
            row.last_used_at = Some(now);
            row.record.last_used_at = Some(format_unix(now));
        }
        Ok(row)
    }

    /// Refuse a session opened with an access token once the token is revoked, expired
    /// or gone (one read by its primary key).
    pub(crate) fn check_token_standing(&self, grant: &TokenGrant) -> Result<(), VaultError> {
        let id = &grant.token_id;
        let Some(standing) = db::token_standing(&self.conn(), id)? else {
            return Err(unknown_token());
        };
        if let Some(at) = &standing.revoked_at {
            return Err(token_revoked(id, at));
        }
        match standing.expires_at {
            Some(at) if at <= unix_now() => Err(token_expired(id, at)),
            _ => Ok(()),
        }
    }
}

/// A token id as given: trimmed, at most [`MAX_TOKEN_ID_LEN`] of `[a-z0-9_]`. Neither
/// error echoes the input (it may be a pasted token).
fn validate_token_id(input: &str) -> Result<&str, VaultError> {
    let id = input.trim();
    let is_token = id
        .get(..ACCESS_TOKEN_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(ACCESS_TOKEN_PREFIX));
    if is_token {
        return Err(VaultError::InvalidInput(
            "that is an access token, not a token id: revoke it by the id `orderdesk-mcp token \
             list` shows (tok_…); and since the token was pasted where it does not belong, do \
             revoke it"
                .into(),
        ));
    }
    let ok = !id.is_empty()
        && id.len() <= MAX_TOKEN_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(VaultError::NotFound(
            "no access token has that id (ids look like tok_0123456789ab); `orderdesk-mcp \
             token list` shows the tenant's tokens"
                .into(),
        ))
    }
}

fn token_not_found(id: &str) -> VaultError {
    VaultError::NotFound(format!(
        "no access token '{id}' belongs to this tenant; `orderdesk-mcp token list` shows its \
         tokens"
    ))
}

fn unknown_token() -> VaultError {
    VaultError::Unauthenticated(
        "this access token is not known here (mistyped, or its tenant was deleted); ask the \
         tenant for a new one (`orderdesk-mcp token create`)"
            .into(),
    )
}

fn token_revoked(id: &str, at: &str) -> VaultError {
    VaultError::Unauthenticated(format!(
        "access token {id} was revoked on {at} (`orderdesk-mcp token revoke`); make a new one \
         with `orderdesk-mcp token create`"
    ))
}

fn token_expired(id: &str, at: i64) -> VaultError {
    VaultError::Unauthenticated(format!(
        "access token {id} expired on {} UTC; make a new one with `orderdesk-mcp token create \
         [--expires 30d]`",
        format_unix(at)
    ))
}
