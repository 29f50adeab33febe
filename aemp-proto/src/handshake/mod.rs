//! The greeting and authentication phases of an AEMP connection, as pure functions.
//!
//! [`crate::conn::Connection`] drives them over a byte stream; the pieces are public so
//! they can be checked against recorded handshakes of the Perl implementation.
//!
//! ```
//! use aemp_proto::handshake::{auth_line, verify_auth_line, AuthMethod, AuthPolicy, Transcript};
//! use aemp_proto::Framing;
//! let ours = Transcript { local: [b"aemp;1;a;hmac_sha3_512;cbor", b"n1"], remote: [b"aemp;1;b;hmac_sha3_512;cbor", b"n2"], binding: b"" };
//! let line = auth_line(AuthMethod::HmacSha3_512, Some(b"s"), ours, Framing::Cbor).unwrap();
//! let accept = vec!["hmac_sha3_512".to_string()];
//! let policy = AuthPolicy { secret: Some(b"s"), accept: &accept, framings: &Framing::ALL, tls_active: false };
//! assert!(verify_auth_line(line.as_bytes(), ours.swapped(), policy).is_ok());
//! ```

mod auth;
mod bytes;
mod error;
mod greeting;
pub(crate) mod lines;
mod negotiate;

pub use auth::{
    auth_line, token, verify_auth_line, AuthLine, AuthMethod, AuthPolicy, Transcript, Verified,
};
pub use error::HandshakeError;
pub use greeting::{nonce_line, Greeting, DATA_PROTOCOL, PROTOCOL, VERSION};
pub use negotiate::{choose_framing, choose_method};
