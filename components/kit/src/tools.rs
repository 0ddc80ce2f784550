//! The tool table: each tool of a component declared once, with its handler. A
//! component's [`Guest`](crate::Guest) implementation is [`Tools::list`] and
//! [`Tools::call`].
//!
//! The host makes a fresh instance for every call, so the table is built on every
//! call too: schemas are functions, built only when `list` asks for them all or
//! `call` for the called tool's.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::args::{self, invalid};
use crate::{Annotations, Args, Tool, ToolError, ToolResult, annotations};

type Schema = Box<dyn Fn() -> Value>;

/// A tool's handler, with its argument and result types erased: the arguments object
/// in, the result as JSON text out.
pub struct Handler(Box<dyn Fn(Args) -> ToolResult>);

/// The state of a [`ToolSpec`] before [`ToolSpec::run`] gave it a handler: only a spec
/// with a handler goes into [`Tools`].
pub struct NoHandler;

/// One tool: what `tools/list` shows of it and the handler that runs it.
pub struct ToolSpec<H = Handler> {
    name: Cow<'static, str>,
    title: Cow<'static, str>,
    description: Cow<'static, str>,
    input_schema: Schema,
    output_schema: Option<Schema>,
    annotations: Annotations,
    handler: H,
}

impl ToolSpec<NoHandler> {
    /// A tool named `name` (`^[a-zA-Z0-9_-]{1,64}$`, prefixed with the component's name
    /// by convention; part of the interface, never rename it). `description` is what
    /// the model reads to decide when to call it: what it does, what it changes, and
    /// when to use it.
    ///
    /// Until set otherwise it takes no arguments and carries MCP's default annotations
    /// (may change and destroy things, not idempotent, talks to the outside world).
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        title: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        ToolSpec {
            name: name.into(),
            title: title.into(),
            description: description.into(),
            input_schema: Box::new(
                || json!({"type": "object", "properties": {}, "additionalProperties": false}),
            ),
            output_schema: None,
            annotations: annotations(false, true, false, true),
            handler: NoHandler,
        }
    }

    /// The handler: arguments deserialized into `T` (arguments that do not fit are an
    /// `invalid-input` naming the field, see [`args`]), a result serialized from `R` —
    /// best a JSON object, which becomes MCP's `structuredContent`.
    pub fn run<T, R, F>(self, handler: F) -> ToolSpec
    where
        T: DeserializeOwned,
        R: Serialize,
        F: Fn(T) -> Result<R, ToolError> + 'static,
    {
        let handler = move |arguments: Args| {
            let result = handler(args::parse(Value::Object(arguments))?)?;
            serde_json::to_string(&result).map_err(|e| {
                ToolError::Internal(format!("the tool's result could not be serialised: {e}"))
            })
        };
        ToolSpec {
            name: self.name,
            title: self.title,
            description: self.description,
            input_schema: self.input_schema,
            output_schema: self.output_schema,
            annotations: self.annotations,
            handler: Handler(Box::new(handler)),
        }
    }
}

impl<H> ToolSpec<H> {
    /// The JSON Schema of the arguments: an object schema. The host validates each
    /// call's arguments against it first; with `"additionalProperties": false` the kit
    /// also refuses undeclared arguments, naming them.
    pub fn input(mut self, schema: impl Fn() -> Value + 'static) -> Self {
        self.input_schema = Box::new(schema);
        self
    }

    /// The JSON Schema of the result (MCP's `outputSchema`). A client may check every
    /// result against it, so every result must match.
    pub fn output(mut self, schema: impl Fn() -> Value + 'static) -> Self {
        self.output_schema = Some(Box::new(schema));
        self
    }

    /// The MCP annotations (see [`annotations`]).
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = annotations;
        self
    }
}

impl ToolSpec {
    /// The tool as the WIT `list` answers it.
    fn tool(&self) -> Tool {
        Tool {
            name: self.name.to_string(),
            title: Some(self.title.to_string()),
            description: self.description.to_string(),
            input_schema: (self.input_schema)().to_string(),
            output_schema: self
                .output_schema
                .as_ref()
                .map(|schema| schema().to_string()),
            annotations: self.annotations,
        }
    }
}

/// A component's tools, in the order `tools/list` shows them.
pub struct Tools {
    component: Cow<'static, str>,
    specs: Vec<ToolSpec>,
}

