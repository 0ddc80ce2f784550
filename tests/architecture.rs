//! The layering rules of ARCHITECTURE.md, enforced: a forbidden edge between crates
//! (from `cargo metadata`) or between the host's modules (from `crate::` paths in the
//! sources) fails this test with a message naming the rule it breaks.
//!
//! The checks are plain functions over edges, so the tests at the bottom show each rule
//! failing on a graph with the forbidden edge added.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An edge `from → to` (crate → crate it depends on, or module → module it uses).
type Edge = (String, String);

/// Crates that may not be (normal) dependencies of a crate, and why.
const CRATE_RULES: &[(&str, &[&str], &str)] = &[
    (
        "orderdesk-vault",
        &[
            "wasmtime",
            "wasmtime-wasi",
            "rmcp",
            "reqwest",
            "orderdesk-gateway",
            "orderdesk-host",
        ],
        "the vault knows nothing of wasm, MCP or HTTP",
    ),
    (
        "orderdesk-vault",
        &["metrics", "metrics-exporter-prometheus", "axum"],
        "the vault stays crypto and SQL: the host records what it counts of the vault \
         (failed sign-ins) where it calls it",
    ),
    (
        "orderdesk-gateway",
        &[
            "wasmtime",
            "wasmtime-wasi",
            "rmcp",
            "rusqlite",
            "orderdesk-vault",
            "orderdesk-host",
        ],
        "the gateway knows nothing of wasm, MCP or SQL",
    ),
    (
        "orderdesk-gateway",
        &["metrics-exporter-prometheus"],
        "the gateway records through the metrics facade; the host installs the exporter",
    ),
    (
        "orderdesk-host",
        &["orderdesk-harness", "orderdesk-mcp", "reqwest", "rusqlite"],
        "the host reaches SQL only through the vault and OrderDesk's HTTP only through the \
         gateway, and the harness is a consumer of the host, never a dependency of it",
    ),
    (
        "orderdesk-harness",
        &["orderdesk-mcp", "reqwest", "rusqlite", "orderdesk-sim"],
        "the harness is the host with a scripted OrderDesk: no HTTP, no SQL of its own, no simulator",
    ),
    (
        "orderdesk-tool-kit",
        &["order-model", "orderdesk-store-api"],
        "the generic component SDK knows nothing of OrderDesk's domain model",
    ),
    (
        "orderdesk-sim",
        &[
            "orderdesk-host",
            "orderdesk-vault",
            "orderdesk-gateway",
            "orderdesk-harness",
        ],
        "the simulator stands for OrderDesk and knows nothing of the host",
    ),
];

/// Crates only the vault may depend on: secrets and crypto live in the vault.
const VAULT_ONLY: &[&str] = &["aes-gcm", "hkdf", "bcrypt", "hmac"];

/// `(crate, dependency)` pairs let through [`VAULT_ONLY`], each for a reason:
///
/// * `orderdesk-sim` uses `hmac`: it plays OrderDesk, which signs the orders it pushes
///   to a "post order to URL" rule's URL with the store's API key (HMAC-SHA256), and the
///   simulator must sign them the same way for a receiver to be tested. It signs only
///   with the fake keys of its own simulated stores: the host links it for the sandbox,
///   but no secret of the server's ever reaches it, so it is no part of the secrets path
///   (the tenants' keys and tokens stay in the vault).
const VAULT_ONLY_EXEMPT: &[(&str, &str)] = &[("orderdesk-sim", "hmac")];

/// The host's modules from the bottom up: a module may use only modules before it.
const MODULE_LAYERS: &[&str] = &[
    "telemetry",
    "bindings",
    "grants",
    "redact",
    "session",
    "services",
    "capabilities",
    "runtime",
    "catalog",
    "audit",
    "mcp",
    "app",
];

