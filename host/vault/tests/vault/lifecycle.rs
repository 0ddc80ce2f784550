//! The key lifecycle: rotating a tenant's master key with a grace period, revoking and
//! deleting a tenant, rotating the server key (with a key file or from the
//! environment, interrupted or not); each audited with its source.

use std::time::Duration;

use orderdesk_vault::{
    AuditSource, NEW_SERVER_KEY_FILE_NAME, SERVER_KEY_FILE_NAME, Vault, VaultError, VaultOptions,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{API_KEY_A, API_KEY_B, ORIGIN, open, options, raw, secret, tenant_with_store};

const HOUR: Duration = Duration::from_secs(3600);

fn blobs(dir: &std::path::Path) -> Vec<Vec<u8>> {
    raw(dir)
        .prepare("SELECT api_key FROM stores ORDER BY store_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn audit_rows(dir: &std::path::Path) -> Vec<(String, String, Option<String>, String)> {
    raw(dir)
        .prepare("SELECT tool, source, tenant_id, arguments FROM audit_log ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_rotated_master_key_reencrypts_the_stores_and_the_old_key_works_until_its_grace_ends() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, old_key) = vault.create_tenant().unwrap();
    let (other_id, other_key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(old_key.as_secret()).unwrap();
    let a = vault
        .add_store(&t, "1001", &secret(API_KEY_A), Some("a"), None, ORIGIN)
        .unwrap();
    let b = vault
        .add_store(&t, "1002", &secret(API_KEY_B), Some("b"), None, ORIGIN)
        .unwrap();
    let other = vault.authenticate(other_key.as_secret()).unwrap();
    vault
        .add_store(&other, "1001", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();
    // A session opened with the old key before the rotation (another client).
    let earlier = vault.authenticate(old_key.as_secret()).unwrap();
    let before = blobs(dir.path());

    let rotation = vault.rotate_master_key(&t, HOUR, AuditSource::Cli).unwrap();
    let new_key = rotation.master_key.clone();
    assert_ne!(new_key.expose(), old_key.expose());
    assert_eq!(
        rotation.stores_reencrypted, 2,
        "the other tenant's store untouched"
    );
    assert!(rotation.stores_unreadable.is_empty());
    assert!(rotation.old_key_expires_at.is_some());
    let after = blobs(dir.path());
    assert_ne!(before[0], after[0]);
    assert_ne!(before[2], after[2]);
    assert_eq!(before[1], after[1], "only the rotated tenant's keys change");

    // The new key signs in and decrypts; so does the rotating session itself.
    let fresh = vault.authenticate(new_key.as_secret()).unwrap();
    assert_eq!(fresh.tenant_id(), &id);
    assert_eq!(fresh.key_expires_at(), None);
    for session in [&fresh, &t] {
        assert_eq!(
            vault
                .store_api_key(session, &a, ORIGIN)
                .unwrap()
                .expose_secret(),
            API_KEY_A
        );
    }
    // The old key too, for now: a new session, and one opened before the rotation.
    let old = vault.authenticate(old_key.as_secret()).unwrap();
    assert_eq!(old.tenant_id(), &id);
    assert_eq!(old.key_expires_at(), rotation.old_key_expires_at);
    assert_eq!(
        vault
            .store_api_key(&old, &b, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    assert_eq!(
        vault
            .store_api_key(&earlier, &a, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    // A session on a retired key may not rotate (it could lock the owner out).
    let refused = vault
        .rotate_master_key(&old, HOUR, AuditSource::Cli)
        .unwrap_err();
    assert!(
        matches!(&refused, VaultError::Unauthenticated(m) if m.contains("retired")),
        "{refused:?}"
    );
    // Stores added during the grace period are readable with either key.
    vault
        .add_store(&old, "1003", &secret(API_KEY_A), Some("c"), None, ORIGIN)
        .unwrap();
    let c = vault.resolve_store(&id, "c").unwrap().0;
    assert_eq!(
        vault
            .store_api_key(&fresh, &c, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );

    // The rotation is in the audit log, naming both keys and never either key itself.
    let rows = audit_rows(dir.path());
    let (tool, source, tenant, arguments) = rows.last().unwrap();
    assert_eq!(
        (tool.as_str(), source.as_str()),
        ("tenant rotate-key", "cli")
    );
    assert_eq!(tenant.as_deref(), Some(id.as_str()));
    assert!(arguments.contains(&rotation.old_key_id), "{arguments}");
    assert!(arguments.contains(&rotation.new_key_id), "{arguments}");
    assert!(arguments.contains("\"grace_seconds\":3600"), "{arguments}");
    assert!(!arguments.contains(old_key.expose()) && !arguments.contains(new_key.expose()));

    // The grace period ends: the old key stops, for new and running sessions alike.
    raw(dir.path())
        .execute(
            "UPDATE retired_master_keys SET expires_at = unixepoch() - 1",
            [],
        )
        .unwrap();
    let error = vault.authenticate(old_key.as_secret()).unwrap_err();
    assert!(
        matches!(&error, VaultError::Unauthenticated(m) if m.contains("grace period ended")),
        "{error:?}"
    );
    for session in [&old, &earlier] {
        let error = vault.store_api_key(session, &a, ORIGIN).unwrap_err();
        assert!(
            matches!(&error, VaultError::Unauthenticated(m) if m.contains("no longer works")),
            "{error:?}"
        );
    }
    assert_eq!(
        vault
            .store_api_key(&fresh, &a, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    // Its copy of the data key is erased when the vault next opens.
    drop(vault);
    let vault = open(dir.path());
    let left: i64 = raw(dir.path())
        .query_row("SELECT count(*) FROM retired_master_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    assert!(vault.authenticate(old_key.as_secret()).is_err());
    assert!(vault.authenticate(new_key.as_secret()).is_ok());
    assert_eq!(vault.list_stores(&other_id).unwrap().len(), 1);
}

#[test]
fn without_grace_the_old_key_stops_at_once_and_a_rotation_ends_an_earlier_grace() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, first, t, store) = tenant_with_store(&vault);

    let second = vault
        .rotate_master_key(&t, HOUR, AuditSource::Cli)
        .unwrap()
        .master_key;
    assert!(
        vault.authenticate(first.as_secret()).is_ok(),
        "in its grace"
    );
    // Rotating again (from the current key) ends the first key's grace period now.
    let current = vault.authenticate(second.as_secret()).unwrap();
    let rotation = vault
        .rotate_master_key(&current, Duration::ZERO, AuditSource::Cli)
        .unwrap();
    assert_eq!(rotation.old_key_expires_at, None);
    for gone in [&first, &second] {
        let error = vault.authenticate(gone.as_secret()).unwrap_err();
        assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
    }
    let third = vault.authenticate(rotation.master_key.as_secret()).unwrap();
    assert_eq!(
        vault
            .store_api_key(&third, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    let arguments = audit_rows(dir.path()).pop().unwrap().3;
    assert!(
        arguments.contains("\"old_key_expires_at\":\"now\""),
        "{arguments}"
    );
    assert!(
        !arguments.contains("\"ended_grace_of\":[]"),
        "the first key's grace was ended: {arguments}"
    );
}

#[test]
fn a_running_session_follows_a_rotation_made_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    // Two vaults on one data directory: a server and the command line.
    let server = open(dir.path());
    let cli = open(dir.path());
    let (_, key, session, store) = tenant_with_store(&server);

    let operator = cli.authenticate(key.as_secret()).unwrap();
    let rotation = cli
        .rotate_master_key(&operator, HOUR, AuditSource::Cli)
        .unwrap();
    // The server's session signs in again with its (now retired) key, transparently.
    assert_eq!(
        server
            .store_api_key(&session, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    assert_eq!(session.key_expires_at(), rotation.old_key_expires_at);
    // And writes keep working under the new data key.
    server
        .add_store(&session, "1002", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();
    let fresh = cli.authenticate(rotation.master_key.as_secret()).unwrap();
    let added = cli.resolve_store(fresh.tenant_id(), "1002").unwrap().0;
    assert_eq!(
        cli.store_api_key(&fresh, &added, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
}

#[test]
fn a_revoked_tenant_cannot_sign_in_and_its_store_keys_are_erased() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    let (kept_id, kept_key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    let store = vault
        .add_store(&t, "1001", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();
    let rotated = vault
        .rotate_master_key(&t, HOUR, AuditSource::Cli)
        .unwrap()
        .master_key;
    let kept = vault.authenticate(kept_key.as_secret()).unwrap();
    vault
        .add_store(&kept, "1001", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();

    let removal = vault.revoke_tenant(&id, AuditSource::Cli).unwrap();
    assert_eq!((removal.stores, removal.already_revoked_at), (1, None));
    // Neither the current nor the retired key signs in; the holder is told why.
    for k in [&rotated, &key] {
        let error = vault.authenticate(k.as_secret()).unwrap_err();
        assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
    }
    let error = vault.authenticate(rotated.as_secret()).unwrap_err();
    assert!(error.to_string().contains("revoked"), "{error}");
    // A session that was open stops too.
    let error = vault.store_api_key(&t, &store, ORIGIN).unwrap_err();
    assert!(error.to_string().contains("revoked"), "{error}");
    let error = vault
        .add_store(&t, "1002", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap_err();
    assert!(error.to_string().contains("revoked"), "{error}");
    // Its ciphertexts are gone, the row and its store's name stay; the other tenant is
    // untouched.
    let db = raw(dir.path());
    let erased: i64 = db
        .query_row(
            "SELECT count(*) FROM stores WHERE tenant_id = ?1 AND length(api_key) = 0",
            [id.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(erased, 1);
    assert_eq!(vault.list_stores(&id).unwrap().len(), 1);
    let kept_store = vault.resolve_store(&kept_id, "1001").unwrap().0;
    assert_eq!(
        vault
            .store_api_key(&kept, &kept_store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    let listed = vault.list_tenants().unwrap();
    let revoked = listed.iter().find(|r| r.tenant_id == id).unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.retired_key_expires_at, None);
    // Again: nothing changes, and it says since when.
    let again = vault.revoke_tenant(&id, AuditSource::Cli).unwrap();
    assert_eq!(again.already_revoked_at, revoked.revoked_at);
    let rows = audit_rows(dir.path());
    assert_eq!(
        rows.iter()
            .filter(|(tool, source, tenant, _)| tool == "tenant revoke"
                && source == "cli"
                && tenant.as_deref() == Some(id.as_str()))
            .count(),
        1
    );
}

#[test]
fn a_deleted_tenant_is_gone_and_its_audit_rows_stay() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key, t, store) = tenant_with_store(&vault);
    vault.rotate_master_key(&t, HOUR, AuditSource::Cli).unwrap();
    let error = vault
        .delete_tenant(&orderdesk_vault::TenantId("nope".into()), AuditSource::Cli)
        .unwrap_err();
    assert!(
        matches!(&error, VaultError::NotFound(m) if m.contains("tenant list")),
        "{error:?}"
    );

    let removal = vault.delete_tenant(&id, AuditSource::Console).unwrap();
    assert_eq!(removal.stores, 1);
    assert_eq!(vault.tenant_count().unwrap(), 0);
    let db = raw(dir.path());
    for table in ["stores", "retired_master_keys"] {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert!(vault.authenticate(key.as_secret()).is_err());
    assert!(matches!(
        vault.store_api_key(&t, &store, ORIGIN),
        Err(VaultError::NotFound(_))
    ));
    let rows = audit_rows(dir.path());
    assert!(rows.iter().any(|(tool, ..)| tool == "tenant rotate-key"));
    let (tool, source, tenant, _) = rows.last().unwrap();
    assert_eq!(
        (tool.as_str(), source.as_str(), tenant.as_deref()),
        ("tenant delete", "console", Some(id.as_str()))
    );
}

#[cfg(unix)]
#[test]
fn a_rotated_server_key_file_reencrypts_every_store_and_replaces_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key, t, store) = tenant_with_store(&vault);
    let key_file = dir.path().join(SERVER_KEY_FILE_NAME);
    let old_text = std::fs::read_to_string(&key_file).unwrap();
    let before = blobs(dir.path());

    let rotation = vault.rotate_server_key(None, AuditSource::Cli).unwrap();
    assert_eq!(rotation.stores_reencrypted, 1);
    assert_eq!(rotation.key_file.as_deref(), Some(key_file.as_path()));
    let new_text = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_text, new_text);
    assert!(!dir.path().join(NEW_SERVER_KEY_FILE_NAME).exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_ne!(before, blobs(dir.path()));
    // This process goes on; master keys are untouched.
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    let (tool, source, tenant, arguments) = audit_rows(dir.path()).pop().unwrap();
    assert_eq!(
        (tool.as_str(), source.as_str(), tenant),
        ("server-key rotate", "cli", None)
    );
    assert!(
        arguments.contains("\"stores_reencrypted\":1"),
        "{arguments}"
    );
    assert!(!arguments.contains(new_text.trim()) && !arguments.contains(old_text.trim()));
    drop(vault);

    let vault = open(dir.path());
    let t = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(t.tenant_id(), &id);
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    drop(vault);
    // The old key no longer opens the database.
    let with_old = VaultOptions {
        server_key: Some(SecretString::from(old_text.trim().to_string())),
        ..options(false)
    };
    let error = Vault::open(dir.path(), with_old).unwrap_err();
    assert!(matches!(error, VaultError::Config(_)), "{error:?}");
}

#[cfg(unix)]
#[test]
fn an_interrupted_server_key_rotation_is_settled_when_the_vault_opens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, key, _, store) = tenant_with_store(&vault);
    drop(vault);
    let key_file = dir.path().join(SERVER_KEY_FILE_NAME);
    let pending = dir.path().join(NEW_SERVER_KEY_FILE_NAME);
    let private = |p: &std::path::Path| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap()
    };

    // Stopped before the database changed over: the stray new key is dropped.
    std::fs::write(&pending, "cd".repeat(32)).unwrap();
    private(&pending);
    let vault = open(dir.path());
    assert!(!pending.exists());
    let t = vault.authenticate(key.as_secret()).unwrap();
    assert!(vault.store_api_key(&t, &store, ORIGIN).is_ok());

    // Stopped after the database changed over, before the rename: finished at open.
    let old_text = std::fs::read_to_string(&key_file).unwrap();
    vault.rotate_server_key(None, AuditSource::Cli).unwrap();
    drop(vault);
    std::fs::rename(&key_file, &pending).unwrap();
    std::fs::write(&key_file, &old_text).unwrap();
    private(&key_file);
    let vault = open(dir.path());
    assert!(!pending.exists());
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_text);
    let t = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
}

#[test]
fn a_server_key_from_the_environment_is_replaced_only_by_one_the_operator_gives() {
    let dir = tempfile::tempdir().unwrap();
    let with_key = |k: &str| VaultOptions {
        server_key: Some(secret(k)),
        ..options(false)
    };
    let (k1, k2) = ("11".repeat(32), "22".repeat(32));
    let vault = Vault::open(dir.path(), with_key(&k1)).unwrap();
    let (_, key, _, store) = tenant_with_store(&vault);

    let error = vault.rotate_server_key(None, AuditSource::Cli).unwrap_err();
    assert!(
        matches!(&error, VaultError::Config(m) if m.contains("ORDERDESK_MCP_NEW_SERVER_KEY")),
        "{error:?}"
    );
    let error = vault
        .rotate_server_key(Some(&secret(&k1)), AuditSource::Cli)
        .unwrap_err();
    assert!(matches!(error, VaultError::InvalidInput(_)), "{error:?}");
    let error = vault
        .rotate_server_key(Some(&secret("short")), AuditSource::Cli)
        .unwrap_err();
    assert!(
        matches!(&error, VaultError::Config(m) if m.contains("ORDERDESK_MCP_NEW_SERVER_KEY")),
        "{error:?}"
    );
    let rotation = vault
        .rotate_server_key(Some(&secret(&k2)), AuditSource::Cli)
        .unwrap();
    assert_eq!(rotation.key_file, None);
    assert!(!dir.path().join(SERVER_KEY_FILE_NAME).exists());
    assert!(!dir.path().join(NEW_SERVER_KEY_FILE_NAME).exists());
    drop(vault);

    assert!(Vault::open(dir.path(), with_key(&k1)).is_err());
    let vault = Vault::open(dir.path(), with_key(&k2)).unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
}

#[test]
fn a_process_that_missed_a_server_key_rotation_says_to_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = open(dir.path());
    let cli = open(dir.path());
    let (_, key, t, store) = tenant_with_store(&server);
    cli.rotate_server_key(None, AuditSource::Cli).unwrap();
    let error = server.store_api_key(&t, &store, ORIGIN).unwrap_err();
    assert!(
        matches!(&error, VaultError::Config(m) if m.contains("restart")),
        "{error:?}"
    );
    let error = server
        .add_store(&t, "1002", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap_err();
    assert!(
        matches!(&error, VaultError::Config(m) if m.contains("restart")),
        "{error:?}"
    );
    // Reopened, it works.
    drop(server);
    let server = open(dir.path());
    let t = server.authenticate(key.as_secret()).unwrap();
    assert!(server.store_api_key(&t, &store, ORIGIN).is_ok());
}
