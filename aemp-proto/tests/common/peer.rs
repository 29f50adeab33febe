//! A `NodeCore` under test wired to scripted peers through in-memory pipes.
//!
//! Each scripted peer is a plain [`Connection`] with its own node ID and the reference
//! secret. The harness shuttles bytes between the core and its peers (and between two
//! connections of the core itself, for a node that dials its own address), records every
//! packet each peer receives and every output the core hands to its application, and runs
//! on a virtual clock that only moves when the test says so.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::conn::Channel;
use aemp_proto::node::{ConnId, Event, NodeConfig, NodeCore, TransportOutput};
use aemp_proto::{ConnConfig, ConnError, ConnEvent, Connection, Framing, Value};

/// The shared secret of the reference captures.
pub const SECRET: &[u8] = b"geheim";

/// A node configuration with the reference secret.
pub fn node_config(node: &str) -> NodeConfig {
    NodeConfig::new(ConnConfig::new(node, Some(SECRET.to_vec())))
}

/// Shorthand for a string value.
pub fn s(text: &str) -> Value {
    Value::from(text)
}

/// A packet from string parts.
pub fn pkt(parts: &[&str]) -> Vec<Value> {
    parts.iter().map(|p| Value::from(*p)).collect()
}

/// One scripted remote node, connected to the core by one stream.
pub struct Peer {
    /// The peer's node ID.
    pub node: String,
    /// The peer's end of the stream.
    pub conn: Connection,
    /// The core's name for the same stream.
    pub core_conn: ConnId,
    /// Data packets the peer received from the core, keepalives left out, not yet taken.
    pub received: Vec<Vec<Value>>,
    /// Keepalives (empty packets) the peer received.
    pub keepalives: usize,
    /// The peer's connection authenticated.
    pub authenticated: bool,
    /// Why the peer's connection ended, if it did.
    pub closed: Option<ConnError>,
    /// The core asked its driver to close this stream.
    pub closed_by_core: bool,
}

impl Peer {
    /// Whether the stream is usable in both directions.
    pub fn is_open(&self) -> bool {
        self.authenticated && self.closed.is_none() && !self.closed_by_core
    }
}

/// Where a `Connect` to an address leads.
#[derive(Clone, Debug)]
pub enum Dial {
    /// A scripted peer with this node ID answers.
    Peer(String),
    /// The core itself answers (a node that lists its own address as a seed).
    Loopback,
    /// Nobody listens: the connection fails at once.
    Refused,
}

/// The core under test and everything around it.
pub struct Harness {
    pub core: NodeCore,
    pub start: Instant,
    pub now: Instant,
    pub peers: Vec<Peer>,
    /// The core's events for its application, not yet taken.
    pub events: Vec<Event>,
    /// Every address the core dialled, in order.
    pub dialled: Vec<String>,
    /// Connects to addresses without a `Dial` entry: left pending.
    pub pending_connects: Vec<(ConnId, String)>,
    dial: HashMap<String, Dial>,
    /// Core connection -> its partner core connection (loopback streams).
    loops: HashMap<ConnId, ConnId>,
    framings: HashMap<String, Vec<Framing>>,
    greeting_kv: HashMap<String, Vec<(String, String)>>,
    next_nonce: u8,
}

impl Harness {
    /// A core with this configuration, started at a fixed virtual time.
    pub fn new(cfg: NodeConfig) -> Harness {
        let start = Instant::now();
        let core = NodeCore::new(cfg, &[7; 32], start);
        Harness {
            core,
            start,
            now: start,
            peers: Vec::new(),
            events: Vec::new(),
            dialled: Vec::new(),
            pending_connects: Vec::new(),
            dial: HashMap::new(),
            loops: HashMap::new(),
            framings: HashMap::new(),
            greeting_kv: HashMap::new(),
            next_nonce: 0x40,
        }
    }

    /// Says what answers when the core connects to `addr`.
    pub fn on_dial(&mut self, addr: &str, dial: Dial) {
        self.dial.insert(addr.to_owned(), dial);
    }

    /// Extra `key=value` pairs in the greeting of the scripted peer with node ID `node`.
    pub fn peer_greeting_kv(&mut self, node: &str, kv: &[(&str, &str)]) {
        let kv = kv.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.greeting_kv.insert(node.to_owned(), kv.collect());
    }

