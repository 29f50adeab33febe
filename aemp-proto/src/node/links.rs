//! Connections and peers: connecting, the handshake outcome, queues, keepalive, loss.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use super::logs::{throttled, Topic};
use super::{transport_error, Backlog, ConnId, Event, MonitorId, NodeCore, TransportOutput};
use crate::conn::{Channel, ConnError, ConnEvent, Connection};
use crate::Value;
use crate::{Framing, HandshakeError, Packet, Payload};

/// How many written buffers the core keeps for reuse (see [`NodeCore::recycle`]).
const MAX_SPARE_BUFFERS: usize = 4;
/// The largest written buffer kept for reuse.
const MAX_SPARE_BYTES: usize = 256 * 1024;

/// One byte stream and what the core knows about it.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) conn: Connection,
    /// The remote node, once greeted (shared: every packet names it).
    pub(super) node: Option<Arc<str>>,
    /// We opened it.
    pub(super) outgoing: bool,
    /// The seed (index into `seeds`) this stream was opened for.
    pub(super) seed: Option<usize>,
    /// The driver reported the stream open (always true for accepted streams).
    pub(super) open: bool,
    pub(super) last_rx: Instant,
    pub(super) last_tx: Instant,
    /// The peer has sent us a keepalive, so its silence is meaningful.
    pub(super) peer_keeps_alive: bool,
    /// The transport takes more bytes now (see [`NodeCore::conn_writable`]).
    pub(super) writable: bool,
    /// Since when the transport has taken no more bytes (the peer does not read).
    pub(super) blocked_since: Option<Instant>,
    /// Accepted and not yet authenticated: counted in `pending_handshakes`.
    pub(super) handshaking: bool,
    /// What the handshake agreed on, once authenticated.
    pub(super) session: Option<Session>,
    /// The implementation the peer names in its greeting (`provider=`, e.g. `AE-2.01`).
    pub(super) provider: Option<String>,
    /// A data connection (see [`super::data`]), not a node's: `node` stays unset, so
    /// nothing about peers looks at it.
    pub(super) data: Option<DataLink>,
}

/// What the core knows about a data connection's stream before it is handed away.
#[derive(Debug, Clone)]
pub(super) struct DataLink {
    /// The data connection's ID.
    pub(super) id: String,
    /// The node we opened it to; `None` for one we accepted.
    pub(super) expected: Option<String>,
    /// The node that greeted us on it.
    pub(super) remote: Option<String>,
}

/// What a handshake agreed on.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) method: String,
    pub(super) send_framing: crate::Framing,
    pub(super) recv_framing: crate::Framing,
}

/// What the core knows about one remote node.
#[derive(Debug, Default)]
pub(super) struct Peer {
    /// The established connection.
    pub(super) up: Option<ConnId>,
    /// Trying to connect.
    pub(super) connecting: Option<Connecting>,
    /// Packets waiting for the connection.
    pub(super) queue: PacketQueue,
    /// Our monitors on its ports: port name -> monitors.
    pub(super) monitored: BTreeMap<String, SmallVec<[MonitorId; 2]>>,
    /// Our ports it monitors.
    pub(super) watching: BTreeSet<String>,
    /// Connection attempts made to it, attempts given up, and the last error.
    pub(super) connect_attempts: u64,
    pub(super) connect_failures: u64,
    pub(super) last_error: Option<String>,
}

/// Packets waiting for a node to connect, and about how many bytes they will take.
#[derive(Debug, Default)]
pub(super) struct PacketQueue {
    packets: Vec<Vec<Value>>,
    /// The sum of the packets' [`Value::size_hint`]s.
    pub(super) bytes: usize,
}

impl PacketQueue {
    pub(super) fn push(&mut self, packet: Vec<Value>) {
        self.bytes += packet.iter().map(Value::size_hint).sum::<usize>();
        self.packets.push(packet);
    }

    pub(super) fn len(&self) -> usize {
        self.packets.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub(super) fn clear(&mut self) {
        *self = PacketQueue::default();
    }

    /// Takes every packet, oldest first.
    pub(super) fn take(&mut self) -> Vec<Vec<Value>> {
        self.bytes = 0;
        std::mem::take(&mut self.packets)
    }
}

/// An attempt to reach a node.
#[derive(Debug)]
pub(super) struct Connecting {
    deadline: Instant,
    next_try: Instant,
    next_addr: usize,
    addrs: Vec<String>,
    /// A `g_find` is outstanding.
    pub(super) looking_up: bool,
}

/// One configured seed address.
#[derive(Debug)]
pub(super) struct Seed {
    addr: String,
    conn: Option<ConnId>,
    /// The node found at this address.
    pub(super) node: Option<String>,
    next_try: Instant,
    backoff: Duration,
    /// The address is our own node.
    is_self: bool,
}

impl Seed {
    pub(super) fn new(addr: String, now: Instant) -> Seed {
        Seed {
            addr,
            conn: None,
            node: None,
            next_try: now,
            backoff: Duration::ZERO,
            is_self: false,
        }
    }

