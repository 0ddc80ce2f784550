//! `orderdesk-mcp component new NAME [--lang rust|python] [--grants read|write]`: a
//! component project in the directory NAME that builds, checks and tests as it is.
//!
//! The files come from `cli/templates/` with `{{name}}` and a few other placeholders
//! filled in. A Rust project also gets the SDK in `sdk/` (the kit with its WIT,
//! store-api, order-model: embedded by `build/sdk.rs`) and the `Cargo.lock` the SDK is
//! tested with, so it needs neither this repository nor a published crate; a Python
//! project gets the host's WIT.

use std::path::Path;

use anyhow::Context;

use crate::args::{Access, Lang};

include!(concat!(env!("OUT_DIR"), "/sdk.rs"));

/// The host's WIT among the SDK's files.
const HOST_WIT: &str = "sdk/orderdesk-tool-kit/wit/orderdesk-mcp.wit";

const CASES: &str = include_str!("../../templates/cases.json");
const SET_STOCK_CASE: &str = include_str!("../../templates/cases_set_stock.json");

const RUST: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/rust/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/rust/src/lib.rs"),
    ),
    ("README.md", include_str!("../../templates/rust/README.md")),
    (".gitignore", include_str!("../../templates/rust/gitignore")),
];
const RUST_SET_STOCK: (&str, &str) = (
    "src/set_stock.rs",
    include_str!("../../templates/rust/src/set_stock.rs"),
);

const PYTHON: &[(&str, &str)] = &[
    ("app.py", include_str!("../../templates/python/app.py")),
    (
        "wit/world/world.wit",
        include_str!("../../templates/python/world.wit"),
    ),
    (
        "README.md",
        include_str!("../../templates/python/README.md"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/python/gitignore"),
    ),
];

/// Names a new component may not take: the built-in components', and crate names
/// that Rust reserves.
const TAKEN: &[&str] = &[
    "tenant",
    "stores",
    "orders",
    "inventory",
    "test",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "self",
    "crate",
    "super",
];

/// Create the project `parent/name` and say what to do next.
pub fn run(name: &str, lang: Lang, access: Access, parent: &Path) -> anyhow::Result<()> {
    check_name(name)?;
    let dir = parent.join(name);
    anyhow::ensure!(
        !dir.exists(),
        "{} already exists: choose another name, or remove it first",
        dir.display()
    );
    for (path, text) in project_files(name, lang, access) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let language = match lang {
        Lang::Rust => "Rust",
        Lang::Python => "Python",
    };
    println!(
        "created {name}/: a {language} tool component with the tool {name}_items{}, \
         its grants ({name}.toml: {}) and harness cases (cases.json)",
        if write_tools(lang, access) {
            format!(" and {name}_set_stock")
        } else {
            String::new()
        },
        grants_summary(access),
    );
    println!("next: cd {name}, then the commands in {name}/README.md");
    Ok(())
}

/// The component's name becomes its file stem, its crate's name and its tools'
/// prefix: lower-case letters, digits and `_`, starting with a letter.
fn check_name(name: &str) -> anyhow::Result<()> {
    let well_formed = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        well_formed,
        "`{name}` cannot name a component: use lower-case letters, digits and `_` \
         (at most 40, starting with a letter), e.g. `low_stock`"
    );
    anyhow::ensure!(
        !TAKEN.contains(&name),
        "`{name}` is taken (a built-in component or a name Rust reserves): choose another"
    );
    Ok(())
}

/// Whether the project gets the write tool: Rust with a write grant.
fn write_tools(lang: Lang, access: Access) -> bool {
    lang == Lang::Rust && access == Access::Write
}

fn grants_summary(access: Access) -> &'static str {
    match access {
        Access::Read => "orderdesk = \"read\"",
        Access::Write => "orderdesk = \"write\", log",
    }
}

