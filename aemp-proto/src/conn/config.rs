//! What a connection needs to know about this node: identity, secret, methods, framings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::handshake::{AuthMethod, Greeting};
use crate::tls::TlsProvider;
use crate::wire::{DecodeLimits, Framing};

/// Settings of one connection (usually shared by every connection of a node via `Arc`).
///
/// ```
/// use aemp_proto::ConnConfig;
/// let mut cfg = ConnConfig::new("seed", Some(b"geheim".to_vec()));
/// cfg.extra_kv.push(("peeraddr".into(), "127.0.0.1:4040".into()));
/// assert!(cfg.validate().is_ok());
/// assert!(cfg.greeting().to_line().starts_with("aemp;1;seed;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;"));
/// assert!(!format!("{cfg:?}").contains("geheim"));
/// ```
///
/// Its `Debug` output shows the secret's length, never its bytes.
#[derive(Clone)]
pub struct ConnConfig {
    /// Our node ID.
    pub node_id: String,
    /// The shared secret, if any.
    pub secret: Option<Vec<u8>>,
    /// Methods we are willing to authenticate with, by name.
    pub auth_offer: Vec<String>,
    /// Methods we accept from the remote, by name, in our order of preference.
    pub auth_accept: Vec<String>,
    /// Framings we speak, in our order of preference.
    pub framings: Vec<Framing>,
    /// Extra `key=value` pairs for greeting line 1 (e.g. `peeraddr`). `provider`, `mproto`,
    /// `gproto` (and `tls` when [`ConnConfig::tls`] is set) are always sent; an entry here
    /// with one of those keys replaces the default value.
    pub extra_kv: Vec<(String, String)>,
    /// Where our TLS sessions come from, when we want TLS (we have a certificate): the
    /// greeting then announces `tls`, and a peer announcing it too gets TLS.
    pub tls: Option<Arc<dyn TlsProvider>>,
    /// The longest handshake line accepted, terminator included.
    pub max_line: usize,
    /// Frame limits of the data phase.
    pub limits: DecodeLimits,
    /// How long greeting, TLS setup and authentication may take together.
    pub handshake_timeout: Duration,
}

/// The minimum number of random nonce bytes [`crate::Connection::new`] accepts.
///
/// ```
/// assert_eq!(aemp_proto::conn::MIN_NONCE_LEN, 16);
/// ```
pub const MIN_NONCE_LEN: usize = 16;

/// The greeting key that names a data connection's ID (`b@node`: made by the node that
/// asked for the connection).
///
/// ```
/// assert_eq!(aemp_proto::conn::DATA_ID_KEY, "dataconn_id");
/// ```
pub const DATA_ID_KEY: &str = "dataconn_id";

impl ConnConfig {
    /// The defaults of the original implementation: offer `tls_sha3_512,hmac_sha3_512`,
    /// accept `tls_sha3_512,hmac_sha3_512,tls_anon,cleartext`, every framing (CBOR first),
    /// no TLS, 4096-byte lines, default frame limits, 30 s handshake timeout.
    ///
    /// ```
    /// # use aemp_proto::{ConnConfig, Framing};
    /// let cfg = ConnConfig::new("a", None);
    /// assert_eq!(cfg.framings, Framing::ALL);
    /// assert_eq!(cfg.max_line, 4096);
    /// ```
    pub fn new(node_id: impl Into<String>, secret: Option<Vec<u8>>) -> ConnConfig {
        let names = |ms: &[AuthMethod]| ms.iter().map(|m| m.name().to_owned()).collect();
        ConnConfig {
            node_id: node_id.into(),
            secret,
            auth_offer: names(&[AuthMethod::TlsSha3_512, AuthMethod::HmacSha3_512]),
            auth_accept: names(&AuthMethod::ALL),
            framings: Framing::ALL.to_vec(),
            extra_kv: Vec::new(),
            tls: None,
            max_line: 4096,
            limits: DecodeLimits::default(),
            handshake_timeout: Duration::from_secs(30),
        }
    }

