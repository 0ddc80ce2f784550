//! Access tokens: made with a master key, checked per request without decryption,
//! opening a session that decrypts store keys without bcrypt; revoked, expired, and
//! stopping with their tenant or the master key they were made with; surviving a
//! server-key rotation; never stored or shown.

use std::time::Duration;

use orderdesk_vault::{
    ACCESS_TOKEN_PREFIX, AccessTokenRecord, AuditSource, DB_FILE_NAME, NewAccessToken, TokenScope,
    Vault, VaultError,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{API_KEY_A, API_KEY_B, ORIGIN, open, raw, secret, tenant_with_store};

const HOUR: Duration = Duration::from_secs(3600);

fn write_token() -> NewAccessToken {
    NewAccessToken {
        scope: TokenScope::Write,
        ..NewAccessToken::default()
    }
}

/// Make a token with `new` for the session, from the command line.
fn make(
    vault: &Vault,
    t: &orderdesk_vault::TenantSession,
    new: &NewAccessToken,
) -> (SecretString, AccessTokenRecord) {
    vault.create_access_token(t, new, AuditSource::Cli).unwrap()
}

/// The message of an `Unauthenticated` error, checked not to hold `token`.
#[track_caller]
fn refused(error: VaultError, token: &SecretString) -> String {
    let VaultError::Unauthenticated(message) = &error else {
        panic!("expected Unauthenticated, got {error:?}");
    };
    let text = token.expose_secret().trim();
    // Not the token, nor its random part, in any case (short inputs would match words).
    let random = text.get(ACCESS_TOKEN_PREFIX.len()..).unwrap_or_default();
    if text.len() >= 8 {
        assert!(!error.to_string().contains(text), "{error}");
    }
    if random.len() >= 8 {
        assert!(
            !message.to_lowercase().contains(&random.to_lowercase()),
            "{message}"
        );
    }
    message.clone()
}

#[test]
fn a_token_is_checked_and_opens_a_session_that_decrypts_store_keys() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, _, t, store) = tenant_with_store(&vault);

    let (token, record) = make(
        &vault,
        &t,
        &NewAccessToken {
            label: Some(" laptop ".into()),
            expires_in: Some(30 * 24 * HOUR),
            ..write_token()
        },
    );
    let text = token.expose_secret();
    assert!(text.starts_with(ACCESS_TOKEN_PREFIX), "the documented form");
    assert_eq!(text.len(), ACCESS_TOKEN_PREFIX.len() + 64);
    assert!(
        text[5..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert!(record.token_id.starts_with("tok_") && record.token_id.len() == 16);
    assert_eq!(record.tenant_id, id);
    assert_eq!(record.scope, TokenScope::Write);
    assert_eq!(record.label.as_deref(), Some("laptop"));
    assert_eq!(record.store_id, None);
    assert_eq!(record.last_used_at, None);
    assert_eq!(record.revoked_at, None);
    let expires = record.expires_at.clone().unwrap();
    assert!(
        expires > record.created_at && expires.len() == 19,
        "{expires}"
    );

    let checked = vault.check_access_token(&token).unwrap();
    assert_eq!(checked.token_id, record.token_id);
    assert!(checked.last_used_at.is_some(), "the use is recorded");
    // Pasted with whitespace or in capitals, it is the same token.
    let shouted = secret(&format!("  ODAT_{}\n", text[5..].to_ascii_uppercase()));
    assert_eq!(
        vault.check_access_token(&shouted).unwrap().token_id,
        record.token_id
    );

    let (session, opened) = vault.authenticate_access_token(&token).unwrap();
    assert_eq!(opened.token_id, record.token_id);
    assert_eq!(session.tenant_id(), &id);
    assert_eq!(session.key_expires_at(), None);
    let grant = session.access_token().unwrap();
    assert_eq!(
        (
            grant.token_id.as_str(),
            grant.scope,
            grant.store_id.as_deref()
        ),
        (record.token_id.as_str(), TokenScope::Write, None)
    );
    assert_eq!(t.access_token(), None, "a master-key session has no token");
    assert_eq!(
        vault
            .store_api_key(&session, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
    // And it writes under the same data key: the master-key session reads what it added.
    vault
        .add_store(&session, "1002", &secret(API_KEY_B), None, None, ORIGIN)
        .unwrap();
    let added = vault.resolve_store(&id, "1002").unwrap().0;
    assert_eq!(
        vault
            .store_api_key(&t, &added, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_B
    );
    let shown = format!("{session:?}");
    assert!(
        shown.contains(&record.token_id) && !shown.contains(text),
        "{shown}"
    );
}

#[test]
fn a_read_token_for_one_store_says_so_and_an_unknown_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, _, t, store) = tenant_with_store(&vault);

    let (token, record) = make(
        &vault,
        &t,
        &NewAccessToken {
            store_id: Some(store.store_id.clone()),
            ..NewAccessToken::default()
        },
    );
    assert_eq!(record.scope, TokenScope::Read, "read is the default");
    assert_eq!(record.store_id.as_deref(), Some("1001"));
    assert_eq!(record.expires_at, None, "no lifetime: until revoked");
    let checked = vault.check_access_token(&token).unwrap();
    assert_eq!(checked.scope, TokenScope::Read);
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    let grant = session.access_token().unwrap();
    assert_eq!(
        (grant.scope, grant.store_id.as_deref()),
        (TokenScope::Read, Some("1001"))
    );

    let error = vault
        .create_access_token(
            &t,
            &NewAccessToken {
                store_id: Some("9999".into()),
                ..NewAccessToken::default()
            },
            AuditSource::Cli,
        )
        .unwrap_err();
    assert!(
        matches!(&error, VaultError::NotFound(m) if m.contains("9999")),
        "{error:?}"
    );
    let error = vault
        .create_access_token(
            &t,
            &NewAccessToken {
                expires_in: Some(Duration::ZERO),
                ..NewAccessToken::default()
            },
            AuditSource::Cli,
        )
        .unwrap_err();
    assert!(matches!(error, VaultError::InvalidInput(_)), "{error:?}");
    assert_eq!(vault.list_access_tokens(t.tenant_id()).unwrap().len(), 1);

    assert_eq!("read".parse::<TokenScope>().unwrap(), TokenScope::Read);
    assert_eq!(" WRITE ".parse::<TokenScope>().unwrap(), TokenScope::Write);
    assert!("admin".parse::<TokenScope>().is_err());
    assert_eq!(TokenScope::Write.to_string(), "write");
}

#[test]
fn the_list_never_shows_a_token_and_shows_its_last_use_written_at_most_once_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, _, t, _) = tenant_with_store(&vault);
    let (first, a) = make(&vault, &t, &write_token());
    let (_, b) = make(
        &vault,
        &t,
        &NewAccessToken {
            label: Some("ci".into()),
            ..NewAccessToken::default()
        },
    );

    let listed = vault.list_access_tokens(&id).unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.token_id.as_str()).collect();
    let mut expected = vec![a.token_id.as_str(), b.token_id.as_str()];
    expected.sort_unstable();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected);
    assert!(listed.iter().all(|r| r.last_used_at.is_none()));
    let shown = format!("{listed:?}");
    assert!(!shown.contains(&first.expose_secret()[5..]), "{shown}");
    assert!(!shown.contains(ACCESS_TOKEN_PREFIX), "{shown}");

    vault.check_access_token(&first).unwrap();
    let used = |vault: &Vault| {
        vault
            .list_access_tokens(&id)
            .unwrap()
            .into_iter()
            .find(|r| r.token_id == a.token_id)
            .unwrap()
            .last_used_at
    };
    let stamp = used(&vault).expect("the first use is written");
    let raw_used = || -> i64 {
        raw(dir.path())
            .query_row(
                "SELECT last_used_at FROM access_tokens WHERE token_id = ?1",
                [&a.token_id],
                |r| r.get(0),
            )
            .unwrap()
    };
    let written = raw_used();
    // Within the minute, further uses do not write.
    raw(dir.path())
        .execute(
            "UPDATE access_tokens SET last_used_at = last_used_at - 30 WHERE token_id = ?1",
            [&a.token_id],
        )
        .unwrap();
    vault.check_access_token(&first).unwrap();
    vault.authenticate_access_token(&first).unwrap();
    assert_eq!(raw_used(), written - 30, "no write within a minute");
    // A minute on, the next use does.
    raw(dir.path())
        .execute(
            "UPDATE access_tokens SET last_used_at = last_used_at - 60 WHERE token_id = ?1",
            [&a.token_id],
        )
        .unwrap();
    let checked = vault.check_access_token(&first).unwrap();
    assert!(raw_used() >= written, "written again");
    assert_eq!(checked.last_used_at, used(&vault));
    assert!(used(&vault).unwrap() >= stamp);
    // Another tenant sees none of them.
    let (other, _) = vault.create_tenant().unwrap();
    assert!(vault.list_access_tokens(&other).unwrap().is_empty());
}

