//! Why a handshake failed.

/// Why the greeting, TLS or authentication phase of a connection failed.
///
/// Every variant names what failed and why; the `Display` text is meant for logs and for the
/// kill reasons of monitors.
///
/// ```
/// use aemp_proto::HandshakeError;
/// let e = HandshakeError::WrongVersion("2".into());
/// assert!(e.to_string().contains("version"));
/// assert_eq!(
///     HandshakeError::AuthFailure.to_string(),
///     "authentication failure / shared secret mismatch"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// A line before authentication was longer than the limit (terminator included).
    #[error("handshake line longer than the limit of {limit} bytes (terminator included)")]
    LineTooLong {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The remote's line 1 is not an AEMP greeting at all.
    #[error("malformed greeting: {reason}")]
    MalformedGreeting {
        /// What is wrong with it, with a quoted excerpt of the line.
        reason: String,
    },
    /// The remote's line 1 names a protocol this end does not speak on this connection.
    #[error("remote speaks protocol {0:?}, expected \"aemp\" or \"aemp-dataconn\"")]
    WrongProtocol(String),
    /// The remote's line 1 names a protocol version other than `1`.
    #[error("remote speaks aemp version {0:?}, only version \"1\" is implemented")]
    WrongVersion(String),
    /// The remote claims our own node ID.
    #[error("remote node has our own node ID: I refuse to talk to myself")]
    SelfConnection,
    /// The remote sent back our own two greeting lines.
    #[error("remote greeting is byte-identical to ours: echo attack?")]
    EchoAttack,
    /// None of the methods the remote accepts is one we offer (and can use).
    #[error(
        "no common authentication method: we offer {offered:?}, the remote accepts {accepted:?}"
    )]
    NoCommonAuthMethod {
        /// Our offer list, without the `tls_` methods when TLS is not active.
        offered: Vec<String>,
        /// The remote's accept list.
        accepted: Vec<String>,
    },
    /// None of the framings the remote understands is one we speak.
    #[error("no common framing: we speak {ours:?}, the remote understands {theirs:?}")]
    NoCommonFraming {
        /// Our framing names.
        ours: Vec<String>,
        /// The remote's framing list.
        theirs: Vec<String>,
    },
    /// The remote authenticated with a method that is not in our accept list.
    #[error("remote authenticates with {0:?}, which is not in our accept list")]
    MethodNotAccepted(String),
    /// The remote's auth line announces a framing we did not offer.
    #[error("remote announces framing {0:?}, which we do not understand")]
    UnsupportedFraming(String),
    /// The remote's auth line is not `<method>;<token>;<framing>`.
    #[error("malformed auth line: {reason}")]
    MalformedAuthLine {
        /// What is wrong with it, with a quoted excerpt of the line.
        reason: String,
    },
    /// The remote's token does not match the one we expect.
    #[error("authentication failure / shared secret mismatch")]
    AuthFailure,
    /// The remote authenticated with a `tls_` method on a connection without TLS.
    #[error("remote uses a tls_ authentication method but the connection is not TLS")]
    TlsRequired,
    /// The method that must be used needs a shared secret and none is configured.
    #[error("the authentication method needs a shared secret, but none is configured")]
    NoSecret,
    /// Both sides have a certificate, but the encrypted stream's TLS did not verify the
    /// peer's.
    #[error("both sides announce a certificate, but the peer's was not verified (it is not one of ours and not signed by one of them)")]
    PeerNotVerified,
    /// Both sides want TLS, but our TLS session could not start.
    #[error("cannot start TLS: {0}")]
    TlsStart(crate::tls::TlsError),
    /// Authentication did not finish before the handshake deadline.
    #[error("handshake did not complete before the timeout")]
    Timeout,
}

/// A short, printable excerpt of a received line for error messages.
pub(crate) fn excerpt(line: &[u8]) -> String {
    const MAX: usize = 60;
    let text = String::from_utf8_lossy(&line[..line.len().min(MAX)]);
    let dots = if line.len() > MAX { "..." } else { "" };
    format!("\"{}{dots}\"", text.escape_debug())
}