    fn wanted(&self) -> bool {
        !self.is_self && self.conn.is_none() && self.node.is_none()
    }
}

impl NodeCore {
    /// The driver accepted an incoming stream (`channel`: what its transport provides);
    /// returns the ID to report its bytes under.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::{Channel, ConnConfig};
    /// # use aemp_proto::node::{NodeConfig, NodeCore, TransportOutput};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let c = node.accept(Channel::Plain, now);
    /// assert!(matches!(node.poll_transport(), Some(TransportOutput::Transmit { conn, .. }) if conn == c));
    /// # }
    /// ```
    pub fn accept(&mut self, channel: Channel, now: Instant) -> ConnId {
        self.advance(now);
        self.logs.counts.accepted += 1;
        let refusal = self.incoming_refusal();
        let id = self.new_link(false, None);
        if let Some(link) = self.links.get_mut(&id) {
            link.conn.set_channel(channel);
            link.handshaking = true;
            self.pending_handshakes += 1;
        }
        match refusal {
            Some(why) => self.refuse(id, ConnError::Local(why)),
            None => self.dirty.push(id),
        }
        id
    }

    /// The stream the core asked for with [`TransportOutput::Connect`] is open
    /// (`channel`: what its transport provides).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::{Channel, ConnConfig};
    /// # use aemp_proto::node::{NodeConfig, NodeCore, TransportOutput};
    /// let mut cfg = NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec())));
    /// cfg.seeds = vec!["127.0.0.1:4040".into()];
    /// let mut node = NodeCore::new(cfg, &[0; 32], now);
    /// node.handle_timeout(now);
    /// let Some(TransportOutput::Connect { conn, .. }) = node.poll_transport() else { panic!() };
    /// node.conn_connected(conn, Channel::Plain, now);
    /// assert!(matches!(node.poll_transport(), Some(TransportOutput::Transmit { .. })));
    /// # }
    /// ```
    pub fn conn_connected(&mut self, conn: ConnId, channel: Channel, now: Instant) {
        self.advance(now);
        if let Some(link) = self.links.get_mut(&conn) {
            link.conn.set_channel(channel);
            link.open = true;
            self.dirty.push(conn);
        }
    }

    /// Bytes arrived on a stream (as they are: a TLS connection decrypts them itself).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::{Channel, ConnConfig};
    /// # use aemp_proto::node::{NodeConfig, NodeCore, TransportOutput};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let c = node.accept(Channel::Plain, now);
    /// node.conn_input(c, b"garbage\n", now);
    /// let outs: Vec<_> = std::iter::from_fn(|| node.poll_transport()).collect();
    /// assert!(outs.contains(&TransportOutput::Close { conn: c }));
    /// # }
    /// ```
    pub fn conn_input(&mut self, conn: ConnId, data: &[u8], now: Instant) {
        self.advance(now);
        let Some(link) = self.links.get_mut(&conn) else {
            // Bytes read with the end of a data connection's handshake (or after it) before
            // the stream was taken away: they belong to the data stream.
            self.data.keep_input(conn, data);
            return;
        };
        link.last_rx = now;
        link.conn.handle_input(data);
        self.process_conn_events(conn);
    }

    /// The stream of `conn` ended or failed (or could not be opened).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::{Channel, ConnConfig};
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let c = node.accept(Channel::Plain, now);
    /// node.conn_closed(c, "connection reset", now);
    /// # }
    /// ```
    pub fn conn_closed(&mut self, conn: ConnId, why: &str, now: Instant) {
        self.advance(now);
        if let Some(link) = self.links.get_mut(&conn) {
            link.conn.close(ConnError::Transport(why.to_owned()));
            self.process_conn_events(conn);
        }
    }

    /// The transport says whether the stream of `conn` takes more bytes: while it does
    /// not, nothing is transmitted for it and its bytes wait in the core, where they count
    /// towards the peer's [`backlog`](Self::backlog). A driver stops the flow above some
    /// amount it holds itself and restarts it once that is written.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::{Channel, ConnConfig};
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let c = node.accept(Channel::Plain, now);
    /// node.conn_writable(c, false);
    /// assert_eq!(node.poll_transport(), None); // the greeting waits
    /// node.conn_writable(c, true);
    /// assert!(node.poll_transport().is_some());
    /// # }
    /// ```
    pub fn conn_writable(&mut self, conn: ConnId, writable: bool) {
        if let Some(link) = self.links.get_mut(&conn) {
            link.writable = writable;
            if writable {
                link.blocked_since = None;
                self.dirty.push(conn);
            } else if link.blocked_since.is_none() {
                link.blocked_since = Some(self.now);
            }
        }
    }

    fn new_link(&mut self, outgoing: bool, seed: Option<usize>) -> ConnId {
        let mut nonce = [0u8; 66];
        self.rng.fill(&mut nonce);
        let conn = Connection::new(self.cfg.conn.clone(), &nonce, self.now);
        self.insert_link(conn, outgoing, seed, None)
    }

