//! Received packets and message values that stay encoded until they are used: a CBOR
//! message is checked and kept as bytes, and its values are deserialized straight from them
//! into the type the handler asks for, without a [`Value`] tree in between.

use std::fmt;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::cbor_scan::{Body, Scanned};
use super::de::{De, Item, Source};
use super::{cbor_ser, from_slice, to_values, Value, ValueError};

/// The values of a message (without its port name).
///
/// Built from values, or from the bytes of a received CBOR packet, whose values are
/// decoded only when asked for: [`Payload::decode`] reads them straight into a Rust type.
///
/// ```
/// use aemp_proto::{Payload, Value};
/// let p = Payload::from(vec![Value::from("add"), Value::Int(2)]);
/// assert_eq!(p.tag(), Some("add"));
/// let (_, n): (String, u32) = p.decode().unwrap();
/// assert_eq!(n, 2);
/// assert_eq!(p.len(), 2);
/// ```
#[derive(Clone)]
pub struct Payload(Repr);

/// Kept small: a read chunk's worth of packets waits in the event queues.
#[derive(Clone)]
enum Repr {
    Values(Vec<Value>),
    /// `count` CBOR values from `frame[body..]`. A received message's frame shares the
    /// memory its connection read it into (no copy, no allocation of its own).
    Cbor {
        frame: Bytes,
        body: u32,
        count: u32,
    },
}

impl Payload {
    /// Serializes a message (anything serializing as a sequence; `()` is the empty
    /// message) straight into CBOR bytes, as [`to_values`](crate::to_values) and the `cbor`
    /// framing would write it, without building values; what this cannot write (a sequence
    /// of unknown length) goes through values instead.
    ///
    /// ```
    /// use aemp_proto::{Payload, Value};
    /// let p = Payload::encode(&("add", 2)).unwrap();
    /// assert_eq!(p.into_values(), vec![Value::from("add"), Value::Int(2)]);
    /// assert!(Payload::encode(&7).is_err()); // not a sequence
    /// ```
    pub fn encode<T: Serialize + ?Sized>(msg: &T) -> Result<Payload, ValueError> {
        Payload::encode_in(msg, &mut Vec::new())
    }

    /// [`Payload::encode`] with `scratch` as working space (its content is replaced): the
    /// payload takes one allocation of its exact size, however often the space grew.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// let mut scratch = Vec::new();
    /// let p = Payload::encode_in(&("x",), &mut scratch).unwrap();
    /// assert_eq!(p, Payload::from(vec![Value::from("x")]));
    /// ```
    pub fn encode_in<T: Serialize + ?Sized>(
        msg: &T,
        scratch: &mut Vec<u8>,
    ) -> Result<Payload, ValueError> {
        match Encoded::serialize(msg, scratch) {
            Ok(encoded) => Ok(encoded.to_payload()),
            Err(_) => to_values(msg).map(Payload::from),
        }
    }