#[test]
fn a_revoked_token_fails_at_once_even_in_a_running_session_and_only_its_tenant_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, _, t, store) = tenant_with_store(&vault);
    let (token, record) = make(&vault, &t, &write_token());
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    vault.store_api_key(&session, &store, ORIGIN).unwrap();

    // Another tenant cannot revoke it, nor learn that it exists.
    let (other, _) = vault.create_tenant().unwrap();
    let error = vault
        .revoke_access_token(&other, &record.token_id, AuditSource::Cli)
        .unwrap_err();
    assert!(matches!(error, VaultError::NotFound(_)), "{error:?}");
    vault.check_access_token(&token).unwrap();

    let revoked = vault
        .revoke_access_token(&id, &format!(" {} ", record.token_id), AuditSource::Cli)
        .unwrap();
    let at = revoked.revoked_at.clone().unwrap();
    let message = refused(vault.check_access_token(&token).unwrap_err(), &token);
    assert!(message.contains("revoked") && message.contains(&record.token_id));
    let error = vault.authenticate_access_token(&token).unwrap_err();
    refused(error, &token);
    let error = vault.store_api_key(&session, &store, ORIGIN).unwrap_err();
    refused(error, &token);
    // Its copy of the master key is gone.
    let wrapped: Vec<u8> = raw(dir.path())
        .query_row("SELECT wrapped_master FROM access_tokens", [], |r| r.get(0))
        .unwrap();
    assert!(wrapped.is_empty());

    // Again: nothing changes, and it says since when.
    let again = vault
        .revoke_access_token(&id, &record.token_id, AuditSource::Cli)
        .unwrap();
    assert_eq!(again.revoked_at.as_deref(), Some(at.as_str()));
    let listed = vault.list_access_tokens(&id).unwrap();
    assert_eq!(listed[0].revoked_at.as_deref(), Some(at.as_str()));

    // Unknown ids, and a token pasted instead of its id, are refused without echo.
    for bad in ["tok_000000000000", "", "nonsense id!"] {
        let error = vault
            .revoke_access_token(&id, bad, AuditSource::Cli)
            .unwrap_err();
        assert!(matches!(error, VaultError::NotFound(_)), "{error:?}");
    }
    let error = vault
        .revoke_access_token(&id, token.expose_secret(), AuditSource::Cli)
        .unwrap_err();
    assert!(matches!(error, VaultError::InvalidInput(_)), "{error:?}");
    assert!(!error.to_string().contains(&token.expose_secret()[5..]));

    // Create and revoke are audited (once each), from their source, without the token.
    let rows: Vec<(String, String, Option<String>, String)> = raw(dir.path())
        .prepare(
            "SELECT tool, source, tenant_id, arguments FROM audit_log \
             WHERE tool LIKE 'token %' ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let tools: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(tools, ["token create", "token revoke"]);
    for (_, source, tenant, arguments) in &rows {
        assert_eq!(source, "cli");
        assert_eq!(tenant.as_deref(), Some(id.as_str()));
        assert!(arguments.contains(&record.token_id), "{arguments}");
        assert!(
            !arguments.contains(&token.expose_secret()[5..]),
            "{arguments}"
        );
    }
}

