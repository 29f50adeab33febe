//! Listen addresses (`binds`).

use std::fmt;
use std::str::FromStr;

use crate::ConfigError;

/// Where a bind listens: all interfaces (`*`) or one host name or address.
///
/// ```
/// use aemp_config::{Bind, BindHost};
///
/// let bind: Bind = "127.0.0.1:4040".parse().unwrap();
/// assert_eq!(bind.host, BindHost::Named("127.0.0.1".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BindHost {
    /// All interfaces (written `*`).
    Any,
    /// A host name or an IP address (an IPv6 address without its brackets).
    Named(String),
}

/// The transport a bind listens with.
///
/// ```
/// use aemp_config::{Bind, BindTransport};
/// assert_eq!("quic:*:4041".parse::<Bind>().unwrap().transport, BindTransport::Quic);
/// assert_eq!("*:4040".parse::<Bind>().unwrap().transport, BindTransport::Tcp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BindTransport {
    /// TCP (written without a prefix, as the original writes every bind).
    #[default]
    Tcp,
    /// QUIC over UDP (written with the prefix `quic:`); only Rust nodes speak it.
    Quic,
}

/// One listen address: `*` (all interfaces, ephemeral port), `*:PORT`, `HOST:PORT`,
/// `[IPV6]:PORT`, or a bare `PORT` meaning `*:PORT`; with the prefix `quic:` a QUIC
/// endpoint on that UDP address instead of a TCP listener. Port 0 means "any free port".
///
/// ```
/// use aemp_config::{Bind, BindHost, BindTransport};
///
/// let any = |port| Bind { host: BindHost::Any, port, transport: BindTransport::Tcp };
/// assert_eq!("*".parse::<Bind>().unwrap(), any(0));
/// assert_eq!("4040".parse::<Bind>().unwrap(), any(4040));
/// assert_eq!("[::1]:9".parse::<Bind>().unwrap().to_string(), "[::1]:9");
/// assert_eq!("quic:[::1]:9".parse::<Bind>().unwrap().to_string(), "quic:[::1]:9");
/// assert!("localhost".parse::<Bind>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bind {
    /// The interface to listen on.
    pub host: BindHost,
    /// The TCP or UDP port; 0 lets the system choose.
    pub port: u16,
    /// TCP or QUIC.
    pub transport: BindTransport,
}

impl FromStr for Bind {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim();
        match s.strip_prefix("quic:") {
            Some(rest) => parse_address(text, rest).map(|(host, port)| Bind {
                host,
                port,
                transport: BindTransport::Quic,
            }),
            None => parse_address(text, s).map(|(host, port)| Bind {
                host,
                port,
                transport: BindTransport::Tcp,
            }),
        }
    }
}

/// The host and port of a bind's address part (`text` is the whole bind, for errors).
fn parse_address(text: &str, s: &str) -> Result<(BindHost, u16), ConfigError> {
    {
        let fail = |reason: &str| ConfigError::InvalidBind {
            value: text.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s == "*" {
            return Ok((BindHost::Any, 0));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let port = parse_port(s).ok_or_else(|| fail("the port is not in 0..65535"))?;
            return Ok((BindHost::Any, port));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| fail("a '[' has no matching ']'"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| fail("the port is missing after the bracketed address"))?;
            (host, port)
        } else {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| fail("the port is missing"))?;
            if host.contains(':') {
                return Err(fail(
                    "an IPv6 address must be written in brackets, e.g. [::1]:4040",
                ));
            }
            (host, port)
        };
        let port = parse_port(port).ok_or_else(|| fail("the port is not a number in 0..65535"))?;
        let host = match host {
            "" => return Err(fail("the host is empty")),
            "*" => BindHost::Any,
            named => BindHost::Named(named.to_owned()),
        };
        Ok((host, port))
    }
}

/// A decimal port number.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Bind {
    /// Writes the canonical form: `*`, `*:PORT`, `HOST:PORT` or `[IPV6]:PORT`, after
    /// `quic:` for a QUIC bind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.transport == BindTransport::Quic {
            f.write_str("quic:")?;
        }
        match &self.host {
            BindHost::Any if self.port == 0 => f.write_str("*"),
            BindHost::Any => write!(f, "*:{}", self.port),
            BindHost::Named(host) if host.contains(':') => write!(f, "[{host}]:{}", self.port),
            BindHost::Named(host) => write!(f, "{host}:{}", self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(host: &str, port: u16) -> Bind {
        Bind {
            host: BindHost::Named(host.to_owned()),
            port,
            transport: BindTransport::Tcp,
        }
    }

    #[test]
    fn accepted_forms() {
        let any = |port| Bind {
            host: BindHost::Any,
            port,
            transport: BindTransport::Tcp,
        };
        assert_eq!("*".parse::<Bind>().unwrap(), any(0));
        assert_eq!("*:4040".parse::<Bind>().unwrap(), any(4040));
        assert_eq!(" 4040 ".parse::<Bind>().unwrap(), any(4040));
        assert_eq!("0".parse::<Bind>().unwrap(), any(0));
        assert_eq!(
            "127.0.0.1:4040".parse::<Bind>().unwrap(),
            named("127.0.0.1", 4040)
        );
        assert_eq!(
            "host.example:1".parse::<Bind>().unwrap(),
            named("host.example", 1)
        );
        assert_eq!("[::1]:4040".parse::<Bind>().unwrap(), named("::1", 4040));
        let quic = |bind: Bind| Bind {
            transport: BindTransport::Quic,
            ..bind
        };
        assert_eq!("quic:*".parse::<Bind>().unwrap(), quic(any(0)));
        assert_eq!("quic:4041".parse::<Bind>().unwrap(), quic(any(4041)));
        assert_eq!(
            "quic:127.0.0.1:4041".parse::<Bind>().unwrap(),
            quic(named("127.0.0.1", 4041))
        );
        assert_eq!(
            "quic:[::1]:4041".parse::<Bind>().unwrap(),
            quic(named("::1", 4041))
        );
        assert!("quic:".parse::<Bind>().is_err());
    }

    #[test]
    fn rejected_forms_say_why() {
        for (text, why) in [
            ("", "empty"),
            ("localhost", "port is missing"),
            ("host:", "0..65535"),
            ("host:70000", "0..65535"),
            ("host:-1", "0..65535"),
            ("99999", "0..65535"),
            ("::1:4040", "brackets"),
            ("[::1", "matching"),
            ("[::1]4040", "missing"),
            (":4040", "host is empty"),
        ] {
            let msg = text.parse::<Bind>().unwrap_err().to_string();
            assert!(msg.contains(why), "{text:?}: {msg}");
            assert!(msg.contains(&format!("{text:?}")), "{text:?}: {msg}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["*", "*:4040", "10.0.0.1:1", "[fe80::1]:4040", "name:0"] {
            assert_eq!(text.parse::<Bind>().unwrap().to_string(), text);
        }
    }
}
