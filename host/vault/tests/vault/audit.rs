//! The audit log: recording, listing (newest first, per tenant or all) and pruning.

use std::time::Duration;

use orderdesk_vault::{AuditEntry, AuditQuery, AuditSource, TenantId};

use crate::{open, raw};

#[test]
fn audit_log_records_lists_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let a = TenantId("tenant-a".into());
    let entry = |tenant: Option<&TenantId>, tool: &str| AuditEntry {
        at: "2030-01-02 03:04:05".into(),
        tenant_id: tenant.map(|t| t.0.clone()),
        store_id: None,
        tool: tool.into(),
        arguments: "{}".into(),
        outcome: "ok".into(),
        duration_ms: u64::MAX,
        correlation_id: format!("corr-{tool}"),
    };
    vault.record_audit(&entry(Some(&a), "one")).unwrap();
    vault.record_audit(&entry(None, "two")).unwrap();
    vault.record_audit(&entry(Some(&a), "three")).unwrap();
    let mut now = entry(None, "four");
    now.at.clear();
    vault.record_audit(&now).unwrap();

    let all = vault.audit_entries(None, 10).unwrap();
    let tools: Vec<_> = all.iter().map(|e| e.tool.as_str()).collect();
    assert_eq!(tools, ["four", "three", "two", "one"], "newest first");
    assert_eq!(
        all[0].at.len(),
        19,
        "an empty `at` is filled in: {}",
        all[0].at
    );
    assert_eq!(
        all[1],
        AuditEntry {
            // Clamped to what an SQLite integer holds.
            duration_ms: i64::MAX as u64,
            ..entry(Some(&a), "three")
        }
    );
    let of_a: Vec<_> = vault
        .audit_entries(Some(&a), 10)
        .unwrap()
        .into_iter()
        .map(|e| e.tool)
        .collect();
    assert_eq!(of_a, ["three", "one"]);
    assert_eq!(vault.audit_entries(None, 2).unwrap().len(), 2);
    assert!(vault.audit_entries(None, 0).unwrap().is_empty());

    // Age two entries by two hours; pruning at one hour removes exactly those.
    raw(dir.path())
        .execute(
            "UPDATE audit_log SET recorded_at = recorded_at - 7200 WHERE tool IN ('one', 'two')",
            [],
        )
        .unwrap();
    assert_eq!(vault.prune_audit(Duration::from_secs(3600)).unwrap(), 2);
    assert_eq!(vault.prune_audit(Duration::from_secs(3600)).unwrap(), 0);
    let left: Vec<_> = vault
        .audit_entries(None, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.tool)
        .collect();
    assert_eq!(left, ["four", "three"]);
}

#[test]
fn intent_rows_are_pending_until_settled_and_old_pending_ones_are_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let intent = |tool: &str| AuditEntry {
        at: String::new(),
        tenant_id: Some("tenant-a".into()),
        store_id: Some("123".into()),
        tool: tool.into(),
        arguments: r#"{"request":"POST /orders (store 123)"}"#.into(),
        outcome: String::new(),
        duration_ms: 0,
        correlation_id: "corr".into(),
    };
    let answered = vault.record_audit_intent(&intent("answered")).unwrap();
    let cut_off = vault.record_audit_intent(&intent("cut_off")).unwrap();
    let fresh = vault.record_audit_intent(&intent("fresh")).unwrap();
    assert_ne!(answered, cut_off);
    let outcome = |tool: &str| {
        vault
            .audit_entries(None, 10)
            .unwrap()
            .into_iter()
            .find(|e| e.tool == tool)
            .unwrap()
            .outcome
    };
    assert_eq!(outcome("answered"), orderdesk_vault::AUDIT_PENDING);
    vault
        .settle_audit_intent(answered, "ok: HTTP 200", 12)
        .unwrap();
    assert_eq!(outcome("answered"), "ok: HTTP 200");
    // Settling twice does not overwrite the first outcome.
    vault
        .settle_audit_intent(answered, "error:late", 13)
        .unwrap();
    assert_eq!(outcome("answered"), "ok: HTTP 200");

    // A pending row older than the cut-off belongs to a stopped process; a fresh one may
    // belong to another process's write under way and is left alone.
    raw(dir.path())
        .execute(
            "UPDATE audit_log SET recorded_at = recorded_at - 7200 WHERE id = ?1",
            [cut_off],
        )
        .unwrap();
    assert_eq!(
        vault
            .settle_interrupted_intents(Duration::from_secs(3600))
            .unwrap(),
        1
    );
    assert_eq!(outcome("cut_off"), orderdesk_vault::AUDIT_INTERRUPTED);
    assert_eq!(outcome("fresh"), orderdesk_vault::AUDIT_PENDING);
    let _ = fresh;
}

