//! Two connections handshake with each other in memory, for every auth method and every
//! combination of framings, then exchange packets both ways.

mod common;

use std::time::Duration;

use aemp_proto::conn::Channel;
use aemp_proto::{
    ConnConfig, ConnError, ConnEvent, Encoded, Framing, HandshakeError, TlsRole, Value,
};
use common::{closed, config, with_fake_tls, Pair};

/// How one side is set up for a given method.
fn method_config(node: &str, method: &str) -> ConnConfig {
    let mut cfg = config(node);
    match method {
        "hmac_sha3_512" => {}
        "cleartext" => cfg.auth_offer = vec!["cleartext".into()],
        "tls_sha3_512" => {
            cfg.secret = None;
            cfg = with_fake_tls(cfg);
        }
        "tls_anon" => {
            cfg = with_fake_tls(cfg);
            cfg.auth_offer = vec!["tls_anon".into()];
        }
        other => panic!("no setup for {other}"),
    }
    cfg
}

/// `preferred` first, then the others: the remote sends in `preferred`.
fn framings_preferring(preferred: Framing) -> Vec<Framing> {
    let mut list = vec![preferred];
    list.extend(Framing::ALL.into_iter().filter(|f| *f != preferred));
    list
}

fn packets() -> Vec<Vec<Value>> {
    vec![
        vec![Value::from("port1"), Value::from("msg"), Value::Int(-7)],
        vec![],
        vec![
            Value::from(""),
            Value::from("mon1"),
            Value::Array(vec![Value::Float(1.5), Value::Null, Value::Bool(true)]),
            Value::Map(vec![(Value::from("k"), Value::from("v"))]),
        ],
    ]
}

fn received(events: &[ConnEvent]) -> Vec<Vec<Value>> {
    events
        .iter()
        .filter_map(|e| match e {
            ConnEvent::Packet(p) => Some(p.clone().into_values()),
            _ => None,
        })
        .collect()
}

