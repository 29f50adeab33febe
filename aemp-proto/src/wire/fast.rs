//! The fast framing `aemp-postcard1`, for Rust-to-Rust links.
//!
//! A packet is the LEB128 varint (postcard's varint format) length of the payload, then the
//! payload: the packet's values as a postcard sequence. Postcard is not self-describing, so
//! every [`Value`] is written as an enum variant whose index names its kind:
//!
//! | index | variant | content |
//! | --- | --- | --- |
//! | 0 | `Null` | none |
//! | 1 | `Bool` | one byte |
//! | 2 | `Int` | zig-zag varint |
//! | 3 | `UInt` | varint |
//! | 4 | `Float` | 8 bytes, little endian |
//! | 5 | `Str` | varint length, UTF-8 |
//! | 6 | `Bytes` | varint length, bytes |
//! | 7 | `Array` | varint count, values |
//! | 8 | `Map` | varint count, key/value pairs |
//!
//! Every value round-trips exactly, including `Bytes` that happen to be UTF-8, a small
//! `UInt` and every float bit pattern.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde::ser::{self, Serialize, Serializer};

use super::cbor_scan::Body;
use super::de::{Item, Source};
use super::framing::{DecodeError, DecodeLimits, Framing};
use super::Value;

/// Longest varint of a `u64`.
const MAX_VARINT: usize = 10;

const NAME: &str = "Value";
const VARIANTS: &[&str] = &[
    "Null", "Bool", "Int", "UInt", "Float", "Str", "Bytes", "Array", "Map",
];

/// Appends one packet: varint payload length, then the payload.
pub(super) fn encode(packet: &[Value], out: &mut Vec<u8>) {
    framed(&Seq(packet), out);
}

/// Appends the packet `[port, msg...]` without building it.
pub(super) fn encode_message(port: &str, msg: &[Value], out: &mut Vec<u8>) {
    framed(&Message(port, msg), out);
}

/// Appends the packet `[port, values...]` whose `count` values are CBOR bytes (checked:
/// a [`Payload`](crate::Payload)'s), converting them one by one; `false` (and nothing
/// appended) if they do not read.
pub(super) fn encode_cbor_message(
    port: &str,
    cbor: &[u8],
    count: usize,
    out: &mut Vec<u8>,
) -> bool {
    let start = reserve_prefix(out);
    let body = RefCell::new(Body::new(cbor, 0));
    let message = FromCbor {
        body: &body,
        head: Some(port),
        count,
    };
    if postcard::serialize_with_flavor(&message, Append(out)).is_err() {
        out.truncate(start);
        return false;
    }
    finish_frame(out, start);
    true
}

/// Appends the postcard encoding of `payload` after its varint length.
fn framed(payload: &impl Serialize, out: &mut Vec<u8>) {
    let start = reserve_prefix(out);
    // Appending to a Vec cannot fail, and every sequence and map has a known length.
    postcard::serialize_with_flavor(payload, Append(out))
        .expect("postcard encoding of a Value cannot fail");
    finish_frame(out, start);
}

/// Reserves the one-byte length prefix most packets need (shorter than 128 bytes); where.
fn reserve_prefix(out: &mut Vec<u8>) -> usize {
    out.push(0);
    out.len() - 1
}

/// Puts the varint length before the payload appended from `start + 1` (at `start`, a
/// byte reserved for it).
fn finish_frame(out: &mut Vec<u8>, start: usize) {
    let len = (out.len() - start - 1) as u64;
    let mut prefix = [0u8; MAX_VARINT];
    let n = write_varint(len, &mut prefix);
    out[start] = prefix[0];
    if n > 1 {
        out.splice(start + 1..start + 1, prefix[1..n].iter().copied());
    }
}

/// A postcard output flavor appending to a `Vec` in place.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Writes `v` as LEB128 into `out`, returning the number of bytes used.
fn write_varint(mut v: u64, out: &mut [u8; MAX_VARINT]) -> usize {
    let mut i = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

/// Reads a LEB128 `u64`: the value and its length, `Ok(None)` if incomplete.
fn read_varint(input: &[u8]) -> Result<Option<(u64, usize)>, &'static str> {
    let mut v = 0u64;
    for (i, &b) in input.iter().take(MAX_VARINT).enumerate() {
        if i == MAX_VARINT - 1 && b > 1 {
            return Err("length prefix overflows 64 bits");
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((v, i + 1)));
        }
    }
    Ok(None)
}

/// Decodes one packet from `buf[*pos..]`, advancing `*pos` past it.
pub(super) fn decode(
    buf: &[u8],
    pos: &mut usize,
    limits: &DecodeLimits,
) -> Result<Option<Vec<Value>>, DecodeError> {
    let input = &buf[*pos..];
    let (len, head) = match read_varint(input) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(None),
        Err(reason) => return Err(DecodeError::malformed(Framing::Fast, 0, reason)),
    };
    let end = match usize::try_from(len) {
        Ok(len) if len <= limits.max_frame => len.checked_add(head),
        _ => None,
    };
    let Some(end) = end else {
        let size = usize::try_from(len).unwrap_or(usize::MAX);
        return Err(DecodeError::too_large(Framing::Fast, size, limits));
    };
    let Some(payload) = input.get(head..end) else {
        return Ok(None);
    };
    let packet = decode_payload(payload, limits)?;
    *pos += end;
    Ok(Some(packet))
}

