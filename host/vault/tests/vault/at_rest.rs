//! Secrets at rest: ciphertexts that were altered or moved to another row fail to
//! decrypt, and no secret appears in plaintext in any file of the data directory or in
//! a `Debug` output.

use std::path::Path;

use orderdesk_vault::{AuditEntry, DB_FILE_NAME, VaultError, VaultOptions};
use secrecy::ExposeSecret;

use crate::{API_KEY_A, API_KEY_B, ORIGIN, open, options, raw, secret, tenant_with_store};

#[test]
fn tampered_ciphertext_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, _, t, store) = tenant_with_store(&vault);

    let db = raw(dir.path());
    let blob: Vec<u8> = db
        .query_row("SELECT api_key FROM stores", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        blob.len(),
        12 + (12 + API_KEY_A.len() + 16) + 16,
        "two layers: nonce ‖ (nonce ‖ ciphertext ‖ tag) ‖ tag"
    );
    for i in [0, 12, blob.len() / 2, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[i] ^= 0x80;
        db.execute("UPDATE stores SET api_key = ?1", [&bad])
            .unwrap();
        let err = vault.store_api_key(&t, &store, ORIGIN).unwrap_err();
        assert_eq!(err, VaultError::Decrypt);
        assert!(!err.to_string().contains(API_KEY_A));
    }
    db.execute("UPDATE stores SET api_key = x'00'", []).unwrap();
    assert_eq!(
        vault.store_api_key(&t, &store, ORIGIN).unwrap_err(),
        VaultError::Decrypt
    );
    db.execute("UPDATE stores SET api_key = ?1", [&blob])
        .unwrap();
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
}

#[test]
fn ciphertext_moved_to_another_row_fails() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id_a, key_a) = vault.create_tenant().unwrap();
    let (id_b, key_b) = vault.create_tenant().unwrap();
    let a = vault.authenticate(key_a.as_secret()).unwrap();
    let b = vault.authenticate(key_b.as_secret()).unwrap();
    let s1 = vault
        .add_store(&a, "1001", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();
    let s2 = vault
        .add_store(&a, "1002", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();
    let sb = vault
        .add_store(&b, "1001", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();

    let db = raw(dir.path());
    // Within one tenant: store 1001's ciphertext copied onto store 1002's row.
    db.execute(
        "UPDATE stores SET api_key = (SELECT api_key FROM stores WHERE tenant_id = ?1 AND store_id = '1001') \
         WHERE tenant_id = ?1 AND store_id = '1002'",
        [&id_a.0],
    )
    .unwrap();
    assert_eq!(
        vault.store_api_key(&a, &s2, ORIGIN).unwrap_err(),
        VaultError::Decrypt
    );
    assert_eq!(
        vault
            .store_api_key(&a, &s1, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );

    // Across tenants: B's row gets A's ciphertext of the same store id.
    db.execute(
        "UPDATE stores SET api_key = (SELECT api_key FROM stores WHERE tenant_id = ?1 AND store_id = '1001') \
         WHERE tenant_id = ?2 AND store_id = '1001'",
        [&id_a.0, &id_b.0],
    )
    .unwrap();
    assert_eq!(
        vault.store_api_key(&b, &sb, ORIGIN).unwrap_err(),
        VaultError::Decrypt
    );
}

/// Every byte of every file in the data dir, checked for the secrets in any form the
/// vault handles them.
fn assert_no_plaintext(dir: &Path, needles: &[(&str, Vec<u8>)]) {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for (what, needle) in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{what} found in plaintext in {}",
                path.display()
            );
        }
    }
    assert!(files >= 2);
}

#[test]
fn no_secret_is_stored_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    vault
        .add_store(&t, "1001", &secret(API_KEY_A), Some("Main"), None, ORIGIN)
        .unwrap();
    vault
        .add_store(&t, "1002", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();
    vault.delete_store(t.tenant_id(), "1002").unwrap();
    vault
        .record_audit(&AuditEntry {
            at: String::new(),
            tenant_id: Some(t.tenant_id().0.clone()),
            store_id: Some("1001".into()),
            tool: "stores_register".into(),
            arguments: r#"{"api_key":"[REDACTED]"}"#.into(),
            outcome: "ok".into(),
            duration_ms: 3,
            correlation_id: "c1".into(),
        })
        .unwrap();

    let master_text = key.expose().to_owned();
    let master_bytes = hex::decode(&master_text[5..]).unwrap();
    let needles = [
        ("the master key", master_text.clone().into_bytes()),
        ("the master key's hex", master_text.as_bytes()[5..].to_vec()),
        ("the master key's bytes", master_bytes),
        ("API key A", API_KEY_A.as_bytes().to_vec()),
        ("API key B (deleted store)", API_KEY_B.as_bytes().to_vec()),
    ];
    // While open: the WAL and shared-memory files exist and hold the recent writes.
    assert!(dir.path().join(format!("{DB_FILE_NAME}-wal")).exists());
    assert_no_plaintext(dir.path(), &needles);
    // After a checkpoint and close, in the main file.
    drop(vault);
    assert_no_plaintext(dir.path(), &needles);
    // Debug output of everything holding secrets is redacted too.
    let vault = open(dir.path());
    let t = vault.authenticate(key.as_secret()).unwrap();
    let opts = VaultOptions {
        server_key: Some(secret(&"ab".repeat(32))),
        ..options(false)
    };
    for dbg in [
        format!("{key:?}"),
        format!("{t:?}"),
        format!("{vault:?}"),
        format!("{opts:?}"),
    ] {
        assert!(!dbg.contains(&master_text[5..]), "{dbg}");
        assert!(!dbg.contains(&"ab".repeat(32)), "{dbg}");
    }
}
