//! Messages, kill reasons, and what a handler's result means.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use aemp_proto::{Payload, Value, ValueError};
use serde::de::DeserializeOwned;

/// A message as a handler receives it: an ordered list of values.
///
/// A message received over CBOR keeps its values encoded until they are used:
/// [`decode`](Message::decode) reads them straight into a Rust type, and the values
/// themselves (through `Deref`) are built on first use. Its bytes share the memory they
/// were read (or, for a local sender, serialized) into with the messages around it, so
/// keep what you decode from a message rather than the message itself when you keep it
/// long.
///
/// ```
/// use aemp_node::Message;
/// use aemp_proto::Value;
/// let m = Message::new(vec![Value::from("join"), Value::from("nick")]);
/// assert_eq!(m.tag(), Some("join"));
/// let (tag, nick): (String, String) = m.decode().unwrap();
/// assert_eq!((tag.as_str(), nick.as_str()), ("join", "nick"));
/// assert_eq!(m.len(), 2); // it dereferences to [Value]
/// ```
#[derive(Clone, Default)]
pub struct Message {
    payload: Payload,
    /// The values, once asked for when the payload holds bytes.
    values: OnceLock<Vec<Value>>,
}

impl Message {
    /// A message with these values.
    ///
    /// ```
    /// assert!(aemp_node::Message::new(vec![]).is_empty());
    /// ```
    pub fn new(values: Vec<Value>) -> Message {
        Message::from(Payload::from(values))
    }

    /// The first value, when it is a string (by convention the message's tag).
    ///
    /// ```
    /// # use aemp_node::Message; use aemp_proto::Value;
    /// assert_eq!(Message::new(vec![Value::Int(1)]).tag(), None);
    /// ```
    pub fn tag(&self) -> Option<&str> {
        self.payload.tag()
    }

    /// Decodes the values as one Rust value: a tuple or a struct with fields in message
    /// order (see [`aemp_proto::from_slice`]). Nothing is copied but what `T` keeps, and a
    /// message received over CBOR is read straight from its bytes.
    ///
    /// ```
    /// # use aemp_node::Message; use aemp_proto::Value;
    /// let m = Message::new(vec![Value::from("n"), Value::from("7")]);
    /// let (_, n): (String, u32) = m.decode().unwrap(); // Perl sent "7" as a string
    /// assert_eq!(n, 7);
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        self.payload.decode()
    }

    /// The values.
    ///
    /// ```
    /// # use aemp_node::Message; use aemp_proto::Value;
    /// assert_eq!(Message::new(vec![Value::Null]).into_vec(), vec![Value::Null]);
    /// ```
    pub fn into_vec(self) -> Vec<Value> {
        match self.values.into_inner() {
            Some(values) => values,
            None => self.payload.into_values(),
        }
    }

    /// The message as the core carries it.
    pub(crate) fn into_payload(self) -> Payload {
        self.payload
    }

    /// The message without its first value (a tagged message without its tag).
    pub(crate) fn without_tag(self) -> Message {
        Message::from(self.payload.without_first())
    }
}

impl Deref for Message {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        match self.payload.as_values() {
            Some(values) => values,
            None => self.values.get_or_init(|| self.payload.to_values()),
        }
    }
}

impl From<Vec<Value>> for Message {
    fn from(v: Vec<Value>) -> Self {
        Message::new(v)
    }
}

impl From<Payload> for Message {
    /// The message of these values (the core's [`Event::Deliver`](aemp_proto::node::Event)).
    fn from(payload: Payload) -> Self {
        Message {
            payload,
            values: OnceLock::new(),
        }
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Message").field(&&**self).finish()
    }
}

impl fmt::Display for Message {
    /// The values as a JSON-like array.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Value::Array(self.to_vec()), f)
    }
}

/// Why a port died: a list of values, empty for a "normal" kill, by convention
/// `[code, human text, ...]` otherwise (`["die", "…"]`, `["transport_error", node, "…"]`).
///
/// ```
/// use aemp_node::Reason;
/// assert!(Reason::normal().is_normal());
/// let r = Reason::new("custom_error", "don't like your face");
/// assert_eq!(r.code(), Some("custom_error"));
/// assert_eq!(r.text(), Some("don't like your face"));
/// assert_eq!(r.to_string(), "custom_error don't like your face");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Reason(Vec<Value>);

impl Reason {
    /// The empty reason of a normal kill.
    ///
    /// ```
    /// assert!(aemp_node::Reason::normal().values().is_empty());
    /// ```
    pub fn normal() -> Reason {
        Reason(Vec::new())
    }

    /// `[code, text]`.
    ///
    /// ```
    /// assert_eq!(aemp_node::Reason::new("a", "b").values().len(), 2);
    /// ```
    pub fn new(code: &str, text: &str) -> Reason {
        Reason(vec![Value::from(code), Value::from(text)])
    }

    /// Whether this is a normal kill (no values).
    ///
    /// ```
    /// assert!(!aemp_node::Reason::new("x", "y").is_normal());
    /// ```
    pub fn is_normal(&self) -> bool {
        self.0.is_empty()
    }

    /// The first value, when it is a string.
    ///
    /// ```
    /// assert_eq!(aemp_node::Reason::normal().code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.0.first().and_then(Value::as_str)
    }

    /// The second value, when it is a string (the human-readable text by convention).
    ///
    /// ```
    /// assert_eq!(aemp_node::Reason::new("die", "oops").text(), Some("oops"));
    /// ```
    pub fn text(&self) -> Option<&str> {
        self.0.get(1).and_then(Value::as_str)
    }

    /// The values.
    ///
    /// ```
    /// assert!(aemp_node::Reason::normal().values().is_empty());
    /// ```
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    /// The values, owned.
    ///
    /// ```
    /// assert_eq!(aemp_node::Reason::new("a", "b").into_vec().len(), 2);
    /// ```
    pub fn into_vec(self) -> Vec<Value> {
        self.0
    }
}

impl From<Vec<Value>> for Reason {
    fn from(v: Vec<Value>) -> Self {
        Reason(v)
    }
}

impl fmt::Display for Reason {
    /// The values separated by spaces, strings without quotes (as Perl prints `@_`);
    /// `normal` for the empty reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("normal");
        }
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match v {
                Value::Str(s) => f.write_str(s)?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

/// What a handler's return value says: `()` is success, `Err(e)` is a failure that kills
/// the handler's port with `["die", e.to_string()]` (as a panic does).
///
/// ```
/// use aemp_node::Outcome;
/// assert_eq!(().into_failure(), None);
/// assert_eq!(Err::<(), _>("bad input").into_failure(), Some("bad input".to_string()));
/// ```
pub trait Outcome {
    /// The failure text, if the handler failed.
    fn into_failure(self) -> Option<String>;
}

impl Outcome for () {
    fn into_failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> Outcome for Result<(), E> {
    fn into_failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}