    /// Checks that a handshake is possible with these settings and that every field can be
    /// written into a greeting.
    ///
    /// ```
    /// # use aemp_proto::{ConnConfig, ConfigError};
    /// assert_eq!(ConnConfig::new("a", None).validate(), Err(ConfigError::NoSecretNoTls));
    /// # #[derive(Debug)] struct Tls;
    /// # impl aemp_proto::tls::TlsProvider for Tls {
    /// #     fn start(&self, _: aemp_proto::TlsRole) -> Result<Box<dyn aemp_proto::tls::TlsSession>, aemp_proto::tls::TlsError> {
    /// #         Err(aemp_proto::tls::TlsError::new("not in this example"))
    /// #     }
    /// # }
    /// let mut tls_only = ConnConfig::new("a", None);
    /// tls_only.tls = Some(std::sync::Arc::new(Tls));
    /// assert!(tls_only.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_field("node ID", &self.node_id, ";,\r\n")?;
        if self.node_id.is_empty() {
            return Err(ConfigError::Invalid {
                what: "node ID".into(),
                reason: "it is empty".into(),
            });
        }
        match &self.secret {
            Some(s) if s.is_empty() => return Err(ConfigError::EmptySecret),
            None if self.tls.is_none() => return Err(ConfigError::NoSecretNoTls),
            _ => {}
        }
        for (list, names) in [
            ("auth_offer", &self.auth_offer),
            ("auth_accept", &self.auth_accept),
        ] {
            if names.is_empty() {
                return Err(ConfigError::EmptyList(list));
            }
            if let Some(bad) = names.iter().find(|n| AuthMethod::from_name(n).is_none()) {
                return Err(ConfigError::UnknownAuthMethod {
                    list,
                    name: bad.clone(),
                });
            }
        }
        if self.framings.is_empty() {
            return Err(ConfigError::EmptyList("framings"));
        }
        for (k, v) in &self.extra_kv {
            check_field("greeting key", k, ";=\r\n")?;
            check_field("greeting value", v, ";\r\n")?;
            if k.is_empty() {
                return Err(ConfigError::Invalid {
                    what: "greeting key".into(),
                    reason: "it is empty".into(),
                });
            }
        }
        let len = self.greeting().to_line().len() + 1;
        if len > self.max_line {
            return Err(ConfigError::GreetingTooLong {
                len,
                limit: self.max_line,
            });
        }
        Ok(())
    }

    /// Our greeting line 1 as these settings describe it.
    ///
    /// ```
    /// # use aemp_proto::ConnConfig;
    /// # #[derive(Debug)] struct Tls;
    /// # impl aemp_proto::tls::TlsProvider for Tls {
    /// #     fn start(&self, _: aemp_proto::TlsRole) -> Result<Box<dyn aemp_proto::tls::TlsSession>, aemp_proto::tls::TlsError> {
    /// #         Err(aemp_proto::tls::TlsError::new("not in this example"))
    /// #     }
    /// # }
    /// let mut cfg = ConnConfig::new("a", Some(b"s".to_vec()));
    /// cfg.tls = Some(std::sync::Arc::new(Tls));
    /// assert_eq!(cfg.greeting().get("tls"), Some("1.0"));
    /// assert_eq!(cfg.greeting().get("mproto"), Some("1"));
    /// ```
    pub fn greeting(&self) -> Greeting {
        let mut kv = vec![("mproto".into(), "1".into()), ("gproto".into(), "1".into())];
        for (k, v) in &self.extra_kv {
            match kv.iter_mut().find(|(key, _)| key == k) {
                Some(entry) => entry.1 = v.clone(),
                None => kv.push((k.clone(), v.clone())),
            }
        }
        self.greeting_of(crate::handshake::PROTOCOL, kv)
    }

    /// Our greeting line 1 for a data connection we open: protocol `aemp-dataconn` and the
    /// connection's ID, without the node protocol's keys (as the original sends it).
    ///
    /// ```
    /// # use aemp_proto::ConnConfig;
    /// let g = ConnConfig::new("a", Some(b"s".to_vec())).data_greeting("b@a");
    /// assert_eq!(g.protocol, "aemp-dataconn");
    /// assert_eq!(g.get("dataconn_id"), Some("b@a"));
    /// assert_eq!(g.get("mproto"), None);
    /// ```
    pub fn data_greeting(&self, id: &str) -> Greeting {
        let kv = vec![(DATA_ID_KEY.into(), id.into())];
        self.greeting_of(crate::handshake::DATA_PROTOCOL, kv)
    }

    /// A greeting of `protocol`: the provider, TLS if configured, then `kv`.
    fn greeting_of(&self, protocol: &str, kv: Vec<(String, String)>) -> Greeting {
        let mut all = vec![(
            "provider".into(),
            concat!("aemp-rs-", env!("CARGO_PKG_VERSION")).into(),
        )];
        if self.tls.is_some() {
            all.push(("tls".into(), "1.0".into()));
        }
        all.extend(kv);
        Greeting {
            protocol: protocol.to_owned(),
            node_id: self.node_id.clone(),
            auth_accept: self.auth_accept.clone(),
            framings: self.framings.iter().map(|f| f.name().to_owned()).collect(),
            kv: all,
        }
    }
}