    /// The values as CBOR bytes, when the payload holds bytes.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::encode(&("a", 1)).unwrap().as_encoded().unwrap().len(), 2);
    /// assert!(Payload::from(vec![Value::Null]).as_encoded().is_none());
    /// ```
    pub fn as_encoded(&self) -> Option<Encoded<'_>> {
        match &self.0 {
            Repr::Values(_) => None,
            Repr::Cbor { frame, body, count } => Some(Encoded {
                items: &frame[*body as usize..],
                count: *count as usize,
            }),
        }
    }

    /// How many bytes the values take encoded, about (exactly, for CBOR bytes).
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::encode(&("a", 1)).unwrap().encoded_len(), 3);
    /// ```
    pub fn encoded_len(&self) -> usize {
        match &self.0 {
            Repr::Values(values) => values.iter().map(Value::size_hint).sum(),
            Repr::Cbor { frame, body, .. } => frame.len() - *body as usize,
        }
    }

    /// How many values.
    ///
    /// ```
    /// assert!(aemp_proto::Payload::default().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Values(values) => values.len(),
            Repr::Cbor { count, .. } => *count as usize,
        }
    }

    /// Whether there are no values.
    ///
    /// ```
    /// assert!(aemp_proto::Payload::from(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first value, when it is a string (by convention the message's tag).
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::from(vec![Value::Int(1)]).tag(), None);
    /// ```
    pub fn tag(&self) -> Option<&str> {
        match &self.0 {
            Repr::Values(values) => values.first().and_then(Value::as_str),
            Repr::Cbor { count: 0, .. } => None,
            // The first item read directly: the one string most handlers look at.
            Repr::Cbor { frame, body, .. } => match Body::new(frame, *body as usize).next_item() {
                Ok(Item::Unchecked(bytes)) => std::str::from_utf8(bytes).ok(),
                _ => None,
            },
        }
    }

    /// Deserializes the values as one Rust value: a tuple or a struct with fields in
    /// message order (see [`from_slice`](crate::from_slice)), with the same lenient rules
    /// for Perl's numbers and strings.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// let p = Payload::from(vec![Value::from("n"), Value::from("7")]);
    /// let (_, n): (String, u32) = p.decode().unwrap(); // Perl sent "7" as a string
    /// assert_eq!(n, 7);
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        match &self.0 {
            Repr::Values(values) => from_slice(values),
            Repr::Cbor { frame, body, count } => Encoded {
                items: &frame[*body as usize..],
                count: *count as usize,
            }
            .decode(),
        }
    }

    /// The values, when the payload holds them as values already.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::from(vec![Value::Null]).as_values(), Some(&[Value::Null][..]));
    /// ```
    pub fn as_values(&self) -> Option<&[Value]> {
        match &self.0 {
            Repr::Values(values) => Some(values),
            Repr::Cbor { .. } => None,
        }
    }

    /// The values, decoded when they are still bytes.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::from(vec![Value::Null]).to_values(), vec![Value::Null]);
    /// ```
    pub fn to_values(&self) -> Vec<Value> {
        match &self.0 {
            Repr::Values(values) => values.clone(),
            // Bytes checked by the scan always decode into values.
            Repr::Cbor { .. } => self.decode().unwrap_or_default(),
        }
    }

    /// The values, owned.
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// assert_eq!(Payload::from(vec![Value::Null]).into_values(), vec![Value::Null]);
    /// ```
    pub fn into_values(self) -> Vec<Value> {
        match self.0 {
            Repr::Values(values) => values,
            Repr::Cbor { .. } => self.to_values(),
        }
    }

    /// The values without the first one (a message without its tag).
    ///
    /// ```
    /// # use aemp_proto::{Payload, Value};
    /// let p = Payload::from(vec![Value::from("tag"), Value::Int(1)]).without_first();
    /// assert_eq!(p.into_values(), vec![Value::Int(1)]);
    /// ```
    pub fn without_first(self) -> Payload {
        match self.0 {
            Repr::Values(mut values) => {
                if !values.is_empty() {
                    values.remove(0);
                }
                Payload(Repr::Values(values))
            }
            Repr::Cbor { frame, body, count } => {
                let mut rest = Body::new(&frame, body as usize);
                if count == 0 || rest.skip_item().is_err() {
                    return Payload::default();
                }
                // Within the frame, whose length fits a u32 (see `scan_message`).
                let body = rest.position() as u32;
                Payload(Repr::Cbor {
                    frame,
                    body,
                    count: count - 1,
                })
            }
        }
    }
}

/// A message's values serialized as CBOR into space the caller lends: what
/// [`Payload::encode_in`] copies out, for a caller that writes the message somewhere at
/// once (into a connection's framing with [`Framing::encode_encoded`](crate::Framing::encode_encoded))
/// and needs no payload of its own.
///
/// ```
/// use aemp_proto::{Encoded, Framing, Payload};
/// let mut scratch = Vec::new();
/// let msg = Encoded::serialize(&("add", 2), &mut scratch).unwrap();
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// Framing::Cbor.encode_encoded("p", &msg, &mut a);
/// Framing::Cbor.encode_payload("p", &msg.to_payload(), &mut b);
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Encoded<'a> {
    items: &'a [u8],
    count: usize,
}

