//! Reading CBOR packets without building their values: finding where a message packet
//! ends (checking everything the value decoder checks but the strings' UTF-8), and reading
//! its values later, straight from the bytes, as a source for the shared deserializer.

use std::ops::Range;

use serde::de;
use smallvec::{smallvec, SmallVec};

use super::cbor::{head, simple_value, ARRAY, BYTES, MAP, NEGINT, SIMPLE, TAG, TEXT, UINT};
use super::de::{Item, Source};
use super::framing::DecodeLimits;
use super::{Value, ValueError};

/// A complete message packet `[port, values...]` found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Scanned {
    /// Where the packet ends.
    pub(super) end: usize,
    /// The port name's bytes (not empty; checked for UTF-8 when the name is read).
    pub(super) port: Range<usize>,
    /// Where the values after the port start.
    pub(super) body: usize,
    /// How many values follow the port.
    pub(super) count: usize,
}

/// Why [`scan_message`] found no message at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoMessage {
    /// The buffer ends inside what may still be a plain message: more bytes may complete
    /// it.
    Short,
    /// Something else (a keepalive, a request to the node port, an item the scan does not
    /// take, a packet past the limits or an error): the value decoder handles it.
    Other,
}

/// The message packet at the start of `buf`, if it is complete and plain: a definite-length
/// array whose first item is a non-empty string, with no indefinite-length items,
/// within the limits and under 4 GiB.
pub(super) fn scan_message(buf: &[u8], limits: &DecodeLimits) -> Result<Scanned, NoMessage> {
    // Nothing longer is a message the scan takes: what declares more is never short.
    let limit = limits.max_frame.min(u32::MAX as usize);
    let window = &buf[..buf.len().min(limit)];
    match scan_window(window, limit, limits) {
        // Cut by the limit, not by the bytes received so far.
        Err(NoMessage::Short) if window.len() < buf.len() => Err(NoMessage::Other),
        scanned => scanned,
    }
}

/// [`scan_message`] within `window` (the received bytes up to `limit`).
fn scan_window(window: &[u8], limit: usize, limits: &DecodeLimits) -> Result<Scanned, NoMessage> {
    let (initial, items, array_head) = read_head(window, 0)?;
    if initial >> 5 != ARRAY || items < 1 || items > limit as u64 || limits.max_depth < 1 {
        return Err(NoMessage::Other);
    }
    let (initial, len, port_head) = read_head(window, array_head)?;
    if !matches!(initial >> 5, TEXT | BYTES) {
        return Err(NoMessage::Other);
    }
    let start = array_head + port_head;
    let port_end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .ok_or(NoMessage::Other)?;
    let port = start..port_end;
    if port.is_empty() || port.end > limit {
        return Err(NoMessage::Other);
    }
    if port.end > window.len() {
        return Err(NoMessage::Short);
    }
    let count = usize::try_from(items - 1).map_err(|_| NoMessage::Other)?;
    let end = Window { buf: window, limit }.skip(port.end, items - 1, limits.max_depth - 1)?;
    Ok(Scanned {
        end,
        port: port.clone(),
        body: port.end,
        count,
    })
}

/// The head at `pos`: [`NoMessage::Short`] if `buf` ends within it, [`NoMessage::Other`] if
/// it is not one the scan takes (an indefinite length, a reserved value).
fn read_head(buf: &[u8], pos: usize) -> Result<(u8, u64, usize), NoMessage> {
    match (head(buf, pos), buf.get(pos)) {
        (Some(head), _) => Ok(head),
        (None, Some(initial)) if initial & 0x1f >= 28 => Err(NoMessage::Other),
        (None, _) => Err(NoMessage::Short),
    }
}

/// The bytes received so far, and how far a message the scan takes may reach.
struct Window<'a> {
    buf: &'a [u8],
    limit: usize,
}

