//! The node port's requests, typed: each packet `["", tag, args...]` is parsed once into a
//! [`Request`] (malformed ones are rejected here, with an error that says what is wrong)
//! and every request the core sends is built by [`Request::into_packet`]. The tags are in
//! one table, [`RequestKind`].
//!
//! ```
//! use aemp_proto::protocol::{GlobalRequest, Request};
//! use aemp_proto::Value;
//!
//! let packet = Request::Monitor { port: "a#p".into() }.into_packet();
//! assert_eq!(packet, vec![Value::from(""), Value::from("mon1"), Value::from("a#p")]);
//! assert_eq!(Request::parse(packet[1..].to_vec()), Ok(Request::Monitor { port: "a#p".into() }));
//!
//! let find = vec![Value::from("g_find"), Value::Array(vec![])];
//! assert!(Request::parse(find).unwrap_err().to_string().contains("g_find"));
//! # let _ = GlobalRequest::Global;
//! ```

mod global;
mod kinds;

use std::fmt;

pub use global::{Entries, GlobalRequest};
pub use kinds::RequestKind;

use crate::node::key_string;
use crate::Value;

/// A request to a node's node port.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `devnull` (or no tag at all): nothing to do.
    Devnull,
    /// `mon1`: tell the sender when `port` dies.
    Monitor {
        /// The receiver's port (its name, or its full ID).
        port: String,
    },
    /// `mon0`: stop telling it.
    Unmonitor {
        /// As for [`Request::Monitor`].
        port: String,
    },
    /// `kil0`: a port of the sender that the receiver monitored died.
    PortDied {
        /// The sender's port (name or ID).
        port: String,
        /// Why: empty for a normal exit, else `[code, text...]`.
        reason: Vec<Value>,
    },
    /// `kil1`: kill a port of the receiver.
    Kill {
        /// The receiver's port (name or ID).
        port: String,
        /// Why, as for [`Request::PortDied`].
        reason: Vec<Value>,
    },
    /// `snd`: send `msg` to `port` from the receiving node.
    Send {
        /// Any port ID.
        port: String,
        /// The message.
        msg: Vec<Value>,
    },
    /// `can`: whether the receiver understands `request`; the answer goes to `reply`.
    Can {
        /// A tag.
        request: String,
        /// Where the answer goes: `[port, values...]`.
        reply: Vec<Value>,
    },
    /// `time`: the receiver's wall clock goes to `reply`.
    Time {
        /// Where the answer goes: `[port, values...]`.
        reply: Vec<Value>,
    },
    /// `eval`: run Perl `code` (a Rust node answers only what `aemp trace` asks).
    Eval {
        /// The code.
        code: String,
        /// Where the answer goes, if anywhere: `[port, values...]`.
        reply: Vec<Value>,
    },
    /// `AnyEvent::MP::_spawn`: create `port` on the receiver and run `func` in it.
    Spawn {
        /// The new port's name.
        port: String,
        /// The init function's name.
        func: String,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// A request of the global protocol (`g_...`).
    Global(GlobalRequest),
    /// Any other tag: a call of the function of that name.
    Call {
        /// The function's name.
        func: String,
        /// Its arguments.
        args: Vec<Value>,
    },
}

/// A request that could not be parsed: which one, and what is wrong with it.
///
/// ```
/// use aemp_proto::protocol::Request;
/// use aemp_proto::Value;
/// let err = Request::parse(vec![Value::from("mon1")]).unwrap_err();
/// assert_eq!(err.to_string(), "malformed mon1 request: the port is missing");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed {tag} request: {problem}")]
pub struct RequestError {
    /// The request's tag.
    pub tag: String,
    /// What is wrong.
    pub problem: String,
}

/// The arguments of one request, taken in order, each checked for its shape.
pub(crate) struct Args {
    tag: &'static str,
    values: std::vec::IntoIter<Value>,
}

impl Args {
    fn error(&self, problem: impl fmt::Display) -> RequestError {
        RequestError {
            tag: self.tag.to_owned(),
            problem: problem.to_string(),
        }
    }

    /// The next argument as a name (a string, or a number written out).
    pub(crate) fn name(&mut self, what: &str) -> Result<String, RequestError> {
        match self.values.next() {
            None | Some(Value::Null) => Err(self.error(format_args!("the {what} is missing"))),
            Some(v) => key_string(&v)
                .ok_or_else(|| self.error(format_args!("the {what} is not a string: {v}"))),
        }
    }

    /// The next argument, whatever it is (`null` if there is none).
    pub(crate) fn any(&mut self) -> Value {
        self.values.next().unwrap_or(Value::Null)
    }

    /// The next argument if there is one.
    pub(crate) fn optional(&mut self) -> Option<Value> {
        self.values.next()
    }