#[test]
fn an_expired_token_fails() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, _, t, store) = tenant_with_store(&vault);
    let (token, record) = make(
        &vault,
        &t,
        &NewAccessToken {
            expires_in: Some(HOUR),
            ..write_token()
        },
    );
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    raw(dir.path())
        .execute(
            "UPDATE access_tokens SET expires_at = unixepoch() - 1 WHERE token_id = ?1",
            [&record.token_id],
        )
        .unwrap();
    let message = refused(vault.check_access_token(&token).unwrap_err(), &token);
    assert!(message.contains("expired"), "{message}");
    refused(vault.authenticate_access_token(&token).unwrap_err(), &token);
    let message = refused(
        vault.store_api_key(&session, &store, ORIGIN).unwrap_err(),
        &token,
    );
    assert!(message.contains("expired"), "{message}");
}

#[test]
fn wrong_garbled_or_prefixless_tokens_are_refused_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, master, t, _) = tenant_with_store(&vault);
    let (token, _) = make(&vault, &t, &write_token());
    let text = token.expose_secret();

    let mut flipped = text.to_string();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(flipped.len() - 1.., last);
    let cases = [
        flipped,
        text[ACCESS_TOKEN_PREFIX.len()..].to_string(),
        format!("odmk_{}", &text[5..]),
        format!("{text}00"),
        text[..40].to_string(),
        format!("odat_{}", "z".repeat(64)),
        format!("Bearer {text}"),
        String::new(),
    ];
    for case in cases {
        let case = secret(&case);
        refused(vault.check_access_token(&case).unwrap_err(), &case);
        refused(vault.authenticate_access_token(&case).unwrap_err(), &case);
    }
    // A master key presented as a token says what to do instead, and is not echoed.
    let message = refused(
        vault.check_access_token(master.as_secret()).unwrap_err(),
        master.as_secret(),
    );
    assert!(
        message.contains("master key") && message.contains("token create"),
        "{message}"
    );
    // A token is not a master key either.
    let error = vault.authenticate(&token).unwrap_err();
    assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
}

