//! Serde support for [`Value`]: `Serialize`/`Deserialize` in the natural self-describing
//! form, and conversions between any serde type and [`Value`].

use std::fmt;
use std::slice;

use serde::de::{
    self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{self, Serialize, Serializer};
use serde::Deserialize;

use super::de::{De, Item, Tree};
use super::value::CompactString;
use super::Value;

/// Why a Rust value could not be converted to or from a [`Value`].
///
/// ```
/// use aemp_proto::{from_value, Value};
/// let err = from_value::<u8>(Value::Int(300)).unwrap_err();
/// assert!(err.message().contains("300"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    message: String,
}

impl ValueError {
    /// What went wrong, in words.
    ///
    /// ```
    /// # use aemp_proto::{from_value, Value};
    /// let err = from_value::<bool>(Value::Array(vec![])).unwrap_err();
    /// assert!(err.message().contains("expected a boolean"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError {
            message: msg.to_string(),
        }
    }
}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError {
            message: msg.to_string(),
        }
    }
}

/// Converts any serializable value into a [`Value`].
///
/// Structs and maps become [`Value::Map`] (struct fields keyed by [`Value::Str`]), tuples and
/// sequences [`Value::Array`], `()` and `None` [`Value::Null`], byte buffers
/// [`Value::Bytes`], `char` [`Value::Str`]; enums take serde's externally tagged form
/// (`"Unit"`, `{"Newtype": x}`, `{"Tuple": [..]}`, `{"Struct": {..}}`).
///
/// ```
/// use aemp_proto::{to_value, Value};
/// #[derive(serde::Serialize)]
/// struct Hello { name: String, n: u32 }
/// let v = to_value(&Hello { name: "x".into(), n: 2 }).unwrap();
/// assert_eq!(v, Value::Map(vec![
///     (Value::from("name"), Value::from("x")),
///     (Value::from("n"), Value::Int(2)),
/// ]));
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer)
}

/// Converts a value serializing as a sequence (a tuple, a `Vec`, a tuple struct…) into the
/// values of a message; `()`, the empty tuple, is the empty message.
///
/// ```
/// use aemp_proto::{to_values, Value};
/// let msg = to_values(&("tag", 42)).unwrap();
/// assert_eq!(msg, vec![Value::from("tag"), Value::Int(42)]);
/// assert_eq!(to_values(&()).unwrap(), vec![]);
/// assert!(to_values(&7).is_err());
/// ```
pub fn to_values<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Value>, ValueError> {
    match to_value(value)? {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(de::Error::invalid_type(
            Item::from(&other).unexpected(),
            &"a value serializing as a sequence",
        )),
    }
}

/// Builds any deserializable type from a [`Value`].
///
/// Lenient where Perl peers need it: numeric strings are accepted for number fields, numbers
/// for string fields, integral floats for integer fields, and `bool` follows Perl's truth
/// rules for null, numbers and strings. Structs accept maps or arrays (fields in order).
///
/// ```
/// use aemp_proto::{from_value, Value};
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Hello { name: String, n: u32 }
/// let v = Value::Map(vec![
///     (Value::from("name"), Value::from("x")),
///     (Value::from("n"), Value::from("2")), // Perl sent a string
/// ]);
/// assert_eq!(from_value::<Hello>(v).unwrap(), Hello { name: "x".into(), n: 2 });
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(&value)
}

/// Builds any deserializable type from the values of a message, as if they were one array
/// (so a tuple or a struct with fields in message order fits).
///
/// ```
/// use aemp_proto::{from_values, Value};
/// let (tag, n): (String, i64) = from_values(vec![Value::from("tag"), Value::Int(1)]).unwrap();
/// assert_eq!((tag.as_str(), n), ("tag", 1));
/// ```
pub fn from_values<T: DeserializeOwned>(values: Vec<Value>) -> Result<T, ValueError> {
    from_slice(&values)
}

/// [`from_values`] from borrowed values: nothing is copied but what `T` keeps.
///
/// ```
/// use aemp_proto::{from_slice, Value};
/// let msg = [Value::from("tag"), Value::Int(1)];
/// let (tag, n): (String, i64) = from_slice(&msg).unwrap();
/// assert_eq!((tag.as_str(), n), ("tag", 1));
/// ```
pub fn from_slice<T: DeserializeOwned>(values: &[Value]) -> Result<T, ValueError> {
    T::deserialize(De::elements(&mut Tree::new(values), values.len()))
}

// ------------------------------------------------------------------------------------------
// Value as a serde data type (natural form).

