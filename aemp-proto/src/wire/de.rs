//! The one serde deserializer of message values, whatever holds them: a [`Value`] tree or
//! the CBOR bytes of a received packet. Both are read the same way, as a stream of items in
//! pre-order (an array's or map's head, then its children), so the lenient rules Perl
//! peers need live in one place.

use std::slice;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use smallvec::SmallVec;

use super::{Value, ValueError};

/// One item of the stream: a whole scalar, or the head of an array or map whose children
/// follow.
#[derive(Clone, Copy, Debug)]
pub(super) enum Item<'de> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'de str),
    Bytes(&'de [u8]),
    /// A string whose bytes are not checked yet: text when they are UTF-8, bytes otherwise
    /// (Perl sends most strings as CBOR byte strings).
    Unchecked(&'de [u8]),
    Array(usize),
    Map(usize),
}

/// Where items come from.
pub(super) trait Source<'de> {
    /// The next item.
    fn next_item(&mut self) -> Result<Item<'de>, ValueError>;
    /// Skips the next item, children included.
    fn skip_item(&mut self) -> Result<(), ValueError>;
}

/// A number found in an item, possibly by parsing a string.
enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl<'de> Item<'de> {
    /// The item with its string checked: [`Item::Unchecked`] becomes text or bytes.
    fn checked(self) -> Item<'de> {
        match self {
            Item::Unchecked(b) => match std::str::from_utf8(b) {
                Ok(s) => Item::Str(s),
                Err(_) => Item::Bytes(b),
            },
            other => other,
        }
    }

    /// The number this item holds, parsing numeric strings (Perl sends numbers either way).
    fn number(&self) -> Option<Number> {
        match self {
            Item::Int(i) => Some(Number::Int(*i)),
            Item::UInt(u) => Some(Number::UInt(*u)),
            Item::Float(f) => Some(Number::Float(*f)),
            Item::Str(s) => {
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

    /// Perl's truth, for the scalars that have one.
    fn truth(&self) -> Option<bool> {
        match self {
            Item::Null => Some(false),
            Item::Bool(b) => Some(*b),
            Item::Int(i) => Some(*i != 0),
            Item::UInt(_) => Some(true),
            Item::Float(f) => Some(*f != 0.0),
            Item::Str(s) => Some(!(s.is_empty() || *s == "0")),
            _ => None,
        }
    }

    /// How the item looks in serde's error messages.
    pub(super) fn unexpected(&self) -> Unexpected<'de> {
        match *self {
            Item::Null => Unexpected::Unit,
            Item::Bool(b) => Unexpected::Bool(b),
            Item::Int(i) => Unexpected::Signed(i),
            Item::UInt(u) => Unexpected::Unsigned(u),
            Item::Float(f) => Unexpected::Float(f),
            Item::Str(s) => Unexpected::Str(s),
            Item::Bytes(b) | Item::Unchecked(b) => Unexpected::Bytes(b),
            Item::Array(_) => Unexpected::Seq,
            Item::Map(_) => Unexpected::Map,
        }
    }
}

impl<'de> From<&'de Value> for Item<'de> {
    /// A value's own item: scalars whole, containers as their head.
    fn from(value: &'de Value) -> Item<'de> {
        match value {
            Value::Null => Item::Null,
            Value::Bool(b) => Item::Bool(*b),
            Value::Int(i) => Item::Int(*i),
            Value::UInt(u) => Item::UInt(*u),
            Value::Float(f) => Item::Float(*f),
            Value::Str(s) => Item::Str(s),
            Value::Bytes(b) => Item::Bytes(b),
            Value::Array(items) => Item::Array(items.len()),
            Value::Map(entries) => Item::Map(entries.len()),
        }
    }
}

/// A deserializer reading one value from a source; `item` is its head when already read.
pub(super) struct De<'s, 'de, S> {
    src: &'s mut S,
    item: Option<Item<'de>>,
}

impl<'s, 'de, S: Source<'de>> De<'s, 'de, S> {
    /// Reads the next value of `src`.
    pub(super) fn new(src: &'s mut S) -> Self {
        De { src, item: None }
    }

    /// Reads `len` values of `src` as if they were one array (a message's values).
    pub(super) fn elements(src: &'s mut S, len: usize) -> Self {
        De {
            src,
            item: Some(Item::Array(len)),
        }
    }

    fn take(&mut self) -> Result<Item<'de>, ValueError> {
        match self.item.take() {
            Some(item) => Ok(item.checked()),
            None => self.src.next_item().map(Item::checked),
        }
    }

    /// Hands the item to the visitor as what it is.
    fn visit<V: Visitor<'de>>(self, item: Item<'de>, visitor: V) -> Result<V::Value, ValueError> {
        match item.checked() {
            Item::Null => visitor.visit_unit(),
            Item::Bool(b) => visitor.visit_bool(b),
            Item::Int(i) => visitor.visit_i64(i),
            Item::UInt(u) => visitor.visit_u64(u),
            Item::Float(f) => visitor.visit_f64(f),
            Item::Str(s) => visitor.visit_borrowed_str(s),
            Item::Bytes(b) | Item::Unchecked(b) => visitor.visit_borrowed_bytes(b),
            Item::Array(len) => visit_array(self.src, len, visitor),
            Item::Map(len) => visit_map(self.src, len, visitor),
        }
    }

    /// Hands an integer to the visitor: integers, numeric strings and integral floats.
    fn visit_integer<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        let item = self.take()?;
        match item.number() {
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
            _ => self.visit(item, visitor),
        }
    }

    /// Hands a float to the visitor: numbers and numeric strings.
    fn visit_float<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        let item = self.take()?;
        match item.number() {
            Some(Number::Int(i)) => visitor.visit_i64(i),
            Some(Number::UInt(u)) => visitor.visit_u64(u),
            Some(Number::Float(f)) => visitor.visit_f64(f),
            None => self.visit(item, visitor),
        }
    }

    /// Hands a string to the visitor: strings, bytes, and numbers as decimal text.
    fn visit_text<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match self.take()? {
            Item::Int(i) => visitor.visit_string(i.to_string()),
            Item::UInt(u) => visitor.visit_string(u.to_string()),
            Item::Float(f) => visitor.visit_string(f.to_string()),
            other => self.visit(other, visitor),
        }
    }
}

