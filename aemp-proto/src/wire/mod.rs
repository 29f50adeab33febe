//! Bytes on the wire: the value model and the framings of the data phase.

mod cbor;
mod fast;
mod framing;
mod json;
mod serde_value;
pub mod value;

pub use framing::{DecodeError, DecodeLimits, FrameDecoder, Framing};
pub use serde_value::{from_value, from_values, to_value, to_values, ValueError};
pub use value::Value;
