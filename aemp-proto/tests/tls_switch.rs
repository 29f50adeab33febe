//! A connection runs TLS itself and switches at the exact byte: its greeting goes out in
//! the clear, everything after it as records; everything the peer sends after its nonce
//! line is taken as records, even when it arrives in the same read as the greeting.

mod common;

use std::sync::Arc;
use std::time::Instant;

use aemp_proto::{ConnEvent, Connection, TlsRole, Value};
use common::fake_tls::{record, SCRAMBLE};
use common::{closed, config, with_fake_tls};

/// Runs two TLS connections to authentication, recording every byte each one sent.
fn handshake() -> (Connection, Connection, Vec<u8>, Vec<u8>) {
    let now = Instant::now();
    let mut a = Connection::new(Arc::new(with_fake_tls(config("a"))), &[0x11; 66], now);
    let mut b = Connection::new(Arc::new(with_fake_tls(config("b"))), &[0x22; 66], now);
    let (mut a_sent, mut b_sent) = (Vec::new(), Vec::new());
    loop {
        let (mut a_to_b, mut b_to_a) = (Vec::new(), Vec::new());
        let moved = a.poll_transmit(&mut a_to_b) | b.poll_transmit(&mut b_to_a);
        if !moved {
            break;
        }
        a_sent.extend_from_slice(&a_to_b);
        b_sent.extend_from_slice(&b_to_a);
        b.handle_input(&a_to_b);
        a.handle_input(&b_to_a);
    }
    (a, b, a_sent, b_sent)
}

#[test]
fn the_greeting_is_clear_and_everything_after_it_is_records() {
    let (mut a, mut b, a_sent, _) = handshake();
    assert!(a.is_authenticated() && b.is_authenticated());
    let text = String::from_utf8_lossy(&a_sent);
    assert!(text.starts_with("aemp;1;a;"), "{text}");
    assert!(
        !text.contains("tls_sha3_512;"),
        "the auth line travelled in the clear"
    );
    // After the two greeting lines, the stream is a sequence of whole records.
    let greeting_end = a_sent
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1;
    let mut rest = &a_sent[greeting_end..];
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[1], rest[2]]) as usize;
        assert!(
            [0x15, 0x16, 0x17].contains(&rest[0]),
            "not a record: {rest:?}"
        );
        rest = &rest[3 + len..];
    }

    // Packets both ways, then a polite close: close_notify reaches the peer.
    a.send(&[Value::from("port"), Value::Int(1)]);
    let mut bytes = Vec::new();
    a.poll_transmit(&mut bytes);
    assert!(!bytes.windows(4).any(|w| w == b"port"));
    b.handle_input(&bytes);
    let events: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
    assert!(events.contains(&ConnEvent::Packet(
        vec![Value::from("port"), Value::Int(1)].into()
    )));
    a.close(aemp_proto::ConnError::Local("bye".into()));
    let mut last = Vec::new();
    assert!(a.poll_transmit(&mut last), "close_notify");
    b.handle_input(&last);
    let events: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
    assert!(closed(&events).is_some(), "{events:?}");
}

#[test]
fn records_in_the_same_read_as_the_greeting_go_to_tls() {
    let now = Instant::now();
    let mut a = Connection::new(Arc::new(with_fake_tls(config("a"))), &[0x11; 66], now);
    // The peer's greeting and its first TLS record arrive in one read, before anything
    // of ours was polled. Its nonce line sorts above ours: it is the TLS server and we are
    // the client, so its "hello" is an answer to ours.
    let mut input = b"aemp;1;peer;tls_sha3_512;cbor;tls=1.0\n~~~~~~~~~~~~~~~~~~~~~~~~\n".to_vec();
    record(0x16, b"hello", &mut input);
    a.handle_input(&input);
    let events: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(
        events.contains(&ConnEvent::TlsStarted {
            role: TlsRole::Client
        }),
        "{events:?}"
    );
    assert!(closed(&events).is_none(), "{events:?}");
    // Our greeting first, in the clear; then our hello and our auth line as records.
    let mut out = Vec::new();
    a.poll_transmit(&mut out);
    assert!(out.starts_with(b"aemp;1;a;"));
    let mut records = Vec::new();
    record(0x16, b"hello", &mut records);
    let hello_at = out
        .windows(records.len())
        .position(|w| w == records)
        .unwrap();
    assert_eq!(out[..hello_at].iter().filter(|b| **b == b'\n').count(), 2);
    let auth: Vec<u8> = out[hello_at + records.len() + 3..]
        .iter()
        .map(|b| b ^ SCRAMBLE)
        .collect();
    assert!(
        auth.starts_with(b"tls_sha3_512;"),
        "{:?}",
        String::from_utf8_lossy(&auth)
    );
}