impl<'a> Encoded<'a> {
    /// Serializes a message (anything serializing as a sequence; `()` is the empty
    /// message) into `scratch` (its content is replaced). Fails where
    /// [`Payload::encode`] would take the value path: a sequence of unknown length, or not
    /// a sequence at all.
    ///
    /// ```
    /// # use aemp_proto::Encoded;
    /// let mut scratch = Vec::new();
    /// assert_eq!(Encoded::serialize(&("x", 1), &mut scratch).unwrap().encoded_len(), 3);
    /// assert!(Encoded::serialize(&7, &mut scratch).is_err());
    /// ```
    pub fn serialize<T: Serialize + ?Sized>(
        msg: &T,
        scratch: &'a mut Vec<u8>,
    ) -> Result<Encoded<'a>, ValueError> {
        let (start, count) = cbor_ser::encode_message(msg, scratch)?;
        // Every item takes a byte at least, so the count fits when the length does.
        if u32::try_from(scratch.len()).is_err() {
            return Err(serde::ser::Error::custom("message too large"));
        }
        Ok(Encoded {
            items: &scratch[start..],
            count,
        })
    }

    /// How many values.
    ///
    /// ```
    /// # let mut s = Vec::new();
    /// assert_eq!(aemp_proto::Encoded::serialize(&(), &mut s).unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no values.
    ///
    /// ```
    /// # let mut s = Vec::new();
    /// assert!(aemp_proto::Encoded::serialize(&(), &mut s).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many bytes the values take.
    ///
    /// ```
    /// # let mut s = Vec::new();
    /// assert_eq!(aemp_proto::Encoded::serialize(&("ab",), &mut s).unwrap().encoded_len(), 3);
    /// ```
    pub fn encoded_len(&self) -> usize {
        self.items.len()
    }

    /// The CBOR bytes of the values (without an array head).
    pub(super) fn items(&self) -> &'a [u8] {
        self.items
    }

    /// A payload of its own (the bytes copied).
    ///
    /// ```
    /// # use aemp_proto::{Encoded, Value};
    /// let mut s = Vec::new();
    /// let p = Encoded::serialize(&("x",), &mut s).unwrap().to_payload();
    /// assert_eq!(p.into_values(), vec![Value::from("x")]);
    /// ```
    pub fn to_payload(&self) -> Payload {
        Payload(Repr::Cbor {
            frame: Bytes::from(self.items.to_vec()),
            body: 0,
            count: self.count as u32,
        })
    }

    /// A payload of its own whose bytes are copied into `arena` and split off it: many
    /// small payloads share one allocation, freed when the last of them is dropped (the
    /// arena takes new memory when it has too little room left: at least `chunk` bytes).
    ///
    /// ```
    /// # use aemp_proto::{Encoded, Value};
    /// let (mut s, mut arena) = (Vec::new(), bytes::BytesMut::new());
    /// let p = Encoded::serialize(&("x",), &mut s).unwrap().to_payload_in(&mut arena, 4096);
    /// let q = Encoded::serialize(&("y",), &mut s).unwrap().to_payload_in(&mut arena, 4096);
    /// assert_eq!(p.into_values(), vec![Value::from("x")]);
    /// assert_eq!(q.into_values(), vec![Value::from("y")]);
    /// ```
    pub fn to_payload_in(&self, arena: &mut BytesMut, chunk: usize) -> Payload {
        if arena.capacity() < self.items.len() {
            *arena = BytesMut::with_capacity(chunk.max(self.items.len()));
        }
        arena.extend_from_slice(self.items);
        Payload(Repr::Cbor {
            frame: arena.split().freeze(),
            body: 0,
            count: self.count as u32,
        })
    }

    /// The values, decoded.
    ///
    /// ```
    /// # use aemp_proto::{Encoded, Value};
    /// let mut s = Vec::new();
    /// let msg = Encoded::serialize(&("x", 1), &mut s).unwrap();
    /// assert_eq!(msg.to_values(), vec![Value::from("x"), Value::Int(1)]);
    /// ```
    pub fn to_values(&self) -> Vec<Value> {
        // Bytes our serializer wrote, or the scan checked, always decode into values.
        self.decode().unwrap_or_default()
    }

    /// Deserializes the values as one Rust value, as [`Payload::decode`] does.
    ///
    /// ```
    /// # use aemp_proto::Encoded;
    /// let mut s = Vec::new();
    /// let (tag, n): (String, u8) = Encoded::serialize(&("n", 7), &mut s).unwrap().decode().unwrap();
    /// assert_eq!((tag.as_str(), n), ("n", 7));
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        T::deserialize(De::elements(&mut Body::new(self.items, 0), self.count))
    }
}

impl Default for Payload {
    fn default() -> Payload {
        Payload(Repr::Values(Vec::new()))
    }
}

impl From<Vec<Value>> for Payload {
    fn from(values: Vec<Value>) -> Payload {
        Payload(Repr::Values(values))
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.to_values() == other.to_values()
    }
}

impl PartialEq<Vec<Value>> for Payload {
    fn eq(&self, other: &Vec<Value>) -> bool {
        self.to_values() == *other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_values()).finish()
    }
}

/// A packet as a connection received it: `[port, values...]`, an empty keepalive, or
/// anything else a peer sent.
///
/// ```
/// use aemp_proto::{Packet, Value};
/// let p = Packet::from(vec![Value::from("port"), Value::Int(1)]);
/// assert_eq!(p.port(), Some("port"));
/// assert_eq!(p.len(), 2);
/// assert_eq!(p.into_payload().into_values(), vec![Value::Int(1)]);
/// ```
#[derive(Clone)]
pub struct Packet(PacketRepr);

