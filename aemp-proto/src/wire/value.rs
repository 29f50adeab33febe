//! The message value model shared by every framing.

use std::fmt;

pub use compact_str::CompactString;

/// One value inside an AEMP message.
///
/// This is the common model of what the CBOR, JSON and fast framings can carry. Strings that
/// arrive as CBOR byte strings but are valid UTF-8 become [`Value::Str`], because the Perl
/// encoder sends almost every string that way; only non-UTF-8 bytes stay [`Value::Bytes`].
///
/// Integers are normalised: every integer that fits an `i64` is [`Value::Int`];
/// [`Value::UInt`] only holds values above `i64::MAX`.
///
/// ```
/// use aemp_proto::Value;
/// let v = Value::from("hello");
/// assert_eq!(v.as_str(), Some("hello"));
/// assert_eq!(Value::from(42u64), Value::Int(42));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// Perl's `undef`, CBOR/JSON `null`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits an `i64`.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A floating point number (any CBOR width is widened to `f64`).
    Float(f64),
    /// A text string (up to 24 bytes stored inline, without an allocation).
    Str(CompactString),
    /// A byte string that is not valid UTF-8.
    Bytes(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A map, in the order its entries arrived.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// About how many bytes the value takes encoded (what a queue of unencoded packets is
    /// charged for): string and byte lengths plus a few bytes per item. Walks the value
    /// without recursion.
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v = Value::Array(vec![Value::from("abcd"), Value::Int(1)]);
    /// assert!(v.size_hint() >= 4);
    /// ```
    pub fn size_hint(&self) -> usize {
        match self {
            Value::Str(s) => return s.len() + 2,
            Value::Bytes(b) => return b.len() + 2,
            Value::Array(_) | Value::Map(_) => {}
            _ => return 9,
        }
        let mut total = 0;
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            total += match v {
                Value::Str(s) => s.len() + 2,
                Value::Bytes(b) => b.len() + 2,
                Value::Array(items) => {
                    stack.extend(items);
                    2
                }
                Value::Map(entries) => {
                    stack.extend(entries.iter().flat_map(|(k, v)| [k, v]));
                    2
                }
                _ => 9,
            };
        }
        total
    }

    /// The string inside a [`Value::Str`].
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert_eq!(Value::from("x").as_str(), Some("x"));
    /// assert_eq!(Value::Int(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64`: integers that fit, and strings holding a decimal integer
    /// (Perl often sends numbers as strings).
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert_eq!(Value::Int(-7).as_i64(), Some(-7));
    /// assert_eq!(Value::from("42").as_i64(), Some(42));
    /// assert_eq!(Value::from("4x").as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The value as an `f64`: floats, integers and numeric strings.
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert_eq!(Value::Float(2.5).as_f64(), Some(2.5));
    /// assert_eq!(Value::Int(2).as_f64(), Some(2.0));
    /// assert_eq!(Value::from("1.5").as_f64(), Some(1.5));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The elements of a [`Value::Array`].
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v = Value::Array(vec![Value::Null]);
    /// assert_eq!(v.as_array().map(|a| a.len()), Some(1));
    /// ```
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries of a [`Value::Map`].
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v = Value::Map(vec![(Value::from("k"), Value::Int(1))]);
    /// assert_eq!(v.as_map().unwrap().len(), 1);
    /// ```
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks a string key up in a [`Value::Map`].
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// let v = Value::Map(vec![(Value::from("k"), Value::Int(1))]);
    /// assert_eq!(v.get("k"), Some(&Value::Int(1)));
    /// assert_eq!(v.get("x"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// `true` for [`Value::Null`].
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert!(Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Perl's idea of truth: `undef`, `""`, `"0"`, `0` and `false` are false.
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert!(!Value::from("").is_truthy());
    /// assert!(!Value::from("0").is_truthy());
    /// assert!(Value::from("1").is_truthy());
    /// ```
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::UInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !(s.is_empty() || s == "0"),
            Value::Bytes(b) => !(b.is_empty() || b == b"0"),
            Value::Array(_) | Value::Map(_) => true,
        }
    }

    /// Builds a value from raw bytes: a string when they are valid UTF-8, bytes otherwise.
    ///
    /// ```
    /// # use aemp_proto::Value;
    /// assert_eq!(Value::from_bytes(b"ab".to_vec()), Value::from("ab"));
    /// assert_eq!(Value::from_bytes(vec![0xff]), Value::Bytes(vec![0xff]));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Value {
        match String::from_utf8(bytes) {
            Ok(s) => Value::Str(s.into()),
            Err(e) => Value::Bytes(e.into_bytes()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Self {
        match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(u),
        }
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

impl fmt::Display for Value {
    /// Formats the value as JSON-like text (byte strings as `0x…` hex), for logs and tools.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
