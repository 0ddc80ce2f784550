//! The server key: the HMAC key of the master-key lookup and one half of every tenant
//! key's HKDF input.
//!
//! It comes from the operator (`VaultOptions::server_key`, which the host fills from
//! `ORDERDESK_MCP_SERVER_KEY`) or from `<data_dir>/server.key`, generated on first run.
//! Keeping it outside the database means a copy of the database alone is not enough to
//! test master-key guesses or to open any store key.
//!
//! [`Vault::rotate_server_key`] replaces it: every store key's outer layer, every
//! store's webhook key state and the lookup key are re-encrypted under the new key in
//! one transaction. With a key file,
//! the new key is first written to [`NEW_SERVER_KEY_FILE_NAME`], and only after the
//! transaction commits does it replace `server.key` (one atomic rename); until then the
//! old file is untouched, and an interruption anywhere is settled at the next start.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use zeroize::Zeroizing;

use std::sync::Arc;
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};

use crate::crypto::{self, KEY_VERSION};
use crate::error::VaultError;
use crate::files::{private_create_new, sync_dir};
use crate::keys::ServerKeys;
use crate::{AuditSource, ServerKeyRotation, Vault, audit, db};

/// File name of the generated server key inside the data directory.
pub const SERVER_KEY_FILE_NAME: &str = "server.key";
/// Where `server-key rotate` writes the new key before the database changes over to it;
/// renamed to [`SERVER_KEY_FILE_NAME`] once it has. Found at start-up, it is finished
/// (the database uses it) or dropped (the database does not).
pub const NEW_SERVER_KEY_FILE_NAME: &str = "server.key.new";
/// The least key material a server key must hold.
pub(crate) const MIN_SERVER_KEY_LEN: usize = 32;
/// Length of a generated server key.
const GENERATED_LEN: usize = 32;

/// The server key's bytes, wiped on drop.
pub(crate) struct ServerKey(SecretSlice<u8>);

impl ServerKey {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl ServerKey {
    /// A fresh random key.
    pub(crate) fn generate() -> Result<ServerKey, VaultError> {
        let mut bytes = Zeroizing::new([0u8; GENERATED_LEN]);
        crypto::fill_random(&mut bytes[..])?;
        let exact: Box<[u8]> = bytes[..].into();
        Ok(ServerKey(SecretSlice::from(exact)))
    }

    /// The key as the file holds it: hex and a newline.
    fn file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(2 * self.bytes().len() + 1));
        text.push_str(&Zeroizing::new(hex::encode(self.bytes())));
        text.push('\n');
        text
    }
}

/// Where the key came from, for error messages.
pub(crate) enum Source<'a> {
    Provided,
    NewProvided,
    File(&'a Path),
}

impl std::fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Provided => f.write_str("the configured server key (ORDERDESK_MCP_SERVER_KEY)"),
            Source::NewProvided => f.write_str("the new server key (ORDERDESK_MCP_NEW_SERVER_KEY)"),
            Source::File(p) => write!(f, "the server key file {}", p.display()),
        }
    }
}

/// Decode a server key given as hex or base64 (standard or URL-safe, padded or not).
///
/// Text made only of hex digits (and of even length) is read as hex; anything else as
/// base64. Every byte counts: a key longer than 32 bytes is used whole (HMAC and HKDF take
/// keys of any length), so the same text always gives the same key.
pub(crate) fn parse(text: &str, source: &Source<'_>) -> Result<ServerKey, VaultError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(VaultError::Config(format!("{source} is empty")));
    }
    let is_hex = text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = Zeroizing::new(if is_hex {
        hex::decode(text).map_err(|_| bad_encoding(source))?
    } else {
        base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_PAD_INDIFFERENT.decode(text))
            .map_err(|_| bad_encoding(source))?
    });
    if decoded.len() < MIN_SERVER_KEY_LEN {
        return Err(VaultError::Config(format!(
            "{source} holds {} bytes; it needs at least {MIN_SERVER_KEY_LEN} \
             (64 hex digits or 44 base64 characters, e.g. from `openssl rand -hex 32`)",
            decoded.len()
        )));
    }
    // Copy into an allocation of exactly the right size; `decoded` (whose capacity may be
    // larger) is wiped when it drops.
    let exact: Box<[u8]> = decoded.as_slice().into();
    Ok(ServerKey(SecretSlice::from(exact)))
}

fn bad_encoding(source: &Source<'_>) -> VaultError {
    VaultError::Config(format!(
        "{source} is neither hex nor base64; give at least 32 random bytes, e.g. from \
         `openssl rand -hex 32`"
    ))
}

