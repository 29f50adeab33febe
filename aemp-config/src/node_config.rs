//! The typed configuration a node starts with.

use serde_json::Value;

use crate::coerce::{
    to_bool, to_non_empty_list, to_seconds, to_services, to_string, to_string_list,
};
use crate::defaults::{
    DEFAULT_AUTH_ACCEPT, DEFAULT_AUTH_OFFER, DEFAULT_AUTOCORK, DEFAULT_BINDS,
    DEFAULT_CONNECT_INTERVAL, DEFAULT_MONITOR_TIMEOUT, DEFAULT_NODELAY, DEFAULT_SECURE,
};
use crate::{
    default_nodeid_template, expand_nodeid, resolve, Bind, ConfigError, EffectiveConfig, JsonMap,
    Overrides, Precedence, RcFile, Service,
};

/// Everything a node needs from its configuration, typed and checked.
///
/// ```
/// use aemp_config::{resolve, Overrides, RcFile};
///
/// let rc = RcFile::parse("/rc", r#"{"secret":"s","profile":{"seed":{"binds":"4040","monitor_timeout":"10"}}}"#).unwrap();
/// let cfg = resolve(&rc, "seed", &Overrides::new()).unwrap().node_config("host", "Uq").unwrap();
/// assert_eq!(cfg.nodeid, "seed/Uq");
/// assert_eq!(cfg.secret.as_deref(), Some("s"));
/// assert_eq!(cfg.binds[0].to_string(), "*:4040");
/// assert_eq!(cfg.monitor_timeout, 10.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// The profile this configuration was resolved for.
    pub profile: String,
    /// The node ID, template already expanded.
    pub nodeid: String,
    /// Whether the node ID contains the caller's unique string (`%u` or a trailing `/`).
    pub nodeid_unique: bool,
    /// The shared secret for authentication, if any.
    pub secret: Option<String>,
    /// The PEM text (private key and certificate) for TLS, if any.
    pub cert: Option<String>,
    /// `host:port` addresses of seed nodes.
    pub seeds: Vec<String>,
    /// Listen addresses; empty means "do not listen".
    pub binds: Vec<Bind>,
    /// The services to start, in order: function names with their arguments.
    pub services: Vec<Service>,
    /// Seconds of silence after which a node is considered dead.
    pub monitor_timeout: f64,
    /// Seconds between connection attempts.
    pub connect_interval: f64,
    /// Framings offered and accepted, in order of preference; `None` lets the node choose.
    pub framing_format: Option<Vec<String>>,
    /// Authentication methods offered, in order of preference.
    pub auth_offer: Vec<String>,
    /// Authentication methods accepted.
    pub auth_accept: Vec<String>,
    /// Refuse remote code execution requests.
    pub secure: bool,
    /// Batch writes instead of sending them at once.
    pub autocork: bool,
    /// Disable Nagle's algorithm on connections.
    pub nodelay: bool,
    /// The merged configuration map this was built from, with any keys this crate does not
    /// know (the node ID here is still the template).
    pub raw: JsonMap,
}

