//! Every cryptographic operation of the vault, in one place, over byte slices.
//!
//! - Master keys: 32 bytes from the OS RNG, shown as `odmk_` + 64 lowercase hex digits.
//!   Verified with bcrypt; found with HMAC-SHA256(lookup key, canonical key text).
//! - The server key (outside the database) is the root of two keys derived from it with
//!   HKDF-SHA256: the *layer key*, under which every store key carries an outer
//!   encryption, and the *wrap key*, which encrypts the vault's random *lookup key*
//!   (kept in the database). Replacing the server key re-encrypts those outer layers and
//!   the lookup key, and needs no master key.
//! - Tenant keys (scheme 2): HKDF-SHA256(ikm = master key bytes, salt = the tenant's
//!   random salt, info = [`TENANT_KEY_INFO_V2`]).
//! - Store API keys (scheme 2): AES-256-GCM under the tenant key, then AES-256-GCM of that
//!   under the layer key, each with a fresh random 96-bit nonce and stored as nonce ‖
//!   ciphertext ‖ tag, both with associated data naming the tenant, the store and the
//!   API origin the key was saved for: a ciphertext moved to another row or pointed at
//!   another origin no longer authenticates. Neither half alone opens one: a stolen
//!   database with the server key still needs the master key, and vice versa.
//! - Scheme 1 (before key rotation existed): lookup = HMAC(server key, key text), tenant
//!   key = HKDF(master key ‖ server key, salt, [`TENANT_KEY_INFO`]), one AES-GCM layer.
//!   A tenant still on it moves to scheme 2 the next time it signs in (that needs its
//!   master key).
//! - Access tokens: 32 bytes from the OS RNG, shown as `odat_` + 64 lowercase hex digits.
//!   Found with HMAC-SHA256(lookup key, canonical token text), like master keys (the
//!   prefixes keep the two apart). The token's row holds the tenant's master key
//!   AES-256-GCM-encrypted under HKDF-SHA256(ikm = the token's bytes, info =
//!   [`ACCESS_TOKEN_WRAP_INFO`]), with associated data naming the tenant and the token id:
//!   only the token opens it, and the tag proves the master key is the one wrapped when
//!   the token was made, so no bcrypt verify is needed on the way in.
//! - Webhook key state: OrderDesk signs each push with HMAC-SHA256 keyed with the
//!   store's API key, and a push comes with no master key to open that key. So whenever
//!   the vault holds an API key in the clear it keeps the HMAC key's two SHA-256
//!   midstates ([`HmacState`]: the state after compressing key⊕ipad, and after
//!   key⊕opad), AES-256-GCM-encrypted under the *webhook key* (HKDF-SHA256 of the server
//!   key, info [`SERVER_WEBHOOK_INFO`]) with associated data naming the tenant and the
//!   store. A midstate lets the vault compute that HMAC without the key, and does not
//!   give the key back (that would take inverting SHA-256's compression function): with
//!   the database and the server key one can forge pushes, but not call OrderDesk.
//!
//! Buffers that hold key material are `Zeroizing`/`SecretBox` so they are wiped on drop.

use std::fmt;

use aes_gcm::aead::{Aead, AeadInOut, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit};
use hkdf::HkdfExtract;
use hmac::{Hmac, Mac};
use rand::TryRng;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;
use sha2::block_api::compress256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::VaultError;

/// The text every master key starts with, so that a leaked key is recognisable (secret
/// scanners, log redaction) and a pasted store API key is not mistaken for one.
pub const MASTER_KEY_PREFIX: &str = "odmk_";
/// Random bytes in a master key (256 bits).
pub(crate) const MASTER_KEY_LEN: usize = 32;
/// The text every access token starts with (recognisable like master keys, and never
/// mistaken for one).
pub const ACCESS_TOKEN_PREFIX: &str = "odat_";
/// Random bytes in an access token (256 bits).
const ACCESS_TOKEN_LEN: usize = 32;
/// HKDF `info` of the key that wraps the master key in an access token's row.
const ACCESS_TOKEN_WRAP_INFO: &[u8] = b"orderdesk-mcp access token wrap v1";
/// The scheme written to `access_tokens.key_version`.
pub(crate) const TOKEN_KEY_VERSION: i64 = 1;
/// Random bytes in an access token's public id (`tok_` + 12 hex digits).
const TOKEN_ID_LEN: usize = 6;
/// Length of a tenant's HKDF salt.
pub(crate) const SALT_LEN: usize = 32;
/// Length of a derived tenant key (AES-256).
pub(crate) const TENANT_KEY_LEN: usize = 32;
/// HKDF `info` for tenant keys of scheme 1 (rows record their scheme in `key_version`).
pub(crate) const TENANT_KEY_INFO: &[u8] = b"orderdesk-mcp tenant key v1";
/// HKDF `info` for tenant keys of scheme 2.
pub(crate) const TENANT_KEY_INFO_V2: &[u8] = b"orderdesk-mcp tenant key v2";
/// HKDF `info` of the layer key (from the server key).
const SERVER_LAYER_INFO: &[u8] = b"orderdesk-mcp server layer v2";
/// HKDF `info` of the wrap key (from the server key).
const SERVER_WRAP_INFO: &[u8] = b"orderdesk-mcp server wrap v2";
/// HKDF `info` of the webhook key (from the server key), which encrypts stores'
/// [`HmacState`]s.
const SERVER_WEBHOOK_INFO: &[u8] = b"orderdesk-mcp server webhook v1";
/// Associated data of the lookup key's encryption under the wrap key.
pub(crate) const LOOKUP_KEY_AAD: &[u8] = b"orderdesk-mcp lookup key v2";
/// The scheme version written to `key_version` columns of new rows.
pub(crate) const KEY_VERSION: i64 = 2;
/// The scheme of rows written before key rotation existed.
pub(crate) const LEGACY_KEY_VERSION: i64 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Message HMACed under the server key to recognise it again on the next start.
const SERVER_KEY_CHECK_MSG: &[u8] = b"orderdesk-mcp server key check v1";

