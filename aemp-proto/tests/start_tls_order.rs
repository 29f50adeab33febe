//! The node core's TLS contract with its driver: what it transmitted before asking for TLS
//! is plaintext and comes first, even when the peer's greeting arrives before the core's
//! own greeting was polled.

use std::time::Instant;

use aemp_proto::conn::ConnConfig;
use aemp_proto::node::{NodeConfig, NodeCore, TlsRole, TransportOutput};

#[test]
fn our_greeting_is_transmitted_before_start_tls() {
    let now = Instant::now();
    let mut conn = ConnConfig::new("me", None);
    conn.tls = true;
    let mut core = NodeCore::new(NodeConfig::new(conn), &[7; 32], now);
    let c = core.accept(now);
    // The peer's whole greeting arrives before any output was polled.
    core.conn_input(
        c,
        b"aemp;1;peer;tls_sha3_512;cbor;tls=1.0\n~~~~~~~~~~~~~~~~~~~~~~~~\n\x16\x03\x01",
        now,
    );
    let outs: Vec<TransportOutput> = std::iter::from_fn(|| core.poll_transport()).collect();
    let greeting = outs
        .iter()
        .position(|o| matches!(o, TransportOutput::Transmit { conn, data } if *conn == c && data.starts_with(b"aemp;1;me;")))
        .expect("our greeting is transmitted");
    let start = outs
        .iter()
        .position(|o| matches!(o, TransportOutput::StartTls { conn, .. } if *conn == c))
        .expect("TLS is requested");
    assert!(greeting < start, "{outs:?}");
    // Our nonce line sorts below "~~~": we are the TLS client; the bytes after the
    // nonce line are leftover for TLS.
    assert!(matches!(
        &outs[start],
        TransportOutput::StartTls { role: TlsRole::Client, leftover, .. } if leftover == b"\x16\x03\x01"
    ));
    // Nothing more is transmitted until TLS is established.
    assert_eq!(outs.len(), start + 1, "{outs:?}");
}
