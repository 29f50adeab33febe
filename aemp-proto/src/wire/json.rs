//! The `json` framing: one JSON array per packet, UTF-8, concatenated without separators
//! (whitespace between packets is tolerated).
//!
//! Encoding goes through `serde_json`, so the text is exactly what `serde_json` writes.
//! Values JSON cannot carry are mapped the way a Perl peer expects them:
//!
//! * [`Value::Bytes`] becomes a string whose characters are the bytes' values (U+0000 to
//!   U+00FF, i.e. ISO-8859-1). That is what Perl's JSON::XS does with a byte string, so a Perl
//!   peer gets the very same bytes back; a Rust peer gets a [`Value::Str`].
//! * Non-finite floats become `null` (as in `serde_json`).
//! * A map key that is not a string becomes the JSON text of that key (`1`, `null`,
//!   `[1,2]`…); a [`Value::Bytes`] key becomes its ISO-8859-1 string as above.
//!
//! Decoding scans the stream incrementally (depth, inside-string and escape state survive
//! between feeds, so every byte is scanned once) to find where the top-level array ends,
//! then parses exactly that slice with `serde_json`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::framing::{DecodeError, DecodeLimits, Framing};
use super::Value;

/// Appends one packet as a JSON array.
pub(super) fn encode(packet: &[Value], out: &mut Vec<u8>) {
    encode_message_opt(None, packet, out);
}

/// Appends the packet `[port, msg...]` without building it.
pub(super) fn encode_message(port: &str, msg: &[Value], out: &mut Vec<u8>) {
    encode_message_opt(Some(port), msg, out);
}

fn encode_message_opt(port: Option<&str>, msg: &[Value], out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and every map key is given to serde_json as a string.
    serde_json::to_writer(out, &Packet(port, msg)).expect("JSON encoding of a Value cannot fail");
}

/// A packet: the port name (if given apart), then the values.
struct Packet<'a>(Option<&'a str>, &'a [Value]);

impl Serialize for Packet<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let port = usize::from(self.0.is_some());
        let mut seq = serializer.serialize_seq(Some(self.1.len() + port))?;
        if let Some(port) = self.0 {
            seq.serialize_element(port)?;
        }
        for v in self.1 {
            seq.serialize_element(&Json(v))?;
        }
        seq.end()
    }
}

/// A value in the form this framing writes it.
struct Json<'a>(&'a Value);

/// ISO-8859-1 reading of bytes: each byte becomes the character of the same number.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            // Scalars other than bytes take the natural form (see `Value`'s `Serialize`).
            scalar @ (Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::UInt(_)
            | Value::Float(_)
            | Value::Str(_)) => scalar.serialize(serializer),
            Value::Bytes(b) => serializer.serialize_str(&latin1(b)),
            Value::Array(items) => serializer.collect_seq(items.iter().map(Json)),
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    match k {
                        Value::Str(k) => map.serialize_entry(k.as_str(), &Json(v))?,
                        Value::Bytes(b) => map.serialize_entry(&latin1(b), &Json(v))?,
                        other => {
                            let key = serde_json::to_string(&Json(other))
                                .map_err(serde::ser::Error::custom)?;
                            map.serialize_entry(&key, &Json(v))?;
                        }
                    }
                }
                map.end()
            }
        }
    }
}

/// Incremental scanner of concatenated JSON arrays.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    /// Bytes of the current packet (from the decoder's read position) scanned so far;
    /// 0 while between packets.
    scanned: usize,
    /// Open arrays and objects.
    depth: usize,
    /// Inside a string literal.
    in_string: bool,
    /// Just after a backslash inside a string literal.
    escape: bool,
}

impl Decoder {
    /// Decodes from `buf[*pos..]`, advancing `*pos` over complete packets (and the
    /// whitespace before them).
    pub(super) fn decode(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        limits: &DecodeLimits,
    ) -> Result<Option<Vec<Value>>, DecodeError> {
        if self.scanned == 0 {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = buf.get(*pos) {
                *pos += 1;
            }
            match buf.get(*pos) {
                None => return Ok(None),
                Some(b'[') => {}
                Some(_) => {
                    return Err(DecodeError::NotAnArray {
                        framing: Framing::Json,
                    })
                }
            }
            if limits.max_depth == 0 {
                return Err(DecodeError::too_deep(Framing::Json, limits));
            }
            *self = Decoder {
                scanned: 1,
                depth: 1,
                in_string: false,
                escape: false,
            };
        }
        let input = &buf[*pos..];
        let stop = input.len().min(limits.max_frame);
        let mut i = self.scanned;
        while i < stop {
            let b = input[i];
            i += 1;
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > limits.max_depth {
                        return Err(DecodeError::too_deep(Framing::Json, limits));
                    }
                }
                b']' | b'}' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.scanned = 0;
                        *pos += i;
                        return parse(&input[..i]).map(Some);
                    }
                }
                _ => {}
            }
        }
        self.scanned = i;
        if i >= limits.max_frame {
            // A packet ending within the limit would have been returned above.
            return Err(DecodeError::too_large(Framing::Json, i + 1, limits));
        }
        Ok(None)
    }
}

/// Parses one complete top-level array.
fn parse(frame: &[u8]) -> Result<Vec<Value>, DecodeError> {
    serde_json::from_slice(frame).map_err(|e| {
        // Packets are usually one line; the column is then the offset (1-based).
        let offset = if e.line() == 1 {
            e.column().saturating_sub(1)
        } else {
            0
        };
        DecodeError::malformed(Framing::Json, offset, e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        let mut out = Vec::new();
        let packet = [
            Value::Bytes(vec![0x61, 0xff]),
            Value::Float(f64::NAN),
            Value::Map(vec![
                (Value::Int(1), Value::Null),
                (Value::Array(vec![Value::Bool(true)]), Value::Float(1.5)),
            ]),
        ];
        encode(&packet, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"["aÿ",null,{"1":null,"[true]":1.5}]"#
        );
    }
}
