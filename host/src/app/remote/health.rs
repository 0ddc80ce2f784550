//! `/healthz` (the process answers) and `/readyz` (it can serve a call: the database
//! is reachable with the server key this process holds, components are loaded, and it
//! is not shutting down). A load balancer sends traffic by `/readyz` and restarts by
//! `/healthz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::mcp::McpServer;
use crate::services::Services;

/// What the readiness check looks at.
pub struct Readiness {
    pub services: Arc<Services>,
    pub mcp: McpServer,
    /// Set when a shutdown begins: the balancer should stop sending requests.
    pub shutting_down: AtomicBool,
}

pub async fn healthz() -> Response {
    json_answer(StatusCode::OK, json!({ "status": "alive" }))
}

pub async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let mut check = |name: &str, outcome: Result<String, String>| {
        ready &= outcome.is_ok();
        checks.insert(
            name.into(),
            match outcome {
                Ok(detail) => json!({ "ok": true, "detail": detail }),
                Err(error) => json!({ "ok": false, "error": error }),
            },
        );
    };
    check(
        "shutdown",
        if readiness.shutting_down.load(Ordering::Relaxed) {
            Err("the server is shutting down".into())
        } else {
            Ok("serving".into())
        },
    );
    // The vault opens the database afresh and checks its server key against it: a
    // database gone, unreadable or holding another key's data fails here.
    let database = readiness
        .services
        .with_vault(|vault| vault.health_check())
        .await;
    match database {
        Ok(()) => {
            check("database", Ok("reachable".into()));
            check("server_key", Ok("loaded and matching".into()));
        }
        Err(error @ orderdesk_vault::VaultError::Config(_)) => {
            check("database", Ok("reachable".into()));
            check("server_key", Err(error.to_string()));
        }
        Err(error) => check("database", Err(error.to_string())),
    }
    let tools = readiness.mcp.catalog().entries().len();
    check(
        "components",
        if tools > 0 {
            Ok(format!("{tools} tools"))
        } else {
            Err("no component is loaded".into())
        },
    );
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_answer(
        status,
        json!({ "ready": ready, "checks": Value::Object(checks) }),
    )
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