/// Hands `len` children of the source to the visitor, then insists they were all used.
fn visit_array<'de, S: Source<'de>, V: Visitor<'de>>(
    src: &mut S,
    len: usize,
    visitor: V,
) -> Result<V::Value, ValueError> {
    let mut seq = Elements { src, left: len };
    let value = visitor.visit_seq(&mut seq)?;
    if seq.left != 0 {
        return Err(de::Error::invalid_length(
            len,
            &"fewer elements in the array",
        ));
    }
    Ok(value)
}

/// Hands `len` entries of the source to the visitor, then insists they were all used.
fn visit_map<'de, S: Source<'de>, V: Visitor<'de>>(
    src: &mut S,
    len: usize,
    visitor: V,
) -> Result<V::Value, ValueError> {
    let mut map = Entries {
        src,
        left: len,
        value_next: false,
    };
    let value = visitor.visit_map(&mut map)?;
    if map.value_next {
        // The visitor took a key without its value.
        map.src.skip_item()?;
    }
    if map.left != 0 {
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

impl<'de, S: Source<'de>> Deserializer<'de> for De<'_, 'de, S> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        let item = self.take()?;
        self.visit(item, visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        let item = self.take()?;
        match item.truth() {
            Some(truth) => visitor.visit_bool(truth),
            None => self.visit(item, visitor),
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

    fn deserialize_bytes<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match self.take()? {
            Item::Str(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            other => self.visit(other, visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match self.take()? {
            Item::Null => visitor.visit_none(),
            other => visitor.visit_some(De {
                src: self.src,
                item: Some(other),
            }),
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
        mut self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.take()? {
            name @ Item::Str(_) => visitor.visit_enum(Variant {
                src: self.src,
                name: Some(name),
            }),
            Item::Map(1) => visitor.visit_enum(Variant {
                src: self.src,
                name: None,
            }),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"a string or a map with one entry (an enum)",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let item = match self.item.take() {
            Some(item) => item,
            None => self.src.next_item()?,
        };
        let children = match item {
            Item::Array(len) => len,
            Item::Map(len) => len.saturating_mul(2),
            _ => 0,
        };
        for _ in 0..children {
            self.src.skip_item()?;
        }
        visitor.visit_unit()
    }
}

/// The children of an array.
struct Elements<'s, S> {
    src: &'s mut S,
    left: usize,
}

impl<'de, S: Source<'de>> SeqAccess<'de> for Elements<'_, S> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(De::new(self.src)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The entries of a map: key, value, key, value...
struct Entries<'s, S> {
    src: &'s mut S,
    left: usize,
    value_next: bool,
}

impl<'de, S: Source<'de>> MapAccess<'de> for Entries<'_, S> {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        if self.left == 0 {
            return Ok(None);
        }
        if self.value_next {
            // The value of the previous key was never asked for.
            self.src.skip_item()?;
        }
        self.left -= 1;
        self.value_next = true;
        seed.deserialize(De::new(self.src)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        if !self.value_next {
            return Err(de::Error::custom("map value requested before its key"));
        }
        self.value_next = false;
        seed.deserialize(De::new(self.src))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An enum in externally tagged form: a name alone (a unit variant), or a one-entry map
/// from the name to the content, both still in the source.
struct Variant<'s, 'de, S> {
    src: &'s mut S,
    /// The name when it was the whole value.
    name: Option<Item<'de>>,
}

impl<'s, 'de, S: Source<'de>> EnumAccess<'de> for Variant<'s, 'de, S> {
    type Error = ValueError;
    type Variant = Content<'s, S>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Content<'s, S>), ValueError> {
        let has_content = self.name.is_none();
        let variant = seed.deserialize(De {
            src: &mut *self.src,
            item: self.name,
        })?;
        Ok((
            variant,
            Content {
                src: self.src,
                present: has_content,
            },
        ))
    }
}

/// The content of an enum variant, when `present` in the source.
struct Content<'s, S> {
    src: &'s mut S,
    present: bool,
}

/// The error for variant content (`None` for a unit variant) that is not the `expected` kind.
fn wrong_variant(content: Option<Item<'_>>, expected: &str) -> ValueError {
    let found = match content {
        Some(item) => item.unexpected(),
        None => Unexpected::UnitVariant,
    };
    de::Error::invalid_type(found, &expected)
}

impl<'de, S: Source<'de>> Content<'_, S> {
    /// The content's head, `None` for a unit variant.
    fn head(&mut self) -> Result<Option<Item<'de>>, ValueError> {
        if !self.present {
            return Ok(None);
        }
        self.src.next_item().map(|item| Some(item.checked()))
    }
}

impl<'de, S: Source<'de>> VariantAccess<'de> for Content<'_, S> {
    type Error = ValueError;

    fn unit_variant(mut self) -> Result<(), ValueError> {
        match self.head()? {
            None | Some(Item::Null) => Ok(()),
            other => Err(wrong_variant(other, "a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        if !self.present {
            return Err(wrong_variant(None, "a newtype variant"));
        }
        seed.deserialize(De::new(self.src))
    }

    fn tuple_variant<V: Visitor<'de>>(
        mut self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.head()? {
            Some(Item::Array(len)) => visit_array(self.src, len, visitor),
            other => Err(wrong_variant(other, "a tuple variant")),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.head()? {
            Some(Item::Map(len)) => visit_map(self.src, len, visitor),
            Some(Item::Array(len)) => visit_array(self.src, len, visitor),
            other => Err(wrong_variant(other, "a struct variant")),
        }
    }
}

/// A [`Value`] tree as a source: the container being walked, and those it is in.
pub(super) struct Tree<'de> {
    current: Level<'de>,
    outer: SmallVec<[Level<'de>; 4]>,
}

/// A container of the tree being walked.
enum Level<'de> {
    Seq(slice::Iter<'de, Value>),
    Map {
        entries: slice::Iter<'de, (Value, Value)>,
        value: Option<&'de Value>,
    },
}

impl<'de> Tree<'de> {
    /// A source yielding these values, one after the other.
    pub(super) fn new(values: &'de [Value]) -> Tree<'de> {
        Tree {
            current: Level::Seq(values.iter()),
            outer: SmallVec::new(),
        }
    }

    /// The next value in pre-order, without entering it.
    fn next_value(&mut self) -> Result<&'de Value, ValueError> {
        loop {
            let next = match &mut self.current {
                Level::Seq(items) => items.next(),
                Level::Map { entries, value } => match value.take() {
                    Some(v) => Some(v),
                    None => entries.next().map(|(k, v)| {
                        *value = Some(v);
                        k
                    }),
                },
            };
            if let Some(v) = next {
                return Ok(v);
            }
            self.current = self
                .outer
                .pop()
                .ok_or_else(|| de::Error::custom("no more values"))?;
        }
    }

    /// Walks into a container.
    fn enter(&mut self, level: Level<'de>) {
        let parent = std::mem::replace(&mut self.current, level);
        self.outer.push(parent);
    }
}

impl<'de> Source<'de> for Tree<'de> {
    fn next_item(&mut self) -> Result<Item<'de>, ValueError> {
        let value = self.next_value()?;
        match value {
            Value::Array(items) => self.enter(Level::Seq(items.iter())),
            Value::Map(entries) => self.enter(Level::Map {
                entries: entries.iter(),
                value: None,
            }),
            _ => {}
        }
        Ok(Item::from(value))
    }

    fn skip_item(&mut self) -> Result<(), ValueError> {
        self.next_value().map(drop)
    }
}
