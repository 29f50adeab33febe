//! The reference captures of real Perl nodes (`tests/vectors/captures/*.json`) as
//! timelines of packets, and the tools to compare what a Rust core sends with what the
//! Perl node sent in its place.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs;

use aemp_proto::{Framing, Value};

#[path = "package.rs"]
mod package;
pub use package::vectors_dir;

/// The names (without `.json`) of every capture, sorted.
pub fn capture_names() -> Vec<String> {
    let dir = vectors_dir().join("captures");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no captures in {}", dir.display());
    names
}

/// The capture `name` (without `.json`) as it is recorded, parsed into our own `Value`: its
/// `Deserialize` keeps map entries in file order.
pub fn capture_json(name: &str) -> Value {
    let path = vectors_dir().join("captures").join(format!("{name}.json"));
    let text = fs::read_to_string(&path).expect("read capture");
    serde_json::from_str(&text).expect("capture is JSON")
}

/// One packet as recorded, with the time (seconds since the capture's start) at which the
/// relay had read its last byte.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub t: f64,
    pub packet: Vec<Value>,
}

/// One direction of one connection.
#[derive(Clone, Debug, Default)]
pub struct Direction {
    pub framing: Option<Framing>,
    pub messages: Vec<Recorded>,
    /// When this direction's sender closed its side.
    pub eof: Option<f64>,
}

/// One connection through the relay.
#[derive(Clone, Debug)]
pub struct Conn {
    pub id: String,
    pub client: Option<String>,
    pub server: Option<String>,
    pub open: Option<f64>,
    /// Both sides authenticated with the shared secret: the data phase ran.
    pub authenticated: bool,
    pub c2s: Direction,
    pub s2c: Direction,
}

impl Conn {
    /// The other end, seen from `node`, if `node` is an end of this connection.
    pub fn other(&self, node: &str) -> Option<&str> {
        match (self.client.as_deref(), self.server.as_deref()) {
            (Some(c), Some(s)) if c == node && s != node => Some(s),
            (Some(c), Some(s)) if s == node && c != node => Some(c),
            _ => None,
        }
    }

    /// The direction in which `from` sends.
    pub fn from(&self, from: &str) -> &Direction {
        if self.client.as_deref() == Some(from) {
            &self.c2s
        } else {
            &self.s2c
        }
    }
}

/// A whole capture.
#[derive(Clone, Debug)]
pub struct Capture {
    pub name: String,
    pub conns: Vec<Conn>,
}

/// What happened, seen from one node.
#[derive(Clone, Debug)]
pub enum Step {
    /// The connection `conn` to `peer` opened; `inbound` when `peer` dialled.
    Open {
        conn: usize,
        peer: String,
        inbound: bool,
    },
    /// `peer` sent `packet` on `conn`.
    Packet {
        conn: usize,
        peer: String,
        packet: Vec<Value>,
    },
    /// `peer` closed `conn` (or died).
    End { conn: usize, peer: String },
}

/// A step and its time.
#[derive(Clone, Debug)]
pub struct Timed {
    pub t: f64,
    pub step: Step,
}

/// The bytes written as `hex` (two digits a byte).
pub fn hex_decode(hex: &str) -> Vec<u8> {
    assert_eq!(hex.len() % 2, 0, "odd hex length");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// A recorded message value as the wire value: strings are strings (byte strings valid as
/// UTF-8 were recorded as strings), `{"$hex": ".."}` is a byte string.
pub fn from_recorded(v: &Value) -> Value {
    match v {
        Value::Map(entries) => match entries.as_slice() {
            [(Value::Str(k), Value::Str(hex))] if k == "$hex" => Value::Bytes(hex_decode(hex)),
            _ => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (from_recorded(k), from_recorded(v)))
                    .collect(),
            ),
        },
        Value::Array(items) => Value::Array(items.iter().map(from_recorded).collect()),
        other => other.clone(),
    }
}

