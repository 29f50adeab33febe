//! Arbitrary node-protocol traffic into a `NodeCore`: a scripted peer completes a real
//! handshake, then sends every packet the fuzz input decodes to (CBOR, one item after the
//! other) and the node's answers are drained. Whatever the packets say — unknown requests,
//! wrong types, missing arguments, database garbage — the node must not panic.
//!
//! Byte 0 picks the node's role (bit 0: global node; bit 1: secure mode); the rest is
//! decoded as a stream of CBOR arrays, each sent as one packet (decoding stops at the
//! first item that is not a whole array). After each packet the virtual clock moves on a second.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::conn::Channel;
use aemp_proto::node::{ConnId, NodeConfig, NodeCore, TransportOutput};
use aemp_proto::{ConnConfig, Connection, DecodeLimits, Framing};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz";

/// Moves bytes between the node's accepted connection and the peer until both are quiet.
fn shuttle(node: &mut NodeCore, conn: ConnId, peer: &mut Connection, now: Instant) {
    loop {
        let mut quiet = true;
        while node.poll_event().is_some() {}
        while let Some(out) = node.poll_transport() {
            if let TransportOutput::Transmit { conn: c, data } = out {
                if c == conn {
                    quiet = false;
                    peer.handle_input(&data);
                }
            }
        }
        let mut bytes = Vec::new();
        if peer.poll_transmit(&mut bytes) {
            quiet = false;
            node.conn_input(conn, &bytes, now);
        }
        while peer.poll_event().is_some() {}
        if quiet {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, rest)) = data.split_first() else {
        return;
    };
    let mut now = Instant::now();
    let mut cfg = NodeConfig::new(ConnConfig::new("node", Some(SECRET.to_vec())));
    cfg.secure = setup & 2 != 0;
    let mut node = NodeCore::new(cfg, &[7; 32], now);
    if setup & 1 != 0 {
        node.become_global(now);
    }
    node.port();
    let conn = node.accept(Channel::Plain, now);
    let mut peer = Connection::new(
        Arc::new(ConnConfig::new("peer", Some(SECRET.to_vec()))),
        &[9; 66],
        now,
    );
    shuttle(&mut node, conn, &mut peer, now);
    let mut decoder = Framing::Cbor.decoder(DecodeLimits::default());
    decoder.feed(rest);
    while let Ok(Some(packet)) = decoder.next_packet() {
        peer.send(&packet);
        now += Duration::from_secs(1);
        shuttle(&mut node, conn, &mut peer, now);
        node.handle_timeout(now);
        shuttle(&mut node, conn, &mut peer, now);
    }
});