impl fmt::Debug for ConnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.secret.as_ref().map(|s| format!("<{} bytes>", s.len()));
        f.debug_struct("ConnConfig")
            .field("node_id", &self.node_id)
            .field("secret", &secret)
            .field("auth_offer", &self.auth_offer)
            .field("auth_accept", &self.auth_accept)
            .field("framings", &self.framings)
            .field("extra_kv", &self.extra_kv)
            .field("tls", &self.tls.is_some())
            .field("max_line", &self.max_line)
            .field("limits", &self.limits)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

fn check_field(what: &str, value: &str, forbidden: &str) -> Result<(), ConfigError> {
    match value.chars().find(|c| forbidden.contains(*c)) {
        Some(c) => Err(ConfigError::Invalid {
            what: format!("{what} {value:?}"),
            reason: format!("it contains {c:?}"),
        }),
        None => Ok(()),
    }
}

/// Why a [`ConnConfig`] (or the nonce given with it) cannot be used for a handshake.
///
/// ```
/// use aemp_proto::ConfigError;
/// assert!(ConfigError::NoSecretNoTls.to_string().contains("secret"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Without a shared secret and without TLS no authentication method can work.
    #[error("neither a shared secret nor TLS is configured: no handshake is possible")]
    NoSecretNoTls,
    /// A secret of zero bytes was given.
    #[error("the shared secret is empty (use no secret instead of an empty one)")]
    EmptySecret,
    /// An auth method list or the framing list is empty.
    #[error("{0} is empty: no handshake is possible")]
    EmptyList(&'static str),
    /// An auth method list names a method this crate does not know.
    #[error("{list} names unknown authentication method {name:?}")]
    UnknownAuthMethod {
        /// `auth_offer` or `auth_accept`.
        list: &'static str,
        /// The unknown name.
        name: String,
    },
    /// A field cannot be written into a greeting line.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The field and its value.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Our own greeting line 1 would exceed the line limit.
    #[error("our greeting line is {len} bytes, over the line limit of {limit}")]
    GreetingTooLong {
        /// Its length with terminator.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The nonce given to [`crate::Connection::new`] is too short to be a nonce.
    #[error("nonce of {len} bytes is too short (at least {min} random bytes, 66 usual)")]
    ShortNonce {
        /// Bytes given.
        len: usize,
        /// The minimum.
        min: usize,
    },
}
