//! Authentication methods, their tokens, and building and checking auth lines.

use hmac::{Hmac, Mac};
use sha3::{Digest, Sha3_512};

use super::bytes::{ct_eq, hex};
use super::error::{excerpt, HandshakeError};
use crate::wire::Framing;

/// An authentication method of the auth line.
///
/// ```
/// use aemp_proto::handshake::AuthMethod;
/// assert_eq!(AuthMethod::from_name("hmac_sha3_512"), Some(AuthMethod::HmacSha3_512));
/// assert_eq!(AuthMethod::TlsAnon.name(), "tls_anon");
/// assert!(AuthMethod::TlsSha3_512.requires_tls());
/// assert!(AuthMethod::Cleartext.requires_secret());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// HMAC-SHA3-512 keyed with the shared secret over the four greeting lines.
    HmacSha3_512,
    /// Plain SHA3-512 over the four greeting lines; only inside TLS.
    TlsSha3_512,
    /// Empty token; only inside TLS (the certificates authenticate).
    TlsAnon,
    /// The hex of the shared secret itself. Never offered by default.
    Cleartext,
}

impl AuthMethod {
    /// Every method this crate knows.
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::TlsSha3_512,
        AuthMethod::HmacSha3_512,
        AuthMethod::TlsAnon,
        AuthMethod::Cleartext,
    ];

    /// The name used in greetings and auth lines.
    ///
    /// ```
    /// # use aemp_proto::handshake::AuthMethod;
    /// assert_eq!(AuthMethod::HmacSha3_512.name(), "hmac_sha3_512");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::HmacSha3_512 => "hmac_sha3_512",
            AuthMethod::TlsSha3_512 => "tls_sha3_512",
            AuthMethod::TlsAnon => "tls_anon",
            AuthMethod::Cleartext => "cleartext",
        }
    }

    /// The method with that name, if this crate knows it.
    ///
    /// ```
    /// # use aemp_proto::handshake::AuthMethod;
    /// assert_eq!(AuthMethod::from_name("cleartext"), Some(AuthMethod::Cleartext));
    /// assert_eq!(AuthMethod::from_name("md6_hmac"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the method may only be used on a TLS connection (the `tls_` methods).
    ///
    /// ```
    /// # use aemp_proto::handshake::AuthMethod;
    /// assert!(!AuthMethod::HmacSha3_512.requires_tls());
    /// ```
    pub fn requires_tls(self) -> bool {
        matches!(self, AuthMethod::TlsSha3_512 | AuthMethod::TlsAnon)
    }

    /// Whether the method needs the shared secret.
    ///
    /// ```
    /// # use aemp_proto::handshake::AuthMethod;
    /// assert!(AuthMethod::HmacSha3_512.requires_secret());
    /// assert!(!AuthMethod::TlsSha3_512.requires_secret());
    /// ```
    pub fn requires_secret(self) -> bool {
        matches!(self, AuthMethod::HmacSha3_512 | AuthMethod::Cleartext)
    }
}

/// The four greeting lines of a connection (without line ends) as seen by one side, and
/// the channel binding of the stream they travelled on, if it has one.
///
/// ```
/// use aemp_proto::handshake::Transcript;
/// let t = Transcript { local: [b"L1", b"L2"], remote: [b"R1", b"R2"], binding: b"" };
/// assert_eq!(t.swapped().local, [b"R1", b"R2"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transcript<'a> {
    /// This side's line 1 and nonce line.
    pub local: [&'a [u8]; 2],
    /// The remote's line 1 and nonce line.
    pub remote: [&'a [u8]; 2],
    /// A value both ends of an encrypted stream derive from its session (for QUIC: a TLS
    /// exporter value), empty when the stream has none. Tokens cover it, so an
    /// authentication cannot be relayed into another session; the original never has one.
    pub binding: &'a [u8],
}

impl<'a> Transcript<'a> {
    /// The same connection seen from the other side.
    ///
    /// ```
    /// # use aemp_proto::handshake::Transcript;
    /// let t = Transcript { local: [b"a", b"b"], remote: [b"c", b"d"], binding: b"" };
    /// assert_eq!(t.swapped().swapped(), t);
    /// ```
    pub fn swapped(self) -> Transcript<'a> {
        Transcript {
            local: self.remote,
            remote: self.local,
            binding: self.binding,
        }
    }

    /// Hands `L1\nL2\nR1\nR2\n` to `update` piece by piece, then the channel binding
    /// (after a label) if there is one.
    fn feed(&self, mut update: impl FnMut(&[u8])) {
        for line in self.local.iter().chain(&self.remote) {
            update(line);
            update(b"\n");
        }
        if !self.binding.is_empty() {
            update(b"aemp-channel-binding\n");
            update(self.binding);
        }
    }
}

