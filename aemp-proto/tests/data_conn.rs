//! Data connections in memory: the side that opens one greets with `aemp-dataconn`, the
//! other switches to it, both authenticate as usual and then carry raw bytes.

mod common;

use std::sync::Arc;
use std::time::Instant;

use aemp_proto::{ConnConfig, ConnError, ConnEvent, Connection, HandshakeError};
use common::{closed, config, with_fake_tls, Pair};

const ID: &str = "b@opener";

/// `opener` opens data connection [`ID`] to `acceptor`.
fn data_pair(opener: ConnConfig, acceptor: ConnConfig) -> Pair {
    let mut pair = Pair::new(opener.clone(), acceptor);
    let start = pair.at(std::time::Duration::ZERO);
    pair.a = Connection::new_data(Arc::new(opener), ID, &[0x11; 66], start);
    pair
}

fn exchange_both_ways(pair: &mut Pair) {
    let to_b: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    assert!(pair.a.send_data(&to_b));
    assert!(pair.b.send_data(b"aemp;1;not a greeting\n"));
    pair.run();
    let mut got = vec![0; to_b.len() + 10];
    let n = pair.b.read_data(&mut got);
    assert_eq!(&got[..n], &to_b[..]);
    let n = pair.a.read_data(&mut got);
    assert_eq!(&got[..n], b"aemp;1;not a greeting\n");
    assert!(!pair.a.data_waiting() && !pair.b.data_waiting());
    let packets = pair
        .a_events
        .iter()
        .chain(&pair.b_events)
        .filter(|e| matches!(e, ConnEvent::Packet(_)))
        .count();
    assert_eq!(packets, 0, "raw bytes are never decoded as packets");
}

#[test]
fn with_a_secret_it_authenticates_then_carries_raw_bytes() {
    let mut pair = data_pair(config("opener"), config("acceptor"));
    pair.run();
    assert!(pair.a.is_authenticated() && pair.b.is_authenticated());
    assert!(pair.a.carries_data() && pair.b.carries_data());
    assert_eq!(pair.b.data_id(), Some(ID));
    assert_eq!(pair.a.data_id(), Some(ID));
    assert!(!pair.a.tls_running());
    exchange_both_ways(&mut pair);
}

#[test]
fn with_tls_the_raw_bytes_are_encrypted_and_the_end_is_clean() {
    let mut pair = data_pair(
        with_fake_tls(config("opener")),
        with_fake_tls(config("acceptor")),
    );
    pair.run();
    assert!(pair.a.tls_running() && pair.b.tls_running());
    assert!(pair.a.carries_data() && pair.b.carries_data());
    exchange_both_ways(&mut pair);
    assert!(pair.a.send_data(b"last words"));
    pair.a.end_data();
    pair.run();
    let mut got = [0; 32];
    let n = pair.b.read_data(&mut got);
    assert_eq!(&got[..n], b"last words");
    assert!(pair.b.data_ended(), "{:?}", pair.b_events);
    assert_eq!(closed(&pair.b_events), None, "a clean end is no failure");
    // Ending one side is a half close: the other still sends, and its bytes arrive.
    assert!(!pair.a.send_data(b"after the end"));
    assert!(pair.b.send_data(b"the answer"));
    pair.run();
    let n = pair.a.read_data(&mut got);
    assert_eq!(&got[..n], b"the answer");
}

#[test]
fn nothing_is_sent_as_data_before_authentication() {
    let now = Instant::now();
    let mut c = Connection::new_data(Arc::new(config("opener")), ID, &[1; 66], now);
    assert!(!c.send_data(b"early"));
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    assert!(!out.windows(5).any(|w| w == b"early"));
}

#[test]
fn the_originals_data_greeting_makes_a_data_connection() {
    // The first line a Perl 2.x node sends when it opens a data connection.
    let line = b"aemp-dataconn;1;dcsend;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;provider=AE-2.01;dataconn_id=b@dcsend;peeraddr=127.0.0.1:4099\n";
    let mut c = Connection::new(Arc::new(config("acceptor")), &[1; 66], Instant::now());
    c.handle_input(line);
    assert_eq!(c.data_id(), Some("b@dcsend"));
    assert!(!c.is_closed());
}

#[test]
fn our_data_greeting_names_the_id_without_the_node_protocol_keys() {
    let mut c = Connection::new_data(Arc::new(config("opener")), ID, &[1; 66], Instant::now());
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    let line1 = out.split(|&b| b == b'\n').next().unwrap();
    let line1 = std::str::from_utf8(line1).unwrap();
    assert!(line1.starts_with("aemp-dataconn;1;opener;"), "{line1}");
    assert!(line1.contains(";dataconn_id=b@opener"), "{line1}");
    assert!(
        !line1.contains("mproto") && !line1.contains("gproto"),
        "{line1}"
    );
}

#[test]
fn an_unknown_protocol_is_refused() {
    let mut c = Connection::new(Arc::new(config("acceptor")), &[1; 66], Instant::now());
    c.handle_input(b"aemp-other;1;x;hmac_sha3_512;cbor\n");
    let events: Vec<ConnEvent> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        closed(&events),
        Some(&ConnError::Handshake(HandshakeError::WrongProtocol(
            "aemp-other".into()
        )))
    );
}

#[test]
fn a_data_greeting_without_an_id_is_refused() {
    for line in [
        &b"aemp-dataconn;1;x;hmac_sha3_512;cbor\n"[..],
        b"aemp-dataconn;1;x;hmac_sha3_512;cbor;dataconn_id=\n",
    ] {
        let mut c = Connection::new(Arc::new(config("acceptor")), &[1; 66], Instant::now());
        c.handle_input(line);
        let events: Vec<ConnEvent> = std::iter::from_fn(|| c.poll_event()).collect();
        assert!(
            matches!(
                closed(&events),
                Some(ConnError::Handshake(
                    HandshakeError::MalformedGreeting { .. }
                ))
            ),
            "{events:?}"
        );
    }
}

#[test]
fn an_id_that_cannot_be_written_into_a_greeting_is_a_config_error() {
    for id in ["", "a;b", "a\nb"] {
        let mut c = Connection::new_data(Arc::new(config("opener")), id, &[1; 66], Instant::now());
        assert!(
            matches!(
                c.poll_event(),
                Some(ConnEvent::Closed(ConnError::Config(_)))
            ),
            "{id:?}"
        );
    }
}

#[test]
fn a_data_connection_may_join_a_node_to_itself() {
    let mut pair = data_pair(config("same"), config("same"));
    pair.run();
    assert!(
        pair.a.carries_data() && pair.b.carries_data(),
        "{:?}",
        pair.b_events
    );
}