/// Decodes a complete payload.
fn decode_payload(payload: &[u8], limits: &DecodeLimits) -> Result<Vec<Value>, DecodeError> {
    let ctx = Ctx {
        max_depth: limits.max_depth,
        max_items: payload.len(),
        too_deep: Cell::new(false),
    };
    let mut de = postcard::Deserializer::from_bytes(payload);
    let packet = SeqSeed {
        ctx: &ctx,
        depth: 1,
    }
    .deserialize(&mut de)
    .map_err(|e| {
        if ctx.too_deep.get() {
            DecodeError::too_deep(Framing::Fast, limits)
        } else {
            DecodeError::malformed(Framing::Fast, 0, format!("bad postcard payload: {e}"))
        }
    })?;
    match de.finalize() {
        Ok([]) => Ok(packet),
        Ok(rest) => Err(DecodeError::malformed(
            Framing::Fast,
            payload.len() - rest.len(),
            "trailing bytes after the packet",
        )),
        Err(e) => Err(DecodeError::malformed(Framing::Fast, 0, e.to_string())),
    }
}

/// The packet (or any array) as a postcard sequence of tagged values.
struct Seq<'a>(&'a [Value]);

impl Serialize for Seq<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Tagged))
    }
}

/// A message and its port name as one postcard sequence of tagged values.
struct Message<'a>(&'a str, &'a [Value]);

impl Serialize for Message<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.1.len() + 1))?;
        seq.serialize_element(&TaggedStr(self.0))?;
        for v in self.1 {
            seq.serialize_element(&Tagged(v))?;
        }
        seq.end()
    }
}

/// A string written as a tagged `Str` value.
struct TaggedStr<'a>(&'a str);

impl Serialize for TaggedStr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_variant(NAME, 5, VARIANTS[5], self.0)
    }
}

/// `count` values read from CBOR bytes, after `head` (a port name) when there is one,
/// as a postcard sequence of tagged values.
struct FromCbor<'a, 'b> {
    body: &'a RefCell<Body<'b>>,
    head: Option<&'a str>,
    count: usize,
}

impl Serialize for FromCbor<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.count + usize::from(self.head.is_some())))?;
        if let Some(port) = self.head {
            seq.serialize_element(&TaggedStr(port))?;
        }
        for _ in 0..self.count {
            seq.serialize_element(&NextCbor(self.body))?;
        }
        seq.end()
    }
}

/// The next value of CBOR bytes as a tagged value: as the value the CBOR decoder builds
/// would be written (a string that is not UTF-8 is bytes).
struct NextCbor<'a, 'b>(&'a RefCell<Body<'b>>);

impl Serialize for NextCbor<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let item = self
            .0
            .borrow_mut()
            .next_item()
            .map_err(ser::Error::custom)?;
        match item {
            Item::Null => s.serialize_unit_variant(NAME, 0, VARIANTS[0]),
            Item::Bool(b) => s.serialize_newtype_variant(NAME, 1, VARIANTS[1], &b),
            Item::Int(i) => s.serialize_newtype_variant(NAME, 2, VARIANTS[2], &i),
            Item::UInt(u) => s.serialize_newtype_variant(NAME, 3, VARIANTS[3], &u),
            Item::Float(f) => s.serialize_newtype_variant(NAME, 4, VARIANTS[4], &f),
            Item::Str(st) => TaggedStr(st).serialize(s),
            Item::Bytes(b) => s.serialize_newtype_variant(NAME, 6, VARIANTS[6], &Bytes(b)),
            Item::Unchecked(b) => match std::str::from_utf8(b) {
                Ok(st) => TaggedStr(st).serialize(s),
                Err(_) => s.serialize_newtype_variant(NAME, 6, VARIANTS[6], &Bytes(b)),
            },
            Item::Array(count) => {
                let items = FromCbor {
                    body: self.0,
                    head: None,
                    count,
                };
                s.serialize_newtype_variant(NAME, 7, VARIANTS[7], &items)
            }
            Item::Map(count) => {
                s.serialize_newtype_variant(NAME, 8, VARIANTS[8], &CborMap(self.0, count))
            }
        }
    }
}

/// `count` entries read from CBOR bytes, as a postcard map of tagged keys and values.
struct CborMap<'a, 'b>(&'a RefCell<Body<'b>>, usize);

impl Serialize for CborMap<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.1))?;
        for _ in 0..self.1 {
            map.serialize_entry(&NextCbor(self.0), &NextCbor(self.0))?;
        }
        map.end()
    }
}