/// The field `key` of a capture object; panics if it is missing.
pub fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("capture field {key:?} missing"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_owned)
}

impl Capture {
    /// Loads the capture whose name starts with `prefix` (e.g. `"02-"`).
    pub fn load(prefix: &str) -> Capture {
        let name = capture_names()
            .into_iter()
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no capture named {prefix}*"));
        let json = capture_json(&name);
        let conns = get(&json, "connections")
            .as_array()
            .expect("connections")
            .iter()
            .map(load_conn)
            .collect();
        Capture { name, conns }
    }

    /// Every packet `from` sent to `to`, on authenticated connections, in order.
    pub fn sent(&self, from: &str, to: &str) -> Vec<Vec<Value>> {
        self.conns
            .iter()
            .filter(|c| c.authenticated && c.other(from) == Some(to))
            .flat_map(|c| c.from(from).messages.iter().map(|m| m.packet.clone()))
            .collect()
    }

    /// Whether `node` took part in an authenticated connection.
    pub fn has_node(&self, node: &str) -> bool {
        self.conns
            .iter()
            .any(|c| c.authenticated && c.other(node).is_some())
    }

    /// Everything that happened to `node`, in time order: connections opening, packets
    /// arriving from its peers, peers closing.
    pub fn timeline(&self, node: &str) -> Vec<Timed> {
        let mut steps = Vec::new();
        for (i, c) in self.conns.iter().enumerate() {
            if !c.authenticated {
                continue;
            }
            let Some(peer) = c.other(node) else {
                continue;
            };
            let inbound = c.client.as_deref() == Some(peer);
            steps.push(Timed {
                t: c.open.unwrap_or(0.0),
                step: Step::Open {
                    conn: i,
                    peer: peer.to_owned(),
                    inbound,
                },
            });
            let dir = c.from(peer);
            for m in &dir.messages {
                steps.push(Timed {
                    t: m.t,
                    step: Step::Packet {
                        conn: i,
                        peer: peer.to_owned(),
                        packet: m.packet.clone(),
                    },
                });
            }
            if let Some(t) = dir.eof {
                steps.push(Timed {
                    t,
                    step: Step::End {
                        conn: i,
                        peer: peer.to_owned(),
                    },
                });
            }
        }
        // Stable: a connection's own steps keep their order on equal times.
        steps.sort_by(|a, b| a.t.total_cmp(&b.t));
        steps
    }
}

fn load_direction(conn: &Value, name: &str) -> (Direction, bool) {
    let d = get(conn, name);
    let Some(offset) = d.get("data_offset").and_then(Value::as_i64) else {
        return (Direction::default(), false);
    };
    let check = text(d.get("auth_check")).unwrap_or_default();
    let authenticated = !check.contains("does not match");
    let offset = usize::try_from(offset).expect("offset");
    // Running byte counts of this direction's reads, with their times.
    let mut reads = Vec::new();
    let mut total = 0usize;
    for c in get(conn, "chunks").as_array().expect("chunks") {
        if get(c, "dir").as_str() == Some(name) {
            total += usize::try_from(get(c, "len").as_i64().expect("len")).expect("len");
            reads.push((total, num(get(c, "t"))));
        }
    }
    let mut messages = Vec::new();
    for m in get(d, "messages").as_array().expect("messages") {
        if m.get("error").is_some() {
            continue;
        }
        let end = offset
            + usize::try_from(get(m, "offset").as_i64().unwrap()).unwrap()
            + usize::try_from(get(m, "len").as_i64().unwrap()).unwrap();
        let t = reads
            .iter()
            .find(|(upto, _)| *upto >= end)
            .map(|(_, t)| *t)
            .expect("a read covers every recorded message");
        let Value::Array(packet) = from_recorded(get(m, "msg")) else {
            panic!("recorded msg is not an array");
        };
        messages.push(Recorded { t, packet });
    }
    let eof = get(conn, "events")
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| {
            let ev = get(e, "event").as_str();
            (ev == Some("eof") || ev == Some("error"))
                && e.get("dir").and_then(Value::as_str) == Some(name)
                || ev == Some("close")
        })
        .map(|e| num(get(e, "t")))
        .reduce(f64::min);
    let framing = text(d.get("framing")).and_then(|f| Framing::from_name(&f));
    (
        Direction {
            framing,
            messages,
            eof,
        },
        authenticated,
    )
}

