//! Greeting line 1 (`aemp;1;<nodeid>;<accept>;<framings>[;k=v]...`) and the nonce line 2.

use base64::Engine as _;

use super::error::{excerpt, HandshakeError};

/// The protocol name in field 1 of every greeting this crate speaks.
///
/// ```
/// assert_eq!(aemp_proto::handshake::PROTOCOL, "aemp");
/// ```
pub const PROTOCOL: &str = "aemp";

/// The protocol name in field 1 of a data connection's greeting (`AnyEvent::MP::DataConn`):
/// the side that opens it sends this instead of [`PROTOCOL`], the side that accepts
/// switches to it when it reads it.
///
/// ```
/// assert_eq!(aemp_proto::handshake::DATA_PROTOCOL, "aemp-dataconn");
/// ```
pub const DATA_PROTOCOL: &str = "aemp-dataconn";

/// The protocol version in field 2 of every greeting this crate speaks.
///
/// ```
/// assert_eq!(aemp_proto::handshake::VERSION, "1");
/// ```
pub const VERSION: &str = "1";

/// A greeting line 1: protocol (`aemp`, or `aemp-NAME` for another protocol over the same
/// handshake), version (always `1`), node ID, auth methods, framings, `key=value` pairs.
///
/// ```
/// use aemp_proto::handshake::Greeting;
/// let g = Greeting::parse(b"aemp;1;seed;hmac_sha3_512,cleartext;cbor,json;tls=1.0;mproto=1").unwrap();
/// assert_eq!(g.protocol, "aemp");
/// assert_eq!(g.node_id, "seed");
/// assert_eq!(g.auth_accept, ["hmac_sha3_512", "cleartext"]);
/// assert_eq!(g.framings, ["cbor", "json"]);
/// assert_eq!(g.get("mproto"), Some("1"));
/// assert!(g.wants_tls());
/// assert_eq!(g.to_line(), "aemp;1;seed;hmac_sha3_512,cleartext;cbor,json;tls=1.0;mproto=1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Greeting {
    /// The protocol: [`PROTOCOL`], or `aemp-NAME` ([`DATA_PROTOCOL`]).
    pub protocol: String,
    /// The sender's node ID.
    pub node_id: String,
    /// The authentication methods the sender accepts, in its order of preference.
    pub auth_accept: Vec<String>,
    /// The framings the sender understands, in its order of preference.
    pub framings: Vec<String>,
    /// The `key=value` pairs after field 5, in the order sent (a field without `=` has an
    /// empty value).
    pub kv: Vec<(String, String)>,
}

impl Greeting {
    /// Parses a received line 1 (without its line end) and checks protocol and version: the
    /// protocol must be `aemp` or `aemp-NAME` (NAME of letters, digits and `_`); which of
    /// those a connection speaks is the connection's to judge.
    ///
    /// ```
    /// use aemp_proto::handshake::{Greeting, HandshakeError};
    /// assert_eq!(Greeting::parse(b"aemp-dataconn;1;x;y;z").unwrap().protocol, "aemp-dataconn");
    /// assert!(matches!(
    ///     Greeting::parse(b"aemp-;1;x;y;z"),
    ///     Err(HandshakeError::WrongProtocol(p)) if p == "aemp-"
    /// ));
    /// assert!(matches!(Greeting::parse(b"aemp;2;x;y;z"), Err(HandshakeError::WrongVersion(_))));
    /// assert!(matches!(
    ///     Greeting::parse(b"GET / HTTP/1.1"),
    ///     Err(HandshakeError::MalformedGreeting { .. })
    /// ));
    /// ```
    pub fn parse(line: &[u8]) -> Result<Greeting, HandshakeError> {
        let malformed = |why: &str| HandshakeError::MalformedGreeting {
            reason: format!("{why}: {}", excerpt(line)),
        };
        let text = std::str::from_utf8(line).map_err(|_| malformed("line 1 is not UTF-8"))?;
        let fields: Vec<&str> = text.split(';').collect();
        if !is_protocol_name(fields[0]) {
            // Something that names a protocol is answered as such, anything else is garbage.
            return Err(if fields[0].starts_with(PROTOCOL) || fields.len() >= 5 {
                HandshakeError::WrongProtocol(fields[0].to_owned())
            } else {
                malformed("not an aemp greeting")
            });
        }
        if fields.len() < 5 {
            return Err(malformed(&format!(
                "expected at least 5 ';'-separated fields, got {}",
                fields.len()
            )));
        }
        if fields[1] != VERSION {
            return Err(HandshakeError::WrongVersion(fields[1].to_owned()));
        }
        if fields[2].is_empty() {
            return Err(malformed("empty node ID"));
        }
        Ok(Greeting {
            protocol: fields[0].to_owned(),
            node_id: fields[2].to_owned(),
            auth_accept: split_list(fields[3]),
            framings: split_list(fields[4]),
            kv: fields[5..]
                .iter()
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => ((*kv).to_owned(), String::new()),
                })
                .collect(),
        })
    }

    /// The value of the first `key=value` pair with that key.
    ///
    /// ```
    /// # use aemp_proto::handshake::Greeting;
    /// let g = Greeting::parse(b"aemp;1;n;cleartext;json;peeraddr=1.2.3.4:5").unwrap();
    /// assert_eq!(g.get("peeraddr"), Some("1.2.3.4:5"));
    /// assert_eq!(g.get("tls"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.kv
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the sender wants TLS (`tls=1.x`).
    ///
    /// ```
    /// # use aemp_proto::handshake::Greeting;
    /// assert!(!Greeting::parse(b"aemp;1;n;cleartext;json").unwrap().wants_tls());
    /// ```
    pub fn wants_tls(&self) -> bool {
        self.get("tls").is_some_and(|v| v.starts_with("1."))
    }

    /// The line as sent, without line end.
    ///
    /// ```
    /// # use aemp_proto::handshake::Greeting;
    /// let g = Greeting {
    ///     protocol: "aemp".into(),
    ///     node_id: "a".into(),
    ///     auth_accept: vec!["hmac_sha3_512".into()],
    ///     framings: vec!["cbor".into()],
    ///     kv: vec![("mproto".into(), "1".into())],
    /// };
    /// assert_eq!(g.to_line(), "aemp;1;a;hmac_sha3_512;cbor;mproto=1");
    /// ```
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "{};{VERSION};{};{};{}",
            self.protocol,
            self.node_id,
            self.auth_accept.join(","),
            self.framings.join(",")
        );
        for (k, v) in &self.kv {
            line.push(';');
            line.push_str(k);
            line.push('=');
            line.push_str(v);
        }
        line
    }
}

/// `aemp`, or `aemp-` followed by one or more letters, digits or `_` (as the original's
/// `/^aemp-\w+$/`).
fn is_protocol_name(field: &str) -> bool {
    match field.strip_prefix(PROTOCOL) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('-').is_some_and(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }),
        None => false,
    }
}

fn split_list(field: &str) -> Vec<String> {
    field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Greeting line 2: the standard base64 of the caller's random nonce bytes (no line end).
///
/// ```
/// let line = aemp_proto::handshake::nonce_line(&[0u8; 66]);
/// assert_eq!(line.len(), 88);
/// assert!(line.bytes().all(|b| b == b'A'));
/// ```
pub fn nonce_line(nonce: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(nonce)
}
