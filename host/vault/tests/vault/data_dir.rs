//! Opening a data directory: private files, the server key (generated, provided, or
//! refused), the database schema across reopenings, and options that are refused.

use std::path::Path;

use orderdesk_vault::{DB_FILE_NAME, SERVER_KEY_FILE_NAME, Vault, VaultError, VaultOptions};
use rusqlite::Connection;
use secrecy::ExposeSecret;

use crate::{API_KEY_A, ORIGIN, open, options, raw, secret};

#[cfg(unix)]
#[test]
fn files_are_private_and_a_readable_server_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("data");
    let vault = open(&dir);
    let (_, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    vault
        .add_store(&t, "1", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(SERVER_KEY_FILE_NAME)), 0o600);
    assert_eq!(mode(vault.db_path()), 0o600);
    for suffix in ["-wal", "-shm"] {
        let p = dir.join(format!("{DB_FILE_NAME}{suffix}"));
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(vault);

    let key_path = dir.join(SERVER_KEY_FILE_NAME);
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Vault::open(&dir, options(false)).unwrap_err();
    assert!(matches!(err, VaultError::Config(_)));
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", key_path.display())),
        "{err}"
    );
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let vault = open(&dir);
    assert!(vault.authenticate(key.as_secret()).is_ok());
}

#[test]
fn provided_server_key_is_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let with_key = |k: &str| VaultOptions {
        server_key: Some(secret(k)),
        ..options(false)
    };
    let k1 = "11".repeat(32);
    let vault = Vault::open(dir.path(), with_key(&k1)).unwrap();
    let (_, key) = vault.create_tenant().unwrap();
    drop(vault);
    assert!(!dir.path().join(SERVER_KEY_FILE_NAME).exists());

    // Same key in base64: same bytes, same vault.
    let b64 = "ERERERERERERERERERERERERERERERERERERERERERE=";
    let vault = Vault::open(dir.path(), with_key(b64)).unwrap();
    assert!(vault.authenticate(key.as_secret()).is_ok());
    drop(vault);

    // Another server key (or the generated file) would make every tenant unknown:
    // refused at open.
    let err = Vault::open(dir.path(), with_key(&"22".repeat(32))).unwrap_err();
    assert!(
        matches!(&err, VaultError::Config(m) if m.contains("server key")),
        "{err:?}"
    );
    assert!(!err.to_string().contains(&"22".repeat(32)));
    let err = Vault::open(dir.path(), options(false)).unwrap_err();
    assert!(matches!(err, VaultError::Config(_)));
    let err = Vault::open(dir.path(), with_key("tooshort")).unwrap_err();
    assert!(matches!(err, VaultError::Config(_)));
}

#[test]
fn database_is_sound_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let version = |c: &Connection| -> i64 {
        c.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let (id, key) = {
        let vault = open(dir.path());
        let (id, key) = vault.create_tenant().unwrap();
        let t = vault.authenticate(key.as_secret()).unwrap();
        vault
            .add_store(&t, "1", &secret(API_KEY_A), None, None, ORIGIN)
            .unwrap();
        (id, key)
    };
    let v1 = version(&raw(dir.path()));
    assert!(v1 >= 1);
    // Reopening applies nothing and keeps the data.
    let vault = open(dir.path());
    assert_eq!(version(&raw(dir.path())), v1);
    assert_eq!(vault.tenant_count().unwrap(), 1);
    let t = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(t.tenant_id(), &id);
    let store = vault.resolve_store(&id, "1").unwrap().0;
    assert_eq!(
        vault
            .store_api_key(&t, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );

    let db = raw(dir.path());
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let fk_violations: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_violations, 0);
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in ["audit_log", "stores", "tenants"] {
        assert!(tables.iter().any(|n| n == t), "{tables:?}");
    }
}

#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for cost in [0, 3, 32] {
        let err = Vault::open(
            dir.path(),
            VaultOptions {
                bcrypt_cost: cost,
                ..VaultOptions::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, VaultError::Config(_)), "{cost}: {err:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_data_dir_readable_by_others_is_repaired_only_when_it_holds_only_our_files() {
    use orderdesk_vault::{DataDirCheck, secure_data_dir};
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();

    // Missing: created 0700, parents too.
    let dir = base.path().join("a").join("data");
    assert_eq!(secure_data_dir(&dir).unwrap(), DataDirCheck::Created);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(secure_data_dir(&dir).unwrap(), DataDirCheck::Private);

    // As an earlier version left it (0755, our files only): repaired, and it opens.
    let vault = open(&dir);
    vault.create_tenant().unwrap();
    drop(vault);
    set(&dir, 0o755);
    let err = secure_data_dir(&dir);
    assert_eq!(err.unwrap(), DataDirCheck::Repaired { was_mode: 0o755 });
    assert_eq!(mode(&dir), 0o700);
    set(&dir, 0o750);
    open(&dir);
    assert_eq!(mode(&dir), 0o700, "Vault::open repairs it too");

    // Holding anything else (a home directory, say): refused, with what to run.
    set(&dir, 0o755);
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = secure_data_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("mode 0755"), "{err}");
    assert!(
        err.contains(&format!("chmod 700 {}", dir.display())),
        "{err}"
    );
    assert_eq!(mode(&dir), 0o755, "left as it was");
    assert!(Vault::open(&dir, options(false)).is_err());

    // Writable by others (its files may have been replaced), or sticky: refused.
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    for m in [0o775, 0o757, 0o1777] {
        set(&dir, m);
        let err = secure_data_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{m:o}: {err}");
        assert_eq!(mode(&dir), m);
    }
    set(&dir, 0o700);

    // Not a directory.
    let file = base.path().join("file");
    std::fs::write(&file, "").unwrap();
    let err = secure_data_dir(&file).unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_data_dir_of_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    // Give it away (possible as root, which CI runs as); otherwise nothing to test here.
    let given = std::process::Command::new("chown")
        .args(["65534", dir.to_str().unwrap()])
        .status()
        .is_ok_and(|s| s.success());
    if !given || std::fs::metadata(&dir).unwrap().uid() != 65534 {
        eprintln!("skipped: cannot give a directory to another user here");
        return;
    }
    let err = orderdesk_vault::secure_data_dir(&dir)
        .unwrap_err()
        .to_string();
    assert!(err.contains("belongs to user id 65534"), "{err}");
    assert!(err.contains("--data-dir"), "{err}");
    assert!(Vault::open(&dir, options(false)).is_err());
}
