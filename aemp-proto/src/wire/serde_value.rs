//! Serde support for [`Value`]: `Serialize`/`Deserialize` in the natural self-describing
//! form, and conversions between any serde type and [`Value`].

use std::fmt;
use std::slice;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::ser::{self, Serialize, Serializer};
use serde::Deserialize;

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
            unexpected(&other),
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
    T::deserialize(Elements(values))
}

/// The values of a message, deserialized as one array.
struct Elements<'de>(&'de [Value]);

impl<'de> Deserializer<'de> for Elements<'de> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visit_array(self.0, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// How a value looks in serde's error messages.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::UInt(u) => Unexpected::Unsigned(*u),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Str(s) => Unexpected::Str(s),
        Value::Bytes(b) => Unexpected::Bytes(b),
        Value::Array(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
    }
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

/// A number found in a value, possibly by parsing a string.
enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Value {
    /// The number this value holds, parsing numeric strings (Perl sends numbers either way).
    fn number(&self) -> Option<Number> {
        match self {
            Value::Int(i) => Some(Number::Int(*i)),
            Value::UInt(u) => Some(Number::UInt(*u)),
            Value::Float(f) => Some(Number::Float(*f)),
            Value::Str(s) => {
                let s = s.trim();
                if let Ok(i) = s.parse() {
                    Some(Number::Int(i))
                } else if let Ok(u) = s.parse() {
                    Some(Number::UInt(u))
                } else {
                    s.parse().ok().map(Number::Float)
                }
            }
            _ => None,
        }
    }

    /// Hands an integer to the visitor: integers, numeric strings and integral floats.
    fn visit_integer<'de, V: Visitor<'de>>(&'de self, visitor: V) -> Result<V::Value, ValueError> {
        match self.number() {
            Some(Number::Int(i)) => visitor.visit_i64(i),
            Some(Number::UInt(u)) => visitor.visit_u64(u),
            // The range checks make the casts exact.
            Some(Number::Float(f))
                if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) =>
            {
                visitor.visit_i64(f as i64)
            }
            Some(Number::Float(f)) if f.fract() == 0.0 && f >= 0.0 && f < 2f64.powi(64) => {
                visitor.visit_u64(f as u64)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    /// Hands a float to the visitor: numbers and numeric strings.
    fn visit_float<'de, V: Visitor<'de>>(&'de self, visitor: V) -> Result<V::Value, ValueError> {
        match self.number() {
            Some(Number::Int(i)) => visitor.visit_i64(i),
            Some(Number::UInt(u)) => visitor.visit_u64(u),
            Some(Number::Float(f)) => visitor.visit_f64(f),
            None => self.deserialize_any(visitor),
        }
    }

    /// Hands a string to the visitor: strings, bytes, and numbers as decimal text.
    fn visit_text<'de, V: Visitor<'de>>(&'de self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::Int(i) => visitor.visit_string(i.to_string()),
            Value::UInt(u) => visitor.visit_string(u.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            other => other.deserialize_any(visitor),
        }
    }
}

/// Hands every element to the visitor, then insists they were all used.
fn visit_array<'de, V: Visitor<'de>>(
    items: &'de [Value],
    visitor: V,
) -> Result<V::Value, ValueError> {
    let len = items.len();
    let mut seq = SeqDeserializer { iter: items.iter() };
    let value = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() != 0 {
        return Err(de::Error::invalid_length(
            len,
            &"fewer elements in the array",
        ));
    }
    Ok(value)
}

/// Hands every entry to the visitor, then insists they were all used.
fn visit_map<'de, V: Visitor<'de>>(
    entries: &'de [(Value, Value)],
    visitor: V,
) -> Result<V::Value, ValueError> {
    let len = entries.len();
    let mut map = MapDeserializer {
        iter: entries.iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut map)?;
    if map.iter.len() != 0 {
        return Err(de::Error::invalid_length(len, &"fewer entries in the map"));
    }
    Ok(value)
}

/// `deserialize_<ty>` methods that hand the value to one of the lenient `visit_*` helpers.
macro_rules! forward_deserialize {
    ($($method:ident => $helper:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                self.$helper(visitor)
            }
        )*
    };
}

/// A value deserializes by reference: nothing is copied but what the target type keeps.
impl<'de> Deserializer<'de> for &'de Value {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::Array(items) => visit_array(items, visitor),
            Value::Map(entries) => visit_map(entries, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::UInt(_)
            | Value::Float(_)
            | Value::Str(_) => visitor.visit_bool(self.is_truthy()),
            other => other.deserialize_any(visitor),
        }
    }

    forward_deserialize! {
        deserialize_i8 => visit_integer,
        deserialize_i16 => visit_integer,
        deserialize_i32 => visit_integer,
        deserialize_i64 => visit_integer,
        deserialize_i128 => visit_integer,
        deserialize_u8 => visit_integer,
        deserialize_u16 => visit_integer,
        deserialize_u32 => visit_integer,
        deserialize_u64 => visit_integer,
        deserialize_u128 => visit_integer,
        deserialize_f32 => visit_float,
        deserialize_f64 => visit_float,
        deserialize_char => visit_text,
        deserialize_str => visit_text,
        deserialize_string => visit_text,
        deserialize_identifier => visit_text,
    }

    serde::forward_to_deserialize_any! {
        unit unit_struct seq tuple tuple_struct map struct
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Str(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::Str(_) => visitor.visit_enum(EnumDeserializer {
                variant: self,
                content: None,
            }),
            Value::Map(entries) if entries.len() == 1 => {
                let (variant, content) = &entries[0];
                visitor.visit_enum(EnumDeserializer {
                    variant,
                    content: Some(content),
                })
            }
            other => Err(de::Error::invalid_type(
                unexpected(other),
                &"a string or a map with one entry (an enum)",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
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

struct SeqDeserializer<'de> {
    iter: slice::Iter<'de, Value>,
}

impl<'de> SeqAccess<'de> for SeqDeserializer<'de> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        self.iter.next().map(|v| seed.deserialize(v)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDeserializer<'de> {
    iter: slice::Iter<'de, (Value, Value)>,
    value: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for MapDeserializer<'de> {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        match self.value.take() {
            Some(v) => seed.deserialize(v),
            None => Err(de::Error::custom("map value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An enum in externally tagged form: the variant name, and its content unless unit.
struct EnumDeserializer<'de> {
    variant: &'de Value,
    content: Option<&'de Value>,
}

impl<'de> EnumAccess<'de> for EnumDeserializer<'de> {
    type Error = ValueError;
    type Variant = VariantDeserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer<'de>), ValueError> {
        let variant = seed.deserialize(self.variant)?;
        Ok((
            variant,
            VariantDeserializer {
                content: self.content,
            },
        ))
    }
}

struct VariantDeserializer<'de> {
    content: Option<&'de Value>,
}

/// The error for variant content (`None` for a unit variant) that is not the `expected` kind.
fn wrong_variant(content: Option<&Value>, expected: &str) -> ValueError {
    let found = match content {
        Some(other) => unexpected(other),
        None => Unexpected::UnitVariant,
    };
    de::Error::invalid_type(found, &expected)
}

impl<'de> VariantAccess<'de> for VariantDeserializer<'de> {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.content {
            None | Some(Value::Null) => Ok(()),
            other => Err(wrong_variant(other, "a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        match self.content {
            Some(v) => seed.deserialize(v),
            None => Err(wrong_variant(None, "a newtype variant")),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::Array(items)) => visit_array(items, visitor),
            other => Err(wrong_variant(other, "a tuple variant")),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::Map(entries)) => visit_map(entries, visitor),
            Some(Value::Array(items)) => visit_array(items, visitor),
            other => Err(wrong_variant(other, "a struct variant")),
        }
    }
}
