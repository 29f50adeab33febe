//! Hostile peers, one test per attack class: the memory the node takes (counted by a
//! counting allocator on the test's thread, and as the core accounts it in
//! `NodeCore::stats`) stays within the bound that applies, the attacker is cut off, and
//! the node still answers a fresh peer afterwards. Run with `--nocapture` to see the
//! peak of each attack (SECURITY.md quotes them).

#[path = "common/heap.rs"]
mod heap;
#[path = "common/peer.rs"]
mod peer;

use std::time::Duration;

use aemp_proto::conn::Channel;
use aemp_proto::node::{split_port_id, Event, NodeConfig};
use aemp_proto::Value;
use heap::Usage;
use peer::{node_config, pkt, s, Harness};

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

fn harness(tweak: impl FnOnce(&mut NodeConfig)) -> Harness {
    let mut cfg = node_config("target");
    cfg.binds = vec!["127.0.0.1:15050".into()];
    tweak(&mut cfg);
    Harness::new(cfg)
}

/// A global node (answers database requests from anyone).
fn global(tweak: impl FnOnce(&mut NodeConfig)) -> Harness {
    let mut h = harness(tweak);
    h.core.become_global(h.now);
    h
}

fn report(attack: &str, usage: Usage, bound: usize) {
    eprintln!(
        "{attack}: peak {} KiB, kept {} KiB, bound {} KiB",
        usage.peak / KIB,
        usage.kept / KIB,
        bound / KIB
    );
    assert!(
        usage.peak <= bound,
        "{attack}: the node held {} bytes at its peak, over the bound of {bound}",
        usage.peak
    );
}

/// The peer's transport takes no more bytes from the node: it reads nothing.
fn stop_reading(h: &mut Harness, peer: usize) {
    let conn = h.peers[peer].core_conn;
    h.core.conn_writable(conn, false);
}

/// How much a driver reads at once (the TCP driver's read buffer).
const READ: usize = 64 * KIB;

/// The peer's bytes for `packets`, encoded before any measurement starts.
fn encoded(h: &mut Harness, peer: usize, packets: Vec<Vec<Value>>) -> Vec<u8> {
    for packet in &packets {
        h.peers[peer].conn.send(packet);
    }
    let mut bytes = Vec::new();
    h.peers[peer].conn.poll_transmit(&mut bytes);
    bytes
}

/// The node reads `bytes` from `peer` as a driver would: [`READ`] bytes at a time.
fn feed(h: &mut Harness, peer: usize, bytes: &[u8]) {
    let conn = h.peers[peer].core_conn;
    for chunk in bytes.chunks(READ) {
        let now = h.now;
        h.core.conn_input(conn, chunk, now);
        h.run();
    }
}

/// The peer writes all of `packets` before the node reads any of them; returns what the
/// node held while reading them.
fn send_at_once(h: &mut Harness, peer: usize, packets: Vec<Vec<Value>>) -> Usage {
    let bytes = encoded(h, peer, packets);
    heap::measure(|| feed(h, peer, &bytes)).1
}

/// A node that has not met the attacker connects and gets an answer to `time`.
fn answers_a_fresh_peer(h: &mut Harness) {
    let node = format!("fresh{}", h.peers.len());
    let p = h.connect_peer(&node);
    assert!(h.peers[p].is_open(), "a fresh peer is let in");
    h.take(p);
    h.send(p, pkt(&["", "time", &format!("{node}#r")]));
    let got = h.take(p);
    assert!(
        matches!(got.as_slice(), [reply] if reply.first() == Some(&s("r"))),
        "a fresh peer gets its answer: {got:?}"
    );
}

fn entry(key: &str, value: Value) -> Value {
    Value::Map(vec![(s(key), value)])
}

fn g_upd(family: &str, set: Value) -> Vec<Value> {
    vec![s(""), s("g_upd"), s(family), set]
}

#[test]
fn amplification_by_database_queries_stops_at_the_queue_bound() {
    let bound = 8 * MIB;
    let mut h = global(|cfg| cfg.limits.max_queued_bytes = bound);
    let evil = h.connect_peer("evil");
    let value = Value::from("x".repeat(256 * KIB));
    h.send(evil, g_upd("fam", entry("big", value)));
    stop_reading(&mut h, evil);
    // 8,000 requests of 30 bytes ask for 2 GB of replies.
    let requests = (0..8000)
        .map(|i| vec![s(""), s("g_db_family"), s("fam"), Value::Int(i)])
        .collect();
    let usage = send_at_once(&mut h, evil, requests);
    assert!(!h.peers[evil].is_open(), "the attacker is disconnected");
    // The queue, one read of requests decoded (about ten times its bytes: small packets)
    // and one reply being built.
    report(
        "amplification (g_db_family)",
        usage,
        bound + 10 * READ + 512 * KIB,
    );
    assert!(h.core.stats().queued_bytes < 64 * KIB, "its queue is freed");
    answers_a_fresh_peer(&mut h);
}