fn load_conn(conn: &Value) -> Conn {
    let (c2s, a) = load_direction(conn, "c2s");
    let (s2c, b) = load_direction(conn, "s2c");
    let open = get(conn, "events")
        .as_array()
        .expect("events")
        .iter()
        .find(|e| get(e, "event").as_str() == Some("open"))
        .map(|e| num(get(e, "t")));
    let id = match get(conn, "id") {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    };
    Conn {
        id,
        client: text(conn.get("client_node")),
        server: text(conn.get("server_node")),
        open,
        authenticated: a && b,
        c2s,
        s2c,
    }
}

// -----------------------------------------------------------------------------------------
// Comparing packets

/// A two-way mapping between the port names of the Perl node (random per run) and those
/// of the Rust core that stands in for it.
#[derive(Clone, Debug, Default)]
pub struct PortMap {
    perl_to_rust: HashMap<String, String>,
    rust_to_perl: HashMap<String, String>,
}

impl PortMap {
    pub fn add(&mut self, perl: &str, rust: &str) {
        self.perl_to_rust.insert(perl.to_owned(), rust.to_owned());
        self.rust_to_perl.insert(rust.to_owned(), perl.to_owned());
    }

    /// A packet of a Perl peer, with the Perl node's port names replaced by the core's.
    pub fn to_rust(&self, packet: &[Value]) -> Vec<Value> {
        packet
            .iter()
            .map(|v| rename(v, &self.perl_to_rust))
            .collect()
    }

    /// A packet of the core, with its port names replaced by the Perl node's.
    pub fn to_perl(&self, packet: &[Value]) -> Vec<Value> {
        packet
            .iter()
            .map(|v| rename(v, &self.rust_to_perl))
            .collect()
    }
}