/// The token the local side of `transcript` sends for `method` (lower-case hex).
///
/// ```
/// use aemp_proto::handshake::{token, AuthMethod, HandshakeError, Transcript};
/// let t = Transcript { local: [b"L1", b"L2"], remote: [b"R1", b"R2"], binding: b"" };
/// assert_eq!(token(AuthMethod::Cleartext, Some(b"geheim"), t).unwrap(), "67656865696d");
/// assert_eq!(token(AuthMethod::TlsAnon, None, t).unwrap(), "");
/// assert_eq!(token(AuthMethod::HmacSha3_512, Some(b"k"), t).unwrap().len(), 128);
/// assert_eq!(token(AuthMethod::HmacSha3_512, None, t), Err(HandshakeError::NoSecret));
/// ```
pub fn token(
    method: AuthMethod,
    secret: Option<&[u8]>,
    transcript: Transcript<'_>,
) -> Result<String, HandshakeError> {
    match method {
        AuthMethod::HmacSha3_512 => {
            let secret = secret.ok_or(HandshakeError::NoSecret)?;
            let mut mac = <Hmac<Sha3_512> as Mac>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length");
            transcript.feed(|piece| mac.update(piece));
            Ok(hex(&mac.finalize().into_bytes()))
        }
        AuthMethod::TlsSha3_512 => {
            let mut digest = Sha3_512::new();
            transcript.feed(|piece| digest.update(piece));
            Ok(hex(&digest.finalize()))
        }
        AuthMethod::TlsAnon => Ok(String::new()),
        AuthMethod::Cleartext => secret.map(hex).ok_or(HandshakeError::NoSecret),
    }
}

/// The auth line (without line end) the local side of `transcript` sends.
///
/// ```
/// use aemp_proto::handshake::{auth_line, AuthMethod, Transcript};
/// use aemp_proto::Framing;
/// let t = Transcript { local: [b"L1", b"L2"], remote: [b"R1", b"R2"], binding: b"" };
/// let line = auth_line(AuthMethod::Cleartext, Some(b"geheim"), t, Framing::Json).unwrap();
/// assert_eq!(line, "cleartext;67656865696d;json");
/// ```
pub fn auth_line(
    method: AuthMethod,
    secret: Option<&[u8]>,
    transcript: Transcript<'_>,
    framing: Framing,
) -> Result<String, HandshakeError> {
    let token = token(method, secret, transcript)?;
    Ok(format!("{};{token};{}", method.name(), framing.name()))
}

/// The fields of a received auth line `<method>;<token>;<framing>`.
///
/// ```
/// use aemp_proto::handshake::AuthLine;
/// let l = AuthLine::parse(b"tls_anon;;cbor").unwrap();
/// assert_eq!((l.method.as_str(), l.token.as_str(), l.framing.as_str()), ("tls_anon", "", "cbor"));
/// assert!(AuthLine::parse(b"hmac_sha3_512").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthLine {
    /// The method name, as sent.
    pub method: String,
    /// The token, as sent.
    pub token: String,
    /// The name of the framing the sender will send in.
    pub framing: String,
}

