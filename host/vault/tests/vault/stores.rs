//! A tenant's stores: registering, listing, resolving, deleting, decrypting their API
//! keys; input limits, conflicts, isolation between tenants, concurrent use.

use orderdesk_vault::{MatchKind, VaultError};
use secrecy::ExposeSecret;

use crate::{API_KEY_A, API_KEY_B, ORIGIN, open, secret};

#[test]
fn stores_round_trip_and_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();

    let a = vault
        .add_store(
            &t,
            " 1001 ",
            &secret(API_KEY_A),
            Some("Main"),
            Some("EU shop"),
            ORIGIN,
        )
        .unwrap();
    assert_eq!(a.store_id, "1001");
    assert_eq!(a.name, "Main");
    assert_eq!(a.label.as_deref(), Some("EU shop"));
    assert_eq!(a.tenant_id, id);
    assert_eq!(a.created_at.len(), 19, "{}", a.created_at);
    let b = vault
        .add_store(&t, "1002", &secret(API_KEY_B), None, Some("  "), ORIGIN)
        .unwrap();
    assert_eq!(b.name, "1002", "name defaults to the store id");
    assert_eq!(b.label, None);
    let c = vault
        .add_store(
            &t,
            "1003",
            &secret(API_KEY_B),
            Some("archive"),
            None,
            ORIGIN,
        )
        .unwrap();

    let names: Vec<_> = vault
        .list_stores(&id)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["1002", "archive", "Main"]);

    assert_eq!(
        vault.resolve_store(&id, "1001").unwrap(),
        (a.clone(), MatchKind::StoreId)
    );
    assert_eq!(
        vault.resolve_store(&id, "Main").unwrap(),
        (a.clone(), MatchKind::Name)
    );
    assert_eq!(vault.resolve_store(&id, "main").unwrap().1, MatchKind::Name);
    assert_eq!(vault.resolve_store(&id, " ARCHIVE ").unwrap().0, c);
    let err = vault.resolve_store(&id, "nope").unwrap_err();
    assert!(
        matches!(&err, VaultError::NotFound(m) if m.contains("nope")),
        "{err:?}"
    );
    assert!(matches!(
        vault.resolve_store(&id, " ").unwrap_err(),
        VaultError::InvalidInput(_)
    ));

    assert_eq!(
        vault.store_api_key(&t, &a, ORIGIN).unwrap().expose_secret(),
        API_KEY_A
    );
    assert_eq!(
        vault.store_api_key(&t, &b, ORIGIN).unwrap().expose_secret(),
        API_KEY_B
    );

    // A fresh session (new authentication) derives the same key.
    let t2 = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(
        vault
            .store_api_key(&t2, &c, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );

    let deleted = vault.delete_store(&id, "main").unwrap();
    assert_eq!(deleted, a);
    assert!(matches!(
        vault.resolve_store(&id, "1001"),
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        vault.store_api_key(&t, &a, ORIGIN),
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        vault.delete_store(&id, "1001"),
        Err(VaultError::NotFound(_))
    ));
    assert_eq!(vault.list_stores(&id).unwrap().len(), 2);
}

#[test]
fn invalid_store_input_is_refused_without_echoing_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    let err = vault
        .add_store(&t, "12\r\nX: y", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidInput(_)));
    let err = vault
        .add_store(
            &t,
            "12",
            &secret("bad key with\nnewline"),
            None,
            None,
            ORIGIN,
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidInput(_)));
    assert!(!err.to_string().contains("newline"));
    let err = vault
        .add_store(
            &t,
            "12",
            &secret(API_KEY_A),
            Some(&"n".repeat(101)),
            None,
            ORIGIN,
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidInput(_)));
}

