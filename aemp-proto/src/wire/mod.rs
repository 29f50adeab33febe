//! Bytes on the wire: the value model and the framings of the data phase.
//!
//! ```
//! use aemp_proto::wire::{DecodeLimits, Framing, Value};
//! let packet = vec![Value::from("port"), Value::from("hello"), Value::Int(1)];
//! for framing in Framing::ALL {
//!     let mut bytes = Vec::new();
//!     framing.encode(&packet, &mut bytes);
//!     let mut dec = framing.decoder(DecodeLimits::default());
//!     dec.feed(&bytes);
//!     assert_eq!(dec.next_packet().unwrap().as_ref(), Some(&packet));
//! }
//! ```

mod cbor;
mod cbor_scan;
mod cbor_ser;
mod de;
mod fast;
mod framing;
mod json;
mod payload;
mod serde_value;
pub mod value;

pub use framing::{DecodeError, DecodeLimits, FrameDecoder, Framing};
pub use payload::{Encoded, Packet, Payload};
pub use serde_value::{from_slice, from_value, from_values, to_value, to_values, ValueError};
pub use value::Value;