impl Serialize for Value {
    /// Serializes in the natural form: null as unit, numbers, strings, bytes, sequences and
    /// maps (non-string keys are passed on as they are; formats like JSON may refuse them).
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v = Value::Array(vec![Value::from("a"), Value::Null, Value::Float(0.5)]);
    /// assert_eq!(serde_json::to_string(&v).unwrap(), r#"["a",null,0.5]"#);
    /// ```
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::UInt(u) => serializer.serialize_u64(*u),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serializer.serialize_bytes(b),
            Value::Array(items) => serializer.collect_seq(items),
            Value::Map(entries) => serializer.collect_map(entries.iter().map(|(k, v)| (k, v))),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Deserializes from any self-describing format; map entries keep their order. Integers
    /// are normalised ([`Value::UInt`] only above `i64::MAX`).
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v: Value = serde_json::from_str(r#"{"b":1,"a":[true,2.5]}"#).unwrap();
    /// assert_eq!(v, Value::Map(vec![
    ///     (Value::from("b"), Value::Int(1)),
    ///     (Value::from("a"), Value::Array(vec![Value::Bool(true), Value::Float(2.5)])),
    /// ]));
    /// ```
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Most elements preallocated from an untrusted size hint.
const MAX_PREALLOC: usize = 4096;

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any AEMP value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        if let Ok(i) = i64::try_from(v) {
            Ok(Value::Int(i))
        } else if let Ok(u) = u64::try_from(v) {
            Ok(Value::UInt(u))
        } else {
            Err(E::custom(format!("integer {v} does not fit 64 bits")))
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => Err(E::custom(format!("integer {v} does not fit 64 bits"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

// ------------------------------------------------------------------------------------------
// Serializer into Value.

/// Serializes any value into a [`Value`]; see [`to_value`].
struct ValueSerializer;

/// Collects the items of a sequence, tuple or tuple struct.
struct SeqBuilder {
    items: Vec<Value>,
}

/// Collects the items of a tuple variant.
struct TupleVariantBuilder {
    variant: &'static str,
    seq: SeqBuilder,
}

/// Collects the entries of a map or struct.
struct MapBuilder {
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

/// Collects the fields of a struct variant.
struct StructVariantBuilder {
    variant: &'static str,
    map: MapBuilder,
}

/// `{variant: content}`, serde's externally tagged enum form.
fn tagged(variant: &str, content: Value) -> Value {
    Value::Map(vec![(Value::from(variant), content)])
}

/// `serialize_<ty>` methods for integer types that always fit [`Value::Int`].
macro_rules! serialize_into_int {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<Value, ValueError> {
                Ok(Value::Int(v.into()))
            }
        )*
    };
}

impl Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = TupleVariantBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = StructVariantBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }

    serialize_into_int! {
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
    }

    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(Value::Int(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        ValueVisitor.visit_i128(v)
    }

    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        ValueVisitor.visit_u128(v)
    }

    fn serialize_f32(self, v: f32) -> Result<Value, ValueError> {
        Ok(Value::Float(v.into()))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, ValueError> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::Str(CompactString::from(
            &*v.encode_utf8(&mut [0; 4]),
        )))
    }

    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::from(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        Ok(tagged(variant, value.serialize(self)?))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ValueError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOC)),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<TupleVariantBuilder, ValueError> {
        Ok(TupleVariantBuilder {
            variant,
            seq: self.serialize_seq(Some(len))?,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, ValueError> {
        Ok(MapBuilder {
            entries: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOC)),
            key: None,
        })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder, ValueError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<StructVariantBuilder, ValueError> {
        Ok(StructVariantBuilder {
            variant,
            map: self.serialize_map(Some(len))?,
        })
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.items.push(to_value(value)?);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Array(self.items))
    }
}

/// Tuples and tuple structs collect their items as a sequence does.
macro_rules! serialize_as_seq {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(
            impl ser::$trait for SeqBuilder {
                type Ok = Value;
                type Error = ValueError;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
                    ser::SerializeSeq::serialize_element(self, value)
                }

                fn end(self) -> Result<Value, ValueError> {
                    ser::SerializeSeq::end(self)
                }
            }
        )*
    };
}

serialize_as_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
);

impl ser::SerializeTupleVariant for TupleVariantBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        ser::SerializeSeq::serialize_element(&mut self.seq, value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(tagged(self.variant, ser::SerializeSeq::end(self.seq)?))
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValueError> {
        self.key = Some(to_value(key)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ser::Error::custom("map value without a key"))?;
        self.entries.push((key, to_value(value)?));
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Map(self.entries))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.entries.push((Value::from(key), to_value(value)?));
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Map(self.entries))
    }
}

impl ser::SerializeStructVariant for StructVariantBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        ser::SerializeStruct::serialize_field(&mut self.map, key, value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(tagged(self.variant, ser::SerializeStruct::end(self.map)?))
    }
}

// ------------------------------------------------------------------------------------------
// Deserializer from Value.

/// `deserialize_<ty>` methods that read the value through the shared deserializer.
macro_rules! through_tree {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(
                self,
                $($arg: $ty,)*
                visitor: V,
            ) -> Result<V::Value, ValueError> {
                De::new(&mut Tree::new(slice::from_ref(self))).$method($($arg,)* visitor)
            }
        )*
    };
}

/// A value deserializes by reference: nothing is copied but what the target type keeps.
impl<'de> Deserializer<'de> for &'de Value {
    type Error = ValueError;

    through_tree! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
        deserialize_i32(), deserialize_i64(), deserialize_i128(), deserialize_u8(),
        deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
        deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
        deserialize_option(), deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_seq(), deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(), deserialize_ignored_any(),
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for &'de Value {
    type Deserializer = &'de Value;

    /// A value (by reference) is its own deserializer.
    ///
    /// ```
    /// use aemp_proto::{Value, ValueError};
    /// use serde::de::{Deserialize, IntoDeserializer};
    /// let v = Value::Int(3);
    /// let de = IntoDeserializer::<ValueError>::into_deserializer(&v);
    /// assert_eq!(u16::deserialize(de).unwrap(), 3);
    /// ```
    fn into_deserializer(self) -> &'de Value {
        self
    }
}