#[test]
fn a_peer_that_reads_nothing_is_disconnected_after_monitor_timeout() {
    let mut h = harness(|cfg| cfg.limits.queue_high_water = MIB);
    let timeout = h.core.config().monitor_timeout;
    let stuck = h.connect_peer("stuck");
    let slow = h.connect_peer("slow");
    stop_reading(&mut h, stuck);
    stop_reading(&mut h, slow);
    let chunk = Value::from("y".repeat(64 * KIB));
    let now = h.now;
    for _ in 0..32 {
        h.core.snd("stuck#p", vec![chunk.clone()], now); // 2 MiB: over the mark
    }
    for _ in 0..4 {
        h.core.snd("slow#p", vec![chunk.clone()], now); // 256 KiB: under it
    }
    h.run();
    h.advance(timeout - Duration::from_secs(1));
    assert!(h.peers[stuck].is_open(), "not before monitor_timeout");
    h.advance(Duration::from_secs(2));
    assert!(
        !h.peers[stuck].is_open(),
        "disconnected after monitor_timeout"
    );
    h.advance(timeout * 2);
    assert!(
        h.peers[slow].is_open(),
        "a peer with less than the high-water mark waiting for it may take its time"
    );
    answers_a_fresh_peer(&mut h);
}

#[test]
fn a_greeting_line_without_end_is_refused_at_max_line() {
    let mut h = harness(|_| {});
    let chunk = vec![b'a'; READ];
    let conn = h.core.accept(Channel::Plain, h.now);
    h.run();
    let ((), usage) = heap::measure(|| {
        for _ in 0..16 {
            let now = h.now;
            h.core.conn_input(conn, &chunk, now);
            h.run();
        }
    });
    assert_eq!(h.core.stats().links, 0, "the connection is closed");
    // Before authentication the node keeps at most one read beyond the line limit.
    report("one endless greeting line (1 MiB)", usage, READ + 16 * KIB);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn idle_and_slowloris_connections_end_at_the_handshake_deadline() {
    let n = 500;
    let mut h = harness(|cfg| cfg.limits.max_pending_handshakes = n);
    let ((), usage) = heap::measure(|| {
        let now = h.now;
        let conns: Vec<_> = (0..n).map(|_| h.core.accept(Channel::Plain, now)).collect();
        for second in 0..40 {
            let now = h.now;
            for c in &conns {
                // Half the connections send one byte of greeting a second, half nothing.
                if c.0 % 2 == 0 {
                    h.core.conn_input(*c, b"a", now);
                }
            }
            h.advance(Duration::from_secs(1));
            if second == 20 {
                assert_eq!(h.core.stats().links, n, "all waiting before the deadline");
            }
        }
    });
    assert_eq!(h.core.stats().links, 0, "every one closed at the deadline");
    eprintln!("slowloris: {} bytes per connection", usage.peak / n);
    report("500 idle and slowloris connections", usage, n * 8 * KIB);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn a_connection_flood_is_refused_beyond_max_pending_handshakes() {
    let limit = 100;
    let mut h = harness(|cfg| cfg.limits.max_pending_handshakes = limit);
    let n = 5000;
    let ((), usage) = heap::measure(|| {
        for _ in 0..n {
            let now = h.now;
            h.core.accept(Channel::Plain, now);
            h.run();
        }
    });
    assert_eq!(h.core.stats().links, limit, "only the first {limit} wait");
    report(
        "5,000 connections at once (max_pending_handshakes 100)",
        usage,
        limit * 8 * KIB,
    );
    let deadline = h.core.config().conn.handshake_timeout;
    h.advance(deadline + Duration::from_secs(1));
    assert_eq!(
        h.core.stats().links,
        0,
        "the waiting ones end at the deadline"
    );
    answers_a_fresh_peer(&mut h);
}

#[test]
fn connections_beyond_max_connections_are_refused_until_one_ends() {
    let mut h = harness(|cfg| cfg.limits.max_connections = 5);
    let first: Vec<usize> = (0..5).map(|i| h.connect_peer(&format!("p{i}"))).collect();
    assert!(first.iter().all(|p| h.peers[*p].is_open()));
    let sixth = h.connect_peer("p5");
    assert!(!h.peers[sixth].is_open(), "the sixth connection is refused");
    assert_eq!(h.core.stats().links, 5);
    h.drop_peer(first[0], "reset");
    answers_a_fresh_peer(&mut h);
}

#[test]
fn spawns_beyond_max_spawned_ports_per_node_are_refused() {
    let mut h = harness(|cfg| cfg.limits.max_spawned_ports_per_node = 4);
    let evil = h.connect_peer("evil");
    let spawn = |i: usize| pkt(&["", "AnyEvent::MP::_spawn", &format!("sp{i}"), "init"]);
    let spawned = |h: &mut Harness| {
        h.take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Spawn { port, .. } => Some(port),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for i in 0..10 {
        h.send(evil, spawn(i));
    }
    assert_eq!(spawned(&mut h), ["sp0", "sp1", "sp2", "sp3"]);
    assert_eq!(h.core.port_count(), 4);
    assert!(
        h.peers[evil].is_open(),
        "a refused spawn holds nothing: no disconnect"
    );
    // A spawned port that dies makes room for one more.
    let now = h.now;
    h.core.kil("target#sp0", vec![], now);
    h.run();
    h.send(evil, spawn(10));
    h.send(evil, spawn(11));
    assert_eq!(spawned(&mut h), ["sp10"]);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn a_huge_frame_is_refused_from_its_header() {
    let mut h = harness(|_| {});
    let evil = h.connect_peer("evil");
    // CBOR: array of 2, "", then a byte string announcing 1 GiB.
    let header = [0x82, 0x60, 0x5a, 0x40, 0x00, 0x00, 0x00, 1, 2, 3];
    let ((), usage) = heap::measure(|| feed(&mut h, evil, &header));
    assert!(!h.peers[evil].is_open(), "closed on the header");
    report("a 1 GiB frame header", usage, 16 * KIB);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let mut h = harness(|_| {});
    let evil = h.connect_peer("evil");
    let deep = vec![0x81u8; 1_000_000]; // arrays of one array of one array...
    let ((), usage) = heap::measure(|| feed(&mut h, evil, &deep));
    assert!(!h.peers[evil].is_open(), "closed at the nesting limit");
    report("a million nested arrays", usage, READ + 16 * KIB);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn watching_more_families_than_allowed_disconnects() {
    let limit = 1000;
    let mut h = global(|cfg| cfg.limits.max_watched_families_per_node = limit);
    let evil = h.connect_peer("evil");
    let requests = (0..limit + 500)
        .map(|i| pkt(&["", "g_mon1", &format!("family{i}")]))
        .collect();
    let usage = send_at_once(&mut h, evil, requests);
    assert!(!h.peers[evil].is_open(), "disconnected at the limit");
    assert_eq!(h.core.stats().remote_watchers, 0, "its watches are gone");
    report("1,500 g_mon1 of distinct families", usage, MIB);
    answers_a_fresh_peer(&mut h);
}

#[test]
fn repeated_monitor_requests_share_one_entry() {
    let mut h = harness(|_| {});
    let evil = h.connect_peer("evil");
    let port = h.core.port();
    let name = split_port_id(&port).1.to_owned();
    let requests = (0..100_000).map(|_| pkt(&["", "mon1", &name])).collect();
    let usage = send_at_once(&mut h, evil, requests);
    assert!(h.peers[evil].is_open(), "allowed, and cheap");
    // One read of small packets decoded takes about ten times its bytes.
    report("100,000 mon1 of one port", usage, 12 * READ);
    // One monitor entry, and buffers of about a read kept for reuse.
    assert!(
        usage.kept < 2 * READ + 4 * KIB,
        "one entry kept: {} bytes",
        usage.kept
    );
    answers_a_fresh_peer(&mut h);
}

#[test]
fn database_entries_over_the_limit_disconnect_and_are_dropped() {
    let limit = MIB;
    let mut h = global(|cfg| cfg.limits.max_db_bytes_per_node = limit);
    let before = h.core.stats().db_bytes;
    let evil = h.connect_peer("evil");
    let value = Value::from("z".repeat(64 * KIB));
    let updates = (0..64)
        .map(|i| g_upd("fam", entry(&format!("k{i}"), value.clone())))
        .collect();
    let usage = send_at_once(&mut h, evil, updates);
    assert!(!h.peers[evil].is_open(), "disconnected at the limit");
    assert_eq!(h.core.stats().db_bytes, before, "its entries are gone");
    // Each entry is held twice (the source's own and the merged view); one update is
    // held a few times more while it is decoded, checked and applied.
    report("64 entries of 64 KiB", usage, 2 * limit + 20 * READ);
    let fresh = h.connect_peer("fresh");
    h.take(fresh);
    h.send(fresh, pkt(&["", "g_db_keys", "fam", "q"]));
    let no_keys = Value::Array(Vec::new());
    assert_eq!(
        h.take(fresh),
        vec![vec![s(""), s("g_reply"), s("q"), no_keys]]
    );
}

#[test]
fn connection_churn_leaves_nothing_behind() {
    let mut h = harness(|_| {});
    // Warm up the tables once, then count what 2,000 more cycles keep.
    let p = h.connect_peer("churn");
    h.drop_peer(p, "reset");
    h.take_events();
    h.peers.pop();
    let ((), usage) = heap::measure(|| {
        for i in 0..2000 {
            let p = h.connect_peer(&format!("churn{}", i % 10));
            h.drop_peer(p, "reset");
            h.take_events();
            h.peers.pop(); // the harness's record of the peer, not the node's
        }
    });
    let stats = h.core.stats();
    assert_eq!(stats.links, 0);
    assert!(
        stats.known_nodes <= 11,
        "no record per connection: {} peers",
        stats.known_nodes
    );
    report("2,000 connect/disconnect cycles", usage, 64 * KIB);
    assert!(usage.kept < 64 * KIB, "kept {} bytes", usage.kept);
    answers_a_fresh_peer(&mut h);
}