    /// The framings a scripted peer with node ID `node` offers (default: cbor, json, as
    /// a Perl node does).
    pub fn peer_framings(&mut self, node: &str, framings: Vec<Framing>) {
        self.framings.insert(node.to_owned(), framings);
    }

    fn new_peer(&mut self, node: &str, core_conn: ConnId) -> usize {
        let mut cfg = ConnConfig::new(node, Some(SECRET.to_vec()));
        cfg.framings = self
            .framings
            .get(node)
            .cloned()
            .unwrap_or_else(|| vec![Framing::Cbor, Framing::Json]);
        cfg.extra_kv = self.greeting_kv.get(node).cloned().unwrap_or_default();
        let nonce = [self.next_nonce; 66];
        self.next_nonce = self.next_nonce.wrapping_add(1);
        self.peers.push(Peer {
            node: node.to_owned(),
            conn: Connection::new(Arc::new(cfg), &nonce, self.now),
            core_conn,
            received: Vec::new(),
            keepalives: 0,
            authenticated: false,
            closed: None,
            closed_by_core: false,
        });
        self.peers.len() - 1
    }

    /// A scripted peer with node ID `node` connects to the core; returns the peer's index
    /// once the handshake has run.
    pub fn connect_peer(&mut self, node: &str) -> usize {
        let core_conn = self.core.accept(Channel::Plain, self.now);
        let idx = self.new_peer(node, core_conn);
        self.run();
        idx
    }

    /// The newest peer with node ID `node`.
    pub fn peer_of(&self, node: &str) -> Option<usize> {
        self.peers.iter().rposition(|p| p.node == node)
    }

    /// The newest open peer with node ID `node`.
    pub fn open_peer_of(&self, node: &str) -> Option<usize> {
        self.peers
            .iter()
            .rposition(|p| p.node == node && p.is_open())
    }

    /// The peer sends `packet` to the core (held by the peer until authenticated).
    pub fn send(&mut self, peer: usize, packet: Vec<Value>) {
        self.peers[peer].conn.send(&packet);
        self.run();
    }

    /// The peer writes raw bytes to the core.
    pub fn send_raw(&mut self, peer: usize, bytes: &[u8]) {
        let conn = self.peers[peer].core_conn;
        self.core.conn_input(conn, bytes, self.now);
        self.run();
    }

    /// The peer's stream ends (end of file or reset, as the driver would report it).
    pub fn drop_peer(&mut self, peer: usize, why: &str) {
        let p = &mut self.peers[peer];
        p.conn.close(ConnError::Transport(why.to_owned()));
        while p.conn.poll_event().is_some() {}
        if p.closed.is_none() {
            p.closed = Some(ConnError::Transport(why.to_owned()));
        }
        let conn = p.core_conn;
        self.core.conn_closed(conn, why, self.now);
        self.run();
    }

    /// Answers a connect the core asked for to `addr` that was left pending (no `Dial`
    /// entry for it at the time); returns the new peer's index for `Dial::Peer`.
    pub fn answer_dial(&mut self, addr: &str, dial: Dial) -> Option<usize> {
        let at = self
            .pending_connects
            .iter()
            .position(|(_, a)| a == addr)
            .unwrap_or_else(|| panic!("no pending connect to {addr}"));
        let (conn, _) = self.pending_connects.remove(at);
        let now = self.now;
        let peer = match dial {
            Dial::Peer(node) => {
                let idx = self.new_peer(&node, conn);
                self.core.conn_connected(conn, Channel::Plain, now);
                Some(idx)
            }
            Dial::Loopback => {
                let other = self.core.accept(Channel::Plain, now);
                self.loops.insert(conn, other);
                self.loops.insert(other, conn);
                self.core.conn_connected(conn, Channel::Plain, now);
                None
            }
            Dial::Refused => {
                self.core.conn_closed(conn, "Connection refused", now);
                None
            }
        };
        self.run();
        peer
    }

    /// Takes the data packets the peer received so far.
    pub fn take(&mut self, peer: usize) -> Vec<Vec<Value>> {
        std::mem::take(&mut self.peers[peer].received)
    }