/// A tenant's master key, as generated by the vault. Shown to the operator once; the
/// vault keeps only its bcrypt hash and its HMAC lookup value.
#[derive(Clone)]
pub struct MasterKey(SecretString);

impl MasterKey {
    /// The key text (`odmk_…`), for printing it once to the operator.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Borrow the key as a `SecretString` (what [`crate::Vault::authenticate`] takes).
    pub fn as_secret(&self) -> &SecretString {
        &self.0
    }

    /// Turn the key into a `SecretString`.
    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// A master key checked for form: its 32 bytes and its canonical text (lowercase hex).
/// bcrypt and the lookup HMAC always see the canonical text, so `ODMK_…`/uppercase hex or
/// surrounding whitespace in what a user pasted do not make a different key.
pub(crate) struct MasterKeyMaterial {
    bytes: Zeroizing<[u8; MASTER_KEY_LEN]>,
    text: Zeroizing<String>,
}

impl MasterKeyMaterial {
    /// A fresh key from the OS RNG.
    pub(crate) fn generate() -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        fill_random(&mut bytes[..])?;
        Ok(Self::from_bytes(bytes))
    }

    pub(crate) fn from_bytes(bytes: Zeroizing<[u8; MASTER_KEY_LEN]>) -> Self {
        let text = prefixed_hex(MASTER_KEY_PREFIX, &bytes[..]);
        MasterKeyMaterial { bytes, text }
    }

    /// Parse what a user supplied. The error names the expected form, never the input.
    pub(crate) fn parse(input: &str) -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        if !parse_prefixed_hex(input, MASTER_KEY_PREFIX, &mut bytes[..]) {
            return Err(VaultError::Unauthenticated(format!(
                "that is not a master key: expected '{MASTER_KEY_PREFIX}' followed by {} hex digits",
                2 * MASTER_KEY_LEN
            )));
        }
        Ok(Self::from_bytes(bytes))
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..]
    }

    /// Hand the text out as the user-facing [`MasterKey`].
    pub(crate) fn to_master_key(&self) -> MasterKey {
        // Exact capacity again, so `into_boxed_str` does not reallocate.
        let mut s = String::with_capacity(self.text.len());
        s.push_str(&self.text);
        MasterKey(SecretString::from(s))
    }
}

/// An access token checked for form: its 32 bytes and its canonical text (lowercase
/// hex). The lookup HMAC and the wrap key always see these, so a token pasted in capitals
/// or with surrounding whitespace is the same token.
pub(crate) struct AccessTokenMaterial {
    bytes: Zeroizing<[u8; ACCESS_TOKEN_LEN]>,
    text: Zeroizing<String>,
}

impl AccessTokenMaterial {
    /// A fresh token from the OS RNG.
    pub(crate) fn generate() -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; ACCESS_TOKEN_LEN]);
        fill_random(&mut bytes[..])?;
        let text = prefixed_hex(ACCESS_TOKEN_PREFIX, &bytes[..]);
        Ok(AccessTokenMaterial { bytes, text })
    }

    /// Parse what a client presented. The error says what an access token looks like
    /// and where one comes from, never the input.
    pub(crate) fn parse(input: &str) -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; ACCESS_TOKEN_LEN]);
        if parse_prefixed_hex(input, ACCESS_TOKEN_PREFIX, &mut bytes[..]) {
            let text = prefixed_hex(ACCESS_TOKEN_PREFIX, &bytes[..]);
            return Ok(AccessTokenMaterial { bytes, text });
        }
        let input = input.trim();
        let is_master_key = input
            .get(..MASTER_KEY_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(MASTER_KEY_PREFIX));
        Err(VaultError::Unauthenticated(if is_master_key {
            format!(
                "that is a master key, not an access token: a master key is never sent to a \
                 remote server; present an access token ('{ACCESS_TOKEN_PREFIX}…', made with \
                 `orderdesk-mcp token create`) as `Authorization: Bearer <token>`"
            )
        } else {
            format!(
                "that is not an access token: expected '{ACCESS_TOKEN_PREFIX}' followed by {} \
                 hex digits, as `orderdesk-mcp token create` prints it",
                2 * ACCESS_TOKEN_LEN
            )
        }))
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The text for the caller to show once.
    pub(crate) fn to_secret(&self) -> SecretString {
        // Exact capacity, so `into_boxed_str` does not reallocate.
        let mut s = String::with_capacity(self.text.len());
        s.push_str(&self.text);
        SecretString::from(s)
    }
}

