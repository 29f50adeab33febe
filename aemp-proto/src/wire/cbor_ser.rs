//! Serializing a message straight into CBOR bytes, without building its values first.
//!
//! The bytes are those the value path writes ([`to_values`](super::to_values), then the
//! `cbor` framing): the same rules for every serde type. It is strict where the value path
//! is lenient: a sequence or map of unknown length, or one that does not hold as many
//! items as it announced, is refused, and the caller takes the value path instead.

use serde::ser::{self, Serialize, Serializer};

use super::cbor::{head, write_float, write_head, write_int, write_text, ARRAY, BYTES, MAP, UINT};
use super::ValueError;

/// Writes the values of a message (something serializing as a sequence, or `()`) into
/// `scratch` (cleared first) as CBOR; where its items start in `scratch`, and how many.
pub(super) fn encode_message<T: Serialize + ?Sized>(
    msg: &T,
    scratch: &mut Vec<u8>,
) -> Result<(usize, usize), ValueError> {
    scratch.clear();
    msg.serialize(Writer(scratch))?;
    match head(scratch, 0) {
        // null: `()` or `None`, the empty message.
        Some((0xf6, _, 1)) if scratch.len() == 1 => Ok((1, 0)),
        Some((initial, count, len)) if initial >> 5 == ARRAY => {
            let count = usize::try_from(count).map_err(|_| not_a_sequence())?;
            Ok((len, count))
        }
        _ => Err(not_a_sequence()),
    }
}

/// A message that is not a sequence: the value path says why.
fn not_a_sequence() -> ValueError {
    ser::Error::custom("not a sequence")
}

/// Writes one value.
struct Writer<'a>(&'a mut Vec<u8>);

/// Writes the items of a sequence or map and checks their number.
struct Items<'a> {
    out: &'a mut Vec<u8>,
    left: usize,
}

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.left = self.left.checked_sub(1).ok_or_else(too_many)?;
        value.serialize(Writer(self.out))
    }

    fn end(self) -> Result<(), ValueError> {
        match self.left {
            0 => Ok(()),
            _ => Err(ser::Error::custom("fewer items than announced")),
        }
    }
}

fn too_many() -> ValueError {
    ser::Error::custom("more items than announced")
}

fn unknown_length() -> ValueError {
    ser::Error::custom("a sequence or map of unknown length")
}

/// `serialize_<ty>` methods for integer types that always fit an `i64`.
macro_rules! write_ints {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<(), ValueError> {
                write_int(self.0, v.into());
                Ok(())
            }
        )*
    };
}

impl<'a> Serializer for Writer<'a> {
    type Ok = ();
    type Error = ValueError;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Items<'a>;
    type SerializeMap = Items<'a>;
    type SerializeStruct = Items<'a>;
    type SerializeStructVariant = Items<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), ValueError> {
        self.0.push(if v { 0xf5 } else { 0xf4 });
        Ok(())
    }

    write_ints! {
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
    }

    fn serialize_i128(self, v: i128) -> Result<(), ValueError> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => self.serialize_i64(i),
            (_, Ok(u)) => self.serialize_u64(u),
            _ => Err(ser::Error::custom(format!(
                "integer {v} does not fit 64 bits"
            ))),
        }
    }

    fn serialize_u64(self, v: u64) -> Result<(), ValueError> {
        write_head(self.0, UINT, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), ValueError> {
        match u64::try_from(v) {
            Ok(u) => self.serialize_u64(u),
            Err(_) => Err(ser::Error::custom(format!(
                "integer {v} does not fit 64 bits"
            ))),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<(), ValueError> {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), ValueError> {
        write_float(self.0, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), ValueError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), ValueError> {
        write_text(self.0, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), ValueError> {
        write_head(self.0, BYTES, v.len() as u64);
        self.0.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), ValueError> {
        self.0.push(0xf6);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), ValueError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), ValueError> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), ValueError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        let out = tagged(self.0, variant);
        value.serialize(Writer(out))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'a>, ValueError> {
        let len = len.ok_or_else(unknown_length)?;
        write_head(self.0, ARRAY, len as u64);
        Ok(Items {
            out: self.0,
            left: len,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Items<'a>, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Items<'a>, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items<'a>, ValueError> {
        Writer(tagged(self.0, variant)).serialize_seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Items<'a>, ValueError> {
        let len = len.ok_or_else(unknown_length)?;
        write_head(self.0, MAP, len as u64);
        Ok(Items {
            out: self.0,
            left: len.checked_mul(2).ok_or_else(too_many)?,
        })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Items<'a>, ValueError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items<'a>, ValueError> {
        Writer(tagged(self.0, variant)).serialize_map(Some(len))
    }
}

/// Opens `{variant: ...}`, serde's externally tagged enum form; the content follows.
fn tagged<'a>(out: &'a mut Vec<u8>, variant: &str) -> &'a mut Vec<u8> {
    write_head(out, MAP, 1);
    write_text(out, variant);
    out
}

/// The `Serialize*` traits of sequences, tuples and tuple structs (and variants).
macro_rules! items_in_order {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(
            impl ser::$trait for Items<'_> {
                type Ok = ();
                type Error = ValueError;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
                    self.item(value)
                }

                fn end(self) -> Result<(), ValueError> {
                    Items::end(self)
                }
            }
        )*
    };
}