impl AuthLine {
    /// Splits a received auth line (without line end). Fields after the third are ignored,
    /// as the original implementation does.
    ///
    /// ```
    /// # use aemp_proto::handshake::AuthLine;
    /// assert_eq!(AuthLine::parse(b"cleartext;00;json;x").unwrap().framing, "json");
    /// ```
    pub fn parse(line: &[u8]) -> Result<AuthLine, HandshakeError> {
        let malformed = |why: &str| HandshakeError::MalformedAuthLine {
            reason: format!("{why}: {}", excerpt(line)),
        };
        let text = std::str::from_utf8(line).map_err(|_| malformed("not UTF-8"))?;
        let mut fields = text.split(';');
        match (fields.next(), fields.next(), fields.next()) {
            (Some(method), Some(token), Some(framing)) => Ok(AuthLine {
                method: method.to_owned(),
                token: token.to_owned(),
                framing: framing.to_owned(),
            }),
            _ => Err(malformed("expected <method>;<token>;<framing>")),
        }
    }
}

/// What the verifying side allows in a remote auth line.
///
/// ```
/// use aemp_proto::handshake::AuthPolicy;
/// use aemp_proto::Framing;
/// let accept = vec!["hmac_sha3_512".to_string()];
/// let policy = AuthPolicy { secret: Some(b"geheim"), accept: &accept, framings: &Framing::ALL, tls_active: false };
/// assert!(!policy.tls_active);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AuthPolicy<'a> {
    /// Our shared secret, if any.
    pub secret: Option<&'a [u8]>,
    /// The method names we accept.
    pub accept: &'a [String],
    /// The framings we can decode.
    pub framings: &'a [Framing],
    /// Whether the connection runs inside TLS.
    pub tls_active: bool,
}

/// A remote auth line that passed every check.
///
/// ```
/// use aemp_proto::handshake::{AuthMethod, Verified};
/// use aemp_proto::Framing;
/// let v = Verified { method: AuthMethod::TlsAnon, framing: Framing::Cbor };
/// assert_eq!(v.framing.name(), "cbor");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The method the remote authenticated with.
    pub method: AuthMethod,
    /// The framing the remote will send in.
    pub framing: Framing,
}

/// Checks the remote's auth line `line` (without line end). `transcript` is seen from the
/// verifying side (`local` = our lines): the remote's token covers `R1\nR2\nL1\nL2\n`.
///
/// The method must be in the accept list (and `tls_` ones need TLS), the token must match
/// (compared in constant time), and the framing must be one we decode.
///
/// ```
/// use aemp_proto::handshake::{auth_line, verify_auth_line, AuthMethod, AuthPolicy, HandshakeError, Transcript};
/// use aemp_proto::Framing;
/// let sender = Transcript { local: [b"A1", b"A2"], remote: [b"B1", b"B2"], binding: b"" };
/// let line = auth_line(AuthMethod::HmacSha3_512, Some(b"geheim"), sender, Framing::Cbor).unwrap();
/// let accept = vec!["hmac_sha3_512".to_string()];
/// let mut policy = AuthPolicy { secret: Some(b"geheim"), accept: &accept, framings: &Framing::ALL, tls_active: false };
/// let v = verify_auth_line(line.as_bytes(), sender.swapped(), policy).unwrap();
/// assert_eq!((v.method, v.framing), (AuthMethod::HmacSha3_512, Framing::Cbor));
/// policy.secret = Some(b"falsch");
/// assert_eq!(verify_auth_line(line.as_bytes(), sender.swapped(), policy), Err(HandshakeError::AuthFailure));
/// ```
pub fn verify_auth_line(
    line: &[u8],
    transcript: Transcript<'_>,
    policy: AuthPolicy<'_>,
) -> Result<Verified, HandshakeError> {
    let remote = AuthLine::parse(line)?;
    let method = AuthMethod::from_name(&remote.method)
        .filter(|m| policy.accept.iter().any(|a| a == m.name()))
        .ok_or_else(|| HandshakeError::MethodNotAccepted(remote.method.clone()))?;
    if method.requires_tls() && !policy.tls_active {
        return Err(HandshakeError::TlsRequired);
    }
    let expected = token(method, policy.secret, transcript.swapped())?;
    if !ct_eq(expected.as_bytes(), remote.token.as_bytes()) {
        return Err(HandshakeError::AuthFailure);
    }
    let framing = Framing::from_name(&remote.framing)
        .filter(|f| policy.framings.contains(f))
        .ok_or(HandshakeError::UnsupportedFraming(remote.framing))?;
    Ok(Verified { method, framing })
}