impl EffectiveConfig {
    /// Checks every known key and builds the typed [`NodeConfig`]. `hostname` replaces `%n`
    /// in the node ID and `unique` replaces `%u` and is appended to a node ID ending in `/`.
    ///
    /// ```
    /// use aemp_config::{resolve, Overrides, RcFile};
    ///
    /// let rc = RcFile::parse("/rc", r#"{"nodeid":"%n/%u","monitor_timeout":"soon"}"#).unwrap();
    /// let err = resolve(&rc, "p", &Overrides::new()).unwrap().node_config("h", "U").unwrap_err();
    /// assert!(err.to_string().contains("monitor_timeout"));
    /// ```
    pub fn node_config(&self, hostname: &str, unique: &str) -> Result<NodeConfig, ConfigError> {
        let map = self.raw();
        let template = match present(map, "nodeid") {
            Some(v) => to_string("nodeid", v)?,
            None => default_nodeid_template(self.profile()),
        };
        let expanded = expand_nodeid(&template, hostname, unique)?;
        Ok(NodeConfig {
            profile: self.profile().to_owned(),
            nodeid: expanded.nodeid,
            nodeid_unique: expanded.unique,
            secret: optional(map, "secret", to_string)?,
            cert: optional(map, "cert", to_string)?,
            seeds: list_or(map, "seeds", &[])?,
            binds: list_or(map, "binds", DEFAULT_BINDS)?
                .iter()
                .map(|b| b.parse())
                .collect::<Result<_, _>>()?,
            services: optional(map, "services", to_services)?.unwrap_or_default(),
            monitor_timeout: seconds(map, "monitor_timeout", DEFAULT_MONITOR_TIMEOUT)?,
            connect_interval: seconds(map, "connect_interval", DEFAULT_CONNECT_INTERVAL)?,
            framing_format: optional(map, "framing_format", to_non_empty_list)?,
            auth_offer: non_empty_list_or(map, "auth_offer", DEFAULT_AUTH_OFFER)?,
            auth_accept: non_empty_list_or(map, "auth_accept", DEFAULT_AUTH_ACCEPT)?,
            secure: flag(map, "secure", DEFAULT_SECURE)?,
            autocork: flag(map, "autocork", DEFAULT_AUTOCORK)?,
            nodelay: flag(map, "nodelay", DEFAULT_NODELAY)?,
            raw: map.clone(),
        })
    }
}

/// Configures a node as the original's `configure` does: the profile is
/// `overrides.profile` or else `hostname`; the file at the default location is read unless
/// the precedence is [`Precedence::ProgramOnly`] (`norc`); then the profile is resolved and
/// typed.
///
/// ```
/// use aemp_config::{configure, Overrides, Precedence};
///
/// let o = Overrides::new().set("binds", "127.0.0.1:0").precedence(Precedence::ProgramOnly);
/// let cfg = configure(&o, "myhost", "Xy1").unwrap();
/// assert_eq!(cfg.profile, "myhost");
/// assert_eq!(cfg.nodeid, "myhost/Xy1");
/// assert_eq!(cfg.binds[0].to_string(), "127.0.0.1:0");
/// ```
pub fn configure(
    overrides: &Overrides,
    hostname: &str,
    unique: &str,
) -> Result<NodeConfig, ConfigError> {
    let profile = overrides.profile.as_deref().unwrap_or(hostname);
    let rc = match overrides.precedence {
        Precedence::ProgramOnly => RcFile::new(""),
        Precedence::FileWins | Precedence::ProgramWins => RcFile::load_default()?,
    };
    resolve(&rc, profile, overrides)?.node_config(hostname, unique)
}

/// The value of `key`, treating `null` as unset.
fn present<'a>(map: &'a JsonMap, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// `convert(value)` if the key is set.
fn optional<T>(
    map: &JsonMap,
    key: &str,
    convert: fn(&str, &Value) -> Result<T, ConfigError>,
) -> Result<Option<T>, ConfigError> {
    present(map, key).map(|v| convert(key, v)).transpose()
}

/// A list of strings, or `default` if unset.
fn list_or(map: &JsonMap, key: &str, default: &[&str]) -> Result<Vec<String>, ConfigError> {
    Ok(optional(map, key, to_string_list)?
        .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect()))
}

/// A list of strings that must not be empty, or `default` if unset.
fn non_empty_list_or(
    map: &JsonMap,
    key: &str,
    default: &[&str],
) -> Result<Vec<String>, ConfigError> {
    Ok(optional(map, key, to_non_empty_list)?
        .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect()))
}

/// A positive number of seconds, or `default` if unset.
fn seconds(map: &JsonMap, key: &str, default: f64) -> Result<f64, ConfigError> {
    Ok(optional(map, key, to_seconds)?.unwrap_or(default))
}

