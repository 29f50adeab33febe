//! Typed node-port requests: every kind round-trips through its packet, every node-port
//! packet the real Perl nodes sent in the captures parses (and encodes back to the same
//! packet), and malformed requests are refused with an error naming the request.

#[path = "common/capture.rs"]
mod capture;

use std::collections::{BTreeMap, BTreeSet};

use aemp_proto::node::DbQuery;
use aemp_proto::protocol::{GlobalRequest, Request, RequestKind};
use aemp_proto::Value;
use capture::{canon_packet, capture_names, Capture};

fn s(text: &str) -> Value {
    Value::from(text)
}

fn entries(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// One request of every kind.
fn one_of_each() -> Vec<Request> {
    let reason = vec![s("die"), s("oops")];
    let reply = vec![s("n#r"), s("tag")];
    vec![
        Request::Devnull,
        Request::Monitor { port: "p".into() },
        Request::Unmonitor { port: "p".into() },
        Request::PortDied {
            port: "p".into(),
            reason: reason.clone(),
        },
        Request::Kill {
            port: "p".into(),
            reason,
        },
        Request::Send {
            port: "n#p".into(),
            msg: vec![s("hi"), Value::Int(1)],
        },
        Request::Can {
            request: "mon1".into(),
            reply: reply.clone(),
        },
        Request::Time {
            reply: reply.clone(),
        },
        Request::Eval {
            code: "1".into(),
            reply,
        },
        Request::Spawn {
            port: "sp".into(),
            func: "My::init".into(),
            args: vec![Value::Int(3)],
        },
        Request::Global(GlobalRequest::Slave { db: None }),
        Request::Global(GlobalRequest::Global),
        Request::Global(GlobalRequest::SetDb {
            db: Value::Map(vec![(s("f"), Value::Map(vec![(s("k"), Value::Null)]))]),
        }),
        Request::Global(GlobalRequest::UpdateDb {
            family: "f".into(),
            set: Some(entries(&[("k", Value::Int(1))])),
            del: Some(vec!["gone".into()]),
        }),
        Request::Global(GlobalRequest::Find { node: "n".into() }),
        Request::Global(GlobalRequest::Found {
            node: "n".into(),
            addresses: Some(vec!["10.0.0.1:4040".into()]),
        }),
        Request::Global(GlobalRequest::Query {
            kind: DbQuery::Family,
            family: "f".into(),
            id: s("7"),
        }),
        Request::Global(GlobalRequest::Query {
            kind: DbQuery::Keys,
            family: "f".into(),
            id: s("8"),
        }),
        Request::Global(GlobalRequest::Query {
            kind: DbQuery::Values,
            family: "f".into(),
            id: s("9"),
        }),
        Request::Global(GlobalRequest::Reply {
            id: s("7"),
            result: Value::Array(vec![]),
        }),
        Request::Global(GlobalRequest::Watch { family: "f".into() }),
        Request::Global(GlobalRequest::Unwatch { family: "f".into() }),
        Request::Global(GlobalRequest::FamilyIs {
            family: "f".into(),
            entries: None,
        }),
        Request::Global(GlobalRequest::FamilyChanged {
            family: "f".into(),
            set: entries(&[("k", s("v"))]),
            del: vec!["old".into()],
        }),
        Request::Call {
            func: "My::func".into(),
            args: vec![Value::Int(1)],
        },
    ]
}

#[test]
fn every_kind_round_trips_through_its_packet() {
    let mut kinds = BTreeSet::new();
    for request in one_of_each() {
        let packet = request.clone().into_packet();
        assert_eq!(packet[0], s(""), "{request:?}: the node port");
        if let Some(Value::Str(tag)) = packet.get(1) {
            if let Some(kind) = RequestKind::from_tag(tag) {
                kinds.insert(kind.tag());
            }
        }
        assert_eq!(Request::parse(packet[1..].to_vec()), Ok(request.clone()));
    }
    let all: BTreeSet<&str> = RequestKind::ALL.iter().map(|k| k.tag()).collect();
    assert_eq!(kinds, all, "one example of every kind in the table");
}

#[test]
fn every_node_port_packet_of_the_perl_captures_parses_and_encodes_back() {
    let mut parsed = 0;
    for name in capture_names() {
        let capture = Capture::load(&name);
        for conn in capture.conns.iter().filter(|c| c.authenticated) {
            for dir in [&conn.c2s, &conn.s2c] {
                for m in &dir.messages {
                    if m.packet.first() != Some(&s("")) {
                        continue;
                    }
                    let request = Request::parse(m.packet[1..].to_vec())
                        .unwrap_or_else(|e| panic!("{name}: {:?}: {e}", m.packet));
                    parsed += 1;
                    // Perl sends an empty `g_upd` set as an empty map, and a node-port
                    // packet without a tag for its keepalive: both mean the same once
                    // parsed, and are sent the other way by us.
                    let canonical = !matches!(&request, Request::Devnull)
                        && !matches!(&request, Request::Global(GlobalRequest::UpdateDb { set: Some(s), .. }) if s.is_empty());
                    if canonical {
                        // Maps compared without their order (Perl's hashes have none).
                        let again = canon_packet(&request.into_packet());
                        assert_eq!(again, canon_packet(&m.packet), "{name}");
                    }
                }
            }
        }
    }
    assert!(
        parsed > 100,
        "the captures hold node-port requests: {parsed}"
    );
}

#[test]
fn malformed_requests_are_refused_with_what_is_wrong() {
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (
            vec![s("mon1")],
            "malformed mon1 request: the port is missing",
        ),
        (
            vec![s("mon1"), Value::Array(vec![])],
            "malformed mon1 request: the port is not a string",
        ),
        (
            vec![s("g_upd"), s("f"), s("not a map")],
            "malformed g_upd request: the set is not a map",
        ),
        (
            vec![s("g_upd"), s("f"), Value::Null, Value::Int(3)],
            "malformed g_upd request: the deleted keys is not a list",
        ),
        (
            vec![s("g_found"), s("n"), Value::Map(vec![])],
            "malformed g_found request: the addresses is not a list",
        ),
        (
            vec![s("g_find")],
            "malformed g_find request: the node is missing",
        ),
        (
            vec![s("g_nonsense")],
            "malformed g_nonsense request: not a request of the global protocol",
        ),
        (
            vec![Value::Int(5)],
            "malformed 5 request: the tag is not a string",
        ),
        (
            vec![s("AnyEvent::MP::_spawn"), s("port")],
            "malformed AnyEvent::MP::_spawn request: the function is missing",
        ),
    ];
    for (packet, expected) in cases {
        let err = Request::parse(packet.clone()).expect_err("refused");
        assert!(err.to_string().starts_with(expected), "{packet:?}: {err}");
    }
}
