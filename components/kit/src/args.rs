//! Typed tool arguments.
//!
//! A handler takes its arguments as any `T: DeserializeOwned`, usually a struct whose
//! fields are the properties of the tool's input schema. The host validates arguments
//! against that schema first, but a component does not rely on it: arguments that do
//! not fit `T` are an `invalid-input` that names the field (`limit`, `order_ids[2]`,
//! `item.name`) and says what to do.

use std::fmt;
use std::ops::{Deref, RangeInclusive};

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::Value;

use crate::{Args, ToolError};

/// What every argument error ends with.
const FIX: &str = "correct it as the tool's input schema describes and call the tool again";

/// An `invalid-input` tool error: the model reads the message, so say what was wrong
/// and what to send instead.
///
/// ```
/// use orderdesk_tool_kit::{ToolError, args::invalid};
///
/// let error = invalid("`sku` must not contain spaces, e.g. \"MUG-WHT\"");
/// assert!(matches!(error, ToolError::InvalidInput(m) if m.contains("MUG-WHT")));
/// ```
pub fn invalid(message: impl Into<String>) -> ToolError {
    ToolError::InvalidInput(message.into())
}

/// Deserialize a tool's arguments into `T`, as [`ToolSpec::run`](crate::ToolSpec::run)
/// does: a mismatch is an `invalid-input` naming the field.
///
/// ```
/// use orderdesk_tool_kit::args::parse;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Args { limit: u32 }
///
/// assert_eq!(parse::<Args>(serde_json::json!({"limit": 5})).unwrap().limit, 5);
/// let error = parse::<Args>(serde_json::json!({"limit": "five"})).err().unwrap();
/// assert!(format!("{error:?}").contains("`limit`"));
/// ```
pub fn parse<T: DeserializeOwned>(arguments: Value) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(arguments).map_err(|e| mismatch(None, &e))
}

/// One argument of `args` as a `T`, read as a struct field would be: an absent `name`
/// is `None` for an `Option`, else an error saying it is required. For handlers whose
/// argument names are only known at run time; prefer a struct otherwise.
///
/// ```
/// use orderdesk_tool_kit::args::field;
///
/// let arguments = serde_json::json!({"code": "MUG-WHT"});
/// let arguments = arguments.as_object().unwrap();
/// assert_eq!(field::<String>(arguments, "code").unwrap(), "MUG-WHT");
/// assert_eq!(field::<Option<u32>>(arguments, "limit").unwrap(), None);
/// assert!(field::<u32>(arguments, "limit").is_err(), "required");
/// ```
pub fn field<T: DeserializeOwned>(args: &Args, name: &str) -> Result<T, ToolError> {
    match args.get(name) {
        None => T::deserialize(Absent).map_err(|_| invalid(format!("`{name}` is required; {FIX}"))),
        Some(value) => {
            serde_path_to_error::deserialize(value.clone()).map_err(|e| mismatch(Some(name), &e))
        }
    }
}

/// The message of a deserialization failure, naming where it happened.
fn mismatch(
    field: Option<&str>,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> ToolError {
    let mut path = field.unwrap_or_default().to_string();
    for segment in error.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            other => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&other.to_string());
            }
        }
    }
    let message = error.inner().to_string();
    // serde reports a missing field at its parent: `item` and "missing field `name`".
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let missing = if path.is_empty() {
            missing.to_string()
        } else {
            format!("{path}.{missing}")
        };
        return invalid(format!("`{missing}` is required; {FIX}"));
    }
    if path.is_empty() {
        invalid(format!("{message}; {FIX}"))
    } else {
        invalid(format!("`{path}`: {message}; {FIX}"))
    }
}

/// A whole-number argument as JSON Schema's `integer` admits it: `5`, and also `5.0`
/// (which the host's schema check lets through). Check its range with [`in_range`].
///
/// ```
/// use orderdesk_tool_kit::args::{WholeNumber, parse};
///
/// assert_eq!(parse::<WholeNumber>(serde_json::json!(5.0)).unwrap(), WholeNumber(5));
/// assert!(parse::<WholeNumber>(serde_json::json!(-1)).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WholeNumber(pub u64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Whole;

        impl Visitor<'_> for Whole {
            type Value = WholeNumber;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of at least 0")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(n))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<WholeNumber, E> {
                u64::try_from(n)
                    .map(WholeNumber)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }

            fn visit_f64<E: de::Error>(self, n: f64) -> Result<WholeNumber, E> {
                // 2^53 bounds the whole numbers an f64 holds exactly.
                if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) {
                    Ok(WholeNumber(n as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(n), &self))
                }
            }
        }

        deserializer.deserialize_any(Whole)
    }
}

