//! Reading configuration values leniently, as the Perl original does: numbers may be
//! written as strings (`"30"`) and lists as one string (`"*:4040"` or `"a:1,b:2"`).
//!
//! Every function takes the key only to name it in the error.
//!
//! ```
//! use aemp_config::coerce;
//! use serde_json::json;
//!
//! assert_eq!(coerce::to_seconds("monitor_timeout", &json!("30")).unwrap(), 30.0);
//! let err = coerce::to_bool("secure", &json!([1])).unwrap_err();
//! assert!(err.to_string().contains("secure"));
//! ```

use serde_json::Value;

pub use crate::service::to_services;
use crate::ConfigError;

/// A string value; a number is accepted and formatted as written.
///
/// ```
/// use aemp_config::coerce::to_string;
/// use serde_json::json;
///
/// assert_eq!(to_string("nodeid", &json!("seed")).unwrap(), "seed");
/// assert_eq!(to_string("nodeid", &json!(4040)).unwrap(), "4040");
/// assert!(to_string("nodeid", &json!([1])).is_err());
/// ```
pub fn to_string(key: &str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(ConfigError::invalid(key, other, "expected a string")),
    }
}

/// A number; a string holding a number is accepted.
///
/// ```
/// use aemp_config::coerce::to_f64;
/// use serde_json::json;
///
/// assert_eq!(to_f64("monitor_timeout", &json!(30)).unwrap(), 30.0);
/// assert_eq!(to_f64("monitor_timeout", &json!(" 2.5 ")).unwrap(), 2.5);
/// assert!(to_f64("monitor_timeout", &json!("soon")).is_err());
/// ```
pub fn to_f64(key: &str, value: &Value) -> Result<f64, ConfigError> {
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match number {
        Some(n) if n.is_finite() => Ok(n),
        _ => Err(ConfigError::invalid(key, value, "expected a number")),
    }
}

/// A count or size: a non-negative whole number (a number or a string holding one).
///
/// ```
/// use aemp_config::coerce::to_count;
/// use serde_json::json;
///
/// assert_eq!(to_count("max_queued_bytes", &json!("1048576")).unwrap(), 1 << 20);
/// assert!(to_count("max_queued_bytes", &json!(-1)).is_err());
/// assert!(to_count("max_queued_bytes", &json!(1.5)).is_err());
/// ```
pub fn to_count(key: &str, value: &Value) -> Result<usize, ConfigError> {
    let count = match value {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse::<usize>().ok(),
        _ => None,
    };
    count.ok_or_else(|| ConfigError::invalid(key, value, "expected a whole number, 0 or more"))
}

/// A positive number of seconds (a number or a string holding one).
///
/// ```
/// use aemp_config::coerce::to_seconds;
/// use serde_json::json;
///
/// assert_eq!(to_seconds("monitor_timeout", &json!("30")).unwrap(), 30.0);
/// assert!(to_seconds("monitor_timeout", &json!(0)).is_err());
/// assert!(to_seconds("connect_interval", &json!(-2)).is_err());
/// ```
pub fn to_seconds(key: &str, value: &Value) -> Result<f64, ConfigError> {
    let secs = to_f64(key, value)?;
    if secs <= 0.0 {
        return Err(ConfigError::invalid(
            key,
            value,
            "must be more than 0 seconds",
        ));
    }
    Ok(secs)
}

/// A boolean: `true`/`false`, a number (0 is false), or one of the strings `1 true yes on`
/// and `0 false no off` (or empty), in any case. `null` is false.
///
/// ```
/// use aemp_config::coerce::to_bool;
/// use serde_json::json;
///
/// assert!(to_bool("secure", &json!(true)).unwrap());
/// assert!(to_bool("secure", &json!("yes")).unwrap());
/// assert!(!to_bool("secure", &json!(0)).unwrap());
/// assert!(!to_bool("secure", &json!("off")).unwrap());
/// assert!(to_bool("secure", &json!("maybe")).is_err());
/// ```
pub fn to_bool(key: &str, value: &Value) -> Result<bool, ConfigError> {
    match value {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64() != Some(0.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "" | "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::invalid(
                key,
                value,
                "expected a boolean (true/false, yes/no, on/off, 1/0)",
            )),
        },
        other => Err(ConfigError::invalid(key, other, "expected a boolean")),
    }
}

/// A list of strings: a JSON array of strings (or numbers), or one string that is split on
/// commas (surrounding blanks and empty pieces are dropped).
///
/// ```
/// use aemp_config::coerce::to_string_list;
/// use serde_json::json;
///
/// assert_eq!(to_string_list("seeds", &json!("*:4040")).unwrap(), ["*:4040"]);
/// assert_eq!(to_string_list("seeds", &json!("a:1, b:2")).unwrap(), ["a:1", "b:2"]);
/// assert_eq!(to_string_list("binds", &json!(["*:1", 4040])).unwrap(), ["*:1", "4040"]);
/// assert!(to_string_list("binds", &json!([["nested"]])).is_err());
/// ```
pub fn to_string_list(key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(ConfigError::invalid(
                    key,
                    value,
                    format!("list entry {other} is not a string"),
                )),
            })
            .collect(),
        Value::String(s) => Ok(split_commas(s)),
        Value::Number(n) => Ok(vec![n.to_string()]),
        other => Err(ConfigError::invalid(
            key,
            other,
            "expected a list of strings or a comma-separated string",
        )),
    }
}

/// Like [`to_string_list`], but the list must have at least one entry.
///
/// ```
/// use aemp_config::coerce::to_non_empty_list;
/// use serde_json::json;
///
/// assert_eq!(to_non_empty_list("auth_offer", &json!("hmac_sha3_512")).unwrap(), ["hmac_sha3_512"]);
/// assert!(to_non_empty_list("auth_offer", &json!([])).is_err());
/// ```
pub fn to_non_empty_list(key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    let list = to_string_list(key, value)?;
    if list.is_empty() {
        return Err(ConfigError::invalid(key, value, "needs at least one entry"));
    }
    Ok(list)
}

/// Splits `a, b,,c` into `["a", "b", "c"]`.
fn split_commas(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_key_and_value() {
        let msg = to_f64("connect_interval", &json!({"a": 1}))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("connect_interval"), "{msg}");
        assert!(msg.contains(r#"{"a":1}"#), "{msg}");
    }

    #[test]
    fn empty_string_is_an_empty_list() {
        assert!(to_string_list("seeds", &json!("")).unwrap().is_empty());
        assert!(to_string_list("seeds", &json!([])).unwrap().is_empty());
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        assert!(to_f64("monitor_timeout", &json!("inf")).is_err());
        assert!(to_f64("monitor_timeout", &json!("NaN")).is_err());
    }
}
