//! TLS for a connection, behind a small session trait.
//!
//! The [`Connection`](crate::Connection) switches to TLS at the exact byte where the
//! protocol says so (right after both greetings, when both sides announce `tls`): every
//! byte it receives after the remote's nonce line goes through its [`TlsSession`], and
//! every byte it sends after its own nonce line comes out of it. The driver only ever
//! moves bytes between the stream and the connection; it never sees TLS.
//!
//! A [`TlsProvider`] starts sessions. With the `rustls` feature (on by default),
//! [`rustls`](self::rustls) provides one; tests and embedders may bring their own.
//!
//! The session holds no clock and draws no randomness of its own: whatever it needs comes
//! from its provider, which the caller builds (for rustls: the caller's time provider and
//! crypto provider, see [`RustlsTls`](self::rustls::RustlsTls)).
//!
//! ```
//! use aemp_proto::tls::{TlsError, TlsProvider, TlsRole, TlsSession};
//!
//! #[derive(Debug)]
//! struct Refuse;
//! impl TlsProvider for Refuse {
//!     fn start(&self, _role: TlsRole) -> Result<Box<dyn TlsSession>, TlsError> {
//!         Err(TlsError::new("TLS is switched off here"))
//!     }
//! }
//! assert_eq!(Refuse.start(TlsRole::Client).unwrap_err().to_string(), "TLS is switched off here");
//! ```

use std::fmt;

#[cfg(feature = "rustls")]
pub mod rustls;

/// Which end of the TLS handshake this side takes.
///
/// ```
/// use aemp_proto::TlsRole;
/// assert_ne!(TlsRole::Client, TlsRole::Server);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRole {
    /// Our nonce line sorts lower: we connect.
    Client,
    /// Our nonce line sorts higher: we accept.
    Server,
}

/// Why TLS failed, in words a node's operator can act on.
///
/// ```
/// let e = aemp_proto::tls::TlsError::new("TLS: the peer presented no certificate");
/// assert_eq!(e.to_string(), "TLS: the peer presented no certificate");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(String);

impl TlsError {
    /// An error with this text.
    ///
    /// ```
    /// assert!(aemp_proto::tls::TlsError::new("x").to_string() == "x");
    /// ```
    pub fn new(text: impl Into<String>) -> TlsError {
        TlsError(text.into())
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// What [`TlsSession::read_tls`] saw besides plaintext.
///
/// ```
/// assert!(!aemp_proto::tls::TlsRead::default().peer_closed);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsRead {
    /// The peer ended the TLS session (close_notify): nothing more will arrive.
    pub peer_closed: bool,
}

/// One connection's TLS without I/O: records in, plaintext out, and the reverse
/// (quinn-proto's `crypto::Session` is the model).
///
/// ```
/// fn established(s: &dyn aemp_proto::tls::TlsSession) -> bool {
///     !s.is_handshaking()
/// }
/// ```
pub trait TlsSession: Send + fmt::Debug {
    /// Takes in bytes received from the peer, appending the plaintext they carry to
    /// `plaintext`. After an error the session is unusable, but [`TlsSession::write_tls`]
    /// may still hold an alert for the peer.
    fn read_tls(&mut self, received: &[u8], plaintext: &mut Vec<u8>) -> Result<TlsRead, TlsError>;

    /// Whether the handshake is still in progress (no plaintext may be sent yet).
    fn is_handshaking(&self) -> bool;

    /// Appends the records the session wants to send by itself (handshake messages,
    /// alerts) to `out`.
    fn write_tls(&mut self, out: &mut Vec<u8>);

    /// Encrypts `plaintext` (only after the handshake), appending the records to `out`.
    fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError>;

    /// Ends the session politely: appends a close_notify alert to `out`.
    fn send_close(&mut self, out: &mut Vec<u8>);
}

/// Starts TLS sessions for a node's connections (shared by all of them).
///
/// ```
/// fn client(p: &dyn aemp_proto::tls::TlsProvider) {
///     let _ = p.start(aemp_proto::TlsRole::Client);
/// }
/// ```
pub trait TlsProvider: Send + Sync + fmt::Debug {
    /// A new session in `role`; a client's first handshake record is ready in
    /// [`TlsSession::write_tls`] at once.
    fn start(&self, role: TlsRole) -> Result<Box<dyn TlsSession>, TlsError>;
}