/// `prefix` followed by `bytes` in lowercase hex, built in a buffer of exactly the final
/// size: growing a String would leave unwiped copies of the key in freed memory.
fn prefixed_hex(prefix: &str, bytes: &[u8]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(prefix.len() + 2 * bytes.len()));
    text.push_str(prefix);
    push_hex(&mut text, bytes);
    text
}

/// Parse `prefix` (any case) and `2 * out.len()` hex digits (any case), surrounding
/// whitespace ignored, into `out`; whether `input` had that form.
fn parse_prefixed_hex(input: &str, prefix: &str, out: &mut [u8]) -> bool {
    let input = input.trim();
    let Some((head, hex_part)) = input.split_at_checked(prefix.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(prefix)
        && hex_part.len() == 2 * out.len()
        && hex::decode_to_slice(hex_part, out).is_ok()
}

/// A new access token's public id: `tok_` and 12 random hex digits.
pub(crate) fn random_token_id() -> Result<String, VaultError> {
    let mut bytes = [0u8; TOKEN_ID_LEN];
    fill_random(&mut bytes)?;
    Ok(format!("tok_{}", hex::encode(bytes)))
}

/// Fill `buf` from the operating system's RNG (not a user-space PRNG: these bytes become
/// long-lived keys, salts and nonces).
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), VaultError> {
    rand::rngs::SysRng.try_fill_bytes(buf).map_err(|e| {
        VaultError::Config(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })
}

/// A fresh random HKDF salt for a new tenant.
pub(crate) fn random_salt() -> Result<[u8; SALT_LEN], VaultError> {
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt)?;
    Ok(salt)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// HMAC-SHA256(key, message).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key)
        .expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The indexed lookup value of a master key: HMAC-SHA256(lookup key, canonical text)
/// (scheme 1: the server key itself). Keyed, so a stolen database alone does not let
/// anyone test guesses offline faster than against bcrypt.
pub(crate) fn lookup_value(lookup_key: &[u8], key: &MasterKeyMaterial) -> [u8; 32] {
    hmac_sha256(lookup_key, key.text().as_bytes())
}

/// The indexed lookup value of an access token: HMAC-SHA256(lookup key, canonical text).
pub(crate) fn token_lookup_value(lookup_key: &[u8], token: &AccessTokenMaterial) -> [u8; 32] {
    hmac_sha256(lookup_key, token.text().as_bytes())
}

/// A short, non-secret name of a master key for the audit log and the operator: the
/// first 6 bytes of its lookup value (which the database holds anyway) in hex.
pub(crate) fn key_id(lookup: &[u8]) -> String {
    hex::encode(&lookup[..lookup.len().min(6)])
}

/// A value that identifies the server key without revealing it (stored in the database
/// so that starting with a different server key fails loudly instead of making every
/// tenant "unknown").
pub(crate) fn server_key_check(server_key: &[u8]) -> [u8; 32] {
    hmac_sha256(server_key, SERVER_KEY_CHECK_MSG)
}

/// HKDF-SHA256 with the input keying material given in parts (fed to the extractor in
/// order, which equals hashing their concatenation without building a copy of it).
pub(crate) fn hkdf_sha256(
    ikm_parts: &[&[u8]],
    salt: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<(), VaultError> {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in ikm_parts {
        extract.input_ikm(part);
    }
    let (_prk, hkdf) = extract.finalize();
    hkdf.expand(info, okm)
        .map_err(|_| VaultError::Config("HKDF output length is invalid".into()))
}

/// A tenant's data key (AES-256), wiped on drop. Cloning copies it into a new wiped box.
pub(crate) type TenantKey = SecretSlice<u8>;

/// Derive a tenant's data key from its master key, the server key and its salt.
pub(crate) fn derive_tenant_key(
    master: &MasterKeyMaterial,
    server_key: &[u8],
    salt: &[u8],
) -> Result<TenantKey, VaultError> {
    let mut okm = vec![0u8; TENANT_KEY_LEN];
    hkdf_sha256(
        &[master.bytes(), server_key],
        salt,
        TENANT_KEY_INFO,
        &mut okm,
    )?;
    Ok(TenantKey::from(okm))
}

/// Derive a tenant's data key of scheme 2 from its master key and its salt.
pub(crate) fn derive_tenant_key_v2(
    master: &MasterKeyMaterial,
    salt: &[u8],
) -> Result<TenantKey, VaultError> {
    let mut okm = vec![0u8; TENANT_KEY_LEN];
    hkdf_sha256(&[master.bytes()], salt, TENANT_KEY_INFO_V2, &mut okm)?;
    Ok(TenantKey::from(okm))
}

/// The layer key and the wrap key of a server key.
pub(crate) fn server_subkeys(server_key: &[u8]) -> Result<(TenantKey, TenantKey), VaultError> {
    let derive = |info: &[u8]| -> Result<TenantKey, VaultError> {
        let mut okm = vec![0u8; TENANT_KEY_LEN];
        hkdf_sha256(&[server_key], &[], info, &mut okm)?;
        Ok(TenantKey::from(okm))
    };
    Ok((derive(SERVER_LAYER_INFO)?, derive(SERVER_WRAP_INFO)?))
}

/// The associated data that binds a scheme-1 store API key ciphertext to its row.
pub(crate) fn store_aad(tenant_id: &str, store_id: &str) -> Vec<u8> {
    format!("orderdesk-mcp api key v1|tenant:{tenant_id}|store:{store_id}").into_bytes()
}

/// The associated data of both layers of a scheme-2 store API key: its tenant, its store
/// and the API origin it was saved for (`None`: saved before origins were recorded).
pub(crate) fn store_aad_v2(tenant_id: &str, store_id: &str, origin: Option<&str>) -> Vec<u8> {
    format!(
        "orderdesk-mcp api key v2|tenant:{tenant_id}|store:{store_id}|origin:{}",
        origin.unwrap_or("unbound")
    )
    .into_bytes()
}

/// The associated data of a retired master key's copy of the tenant's data key.
pub(crate) fn retired_key_aad(tenant_id: &str, lookup: &[u8], generation: i64) -> Vec<u8> {
    format!(
        "orderdesk-mcp retired key v2|tenant:{tenant_id}|lookup:{}|generation:{generation}",
        hex::encode(lookup)
    )
    .into_bytes()
}

/// The associated data of an access token's copy of the master key: its tenant and id.
pub(crate) fn token_aad(tenant_id: &str, token_id: &str) -> Vec<u8> {
    format!("orderdesk-mcp access token v1|tenant:{tenant_id}|token:{token_id}").into_bytes()
}

/// The key an access token's copy of the master key is encrypted under.
fn token_wrap_key(token: &AccessTokenMaterial) -> Result<TenantKey, VaultError> {
    let mut okm = vec![0u8; TENANT_KEY_LEN];
    hkdf_sha256(&[&token.bytes[..]], &[], ACCESS_TOKEN_WRAP_INFO, &mut okm)?;
    Ok(TenantKey::from(okm))
}

/// Encrypt `master` under a key derived from `token` (for the token's row).
pub(crate) fn wrap_master_key(
    token: &AccessTokenMaterial,
    aad: &[u8],
    master: &MasterKeyMaterial,
) -> Result<Vec<u8>, VaultError> {
    encrypt(token_wrap_key(token)?.expose_secret(), aad, master.bytes())
}

/// Open what [`wrap_master_key`] made: `Decrypt` unless `token` and `aad` are the ones it
/// was made with and not a byte changed.
pub(crate) fn unwrap_master_key(
    token: &AccessTokenMaterial,
    aad: &[u8],
    blob: &[u8],
) -> Result<MasterKeyMaterial, VaultError> {
    let plain = decrypt(token_wrap_key(token)?.expose_secret(), aad, blob)?;
    let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    if plain.len() != MASTER_KEY_LEN {
        return Err(VaultError::Decrypt);
    }
    bytes.copy_from_slice(&plain);
    Ok(MasterKeyMaterial::from_bytes(bytes))
}

/// The webhook key of a server key: what stores' [`HmacState`]s are encrypted under.
pub(crate) fn server_webhook_key(server_key: &[u8]) -> Result<TenantKey, VaultError> {
    let mut okm = vec![0u8; TENANT_KEY_LEN];
    hkdf_sha256(&[server_key], &[], SERVER_WEBHOOK_INFO, &mut okm)?;
    Ok(TenantKey::from(okm))
}

/// SHA-256's block length, which is also HMAC-SHA256's key block length.
const SHA256_BLOCK_LEN: usize = 64;
/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
/// HMAC's inner and outer pad bytes (RFC 2104).
const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;
/// Length of an HMAC-SHA256 tag.
pub(crate) const HMAC_SHA256_LEN: usize = 32;

/// An HMAC-SHA256 key reduced to SHA-256's internal state after one block of key⊕ipad
/// (`inner`) and one of key⊕opad (`outer`), keys longer than a block hashed first (RFC
/// 2104). HMAC(key, m) = SHA-256 resumed from `outer` over SHA-256 resumed from `inner`
/// over m: computing it needs only these states, which do not give the key back.
/// Wiped on drop.
pub(crate) struct HmacState {
    inner: Zeroizing<[u32; 8]>,
    outer: Zeroizing<[u32; 8]>,
}

/// Length of an [`HmacState`] as bytes (two states of eight big-endian words).
const HMAC_STATE_LEN: usize = 64;

impl HmacState {
    /// The state of `key` (what `Hmac::<Sha256>::new_from_slice(key)` computes).
    pub(crate) fn new(key: &[u8]) -> HmacState {
        let mut block = Zeroizing::new([0u8; SHA256_BLOCK_LEN]);
        if key.len() > SHA256_BLOCK_LEN {
            // Hashed straight into the block, leaving no other copy behind.
            let mut hasher = <Sha256 as sha2::Digest>::new();
            sha2::Digest::update(&mut hasher, key);
            let (digest, _) = block.split_first_chunk_mut::<32>().expect("64 > 32");
            sha2::Digest::finalize_into(hasher, digest.into());
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let midstate = |pad: u8| {
            let mut padded = Zeroizing::new([0u8; SHA256_BLOCK_LEN]);
            for (p, k) in padded.iter_mut().zip(block.iter()) {
                *p = k ^ pad;
            }
            let mut state = Zeroizing::new(SHA256_IV);
            compress256(&mut state, std::slice::from_ref(&*padded));
            state
        };
        HmacState {
            inner: midstate(IPAD),
            outer: midstate(OPAD),
        }
    }

    /// The two states as 64 bytes (inner, then outer; each word big-endian).
    fn to_bytes(&self) -> Zeroizing<[u8; HMAC_STATE_LEN]> {
        let mut out = Zeroizing::new([0u8; HMAC_STATE_LEN]);
        let words = self.inner.iter().chain(self.outer.iter());
        for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// What [`HmacState::to_bytes`] made; `Decrypt` for anything else (it only ever
    /// comes out of an authenticated decryption).
    fn from_bytes(bytes: &[u8]) -> Result<HmacState, VaultError> {
        if bytes.len() != HMAC_STATE_LEN {
            return Err(VaultError::Decrypt);
        }
        let mut words = Zeroizing::new([0u32; 16]);
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            let mut be = [0u8; 4];
            be.copy_from_slice(chunk);
            *word = u32::from_be_bytes(be);
        }
        let mut inner = Zeroizing::new([0u32; 8]);
        let mut outer = Zeroizing::new([0u32; 8]);
        inner.copy_from_slice(&words[..8]);
        outer.copy_from_slice(&words[8..]);
        Ok(HmacState { inner, outer })
    }

    /// HMAC-SHA256(key, message).
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; HMAC_SHA256_LEN] {
        let inner = sha256_resume(&self.inner, message);
        sha256_resume(&self.outer, &inner)
    }

    /// Whether `tag` is HMAC-SHA256(key, message), compared in constant time.
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8; HMAC_SHA256_LEN]) -> bool {
        self.mac(message).ct_eq(tag).into()
    }
}

