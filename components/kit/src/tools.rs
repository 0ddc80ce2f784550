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
/// in, the result as JSON text out. [`ToolSpec::run`] makes one; a component never
/// names it.
pub struct Handler(Box<dyn Fn(Args) -> ToolResult>);

/// The state of a [`ToolSpec`] before [`ToolSpec::run`] gave it a handler: only a spec
/// with a handler goes into [`Tools`], so a tool without one does not compile.
pub struct NoHandler;

/// One tool: what `tools/list` shows of it and the handler that runs it.
///
/// ```
/// use orderdesk_tool_kit::{ToolError, ToolSpec, annotations};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Deserialize)]
/// struct Sum { a: i64, b: i64 }
///
/// #[derive(Serialize)]
/// struct Total { total: i64 }
///
/// let spec = ToolSpec::new("calc_sum", "Add two numbers", "Answers {\"total\": a + b}. Changes nothing.")
///     .input(|| json!({"type": "object", "required": ["a", "b"], "additionalProperties": false,
///                      "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}))
///     .output(|| json!({"type": "object", "properties": {"total": {"type": "integer"}}}))
///     .annotations(annotations(true, false, true, false))
///     .run(|args: Sum| Ok::<_, ToolError>(Total { total: args.a + args.b }));
/// # let _ = spec;
/// ```
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
    /// Until set otherwise it takes no arguments (give it an [`input`](ToolSpec::input)
    /// schema for some) and carries MCP's default annotations (may change and destroy
    /// things, not idempotent, talks to the outside world).
    ///
    /// ```
    /// use orderdesk_tool_kit::ToolSpec;
    /// use orderdesk_tool_kit::args::NoArguments;
    ///
    /// let spec = ToolSpec::new("stock_report", "Stock report", "Summarises stock. Changes nothing.")
    ///     .run(|_: NoArguments| Ok(serde_json::json!({"items": 0})));
    /// # let _ = spec;
    /// ```
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
    ///
    /// ```
    /// use orderdesk_tool_kit::{ToolSpec, Tools, testing};
    /// use orderdesk_tool_kit::args::{WholeNumber, in_range};
    /// use serde::Deserialize;
    /// use serde_json::json;
    ///
    /// #[derive(Deserialize)]
    /// struct Args { n: WholeNumber }
    ///
    /// let tools = Tools::new("demo").tool(
    ///     ToolSpec::new("demo_double", "Double", "Doubles n.")
    ///         .input(|| json!({"type": "object", "properties": {"n": {"type": "integer"}}}))
    ///         .run(|args: Args| Ok(json!({"double": in_range("n", Some(args.n), 0..=100)?.unwrap() * 2}))),
    /// );
    /// assert_eq!(testing::call(&tools, "demo_double", json!({"n": 21})), Ok(json!({"double": 42})));
    /// // Arguments that do not fit the type are an invalid-input naming the field.
    /// assert!(testing::call(&tools, "demo_double", json!({"n": "x"})).is_err());
    /// ```
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
    ///
    /// ```
    /// # use orderdesk_tool_kit::{Args, ToolSpec};
    /// let spec = ToolSpec::new("demo_find", "Find", "Finds things.")
    ///     .input(|| serde_json::json!({
    ///         "type": "object",
    ///         "properties": {"search": {"type": "string", "minLength": 1, "description": "e.g. \"mug\""}},
    ///         "additionalProperties": false
    ///     }))
    ///     .run(|args: Args| Ok(args));
    /// # let _ = spec;
    /// ```
    pub fn input(mut self, schema: impl Fn() -> Value + 'static) -> Self {
        self.input_schema = Box::new(schema);
        self
    }

    /// The JSON Schema of the result (MCP's `outputSchema`). A client may check every
    /// result against it, so every result must match ([`testing::call`](crate::testing::call)
    /// checks each result a unit test sees).
    ///
    /// ```
    /// # use orderdesk_tool_kit::{Args, ToolSpec};
    /// let spec = ToolSpec::new("demo_count", "Count", "Counts.")
    ///     .output(|| serde_json::json!({"type": "object", "required": ["count"],
    ///                                   "properties": {"count": {"type": "integer"}}}))
    ///     .run(|_: Args| Ok(serde_json::json!({"count": 0})));
    /// # let _ = spec;
    /// ```
    pub fn output(mut self, schema: impl Fn() -> Value + 'static) -> Self {
        self.output_schema = Some(Box::new(schema));
        self
    }

    /// The MCP annotations (see [`annotations`]): read-only, destructive, idempotent,
    /// open-world.
    ///
    /// ```
    /// # use orderdesk_tool_kit::{Args, ToolSpec, annotations};
    /// // A read of OrderDesk: changes nothing, safe to repeat, talks to the outside.
    /// let spec = ToolSpec::new("demo_read", "Read", "Reads.")
    ///     .annotations(annotations(true, false, true, true))
    ///     .run(|args: Args| Ok(args));
    /// # let _ = spec;
    /// ```
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