fn authenticated(events: &[ConnEvent]) -> (Framing, Framing, String) {
    events
        .iter()
        .find_map(|e| match e {
            ConnEvent::Authenticated {
                send_framing,
                recv_framing,
                method,
            } => Some((*send_framing, *recv_framing, method.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not authenticated: {events:?}"))
}

#[test]
fn every_method_and_framing_combination_handshakes_and_exchanges_packets() {
    for method in ["hmac_sha3_512", "cleartext", "tls_sha3_512", "tls_anon"] {
        for a_sends in Framing::ALL {
            for b_sends in Framing::ALL {
                let what = format!("{method}, a sends {a_sends:?}, b sends {b_sends:?}");
                let mut a = method_config("a", method);
                let mut b = method_config("b", method);
                // Each side sends in the first framing of the other's list.
                a.framings = framings_preferring(b_sends);
                b.framings = framings_preferring(a_sends);
                let mut pair = Pair::new(a, b);
                pair.a.send(&packets()[0]); // held until authenticated
                pair.run();
                assert!(pair.a.is_authenticated(), "{what}: {:?}", pair.a_events);
                assert!(pair.b.is_authenticated(), "{what}: {:?}", pair.b_events);
                assert_eq!(pair.a.remote_node_id(), Some("b"));
                assert_eq!(pair.b.remote_node_id(), Some("a"));
                assert_eq!(
                    authenticated(&pair.a_events),
                    (a_sends, b_sends, method.to_string()),
                    "{what}"
                );
                assert_eq!(
                    authenticated(&pair.b_events),
                    (b_sends, a_sends, method.to_string()),
                    "{what}"
                );
                assert_eq!(pair.a.poll_timeout(), None);

                for p in &packets()[1..] {
                    pair.a.send(p);
                }
                for p in packets().iter().rev() {
                    pair.b.send(p);
                }
                pair.run();
                assert_eq!(received(&pair.b_events), packets(), "{what}");
                let mut reversed = packets();
                reversed.reverse();
                assert_eq!(received(&pair.a_events), reversed, "{what}");
                assert_eq!(closed(&pair.a_events), None, "{what} {:?}", pair.a_events);
                assert_eq!(closed(&pair.b_events), None, "{what}");

                // Messages framed outside the connection, in the framing it sends in (as a
                // node's outboxes do), arrive as the same packets.
                let framing = pair.a.send_framing();
                assert_eq!(framing, Some(a_sends), "{what}");
                let mut bytes = Vec::new();
                let mut scratch = Vec::new();
                let msg = ("msg", -7, [1.5], "text");
                let encoded = Encoded::serialize(&msg, &mut scratch).unwrap();
                for port in ["port1", ""] {
                    a_sends.encode_encoded(port, &encoded, &mut bytes);
                }
                // Between packets the connection frames itself: the order holds.
                pair.a.send(&packets()[0]);
                let pending = pair.a.pending_bytes();
                let framed = bytes.len();
                pair.a.send_framed(&mut bytes, 2);
                assert!(bytes.is_empty(), "{what}: the bytes are taken");
                assert_eq!(pair.a.pending_bytes(), pending + framed, "{what}");
                pair.a.send(&packets()[2]);
                pair.b_events.clear();
                pair.run();
                let values = aemp_proto::to_values(&msg).unwrap();
                let mut expected = vec![packets()[0].clone()];
                expected.extend(
                    ["port1", ""]
                        .into_iter()
                        .map(|port| [vec![Value::from(port)], values.clone()].concat()),
                );
                expected.push(packets()[2].clone());
                assert_eq!(received(&pair.b_events), expected, "{what}");
            }
        }
    }
}

#[test]
fn events_come_in_protocol_order() {
    let mut pair = Pair::new(config("a"), config("b"));
    pair.run();
    assert!(
        matches!(&pair.a_events[0], ConnEvent::Greeted { node_id, kv }
        if node_id == "b" && kv.iter().any(|(k, v)| k == "mproto" && v == "1"))
    );
    assert!(
        matches!(&pair.a_events[1], ConnEvent::Authenticated { method, .. } if method == "hmac_sha3_512")
    );
    assert_eq!(pair.a_events.len(), 2);
}

#[test]
fn tls_roles_follow_the_nonce_order() {
    let a = with_fake_tls(config("a"));
    let b = with_fake_tls(config("b"));
    let mut pair = Pair::new(a, b);
    pair.run();
    let role = |events: &[ConnEvent]| {
        events.iter().find_map(|e| match e {
            ConnEvent::TlsStarted { role } => Some(*role),
            _ => None,
        })
    };
    // a's nonce is 0x11..., b's 0x22...: a's base64 ("EREs...") sorts lower than b's ("IiIi...").
    assert_eq!(role(&pair.a_events), Some(TlsRole::Client));
    assert_eq!(role(&pair.b_events), Some(TlsRole::Server));
    // With TLS and a secret, tls_sha3_512 is preferred (first in the accept list).
    assert_eq!(authenticated(&pair.a_events).2, "tls_sha3_512");
}

#[test]
fn tls_wanted_by_one_side_only_falls_back_to_hmac() {
    let a = with_fake_tls(config("a"));
    let mut pair = Pair::new(a, config("b"));
    pair.run();
    assert!(!pair
        .a_events
        .iter()
        .any(|e| matches!(e, ConnEvent::TlsStarted { .. })));
    assert_eq!(authenticated(&pair.a_events).2, "hmac_sha3_512");
    assert_eq!(authenticated(&pair.b_events).2, "hmac_sha3_512");
}

#[test]
fn byte_at_a_time_delivery_handshakes_too() {
    let mut pair = Pair::new(config("a"), config("b"));
    pair.a.send(&[Value::from("p"), Value::Int(1)]);
    loop {
        let (mut a_to_b, mut b_to_a) = (Vec::new(), Vec::new());
        let moved = pair.a.poll_transmit(&mut a_to_b) | pair.b.poll_transmit(&mut b_to_a);
        if !moved {
            break;
        }
        for byte in a_to_b {
            pair.b.handle_input(&[byte]);
        }
        for byte in b_to_a {
            pair.a.handle_input(&[byte]);
        }
    }
    let mut events = Vec::new();
    while let Some(e) = pair.b.poll_event() {
        events.push(e);
    }
    assert!(pair.a.is_authenticated() && pair.b.is_authenticated());
    assert_eq!(
        received(&events),
        vec![vec![Value::from("p"), Value::Int(1)]]
    );
}

#[test]
fn close_after_greeted_discards_the_queued_auth_line() {
    let mut pair = Pair::new(config("a"), config("b"));
    let mut greeting = Vec::new();
    pair.a.poll_transmit(&mut greeting);
    pair.b.handle_input(&greeting);
    assert!(matches!(
        pair.b.poll_event(),
        Some(ConnEvent::Greeted { .. })
    ));
    pair.b.close(aemp_proto::ConnError::AlreadyConnected);
    assert!(!pair.b.poll_transmit(&mut Vec::new()));
    assert_eq!(
        pair.b.poll_event(),
        Some(ConnEvent::Closed(aemp_proto::ConnError::AlreadyConnected))
    );
    assert_eq!(pair.b.poll_event(), None);
    pair.b.send(&[Value::from("dropped")]);
    pair.b.handle_input(b"more");
    assert!(!pair.b.poll_transmit(&mut Vec::new()));
    assert_eq!(pair.b.poll_event(), None);
}

#[test]
fn no_timeout_once_authenticated() {
    let mut pair = Pair::new(config("a"), config("b"));
    pair.run();
    pair.a.handle_timeout(pair.at(Duration::from_secs(3600)));
    assert!(!pair.a.is_closed());
}

#[test]
fn refusing_after_greeted_voids_an_unseen_authentication() {
    let mut pair = Pair::new(config("a"), config("b"));
    let mut a_out = Vec::new();
    pair.a.poll_transmit(&mut a_out);
    pair.b.handle_input(&a_out);
    let mut b_out = Vec::new();
    pair.b.poll_transmit(&mut b_out);
    pair.a.handle_input(&b_out); // b's greeting and auth line in one read
    pair.a.poll_transmit(&mut Vec::new());
    assert!(matches!(
        pair.a.poll_event(),
        Some(ConnEvent::Greeted { .. })
    ));
    assert!(pair.a.is_authenticated());
    pair.a.close(aemp_proto::ConnError::AlreadyConnected);
    assert!(!pair.a.is_authenticated());
    assert_eq!(
        pair.a.poll_event(),
        Some(ConnEvent::Closed(aemp_proto::ConnError::AlreadyConnected))
    );
}

/// Two connections on an encrypted stream (QUIC) with these bindings; with `certificates`
/// both have one (and announce it), and the transport verified each peer if `verified`.
fn on_encrypted_stream(bindings: [&[u8]; 2], certificates: bool, verified: bool) -> Pair {
    let setup = |node| match certificates {
        true => with_fake_tls(config(node)),
        false => config(node),
    };
    let mut pair = Pair::new(setup("a"), setup("b"));
    for (conn, binding) in [(&mut pair.a, bindings[0]), (&mut pair.b, bindings[1])] {
        conn.set_channel(Channel::Encrypted {
            binding: binding.to_vec(),
            peer_verified: verified,
        });
    }
    pair.run();
    pair
}

#[test]
fn an_encrypted_stream_binds_the_secret_auth_to_the_session() {
    let pair = on_encrypted_stream([b"exporter value", b"exporter value"], false, false);
    assert!(pair.a.is_authenticated() && pair.b.is_authenticated());
    // The transport verified nobody: only the secret authenticates.
    assert_eq!(authenticated(&pair.a_events).2, "hmac_sha3_512");

    // A relay that splices two sessions: each side derived another binding.
    let pair = on_encrypted_stream([b"session one", b"session two"], false, false);
    let failure = ConnError::Handshake(HandshakeError::AuthFailure);
    assert_eq!(closed(&pair.a_events), Some(&failure));
    assert_eq!(closed(&pair.b_events), Some(&failure));
}

#[test]
fn a_transport_that_verified_the_certificates_allows_the_tls_methods_without_tls_inside() {
    let pair = on_encrypted_stream([b"exporter value", b"exporter value"], true, true);
    assert_eq!(authenticated(&pair.a_events).2, "tls_sha3_512");
    assert!(!pair
        .b_events
        .iter()
        .any(|e| matches!(e, ConnEvent::TlsStarted { .. })));
}

#[test]
fn two_certificates_on_an_encrypted_stream_need_the_peer_verified() {
    let pair = on_encrypted_stream([b"exporter value", b"exporter value"], true, false);
    let refused = ConnError::Handshake(HandshakeError::PeerNotVerified);
    assert_eq!(closed(&pair.a_events), Some(&refused));
    assert_eq!(closed(&pair.b_events), Some(&refused));
}