/// Finish SHA-256 of (one block already compressed into `state`) ‖ `message`: the
/// remaining blocks, then the padding and the length of the whole (FIPS 180-4, 5.1.1).
fn sha256_resume(state: &[u32; 8], message: &[u8]) -> [u8; 32] {
    let mut state = Zeroizing::new(*state);
    let (blocks, tail) = message.as_chunks::<SHA256_BLOCK_LEN>();
    compress256(&mut state, blocks);
    let mut last = Zeroizing::new([[0u8; SHA256_BLOCK_LEN]; 2]);
    // The tail, 0x80, zeros, and the 64-bit length in bits: one block, or two when the
    // tail leaves no room for the length.
    let used = if tail.len() < SHA256_BLOCK_LEN - 8 {
        1
    } else {
        2
    };
    let flat = last.as_flattened_mut();
    flat[..tail.len()].copy_from_slice(tail);
    flat[tail.len()] = 0x80;
    // SHA-256 counts the length modulo 2^64 bits.
    let bytes = u64::try_from(message.len())
        .unwrap_or(u64::MAX)
        .wrapping_add(SHA256_BLOCK_LEN as u64);
    let end = used * SHA256_BLOCK_LEN;
    flat[end - 8..end].copy_from_slice(&bytes.wrapping_mul(8).to_be_bytes());
    compress256(&mut state, &last[..used]);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state.iter()) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The associated data of a store's encrypted [`HmacState`]: its tenant and store.