/// A map as a postcard map of tagged keys and values.
struct Map<'a>(&'a [(Value, Value)]);

impl Serialize for Map<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (Tagged(k), Tagged(v))))
    }
}

/// Bytes written as a postcard byte string (not a sequence of numbers).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// A value as an enum variant naming its kind.
struct Tagged<'a>(&'a Value);

impl Serialize for Tagged<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit_variant(NAME, 0, VARIANTS[0]),
            Value::Bool(b) => s.serialize_newtype_variant(NAME, 1, VARIANTS[1], b),
            Value::Int(i) => s.serialize_newtype_variant(NAME, 2, VARIANTS[2], i),
            Value::UInt(u) => s.serialize_newtype_variant(NAME, 3, VARIANTS[3], u),
            Value::Float(f) => s.serialize_newtype_variant(NAME, 4, VARIANTS[4], f),
            Value::Str(st) => s.serialize_newtype_variant(NAME, 5, VARIANTS[5], st),
            Value::Bytes(b) => s.serialize_newtype_variant(NAME, 6, VARIANTS[6], &Bytes(b)),
            Value::Array(a) => s.serialize_newtype_variant(NAME, 7, VARIANTS[7], &Seq(a)),
            Value::Map(m) => s.serialize_newtype_variant(NAME, 8, VARIANTS[8], &Map(m)),
        }
    }
}

/// Shared decoding context: limits, and whether the depth limit stopped decoding (postcard
/// drops the text of custom errors, so the reason travels here).
struct Ctx {
    max_depth: usize,
    /// No container in the payload can have more items than the payload has bytes.
    max_items: usize,
    too_deep: Cell<bool>,
}

impl Ctx {
    fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            self.too_deep.set(true);
            return Err(E::custom("nesting too deep"));
        }
        Ok(())
    }
}

/// One tagged value, `depth` containers deep.
struct ValueSeed<'c> {
    ctx: &'c Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_enum(NAME, VARIANTS, self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tagged AEMP value")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, variant): (u32, _) = data.variant()?;
        let inner = SeqSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        Ok(match tag {
            0 => {
                variant.unit_variant()?;
                Value::Null
            }
            1 => Value::Bool(variant.newtype_variant()?),
            2 => Value::Int(variant.newtype_variant()?),
            3 => Value::UInt(variant.newtype_variant()?),
            4 => Value::Float(variant.newtype_variant()?),
            5 => Value::Str(variant.newtype_variant()?),
            6 => Value::Bytes(variant.newtype_variant_seed(BytesSeed)?),
            7 => Value::Array(variant.newtype_variant_seed(inner)?),
            8 => Value::Map(variant.newtype_variant_seed(MapSeed(inner))?),
            _ => return Err(de::Error::custom("unknown value kind")),
        })
    }
}

/// A byte string.
struct BytesSeed;

impl<'de> DeserializeSeed<'de> for BytesSeed {
    type Value = Vec<u8>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(self)
    }
}

impl<'de> Visitor<'de> for BytesSeed {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }
}

/// A sequence of tagged values that is itself at `depth`.
struct SeqSeed<'c> {
    ctx: &'c Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for SeqSeed<'_> {
    type Value = Vec<Value>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
        self.ctx.enter(self.depth)?;
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SeqSeed<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of tagged AEMP values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.ctx.max_items));
        while let Some(item) = seq.next_element_seed(ValueSeed {
            ctx: self.ctx,
            depth: self.depth,
        })? {
            items.push(item);
        }
        Ok(items)
    }
}

/// A map of tagged keys and values, at the depth of its `SeqSeed`.
struct MapSeed<'c>(SeqSeed<'c>);

impl<'de> DeserializeSeed<'de> for MapSeed<'_> {
    type Value = Vec<(Value, Value)>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<(Value, Value)>, D::Error> {
        self.0.ctx.enter(self.0.depth)?;
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_> {
    type Value = Vec<(Value, Value)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of tagged AEMP values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let SeqSeed { ctx, depth } = self.0;
        // Every entry takes at least two bytes.
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(ctx.max_items / 2));
        let seed = || ValueSeed { ctx, depth };
        while let Some(entry) = map.next_entry_seed(seed(), seed())? {
            entries.push(entry);
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX.into(), u64::MAX] {
            let mut buf = [0; MAX_VARINT];
            let n = write_varint(v, &mut buf);
            assert_eq!(read_varint(&buf[..n]), Ok(Some((v, n))));
            assert_eq!(read_varint(&buf[..n - 1]), Ok(None));
        }
        assert!(read_varint(&[0xff; 10]).is_err());
    }

    #[test]
    fn long_prefix() {
        let packet = vec![Value::from("x".repeat(200))];
        let mut out = vec![0xaa];
        encode(&packet, &mut out);
        assert_eq!(out[0], 0xaa);
        let mut pos = 1;
        let decoded = decode(&out, &mut pos, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded, Some(packet));
        assert_eq!(pos, out.len());
    }
}
