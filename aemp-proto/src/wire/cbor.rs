//! The `cbor` framing: one CBOR data item (RFC 8949) per packet, as Perl's CBOR::XS writes
//! and reads it.
//!
//! Decoding is incremental: every head is read once, values are built as their bytes arrive,
//! and the partial packet is kept in an explicit stack (no recursion, so nesting bombs only
//! cost `max_depth` frames before they are refused).

use super::framing::{DecodeError, DecodeLimits, Framing};
use super::Value;

pub(super) const UINT: u8 = 0;
pub(super) const NEGINT: u8 = 1;
pub(super) const BYTES: u8 = 2;
pub(super) const TEXT: u8 = 3;
pub(super) const ARRAY: u8 = 4;
pub(super) const MAP: u8 = 5;
pub(super) const TAG: u8 = 6;
pub(super) const SIMPLE: u8 = 7;

/// The "break" stop code that ends indefinite-length items.
const BREAK: u8 = 0xff;

/// Appends one packet as a definite-length CBOR array.
pub(super) fn encode(packet: &[Value], out: &mut Vec<u8>) {
    write_head(out, ARRAY, packet.len() as u64);
    for value in packet {
        encode_value(value, out);
    }
}

/// Appends the packet `[port, msg...]` without building it.
pub(super) fn encode_message(port: &str, msg: &[Value], out: &mut Vec<u8>) {
    write_head(out, ARRAY, msg.len() as u64 + 1);
    write_text(out, port);
    for value in msg {
        encode_value(value, out);
    }
}

/// Appends the packet `[port, values...]` whose values are already CBOR (`count` items).
pub(super) fn encode_encoded_message(port: &str, values: &[u8], count: usize, out: &mut Vec<u8>) {
    write_head(out, ARRAY, count as u64 + 1);
    write_text(out, port);
    out.extend_from_slice(values);
}

/// Writes a text string.
#[inline]
pub(super) fn write_text(out: &mut Vec<u8>, s: &str) {
    write_head(out, TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Writes a signed integer.
#[inline]
pub(super) fn write_int(out: &mut Vec<u8>, i: i64) {
    match u64::try_from(i) {
        Ok(u) => write_head(out, UINT, u),
        // -1 - i, which is !i in two's complement and always fits a u64.
        Err(_) => write_head(out, NEGINT, !i as u64),
    }
}

/// Writes a float: single precision when that loses nothing (bit for bit, so NaN payloads
/// and the sign of zero survive), double otherwise.
pub(super) fn write_float(out: &mut Vec<u8>, f: f64) {
    let single = f as f32;
    if f64::from(single).to_bits() == f.to_bits() {
        out.push(0xfa);
        out.extend_from_slice(&single.to_be_bytes());
    } else {
        out.push(0xfb);
        out.extend_from_slice(&f.to_be_bytes());
    }
}

/// Writes a head with the shortest argument encoding.
#[inline]
pub(super) fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if let Ok(a) = u8::try_from(arg) {
        out.extend_from_slice(&[m | 24, a]);
    } else if let Ok(a) = u16::try_from(arg) {
        out.push(m | 25);
        out.extend_from_slice(&a.to_be_bytes());
    } else if let Ok(a) = u32::try_from(arg) {
        out.push(m | 26);
        out.extend_from_slice(&a.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Int(i) => write_int(out, *i),
        Value::UInt(u) => write_head(out, UINT, *u),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_text(out, s),
        Value::Bytes(b) => {
            write_head(out, BYTES, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Array(items) => {
            write_head(out, ARRAY, items.len() as u64);
            for item in items {
                encode_value(item, out);
            }
        }
        Value::Map(entries) => {
            write_head(out, MAP, entries.len() as u64);
            for (k, v) in entries {
                encode_value(k, out);
                encode_value(v, out);
            }
        }
    }
}

/// An unfinished container (or indefinite-length string) of the packet being decoded.
#[derive(Debug)]
enum Frame {
    /// `left` counts the items still expected; `None` until a break for indefinite length.
    Array {
        items: Vec<Value>,
        left: Option<u64>,
    },
    /// `left` counts whole entries; `key` holds the key of a half-received entry.
    Map {
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
        left: Option<u64>,
    },
    /// An indefinite-length byte or text string collecting its definite-length chunks.
    Chunks { major: u8, bytes: Vec<u8> },
}

/// The argument of a head.
enum Arg {
    /// A definite value (a length, an integer, float bits, a tag or simple value).
    Val(u64),
    /// Additional information 31: indefinite length (or break).
    Indefinite,
}

/// The head at `buf[pos..]`: its first byte, definite argument and length; `None` when
/// incomplete, reserved, or of indefinite length.
#[inline]
pub(super) fn head(buf: &[u8], pos: usize) -> Option<(u8, u64, usize)> {
    let initial = *buf.get(pos)?;
    let arg = |n: usize| buf.get(pos + 1..pos + 1 + n);
    match initial & 0x1f {
        info @ 0..=23 => Some((initial, u64::from(info), 1)),
        24 => Some((initial, u64::from(*buf.get(pos + 1)?), 2)),
        25 => Some((
            initial,
            u64::from(u16::from_be_bytes(arg(2)?.try_into().ok()?)),
            3,
        )),
        26 => Some((
            initial,
            u64::from(u32::from_be_bytes(arg(4)?.try_into().ok()?)),
            5,
        )),
        27 => Some((initial, u64::from_be_bytes(arg(8)?.try_into().ok()?), 9)),
        _ => None,
    }
}

/// Reads the argument of the head starting at `input[0]`: the argument and the head's
/// length, `Ok(None)` if the head is not complete yet.
fn read_arg(input: &[u8]) -> Result<Option<(Arg, usize)>, &'static str> {
    match input[0] & 0x1f {
        28..=30 => Err("reserved additional information value"),
        31 => Ok(Some((Arg::Indefinite, 1))),
        _ => Ok(head(input, 0).map(|(_, arg, len)| (Arg::Val(arg), len))),
    }
}

/// IEEE 754 half precision to `f64`.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let mant = f64::from(bits & 0x3ff);
    let magnitude = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1024.0 + mant) * 2f64.powi(exp - 25),
    };
    sign * magnitude
}