#[derive(Clone)]
enum PacketRepr {
    Values(Vec<Value>),
    /// A message to the port named by `frame[port..body]`, then `count` CBOR values.
    Message {
        frame: Bytes,
        port: u32,
        body: u32,
        count: u32,
    },
}

impl Packet {
    /// The packet `frame`, as scanned (the scan keeps packets under 4 GiB, so its offsets
    /// fit a `u32`).
    pub(super) fn scanned(frame: Bytes, scan: Scanned) -> Packet {
        Packet(PacketRepr::Message {
            frame,
            port: scan.port.start as u32,
            body: scan.body as u32,
            count: scan.count as u32,
        })
    }

    /// How many values, port name included (0 for a keepalive).
    ///
    /// ```
    /// assert_eq!(aemp_proto::Packet::from(vec![]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        match &self.0 {
            PacketRepr::Values(values) => values.len(),
            PacketRepr::Message { count, .. } => *count as usize + 1,
        }
    }

    /// Whether the packet is empty (a keepalive).
    ///
    /// ```
    /// assert!(aemp_proto::Packet::from(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The port name, when the first value is a string (empty for the node port); a name
    /// that is not UTF-8 is not a string.
    ///
    /// ```
    /// # use aemp_proto::{Packet, Value};
    /// assert_eq!(Packet::from(vec![Value::Int(1)]).port(), None);
    /// ```
    pub fn port(&self) -> Option<&str> {
        match &self.0 {
            PacketRepr::Values(values) => values.first().and_then(Value::as_str),
            PacketRepr::Message {
                frame, port, body, ..
            } => std::str::from_utf8(&frame[*port as usize..*body as usize]).ok(),
        }
    }

    /// Whether the packet goes to port `name` (`name` not empty).
    ///
    /// ```
    /// # use aemp_proto::{Packet, Value};
    /// assert!(Packet::from(vec![Value::from("p"), Value::Int(1)]).is_for("p"));
    /// ```
    pub fn is_for(&self, name: &str) -> bool {
        match &self.0 {
            PacketRepr::Values(values) => values.first().and_then(Value::as_str) == Some(name),
            PacketRepr::Message {
                frame, port, body, ..
            } => frame[*port as usize..*body as usize] == *name.as_bytes(),
        }
    }

    /// The values after the first (the message, for a packet to a port).
    ///
    /// ```
    /// # use aemp_proto::{Packet, Value};
    /// assert!(Packet::from(vec![Value::from("p")]).into_payload().is_empty());
    /// ```
    pub fn into_payload(self) -> Payload {
        match self.0 {
            PacketRepr::Values(values) => Payload::from(values).without_first(),
            PacketRepr::Message {
                frame, body, count, ..
            } => Payload(Repr::Cbor { frame, body, count }),
        }
    }

    /// All the values, port name included.
    ///
    /// ```
    /// # use aemp_proto::{Packet, Value};
    /// assert_eq!(Packet::from(vec![Value::Null]).into_values(), vec![Value::Null]);
    /// ```
    pub fn into_values(self) -> Vec<Value> {
        match self.0 {
            PacketRepr::Values(values) => values,
            PacketRepr::Message {
                ref frame,
                port,
                body,
                ..
            } => {
                let port = Value::from_bytes(frame[port as usize..body as usize].to_vec());
                let rest = self.into_payload().into_values();
                std::iter::once(port).chain(rest).collect()
            }
        }
    }
}

impl From<Vec<Value>> for Packet {
    fn from(values: Vec<Value>) -> Packet {
        Packet(PacketRepr::Values(values))
    }
}

impl PartialEq for Packet {
    fn eq(&self, other: &Packet) -> bool {
        self.clone().into_values() == other.clone().into_values()
    }
}

impl PartialEq<Vec<Value>> for Packet {
    fn eq(&self, other: &Vec<Value>) -> bool {
        self.clone().into_values() == *other
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone().into_values()).finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{DecodeLimits, Framing, Value};

    #[test]
    fn a_port_name_that_is_not_utf8_is_not_a_string() {
        let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
        dec.feed(&[0x82, 0x42, 0xff, 0xfe, 0x01]);
        let packet = dec.next_frame().unwrap().unwrap();
        assert_eq!(packet.port(), None);
        assert_eq!(
            packet.into_values(),
            vec![Value::Bytes(vec![0xff, 0xfe]), Value::Int(1)]
        );
    }
}
