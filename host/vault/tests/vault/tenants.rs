//! Creating tenants and authenticating with master keys: wrong and malformed keys,
//! auto-provisioning, finding a tenant among many, the failure limiter, and the dummy
//! bcrypt verify for unknown keys.

use orderdesk_vault::{
    BENCHMARK_AUTHENTICATING_KEYS, MAX_FAILED_AUTH_PER_MINUTE, Vault, VaultError, VaultOptions,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{API_KEY_A, ORIGIN, open, options, secret};

#[test]
fn create_authenticate_and_reject_wrong_keys() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, key) = vault.create_tenant().unwrap();
    assert!(key.expose().starts_with("odmk_"));
    assert_eq!(key.expose().len(), 69);
    assert!(uuid::Uuid::parse_str(&id.0).is_ok());

    let session = vault.authenticate(key.as_secret()).unwrap();
    assert_eq!(session.tenant_id(), &id);
    assert_eq!(vault.tenant_count().unwrap(), 1);

    // A well-formed key nobody has.
    let other = format!("odmk_{}", "0".repeat(64));
    let err = vault.authenticate(&secret(&other)).unwrap_err();
    assert!(matches!(err, VaultError::Unauthenticated(_)), "{err:?}");
    // Something that is not a master key at all.
    let err = vault.authenticate(&secret("hunter2")).unwrap_err();
    assert!(matches!(err, VaultError::Unauthenticated(_)));
    assert!(!err.to_string().contains("hunter2"));
    // Auto-provisioning is off by default: nothing was created.
    assert_eq!(vault.tenant_count().unwrap(), 1);
    assert!(!VaultOptions::default().auto_provision);
    assert_eq!(VaultOptions::default().bcrypt_cost, 12);
}

#[test]
fn auto_provision_creates_the_tenant_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), options(true)).unwrap();
    let key = secret(&format!("odmk_{}", "ab12".repeat(16)));
    let first = vault.authenticate(&key).unwrap();
    assert_eq!(vault.tenant_count().unwrap(), 1);
    let again = vault.authenticate(&key).unwrap();
    assert_eq!(first.tenant_id(), again.tenant_id());
    // The provisioned key works for encryption like any other.
    vault
        .add_store(&first, "1", &secret(API_KEY_A), None, None, ORIGIN)
        .unwrap();
    let store = vault.resolve_store(again.tenant_id(), "1").unwrap().0;
    assert_eq!(
        vault
            .store_api_key(&again, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    // Malformed keys never provision.
    assert!(vault.authenticate(&secret("short")).is_err());
    assert_eq!(vault.tenant_count().unwrap(), 1);
    drop(vault);

    // The same data dir opened without auto-provisioning refuses new keys.
    let vault = open(dir.path());
    let err = vault
        .authenticate(&secret(&format!("odmk_{}", "cd34".repeat(16))))
        .unwrap_err();
    assert!(matches!(err, VaultError::Unauthenticated(_)));
    assert!(vault.authenticate(&key).is_ok());
}

#[test]
fn lookup_finds_the_right_tenant_among_thousands() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (own_id, own_key) = vault.create_tenant().unwrap();
    let keys = vault.insert_tenants_for_benchmark(2000, 4).unwrap();
    assert_eq!(keys.len(), 2000);
    assert_eq!(vault.tenant_count().unwrap(), 2001);
    let distinct: std::collections::HashSet<_> = keys.iter().map(|k| k.expose()).collect();
    assert_eq!(distinct.len(), 2000);

    let mut ids = std::collections::HashSet::new();
    for key in keys[..BENCHMARK_AUTHENTICATING_KEYS]
        .iter()
        .chain(keys.last())
    {
        let t = vault.authenticate(key.as_secret()).unwrap();
        assert_ne!(t.tenant_id(), &own_id);
        assert!(
            ids.insert(t.tenant_id().clone()),
            "each key finds its own tenant"
        );
        // And the same key finds the same tenant again.
        assert_eq!(
            vault.authenticate(key.as_secret()).unwrap().tenant_id(),
            t.tenant_id()
        );
    }
    assert_eq!(
        vault.authenticate(own_key.as_secret()).unwrap().tenant_id(),
        &own_id
    );

    // That each authentication is one search of the unique index, however many
    // tenants there are, is asserted on the statement itself in `db`'s unit tests.
}

#[test]
fn failed_authentications_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, key) = vault.create_tenant().unwrap();
    // Successes do not count.
    for _ in 0..10 {
        vault.authenticate(key.as_secret()).unwrap();
    }
    let wrong = secret(&format!("odmk_{}", "9".repeat(64)));
    for _ in 0..MAX_FAILED_AUTH_PER_MINUTE {
        assert!(matches!(
            vault.authenticate(&wrong).unwrap_err(),
            VaultError::Unauthenticated(_)
        ));
    }
    // Now even the right key is refused, unchecked, with a wait of at most a minute.
    match vault.authenticate(key.as_secret()).unwrap_err() {
        VaultError::TooManyAttempts { retry_after_ms } => {
            assert!(
                retry_after_ms > 0 && retry_after_ms <= 60_000,
                "{retry_after_ms}"
            );
        }
        other => panic!("expected TooManyAttempts, got {other:?}"),
    }
    assert!(matches!(
        vault.authenticate(&wrong).unwrap_err(),
        VaultError::TooManyAttempts { .. }
    ));
    // Another source has its own budget.
    vault
        .authenticate_from("client-2", key.as_secret())
        .unwrap();
}

#[test]
fn unknown_keys_cost_a_bcrypt_verify_too() {
    // With a cost high enough for bcrypt to dominate, an unknown key must take about as
    // long as a known one (it is verified against a dummy hash). Generous bound: this
    // machine may be busy.
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(
        dir.path(),
        VaultOptions {
            bcrypt_cost: 8,
            ..options(false)
        },
    )
    .unwrap();
    let (_, key) = vault.create_tenant().unwrap();
    let unknown = secret(&format!("odmk_{}", "5".repeat(64)));
    // Warm the lazily made dummy hash.
    let _ = vault.authenticate_from("warm-up", &unknown);
    let time = |k: &SecretString, source: &str| {
        let start = std::time::Instant::now();
        let _ = vault.authenticate_from(source, k);
        start.elapsed()
    };
    let known = (0..3)
        .map(|_| time(key.as_secret(), "known"))
        .min()
        .unwrap();
    let unknown = (0..3)
        .map(|i| time(&unknown, &format!("unknown-{i}")))
        .min()
        .unwrap();
    assert!(
        unknown * 3 >= known,
        "unknown key answered in {unknown:?}, known key in {known:?}"
    );
}
