//! Building, showing and comparing packets.

use aemp_proto::Value;

/// Builds a packet (a `Vec<Value>`) from anything `Value` converts from.
///
/// ```
/// use aemp_conformance::packet;
/// use aemp_proto::Value;
/// assert_eq!(packet!["", "time", 3], vec![Value::from(""), Value::from("time"), Value::Int(3)]);
/// ```
#[macro_export]
macro_rules! packet {
    ($($v:expr),* $(,)?) => {
        vec![$(::aemp_proto::Value::from($v)),*]
    };
}

/// A map value from string keys.
///
/// ```
/// # use aemp_conformance::values::map;
/// # use aemp_proto::Value;
/// assert_eq!(map([("k", Value::Int(1))]).get("k"), Some(&Value::Int(1)));
/// ```
pub fn map<'a>(entries: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// A packet as JSON-like text, for messages.
///
/// ```
/// # use aemp_conformance::{packet, values::show};
/// assert_eq!(show(&packet!["p", 1, "x"]), r#"["p",1,"x"]"#);
/// ```
pub fn show(packet: &[Value]) -> String {
    let items: Vec<String> = packet.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(","))
}

/// Several packets as text, at most `limit` of them.
///
/// ```
/// # use aemp_conformance::{packet, values::show_all};
/// assert_eq!(show_all(&[packet!["a"], packet!["b"], packet!["c"]], 2), r#"["a"] ["b"] (+1 more)"#);
/// ```
pub fn show_all(packets: &[Vec<Value>], limit: usize) -> String {
    let mut text: Vec<String> = packets.iter().take(limit).map(|p| show(p)).collect();
    if packets.len() > limit {
        text.push(format!("(+{} more)", packets.len() - limit));
    }
    text.join(" ")
}

/// Whether `got` is what `expected` describes, as a Perl peer would see it: numbers compare
/// by value whatever their encoding (integer, float or numeric string, which the Perl
/// encoders produce interchangeably), strings must be strings with the same text, maps
/// compare regardless of key order.
///
/// ```
/// # use aemp_conformance::values::same;
/// # use aemp_proto::Value;
/// assert!(same(&Value::Int(2), &Value::Float(2.0)));
/// assert!(same(&Value::Int(2), &Value::from("2")));
/// assert!(!same(&Value::from("1"), &Value::Int(1)));
/// ```
pub fn same(expected: &Value, got: &Value) -> bool {
    match expected {
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => {
            expected.as_f64().is_some() && expected.as_f64() == got.as_f64()
        }
        Value::Array(items) => got.as_array().is_some_and(|g| same_packet(items, g)),
        Value::Map(entries) => got.as_map().is_some_and(|g| {
            g.len() == entries.len()
                && entries.iter().all(|(k, v)| {
                    g.iter()
                        .find(|(gk, _)| gk == k)
                        .is_some_and(|(_, gv)| same(v, gv))
                })
        }),
        other => other == got,
    }
}

/// [`same`] for whole packets (element by element).
///
/// ```
/// # use aemp_conformance::{packet, values::same_packet};
/// assert!(same_packet(&packet!["p", 1], &packet!["p", 1.0]));
/// assert!(!same_packet(&packet!["p", 1], &packet!["p"]));
/// ```
pub fn same_packet(expected: &[Value], got: &[Value]) -> bool {
    expected.len() == got.len() && expected.iter().zip(got).all(|(e, g)| same(e, g))
}

/// Whether the packets hold the same values in any order (for key and value lists).
///
/// ```
/// # use aemp_conformance::{packet, values::same_unordered};
/// assert!(same_unordered(&packet!["a", "b"], &packet!["b", "a"]));
/// assert!(!same_unordered(&packet!["a", "a"], &packet!["a", "b"]));
/// ```
pub fn same_unordered(expected: &[Value], got: &[Value]) -> bool {
    let mut left: Vec<&Value> = got.iter().collect();
    expected.len() == got.len()
        && expected
            .iter()
            .all(|e| match left.iter().position(|g| same(e, g)) {
                Some(i) => {
                    left.swap_remove(i);
                    true
                }
                None => false,
            })
}

/// The string at `index` of a packet, if it is one.
///
/// ```
/// # use aemp_conformance::{packet, values::str_at};
/// assert_eq!(str_at(&packet!["", "g_found"], 1), Some("g_found"));
/// assert_eq!(str_at(&packet![1], 0), None);
/// ```
pub fn str_at(packet: &[Value], index: usize) -> Option<&str> {
    packet.get(index).and_then(Value::as_str)
}

/// Whether a packet is a node-port request `["", tag, ...]` with this tag.
///
/// ```
/// # use aemp_conformance::{packet, values::is_request};
/// assert!(is_request(&packet!["", "g_global"], "g_global"));
/// assert!(!is_request(&packet!["p", "g_global"], "g_global"));
/// ```
pub fn is_request(packet: &[Value], tag: &str) -> bool {
    str_at(packet, 0) == Some("") && str_at(packet, 1) == Some(tag)
}