#[test]
fn a_token_stops_with_the_master_key_it_was_made_with_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, first, t, store) = tenant_with_store(&vault);
    let (token, _) = make(&vault, &t, &write_token());
    let (running, _) = vault.authenticate_access_token(&token).unwrap();

    // With a grace period, it keeps working, and says until when.
    let rotation = vault.rotate_master_key(&t, HOUR, AuditSource::Cli).unwrap();
    vault.check_access_token(&token).unwrap();
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    assert_eq!(session.key_expires_at(), rotation.old_key_expires_at);
    for s in [&session, &running] {
        assert_eq!(
            vault
                .store_api_key(s, &store, ORIGIN)
                .unwrap()
                .expose_secret(),
            API_KEY_A
        );
    }
    // A session on the old key cannot make tokens (they would die with it).
    let old = vault.authenticate(first.as_secret()).unwrap();
    assert!(old.key_expires_at().is_some());
    let error = vault
        .create_access_token(&old, &write_token(), AuditSource::Cli)
        .unwrap_err();
    assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
    // A token made with the new key works; rotating again without grace stops the
    // first token (its key's grace ends) and the second (its key stops now).
    let current = vault.authenticate(rotation.master_key.as_secret()).unwrap();
    let (second, _) = make(&vault, &current, &write_token());
    vault.authenticate_access_token(&second).unwrap();
    let last = vault
        .rotate_master_key(&current, Duration::ZERO, AuditSource::Cli)
        .unwrap();
    for gone in [&token, &second] {
        let message = refused(vault.check_access_token(gone).unwrap_err(), gone);
        assert!(message.contains("rotate-key"), "{message}");
        refused(vault.authenticate_access_token(gone).unwrap_err(), gone);
    }
    let error = vault.store_api_key(&running, &store, ORIGIN).unwrap_err();
    let message = refused(error, &token);
    assert!(message.contains("access token"), "{message}");
    // A token of the newest key works.
    let newest = vault.authenticate(last.master_key.as_secret()).unwrap();
    let (third, _) = make(&vault, &newest, &write_token());
    let (session, _) = vault.authenticate_access_token(&third).unwrap();
    vault.store_api_key(&session, &store, ORIGIN).unwrap();
}

#[test]
fn a_token_session_cannot_make_tokens_nor_rotate_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, master, t, _) = tenant_with_store(&vault);
    let (token, _) = make(&vault, &t, &write_token());
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    let error = vault
        .create_access_token(&session, &write_token(), AuditSource::Mcp)
        .unwrap_err();
    assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
    let error = vault
        .rotate_master_key(&session, HOUR, AuditSource::Mcp)
        .unwrap_err();
    assert!(matches!(error, VaultError::Unauthenticated(_)), "{error:?}");
    // Nothing changed: the master key still signs in.
    vault.authenticate(master.as_secret()).unwrap();
    assert_eq!(vault.list_access_tokens(t.tenant_id()).unwrap().len(), 1);
}

