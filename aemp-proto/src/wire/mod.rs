//! Bytes on the wire: the value model and the framings of the data phase.

mod framing;
pub mod value;

pub use framing::{DecodeError, DecodeLimits, FrameDecoder, Framing};
pub use value::Value;