    fn insert_link(
        &mut self,
        conn: Connection,
        outgoing: bool,
        seed: Option<usize>,
        data: Option<DataLink>,
    ) -> ConnId {
        let id = ConnId(self.next_id());
        self.links.insert(
            id,
            Link {
                conn,
                node: None,
                outgoing,
                seed,
                open: !outgoing,
                last_rx: self.now,
                last_tx: self.now,
                peer_keeps_alive: false,
                writable: true,
                blocked_since: None,
                handshaking: false,
                session: None,
                provider: None,
                data,
            },
        );
        id
    }

    fn open_link(&mut self, addr: &str, seed: Option<usize>) -> ConnId {
        let id = self.new_link(true, seed);
        self.connect_link(id, addr);
        id
    }

    /// Opens a stream for a data connection we start (see [`super::data`]).
    pub(super) fn open_data_link(
        &mut self,
        addr: &str,
        conn: Connection,
        data: DataLink,
    ) -> ConnId {
        let id = self.insert_link(conn, true, None, Some(data));
        self.connect_link(id, addr);
        id
    }

    fn connect_link(&mut self, id: ConnId, addr: &str) {
        tracing::debug!(%addr, conn = id.0, "connecting");
        self.transports.push_back(TransportOutput::Connect {
            conn: id,
            addr: addr.to_owned(),
        });
    }

    fn process_conn_events(&mut self, id: ConnId) {
        loop {
            let Some(link) = self.links.get_mut(&id) else {
                return;
            };
            let Some(event) = link.conn.poll_event() else {
                break;
            };
            match event {
                ConnEvent::Greeted { node_id, .. } if link.conn.data_id().is_some() => {
                    let data_id = link.conn.data_id().unwrap_or_default().to_owned();
                    self.on_data_greeted(id, node_id, data_id);
                }
                ConnEvent::Greeted { node_id, kv } => {
                    link.provider = kv
                        .iter()
                        .find(|(k, _)| k == "provider")
                        .map(|(_, v)| v.clone());
                    self.judge_silence_if_announced(id, &kv);
                    self.on_greeted(id, node_id);
                }
                ConnEvent::TlsStarted { .. } => {}
                ConnEvent::Authenticated {
                    send_framing,
                    recv_framing,
                    method,
                } => {
                    link.session = Some(Session {
                        method,
                        send_framing,
                        recv_framing,
                    });
                    if let Some(data) = link.data.clone() {
                        // It leaves the core here.
                        return self.data_link_authenticated(id, data);
                    }
                    self.on_authenticated(id);
                }
                ConnEvent::Packet(packet) => self.on_packet(id, packet),
                ConnEvent::Closed(err) => {
                    self.on_link_closed(id, err);
                    return;
                }
            }
        }
        self.dirty.push(id);
    }

    /// A peer that announces keepalives no slower than our `monitor_timeout` (a Rust node)
    /// is judged by its silence from the start, not only after its first keepalive.
    fn judge_silence_if_announced(&mut self, id: ConnId, kv: &[(String, String)]) {
        let announced = kv
            .iter()
            .find(|(k, _)| k == super::KEEPALIVE_KEY)
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        if let (Some(interval), Some(link)) = (announced, self.links.get_mut(&id)) {
            if !interval.is_zero() && interval < self.cfg.monitor_timeout {
                link.peer_keeps_alive = true;
            }
        }
    }

    /// The remote greeting passed the checks: refuse a second connection to a node.
    fn on_greeted(&mut self, id: ConnId, node: String) {
        let me = self.node_id().to_owned();
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        link.node = Some(Arc::from(node.as_str()));
        let outgoing = link.outgoing;
        if let Some(seed) = link.seed {
            self.seeds[seed].node = Some(node.clone());
        }
        let peer_up = self.peers.get(&node).is_some_and(|p| p.up.is_some());
        let rival = self
            .links
            .iter()
            .find(|(other, l)| **other != id && l.node.as_deref() == Some(&node))
            .map(|(other, l)| (*other, l.outgoing));
        if peer_up {
            self.refuse(id, ConnError::AlreadyConnected);
        } else if let Some((other, other_outgoing)) = rival {
            // Two streams to one node in handshake: keep the one opened by the node with
            // the lower ID (both sides decide alike); of two of ours, keep the older.
            let keep_ours = me < node;
            let drop_this = if outgoing == other_outgoing {
                true
            } else {
                outgoing != keep_ours
            };
            let loser = if drop_this { id } else { other };
            self.refuse(loser, ConnError::AlreadyConnected);
        }
    }

    /// A data connection's greeting passed the checks: ours must have reached the node we
    /// meant; one we accepted is marked as such.
    fn on_data_greeted(&mut self, id: ConnId, node: String, data_id: String) {
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        let data = link.data.get_or_insert(DataLink {
            id: data_id,
            expected: None,
            remote: None,
        });
        data.remote = Some(node.clone());
        if let Some(expected) = data.expected.clone().filter(|e| *e != node) {
            let why = format!("data connection reached node {node} instead of {expected}");
            self.refuse(id, ConnError::Local(why));
        }
    }