/// The value of a major type 7 item (`initial` its first byte, `arg` its argument):
/// false, true, null, undefined (as null) or a float; `None` for the other simple values.
pub(super) fn simple_value(initial: u8, arg: u64) -> Option<Value> {
    Some(match initial & 0x1f {
        20 => Value::Bool(false),
        21 => Value::Bool(true),
        22 | 23 => Value::Null,
        25 => Value::Float(half_to_f64(arg as u16)),
        26 => Value::Float(f64::from(f32::from_bits(arg as u32))),
        27 => Value::Float(f64::from_bits(arg)),
        _ => return None,
    })
}

/// Builds a string value: text when the bytes are UTF-8, bytes otherwise.
fn string_value(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::Str(s.into()),
        Err(_) => Value::Bytes(bytes.to_vec()),
    }
}

/// Incremental decoder of concatenated CBOR packets.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    /// Unfinished items of the current packet, outermost first.
    stack: Vec<Frame>,
    /// Number of `Array`/`Map` frames on the stack.
    depth: usize,
    /// Bytes of the current packet consumed so far.
    consumed: usize,
}

impl Decoder {
    /// Whether no packet is partially decoded.
    pub(super) fn is_idle(&self) -> bool {
        self.consumed == 0 && self.stack.is_empty()
    }

    /// Bytes of a partially decoded packet that have already left the input buffer.
    pub(super) fn partial_len(&self) -> usize {
        self.consumed
    }

    fn malformed(&self, reason: &str) -> DecodeError {
        DecodeError::malformed(Framing::Cbor, self.consumed, reason)
    }

    /// Fails if consuming `n` more bytes would make the packet larger than allowed.
    fn check_size(&self, n: u64, limits: &DecodeLimits) -> Result<(), DecodeError> {
        let room = limits.max_frame.saturating_sub(self.consumed) as u64;
        if n > room {
            let size = (self.consumed as u64).saturating_add(n);
            return Err(DecodeError::too_large(
                Framing::Cbor,
                usize::try_from(size).unwrap_or(usize::MAX),
                limits,
            ));
        }
        Ok(())
    }