items_in_order!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// The `Serialize*` traits of structs (and struct variants): a key, then its value.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(
            impl ser::$trait for Items<'_> {
                type Ok = ();
                type Error = ValueError;

                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    key: &'static str,
                    value: &T,
                ) -> Result<(), ValueError> {
                    self.item(key)?;
                    self.item(value)
                }

                fn end(self) -> Result<(), ValueError> {
                    Items::end(self)
                }
            }
        )*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Items<'_> {
    type Ok = ();
    type Error = ValueError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValueError> {
        self.item(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.item(value)
    }

    fn end(self) -> Result<(), ValueError> {
        Items::end(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;
    use crate::wire::{cbor, to_values};

    /// The bytes of both paths.
    fn both<T: Serialize>(msg: &T) -> (Result<Vec<u8>, ValueError>, Result<Vec<u8>, ValueError>) {
        let mut direct = Vec::new();
        let direct = encode_message(msg, &mut direct).map(|(start, _)| direct[start..].to_vec());
        let via_values = to_values(msg).map(|values| {
            let mut out = Vec::new();
            cbor::encode_message("", &values, &mut out);
            out.drain(..2); // the array head and the empty port name
            out
        });
        (direct, via_values)
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(i8),
        Tuple(u16, char),
        Struct { x: f32, y: Option<()> },
    }

    #[derive(Serialize)]
    struct Fields<'a> {
        name: &'a str,
        #[serde(with = "serde_bytes_like")]
        raw: Vec<u8>,
        map: BTreeMap<i32, bool>,
        shapes: Vec<Shape>,
        big: i128,
    }

    /// Serializes a byte vector as bytes.
    mod serde_bytes_like {
        pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn writes_what_the_value_path_writes() {
        let fields = Fields {
            name: "n",
            raw: vec![0xff, 0],
            map: BTreeMap::from([(-1, true), (300, false)]),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(-5),
                Shape::Tuple(7, 'é'),
                Shape::Struct { x: 0.1, y: None },
            ],
            big: -(1 << 70) / (1 << 10),
        };
        let (direct, via_values) = both(&("tag", 1u64, u64::MAX, -2i64, 1.5f64, fields, ()));
        assert_eq!(direct.unwrap(), via_values.unwrap());
        let (direct, via_values) = both(&());
        assert_eq!(direct.unwrap(), via_values.unwrap());
        let (direct, via_values) = both(&Some(vec!["a", "b"]));
        assert_eq!(direct.unwrap(), via_values.unwrap());
    }

    #[test]
    fn refuses_what_it_cannot_write_like_the_value_path() {
        let (direct, via_values) = both(&7);
        assert!(direct.is_err() && via_values.is_err());
        let (direct, via_values) = both(&(1u128 << 64,));
        assert!(direct.is_err() && via_values.is_err());
        // Unknown length: the value path copes, this one leaves it to it.
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((0..3).filter(|_| true))
            }
        }
        let (direct, via_values) = both(&Unsized);
        assert!(direct.is_err() && via_values.is_ok());
    }
}