#[test]
fn duplicates_conflict_and_say_which() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    vault
        .add_store(&t, "1001", &secret(API_KEY_A), Some("Main"), None, ORIGIN)
        .unwrap();
    vault
        .add_store(&t, "1002", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();

    let conflict = |store_id: &str, name: Option<&str>| match vault
        .add_store(&t, store_id, &secret(API_KEY_B), name, None, ORIGIN)
        .unwrap_err()
    {
        VaultError::Conflict(m) => m,
        other => panic!("expected a conflict, got {other:?}"),
    };
    let m = conflict("1001", Some("Other"));
    assert!(m.contains("store id '1001'"), "{m}");
    let m = conflict("2000", Some("Main"));
    assert!(m.contains("store name 'Main'") && m.contains("1001"), "{m}");
    let m = conflict("2000", Some("MAIN"));
    assert!(
        m.contains("store name 'MAIN'"),
        "names compare case-insensitively: {m}"
    );
    let m = conflict("2000", Some("1001"));
    assert!(m.contains("store name '1001'"), "{m}");
    let m = conflict("main", None);
    assert!(
        m.contains("store id 'main'"),
        "a store id may not be another's name: {m}"
    );
    // Nothing was written by the failed attempts.
    assert_eq!(vault.list_stores(&id).unwrap().len(), 2);
}