    /// Closes the connection to `node`, if it is up, for `why` (a bound it broke).
    pub(super) fn disconnect(&mut self, node: &str, why: String) {
        if let Some(id) = self.peers.get(node).and_then(|p| p.up) {
            self.refuse(id, ConnError::Local(why));
        }
    }

    pub(super) fn refuse(&mut self, id: ConnId, why: ConnError) {
        if let Some(link) = self.links.get_mut(&id) {
            link.conn.close(why);
            self.process_conn_events(id);
        }
    }

    fn on_authenticated(&mut self, id: ConnId) {
        let Some(node) = self
            .links
            .get(&id)
            .and_then(|l| l.node.as_deref().map(String::from))
        else {
            return;
        };
        let peer = self.peers.entry(node.clone()).or_default();
        if peer.up.is_some() {
            self.refuse(id, ConnError::AlreadyConnected);
            return;
        }
        peer.up = Some(id);
        peer.connecting = None;
        let queue = peer.queue.take();
        if let Some(link) = self.links.get_mut(&id).filter(|l| l.handshaking) {
            link.handshaking = false;
            self.pending_handshakes -= 1;
        }
        let others: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(other, l)| **other != id && l.node.as_deref() == Some(&node))
            .map(|(other, _)| *other)
            .collect();
        for other in others {
            self.refuse(other, ConnError::AlreadyConnected);
        }
        self.logs.counts.up += 1;
        throttled!(self, Topic::NodeUpDown, info, %node, "node is up");
        self.events.push_back(Event::NodeUp { node: node.clone() });
        self.directory_node_up(&node);
        self.dirty.push(id);
        if let Some(link) = self.links.get_mut(&id) {
            for packet in queue {
                link.conn.send(&packet);
            }
            let queued = link.conn.pending_bytes();
            if queued > self.cfg.limits.max_queued_bytes {
                self.overflow(id, queued);
            }
        }
    }

    fn on_packet(&mut self, id: ConnId, packet: Packet) {
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        if packet.is_empty() {
            link.peer_keeps_alive = true;
            return;
        }
        let Some(node) = link.node.clone() else {
            return;
        };
        self.handle_remote_packet(&node, packet);
    }

    fn on_link_closed(&mut self, id: ConnId, err: ConnError) {
        let Some(link) = self.links.remove(&id) else {
            return;
        };
        if link.handshaking {
            self.pending_handshakes -= 1;
        }
        self.transports
            .push_back(TransportOutput::Close { conn: id });
        if let Some(data) = link.data {
            return self.data_link_closed(id, data, &err);
        }
        if let Some(seed) = link.seed {
            self.seed_link_closed(seed, &err);
        }
        if let ConnError::Handshake(e) = &err {
            self.note_failed_handshake(link.node.as_deref(), e);
        }
        let Some(node) = link.node else {
            tracing::debug!(conn = id.0, error = %err, "connection closed before greeting");
            return;
        };
        let node = String::from(&*node);
        let was_up = self.peers.get(&node).is_some_and(|p| p.up == Some(id));
        if was_up {
            self.logs.counts.down += 1;
            throttled!(self, Topic::NodeUpDown, info, %node, error = %err, "node is down");
            // The driver's own words for a broken stream, as the original reports
            // e.g. "Unexpected end-of-file"; our own reasons as they display.
            let text = match &err {
                ConnError::Transport(why) => why.clone(),
                other => other.to_string(),
            };
            self.node_down(&node, transport_error(&node, &text));
        } else {
            tracing::debug!(%node, conn = id.0, error = %err, "connection attempt ended");
        }
    }

    /// Counts a failed handshake; a failed authentication is a warning (a few per minute,
    /// the rest counted: see [`super::logs`]).
    fn note_failed_handshake(&mut self, node: Option<&str>, e: &HandshakeError) {
        self.logs.counts.failed_handshakes += 1;
        let auth = matches!(
            e,
            HandshakeError::AuthFailure
                | HandshakeError::MethodNotAccepted(_)
                | HandshakeError::PeerNotVerified
                | HandshakeError::TlsRequired
        );
        if auth {
            self.logs.counts.failed_auth += 1;
            let node = node.unwrap_or("?");
            throttled!(self, Topic::AuthFailure, warn, claimed_node = %node, error = %e, "authentication failed");
        } else {
            tracing::debug!(error = %e, "handshake failed");
        }
    }

    fn seed_link_closed(&mut self, seed: usize, err: &ConnError) {
        let s = &mut self.seeds[seed];
        s.conn = None;
        if matches!(err, ConnError::Handshake(HandshakeError::SelfConnection)) {
            s.is_self = true;
            tracing::debug!(addr = %s.addr, "seed is this node");
            self.become_global(self.now);
            return;
        }
        let up = s
            .node
            .as_ref()
            .is_some_and(|n| self.peers.get(n).is_some_and(|p| p.up.is_some()));
        if !up {
            s.node = None;
            self.schedule_seed_retry(seed);
        }
    }

