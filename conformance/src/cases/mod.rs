//! The conformance cases. Every case holds for the original Perl AnyEvent::MP 2.x; where the
//! original differs from the written spec, the case follows the original and says so.

use std::time::Duration;

use serde::Serialize;

use crate::client::Peer;
use crate::ctx::Ctx;
use crate::outcome::{CaseResult, Failure};
use crate::packet;
use crate::values::{map, same_packet, show};
use aemp_proto::protocol::Request;
use aemp_proto::Value;

pub mod global;
pub mod handshake;
pub mod node;
pub mod ordering;

/// Which part of the protocol a case checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Greeting, authentication and framing negotiation.
    Handshake,
    /// Requests to the node port.
    Node,
    /// Ordering of many relayed messages.
    Ordering,
    /// The global (directory and database) protocol; needs a seed node.
    Global,
}

/// One conformance case.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The case's name (printed, and matched by `--only`).
    pub name: &'static str,
    /// Its group.
    pub group: Group,
    /// How long it may take before the runner gives up on it.
    pub timeout: Duration,
    /// The check itself.
    pub run: fn(&Ctx) -> CaseResult,
}

/// The timeout of an ordinary case.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(12);

impl Case {
    /// A case with the ordinary timeout.
    pub const fn new(name: &'static str, group: Group, run: fn(&Ctx) -> CaseResult) -> Case {
        Case {
            name,
            group,
            timeout: CASE_TIMEOUT,
            run,
        }
    }
}

/// Every case, in the order they run.
///
/// ```
/// let cases = aemp_conformance::cases::all();
/// assert!(cases.len() >= 30);
/// let mut names: Vec<_> = cases.iter().map(|c| c.name).collect();
/// names.sort();
/// names.dedup();
/// assert_eq!(names.len(), cases.len());
/// ```
pub fn all() -> Vec<Case> {
    [
        handshake::cases(),
        node::cases(),
        global::cases(),
        ordering::cases(),
    ]
    .concat()
}

/// A packet with strings, integers, a float, null, a map, nested arrays and non-ASCII text:
/// what every framing must carry unchanged through the target's `snd` relay.
fn sample_message() -> Vec<Value> {
    vec![
        Value::from("text"),
        Value::Int(42),
        Value::Int(-7),
        Value::Float(2.5),
        Value::Null,
        map([("k", packet!["v", 1].into())]),
        packet![1, Value::from(packet![2])].into(),
        Value::from("\u{263a} unicode"),
        Value::from(""),
    ]
}

/// Relays [`sample_message`] through the target's `snd` back to us and checks it arrives
/// unchanged, then asks for the time: both directions of the framing in use work.
fn relay_round_trip(peer: &mut Peer) -> CaseResult {
    let (name, id) = peer.new_port();
    let request = Request::Send {
        port: id,
        msg: sample_message(),
    };
    peer.send(request.into_packet())?;
    let mut expected = packet![name.as_str()];
    expected.extend(sample_message());
    let what = format!("{} relayed back", show(&expected));
    let got = peer.reply(&name, &what)?;
    if !same_packet(&expected, &got) {
        return Err(Failure::expected(what, show(&got)));
    }
    peer.time().map(drop)
}