    fn advance(&mut self, pos: &mut usize, n: usize) {
        *pos += n;
        self.consumed += n;
    }

    /// Opens a container frame, refusing to nest deeper than the limit.
    fn push(&mut self, frame: Frame, limits: &DecodeLimits) -> Result<(), DecodeError> {
        self.check_depth(limits)?;
        self.depth += 1;
        self.stack.push(frame);
        Ok(())
    }

    fn check_depth(&self, limits: &DecodeLimits) -> Result<(), DecodeError> {
        if self.depth >= limits.max_depth {
            return Err(DecodeError::too_deep(Framing::Cbor, limits));
        }
        Ok(())
    }

    /// Decodes from `buf[*pos..]`, advancing `*pos` over what it consumed.
    pub(super) fn decode(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        limits: &DecodeLimits,
    ) -> Result<Option<Vec<Value>>, DecodeError> {
        loop {
            let input = &buf[*pos..];
            let Some(&initial) = input.first() else {
                return Ok(None);
            };
            let major = initial >> 5;
            if initial == BREAK {
                self.check_size(1, limits)?;
                let value = self.close_indefinite()?;
                self.advance(pos, 1);
                if let Some(packet) = self.deliver(value)? {
                    return Ok(Some(packet));
                }
                continue;
            }
            if let Some(Frame::Chunks { major: m, .. }) = self.stack.last() {
                if major != *m || initial & 0x1f == 31 {
                    return Err(self.malformed("indefinite-length string with a bad chunk"));
                }
            }
            if self.stack.is_empty() && major != ARRAY && major != TAG {
                return Err(DecodeError::NotAnArray {
                    framing: Framing::Cbor,
                });
            }
            let (arg, head) = match read_arg(input) {
                Ok(Some(a)) => a,
                Ok(None) => return Ok(None),
                Err(reason) => return Err(self.malformed(reason)),
            };
            self.check_size(head as u64, limits)?;
            let value = match (major, arg) {
                (UINT, Arg::Val(n)) => {
                    self.advance(pos, head);
                    Value::from(n)
                }
                (NEGINT, Arg::Val(n)) => match i64::try_from(n) {
                    Ok(n) => {
                        self.advance(pos, head);
                        Value::Int(!n)
                    }
                    Err(_) => return Err(self.malformed("negative integer below i64::MIN")),
                },
                (BYTES | TEXT, Arg::Val(len)) => {
                    self.check_size((head as u64).saturating_add(len), limits)?;
                    // check_size bounds len by max_frame, so this only fails for absurd limits.
                    let Some(end) = usize::try_from(len).ok().and_then(|l| l.checked_add(head))
                    else {
                        return Err(DecodeError::too_large(Framing::Cbor, usize::MAX, limits));
                    };
                    let Some(bytes) = input.get(head..end) else {
                        return Ok(None);
                    };
                    if let Some(Frame::Chunks { bytes: acc, .. }) = self.stack.last_mut() {
                        acc.extend_from_slice(bytes);
                        self.advance(pos, end);
                        continue;
                    }
                    let value = string_value(bytes);
                    self.advance(pos, end);
                    value
                }
                (BYTES | TEXT, Arg::Indefinite) => {
                    self.stack.push(Frame::Chunks {
                        major,
                        bytes: Vec::new(),
                    });
                    self.advance(pos, head);
                    continue;
                }
                (ARRAY | MAP, Arg::Val(0)) => {
                    self.check_depth(limits)?;
                    self.advance(pos, head);
                    if major == ARRAY {
                        Value::Array(Vec::new())
                    } else {
                        Value::Map(Vec::new())
                    }
                }
                (ARRAY | MAP, Arg::Val(n)) => {
                    // Every item takes at least one byte: a count that cannot fit the
                    // frame is refused before anything is allocated.
                    let min_bytes = if major == ARRAY {
                        n
                    } else {
                        n.saturating_mul(2)
                    };
                    self.check_size((head as u64).saturating_add(min_bytes), limits)?;
                    // Preallocate no more than the bytes already here could hold.
                    let cap = (n as usize).min(input.len() - head);
                    let frame = if major == ARRAY {
                        Frame::Array {
                            items: Vec::with_capacity(cap),
                            left: Some(n),
                        }
                    } else {
                        Frame::Map {
                            entries: Vec::with_capacity(cap / 2),
                            key: None,
                            left: Some(n),
                        }
                    };
                    self.push(frame, limits)?;
                    self.advance(pos, head);
                    continue;
                }
                (ARRAY | MAP, Arg::Indefinite) => {
                    let frame = if major == ARRAY {
                        Frame::Array {
                            items: Vec::new(),
                            left: None,
                        }
                    } else {
                        Frame::Map {
                            entries: Vec::new(),
                            key: None,
                            left: None,
                        }
                    };
                    self.push(frame, limits)?;
                    self.advance(pos, head);
                    continue;
                }
                (TAG, Arg::Val(_)) => {
                    // Tags only annotate the item that follows: keep the item.
                    self.advance(pos, head);
                    continue;
                }
                (SIMPLE, Arg::Val(arg)) => {
                    let Some(value) = simple_value(initial, arg) else {
                        return Err(self.malformed("unsupported simple value"));
                    };
                    self.advance(pos, head);
                    value
                }
                _ => return Err(self.malformed("indefinite length on a type that has none")),
            };
            if let Some(packet) = self.deliver(value)? {
                return Ok(Some(packet));
            }
        }
    }