impl Tools {
    /// An empty table. `component` names the component in the error for an unknown
    /// tool.
    pub fn new(component: impl Into<Cow<'static, str>>) -> Self {
        Tools {
            component: component.into(),
            specs: Vec::new(),
        }
    }

    /// Add a tool.
    pub fn tool(mut self, spec: ToolSpec) -> Self {
        self.specs.push(spec);
        self
    }

    /// Add several tools, e.g. a module's.
    pub fn extend(mut self, specs: impl IntoIterator<Item = ToolSpec>) -> Self {
        self.specs.extend(specs);
        self
    }

    /// The tools as the WIT `list` answers them.
    pub fn list(&self) -> Vec<Tool> {
        self.specs.iter().map(ToolSpec::tool).collect()
    }

    /// Run tool `name` with `arguments` (a JSON object as text), as the WIT `call`.
    pub fn call(&self, name: &str, arguments: &str) -> ToolResult {
        let spec = self.spec(name)?;
        let arguments = args::parse_object(arguments)?;
        args::reject_unknown(&arguments, &(spec.input_schema)())?;
        (spec.handler.0)(arguments)
    }

    fn spec(&self, name: &str) -> Result<&ToolSpec, ToolError> {
        self.specs
            .iter()
            .find(|spec| spec.name == name)
            .ok_or_else(|| {
                invalid(format!(
                    "the {} component has no tool named `{name}`",
                    self.component
                ))
            })
    }

    /// The output schema of tool `name`, if it declares one.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn output_schema(&self, name: &str) -> Option<Value> {
        let spec = self.spec(name).ok()?;
        spec.output_schema.as_ref().map(|schema| schema())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::error_message;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Greet {
        name: String,
    }

    fn greet(args: Greet) -> Result<Value, ToolError> {
        Ok(json!({"greeting": format!("Hello, {}", args.name)}))
    }

    fn table() -> Tools {
        Tools::new("demo")
            .tool(
                ToolSpec::new("demo_greet", "Greet", "Greets.")
                    .input(|| {
                        json!({"type": "object", "properties": {"name": {"type": "string"}},
                               "required": ["name"], "additionalProperties": false})
                    })
                    .output(|| {
                        json!({"type": "object", "properties": {"greeting": {"type": "string"}},
                               "required": ["greeting"]})
                    })
                    .annotations(annotations(true, false, true, false))
                    .run(greet),
            )
            .tool(ToolSpec::new("demo_raw", "Raw", "Echoes.").run(|args: Args| Ok(args)))
    }

    #[test]
    fn list_declares_every_tool_with_its_schemas() {
        let tools = table().list();
        assert_eq!(tools.len(), 2);
        let greet = &tools[0];
        assert_eq!(greet.name, "demo_greet");
        assert_eq!(greet.title.as_deref(), Some("Greet"));
        assert!(greet.annotations.read_only);
        let output: Value = serde_json::from_str(greet.output_schema.as_ref().unwrap()).unwrap();
        assert_eq!(output["required"], json!(["greeting"]));
        let raw = &tools[1];
        assert_eq!(raw.output_schema, None);
        assert!(!raw.annotations.read_only && raw.annotations.destructive);
        let input: Value = serde_json::from_str(&raw.input_schema).unwrap();
        assert_eq!(input["additionalProperties"], json!(false));
    }

    #[test]
    fn call_runs_the_named_tool_with_typed_arguments() {
        let tools = table();
        assert_eq!(
            tools.call("demo_greet", r#"{"name":"Ada"}"#).unwrap(),
            r#"{"greeting":"Hello, Ada"}"#
        );
        assert_eq!(tools.call("demo_raw", "null").unwrap(), "{}");
        let m = error_message(
            tools.call("demo_greet", r#"{"name":5}"#),
            ToolError::InvalidInput,
        );
        assert!(m.starts_with("`name`: invalid type: integer `5`"), "{m}");
    }

    #[test]
    fn unknown_tools_and_undeclared_arguments_are_invalid_input() {
        let tools = table();
        assert_eq!(
            tools.call("demo_nope", "{}"),
            Err(ToolError::InvalidInput(
                "the demo component has no tool named `demo_nope`".into()
            ))
        );
        let m = error_message(
            tools.call("demo_greet", r#"{"name":"A","nmae":1}"#),
            ToolError::InvalidInput,
        );
        assert!(m.contains("`nmae`"), "{m}");
    }
}