/// Every file of the new project: its path in the project and its text.
pub fn project_files(name: &str, lang: Lang, access: Access) -> Vec<(String, String)> {
    let writes = write_tools(lang, access);
    let kebab = name.replace('_', "-");
    let fill = |template: &str| {
        template
            .replace(
                "{{write_summary}}",
                if writes {
                    "\n//! A second, `{{name}}_set_stock`, sets an item's stock: a write (fetch, merge,\n\
                     //! PUT the whole item)."
                } else {
                    ""
                },
            )
            .replace("{{write_module}}", if writes { "\nmod set_stock;" } else { "" })
            .replace(
                "{{write_tools}}",
                if writes { "\n        .tool(set_stock::tool())" } else { "" },
            )
            .replace("{{write_cases}}", if writes { SET_STOCK_CASE.trim_end() } else { "" })
            .replace("{{grants}}", grants_summary(access))
            .replace("{{package}}", &format!("local:{kebab}"))
            .replace("{{world}}", &kebab)
            .replace("{{name}}", name)
    };
    let templates: Vec<(&str, &str)> = match lang {
        Lang::Rust => RUST
            .iter()
            .copied()
            .chain(writes.then_some(RUST_SET_STOCK))
            .collect(),
        Lang::Python => PYTHON.to_vec(),
    };
    let mut files: Vec<(String, String)> = templates
        .into_iter()
        .map(|(path, template)| (path.to_string(), fill(template)))
        .collect();
    files.push(("cases.json".to_string(), fill(CASES)));
    files.push((format!("{name}.toml"), manifest(name, access)));
    match lang {
        Lang::Rust => {
            files.push(("Cargo.lock".to_string(), LOCK_FILE.to_string()));
            files.extend(
                SDK_FILES
                    .iter()
                    .map(|(path, text)| (path.to_string(), text.to_string())),
            );
        }
        Lang::Python => {
            let wit = SDK_FILES
                .iter()
                .find(|(path, _)| *path == HOST_WIT)
                .map(|(_, text)| text.to_string())
                .expect("the SDK carries the host's WIT");
            files.push(("wit/host/orderdesk-mcp.wit".to_string(), wit));
        }
    }
    files
}

/// The grants manifest `NAME.toml`.
fn manifest(name: &str, access: Access) -> String {
    let grants = match access {
        Access::Read => "orderdesk = \"read\"   # GET requests only\n",
        Access::Write => {
            "orderdesk = \"write\"  # GET, POST, PUT and DELETE\n\
             log = true           # each write is logged (store-api's Target does it)\n"
        }
    };
    format!(
        "# The grants of {name}.wasm: what it may use of the host. Keep this file beside the\n\
         # .wasm, with the same name, in the server's components directory. The operator\n\
         # can narrow it in config.toml, never widen it.\n\
         [grants]\n{grants}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "no {path} among {:?}",
                    files.iter().map(|f| &f.0).collect::<Vec<_>>()
                )
            })
    }

    #[test]
    fn every_placeholder_is_filled_and_the_case_file_is_json() {
        for (lang, access) in [
            (Lang::Rust, Access::Read),
            (Lang::Rust, Access::Write),
            (Lang::Python, Access::Read),
        ] {
            let files = project_files("low_stock", lang, access);
            for (path, text) in files.iter().filter(|(path, _)| !path.starts_with("sdk/")) {
                assert!(!text.contains("{{"), "{path} keeps a placeholder");
            }
            let cases: serde_json::Value =
                serde_json::from_str(file(&files, "cases.json")).unwrap();
            let expected_cases = if write_tools(lang, access) { 3 } else { 2 };
            assert_eq!(cases["cases"].as_array().unwrap().len(), expected_cases);
            assert!(file(&files, "low_stock.toml").contains("[grants]"));
        }
    }

    #[test]
    fn a_rust_project_carries_the_sdk_with_manifests_of_its_own() {
        let files = project_files("lowstock", Lang::Rust, Access::Read);
        let kit = file(&files, "sdk/orderdesk-tool-kit/Cargo.toml");
        assert!(!kit.contains("workspace = true"), "{kit}");
        assert!(kit.contains("wit-bindgen"), "{kit}");
        let store_api = file(&files, "sdk/orderdesk-store-api/Cargo.toml");
        assert!(
            store_api.contains("path = \"../orderdesk-tool-kit\""),
            "{store_api}"
        );
        assert!(
            store_api.contains("path = \"../order-model\""),
            "{store_api}"
        );
        file(&files, "sdk/orderdesk-tool-kit/wit/orderdesk-mcp.wit");
        file(&files, "sdk/order-model/src/replies.rs");
        assert!(file(&files, "Cargo.toml").contains("name = \"lowstock\""));
        assert!(!files.iter().any(|(p, _)| p == "src/set_stock.rs"));
        let write = project_files("lowstock", Lang::Rust, Access::Write);
        assert!(file(&write, "src/lib.rs").contains("mod set_stock;"));
        assert!(file(&write, "lowstock.toml").contains("orderdesk = \"write\""));
    }

    #[test]
    fn a_python_project_carries_the_host_wit_and_a_kebab_case_world() {
        let files = project_files("low_stock", Lang::Python, Access::Read);
        assert!(file(&files, "wit/host/orderdesk-mcp.wit").contains("package orderdesk:mcp"));
        assert!(file(&files, "wit/world/world.wit").contains("package local:low-stock;"));
        assert!(file(&files, "README.md").contains("-w local:low-stock/low-stock"));
        assert!(!files.iter().any(|(p, _)| p.starts_with("sdk/")));
    }

    #[test]
    fn names_that_cannot_name_a_component_are_refused() {
        for bad in [
            "",
            "Low",
            "low-stock",
            "9lives",
            "inventory",
            "test",
            &"a".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} was accepted");
        }
        check_name("low_stock2").unwrap();
    }
}