impl Window<'_> {
    /// Skips `items` complete items from `pos`, allowing `levels` more levels of nesting;
    /// where they end (see [`scan_message`] for why there may be none). Items that would
    /// end past `limit` are [`NoMessage::Other`], not short.
    fn skip(&self, mut pos: usize, items: u64, levels: usize) -> Result<usize, NoMessage> {
        // Strings and numbers need no stack of open levels: messages are mostly made of them.
        for done in 0..items {
            let (initial, arg, len) = read_head(self.buf, pos)?;
            match scalar_end(initial, arg, pos + len) {
                Scalar::End(end) if end <= self.buf.len() => pos = end,
                Scalar::End(end) => return Err(short_below(end, self.limit)),
                Scalar::Invalid => return Err(NoMessage::Other),
                Scalar::Not => return self.skip_nested(pos, items - done, levels),
            }
        }
        Ok(pos)
    }

    /// [`Window::skip`] from an item that is not a scalar, with a stack of the levels it
    /// opens.
    fn skip_nested(&self, mut pos: usize, items: u64, levels: usize) -> Result<usize, NoMessage> {
        // Items still to skip at each open level, the outermost first.
        let mut left: SmallVec<[u64; 16]> = smallvec![items];
        while let Some(n) = left.last_mut() {
            if *n == 0 {
                left.pop();
                continue;
            }
            *n -= 1;
            let (initial, arg, len) = read_head(self.buf, pos)?;
            pos = match scalar_end(initial, arg, pos + len) {
                Scalar::End(end) => end,
                Scalar::Invalid => return Err(NoMessage::Other),
                Scalar::Not if initial >> 5 == TAG => {
                    // The tagged item follows in the same place.
                    *n += 1;
                    pos + len
                }
                Scalar::Not if left.len() <= levels => {
                    let children = if initial >> 5 == MAP {
                        arg.checked_mul(2).ok_or(NoMessage::Other)?
                    } else {
                        arg
                    };
                    pos += len;
                    // Every child takes a byte at least.
                    if children > (self.limit.saturating_sub(pos)) as u64 {
                        return Err(NoMessage::Other);
                    }
                    if children > (self.buf.len().saturating_sub(pos)) as u64 {
                        return Err(NoMessage::Short);
                    }
                    left.push(children);
                    pos
                }
                Scalar::Not => return Err(NoMessage::Other),
            };
            if pos > self.buf.len() {
                return Err(short_below(pos, self.limit));
            }
        }
        Ok(pos)
    }
}

/// An item ending at `end`, past the bytes at hand: short if it may fit within `limit`.
fn short_below(end: usize, limit: usize) -> NoMessage {
    if end <= limit {
        NoMessage::Short
    } else {
        NoMessage::Other
    }
}

/// What an item is, seen from its head.
enum Scalar {
    /// A plain scalar ending here.
    End(usize),
    /// An array, a map or a tag.
    Not,
    /// Not plain: a negative integer below `i64::MIN`, an unsupported simple value, an
    /// indefinite length.
    Invalid,
}

/// Where the item whose head (`initial`, `arg`) ends at `after_head` ends, if it is a
/// scalar.
fn scalar_end(initial: u8, arg: u64, after_head: usize) -> Scalar {
    match initial >> 5 {
        UINT => Scalar::End(after_head),
        NEGINT if arg <= i64::MAX as u64 => Scalar::End(after_head),
        BYTES | TEXT => match usize::try_from(arg)
            .ok()
            .and_then(|l| after_head.checked_add(l))
        {
            Some(end) => Scalar::End(end),
            None => Scalar::Invalid,
        },
        ARRAY | MAP | TAG => Scalar::Not,
        SIMPLE if simple_value(initial, arg).is_some() => Scalar::End(after_head),
        _ => Scalar::Invalid,
    }
}

/// The values of a scanned message, read from its bytes.
#[derive(Debug)]
pub(super) struct Body<'de> {
    buf: &'de [u8],
    pos: usize,
}

impl<'de> Body<'de> {
    /// Reads the values starting at `buf[pos..]`.
    pub(super) fn new(buf: &'de [u8], pos: usize) -> Body<'de> {
        Body { buf, pos }
    }

    /// Where the next value starts.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    fn truncated() -> ValueError {
        de::Error::custom("CBOR value cut short")
    }
}