/// Replaces port names (`NAME`, or the name part of `NODE#NAME`) found in `names`.
fn rename(v: &Value, names: &HashMap<String, String>) -> Value {
    match v {
        Value::Str(s) => {
            if let Some(n) = names.get(s.as_str()) {
                return Value::from(n.as_str());
            }
            if let Some((node, name)) = s.rsplit_once('#') {
                if let Some(n) = names.get(name) {
                    return Value::from(format!("{node}#{n}"));
                }
            }
            v.clone()
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| rename(x, names)).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (rename(k, names), rename(x, names)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value in a form where equal meanings compare equal: byte strings that are UTF-8 as
/// strings (the Perl encoder sends most strings as CBOR byte strings), unsigned integers
/// as integers, and map entries sorted (Perl sends them in hash order).
pub fn canon(v: &Value) -> Value {
    match v {
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Value::from(s),
            Err(_) => v.clone(),
        },
        Value::UInt(u) => i64::try_from(*u).map_or(v.clone(), Value::Int),
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        Value::Map(m) => {
            let mut entries: Vec<(Value, Value)> =
                m.iter().map(|(k, x)| (canon(k), canon(x))).collect();
            entries.sort_by_key(|(k, _)| k.to_string());
            Value::Map(entries)
        }
        other => other.clone(),
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut a = a.clone();
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        other => other.clone(),
    }
}

/// A packet in canonical form; lists that are sets (the keys or values of a `g_reply`, the
/// deleted keys of `g_upd` and `g_chg2`) are sorted, as Perl sends them in hash order.
pub fn canon_packet(p: &[Value]) -> Vec<Value> {
    let mut p: Vec<Value> = p.iter().map(canon).collect();
    let tag = if p.first() == Some(&Value::from("")) {
        p.get(1).and_then(Value::as_str).unwrap_or("").to_owned()
    } else {
        String::new()
    };
    match tag.as_str() {
        "g_reply" if p.len() > 3 => p[3] = sorted(&p[3]),
        "g_upd" | "g_chg2" if p.len() > 4 => p[4] = sorted(&p[4]),
        _ => {}
    }
    p
}

/// Which packets must keep their relative order: those to one port, and node-port requests
/// with one tag and one first argument (e.g. all `kil0` for one port, all `g_upd` of one
/// family). Packets of different streams are unrelated.
pub fn stream_key(p: &[Value]) -> String {
    match p {
        [Value::Str(port), rest @ ..] if port.is_empty() => {
            let tag = rest.first().map(|v| v.to_string()).unwrap_or_default();
            let arg = match rest.get(1) {
                Some(v @ Value::Str(_)) => v.to_string(),
                _ => String::new(),
            };
            format!("node {tag} {arg}")
        }
        [port, ..] => format!("port {port}"),
        [] => "keepalive".into(),
    }
}

fn show(packets: &[Vec<Value>]) -> String {
    packets
        .iter()
        .map(|p| format!("    {}\n", Value::Array(p.clone())))
        .collect()
}

/// Asserts that `actual` and `expected` hold the same packets, in the same order within
/// each stream (see [`stream_key`]); the order between streams is free.
pub fn assert_same_packets(label: &str, actual: &[Vec<Value>], expected: &[Vec<Value>]) {
    let actual: Vec<Vec<Value>> = actual.iter().map(|p| canon_packet(p)).collect();
    let expected: Vec<Vec<Value>> = expected.iter().map(|p| canon_packet(p)).collect();
    let group = |ps: &[Vec<Value>]| {
        let mut g: BTreeMap<String, Vec<Vec<Value>>> = BTreeMap::new();
        for p in ps {
            g.entry(stream_key(p)).or_default().push(p.clone());
        }
        g
    };
    if group(&actual) != group(&expected) {
        panic!(
            "{label}: the Rust core's packets differ from the Perl node's\n  Rust:\n{}  Perl:\n{}",
            show(&actual),
            show(&expected)
        );
    }
}

/// Takes one `packet` (the last one, if Perl sent it more than once) out of the Perl
/// node's `expected` packets: a documented difference where Perl sends something the Rust
/// core legitimately does not. Panics if the capture does not hold it (the difference
/// would be stale).
pub fn perl_only(expected: &mut Vec<Vec<Value>>, packet: &[Value], why: &str) {
    let want = canon_packet(packet);
    let at = expected
        .iter()
        .rposition(|p| canon_packet(p) == want)
        .unwrap_or_else(|| {
            panic!(
                "documented difference ({why}) not in the capture: {}\n{}",
                Value::Array(packet.to_vec()),
                show(expected)
            )
        });
    expected.remove(at);
}

/// Like [`perl_only`], but removes every such packet and returns how many there were.
pub fn perl_only_all(expected: &mut Vec<Vec<Value>>, packet: &[Value]) -> usize {
    let want = canon_packet(packet);
    let before = expected.len();
    expected.retain(|p| canon_packet(p) != want);
    before - expected.len()
}

/// Replaces one packet of the Perl node's by what the Rust core sends instead (a documented
/// difference). Panics if the capture does not hold `perl`.
pub fn rust_differs(expected: &mut [Vec<Value>], perl: &[Value], rust: Vec<Value>, why: &str) {
    let want = canon_packet(perl);
    let slot = expected
        .iter_mut()
        .find(|p| canon_packet(p) == want)
        .unwrap_or_else(|| {
            panic!(
                "documented difference ({why}) not in the capture: {}",
                Value::Array(perl.to_vec())
            )
        });
    *slot = rust;
}
