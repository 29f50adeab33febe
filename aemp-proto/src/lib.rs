//! Sans-IO core of AEMP, the message-passing protocol of the Perl library AnyEvent::MP 2.x.
//!
//! Nothing in this crate touches a socket, a clock, a thread or the OS random number
//! generator: bytes, time and randomness come in as arguments, and everything the protocol
//! wants to happen is polled out.
//!
//! - [`wire`]: values and the framings (CBOR, JSON, our own `aemp-postcard1`);
//! - [`handshake`]: greeting lines and authentication;
//! - [`conn`]: one byte stream's state machine, TLS included;
//! - [`tls`]: the TLS session trait, and with the `rustls` feature (on by default) its
//!   rustls implementation, to which the caller hands rustls's crypto provider (the source
//!   of TLS randomness) and time provider;
//! - [`node`]: `NodeCore`, a whole node: ports, monitors, the ordering guarantee, the node
//!   and global protocols.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub)]

pub mod conn;
pub mod handshake;
pub mod node;
pub mod protocol;
pub mod tls;
pub mod wire;

pub use wire::{from_slice, from_value, from_values, to_value, to_values, ValueError};
pub use wire::{DecodeError, DecodeLimits, Encoded, FrameDecoder, Framing, Packet, Payload, Value};

pub use conn::{ConfigError, ConnConfig, ConnError, ConnEvent, Connection, TlsRole};
pub use handshake::{AuthMethod, HandshakeError};
