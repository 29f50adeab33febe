//! What a connection reports to its driver, and why it ends.

use super::config::ConfigError;
use crate::handshake::HandshakeError;
use crate::tls::{TlsError, TlsRole};
use crate::wire::{DecodeError, Framing, Packet};

/// Something the driver (or the node core) must act on, from [`crate::Connection::poll_event`].
///
/// ```
/// use aemp_proto::{ConnEvent, Value};
/// let ev = ConnEvent::Packet(vec![Value::from("port"), Value::Int(1)].into());
/// assert!(matches!(ev, ConnEvent::Packet(p) if p.len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConnEvent {
    /// The remote's two greeting lines passed every check. The caller may now refuse the
    /// connection, e.g. with `close(ConnError::AlreadyConnected)`.
    Greeted {
        /// The remote's node ID.
        node_id: String,
        /// The `key=value` pairs of its greeting, in the order sent (a data connection's
        /// ID is [`Connection::data_id`](crate::Connection::data_id) from now on).
        kv: Vec<(String, String)>,
    },
    /// Both sides want TLS: the connection started its TLS session in `role` (for
    /// information: the connection runs TLS itself).
    TlsStarted {
        /// Which TLS side this end plays.
        role: TlsRole,
    },
    /// Both auth lines were exchanged and checked; the data phase has begun.
    Authenticated {
        /// The framing we send in.
        send_framing: Framing,
        /// The framing the remote sends in.
        recv_framing: Framing,
        /// The method the remote authenticated with.
        method: String,
    },
    /// One decoded data-phase packet (an empty one is a keepalive).
    Packet(Packet),
    /// The connection is over; emitted once, always last.
    Closed(ConnError),
}

/// What the byte stream under a connection provides by itself.
///
/// ```
/// use aemp_proto::conn::Channel;
/// let quic = Channel::Encrypted { binding: vec![1; 32], peer_verified: true };
/// assert_ne!(quic, Channel::Plain);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Channel {
    /// A plain byte stream (TCP): TLS, if both sides want it, runs inside the connection.
    #[default]
    Plain,
    /// A stream its transport encrypts (QUIC): no TLS runs inside it.
    Encrypted {
        /// A value both ends derive from the session (a TLS exporter value): the auth
        /// tokens cover it, so an authentication cannot be relayed into another session.
        binding: Vec<u8>,
        /// The transport's TLS verified the peer's certificate against ours (the `cert`
        /// setting), so the `tls_` auth methods may be used.
        peer_verified: bool,
    },
}

/// Why a connection ended.
///
/// ```
/// use aemp_proto::{ConnError, HandshakeError};
/// let e = ConnError::from(HandshakeError::AuthFailure);
/// assert_eq!(e.to_string(), "handshake failed: authentication failure / shared secret mismatch");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnError {
    /// The greeting, TLS setup or authentication failed.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// A data-phase packet could not be decoded.
    #[error("cannot decode packet from remote: {0}")]
    Decode(#[from] DecodeError),
    /// The configuration or the nonce cannot be used.
    #[error("cannot start handshake: {0}")]
    Config(#[from] ConfigError),
    /// We already have a connection to that node.
    #[error("already connected to that node, not connecting again")]
    AlreadyConnected,
    /// The driver's transport failed (I/O error, end of file).
    #[error("transport error: {0}")]
    Transport(String),
    /// The TLS session failed (an untrusted certificate, a broken record, ...).
    #[error("{0}")]
    Tls(TlsError),
    /// Closed locally for the given reason.
    #[error("closed locally: {0}")]
    Local(String),
}

/// What has crossed one connection, from [`Connection::traffic`](super::Connection::traffic).
///
/// ```
/// let t = aemp_proto::conn::Traffic::default();
/// assert_eq!(t.packets_in + t.packets_out, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Bytes received from the transport.
    pub bytes_in: u64,
    /// Bytes handed to the transport.
    pub bytes_out: u64,
    /// Packets decoded (keepalives included).
    pub packets_in: u64,
    /// Packets encoded (keepalives included).
    pub packets_out: u64,
}
