//! OrderDesk's pushes: verifying them without a master key (against the stores' webhook
//! key states), and the events recorded from them.

use hmac::{Hmac, KeyInit, Mac};
use orderdesk_vault::{
    AuditSource, PushedOrder, TenantId, TenantSession, Vault, VaultError, VaultOptions,
    WebhookEventQuery, WebhookMatch, order_digest,
};
use sha2::Sha256;

use super::{API_KEY_A, API_KEY_B, ORIGIN, open, options, raw, secret, tenant_with_store};

const ORDER: &[u8] =
    br#"{"id":"5001","store_id":"1001","folder_id":1,"date_updated":"2026-01-02 03:04:05"}"#;

/// `X-Order-Desk-Hash` of `body` signed with `api_key`, as OrderDesk makes it.
fn sign(api_key: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(api_key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn matched(tenant: &TenantId, store_name: &str) -> WebhookMatch {
    WebhookMatch {
        tenant_id: tenant.clone(),
        store_name: store_name.into(),
    }
}

/// A new tenant, signed in, with OrderDesk store `store_id` under `name` and `api_key`.
fn tenant_with(
    vault: &Vault,
    store_id: &str,
    name: &str,
    api_key: &str,
) -> (TenantId, TenantSession) {
    let (id, key) = vault.create_tenant().unwrap();
    let session = vault.authenticate(key.as_secret()).unwrap();
    vault
        .add_store(
            &session,
            store_id,
            &secret(api_key),
            Some(name),
            None,
            ORIGIN,
        )
        .unwrap();
    (id, session)
}

fn key_states(dir: &std::path::Path) -> i64 {
    raw(dir)
        .query_row("SELECT count(*) FROM webhook_keys", [], |r| r.get(0))
        .unwrap()
}

fn order(store_id: &str, order_id: &str, date_updated: Option<&str>, body: &[u8]) -> PushedOrder {
    PushedOrder {
        store_id: store_id.into(),
        order_id: order_id.into(),
        folder_id: Some(1),
        date_updated: date_updated.map(str::to_string),
        digest: order_digest(body),
    }
}

#[test]
fn a_push_matches_every_tenant_whose_key_signed_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    // Three tenants registered OrderDesk store 1001: two with key A, one with key B.
    let (a, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let (b, _) = tenant_with(&vault, "1001", "shop", API_KEY_B);
    let (c, _) = tenant_with(&vault, "1001", "same-key", API_KEY_A);
    // And one registered another store with key A.
    let (_d, _) = tenant_with(&vault, "2002", "other", API_KEY_A);

    let mut with_a = vault
        .verify_webhook("1001", ORDER, &sign(API_KEY_A, ORDER))
        .unwrap();
    with_a.sort_by(|x, y| x.tenant_id.cmp(&y.tenant_id));
    let mut expected = vec![matched(&a, "main"), matched(&c, "same-key")];
    expected.sort_by(|x, y| x.tenant_id.cmp(&y.tenant_id));
    assert_eq!(with_a, expected);
    assert_eq!(
        vault
            .verify_webhook("1001", ORDER, &sign(API_KEY_B, ORDER))
            .unwrap(),
        vec![matched(&b, "shop")]
    );
    // The hash in capitals, with surrounding whitespace, is the same hash.
    let shouted = format!(" {} ", sign(API_KEY_B, ORDER).to_uppercase());
    assert_eq!(
        vault.verify_webhook("1001", ORDER, &shouted).unwrap().len(),
        1
    );

    // Refused (empty): another key, another body, another store, a malformed hash.
    let empty = |store: &str, body: &[u8], hash: &str| {
        assert_eq!(
            vault.verify_webhook(store, body, hash).unwrap(),
            vec![],
            "{store} {hash}"
        );
    };
    empty("1001", ORDER, &sign("SomeOtherKey", ORDER));
    empty("1001", b"{\"id\":\"5002\"}", &sign(API_KEY_A, ORDER));
    empty("3003", ORDER, &sign(API_KEY_A, ORDER));
    let good = sign(API_KEY_A, ORDER);
    let mut flipped = good.clone().into_bytes();
    flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
    empty("1001", ORDER, std::str::from_utf8(&flipped).unwrap());
    for bad in [
        "",
        "zz",
        &good[..62],
        &format!("{good}00"),
        &format!("{}xy", &good[..62]),
    ] {
        empty("1001", ORDER, bad);
    }
    for bad_store in ["", "10 01", "1001\r\nX: y", &"1".repeat(65)] {
        empty(bad_store, ORDER, &good);
    }
}

#[test]
fn a_revoked_or_deleted_tenant_and_a_deleted_store_no_longer_match() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let (b, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let (c, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let hash = sign(API_KEY_A, ORDER);
    assert_eq!(vault.verify_webhook("1001", ORDER, &hash).unwrap().len(), 3);
    assert_eq!(key_states(dir.path()), 3);

    vault.delete_store(&a, "main").unwrap();
    assert_eq!(
        key_states(dir.path()),
        2,
        "the store's key state went with it"
    );
    vault.revoke_tenant(&b, AuditSource::Cli).unwrap();
    assert_eq!(
        key_states(dir.path()),
        1,
        "a revoked tenant's states are erased"
    );
    assert_eq!(
        vault.verify_webhook("1001", ORDER, &hash).unwrap(),
        vec![matched(&c, "main")]
    );
    vault.delete_tenant(&c, AuditSource::Cli).unwrap();
    assert_eq!(key_states(dir.path()), 0);
    assert_eq!(vault.verify_webhook("1001", ORDER, &hash).unwrap(), vec![]);
}

#[test]
fn a_new_key_replaces_the_state_and_old_signatures_stop_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, session) = tenant_with(&vault, "1001", "main", API_KEY_A);
    vault
        .update_store_key(&session, "main", &secret(API_KEY_B), ORIGIN)
        .unwrap();
    assert_eq!(key_states(dir.path()), 1);
    assert_eq!(
        vault
            .verify_webhook("1001", ORDER, &sign(API_KEY_A, ORDER))
            .unwrap(),
        vec![]
    );
    assert_eq!(
        vault
            .verify_webhook("1001", ORDER, &sign(API_KEY_B, ORDER))
            .unwrap(),
        vec![matched(&a, "main")]
    );
}

/// A store registered before key states existed (its state deleted here) cannot be
/// verified until a session reads its key; then it can, and the state is not the key.
#[test]
fn a_store_saved_before_key_states_gets_one_when_a_session_reads_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, _key, session, store) = tenant_with_store(&vault);
    raw(dir.path())
        .execute("DELETE FROM webhook_keys", [])
        .unwrap();
    let hash = sign(API_KEY_A, ORDER);
    assert_eq!(vault.verify_webhook("1001", ORDER, &hash).unwrap(), vec![]);
    assert_eq!(
        vault.webhook_readiness(&id).unwrap(),
        vec![("1001".to_string(), "1001".to_string(), false)]
    );

    let api_key = vault.store_api_key(&session, &store, ORIGIN).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&api_key), API_KEY_A);
    assert_eq!(
        vault.webhook_readiness(&id).unwrap(),
        vec![("1001".to_string(), "1001".to_string(), true)]
    );
    assert_eq!(
        vault.verify_webhook("1001", ORDER, &hash).unwrap(),
        vec![matched(&id, "1001")]
    );
    // Reading the key again changes nothing.
    let blob: Vec<u8> = raw(dir.path())
        .query_row("SELECT hmac_state FROM webhook_keys", [], |r| r.get(0))
        .unwrap();
    vault.store_api_key(&session, &store, ORIGIN).unwrap();
    let again: Vec<u8> = raw(dir.path())
        .query_row("SELECT hmac_state FROM webhook_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blob, again);
    // Nothing at rest spells the key.
    assert!(
        !blob
            .windows(API_KEY_A.len())
            .any(|w| w == API_KEY_A.as_bytes())
    );
}