#[test]
fn audit_rows_say_who_made_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let entry = |tool: &str| AuditEntry {
        at: String::new(),
        tenant_id: None,
        store_id: None,
        tool: tool.into(),
        arguments: "{}".into(),
        outcome: "ok".into(),
        duration_ms: 1,
        correlation_id: "c".into(),
    };
    vault.record_audit(&entry("tool_call")).unwrap();
    vault.record_audits(&[entry("batched")]).unwrap();
    vault
        .record_audit_from(AuditSource::Cli, &entry("stores add"))
        .unwrap();
    vault
        .record_audit_from(AuditSource::Console, &entry("tenant revoke"))
        .unwrap();
    let log: Vec<_> = vault
        .audit_log(None, 10)
        .unwrap()
        .into_iter()
        .map(|(source, e)| (e.tool, source))
        .collect();
    assert_eq!(
        log,
        [
            ("tenant revoke".to_string(), AuditSource::Console),
            ("stores add".to_string(), AuditSource::Cli),
            ("batched".to_string(), AuditSource::Mcp),
            ("tool_call".to_string(), AuditSource::Mcp),
        ]
    );
    let sources: Vec<String> = raw(dir.path())
        .prepare("SELECT source FROM audit_log ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sources, ["mcp", "mcp", "cli", "console"]);
    // The column takes nothing else.
    assert!(
        raw(dir.path())
            .execute("UPDATE audit_log SET source = 'someone'", [])
            .is_err()
    );
}

#[test]
fn a_tenant_searches_only_its_own_rows_by_tool_outcome_store_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(dir.path());
    let row = |tenant: &str, tool: &str, outcome: &str, store: &str, at: &str| AuditEntry {
        at: at.into(),
        tenant_id: Some(tenant.into()),
        store_id: Some(store.into()),
        tool: tool.into(),
        arguments: "{}".into(),
        outcome: outcome.into(),
        duration_ms: 3,
        correlation_id: format!("{tenant}-{tool}-{at}"),
    };
    vault
        .record_audits(&[
            row("a", "orders_get", "ok", "1", "2026-12-01 10:00:00"),
            row(
                "a",
                "orders_update",
                "error:conflict",
                "1",
                "2026-12-02 09:00:00",
            ),
            row(
                "a",
                "orders_update",
                "error:outcome_unknown (the server stopped)",
                "2",
                "2026-12-02 10:00:00",
            ),
            row(
                "b",
                "orders_update",
                "error:conflict",
                "1",
                "2026-12-02 11:00:00",
            ),
            row("a", "orders_list", "ok", "2", "2026-12-02 12:00:00"),
        ])
        .unwrap();
    let search = |query: AuditQuery| -> Vec<String> {
        vault
            .search_audit(&TenantId("a".into()), &query)
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.correlation_id)
            .collect()
    };
    let all = search(AuditQuery {
        limit: 50,
        ..Default::default()
    });
    assert_eq!(all.len(), 4, "tenant b's row is not a's: {all:?}");
    assert_eq!(all[0], "a-orders_list-2026-12-02 12:00:00", "newest first");
    let errors = search(AuditQuery {
        outcome: Some("error".into()),
        limit: 50,
        ..Default::default()
    });
    assert_eq!(errors.len(), 2);
    // A kind matches its rows with a reason after it, and `_` is no wildcard.
    let unknown = search(AuditQuery {
        outcome: Some("error:outcome_unknown".into()),
        limit: 50,
        ..Default::default()
    });
    assert_eq!(unknown, ["a-orders_update-2026-12-02 10:00:00"]);
    assert!(
        search(AuditQuery {
            outcome: Some("error:outcome_unknow_".into()),
            limit: 50,
            ..Default::default()
        })
        .is_empty()
    );
    let narrowed = search(AuditQuery {
        tool: Some("orders_update".into()),
        store_id: Some("1".into()),
        since: Some("2026-12-02".into()),
        limit: 50,
        ..Default::default()
    });
    assert_eq!(narrowed, ["a-orders_update-2026-12-02 09:00:00"]);
    assert_eq!(
        search(AuditQuery {
            limit: 1,
            ..Default::default()
        })
        .len(),
        1
    );
}