/// A whole-number argument, if given, checked against `range`: an `invalid-input` that
/// names the argument and the range otherwise.
///
/// ```
/// use orderdesk_tool_kit::args::{WholeNumber, in_range};
///
/// assert_eq!(in_range("limit", Some(WholeNumber(50)), 1..=500), Ok(Some(50)));
/// assert_eq!(in_range("limit", None, 1..=500).unwrap().unwrap_or(50), 50);
/// assert!(in_range("limit", Some(WholeNumber(501)), 1..=500).is_err());
/// ```
pub fn in_range(
    name: &str,
    value: Option<WholeNumber>,
    range: RangeInclusive<u64>,
) -> Result<Option<u64>, ToolError> {
    match value.map(|WholeNumber(n)| n) {
        Some(n) if !range.contains(&n) => Err(invalid(format!(
            "`{name}` must be a whole number from {} to {}",
            range.start(),
            range.end()
        ))),
        value => Ok(value),
    }
}

/// An absent argument: `None` to an `Option`, an error to anything else (what serde
/// does for a missing struct field).
struct Absent;

impl<'de> Deserializer<'de> for Absent {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("required"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The arguments of a tool that takes none (`{}`).
///
/// ```
/// use orderdesk_tool_kit::{ToolSpec, args::NoArguments};
///
/// let spec = ToolSpec::new("demo_now", "Now", "Answers the store's clock.")
///     .run(|_: NoArguments| Ok(serde_json::json!({"ok": true})));
/// # let _ = spec;
/// ```
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct NoArguments {}

/// A string argument with content: not empty, not only whitespace. Kept as given.
///
/// ```
/// use orderdesk_tool_kit::args::{NonBlank, parse};
///
/// let name: NonBlank = parse(serde_json::json!("Ada")).unwrap();
/// assert_eq!(&*name, "Ada");
/// assert!(parse::<NonBlank>(serde_json::json!("  ")).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NonBlank(String);

impl TryFrom<String> for NonBlank {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.trim().is_empty() {
            Err("must not be empty")
        } else {
            Ok(Self(text))
        }
    }
}

impl NonBlank {
    /// The text, as given.
    ///
    /// ```
    /// # use orderdesk_tool_kit::args::{NonBlank, parse};
    /// let name: NonBlank = parse(serde_json::json!(" Ada ")).unwrap();
    /// assert_eq!(name.into_string(), " Ada ");
    /// ```
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for NonBlank {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NonBlank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<NonBlank> for String {
    fn from(text: NonBlank) -> Self {
        text.0
    }
}

/// The arguments of a call as an object (`null` is `{}`).
pub(crate) fn parse_object(arguments: &str) -> Result<Args, ToolError> {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Args::new()),
        Ok(_) => Err(invalid("arguments must be a JSON object")),
        Err(e) => Err(invalid(format!("arguments are not valid JSON: {e}"))),
    }
}

/// The argument names an input schema declares (`properties`).
fn declared(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
}

/// Refuse arguments a closed schema (`"additionalProperties": false`) does not declare:
/// a typo would otherwise be silently ignored, e.g. a misspelt filter that widens a
/// search.
pub(crate) fn reject_unknown(args: &Args, schema: &Value) -> Result<(), ToolError> {
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        return Ok(());
    }
    let unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !declared(schema).any(|d| d == *k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = declared(schema).collect();
    Err(invalid(format!(
        "unknown argument(s) {}; this tool takes: {}",
        quoted(&unknown),
        quoted(&known)
    )))
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::error_message;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Move {
        order_ids: Vec<NonBlank>,
        folder: Folder,
        limit: Option<u64>,
    }

    #[derive(Debug, Deserialize)]
    struct Folder {
        name: String,
    }

    #[test]
    fn arguments_that_fit_arrive_typed() {
        let moved: Move =
            parse(json!({"order_ids": ["1", "2"], "folder": {"name": "New"}})).unwrap();
        assert_eq!(
            moved.order_ids.iter().map(|id| &**id).collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(moved.folder.name, "New");
        assert_eq!(moved.limit, None);
    }

    #[test]
    fn a_wrong_type_names_the_field_and_what_to_do() {
        let error =
            parse::<Move>(json!({"order_ids": ["1"], "folder": {"name": "New"}, "limit": "x"}));
        let m = error_message(error, ToolError::InvalidInput);
        assert!(m.starts_with("`limit`: invalid type: string \"x\""), "{m}");
        assert!(m.ends_with(FIX), "{m}");
    }

    #[test]
    fn nested_and_listed_fields_are_named_by_their_path() {
        let m = error_message(
            parse::<Move>(json!({"order_ids": ["1", " "], "folder": {"name": "New"}})),
            ToolError::InvalidInput,
        );
        assert!(m.starts_with("`order_ids[1]`: must not be empty"), "{m}");
        let m = error_message(
            parse::<Move>(json!({"order_ids": [], "folder": {}})),
            ToolError::InvalidInput,
        );
        assert!(m.starts_with("`folder.name` is required"), "{m}");
        let m = error_message(
            parse::<Move>(json!({"folder": {"name": "x"}})),
            ToolError::InvalidInput,
        );
        assert!(m.starts_with("`order_ids` is required"), "{m}");
    }

    #[test]
    fn one_field_reads_like_a_struct_field() {
        let args = json!({"id": "7", "ids": ["a", 3], "empty": null});
        let args = args.as_object().unwrap();
        assert_eq!(field::<String>(args, "id").unwrap(), "7");
        assert_eq!(field::<Option<String>>(args, "absent").unwrap(), None);
        assert_eq!(field::<Option<String>>(args, "empty").unwrap(), None);
        assert_eq!(field::<Value>(args, "empty").unwrap(), Value::Null);
        let m = error_message(field::<Value>(args, "absent"), ToolError::InvalidInput);
        assert!(m.starts_with("`absent` is required"), "{m}");
        let m = error_message(field::<Vec<String>>(args, "ids"), ToolError::InvalidInput);
        assert!(m.starts_with("`ids[1]`: invalid type: integer `3`"), "{m}");
    }

    #[test]
    fn a_number_out_of_range_names_the_argument_and_the_range() {
        let limit = |value: Value| {
            let args = json!({ "limit": value });
            in_range("limit", field(args.as_object().unwrap(), "limit")?, 1..=500)
        };
        assert_eq!(limit(json!(500)), Ok(Some(500)));
        assert_eq!(
            limit(json!(50.0)),
            Ok(Some(50)),
            "JSON Schema's integer admits 50.0"
        );
        assert_eq!(limit(Value::Null), Ok(None));
        let m = error_message(limit(json!(501)), ToolError::InvalidInput);
        assert_eq!(m, "`limit` must be a whole number from 1 to 500");
        let m = error_message(limit(json!(2.5)), ToolError::InvalidInput);
        assert!(
            m.starts_with("`limit`: invalid value: floating point `2.5`, expected a whole number"),
            "{m}"
        );
        assert!(
            error_message(limit(json!(-1)), ToolError::InvalidInput)
                .starts_with("`limit`: invalid value")
        );
    }

    #[test]
    fn a_closed_schema_refuses_undeclared_arguments() {
        let closed = json!({"type": "object", "properties": {"code": {}, "limit": {}},
                            "additionalProperties": false});
        let args = json!({"sku": "MUG", "limit": 5});
        let m = error_message(
            reject_unknown(args.as_object().unwrap(), &closed),
            ToolError::InvalidInput,
        );
        assert_eq!(
            m,
            "unknown argument(s) `sku`; this tool takes: `code`, `limit`"
        );
        let open = json!({"type": "object", "properties": {}});
        assert!(reject_unknown(args.as_object().unwrap(), &open).is_ok());
    }

    #[test]
    fn arguments_must_be_an_object() {
        assert!(parse_object("null").unwrap().is_empty());
        assert!(parse_object("[1]").is_err());
        assert!(
            error_message(parse_object("{"), ToolError::InvalidInput).contains("not valid JSON")
        );
    }
}