    /// Ends the innermost indefinite-length item at a break code.
    fn close_indefinite(&mut self) -> Result<Value, DecodeError> {
        match self.stack.last() {
            Some(Frame::Array { left: None, .. })
            | Some(Frame::Map {
                left: None,
                key: None,
                ..
            }) => Ok(self.pop()),
            Some(Frame::Chunks { .. }) => Ok(self.pop()),
            _ => Err(self.malformed("unexpected break")),
        }
    }

    /// Pops the innermost frame as a finished value.
    fn pop(&mut self) -> Value {
        match self.stack.pop() {
            Some(Frame::Array { items, .. }) => {
                self.depth -= 1;
                Value::Array(items)
            }
            Some(Frame::Map { entries, .. }) => {
                self.depth -= 1;
                Value::Map(entries)
            }
            Some(Frame::Chunks { bytes, .. }) => Value::from_bytes(bytes),
            None => Value::Null,
        }
    }

    /// Hands a finished value to its container, closing every container it completes.
    /// Returns the packet when the top-level array is complete.
    fn deliver(&mut self, mut value: Value) -> Result<Option<Vec<Value>>, DecodeError> {
        loop {
            let left = match self.stack.last_mut() {
                None => {
                    self.consumed = 0;
                    return match value {
                        Value::Array(items) => Ok(Some(items)),
                        _ => Err(DecodeError::NotAnArray {
                            framing: Framing::Cbor,
                        }),
                    };
                }
                Some(Frame::Array { items, left }) => {
                    items.push(value);
                    left
                }
                Some(Frame::Map { entries, key, left }) => match key.take() {
                    None => {
                        *key = Some(value);
                        return Ok(None);
                    }
                    Some(k) => {
                        entries.push((k, value));
                        left
                    }
                },
                Some(Frame::Chunks { .. }) => {
                    return Err(self.malformed("non-string inside an indefinite string"));
                }
            };
            match left {
                Some(n) => {
                    *n -= 1;
                    if *n > 0 {
                        return Ok(None);
                    }
                }
                None => return Ok(None),
            }
            value = self.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats() {
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
        assert_eq!(half_to_f64(0x7bff), 65504.0);
        assert_eq!(half_to_f64(0x0001), 5.960_464_477_539_063e-8);
        assert_eq!(half_to_f64(0x7c00), f64::INFINITY);
        assert!(half_to_f64(0x7e00).is_nan());
        assert_eq!(half_to_f64(0x8000).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn minimal_heads() {
        let mut out = Vec::new();
        for (arg, len) in [
            (23u64, 1),
            (24, 2),
            (255, 2),
            (256, 3),
            (65536, 5),
            (1 << 32, 9),
        ] {
            out.clear();
            write_head(&mut out, UINT, arg);
            assert_eq!(out.len(), len, "{arg}");
        }
    }
}