    /// Takes the application events so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Moves the virtual clock forward by `d`, running every timer that falls due.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        self.advance_to(target);
    }

    /// Moves the virtual clock to `at` (never backwards), running timers on the way.
    pub fn advance_to(&mut self, at: Instant) {
        for _ in 0..100_000 {
            self.run();
            match self.core.poll_timeout() {
                Some(t) if t <= at => {
                    self.now = self.now.max(t);
                    self.core.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        if at > self.now {
            self.now = at;
        }
        self.core.handle_timeout(self.now);
        self.run();
    }

    /// Moves bytes between the core and its peers until nothing moves any more.
    pub fn run(&mut self) {
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 10_000, "the harness does not settle");
            let mut moved = false;
            while let Some(out) = self.core.poll_transport() {
                moved = true;
                self.handle_output(out);
            }
            self.events
                .extend(std::iter::from_fn(|| self.core.poll_event()));
            for i in 0..self.peers.len() {
                moved |= self.pump_peer(i);
            }
            if !moved {
                return;
            }
        }
    }

    fn pump_peer(&mut self, i: usize) -> bool {
        let mut moved = false;
        let now = self.now;
        let p = &mut self.peers[i];
        while let Some(ev) = p.conn.poll_event() {
            moved = true;
            match ev {
                ConnEvent::Packet(packet) if packet.is_empty() => p.keepalives += 1,
                ConnEvent::Packet(packet) => p.received.push(packet.into_values()),
                ConnEvent::Authenticated { .. } => p.authenticated = true,
                ConnEvent::Closed(e) => p.closed = Some(e),
                ConnEvent::TlsStarted { .. } => panic!("no TLS in this harness"),
                _ => {}
            }
        }
        let mut bytes = Vec::new();
        if !p.closed_by_core && p.conn.poll_transmit(&mut bytes) {
            moved = true;
            let conn = p.core_conn;
            self.core.conn_input(conn, &bytes, now);
        }
        if p.closed.is_some() && !p.closed_by_core {
            // The peer gave up on the stream (e.g. refused the handshake): the core's
            // driver sees the stream end.
            p.closed_by_core = true;
            let conn = p.core_conn;
            self.core
                .conn_closed(conn, "Unexpected end-of-file", self.now);
            moved = true;
        }
        moved
    }

    fn peer_by_conn(&self, conn: ConnId) -> Option<usize> {
        self.peers.iter().position(|p| p.core_conn == conn)
    }

    fn handle_output(&mut self, out: TransportOutput) {
        let now = self.now;
        match out {
            TransportOutput::Transmit { conn, data } => {
                if let Some(i) = self.peer_by_conn(conn) {
                    if self.peers[i].closed.is_none() {
                        self.peers[i].conn.handle_input(&data);
                    }
                } else if let Some(&other) = self.loops.get(&conn) {
                    self.core.conn_input(other, &data, now);
                }
            }
            TransportOutput::Close { conn } => {
                if let Some(i) = self.peer_by_conn(conn) {
                    let p = &mut self.peers[i];
                    p.closed_by_core = true;
                    if p.closed.is_none() {
                        p.conn
                            .close(ConnError::Transport("Unexpected end-of-file".into()));
                        while p.conn.poll_event().is_some() {}
                        p.closed = Some(ConnError::Transport("closed by the core".into()));
                    }
                } else if let Some(other) = self.loops.remove(&conn) {
                    self.loops.remove(&other);
                    self.core.conn_closed(other, "Unexpected end-of-file", now);
                }
            }
            TransportOutput::Detach { conn } => {
                panic!("the core handed away {conn:?} as a data connection: no test opens one")
            }
            TransportOutput::Connect { conn, addr } => {
                self.dialled.push(addr.clone());
                match self.dial.get(&addr).cloned() {
                    Some(Dial::Peer(node)) => {
                        self.new_peer(&node, conn);
                        self.core.conn_connected(conn, Channel::Plain, now);
                    }
                    Some(Dial::Loopback) => {
                        let other = self.core.accept(Channel::Plain, now);
                        self.loops.insert(conn, other);
                        self.loops.insert(other, conn);
                        self.core.conn_connected(conn, Channel::Plain, now);
                    }
                    Some(Dial::Refused) => {
                        self.core.conn_closed(conn, "Connection refused", now);
                    }
                    None => self.pending_connects.push((conn, addr)),
                }
            }
        }
    }
}