    fn schedule_seed_retry(&mut self, seed: usize) {
        let cap = self.cfg.monitor_timeout;
        let s = &mut self.seeds[seed];
        s.backoff = if s.backoff.is_zero() {
            Duration::from_secs_f64(self.rng.range_f64(0.6, 1.2))
        } else {
            (s.backoff * 2).min(cap)
        };
        s.next_try = self.now + s.backoff;
    }

    /// The established connection to `node` is gone: drop its queue, fire its monitors.
    pub(super) fn node_down(&mut self, node: &str, reason: Vec<Value>) {
        if let Some(peer) = self.peers.get_mut(node) {
            peer.up = None;
            peer.queue.clear();
            peer.last_error = Some(Value::Array(reason.clone()).to_string());
        }
        self.fire_remote_monitors(node, &reason);
        self.events.push_back(Event::NodeDown {
            node: node.to_owned(),
            reason,
        });
        for i in 0..self.seeds.len() {
            if self.seeds[i].node.as_deref() == Some(node) && self.seeds[i].conn.is_none() {
                self.seeds[i].node = None;
                self.schedule_seed_retry(i);
            }
        }
        self.directory_node_down(node);
        self.forget_idle_peer(node);
    }

    /// Drops the record of a node that holds nothing any more.
    pub(super) fn forget_idle_peer(&mut self, node: &str) {
        let idle = self.peers.get(node).is_some_and(|p| {
            p.up.is_none()
                && p.connecting.is_none()
                && p.queue.is_empty()
                && p.monitored.is_empty()
                && p.watching.is_empty()
        });
        if idle {
            self.peers.remove(node);
        }
    }

    /// Sends a packet to a remote node: now, or once it is connected.
    pub(super) fn send_remote(&mut self, node: &str, packet: Vec<Value>) {
        if let Some(id) = self.peers.get(node).and_then(|p| p.up) {
            let size = packet.iter().map(Value::size_hint).sum();
            if self.room_for(id, size) {
                if let Some(link) = self.links.get_mut(&id) {
                    link.conn.send(&packet);
                    self.sent_on(id);
                }
            }
            return;
        }
        let peer = self.peers.entry(node.to_owned()).or_default();
        if peer.queue.len() >= self.cfg.limits.max_queued_packets {
            tracing::warn!(%node, limit = self.cfg.limits.max_queued_packets, "send queue full; counting as a connection failure");
            peer.queue.clear();
            peer.connecting = None;
            self.fire_remote_monitors(node, &transport_error(node, "send queue overflow"));
            self.forget_idle_peer(node);
            return;
        }
        peer.queue.push(packet);
        self.connect(node);
    }

    /// [`NodeCore::snd_to`] for a message to a node whose connection is up, which needs no
    /// time: `Ok(true)` if nothing was waiting to be written before it (whoever drives the
    /// core must be woken to write it), `Ok(false)` if writes were already pending (it goes
    /// with them). The message comes back when `node` is this node or not up: send it with
    /// `snd_to`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Payload;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let msg = Payload::encode(&("hi",)).unwrap();
    /// let msg = node.snd_up("other", "p", msg).unwrap_err(); // not connected
    /// node.snd_to("other", "p", msg, now);
    /// # }
    /// ```
    pub fn snd_up(&mut self, node: &str, name: &str, msg: Payload) -> Result<bool, Payload> {
        let idle = self.dirty.is_empty() && self.transports.is_empty();
        if node != self.node_id() && self.send_up(node, name, &msg) {
            Ok(idle)
        } else {
            Err(msg)
        }
    }

    /// Sends `[port, msg...]` on the established connection to `node`; false if there is
    /// none. A message that would take the queue over its bound closes the connection
    /// instead (see [`NodeCore::room_for`]).
    pub(super) fn send_up(&mut self, node: &str, port: &str, msg: &Payload) -> bool {
        let Some(id) = self.peers.get(node).and_then(|p| p.up) else {
            return false;
        };
        let size = port.len() + 2 + msg.encoded_len();
        if !self.room_for(id, size) {
            return true; // the connection is closed: the message is lost, monitors fire
        }
        let Some(link) = self.links.get_mut(&id) else {
            return false;
        };
        link.conn.send_payload(port, msg);
        self.sent_on(id);
        true
    }

    /// The established connection to `node` and the framing it sends in: a caller may
    /// write messages for `node` in that framing itself, away from the core, and queue them
    /// with [`NodeCore::send_framed`]. `None` if `node` is not up.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// assert_eq!(node.up_link("other"), None);
    /// # }
    /// ```
    pub fn up_link(&self, node: &str) -> Option<(ConnId, Framing)> {
        let id = self.peers.get(node)?.up?;
        let framing = self.links.get(&id)?.conn.send_framing()?;
        Some((id, framing))
    }