/// Text that may not appear in a module's sources, and why.
const MODULE_BANS: &[(&str, &[&str], &str)] = &[
    (
        "mcp",
        &["rusqlite", "reqwest", "orderdesk_gateway", "axum"],
        "the MCP layer never touches SQL or HTTP (the HTTP listener is app::remote's)",
    ),
    (
        "capabilities",
        &["rmcp", "rusqlite", "reqwest", "axum"],
        "capabilities reach the outside only through the services",
    ),
    (
        "runtime",
        &["rmcp", "orderdesk_vault", "orderdesk_gateway", "axum"],
        "the runtime runs components; it knows no MCP and no service",
    ),
];

/// Text that may appear only in the sources of the named modules, and why.
const CONFINED: &[(&str, &[&str], &str)] = &[
    (
        "axum",
        &["app"],
        "HTTP is served by the app layer (assembly); the layers below it know no transport",
    ),
    (
        "metrics_exporter_prometheus",
        &["telemetry"],
        "one module owns the Prometheus recorder; the others record through the metrics facade",
    ),
];

/// The capability modules, each of the same shape.
const CAPABILITIES: &[&str] = &["session", "vault", "orderdesk", "log"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the workspace root")
        .to_path_buf()
}

/// Normal (not dev, not build) dependency edges between the workspace's packages and
/// the crates they name.
fn crate_edges() -> Vec<Edge> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut edges = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        for dependency in package["dependencies"].as_array().unwrap() {
            if dependency["kind"].is_null() {
                edges.push((
                    name.to_string(),
                    dependency["name"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    edges
}

fn check_crates(edges: &[Edge]) -> Vec<String> {
    let mut violations = Vec::new();
    for (from, to) in edges {
        for (krate, forbidden, rule) in CRATE_RULES {
            if from == krate && forbidden.contains(&to.as_str()) {
                violations.push(format!("{from} depends on {to}: {rule}"));
            }
        }
        let exempt = VAULT_ONLY_EXEMPT.contains(&(from.as_str(), to.as_str()));
        if VAULT_ONLY.contains(&to.as_str()) && from != "orderdesk-vault" && !exempt {
            violations.push(format!(
                "{from} depends on {to}: secrets and crypto live in the vault only"
            ));
        }
    }
    violations
}

/// The host's sources by top-level module (`host/src/<module>.rs` or `<module>/…`).
fn module_sources() -> BTreeMap<String, String> {
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let src = root().join("host/src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = Path::new(first)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if module == "lib" {
                continue;
            }
            // Each file without its tests (tests may reach anywhere): a module's files
            // come in directory order, so one file's test module must not hide the
            // next file's code.
            let text = std::fs::read_to_string(&path).unwrap();
            let module_text = sources.entry(module).or_default();
            module_text.push_str(&without_tests(&text));
            module_text.push('\n');
        }
    }
    sources
}

/// `crate::X` paths of each module's non-test code, as module → module edges.
fn module_edges(sources: &BTreeMap<String, String>) -> Vec<Edge> {
    let mut edges = BTreeSet::new();
    for (module, text) in sources {
        for used in crate_paths(&without_tests(text)) {
            if &used != module {
                edges.insert((module.clone(), used));
            }
        }
    }
    edges.into_iter().collect()
}

/// The code before a file's `#[cfg(test)]` module: tests may reach anywhere.
fn without_tests(text: &str) -> String {
    text.split("\n#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The first segment after each `crate::` (also inside `use crate::{a, b}`).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let segment = item.trim().split("::").next().unwrap_or_default().trim();
                if !segment.is_empty() {
                    used.insert(segment.to_string());
                }
            }
        } else {
            let segment: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !segment.is_empty() {
                used.insert(segment);
            }
        }
    }
    used
}