#[test]
fn tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id_a, key_a) = vault.create_tenant().unwrap();
    let (id_b, key_b) = vault.create_tenant().unwrap();
    assert_ne!(id_a, id_b);
    let a = vault.authenticate(key_a.as_secret()).unwrap();
    let b = vault.authenticate(key_b.as_secret()).unwrap();

    // Same store id and name in both tenants: no conflict across tenants.
    let sa = vault
        .add_store(&a, "1001", &secret(API_KEY_A), Some("Main"), None, ORIGIN)
        .unwrap();
    let sb = vault
        .add_store(&b, "1001", &secret(API_KEY_B), Some("Main"), None, ORIGIN)
        .unwrap();
    vault
        .add_store(&a, "1002", &secret(API_KEY_A), Some("Only A"), None, ORIGIN)
        .unwrap();

    let list_b = vault.list_stores(&id_b).unwrap();
    assert_eq!(list_b, vec![sb.clone()]);
    assert_eq!(vault.list_stores(&id_a).unwrap().len(), 2);
    assert_eq!(vault.resolve_store(&id_b, "Main").unwrap().0, sb);
    assert_eq!(vault.resolve_store(&id_a, "Main").unwrap().0, sa);
    assert!(matches!(
        vault.resolve_store(&id_b, "Only A"),
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        vault.resolve_store(&id_b, "1002"),
        Err(VaultError::NotFound(_))
    ));

    assert_eq!(
        vault
            .store_api_key(&a, &sa, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    assert_eq!(
        vault
            .store_api_key(&b, &sb, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    // B's session cannot open A's ciphertext, even naming A's store record.
    assert_eq!(
        vault.store_api_key(&b, &sa, ORIGIN).unwrap_err(),
        VaultError::Decrypt
    );
    assert_eq!(
        vault.store_api_key(&a, &sb, ORIGIN).unwrap_err(),
        VaultError::Decrypt
    );

    // Deleting in B leaves A's store of the same name.
    vault.delete_store(&id_b, "Main").unwrap();
    assert!(vault.list_stores(&id_b).unwrap().is_empty());
    assert_eq!(vault.resolve_store(&id_a, "Main").unwrap().0, sa);
    assert!(matches!(
        vault.delete_store(&id_b, "Only A"),
        Err(VaultError::NotFound(_))
    ));
    assert_eq!(vault.list_stores(&id_a).unwrap().len(), 2);
}

#[test]
fn shared_between_threads() {
    let dir = tempfile::tempdir().unwrap();
    let vault = std::sync::Arc::new(open(dir.path()));
    let (id, key) = vault.create_tenant().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let vault = vault.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let t = vault.authenticate(key.as_secret()).unwrap();
                let store_id = format!("{}", 100 + i);
                let s = vault
                    .add_store(&t, &store_id, &secret(API_KEY_A), None, None, ORIGIN)
                    .unwrap();
                assert_eq!(
                    vault.store_api_key(&t, &s, ORIGIN).unwrap().expose_secret(),
                    API_KEY_A
                );
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(vault.list_stores(&id).unwrap().len(), 4);
}

#[test]
fn a_store_key_is_handed_out_only_for_the_origin_it_was_saved_for() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    let store = vault
        .add_store(&t, "1001", &secret(API_KEY_A), Some("main"), None, ORIGIN)
        .unwrap();
    assert_eq!(store.api_origin.as_deref(), Some(ORIGIN));
    assert_eq!(
        vault.list_stores(&id).unwrap()[0].api_origin.as_deref(),
        Some(ORIGIN)
    );

    let elsewhere = "http://127.0.0.1:9999";
    let error = vault.store_api_key(&t, &store, elsewhere).unwrap_err();
    assert_eq!(
        error,
        VaultError::OriginMismatch {
            store_id: "1001".into(),
            registered: ORIGIN.into(),
            requested: elsewhere.into(),
        }
    );
    let message = error.to_string();
    assert!(
        message.contains(ORIGIN) && message.contains(elsewhere),
        "{message}"
    );
    assert!(message.contains("stores update-key 1001"), "{message}");
    assert!(!message.contains(API_KEY_A));
    assert!(matches!(
        vault.store_api_key(&t, &store, "not an origin"),
        Err(VaultError::InvalidInput(_))
    ));

    // The origin is part of the ciphertext's associated data: pointing the row at
    // another origin does not make its key usable there.
    crate::raw(dir.path())
        .execute("UPDATE stores SET api_origin = ?1", [elsewhere])
        .unwrap();
    assert_eq!(
        vault.store_api_key(&t, &store, elsewhere).unwrap_err(),
        VaultError::Decrypt
    );
    crate::raw(dir.path())
        .execute("UPDATE stores SET api_origin = NULL", [])
        .unwrap();
    assert_eq!(
        vault.store_api_key(&t, &store, elsewhere).unwrap_err(),
        VaultError::Decrypt,
        "nor does clearing it"
    );
    crate::raw(dir.path())
        .execute("UPDATE stores SET api_origin = ?1", [ORIGIN])
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
fn a_replaced_key_is_saved_for_the_new_origin_and_the_old_one_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    let t = vault.authenticate(key.as_secret()).unwrap();
    let store = vault
        .add_store(
            &t,
            "1001",
            &secret(API_KEY_A),
            Some("main"),
            Some("EU"),
            ORIGIN,
        )
        .unwrap();
    let before: Vec<u8> = crate::raw(dir.path())
        .query_row("SELECT api_key FROM stores", [], |r| r.get(0))
        .unwrap();

    let moved = "https://eu.orderdesk.example";
    let updated = vault
        .update_store_key(&t, "MAIN", &secret(API_KEY_B), moved)
        .unwrap();
    assert_eq!(updated.store_id, "1001");
    assert_eq!(
        (updated.name.as_str(), updated.label.as_deref()),
        ("main", Some("EU"))
    );
    assert_eq!(updated.api_origin.as_deref(), Some(moved));
    let after: Vec<u8> = crate::raw(dir.path())
        .query_row("SELECT api_key FROM stores", [], |r| r.get(0))
        .unwrap();
    assert_ne!(before, after);
    assert_eq!(
        vault
            .store_api_key(&t, &store, moved)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    assert!(matches!(
        vault.store_api_key(&t, &store, ORIGIN),
        Err(VaultError::OriginMismatch { .. })
    ));
    // Bad input changes nothing and never echoes the key.
    let error = vault
        .update_store_key(&t, "main", &secret("bad key\n"), moved)
        .unwrap_err();
    assert!(matches!(error, VaultError::InvalidInput(_)));
    assert!(!error.to_string().contains("bad key"));
    assert!(matches!(
        vault.update_store_key(&t, "nope", &secret(API_KEY_A), moved),
        Err(VaultError::NotFound(_))
    ));
    // Another tenant cannot replace it.
    let (_, other_key) = vault.create_tenant().unwrap();
    let other = vault.authenticate(other_key.as_secret()).unwrap();
    assert!(matches!(
        vault.update_store_key(&other, "1001", &secret(API_KEY_A), moved),
        Err(VaultError::NotFound(_))
    ));
    assert_eq!(
        vault
            .store_api_key(&t, &store, moved)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    assert_eq!(vault.list_stores(&id).unwrap().len(), 1);
}
