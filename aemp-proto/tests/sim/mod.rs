//! A deterministic network of `NodeCore`s: virtual clock, seeded timing, fault injection.
//!
//! Streams are simulated as ordered byte pipes with random latency; faults cut pipes,
//! partition nodes and restart nodes with the same node ID.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aemp_proto::conn::{Channel, ConnConfig};
use aemp_proto::node::{
    split_port_id, ConnId, Event, MonitorAction, MonitorId, NodeConfig, NodeCore, TransportOutput,
};
use aemp_proto::{Encoded, Framing, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One side of a pipe: which node, which of its connections.
type End = (usize, ConnId);

#[derive(Debug)]
enum Chunk {
    Data(Vec<u8>),
    Eof,
}

/// When a chunk arrives: (time, order of sending, for ties).
type Slot = (Duration, u64);

#[derive(Debug)]
struct Delivery {
    to: End,
    chunk: Chunk,
}

/// A pipe between two connections.
#[derive(Debug)]
struct Pipe {
    ends: [End; 2],
    /// Latest scheduled delivery time per direction (index = receiving end), for FIFO.
    last: [Duration; 2],
}

/// What the application on one simulated node saw.
#[derive(Debug, Default)]
pub struct AppLog {
    /// Messages received: (inbox port name, sender node, sequence number).
    pub received: Vec<(String, String, u64)>,
    /// Last database view of family "sim".
    pub view: BTreeMap<String, Value>,
}

/// One epoch of monitored sending from one node to one inbox.
#[derive(Debug)]
pub struct Epoch {
    pub target: String,
    pub monitor: MonitorId,
    /// When the monitor was set (simulated time).
    pub started: Duration,
    pub sent: Vec<u64>,
    /// When the monitor fired (or its node restarted), if it did.
    pub fired_at: Option<Duration>,
}

impl Epoch {
    pub fn fired(&self) -> bool {
        self.fired_at.is_some()
    }
}

pub struct SimNode {
    pub id: String,
    pub core: NodeCore,
    pub inbox: String,
    pub log: AppLog,
    /// Per target node index: epochs of sending.
    pub epochs: HashMap<usize, Vec<Epoch>>,
    pub next_seq: HashMap<usize, u64>,
    generation: u64,
    /// Messages framed outside the core per target node, as aemp-node's outboxes keep
    /// them for an up connection.
    outboxes: BTreeMap<String, SimOutbox>,
    /// The core's `links_down` when the outboxes were last checked against it.
    seen_down: u64,
}

/// Framed messages waiting for one connection.
struct SimOutbox {
    conn: ConnId,
    framing: Framing,
    bytes: Vec<u8>,
    packets: u64,
}

impl SimNode {
    /// The core, once the outboxes' bytes went into it: every use of aemp-node's core
    /// moves them first.
    pub fn flushed(&mut self) -> &mut NodeCore {
        for outbox in self.outboxes.values_mut() {
            let packets = std::mem::take(&mut outbox.packets);
            if packets > 0 {
                self.core
                    .send_framed(outbox.conn, &mut outbox.bytes, packets);
            }
        }
        &mut self.core
    }

    /// Frames `msg` for port `target` into the outbox of its node, if that node is up;
    /// false if it is not. Outboxes of connections that went down are dropped first, with
    /// what they held, as aemp-node closes them when the core sees the connection go.
    fn send_through_outbox(&mut self, target: &str, msg: &[Value]) -> bool {
        let down = self.core.links_down();
        if down != self.seen_down {
            self.seen_down = down;
            let core = &self.core;
            self.outboxes
                .retain(|node, o| core.up_link(node).is_some_and(|(conn, _)| conn == o.conn));
        }
        let (node, port) = split_port_id(target);
        if !self.outboxes.contains_key(node) {
            let Some((conn, framing)) = self.core.up_link(node) else {
                return false;
            };
            let outbox = SimOutbox {
                conn,
                framing,
                bytes: Vec::new(),
                packets: 0,
            };
            self.outboxes.insert(node.to_owned(), outbox);
        }
        let outbox = self.outboxes.get_mut(node).expect("inserted above");
        let mut scratch = Vec::new();
        let encoded = Encoded::serialize(msg, &mut scratch).expect("a sequence of values");
        outbox
            .framing
            .encode_encoded(port, &encoded, &mut outbox.bytes);
        outbox.packets += 1;
        true
    }
}

pub struct Net {
    pub rng: StdRng,
    pub base: Instant,
    pub now: Duration,
    pub nodes: Vec<SimNode>,
    pipes: Vec<Option<Pipe>>,
    pipe_of: HashMap<End, usize>,
    queue: BTreeMap<Slot, Delivery>,
    delivery_seq: u64,
    /// Nodes that got input since their outputs were last taken.
    dirty: BTreeSet<usize>,
    /// Every node's next timeout, as last asked, and the same ordered by time.
    timer_of: Vec<Option<Instant>>,
    timers: BTreeSet<(Instant, usize)>,
    /// Node index -> isolated until this time.
    pub isolated: HashMap<usize, Duration>,
    /// How many nodes (the first ones) are seeds and so global nodes.
    pub seeds: usize,
}

/// The `monitor_timeout` of every simulated node.
pub const MONITOR_TIMEOUT: Duration = Duration::from_secs(10);

/// A target index for [`Net::send_seq`] that names no simulated node: nobody can reach it.
pub const OUTSIDE: usize = usize::MAX;

fn addr(i: usize) -> String {
    format!("sim:{i}")
}

impl Net {
    pub fn new(seed: u64, nodes: usize, seeds: usize) -> Net {
        let mut net = Net {
            rng: StdRng::seed_from_u64(seed),
            base: Instant::now(),
            now: Duration::ZERO,
            nodes: Vec::new(),
            pipes: Vec::new(),
            pipe_of: HashMap::new(),
            queue: BTreeMap::new(),
            delivery_seq: 0,
            dirty: BTreeSet::new(),
            timer_of: vec![None; nodes],
            timers: BTreeSet::new(),
            isolated: HashMap::new(),
            seeds,
        };
        for i in 0..nodes {
            let node = net.make_node(i, 0);
            net.nodes.push(node);
            net.dirty.insert(i);
        }
        net
    }

    fn make_node(&mut self, i: usize, generation: u64) -> SimNode {
        let id = format!("n{i}");
        let mut conn = ConnConfig::new(id.clone(), Some(b"sim-secret".to_vec()));
        // Vary the framings between nodes so every framing pair is exercised.
        let framings = [
            vec![Framing::Fast, Framing::Cbor, Framing::Json],
            vec![Framing::Cbor, Framing::Json],
            vec![Framing::Json, Framing::Cbor],
        ];
        conn.framings = framings[self.rng.gen_range(0..framings.len())].clone();
        let mut cfg = NodeConfig::new(conn);
        cfg.binds = vec![addr(i)];
        cfg.seeds = (0..self.seeds).map(addr).collect();
        cfg.monitor_timeout = MONITOR_TIMEOUT;
        cfg.connect_interval = Duration::from_millis(500);
        cfg.keepalive_interval = Duration::from_secs(3);
        let seed: [u8; 32] = self.rng.gen();
        let now = self.instant();
        let mut core = NodeCore::new(cfg, &seed, now);
        let inbox = core.port();
        core.db_set("sim", &id, Value::from(inbox.as_str()), now);
        core.db_mon("sim", now);
        SimNode {
            id,
            core,
            inbox,
            log: AppLog::default(),
            epochs: HashMap::new(),
            next_seq: HashMap::new(),
            generation,
            outboxes: BTreeMap::new(),
            seen_down: 0,
        }
    }

    pub fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        let cut = |n: usize| self.isolated.get(&n).is_some_and(|until| *until > self.now);
        !(cut(a) || cut(b)) || a == b
    }

    /// Processes every pending output of the nodes that got input, until all are idle,
    /// and notes their next timeouts.
    pub fn drain(&mut self) {
        while let Some(i) = self.dirty.pop_first() {
            loop {
                let mut any = false;
                while let Some(out) = self.nodes[i].flushed().poll_transport() {
                    any = true;
                    self.handle_transport(i, out);
                }
                while let Some(event) = self.nodes[i].flushed().poll_event() {
                    any = true;
                    self.handle_event(i, event);
                }
                if !any {
                    break;
                }
            }
            self.refresh_timer(i);
        }
    }

    fn refresh_timer(&mut self, i: usize) {
        let next = self.nodes[i].flushed().poll_timeout();
        if let Some(old) = std::mem::replace(&mut self.timer_of[i], next) {
            self.timers.remove(&(old, i));
        }
        if let Some(at) = next {
            self.timers.insert((at, i));
        }
    }

    fn handle_transport(&mut self, i: usize, out: TransportOutput) {
        let now = self.instant();
        match out {
            TransportOutput::Connect { conn, addr } => {
                let target: usize = addr.trim_start_matches("sim:").parse().unwrap();
                if target < self.nodes.len() && self.reachable(i, target) {
                    let other = self.nodes[target].flushed().accept(Channel::Plain, now);
                    self.dirty.insert(target);
                    let idx = self.pipes.len();
                    self.pipes.push(Some(Pipe {
                        ends: [(i, conn), (target, other)],
                        last: [self.now; 2],
                    }));
                    self.pipe_of.insert((i, conn), idx);
                    self.pipe_of.insert((target, other), idx);
                    self.nodes[i]
                        .flushed()
                        .conn_connected(conn, Channel::Plain, now);
                } else {
                    self.nodes[i]
                        .flushed()
                        .conn_closed(conn, "connection refused", now);
                }
            }
            TransportOutput::Transmit { conn, data } => {
                self.send_chunk((i, conn), Chunk::Data(data))
            }
            TransportOutput::Close { conn } => {
                self.send_chunk((i, conn), Chunk::Eof);
                self.pipe_of.remove(&(i, conn));
            }
            TransportOutput::Detach { conn } => {
                // The simulated applications open no data connections.
                unreachable!("node {i} handed away a data connection on {conn:?}")
            }
        }
    }

    fn handle_event(&mut self, i: usize, event: Event) {
        match event {
            Event::Deliver { port, msg } => {
                if let [Value::Str(tag), Value::Str(from), seq] = &msg.to_values()[..] {
                    if tag == "seq" {
                        let seq = seq.as_i64().unwrap() as u64;
                        self.nodes[i]
                            .log
                            .received
                            .push((port.to_string(), from.to_string(), seq));
                    }
                }
            }
            Event::MonitorFired { id, .. } => {
                let now = self.now;
                for epochs in self.nodes[i].epochs.values_mut() {
                    for e in epochs.iter_mut().filter(|e| e.monitor == id) {
                        e.fired_at = Some(now);
                    }
                }
            }
            Event::DbChange(change) => {
                let view = &mut self.nodes[i].log.view;
                view.extend(change.set);
                for key in &change.deleted {
                    view.remove(key);
                }
            }
            _ => {}
        }
    }

    fn send_chunk(&mut self, from: End, chunk: Chunk) {
        let Some(&idx) = self.pipe_of.get(&from) else {
            return;
        };
        let Some(pipe) = self.pipes[idx].as_mut() else {
            return;
        };
        let dir = if pipe.ends[0] == from { 1 } else { 0 };
        let to = pipe.ends[dir];
        let latency = Duration::from_micros(self.rng.gen_range(100..50_000));
        let at = (self.now + latency).max(pipe.last[dir]);
        pipe.last[dir] = at;
        if matches!(chunk, Chunk::Eof) {
            self.pipes[idx] = None;
        }
        self.delivery_seq += 1;
        self.queue
            .insert((at, self.delivery_seq), Delivery { to, chunk });
    }

    /// Cuts the pipe with index `idx`: data in flight is lost, both ends see the loss.
    pub fn cut_pipe(&mut self, idx: usize) {
        self.break_pipe(idx, None);
    }

    /// Cuts pipe `idx`; every end except one on node `silent` is told of the loss.
    fn break_pipe(&mut self, idx: usize, silent: Option<usize>) {
        let Some(pipe) = self.pipes[idx].take() else {
            return;
        };
        self.queue.retain(|_, d| !pipe.ends.contains(&d.to));
        let now = self.instant();
        for end in pipe.ends {
            self.pipe_of.remove(&end);
            if Some(end.0) != silent {
                self.nodes[end.0]
                    .flushed()
                    .conn_closed(end.1, "connection cut", now);
                self.dirty.insert(end.0);
            }
        }
    }

    /// The live pipes with an end on node `n`.
    fn pipes_of(&self, n: usize) -> Vec<usize> {
        (0..self.pipes.len())
            .filter(|i| {
                self.pipes[*i]
                    .as_ref()
                    .is_some_and(|p| p.ends.iter().any(|e| e.0 == n))
            })
            .collect()
    }

    pub fn cut_random_pipe(&mut self) {
        let live: Vec<usize> = (0..self.pipes.len())
            .filter(|i| self.pipes[*i].is_some())
            .collect();
        if !live.is_empty() {
            let idx = live[self.rng.gen_range(0..live.len())];
            self.cut_pipe(idx);
        }
    }

    /// Isolates node `n` for `d`: its pipes are cut and new connections refused.
    pub fn partition(&mut self, n: usize, d: Duration) {
        self.isolated.insert(n, self.now + d);
        for idx in self.pipes_of(n) {
            self.cut_pipe(idx);
        }
    }

    /// Replaces node `n` by a fresh one with the same node ID (its old streams break).
    pub fn restart(&mut self, n: usize) {
        for idx in self.pipes_of(n) {
            self.break_pipe(idx, Some(n));
        }
        let generation = self.nodes[n].generation + 1;
        let fresh = self.make_node(n, generation);
        self.dirty.insert(n);
        let old = std::mem::replace(&mut self.nodes[n], fresh);
        self.nodes[n].epochs = old.epochs;
        self.nodes[n].next_seq = old.next_seq;
        self.nodes[n].log.received = old.log.received;
        // Monitors of the old incarnation died with it.
        let now = self.now;
        for epochs in self.nodes[n].epochs.values_mut() {
            for e in epochs.iter_mut().filter(|e| !e.fired()) {
                e.fired_at = Some(now);
            }
        }
    }

    /// Starts (or continues) monitored sending from `from` to the inbox of `to` (or to a
    /// port of a node outside the simulation, for [`OUTSIDE`]).
    pub fn ensure_monitor(&mut self, from: usize, to: usize) {
        let needs = self.nodes[from]
            .epochs
            .get(&to)
            .and_then(|e| e.last())
            .is_none_or(Epoch::fired);
        if needs {
            let target = match self.nodes.get(to) {
                Some(node) => node.inbox.clone(),
                None => "outside#inbox".to_owned(),
            };
            let now = self.instant();
            let monitor = self.nodes[from]
                .flushed()
                .monitor(&target, MonitorAction::Callback, now);
            self.dirty.insert(from);
            self.nodes[from].epochs.entry(to).or_default().push(Epoch {
                target,
                monitor,
                started: self.now,
                sent: Vec::new(),
                fired_at: None,
            });
        }
    }

    /// Sends the next sequence number from `from` to the inbox of `to` (monitored).
    pub fn send_seq(&mut self, from: usize, to: usize) {
        self.ensure_monitor(from, to);
        let seq = {
            let s = self.nodes[from].next_seq.entry(to).or_insert(0);
            *s += 1;
            *s
        };
        let me = self.nodes[from].id.clone();
        let epoch = self.nodes[from]
            .epochs
            .get_mut(&to)
            .and_then(|e| e.last_mut())
            .unwrap();
        epoch.sent.push(seq);
        let target = epoch.target.clone();
        let now = self.instant();
        let msg = vec![Value::from("seq"), Value::from(me), Value::from(seq as i64)];
        // Half the messages go through an outbox while their node is up, as aemp-node's
        // senders do, the others through the core.
        let node = &mut self.nodes[from];
        if !(self.rng.gen_bool(0.5) && node.send_through_outbox(&target, &msg)) {
            node.flushed().snd(&target, msg, now);
        }
        self.dirty.insert(from);
    }

    /// Advances to the next delivery or timer, if any is due before `limit`.
    pub fn step(&mut self, limit: Duration) -> bool {
        self.drain();
        let next_timer = self
            .timers
            .first()
            .map(|(t, _)| t.saturating_duration_since(self.base));
        let next_delivery = self.queue.first_key_value().map(|(slot, _)| slot.0);
        let next = match (next_timer, next_delivery) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => return false,
        };
        if next > limit {
            return false;
        }
        self.now = self.now.max(next);
        let now = self.instant();
        if next_delivery == Some(next) {
            let (_, d) = self.queue.pop_first().unwrap();
            self.dirty.insert(d.to.0);
            match d.chunk {
                Chunk::Data(bytes) => self.nodes[d.to.0].flushed().conn_input(d.to.1, &bytes, now),
                Chunk::Eof => {
                    self.pipe_of.remove(&d.to);
                    self.nodes[d.to.0]
                        .flushed()
                        .conn_closed(d.to.1, "end of file", now)
                }
            }
        } else {
            while let Some(&(at, i)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                self.timer_of[i] = None;
                self.nodes[i].flushed().handle_timeout(now);
                self.dirty.insert(i);
            }
        }
        true
    }

    /// Runs until `until` (simulated), or until nothing more is scheduled. Nodes the test
    /// changed directly since are looked at first.
    pub fn run_until(&mut self, until: Duration) {
        self.dirty.extend(0..self.nodes.len());
        while self.step(until) {}
        self.now = self.now.max(until);
        self.drain();
    }
}