    /// How many times an established connection went down so far: whoever keeps
    /// something per [`NodeCore::up_link`] checks it again when this changes.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// assert_eq!(node.links_down(), 0);
    /// # }
    /// ```
    pub fn links_down(&self) -> u64 {
        self.logs.counts.down
    }

    /// Queues `packets` messages, written by the caller in the framing
    /// [`NodeCore::up_link`] gave for `conn`, on `conn` (taking `bytes`, which is left
    /// empty). False if `conn` is no longer an established connection: the bytes are
    /// dropped, as the messages in its queue were when it went down (its monitors fired
    /// then). Bytes that would take the queue over its bound close the connection instead,
    /// as with [`NodeCore::snd_to`] (and this returns true: it was up). Whoever drives the
    /// core then takes the connection's bytes with [`NodeCore::poll_transport`], one
    /// transmit per buffer.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Payload;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// if let Some((conn, framing)) = node.up_link("other") {
    ///     let mut bytes = Vec::new();
    ///     framing.encode_payload("p", &Payload::encode(&("hi",)).unwrap(), &mut bytes);
    ///     node.send_framed(conn, &mut bytes, 1);
    /// }
    /// # }
    /// ```
    pub fn send_framed(&mut self, conn: ConnId, bytes: &mut Vec<u8>, packets: u64) -> bool {
        if bytes.is_empty() {
            return true;
        }
        let up = self.links.get(&conn).is_some_and(|link| {
            let node = link.node.as_deref();
            node.is_some_and(|n| self.peers.get(n).is_some_and(|p| p.up == Some(conn)))
        });
        if !up {
            bytes.clear();
            return false;
        }
        if self.within_bound(conn, bytes.len()) {
            if let Some(link) = self.links.get_mut(&conn) {
                link.conn.send_framed(bytes, packets);
                self.sent_on(conn);
            }
        }
        bytes.clear();
        if bytes.capacity() == 0 {
            // The connection kept the buffer: the caller fills a written one next.
            *bytes = self.spare_buffers.pop().unwrap_or_default();
        }
        true
    }

    /// Makes room on `id` for a packet of about `size` bytes; if that would take its
    /// queue over `max_queued_bytes`, closes it instead (before any memory is taken) and
    /// returns false.
    fn room_for(&mut self, id: ConnId, size: usize) -> bool {
        if !self.within_bound(id, size) {
            return false;
        }
        if let Some(link) = self.links.get_mut(&id) {
            link.conn
                .reserve_output(size, self.cfg.limits.max_queued_bytes);
        }
        true
    }

    /// Whether `size` more bytes keep `id`'s queue within `max_queued_bytes`; if not, the
    /// connection is closed instead (see [`NodeCore::room_for`]).
    fn within_bound(&mut self, id: ConnId, size: usize) -> bool {
        let Some(link) = self.links.get(&id) else {
            return false;
        };
        let queued = link.conn.pending_bytes() + size;
        if queued > self.cfg.limits.max_queued_bytes {
            self.overflow(id, queued);
            return false;
        }
        true
    }

    /// Bookkeeping after bytes were queued on `id`: keepalive clock, flush, and the last
    /// resort bound.
    fn sent_on(&mut self, id: ConnId) {
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        link.last_tx = self.now;
        // Consecutive messages to one peer mark it once.
        if self.dirty.last() != Some(&id) {
            self.dirty.push(id);
        }
        let queued = link.conn.pending_bytes();
        if queued > self.cfg.limits.max_queued_bytes {
            self.overflow(id, queued);
        }
    }

    /// The last resort against a peer that does not read: its connection is closed (and
    /// its monitors fire) once more than `max_queued_bytes` wait for it.
    fn overflow(&mut self, id: ConnId, queued: usize) {
        let limit = self.cfg.limits.max_queued_bytes;
        tracing::warn!(
            conn = id.0,
            queued,
            limit,
            "send queue overflow: closing the connection"
        );
        let why = format!(
            "send queue overflow: {queued} bytes queued for the peer, the limit is {limit}"
        );
        self.refuse(id, ConnError::Local(why));
    }

    /// How full the queue towards `node` is: bytes waiting for its connection or for it to
    /// connect (those estimated with [`Value::size_hint`]; messages waiting for local
    /// ports count 64 bytes each), against [`Limits::queue_high_water`](super::Limits::queue_high_water).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Backlog, NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// assert_eq!(node.backlog("other"), Backlog::Low);
    /// # }
    /// ```
    pub fn backlog(&self, node: &str) -> Backlog {
        let queued = if node == self.node_id() {
            self.events.len() * 64
        } else {
            self.peers.get(node).map_or(0, |p| {
                let link = p.up.and_then(|id| self.links.get(&id));
                link.map_or(0, |l| l.conn.pending_bytes()) + p.queue.bytes
            })
        };
        let high = self.cfg.limits.queue_high_water;
        if queued > high {
            Backlog::High
        } else if queued <= high / 2 {
            Backlog::Low
        } else {
            Backlog::Normal
        }
    }

