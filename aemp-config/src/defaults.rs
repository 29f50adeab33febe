//! Built-in values for keys the configuration leaves unset.

use serde_json::{json, Value};

use crate::JsonMap;

/// Listen on all interfaces, on a port the system chooses.
///
/// ```
/// assert_eq!(aemp_config::DEFAULT_BINDS, ["*"]);
/// ```
pub const DEFAULT_BINDS: &[&str] = &["*"];

/// Seconds of silence after which a connected node is considered dead.
///
/// ```
/// assert_eq!(aemp_config::DEFAULT_MONITOR_TIMEOUT, 30.0);
/// ```
pub const DEFAULT_MONITOR_TIMEOUT: f64 = 30.0;

/// Seconds between connection attempts to seeds and wanted nodes.
///
/// ```
/// assert_eq!(aemp_config::DEFAULT_CONNECT_INTERVAL, 2.0);
/// ```
pub const DEFAULT_CONNECT_INTERVAL: f64 = 2.0;

/// Authentication methods offered, in order of preference.
///
/// ```
/// assert_eq!(aemp_config::DEFAULT_AUTH_OFFER[0], "tls_sha3_512");
/// ```
pub const DEFAULT_AUTH_OFFER: &[&str] = &["tls_sha3_512", "hmac_sha3_512"];

/// Authentication methods accepted from the other side.
///
/// ```
/// assert!(aemp_config::DEFAULT_AUTH_ACCEPT.contains(&"cleartext"));
/// ```
pub const DEFAULT_AUTH_ACCEPT: &[&str] =
    &["tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"];

/// Whether remote code execution requests are refused (`secure`).
///
/// ```
/// assert!(!aemp_config::DEFAULT_SECURE);
/// ```
pub const DEFAULT_SECURE: bool = false;

/// Whether writes are corked (batched) rather than sent at once (`autocork`).
///
/// ```
/// assert!(!aemp_config::DEFAULT_AUTOCORK);
/// ```
pub const DEFAULT_AUTOCORK: bool = false;

/// Whether Nagle's algorithm is disabled on connections (`nodelay`).
///
/// ```
/// assert!(aemp_config::DEFAULT_NODELAY);
/// ```
pub const DEFAULT_NODELAY: bool = true;

/// The node ID template used when none is configured: the profile name and a `/`, so that
/// a unique string is appended.
///
/// ```
/// assert_eq!(aemp_config::default_nodeid_template("worker"), "worker/");
/// ```
pub fn default_nodeid_template(profile: &str) -> String {
    format!("{profile}/")
}

/// Inserts the built-in value for every defaulted key that `map` lacks (or holds `null`
/// for). `framing_format` has no entry: the node chooses its own.
pub(crate) fn fill_defaults(map: &mut JsonMap, profile: &str) {
    let defaults: [(&str, Value); 9] = [
        ("nodeid", Value::from(default_nodeid_template(profile))),
        ("binds", json!(DEFAULT_BINDS)),
        ("monitor_timeout", json!(30)),
        ("connect_interval", json!(2)),
        ("auth_offer", json!(DEFAULT_AUTH_OFFER)),
        ("auth_accept", json!(DEFAULT_AUTH_ACCEPT)),
        ("secure", json!(DEFAULT_SECURE)),
        ("autocork", json!(DEFAULT_AUTOCORK)),
        ("nodelay", json!(DEFAULT_NODELAY)),
    ];
    for (key, value) in defaults {
        match map.get(key) {
            None | Some(Value::Null) => {
                map.insert(key.to_owned(), value);
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_defaults_match_the_constants() {
        let mut map = JsonMap::new();
        fill_defaults(&mut map, "p");
        assert_eq!(
            map["monitor_timeout"].as_f64(),
            Some(DEFAULT_MONITOR_TIMEOUT)
        );
        assert_eq!(
            map["connect_interval"].as_f64(),
            Some(DEFAULT_CONNECT_INTERVAL)
        );
        assert_eq!(map["nodeid"], "p/");
        assert!(!map.contains_key("framing_format"));
    }

    #[test]
    fn set_values_are_kept_and_nulls_replaced() {
        let mut map = JsonMap::new();
        map.insert("binds".into(), json!(["*:1"]));
        map.insert("monitor_timeout".into(), Value::Null);
        fill_defaults(&mut map, "p");
        assert_eq!(map["binds"], json!(["*:1"]));
        assert_eq!(map["monitor_timeout"], json!(30));
    }
}