pub(crate) fn webhook_state_aad(tenant_id: &str, store_id: &str) -> Vec<u8> {
    format!("orderdesk-mcp webhook state v1|tenant:{tenant_id}|store:{store_id}").into_bytes()
}

/// Encrypt a store's [`HmacState`] under the webhook key.
pub(crate) fn seal_webhook_state(
    webhook_key: &[u8],
    aad: &[u8],
    state: &HmacState,
) -> Result<Vec<u8>, VaultError> {
    encrypt(webhook_key, aad, &state.to_bytes()[..])
}

/// Open what [`seal_webhook_state`] made; `Decrypt` unless the key and the associated
/// data are the ones it was made with and not a byte changed.
pub(crate) fn open_webhook_state(
    webhook_key: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<HmacState, VaultError> {
    HmacState::from_bytes(&decrypt(webhook_key, aad, blob)?)
}

/// Re-encrypt a store's [`HmacState`] under another webhook key (a new server key).
pub(crate) fn reseal_webhook_state(
    old_key: &[u8],
    new_key: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let state = open_webhook_state(old_key, aad, blob)?;
    seal_webhook_state(new_key, aad, &state)
}

/// The 32 bytes of a MAC given in hex (any case, surrounding whitespace ignored);
/// `None` for anything else.
pub(crate) fn parse_mac_hex(text: &str) -> Option<[u8; HMAC_SHA256_LEN]> {
    let text = text.trim();
    let mut tag = [0u8; HMAC_SHA256_LEN];
    (text.len() == 2 * HMAC_SHA256_LEN && hex::decode_to_slice(text, &mut tag).is_ok())
        .then_some(tag)
}

/// SHA-256 of `data` in lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(<Sha256 as sha2::Digest>::digest(data))
}

/// Encrypt a store API key (scheme 2): under the tenant key, then under the layer key.
pub(crate) fn seal_store_key(
    tenant_key: &[u8],
    layer_key: &[u8],
    aad: &[u8],
    api_key: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let inner = encrypt(tenant_key, aad, api_key)?;
    encrypt(layer_key, aad, &inner)
}