#[test]
fn pushes_keep_verifying_across_a_server_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let stale = open(dir.path());
    let hash = sign(API_KEY_A, ORDER);
    assert_eq!(stale.verify_webhook("1001", ORDER, &hash).unwrap().len(), 1);

    vault.rotate_server_key(None, AuditSource::Cli).unwrap();
    assert_eq!(
        vault.verify_webhook("1001", ORDER, &hash).unwrap(),
        vec![matched(&a, "main")]
    );
    let log = vault.audit_log(None, 1).unwrap();
    assert!(
        log[0]
            .1
            .arguments
            .contains("\"webhook_keys_reencrypted\":1"),
        "{}",
        log[0].1.arguments
    );
    // A process still on the old key says so rather than refusing every push.
    let error = stale.verify_webhook("1001", ORDER, &hash).unwrap_err();
    assert!(matches!(error, VaultError::Config(_)), "{error:?}");
    drop((vault, stale));
    let vault = open(dir.path());
    assert_eq!(
        vault.verify_webhook("1001", ORDER, &hash).unwrap(),
        vec![matched(&a, "main")]
    );
}

#[test]
fn a_push_is_recorded_once_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let (b, _) = tenant_with(&vault, "1001", "shop", API_KEY_A);
    assert_eq!(vault.latest_webhook_event_id().unwrap(), 0);

    let push = order("1001", "5001", Some("2026-01-02 03:04:05"), ORDER);
    let first = vault
        .record_webhook_event(&[a.clone(), b.clone()], &push)
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|e| e.new));
    assert_eq!(first[0].tenant_id, a);
    assert_eq!(first[1].tenant_id, b);
    assert_ne!(first[0].event_id, first[1].event_id);
    // The same push again: the same events, not new.
    let again = vault
        .record_webhook_event(&[a.clone(), b.clone()], &push)
        .unwrap();
    for (x, y) in first.iter().zip(&again) {
        assert_eq!((x.event_id, &x.tenant_id), (y.event_id, &y.tenant_id));
        assert!(!y.new);
    }
    // Without a date_updated too (NULLs would never conflict in a plain UNIQUE).
    let undated = order("1001", "5001", None, b"{\"id\":\"5001\"}");
    let one = vault
        .record_webhook_event(std::slice::from_ref(&a), &undated)
        .unwrap();
    let two = vault
        .record_webhook_event(std::slice::from_ref(&a), &undated)
        .unwrap();
    assert!(one[0].new && !two[0].new);
    assert_eq!(one[0].event_id, two[0].event_id);
    // Another body of the same order (it changed) is another event.
    let changed = order(
        "1001",
        "5001",
        Some("2026-01-02 03:04:05"),
        b"{\"changed\":1}",
    );
    assert!(
        vault
            .record_webhook_event(std::slice::from_ref(&a), &changed)
            .unwrap()[0]
            .new
    );
    assert_eq!(vault.webhook_events(&a, &query(10)).unwrap().len(), 3);
    assert_eq!(vault.webhook_events(&b, &query(10)).unwrap().len(), 1);
    assert_eq!(vault.record_webhook_event(&[], &push).unwrap(), vec![]);

    // What cannot be a push is refused, naming the field only.
    for bad in [
        PushedOrder {
            digest: "not a digest".into(),
            ..push.clone()
        },
        PushedOrder {
            digest: order_digest(ORDER).to_uppercase(),
            ..push.clone()
        },
        PushedOrder {
            order_id: " ".into(),
            ..push.clone()
        },
        PushedOrder {
            order_id: "1\n2".into(),
            ..push.clone()
        },
        PushedOrder {
            store_id: "10 01".into(),
            ..push.clone()
        },
    ] {
        let error = vault
            .record_webhook_event(std::slice::from_ref(&a), &bad)
            .unwrap_err();
        assert!(matches!(error, VaultError::InvalidInput(_)), "{error:?}");
    }
}