/// A component's tools, in the order `tools/list` shows them; [`export!`](crate::export)
/// makes it the component's interface.
///
/// ```
/// use orderdesk_tool_kit::{Args, ToolSpec, Tools};
///
/// fn tools() -> Tools {
///     Tools::new("demo")
///         .tool(ToolSpec::new("demo_a", "A", "Does A.").run(|args: Args| Ok(args)))
///         .extend(more_tools())
/// }
///
/// fn more_tools() -> Vec<ToolSpec> {
///     vec![ToolSpec::new("demo_b", "B", "Does B.").run(|args: Args| Ok(args))]
/// }
///
/// let names: Vec<String> = tools().list().into_iter().map(|tool| tool.name).collect();
/// assert_eq!(names, ["demo_a", "demo_b"]);
/// ```
pub struct Tools {
    component: Cow<'static, str>,
    specs: Vec<ToolSpec>,
}

impl Tools {
    /// An empty table. `component` names the component in the error for an unknown
    /// tool.
    ///
    /// ```
    /// let tools = orderdesk_tool_kit::Tools::new("demo");
    /// assert!(tools.list().is_empty());
    /// ```
    pub fn new(component: impl Into<Cow<'static, str>>) -> Self {
        Tools {
            component: component.into(),
            specs: Vec::new(),
        }
    }

    /// Add a tool (see [`Tools`] for an example).
    pub fn tool(mut self, spec: ToolSpec) -> Self {
        self.specs.push(spec);
        self
    }

    /// Add several tools, e.g. a module's `fn tools() -> Vec<ToolSpec>` (see [`Tools`]).
    pub fn extend(mut self, specs: impl IntoIterator<Item = ToolSpec>) -> Self {
        self.specs.extend(specs);
        self
    }

    /// The tools as the WIT `list` answers them: names, schemas as JSON text,
    /// annotations.
    ///
    /// ```
    /// # use orderdesk_tool_kit::{Args, ToolSpec, Tools};
    /// let tools = Tools::new("demo").tool(ToolSpec::new("demo_a", "A", "Does A.").run(|args: Args| Ok(args)));
    /// let listed = tools.list();
    /// assert_eq!(listed[0].title.as_deref(), Some("A"));
    /// assert!(listed[0].input_schema.contains("\"additionalProperties\":false"));
    /// ```
    pub fn list(&self) -> Vec<Tool> {
        self.specs.iter().map(ToolSpec::tool).collect()
    }

    /// Run tool `name` with `arguments` (a JSON object as text), as the WIT `call`. In
    /// unit tests [`testing::call`](crate::testing::call) is handier.
    ///
    /// ```
    /// # use orderdesk_tool_kit::{Args, ToolError, ToolSpec, Tools};
    /// let tools = Tools::new("demo").tool(
    ///     ToolSpec::new("demo_a", "A", "Does A.")
    ///         .input(|| serde_json::json!({"type": "object"}))
    ///         .run(|args: Args| Ok(args)),
    /// );
    /// assert_eq!(tools.call("demo_a", r#"{"x": 1}"#), Ok(r#"{"x":1}"#.to_string()));
    /// assert!(matches!(tools.call("demo_z", "{}"), Err(ToolError::InvalidInput(_))));
    /// ```
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