    /// The connections not to read from now. While the queue towards some peer is above
    /// the high-water mark (a sender on the driver's own thread, which cannot wait, outran
    /// it), a driver reads only from the congested peers themselves, from connections
    /// still in their handshake and from the master and seed nodes (whose answers a
    /// connection attempt may wait for), so that whoever feeds the senders waits in turn.
    /// Empty otherwise.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// assert!(node.unreadable().is_empty());
    /// # }
    /// ```
    pub fn unreadable(&self) -> Vec<ConnId> {
        let high = self.cfg.limits.queue_high_water;
        let congested = |node: &str| {
            self.peers.get(node).is_some_and(|p| {
                let link = p.up.and_then(|id| self.links.get(&id));
                link.map_or(0, |l| l.conn.pending_bytes()) + p.queue.bytes > high
            })
        };
        if !self.peers.keys().any(|n| congested(n)) {
            return Vec::new();
        }
        let needed = |node: &str| {
            congested(node) || self.dir.master.as_deref() == Some(node) || self.is_seed_node(node)
        };
        self.links
            .iter()
            .filter(|(_, l)| l.conn.is_authenticated())
            .filter(|(_, l)| !l.node.as_deref().is_some_and(needed))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Starts connecting to `node` unless it is connected or being connected.
    pub(super) fn connect(&mut self, node: &str) {
        let peer = self.peers.entry(node.to_owned()).or_default();
        if peer.up.is_none() && peer.connecting.is_none() {
            peer.connecting = Some(Connecting {
                deadline: self.now + self.cfg.monitor_timeout,
                next_try: self.now,
                next_addr: 0,
                addrs: Vec::new(),
                looking_up: false,
            });
            self.start_lookup(node);
        }
    }

    /// Begins finding the addresses of `node` (directory or master).
    fn start_lookup(&mut self, node: &str) {
        if let Some(addrs) = self.directory_lookup(node) {
            self.addresses_found(node, addrs);
        } else if let Some(c) = self.peers.get_mut(node).and_then(|p| p.connecting.as_mut()) {
            c.looking_up = true;
            let node = node.to_owned();
            self.request_find(&node);
        }
    }

    /// The addresses of `node` are known (from the directory or `g_found`); they are tried
    /// in the order of [`NodeConfig::usable_addresses`](super::NodeConfig::usable_addresses).
    /// An empty answer for a node with no address yet gives up at once, as the original
    /// does (capture 03: `g_found NODE null` fires the monitors with "no known address").
    pub(super) fn addresses_found(&mut self, node: &str, addrs: Vec<String>) {
        self.data_addresses_found(node, &addrs);
        let addrs = self.cfg.usable_addresses(addrs);
        if let Some(c) = self.peers.get_mut(node).and_then(|p| p.connecting.as_mut()) {
            c.looking_up = false;
            if !addrs.is_empty() {
                c.addrs = addrs;
                c.next_try = c.next_try.min(self.now);
            } else if c.addrs.is_empty() {
                self.give_up_connecting(node, "no known address");
            }
        }
    }

    /// Stops trying to reach `node`: its queue is dropped and every monitor on it fires.
    fn give_up_connecting(&mut self, node: &str, why: &str) {
        tracing::info!(%node, %why, "giving up connecting");
        self.logs.counts.connect_failures += 1;
        if let Some(peer) = self.peers.get_mut(node) {
            peer.connecting = None;
            peer.queue.clear();
            peer.connect_failures += 1;
            peer.last_error = Some(why.to_owned());
        }
        self.fire_remote_monitors(node, &transport_error(node, why));
        self.forget_idle_peer(node);
    }

    pub(super) fn flush_transmits(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for id in dirty.drain(..) {
            self.flush_link(id);
        }
        self.dirty = dirty;
    }

    /// Gives back a buffer whose bytes were written (what [`TransportOutput::Transmit`]
    /// carried, or any other emptied buffer): a later transmit reuses its memory instead of
    /// growing a new buffer from nothing. A few are kept, none larger than 256 KiB.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.recycle(Vec::with_capacity(4096));
    /// # }
    /// ```
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        let useful = (1..=MAX_SPARE_BYTES).contains(&buf.capacity());
        if self.spare_buffers.len() < MAX_SPARE_BUFFERS && useful {
            buf.clear();
            self.spare_buffers.push(buf);
        }
    }

    /// Queues what one open connection has pending as a [`TransportOutput::Transmit`].
    fn flush_link(&mut self, id: ConnId) {
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        if !link.open || !link.writable {
            return;
        }
        // One transmit per buffer the connection holds (they are not joined): each taken
        // in exchange for a buffer written before, whose memory the connection reuses.
        loop {
            let mut data = self.spare_buffers.pop().unwrap_or_default();
            if !link.conn.poll_transmit(&mut data) {
                if data.capacity() > 0 {
                    self.spare_buffers.push(data);
                }
                break;
            }
            link.last_tx = self.now;
            self.transports
                .push_back(TransportOutput::Transmit { conn: id, data });
        }
        if link.conn.is_closed() {
            // Encrypting what was pending failed: the connection is over.
            self.process_conn_events(id);
        }
    }