/// Decrypt a scheme-2 store API key.
pub(crate) fn open_store_key(
    tenant_key: &[u8],
    layer_key: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<SecretString, VaultError> {
    let inner = decrypt(layer_key, aad, blob)?;
    decrypt_string(tenant_key, aad, &inner)
}

/// Re-encrypt the outer layer of a scheme-2 store key under another layer key (a new
/// server key); the inner layer, and so the API key, is never in the clear.
pub(crate) fn reseal_layer(
    old_layer: &[u8],
    new_layer: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let inner = decrypt(old_layer, aad, blob)?;
    encrypt(new_layer, aad, &inner)
}

/// Re-encrypt a scheme-2 store key under another tenant key (a new master key) and/or
/// other associated data (an origin bound on first use).
pub(crate) fn reseal_tenant(
    keys: (&[u8], &[u8]),
    new_tenant_key: &[u8],
    aads: (&[u8], &[u8]),
    blob: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let (tenant_key, layer_key) = keys;
    let (old_aad, new_aad) = aads;
    let inner = decrypt(layer_key, old_aad, blob)?;
    let plain = decrypt(tenant_key, old_aad, &inner)?;
    seal_store_key(new_tenant_key, layer_key, new_aad, &plain)
}

fn cipher(key: &[u8]) -> Result<Aes256Gcm, VaultError> {
    // A key of the wrong length can only come from a bug; report it as a decryption
    // failure rather than panicking with key material on the stack.
    let key = Key::<Aes256Gcm>::try_from(key).map_err(|_| VaultError::Decrypt)?;
    Ok(Aes256Gcm::new(&key))
}

/// Encrypt under a fresh random nonce; returns nonce ‖ ciphertext ‖ tag.
pub(crate) fn encrypt(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    encrypt_with_nonce(key, &nonce, aad, plaintext)
}

/// Encrypt with a given nonce (separate for the known-answer tests; production code
/// always goes through [`encrypt`]).
pub(crate) fn encrypt_with_nonce(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let cipher = cipher(key)?;
    // `Aead::encrypt` copies the plaintext into its output buffer and encrypts it in
    // place, so no plaintext copy survives in the result.
    let ct = cipher
        .encrypt(
            &(*nonce).into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| VaultError::InvalidInput("the secret is too long to encrypt".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Decrypt nonce ‖ ciphertext ‖ tag. Any failure (short blob, wrong key, other
/// associated data, altered byte) is the same [`VaultError::Decrypt`].
pub(crate) fn decrypt(
    key: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Decrypt);
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
    let cipher = cipher(key)?;
    // Decrypt in a buffer that is wiped on drop, whatever happens.
    let mut buf = Zeroizing::new(ct.to_vec());
    cipher
        .decrypt_in_place(&nonce.into(), aad, &mut *buf)
        .map_err(|_| VaultError::Decrypt)?;
    Ok(buf)
}

/// Decrypt into a `SecretString`; non-UTF-8 plaintext also counts as tampering.
pub(crate) fn decrypt_string(
    key: &[u8],
    aad: &[u8],
    blob: &[u8],
) -> Result<SecretString, VaultError> {
    let plain = decrypt(key, aad, blob)?;
    let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Decrypt)?;
    // Exact capacity, so the conversion to a boxed str does not reallocate and leave a
    // stray copy behind; `plain` is wiped when it drops.
    let mut s = String::with_capacity(text.len());
    s.push_str(text);
    Ok(SecretString::from(s))
}

/// bcrypt hash of a master key's canonical text (69 bytes: under bcrypt's 72-byte limit,
/// and the non-truncating variant makes sure of it).
pub(crate) fn bcrypt_hash(key: &MasterKeyMaterial, cost: u32) -> Result<String, VaultError> {
    bcrypt::non_truncating_hash(key.text(), cost)
        .map_err(|e| VaultError::Config(format!("bcrypt failed: {e}")))
}

/// Whether `key` matches `hash`. A malformed stored hash verifies as false.
pub(crate) fn bcrypt_verify(key: &MasterKeyMaterial, hash: &str) -> bool {
    bcrypt::non_truncating_verify(key.text(), hash).unwrap_or(false)
}

/// A bcrypt hash of a random secret nobody knows, for spending the same work on an
/// unknown key as on a known one.
pub(crate) fn dummy_hash(cost: u32) -> Result<String, VaultError> {
    bcrypt_hash(&MasterKeyMaterial::generate()?, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn hkdf_rfc5869_test_case_1() {
        // RFC 5869 A.1, through the same wrapper tenant keys use; the IKM is split in two
        // parts to check that parts equal their concatenation.
        let ikm = [0x0bu8; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        hkdf_sha256(&[&ikm[..10], &ikm[10..]], &salt, &info, &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn hmac_sha256_rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn aes256gcm_mcgrew_viega_test_case_14() {
        // The GCM paper's test case 14: all-zero key, IV and plaintext block.
        let key = [0u8; 32];
        let ct = encrypt_with_nonce(&key, &[0u8; 12], b"", &[0u8; 16]).unwrap();
        assert_eq!(
            hex::encode(&ct[12..]),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
        );
        assert_eq!(&decrypt(&key, b"", &ct).unwrap()[..], &[0u8; 16]);
    }

    #[test]
    fn aes256gcm_mcgrew_viega_test_case_16() {
        // Test case 16: 60-byte plaintext with 20 bytes of associated data.
        let key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
        let nonce: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = unhex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let ct = encrypt_with_nonce(&key, &nonce, &aad, &pt).unwrap();
        assert_eq!(&ct[..12], &nonce);
        assert_eq!(
            hex::encode(&ct[12..]),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b"
        );
        assert_eq!(&decrypt(&key, &aad, &ct).unwrap()[..], &pt[..]);
    }

    #[test]
    fn round_trip_uses_fresh_nonces() {
        let key = [7u8; 32];
        let a = encrypt(&key, b"ad", b"secret api key").unwrap();
        let b = encrypt(&key, b"ad", b"secret api key").unwrap();
        assert_ne!(a, b, "each encryption must use a new nonce");
        assert_eq!(a.len(), 12 + 14 + 16);
        let s = decrypt_string(&key, b"ad", &a).unwrap();
        assert_eq!(s.expose_secret(), "secret api key");
    }

    #[test]
    fn any_altered_byte_fails_cleanly() {
        let key = [7u8; 32];
        let ct = encrypt(&key, b"ad", b"secret api key").unwrap();
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x01;
            assert_eq!(decrypt(&key, b"ad", &bad).unwrap_err(), VaultError::Decrypt);
        }
        assert_eq!(
            decrypt(&key, b"ad", &ct[..20]).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(decrypt(&key, b"ad", &[]).unwrap_err(), VaultError::Decrypt);
        assert_eq!(
            decrypt(&key, b"other", &ct).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            decrypt(&[8u8; 32], b"ad", &ct).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            decrypt(&[7u8; 31], b"ad", &ct).unwrap_err(),
            VaultError::Decrypt
        );
    }

    #[test]
    fn tenant_keys_depend_on_every_input() {
        let m1 = MasterKeyMaterial::generate().unwrap();
        let m2 = MasterKeyMaterial::generate().unwrap();
        let k = |m: &MasterKeyMaterial, server: &[u8], salt: &[u8]| {
            derive_tenant_key(m, server, salt)
                .unwrap()
                .expose_secret()
                .to_vec()
        };
        let base = k(&m1, &[1; 32], &[2; 32]);
        assert_eq!(base.len(), 32);
        assert_eq!(base, k(&m1, &[1; 32], &[2; 32]));
        assert_ne!(base, k(&m2, &[1; 32], &[2; 32]));
        assert_ne!(base, k(&m1, &[9; 32], &[2; 32]));
        assert_ne!(base, k(&m1, &[1; 32], &[9; 32]));
        // And a ciphertext under one tenant's key does not open under another's.
        let ct = encrypt(&base, b"ad", b"key").unwrap();
        let other = k(&m2, &[1; 32], &[2; 32]);
        assert_eq!(
            decrypt(&other, b"ad", &ct).unwrap_err(),
            VaultError::Decrypt
        );
    }

    #[test]
    fn master_keys_have_the_documented_form() {
        let m = MasterKeyMaterial::generate().unwrap();
        let text = m.to_master_key().expose().to_owned();
        assert!(text.starts_with(MASTER_KEY_PREFIX));
        assert_eq!(text.len(), MASTER_KEY_PREFIX.len() + 64);
        assert!(
            text[MASTER_KEY_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // Pasted with whitespace or in capitals, it is the same key.
        let shouted = format!("  ODMK_{}\n", text[5..].to_ascii_uppercase());
        let parsed = MasterKeyMaterial::parse(&shouted).unwrap();
        assert_eq!(parsed.text(), text);
        assert_eq!(parsed.bytes(), m.bytes());
        assert_ne!(
            MasterKeyMaterial::generate().unwrap().text(),
            text,
            "keys are random"
        );
        for bad in [
            "",
            "odmk_",
            "odmk_xyz",
            &text[..60],
            &format!("{text}00"),
            &text[5..],
        ] {
            let err = MasterKeyMaterial::parse(bad).err().unwrap();
            assert!(matches!(err, VaultError::Unauthenticated(_)));
        }
        assert_eq!(format!("{:?}", m.to_master_key()), "MasterKey([REDACTED])");
    }

    #[test]
    fn access_tokens_have_the_documented_form_and_wrap_the_master_key_for_themselves() {
        let token = AccessTokenMaterial::generate().unwrap();
        let text = token.to_secret().expose_secret().to_owned();
        assert!(text.starts_with(ACCESS_TOKEN_PREFIX));
        assert_eq!(text.len(), ACCESS_TOKEN_PREFIX.len() + 64);
        let shouted = format!(" ODAT_{}\t", text[5..].to_ascii_uppercase());
        let parsed = AccessTokenMaterial::parse(&shouted).unwrap();
        assert_eq!(parsed.text(), text);
        for bad in ["", "odat_", &text[5..], &text[..60], &format!("{text}0")] {
            assert!(AccessTokenMaterial::parse(bad).is_err());
        }
        let id = random_token_id().unwrap();
        assert!(id.starts_with("tok_") && id.len() == 16, "{id}");
        assert_ne!(random_token_id().unwrap(), id);

        let master = MasterKeyMaterial::generate().unwrap();
        let aad = token_aad("tenant", &id);
        let blob = wrap_master_key(&token, &aad, &master).unwrap();
        assert_eq!(blob.len(), 12 + 32 + 16);
        let opened = unwrap_master_key(&parsed, &aad, &blob).unwrap();
        assert_eq!(opened.text(), master.text());
        let other = AccessTokenMaterial::generate().unwrap();
        assert!(matches!(
            unwrap_master_key(&other, &aad, &blob),
            Err(VaultError::Decrypt)
        ));
        assert!(matches!(
            unwrap_master_key(&token, &token_aad("tenant", "tok_other"), &blob),
            Err(VaultError::Decrypt)
        ));
        // Tokens and master keys never share a lookup value, even with the same bytes.
        assert_ne!(
            token_lookup_value(&[1; 32], &token),
            lookup_value(&[1; 32], &master)
        );
    }

    /// The midstates give exactly what the hmac crate computes from the key itself: for
    /// keys shorter than, as long as and longer than a block (hashed first), and messages
    /// around every padding boundary (one or two final blocks).
    #[test]
    fn hmac_state_equals_the_hmac_crate() {
        let keys: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"Jefe".to_vec(),
            b"ApiKeyAlpha0123456789abcdefXYZ".to_vec(),
            (0u8..63).collect(),
            (0u8..64).collect(),
            (0u8..65).collect(),
            vec![0xaa; 131],
            (0u8..=255).cycle().take(1000).collect(),
        ];
        let mut messages: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            br#"{"id":"123456","store_id":"1001","folder_id":1}"#.to_vec(),
        ];
        for len in [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 10_000] {
            messages.push((0..len).map(|i| (i * 7 % 251) as u8).collect());
        }
        for key in &keys {
            let state = HmacState::new(key);
            // Through the stored form too.
            let state_again = HmacState::from_bytes(&state.to_bytes()[..]).unwrap();
            for message in &messages {
                let expected = hmac_sha256(key, message);
                assert_eq!(
                    state.mac(message),
                    expected,
                    "key {}, message {}",
                    key.len(),
                    message.len()
                );
                assert_eq!(state_again.mac(message), expected);
                assert!(state.verify(message, &expected));
                let mut wrong = expected;
                wrong[31] ^= 1;
                assert!(!state.verify(message, &wrong));
            }
        }
        // RFC 4231 test case 2, and a key of more than a block (test case 6).
        assert_eq!(
            hex::encode(HmacState::new(b"Jefe").mac(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(
                HmacState::new(&[0xaa; 131])
                    .mac(b"Test Using Larger Than Block-Size Key - Hash Key First")
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert!(HmacState::from_bytes(&[0u8; 63]).is_err());
    }

    #[test]
    fn webhook_states_are_bound_to_their_key_tenant_and_store() {
        let key = server_webhook_key(&[1; 32]).unwrap();
        let other = server_webhook_key(&[2; 32]).unwrap();
        assert_ne!(key.expose_secret(), other.expose_secret());
        let (layer, wrap) = server_subkeys(&[1; 32]).unwrap();
        assert_ne!(key.expose_secret(), layer.expose_secret());
        assert_ne!(key.expose_secret(), wrap.expose_secret());
        let aad = webhook_state_aad("t1", "1001");
        let state = HmacState::new(b"api key");
        let blob = seal_webhook_state(key.expose_secret(), &aad, &state).unwrap();
        assert_eq!(blob.len(), 12 + 64 + 16);
        let opened = open_webhook_state(key.expose_secret(), &aad, &blob).unwrap();
        assert_eq!(opened.mac(b"m"), hmac_sha256(b"api key", b"m"));
        for (k, a) in [
            (&other, aad.clone()),
            (&key, webhook_state_aad("t2", "1001")),
            (&key, webhook_state_aad("t1", "1002")),
        ] {
            assert!(matches!(
                open_webhook_state(k.expose_secret(), &a, &blob),
                Err(VaultError::Decrypt)
            ));
        }
        let moved =
            reseal_webhook_state(key.expose_secret(), other.expose_secret(), &aad, &blob).unwrap();
        let opened = open_webhook_state(other.expose_secret(), &aad, &moved).unwrap();
        assert_eq!(opened.mac(b"m"), hmac_sha256(b"api key", b"m"));
    }

    #[test]
    fn mac_hex_and_digests() {
        let tag = hmac_sha256(b"k", b"m");
        assert_eq!(parse_mac_hex(&hex::encode(tag)), Some(tag));
        assert_eq!(
            parse_mac_hex(&format!(" {} ", hex::encode_upper(tag))),
            Some(tag)
        );
        for bad in [
            "",
            "zz",
            &hex::encode(&tag[..31]),
            &format!("{}00", hex::encode(tag)),
        ] {
            assert_eq!(parse_mac_hex(bad), None, "{bad:?}");
        }
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bcrypt_round_trip() {
        let m = MasterKeyMaterial::generate().unwrap();
        let hash = bcrypt_hash(&m, 4).unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(bcrypt_verify(&m, &hash));
        assert!(!bcrypt_verify(
            &MasterKeyMaterial::generate().unwrap(),
            &hash
        ));
        assert!(!bcrypt_verify(&m, "not a hash"));
    }
}