fn check_modules(edges: &[Edge]) -> Vec<String> {
    let rank = |module: &str| MODULE_LAYERS.iter().position(|m| *m == module);
    let mut violations = Vec::new();
    for (from, to) in edges {
        match (rank(from), rank(to)) {
            (Some(f), Some(t)) if t < f => {}
            (Some(_), Some(_)) => violations.push(format!(
                "host module `{from}` uses `{to}`: a module uses only the layers below it \
                 ({}), so `{to}` may not be used from `{from}`",
                MODULE_LAYERS.join(" < ")
            )),
            (None, _) => violations.push(format!(
                "host module `{from}` has no layer: add it to ARCHITECTURE.md and to \
                 MODULE_LAYERS in tests/architecture.rs"
            )),
            (_, None) => violations.push(format!(
                "host module `{from}` uses `{to}`, which has no layer: add it to \
                 ARCHITECTURE.md and to MODULE_LAYERS in tests/architecture.rs"
            )),
        }
    }
    if let Some(cycle) = find_cycle(edges) {
        violations.push(format!(
            "import cycle between host modules: {}",
            cycle.join(" → ")
        ));
    }
    violations
}

fn check_bans(sources: &BTreeMap<String, String>) -> Vec<String> {
    let mut violations = Vec::new();
    for (module, banned, rule) in MODULE_BANS {
        let Some(text) = sources.get(*module) else {
            continue;
        };
        let code = without_tests(text);
        for word in *banned {
            if code.contains(word) {
                violations.push(format!("host module `{module}` mentions `{word}`: {rule}"));
            }
        }
    }
    violations
}

fn check_confined(sources: &BTreeMap<String, String>) -> Vec<String> {
    let mut violations = Vec::new();
    for (word, allowed, rule) in CONFINED {
        for (module, text) in sources {
            if !allowed.contains(&module.as_str()) && without_tests(text).contains(word) {
                violations.push(format!("host module `{module}` mentions `{word}`: {rule}"));
            }
        }
    }
    violations
}

/// A cycle in the graph, if there is one.
fn find_cycle(edges: &[Edge]) -> Option<Vec<String>> {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        graph.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

/// Each capability module has the same parts: a view, its `Host` impl, `add_to_linker`.
fn check_capability_shape(read: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut violations = Vec::new();
    for name in CAPABILITIES {
        let Some(text) = read(name) else {
            violations.push(format!(
                "capability `{name}` has no module capabilities/{name}.rs"
            ));
            continue;
        };
        for (part, needle) in [
            ("a view borrowing the call's environment", "View<'a> {"),
            (
                "the generated Host trait implemented on its view",
                "Host for ",
            ),
            ("an add_to_linker function", "pub fn add_to_linker<T"),
            ("a HasData type naming its view", "impl HasData for"),
        ] {
            if !text.contains(needle) {
                violations.push(format!(
                    "capability `{name}` lacks {part} (every capability has the same shape: \
                     see host/src/capabilities/mod.rs)"
                ));
            }
        }
    }
    violations
}

fn fail_on(violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "layering rules broken (ARCHITECTURE.md):\n- {}",
        violations.join("\n- ")
    );
}

#[test]
fn crates_depend_only_as_the_architecture_allows() {
    let edges = crate_edges();
    assert!(
        edges
            .iter()
            .any(|(from, to)| from == "orderdesk-host" && to == "orderdesk-vault"),
        "cargo metadata lists the host's dependencies"
    );
    fail_on(check_crates(&edges));
}

#[test]
fn host_modules_use_only_the_layers_below_them() {
    let sources = module_sources();
    for layer in MODULE_LAYERS {
        assert!(sources.contains_key(*layer), "host module `{layer}` exists");
    }
    let edges = module_edges(&sources);
    assert!(
        edges.contains(&("mcp".to_string(), "runtime".to_string())),
        "the scan sees `crate::` paths"
    );
    fail_on(check_modules(&edges));
    fail_on(check_bans(&sources));
    fail_on(check_confined(&sources));
}

#[test]
fn every_capability_has_the_same_shape() {
    let dir = root().join("host/src/capabilities");
    fail_on(check_capability_shape(|name| {
        std::fs::read_to_string(dir.join(format!("{name}.rs"))).ok()
    }));
}

// The tests of the tests: each rule fails on a graph with its forbidden edge.

fn edge(from: &str, to: &str) -> Edge {
    (from.to_string(), to.to_string())
}