    pub(super) fn links_timeout(&self) -> Option<Instant> {
        let links = self.links.values().flat_map(|l| {
            let keepalive = l
                .conn
                .is_authenticated()
                .then(|| l.last_tx + self.cfg.keepalive_interval);
            let silence = (l.conn.is_authenticated() && l.peer_keeps_alive)
                .then(|| l.last_rx + self.cfg.monitor_timeout);
            let stall = self.stalled_deadline(l);
            [l.conn.poll_timeout(), keepalive, silence, stall]
        });
        let peers = self
            .peers
            .values()
            .filter_map(|p| p.connecting.as_ref())
            .flat_map(|c| {
                let retry = (!c.addrs.is_empty() || !c.looking_up).then_some(c.next_try);
                [Some(c.deadline), retry]
            });
        let seeds = self
            .seeds
            .iter()
            .filter(|s| s.wanted())
            .map(|s| Some(s.next_try));
        links.chain(peers).chain(seeds).flatten().min()
    }

    /// When `link` is to be closed for not reading: `monitor_timeout` after its transport
    /// stopped taking bytes, if more than the high-water mark still waits for it then.
    fn stalled_deadline(&self, link: &Link) -> Option<Instant> {
        let since = link.blocked_since?;
        (link.conn.pending_bytes() > self.cfg.limits.queue_high_water)
            .then(|| since + self.cfg.monitor_timeout)
    }

    pub(super) fn links_handle_timeout(&mut self) {
        let now = self.now;
        let ids: Vec<ConnId> = self.links.keys().copied().collect();
        for id in ids {
            let Some(link) = self.links.get_mut(&id) else {
                continue;
            };
            link.conn.handle_timeout(now);
            let stalled = self
                .links
                .get(&id)
                .and_then(|l| self.stalled_deadline(l))
                .is_some_and(|at| now >= at);
            let Some(link) = self.links.get_mut(&id) else {
                continue;
            };
            if stalled {
                let queued = link.conn.pending_bytes();
                throttled!(
                    self,
                    Topic::Refusal,
                    warn,
                    conn = id.0,
                    queued,
                    "peer has read nothing for monitor_timeout: closing the connection"
                );
                self.refuse(
                    id,
                    ConnError::Local(format!(
                    "peer has read nothing for monitor_timeout with {queued} bytes queued for it"
                )),
                );
                continue;
            }
            if link.conn.is_authenticated() {
                if link.peer_keeps_alive && now >= link.last_rx + self.cfg.monitor_timeout {
                    link.conn
                        .close(ConnError::Local("peer silent for monitor_timeout".into()));
                } else if now >= link.last_tx + self.cfg.keepalive_interval {
                    link.conn.send(&[]);
                    link.last_tx = now;
                }
            }
            self.process_conn_events(id);
        }
        self.connect_attempts();
        self.keep_global_links();
        for i in 0..self.seeds.len() {
            if self.seeds[i].wanted() && self.seeds[i].next_try <= now && self.room_for_connection()
            {
                let addr = self.seeds[i].addr.clone();
                self.seeds[i].conn = Some(self.open_link(&addr, Some(i)));
            }
        }
    }

    fn connect_attempts(&mut self) {
        let now = self.now;
        let interval = self.cfg.effective_connect_interval();
        let mut failed = Vec::new();
        let mut attempts = Vec::new();
        let mut lookups = Vec::new();
        for (node, peer) in &mut self.peers {
            let Some(c) = peer.connecting.as_mut() else {
                continue;
            };
            if now >= c.deadline {
                failed.push(node.clone());
            } else if c.next_try <= now {
                c.next_try = now + interval;
                if let Some(addr) = c.addrs.get(c.next_addr % c.addrs.len().max(1)) {
                    c.next_addr += 1;
                    attempts.push(addr.clone());
                    peer.connect_attempts += 1;
                    self.logs.counts.connect_attempts += 1;
                } else if !c.looking_up {
                    lookups.push(node.clone());
                }
            }
        }
        for addr in attempts {
            if self.room_for_connection() {
                self.open_link(&addr, None);
            }
        }
        for node in lookups {
            self.start_lookup(&node);
        }
        for node in failed {
            self.give_up_connecting(&node, "connect timeout");
        }
    }

    /// Whether one of the configured seeds is one of our own bind addresses.
    pub(super) fn seed_is_own_bind(&self) -> bool {
        self.cfg.seeds.iter().any(|s| self.cfg.binds.contains(s))
    }

    /// The nodes found at our seed addresses.
    pub(super) fn is_seed_node(&self, node: &str) -> bool {
        self.seeds.iter().any(|s| s.node.as_deref() == Some(node))
    }
}