/// The server key to use: the provided one, else the one in `<data_dir>/server.key`,
/// generating that file (mode 0600) when it does not exist.
pub(crate) fn load_or_create(
    data_dir: &Path,
    provided: Option<&SecretString>,
) -> Result<ServerKey, VaultError> {
    if let Some(secret) = provided {
        return parse(secret.expose_secret(), &Source::Provided);
    }
    let path = data_dir.join(SERVER_KEY_FILE_NAME);
    // Two attempts: if another process creates the file between our read and our
    // create, the second round reads theirs.
    for _ in 0..2 {
        match File::open(&path) {
            Ok(file) => return read_existing(file, &path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(key) = create(data_dir, &path)? {
                    return Ok(key);
                }
            }
            Err(e) => {
                return Err(VaultError::Config(format!(
                    "cannot read the server key file {}: {e}",
                    path.display()
                )));
            }
        }
    }
    Err(VaultError::Config(format!(
        "the server key file {} keeps appearing and disappearing",
        path.display()
    )))
}

fn read_existing(mut file: File, path: &Path) -> Result<ServerKey, VaultError> {
    let meta = file
        .metadata()
        .map_err(|e| VaultError::Config(format!("cannot inspect {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(VaultError::Config(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    check_private(&meta, path)?;
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| VaultError::Config(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, &Source::File(path))
}

/// Refuse a key file that anyone but its owner can read or write (checked on the open
/// file, so the answer is about the file actually read).
#[cfg(unix)]
fn check_private(meta: &fs::Metadata, path: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(VaultError::Config(format!(
            "the server key file {p} is accessible to group or others (mode {mode:04o}); \
             run: chmod 600 {p}",
            p = path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &fs::Metadata, _path: &Path) -> Result<(), VaultError> {
    Ok(())
}

/// Create the key file atomically: write a private temporary file, then hard-link it to
/// its final name (which, unlike a rename, fails instead of replacing a key another
/// process just created). Returns `None` when we lost that race.
fn create(data_dir: &Path, path: &Path) -> Result<Option<ServerKey>, VaultError> {
    let key = ServerKey::generate()?;
    let mut suffix = [0u8; 8];
    crypto::fill_random(&mut suffix)?;
    let tmp: PathBuf = data_dir.join(format!(
        ".{SERVER_KEY_FILE_NAME}.{}.tmp",
        hex::encode(suffix)
    ));
    let write_err = |e: io::Error| {
        VaultError::Config(format!(
            "cannot create the server key file {}: {e}",
            path.display()
        ))
    };
    let result = write_private(&tmp, &key).and_then(|()| fs::hard_link(&tmp, path));
    // The temporary name goes whatever happened; the key lives on under `path` if the
    // link succeeded.
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            sync_dir(data_dir);
            Ok(Some(key))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(write_err(e)),
    }
}

/// Write `key` to a new private file at `path`, durably.
fn write_private(path: &Path, key: &ServerKey) -> io::Result<()> {
    let mut file = private_create_new(path)?;
    file.write_all(key.file_text().as_bytes())?;
    file.sync_all()
}

/// Write the new key of a rotation to [`NEW_SERVER_KEY_FILE_NAME`] (replacing a stale
/// one), durably, before the database changes over to it.
pub(crate) fn write_pending(data_dir: &Path, key: &ServerKey) -> Result<PathBuf, VaultError> {
    let path = data_dir.join(NEW_SERVER_KEY_FILE_NAME);
    let _ = fs::remove_file(&path);
    write_private(&path, key)
        .map_err(|e| VaultError::Config(format!("cannot write {}: {e}", path.display())))?;
    sync_dir(data_dir);
    Ok(path)
}

/// The pending new key of an interrupted rotation, if there is one.
pub(crate) fn read_pending(data_dir: &Path) -> Result<Option<ServerKey>, VaultError> {
    let path = data_dir.join(NEW_SERVER_KEY_FILE_NAME);
    match File::open(&path) {
        Ok(file) => read_existing(file, &path).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(VaultError::Config(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// The database now uses the pending key: make it the key file (an atomic rename that
/// replaces the old key).
pub(crate) fn commit_pending(data_dir: &Path) -> Result<PathBuf, VaultError> {
    let from = data_dir.join(NEW_SERVER_KEY_FILE_NAME);
    let to = data_dir.join(SERVER_KEY_FILE_NAME);
    fs::rename(&from, &to).map_err(|e| {
        VaultError::Config(format!(
            "the database now uses the new server key, which is in {}; renaming it to {} \
             failed ({e}): rename it by hand before the next start",
            from.display(),
            to.display()
        ))
    })?;
    sync_dir(data_dir);
    Ok(to)
}

/// Settle an interrupted rotation found at start-up: when the database already uses the
/// pending new key, finish it (the new key becomes `server.key`) and use that key; when
/// it does not, drop the pending key and use `current`.
pub(crate) fn settle_pending(
    data_dir: &Path,
    current: ServerKey,
    conn: &Connection,
) -> Result<ServerKey, VaultError> {
    let Some(pending) = read_pending(data_dir)? else {
        return Ok(current);
    };
    let uses_pending = db::server_key_check(conn)?
        .is_some_and(|check| check == crypto::server_key_check(pending.bytes()));
    if uses_pending {
        commit_pending(data_dir)?;
        Ok(pending)
    } else {
        discard_pending(data_dir);
        Ok(current)
    }
}

/// Drop the pending key of a rotation that did not happen.
pub(crate) fn discard_pending(data_dir: &Path) {
    let _ = fs::remove_file(data_dir.join(NEW_SERVER_KEY_FILE_NAME));
    sync_dir(data_dir);
}

impl Vault {
    /// Replace the server key: every store key's outer layer, every store's webhook key
    /// state (so pushes keep verifying) and the lookup key are re-encrypted under
    /// `new_key` in one transaction, with its audit row (from `source`). Master keys are
    /// not needed and keep working. A webhook key state that does not open (altered
    /// data) is dropped: the next session that uses its store makes it again.
    ///
    /// With a key file (`<data_dir>/server.key`), `new_key` may be `None` (a new random
    /// key is made); the new key is written to [`NEW_SERVER_KEY_FILE_NAME`] before the
    /// transaction and renamed over `server.key` after it commits, so the old file stays
    /// until the rotation has succeeded. With a key from the environment, `new_key` is
    /// required (from `ORDERDESK_MCP_NEW_SERVER_KEY`: the operator stores it before the
    /// database depends on it) and nothing is written.
    ///
    /// Refused while a tenant still uses key scheme 1 (its keys depend on the server key
    /// in a way only its master key can undo: it moves to scheme 2 when it next signs
    /// in). Other processes using the vault must be restarted afterwards (they say so).
    pub fn rotate_server_key(
        &self,
        new_key: Option<&SecretString>,
        source: AuditSource,
    ) -> Result<ServerKeyRotation, VaultError> {
        let started = Instant::now();
        let keys = self.keys();
        let new = match new_key {
            Some(secret) => parse(secret.expose_secret(), &Source::NewProvided)?,
            None if self.server_key_provided => {
                return Err(VaultError::Config(
                    "the server key comes from ORDERDESK_MCP_SERVER_KEY, so the new one must \
                     come from you: store a new key (e.g. `openssl rand -hex 32`) where you \
                     keep the current one, put it in ORDERDESK_MCP_NEW_SERVER_KEY, run this \
                     again, then set ORDERDESK_MCP_SERVER_KEY to it"
                        .into(),
                ));
            }
            None => ServerKey::generate()?,
        };
        if new.bytes() == keys.server.bytes() {
            return Err(VaultError::InvalidInput(
                "the new server key is the one in use; give another".into(),
            ));
        }
        let new_keys = keys.rekeyed(new)?;
        let file = !self.server_key_provided;
        if file {
            write_pending(&self.data_dir, &new_keys.server)?;
        }
        let counts = self.reencrypt_for_server_key(&keys, &new_keys, source, started);
        let (reencrypted, unreadable) = match counts {
            Ok(counts) => counts,
            Err(e) => {
                if file {
                    discard_pending(&self.data_dir);
                }
                return Err(e);
            }
        };
        let key_file = if file {
            Some(commit_pending(&self.data_dir)?)
        } else {
            None
        };
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new_keys);
        Ok(ServerKeyRotation {
            stores_reencrypted: reencrypted,
            stores_unreadable: unreadable,
            key_file,
        })
    }

    /// The transaction of a server-key rotation; (re-encrypted, unreadable) stores.
    fn reencrypt_for_server_key(
        &self,
        old: &ServerKeys,
        new: &ServerKeys,
        source: AuditSource,
        started: Instant,
    ) -> Result<(usize, usize), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.check_server_key(&tx, old)?;
        let legacy = db::legacy_tenants(&tx)?;
        if !legacy.is_empty() {
            let shown: Vec<&str> = legacy.iter().take(5).map(String::as_str).collect();
            return Err(VaultError::Conflict(format!(
                "{} tenant(s) ({}{}) still use the key scheme from before key rotation \
                 existed; their keys can move to a new server key only with their master \
                 key: have each sign in once (start a session, or run `orderdesk-mcp stores \
                 list` with its master key), or revoke it. Nothing was changed",
                legacy.len(),
                shown.join(", "),
                if legacy.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )));
        }
        let mut reencrypted = 0;
        let mut unreadable = 0;
        for store in db::store_keys(&tx, None)? {
            if store.api_key.is_empty() {
                continue;
            }
            if store.key_version != KEY_VERSION {
                unreadable += 1;
                continue;
            }
            let origin = store.api_origin.as_deref();
            let aad = crypto::store_aad_v2(&store.tenant_id, &store.store_id, origin);
            match crypto::reseal_layer(old.layer(), new.layer(), &aad, &store.api_key) {
                Ok(blob) => {
                    db::set_store_key(
                        &tx,
                        &store.tenant_id,
                        &store.store_id,
                        &blob,
                        origin,
                        KEY_VERSION,
                    )?;
                    reencrypted += 1;
                }
                Err(VaultError::Decrypt) => unreadable += 1,
                Err(e) => return Err(e),
            }
        }
        let mut webhook_reencrypted = 0;
        let mut webhook_dropped = 0;
        for state in db::all_webhook_states(&tx)? {
            let aad = crypto::webhook_state_aad(&state.tenant_id, &state.store_id);
            match crypto::reseal_webhook_state(
                old.webhook(),
                new.webhook(),
                &aad,
                &state.hmac_state,
            ) {
                Ok(blob) => {
                    db::set_webhook_state(&tx, &state.tenant_id, &state.store_id, &blob)?;
                    webhook_reencrypted += 1;
                }
                Err(VaultError::Decrypt) => {
                    db::delete_webhook_state(&tx, &state.tenant_id, &state.store_id)?;
                    webhook_dropped += 1;
                }
                Err(e) => return Err(e),
            }
        }
        new.save_lookup_key(&tx)?;
        db::set_server_key_check(&tx, &new.check)?;
        audit::record_change(
            &tx,
            source,
            None,
            "server-key rotate",
            &audit::json_object(&[
                ("stores_reencrypted", audit::Json::Int(reencrypted as i64)),
                ("stores_unreadable", audit::Json::Int(unreadable as i64)),
                (
                    "webhook_keys_reencrypted",
                    audit::Json::Int(webhook_reencrypted),
                ),
                ("webhook_keys_dropped", audit::Json::Int(webhook_dropped)),
                (
                    "key",
                    audit::Json::Str(if self.server_key_provided {
                        "environment"
                    } else {
                        "file"
                    }),
                ),
            ]),
            started,
        )?;
        tx.commit()?;
        db::checkpoint(&conn);
        Ok((reencrypted, unreadable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_base64() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let k = parse(hex_key, &Source::Provided).unwrap();
        assert_eq!(hex::encode(k.bytes()), hex_key);
        let upper = parse(&format!(" {}\n", hex_key.to_uppercase()), &Source::Provided).unwrap();
        assert_eq!(upper.bytes(), k.bytes());

        let b64 = base64::engine::general_purpose::STANDARD.encode(k.bytes());
        assert_eq!(parse(&b64, &Source::Provided).unwrap().bytes(), k.bytes());
        let raw: Vec<u8> = (200u8..248).collect(); // bytes that give '+' '/' or '-' '_'
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(parse(&url, &Source::Provided).unwrap().bytes(), &raw[..]);
        let std = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(parse(&std, &Source::Provided).unwrap().bytes(), &raw[..]);
    }

    #[test]
    fn refuses_short_or_garbled_keys() {
        for bad in ["", "   ", "0011", "not a key!!", &"ab".repeat(31)] {
            let err = parse(bad, &Source::Provided).err().unwrap();
            assert!(matches!(err, VaultError::Config(_)), "{bad:?}: {err:?}");
        }
        let err = parse(&"ab".repeat(31), &Source::Provided).err().unwrap();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn generated_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path(), None).unwrap();
        let path = dir.path().join(SERVER_KEY_FILE_NAME);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(a.bytes().len(), 32);
        let b = load_or_create(dir.path(), None).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        // Nothing but the key file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(SERVER_KEY_FILE_NAME)]);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_readable_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SERVER_KEY_FILE_NAME);
        fs::write(&path, "ab".repeat(32)).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = load_or_create(dir.path(), None).err().unwrap();
            let msg = err.to_string();
            assert!(matches!(err, VaultError::Config(_)));
            assert!(
                msg.contains(&format!("chmod 600 {}", path.display())),
                "{msg}"
            );
            assert!(!msg.contains(&"ab".repeat(32)), "no key in the message");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(
            load_or_create(dir.path(), None).unwrap().bytes(),
            &[0xab; 32][..]
        );
    }

    #[test]
    fn provided_key_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretString::from("cd".repeat(40));
        let k = load_or_create(dir.path(), Some(&secret)).unwrap();
        assert_eq!(k.bytes(), &[0xcd; 40][..]);
        assert!(!dir.path().join(SERVER_KEY_FILE_NAME).exists());
    }
}