#[test]
fn a_forbidden_crate_edge_is_named_with_its_rule() {
    let allowed = vec![edge("orderdesk-host", "orderdesk-vault")];
    assert!(check_crates(&allowed).is_empty());
    let harness_in_host = vec![edge("orderdesk-host", "orderdesk-harness")];
    let violations = check_crates(&harness_in_host);
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].contains("harness is a consumer of the host"),
        "{violations:?}"
    );
    let crypto_in_gateway = check_crates(&[edge("orderdesk-gateway", "aes-gcm")]);
    assert!(crypto_in_gateway[0].contains("crypto live in the vault only"));
    // The simulator's exemption is for signing pushes (hmac) and nothing else.
    assert!(check_crates(&[edge("orderdesk-sim", "hmac")]).is_empty());
    let hmac_in_gateway = check_crates(&[edge("orderdesk-gateway", "hmac")]);
    assert!(hmac_in_gateway[0].contains("crypto live in the vault only"));
    let cipher_in_sim = check_crates(&[edge("orderdesk-sim", "aes-gcm")]);
    assert!(cipher_in_sim[0].contains("crypto live in the vault only"));
    let wasm_in_vault = check_crates(&[edge("orderdesk-vault", "wasmtime")]);
    assert!(wasm_in_vault[0].contains("knows nothing of wasm"));
    let domain_in_kit = check_crates(&[edge("orderdesk-tool-kit", "order-model")]);
    assert!(domain_in_kit[0].contains("knows nothing of OrderDesk's domain"));
    let metrics_in_vault = check_crates(&[edge("orderdesk-vault", "metrics")]);
    assert!(metrics_in_vault[0].contains("stays crypto and SQL"));
    let exporter_in_gateway =
        check_crates(&[edge("orderdesk-gateway", "metrics-exporter-prometheus")]);
    assert!(exporter_in_gateway[0].contains("through the metrics facade"));
}

#[test]
fn an_upward_module_edge_or_a_cycle_is_named() {
    assert!(check_modules(&[edge("mcp", "runtime"), edge("runtime", "capabilities")]).is_empty());
    let upward = check_modules(&[edge("runtime", "mcp")]);
    assert!(upward[0].contains("`runtime` uses `mcp`"), "{upward:?}");
    let cycle = check_modules(&[edge("runtime", "catalog"), edge("catalog", "runtime")]);
    assert!(
        cycle.iter().any(|v| v.contains("import cycle")),
        "{cycle:?}"
    );
    let unknown = check_modules(&[edge("webhooks", "mcp")]);
    assert!(unknown[0].contains("has no layer"), "{unknown:?}");
}

#[test]
fn the_path_scan_finds_grouped_and_inline_uses_and_skips_tests_and_comments() {
    let text = "use crate::{grants::Grants, runtime};\nfn f() { crate::mcp::x(); }\n\
                // crate::app is only mentioned\n#[cfg(test)]\nmod tests { use crate::app; }\n";
    let used = crate_paths(&without_tests(text));
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["grants", "mcp", "runtime"]
    );
    let mut sources = BTreeMap::new();
    sources.insert("mcp".to_string(), "use rusqlite::Connection;".to_string());
    assert!(check_bans(&sources)[0].contains("never touches SQL or HTTP"));
    sources.insert("app".to_string(), "use axum::Router;".to_string());
    assert!(
        check_confined(&sources).is_empty(),
        "axum is the app layer's"
    );
    sources.insert("runtime".to_string(), "axum::serve(l, r)".to_string());
    let confined = check_confined(&sources);
    assert_eq!(confined.len(), 1, "{confined:?}");
    assert!(
        confined[0].contains("`runtime` mentions `axum`"),
        "{confined:?}"
    );
}

#[test]
fn a_capability_of_another_shape_is_named() {
    let violations = check_capability_shape(|name| {
        (name != "log").then(|| {
            "pub struct XView<'a> { } impl HasData for X {} impl x::Host for XView<'_> {} \
             pub fn add_to_linker<T>() {}"
                .to_string()
        })
    });
    assert_eq!(
        violations,
        ["capability `log` has no module capabilities/log.rs"]
    );
}