#[test]
fn a_revoked_or_deleted_tenant_stops_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, _, t, store) = tenant_with_store(&vault);
    let (token, _) = make(&vault, &t, &write_token());
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    let (gone_id, gone_key) = vault.create_tenant().unwrap();
    let gone = vault.authenticate(gone_key.as_secret()).unwrap();
    let (gone_token, _) = make(&vault, &gone, &write_token());

    vault.revoke_tenant(&id, AuditSource::Cli).unwrap();
    let message = refused(vault.check_access_token(&token).unwrap_err(), &token);
    assert!(message.contains("tenant"), "{message}");
    refused(vault.authenticate_access_token(&token).unwrap_err(), &token);
    refused(
        vault.store_api_key(&session, &store, ORIGIN).unwrap_err(),
        &token,
    );
    let erased: Vec<u8> = raw(dir.path())
        .query_row(
            "SELECT wrapped_master FROM access_tokens WHERE tenant_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(erased.is_empty(), "the copy of the master key is erased");

    vault.authenticate_access_token(&gone_token).unwrap();
    vault.delete_tenant(&gone_id, AuditSource::Cli).unwrap();
    refused(
        vault.check_access_token(&gone_token).unwrap_err(),
        &gone_token,
    );
    let rows: i64 = raw(dir.path())
        .query_row(
            "SELECT count(*) FROM access_tokens WHERE tenant_id = ?1",
            [gone_id.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "deleted with its tenant");
}

#[test]
fn a_token_still_works_after_a_server_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (_, _, t, store) = tenant_with_store(&vault);
    let (token, record) = make(&vault, &t, &write_token());
    let (running, _) = vault.authenticate_access_token(&token).unwrap();

    vault.rotate_server_key(None, AuditSource::Cli).unwrap();
    assert_eq!(
        vault.check_access_token(&token).unwrap().token_id,
        record.token_id
    );
    for session in [running, vault.authenticate_access_token(&token).unwrap().0] {
        assert_eq!(
            vault
                .store_api_key(&session, &store, ORIGIN)
                .unwrap()
                .expose_secret(),
            API_KEY_A
        );
    }
    drop(vault);
    // And in a process started with the new key.
    let vault = open(dir.path());
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    assert_eq!(
        vault
            .store_api_key(&session, &store, ORIGIN)
            .unwrap()
            .expose_secret(),
        API_KEY_A
    );
}

#[test]
fn a_token_is_not_at_rest_and_its_copy_of_the_master_key_opens_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let (id, master, t, _) = tenant_with_store(&vault);
    let (token, a) = make(&vault, &t, &write_token());
    let (other_token, b) = make(&vault, &t, &write_token());
    vault.check_access_token(&token).unwrap();
    drop(vault);
    let needles = [
        token.expose_secret().as_bytes().to_vec(),
        token.expose_secret().as_bytes()[5..].to_vec(),
        master.expose().as_bytes().to_vec(),
        master.expose().as_bytes()[5..].to_vec(),
    ];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in &needles {
            assert!(!bytes.windows(needle.len()).any(|w| w == &needle[..]));
        }
    }
    assert!(dir.path().join(DB_FILE_NAME).exists());

    // The copies swapped between two tokens' rows open with neither.
    let vault = open(dir.path());
    let db = raw(dir.path());
    let blob = |token_id: &str| -> Vec<u8> {
        db.query_row(
            "SELECT wrapped_master FROM access_tokens WHERE token_id = ?1",
            [token_id],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (wa, wb) = (blob(&a.token_id), blob(&b.token_id));
    let set = |token_id: &str, blob: &[u8]| {
        db.execute(
            "UPDATE access_tokens SET wrapped_master = ?2 WHERE token_id = ?1",
            rusqlite::params![token_id, blob],
        )
        .unwrap();
    };
    set(&a.token_id, &wb);
    set(&b.token_id, &wa);
    for t in [&token, &other_token] {
        assert_eq!(
            vault.authenticate_access_token(t).unwrap_err(),
            VaultError::Decrypt
        );
    }
    // An altered byte too; restored, it opens again.
    let mut bad = wa.clone();
    bad[20] ^= 1;
    set(&a.token_id, &bad);
    assert_eq!(
        vault.authenticate_access_token(&token).unwrap_err(),
        VaultError::Decrypt
    );
    set(&a.token_id, &wa);
    let (session, _) = vault.authenticate_access_token(&token).unwrap();
    assert_eq!(session.tenant_id(), &id);
}