/// A boolean, or `default` if unset.
fn flag(map: &JsonMap, key: &str, default: bool) -> Result<bool, ConfigError> {
    Ok(optional(map, key, to_bool)?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BindHost, BindTransport};
    use serde_json::json;

    fn node(text: &str, profile: &str) -> Result<NodeConfig, ConfigError> {
        let rc = RcFile::parse("/rc", text).unwrap();
        resolve(&rc, profile, &Overrides::new())?.node_config("host", "UNIQ")
    }

    #[test]
    fn defaults() {
        let cfg = node("{}", "p").unwrap();
        assert_eq!(cfg.nodeid, "p/UNIQ");
        assert!(cfg.nodeid_unique);
        assert_eq!(cfg.secret, None);
        assert_eq!(cfg.cert, None);
        assert!(cfg.seeds.is_empty());
        assert_eq!(
            cfg.binds,
            [Bind {
                host: BindHost::Any,
                port: 0,
                transport: BindTransport::Tcp,
            }]
        );
        assert!(cfg.services.is_empty());
        assert_eq!(cfg.monitor_timeout, 30.0);
        assert_eq!(cfg.connect_interval, 2.0);
        assert_eq!(cfg.framing_format, None);
        assert_eq!(cfg.auth_offer, ["tls_sha3_512", "hmac_sha3_512"]);
        assert_eq!(
            cfg.auth_accept,
            ["tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"]
        );
        assert!(!cfg.secure);
        assert!(!cfg.autocork);
        assert!(cfg.nodelay);
    }

    #[test]
    fn strings_numbers_and_single_string_lists() {
        let cfg = node(
            r#"{"nodeid":"%n","seeds":"a:1,b:2","services":"My::Svc::","binds":4040,
                "monitor_timeout":"12.5","connect_interval":1,"framing_format":"json",
                "secure":1,"autocork":"yes","nodelay":false,"x-extra":{"k":1}}"#,
            "p",
        )
        .unwrap();
        assert_eq!(cfg.nodeid, "host");
        assert!(!cfg.nodeid_unique);
        assert_eq!(cfg.seeds, ["a:1", "b:2"]);
        assert_eq!(cfg.services, [Service::named("My::Svc::")]);
        assert_eq!(cfg.binds[0].to_string(), "*:4040");
        assert_eq!(cfg.monitor_timeout, 12.5);
        assert_eq!(cfg.connect_interval, 1.0);
        assert_eq!(cfg.framing_format, Some(vec!["json".to_owned()]));
        assert!(cfg.secure && cfg.autocork && !cfg.nodelay);
        assert_eq!(cfg.raw["x-extra"], json!({"k": 1}));
    }

    #[test]
    fn empty_binds_mean_no_listener() {
        assert!(node(r#"{"binds":[]}"#, "p").unwrap().binds.is_empty());
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (text, key) in [
            (r#"{"monitor_timeout":0}"#, "monitor_timeout"),
            (r#"{"connect_interval":"-1"}"#, "connect_interval"),
            (r#"{"auth_offer":[]}"#, "auth_offer"),
            (r#"{"framing_format":""}"#, "framing_format"),
            (r#"{"secret":{}}"#, "secret"),
            (r#"{"nodelay":"sometimes"}"#, "nodelay"),
            (r#"{"seeds":true}"#, "seeds"),
        ] {
            let msg = node(text, "p").unwrap_err().to_string();
            assert!(msg.contains(key), "{text}: {msg}");
        }
        let msg = node(r#"{"binds":["nowhere"]}"#, "p")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nowhere"), "{msg}");
    }

    #[test]
    fn null_means_unset() {
        let cfg = node(
            r#"{"secret":"g","monitor_timeout":null,"profile":{"p":{"secret":null}}}"#,
            "p",
        )
        .unwrap();
        assert_eq!(cfg.secret, None);
        assert_eq!(cfg.monitor_timeout, 30.0);
    }
}