impl<'de> Source<'de> for Body<'de> {
    fn next_item(&mut self) -> Result<Item<'de>, ValueError> {
        loop {
            let (initial, arg, len) = head(self.buf, self.pos).ok_or_else(Body::truncated)?;
            self.pos += len;
            let item = match initial >> 5 {
                UINT => match i64::try_from(arg) {
                    Ok(i) => Item::Int(i),
                    Err(_) => Item::UInt(arg),
                },
                NEGINT => match i64::try_from(arg) {
                    Ok(n) => Item::Int(!n),
                    Err(_) => return Err(de::Error::custom("negative integer below i64::MIN")),
                },
                BYTES | TEXT => {
                    let end = usize::try_from(arg)
                        .ok()
                        .and_then(|l| self.pos.checked_add(l))
                        .filter(|end| *end <= self.buf.len())
                        .ok_or_else(Body::truncated)?;
                    let bytes = &self.buf[self.pos..end];
                    self.pos = end;
                    Item::Unchecked(bytes)
                }
                ARRAY => Item::Array(usize::try_from(arg).map_err(|_| Body::truncated())?),
                MAP => Item::Map(usize::try_from(arg).map_err(|_| Body::truncated())?),
                TAG => continue,
                _ => match simple_value(initial, arg) {
                    Some(Value::Bool(b)) => Item::Bool(b),
                    Some(Value::Float(f)) => Item::Float(f),
                    Some(_) => Item::Null,
                    None => return Err(de::Error::custom("unsupported simple value")),
                },
            };
            return Ok(item);
        }
    }

    fn skip_item(&mut self) -> Result<(), ValueError> {
        self.pos = (Window {
            buf: self.buf,
            limit: usize::MAX,
        }
        .skip(self.pos, 1, usize::MAX))
        .map_err(|_| Body::truncated())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Framing;

    fn encoded(packet: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        Framing::Cbor.encode(packet, &mut out);
        out
    }

    #[test]
    fn finds_a_message_and_its_values() {
        let bytes = encoded(&[Value::from("port"), Value::Int(-3), Value::from("x")]);
        let s = scan_message(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(s.end, bytes.len());
        assert_eq!(&bytes[s.port.clone()], b"port");
        assert_eq!(s.count, 2);
        let mut body = Body::new(&bytes, s.body);
        assert!(matches!(body.next_item(), Ok(Item::Int(-3))));
        assert!(matches!(body.next_item(), Ok(Item::Unchecked(b"x"))));
        assert!(body.next_item().is_err());
    }

    #[test]
    fn leaves_what_is_not_a_plain_message_to_the_decoder() {
        let limits = DecodeLimits::default();
        let request = encoded(&[Value::from(""), Value::from("devnull")]);
        let complete = encoded(&[Value::from("p"), Value::Array(vec![Value::Int(1)])]);
        for bytes in [
            encoded(&[]),                             // a keepalive
            request,                                  // to the node port
            encoded(&[Value::Int(1)]),                // no port name
            vec![0x82, 0x61, b'p', 0x9f, 0x01, 0xff], // indefinite length
            vec![0x82, 0x61, b'p', 0xf8, 0x10],       // a simple value we do not know
            vec![0x82, 0x61, b'p', 0x1c],             // a reserved head
        ] {
            assert_eq!(
                scan_message(&bytes, &limits),
                Err(NoMessage::Other),
                "{bytes:x?}"
            );
        }
        let shallow = DecodeLimits {
            max_depth: 1,
            ..limits
        };
        assert_eq!(scan_message(&complete, &shallow), Err(NoMessage::Other));
        let small = DecodeLimits {
            max_frame: complete.len() - 1,
            ..limits
        };
        assert_eq!(scan_message(&complete, &small), Err(NoMessage::Other));
    }

    #[test]
    fn every_cut_of_a_plain_message_is_short() {
        let limits = DecodeLimits::default();
        let packet = encoded(&[
            Value::from("port"),
            Value::from("x".repeat(300)),
            Value::Array(vec![
                Value::Int(1),
                Value::Map(vec![(Value::Int(2), Value::Null)]),
            ]),
            Value::Float(1.5),
        ]);
        for cut in 0..packet.len() {
            assert_eq!(
                scan_message(&packet[..cut], &limits),
                Err(NoMessage::Short),
                "cut at {cut}"
            );
        }
        assert!(scan_message(&packet, &limits).is_ok());
    }
}
