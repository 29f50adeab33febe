//! The `services` setting: what a node starts, each a function name and its arguments.

use serde_json::Value;

use crate::coerce::to_string_list;
use crate::ConfigError;

/// One service to start: the original's `services` entries `"Name"` (no arguments) and
/// `["Name", arg, ...]`.
///
/// ```
/// use aemp_config::Service;
/// let s = Service::named("echo");
/// assert!(s.args.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The function to run.
    pub name: String,
    /// Its arguments, as JSON values.
    pub args: Vec<Value>,
}

impl Service {
    /// A service without arguments.
    ///
    /// ```
    /// assert_eq!(aemp_config::Service::named("echo").name, "echo");
    /// ```
    pub fn named(name: impl Into<String>) -> Service {
        Service {
            name: name.into(),
            args: Vec::new(),
        }
    }
}

/// Reads a `services` value: a list of names and `[name, arg, ...]` arrays, or a
/// comma-separated string of names.
///
/// ```
/// use aemp_config::coerce::to_services;
/// let v = serde_json::json!(["echo", ["log_catcher", 9]]);
/// let services = to_services("services", &v).unwrap();
/// assert_eq!(services[1].name, "log_catcher");
/// assert_eq!(services[1].args, [serde_json::json!(9)]);
/// ```
pub fn to_services(key: &str, value: &Value) -> Result<Vec<Service>, ConfigError> {
    let Value::Array(items) = value else {
        return Ok(to_string_list(key, value)?
            .into_iter()
            .map(Service::named)
            .collect());
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => Ok(Service::named(name.clone())),
            Value::Array(parts) => match parts.split_first() {
                Some((Value::String(name), args)) => Ok(Service {
                    name: name.clone(),
                    args: args.to_vec(),
                }),
                _ => Err(ConfigError::invalid(
                    key,
                    value,
                    format!("entry {item} does not start with a function name"),
                )),
            },
            other => Err(ConfigError::invalid(
                key,
                value,
                format!("entry {other} is neither a name nor [name, arguments...]"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_arrays_and_comma_strings() {
        let got = to_services("services", &json!(["a", ["b", 1, {"k": "v"}]])).unwrap();
        assert_eq!(got[0], Service::named("a"));
        assert_eq!(got[1].args, [json!(1), json!({"k": "v"})]);
        let got = to_services("services", &json!("a,b")).unwrap();
        assert_eq!(got, [Service::named("a"), Service::named("b")]);
    }

    #[test]
    fn entries_without_a_name_are_errors_naming_the_entry() {
        for bad in [json!([[1, 2]]), json!([[]]), json!([{"a": 1}])] {
            let err = to_services("services", &bad).unwrap_err().to_string();
            assert!(err.contains("services"), "{err}");
        }
    }
}