    /// The next argument: a map, or `None` for `null` or none.
    pub(crate) fn map(&mut self, what: &str) -> Result<Option<Value>, RequestError> {
        match self.values.next() {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Map(_)) => Ok(Some(v)),
            Some(v) => Err(self.error(format_args!("the {what} is not a map: {v}"))),
        }
    }

    /// The next argument: a list of names, or `None` for `null` or none.
    pub(crate) fn names(&mut self, what: &str) -> Result<Option<Vec<String>>, RequestError> {
        match self.values.next() {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.iter().filter_map(key_string).collect())),
            Some(v) => Err(self.error(format_args!("the {what} is not a list: {v}"))),
        }
    }

    /// Every argument left.
    pub(crate) fn rest(self) -> Vec<Value> {
        self.values.collect()
    }
}

impl Request {
    /// Parses a node-port packet without its empty port name: `[tag, args...]`.
    pub fn parse(packet: Vec<Value>) -> Result<Request, RequestError> {
        let mut values = packet.into_iter();
        let tag = match values.next() {
            None | Some(Value::Null) => return Ok(Request::Devnull),
            Some(Value::Str(s)) => s,
            Some(other) => {
                return Err(RequestError {
                    tag: other.to_string(),
                    problem: "the tag is not a string".into(),
                })
            }
        };
        let Some(kind) = RequestKind::from_tag(&tag) else {
            if tag.is_empty() {
                return Ok(Request::Devnull);
            }
            if tag.starts_with("g_") {
                return Err(RequestError {
                    tag: tag.to_string(),
                    problem: "not a request of the global protocol".into(),
                });
            }
            return Ok(Request::Call {
                func: tag.to_string(),
                args: values.collect(),
            });
        };
        let mut args = Args {
            tag: kind.tag(),
            values,
        };
        Ok(match kind {
            RequestKind::Devnull => Request::Devnull,
            RequestKind::Monitor => Request::Monitor {
                port: args.name("port")?,
            },
            RequestKind::Unmonitor => Request::Unmonitor {
                port: args.name("port")?,
            },
            RequestKind::PortDied => Request::PortDied {
                port: args.name("port")?,
                reason: args.rest(),
            },
            RequestKind::Kill => Request::Kill {
                port: args.name("port")?,
                reason: args.rest(),
            },
            RequestKind::Send => Request::Send {
                port: args.name("port")?,
                msg: args.rest(),
            },
            RequestKind::Can => Request::Can {
                request: args.name("request").unwrap_or_default(),
                reply: args.rest(),
            },
            RequestKind::Time => Request::Time { reply: args.rest() },
            RequestKind::Eval => Request::Eval {
                code: args.name("code")?,
                reply: args.rest(),
            },
            RequestKind::Spawn => Request::Spawn {
                port: args.name("port")?,
                func: args.name("function")?,
                args: args.rest(),
            },
            _ => Request::Global(GlobalRequest::parse(kind, args)?),
        })
    }

    /// The packet for this request, port name included: `["", tag, args...]`.
    pub fn into_packet(self) -> Vec<Value> {
        let (tag, args): (&str, Vec<Value>) = match self {
            Request::Devnull => (RequestKind::Devnull.tag(), Vec::new()),
            Request::Monitor { port } => (RequestKind::Monitor.tag(), vec![port.into()]),
            Request::Unmonitor { port } => (RequestKind::Unmonitor.tag(), vec![port.into()]),
            Request::PortDied { port, reason } => {
                (RequestKind::PortDied.tag(), with(port.into(), reason))
            }
            Request::Kill { port, reason } => (RequestKind::Kill.tag(), with(port.into(), reason)),
            Request::Send { port, msg } => (RequestKind::Send.tag(), with(port.into(), msg)),
            Request::Can { request, reply } => {
                (RequestKind::Can.tag(), with(request.into(), reply))
            }
            Request::Time { reply } => (RequestKind::Time.tag(), reply),
            Request::Eval { code, reply } => (RequestKind::Eval.tag(), with(code.into(), reply)),
            Request::Spawn { port, func, args } => {
                let mut all = vec![port.into(), func.into()];
                all.extend(args);
                (RequestKind::Spawn.tag(), all)
            }
            Request::Global(g) => g.into_tag_and_args(),
            Request::Call { func, args } => {
                let mut packet = vec![Value::from(""), Value::from(func)];
                packet.extend(args);
                return packet;
            }
        };
        let mut packet = Vec::with_capacity(args.len() + 2);
        packet.push(Value::from(""));
        packet.push(Value::from(tag));
        packet.extend(args);
        packet
    }

    /// Whether a node answers `can` with yes for `tag` (what the original answers: the
    /// requests of its node port, the empty tag included, not function names).
    ///
    /// ```
    /// # use aemp_proto::protocol::Request;
    /// assert!(Request::understood("mon1") && Request::understood(""));
    /// assert!(!Request::understood("AnyEvent::MP::_spawn"));
    /// ```
    pub fn understood(tag: &str) -> bool {
        tag.is_empty() || RequestKind::from_tag(tag).is_some_and(|k| k != RequestKind::Spawn)
    }
}

fn with(first: Value, rest: Vec<Value>) -> Vec<Value> {
    let mut all = Vec::with_capacity(rest.len() + 1);
    all.push(first);
    all.extend(rest);
    all
}
