//! Tags that authenticate the host's compiled-code cache.
//!
//! The compile cache holds native code that the host maps executable: a file planted in
//! it would run as the host. Each entry carries a tag, HMAC-SHA256 under a key derived
//! from the server key, and an entry whose tag does not verify is recompiled. Only the
//! vault holds the server key, so the host asks it for tags. After `server-key rotate`
//! the tags change and every entry is recompiled once.

use crate::{Vault, crypto};

/// HKDF `info` of the compile-cache key: one purpose, one key.
const CODE_TAG_INFO: &[u8] = b"orderdesk-mcp compile-cache tag v1";

impl Vault {
    /// The tag of a compiled-code cache entry's bytes.
    pub fn code_tag(&self, code: &[u8]) -> [u8; 32] {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        crypto::hkdf_sha256(
            &[self.keys().server.bytes()],
            b"",
            CODE_TAG_INFO,
            key.as_mut(),
        )
        .expect("32 bytes is a valid HKDF-SHA256 output length");
        crypto::hmac_sha256(key.as_ref(), code)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Vault, VaultOptions};

    #[test]
    fn tags_depend_on_the_code_and_on_the_server_key() {
        let open = |dir: &std::path::Path| {
            Vault::open(
                dir,
                VaultOptions {
                    bcrypt_cost: 4,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (vault_a, vault_b) = (open(a.path()), open(b.path()));
        assert_eq!(vault_a.code_tag(b"code"), vault_a.code_tag(b"code"));
        assert_ne!(vault_a.code_tag(b"code"), vault_a.code_tag(b"cod3"));
        assert_ne!(vault_a.code_tag(b"code"), vault_b.code_tag(b"code"));
    }
}