fn query(limit: u32) -> WebhookEventQuery {
    WebhookEventQuery {
        limit,
        ..WebhookEventQuery::default()
    }
}

#[test]
fn events_come_newest_first_by_store_since_and_page_by_page_and_only_the_tenants_own() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, session) = tenant_with(&vault, "1001", "main", API_KEY_A);
    vault
        .add_store(
            &session,
            "2002",
            &secret(API_KEY_B),
            Some("second"),
            None,
            ORIGIN,
        )
        .unwrap();
    let (b, _) = tenant_with(&vault, "1001", "theirs", API_KEY_A);
    let mut ids = Vec::new();
    for i in 0..5 {
        let store = if i % 2 == 0 { "1001" } else { "2002" };
        let body = format!("{{\"id\":\"{i}\"}}");
        let push = order(store, &format!("{i}"), None, body.as_bytes());
        ids.push(
            vault
                .record_webhook_event(std::slice::from_ref(&a), &push)
                .unwrap()[0]
                .event_id,
        );
    }
    let theirs = order("1001", "9", None, b"theirs");
    let b_event = vault
        .record_webhook_event(std::slice::from_ref(&b), &theirs)
        .unwrap()[0]
        .event_id;

    // Newest first, with the tenant's store names.
    let all = vault.webhook_events(&a, &query(100)).unwrap();
    let got: Vec<i64> = all.iter().map(|e| e.event_id).collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(got, newest_first);
    assert_eq!(all[0].order_id, "4");
    assert_eq!(all[0].store_name.as_deref(), Some("main"));
    assert_eq!(all[1].store_name.as_deref(), Some("second"));
    assert_eq!(all[0].folder_id, Some(1));
    assert_eq!(all[0].date_updated, None);
    assert_eq!(all[0].received_at.len(), 19);
    assert!(all.iter().all(|e| e.tenant_id == a));

    // Page by page.
    let page1 = vault.webhook_events(&a, &query(2)).unwrap();
    assert_eq!(
        page1.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        newest_first[..2]
    );
    let page2 = vault
        .webhook_events(
            &a,
            &WebhookEventQuery {
                before_event_id: Some(page1[1].event_id),
                ..query(2)
            },
        )
        .unwrap();
    assert_eq!(
        page2.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        newest_first[2..4]
    );
    // A limit of 0 means 1, not nothing.
    assert_eq!(vault.webhook_events(&a, &query(0)).unwrap().len(), 1);

    // By store.
    let second = vault
        .webhook_events(
            &a,
            &WebhookEventQuery {
                store_id: Some("2002".into()),
                ..query(100)
            },
        )
        .unwrap();
    assert_eq!(
        second.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        vec![ids[3], ids[1]]
    );

    // Since a time: all of today's, none of the future's.
    let since = |s: &str| {
        vault
            .webhook_events(
                &a,
                &WebhookEventQuery {
                    since: Some(s.into()),
                    ..query(100)
                },
            )
            .unwrap()
            .len()
    };
    assert_eq!(since(&orderdesk_vault::utc_now()[..10]), 5);
    assert_eq!(since("2999-01-01"), 0);
    raw(dir.path())
        .execute(
            "UPDATE webhook_events SET received_at = '2020-01-01 00:00:00' WHERE id = ?1",
            [ids[0]],
        )
        .unwrap();
    assert_eq!(since("2021-01-01"), 4);
    assert_eq!(since("2020-01-01 00:00:00"), 5);

    // Each tenant sees its own only, even for the same OrderDesk store.
    let b_events = vault.webhook_events(&b, &query(100)).unwrap();
    assert_eq!(b_events.len(), 1);
    assert_eq!(b_events[0].event_id, b_event);
    assert_eq!(b_events[0].store_name.as_deref(), Some("theirs"));
    let b_filtered = vault
        .webhook_events(
            &b,
            &WebhookEventQuery {
                store_id: Some("2002".into()),
                ..query(100)
            },
        )
        .unwrap();
    assert_eq!(b_filtered, vec![]);
    let nobody = TenantId("00000000-0000-4000-8000-000000000000".into());
    assert_eq!(vault.webhook_events(&nobody, &query(100)).unwrap(), vec![]);

    // A deleted store's events stay, without a name.
    vault.delete_store(&a, "second").unwrap();
    let all = vault.webhook_events(&a, &query(100)).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[1].store_name, None);

    // A deleted tenant's events go with it.
    vault.delete_tenant(&b, AuditSource::Cli).unwrap();
    let left: i64 = raw(dir.path())
        .query_row(
            "SELECT count(*) FROM webhook_events WHERE tenant_id = ?1",
            [b.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn another_process_hears_of_pushes_by_polling_after_the_latest_id() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = open(dir.path());
    let poller = open(dir.path());
    let (a, _) = tenant_with(&receiver, "1001", "main", API_KEY_A);
    let (b, _) = tenant_with(&receiver, "2002", "main", API_KEY_B);
    let start = poller.latest_webhook_event_id().unwrap();
    assert_eq!(start, 0);
    assert_eq!(poller.webhook_events_after(start, 10).unwrap(), vec![]);

    let e1 = receiver
        .record_webhook_event(std::slice::from_ref(&a), &order("1001", "1", None, b"1"))
        .unwrap()[0]
        .event_id;
    let e2 = receiver
        .record_webhook_event(std::slice::from_ref(&b), &order("2002", "2", None, b"2"))
        .unwrap()[0]
        .event_id;
    let e3 = receiver
        .record_webhook_event(std::slice::from_ref(&a), &order("1001", "3", None, b"3"))
        .unwrap()[0]
        .event_id;
    // Every tenant's, oldest first, at most `limit`.
    let heard = poller.webhook_events_after(start, 2).unwrap();
    assert_eq!(
        heard
            .iter()
            .map(|e| (e.event_id, e.tenant_id.clone()))
            .collect::<Vec<_>>(),
        vec![(e1, a.clone()), (e2, b.clone())]
    );
    let rest = poller.webhook_events_after(heard[1].event_id, 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event_id, e3);
    assert_eq!(poller.latest_webhook_event_id().unwrap(), e3);
    assert_eq!(poller.webhook_events_after(e3, 10).unwrap(), vec![]);
}

#[test]
fn pruning_deletes_the_events_older_than_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let day = std::time::Duration::from_secs(24 * 3600);
    let vault = Vault::open(
        dir.path(),
        VaultOptions {
            webhook_retention: 2 * day,
            ..options(false)
        },
    )
    .unwrap();
    assert_eq!(
        VaultOptions::default().webhook_retention,
        30 * day,
        "30 days unless told otherwise"
    );
    let (a, _) = tenant_with(&vault, "1001", "main", API_KEY_A);
    let mut ids = Vec::new();
    for i in 0..3 {
        let push = order("1001", &format!("{i}"), None, format!("{i}").as_bytes());
        ids.push(
            vault
                .record_webhook_event(std::slice::from_ref(&a), &push)
                .unwrap()[0]
                .event_id,
        );
    }
    let ago = |days: u32| orderdesk_vault::format_utc(std::time::SystemTime::now() - days * day);
    let conn = raw(dir.path());
    for (id, when) in [(ids[0], ago(3)), (ids[1], ago(1))] {
        conn.execute(
            "UPDATE webhook_events SET received_at = ?2 WHERE id = ?1",
            rusqlite::params![id, when],
        )
        .unwrap();
    }
    assert_eq!(vault.prune_webhook_events().unwrap(), 1);
    let left: Vec<i64> = vault
        .webhook_events(&a, &query(10))
        .unwrap()
        .iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(left, vec![ids[2], ids[1]]);
    assert_eq!(vault.prune_webhook_events().unwrap(), 0);
    // Ids are never reused, so a poller's cursor stays valid.
    let next = vault
        .record_webhook_event(std::slice::from_ref(&a), &order("1001", "0", None, b"0"))
        .unwrap()[0]
        .event_id;
    assert!(next > ids[2]);

    // With the default retention, these are young.
    drop(vault);
    assert_eq!(open(dir.path()).prune_webhook_events().unwrap(), 0);
}

#[test]
fn readiness_lists_every_store_of_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (a, session) = tenant_with(&vault, "1001", "main", API_KEY_A);
    vault
        .add_store(
            &session,
            "2002",
            &secret(API_KEY_B),
            Some("b-second"),
            None,
            ORIGIN,
        )
        .unwrap();
    let (b, _) = tenant_with(&vault, "3003", "theirs", API_KEY_A);
    raw(dir.path())
        .execute("DELETE FROM webhook_keys WHERE store_id = '2002'", [])
        .unwrap();
    assert_eq!(
        vault.webhook_readiness(&a).unwrap(),
        vec![
            ("b-second".to_string(), "2002".to_string(), false),
            ("main".to_string(), "1001".to_string(), true),
        ]
    );
    assert_eq!(
        vault.webhook_readiness(&b).unwrap(),
        vec![("theirs".to_string(), "3003".to_string(), true)]
    );
}
