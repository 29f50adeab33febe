//! The node core: a whole AEMP node minus sockets, clocks and user callbacks.
//!
//! [`NodeCore`] owns every [`Connection`](crate::conn::Connection) of the node, the table
//! of local ports, all monitors, the per-node send queues and the directory/database
//! protocol. The driver feeds it stream bytes, connection results and time; every call
//! that can start a timer takes the current time too, so an idle core never works from a
//! stale clock. Two queues come out: [`TransportOutput`]s for the transport (whom to
//! connect to, what to write, what to close; [`NodeCore::poll_transport`]) and [`Event`]s
//! for the application ([`NodeCore::poll_event`]).
//!
//! ```
//! # fn example(now: std::time::Instant) {
//! use aemp_proto::conn::ConnConfig;
//! use aemp_proto::node::{Event, NodeConfig, NodeCore};
//! use aemp_proto::Value;
//!
//! let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[1; 32], now);
//! let port = node.port();
//! node.snd(&port, vec![Value::from("hello")], now);
//! match node.poll_event() {
//!     Some(Event::Deliver { msg, .. }) => assert_eq!(msg, vec![Value::from("hello")]),
//!     other => panic!("{other:?}"),
//! }
//! # }
//! ```

mod config;
mod data;
mod db;
mod directory;
mod ids;
mod limits;
mod links;
mod logs;
mod output;
mod peer_bounds;
mod ports;
mod requests;
mod rng;
mod stats;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use hashbrown::HashMap;
use std::time::Instant;

pub use config::NodeConfig;
pub use data::DataConnection;
pub(crate) use db::{family_from_value, family_to_value, key_string};
pub use ids::{port_id, split_port_id};
pub use limits::Limits;
pub use output::{ConnId, DbChange, Event, MonitorId, RequestId, TransportOutput, WatchId};
pub use rng::Rng;
pub use stats::{CoreStats, PeerState, PeerStats};

use crate::protocol::{Request, RequestKind};
use crate::{Payload, Value};
use directory::Directory;
use links::{Link, Peer, Seed};
use logs::LogThrottle;
use ports::{LocalPort, Monitor};

/// What a monitor does when the port it watches dies.
///
/// ```
/// use aemp_proto::node::MonitorAction;
/// let a = MonitorAction::Kill("n#p".into());
/// assert!(matches!(a, MonitorAction::Kill(_)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum MonitorAction {
    /// Report [`Event::MonitorFired`] to the application.
    Callback,
    /// Kill this port (a port ID) with the same reason, but only on an abnormal death.
    Kill(String),
    /// Send this message, with the kill reason appended, to this port ID.
    Send(String, Vec<Value>),
}

/// The kinds of database query.
///
/// ```
/// use aemp_proto::node::DbQuery;
/// assert_eq!(DbQuery::Keys.request(), "g_db_keys");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbQuery {
    /// The whole family as a map.
    Family,
    /// The keys of the family.
    Keys,
    /// The values of the family.
    Values,
}

impl DbQuery {
    /// The global-protocol request name for this query.
    ///
    /// ```
    /// # use aemp_proto::node::DbQuery;
    /// assert_eq!(DbQuery::Family.request(), "g_db_family");
    /// ```
    pub fn request(self) -> &'static str {
        let kind = match self {
            DbQuery::Family => RequestKind::QueryFamily,
            DbQuery::Keys => RequestKind::QueryKeys,
            DbQuery::Values => RequestKind::QueryValues,
        };
        kind.tag()
    }
}

/// How full the queue towards a node is, from [`NodeCore::backlog`]: senders from outside
/// the node's driver wait at [`Backlog::High`] until it is [`Backlog::Low`] again.
///
/// ```
/// use aemp_proto::node::Backlog;
/// assert_ne!(Backlog::High, Backlog::Low);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backlog {
    /// At most half the high-water mark.
    Low,
    /// Between half the high-water mark and the mark.
    Normal,
    /// Above the high-water mark.
    High,
}

/// A whole AEMP node as a deterministic state machine. See the [module docs](self).
#[derive(Debug)]
pub struct NodeCore {
    cfg: NodeConfig,
    rng: Rng,
    now: Instant,
    /// Unix time (seconds) at `clock_base`.
    unix_base: (Instant, f64),
    transports: VecDeque<TransportOutput>,
    events: VecDeque<Event>,
    next_id: u64,
    port_prefix: String,
    ports: HashMap<Arc<str>, LocalPort>,
    /// The local port the last message went to: messages come in runs to one port, and
    /// this spares their name lookups. Cleared when a port is removed.
    recent_port: Option<Arc<str>>,
    monitors: HashMap<MonitorId, Monitor>,
    links: BTreeMap<ConnId, Link>,
    peers: BTreeMap<String, Peer>,
    seeds: Vec<Seed>,
    dirty: Vec<ConnId>,
    /// Emptied buffers to transmit in (see [`NodeCore::recycle`]).
    spare_buffers: Vec<Vec<u8>>,
    dir: Directory,
    logs: LogThrottle,
    /// Accepted connections not yet authenticated (see [`Limits::max_pending_handshakes`]).
    pending_handshakes: usize,
    /// Live ports each remote node created with `spawn` (see
    /// [`Limits::max_spawned_ports_per_node`]).
    spawned: HashMap<String, usize>,
    /// When the core was made.
    started: Instant,
    /// Data connections being opened, and opened ones waiting to be taken.
    data: data::DataConns,
}

impl NodeCore {
    /// A node with this configuration, whose randomness is drawn from `seed` and whose
    /// clock starts at `now`. It starts connecting to its seeds at once.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("a", None)), &[0; 32], now);
    /// assert_eq!(node.node_id(), "a");
    /// # }
    /// ```
    pub fn new(mut cfg: NodeConfig, seed: &[u8], now: Instant) -> NodeCore {
        announce_keepalives(&mut cfg);
        let mut rng = Rng::new(seed);
        let port_prefix = rng.alnum(8);
        let seeds = cfg
            .seeds
            .iter()
            .map(|a| Seed::new(a.clone(), now))
            .collect();
        let mut node = NodeCore {
            dir: Directory::new(cfg.node_id(), &cfg.binds),
            cfg,
            rng,
            now,
            unix_base: (now, 0.0),
            transports: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 0,
            port_prefix,
            ports: HashMap::new(),
            recent_port: None,
            monitors: HashMap::new(),
            links: BTreeMap::new(),
            peers: BTreeMap::new(),
            seeds,
            dirty: Vec::new(),
            spare_buffers: Vec::new(),
            logs: LogThrottle::new(now),
            pending_handshakes: 0,
            spawned: HashMap::new(),
            started: now,
            data: data::DataConns::default(),
        };
        if node.seed_is_own_bind() {
            node.become_global(now);
        }
        node
    }

    /// This node's ID.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert_eq!(node.node_id(), "me");
    /// # }
    /// ```
    pub fn node_id(&self) -> &str {
        self.cfg.node_id()
    }

    /// The configuration the node runs with.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert!(!node.config().secure);
    /// # }
    /// ```
    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }

    /// Tells the core the wall-clock time (seconds since the Unix epoch) at `now`; used to
    /// answer `time` requests.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.set_unix_time(now, 1_800_000_000.0);
    /// assert_eq!(node.unix_time(), 1_800_000_000.0);
    /// # }
    /// ```
    pub fn set_unix_time(&mut self, at: Instant, unix_secs: f64) {
        self.unix_base = (at, unix_secs);
    }

    /// The wall-clock time at the core's current `now`, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert!(node.unix_time() >= 0.0);
    /// # }
    /// ```
    pub fn unix_time(&self) -> f64 {
        let (at, secs) = self.unix_base;
        secs + self.now.saturating_duration_since(at).as_secs_f64()
    }

    /// Whether this node runs the global (directory and database) service.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert!(!node.is_global());
    /// # }
    /// ```
    pub fn is_global(&self) -> bool {
        self.dir.global
    }

    /// The node IDs of every node with an established connection, sorted.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert!(node.up_nodes().is_empty());
    /// # }
    /// ```
    pub fn up_nodes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, p)| p.up.is_some())
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// Whether `node` is this node or has an established connection.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert!(node.node_is_up("me"));
    /// assert!(!node.node_is_up("other"));
    /// # }
    /// ```
    pub fn node_is_up(&self, node: &str) -> bool {
        node == self.node_id() || self.peers.get(node).is_some_and(|p| p.up.is_some())
    }

    /// The next thing the transport must do, or `None` when there is nothing. Pending
    /// bytes of every connection are gathered into one [`TransportOutput::Transmit`] per
    /// connection.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert_eq!(node.poll_transport(), None);
    /// # }
    /// ```
    pub fn poll_transport(&mut self) -> Option<TransportOutput> {
        if let Some(out) = self.transports.pop_front() {
            return Some(out);
        }
        self.flush_transmits();
        self.transports.pop_front()
    }

    /// The next event for the application, oldest first, or `None`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// node.kil(&p, vec![], now);
    /// assert!(matches!(node.poll_event(), Some(Event::PortDied { .. })));
    /// # }
    /// ```
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Moves every pending event to the end of `into`, oldest first: what
    /// [`poll_event`](Self::poll_event) would return one by one, in one step (when `into` is
    /// empty the two queues are swapped and nothing is copied).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// node.kil(&p, vec![], now);
    /// let mut events = std::collections::VecDeque::new();
    /// node.poll_events_into(&mut events);
    /// assert!(matches!(events.pop_front(), Some(Event::PortDied { .. })));
    /// assert_eq!(node.poll_event(), None);
    /// # }
    /// ```
    pub fn poll_events_into(&mut self, into: &mut VecDeque<Event>) {
        if into.is_empty() {
            std::mem::swap(&mut self.events, into);
        } else {
            into.append(&mut self.events);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert_eq!(node.poll_timeout(), None);
    /// # }
    /// ```
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.links_timeout()
    }

    /// Advances the clock to `now` and runs everything that is due.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use std::time::Duration;
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.handle_timeout(now + Duration::from_secs(1));
    /// # }
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        self.logs.roll(now);
        self.links_handle_timeout();
    }

    fn advance(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends `msg` to the port `port_id` (`node#name`), wherever it is.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.snd("other#p", vec![Value::from("hi")], now); // queued until "other" is reachable
    /// # }
    /// ```
    #[doc(alias = "send")]
    pub fn snd(&mut self, port_id: &str, msg: Vec<Value>, now: Instant) {
        self.snd_payload(port_id, Payload::from(msg), now);
    }

    /// [`NodeCore::snd`] of a [`Payload`]: its CBOR bytes, when it holds bytes, go to a
    /// local port or into a `cbor` connection's output as they are.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Payload;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.snd_payload("other#p", Payload::encode(&("hi", 1)).unwrap(), now);
    /// # }
    /// ```
    pub fn snd_payload(&mut self, port_id: &str, msg: Payload, now: Instant) {
        let (node, name) = split_port_id(port_id);
        self.snd_to(node, name, msg, now);
    }

    /// [`NodeCore::snd_payload`] to port `name` of node `node`, the port ID already split.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Payload;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.snd_to("other", "p", Payload::encode(&("hi",)).unwrap(), now);
    /// # }
    /// ```
    pub fn snd_to(&mut self, node: &str, name: &str, msg: Payload, now: Instant) {
        self.advance(now);
        if node == self.node_id() && !name.is_empty() {
            self.deliver_local(name, msg);
        } else if !self.send_up(node, name, &msg) {
            let mut packet = Vec::with_capacity(msg.len() + 1);
            packet.push(Value::from(name));
            packet.extend(msg.into_values());
            self.send_packet(node, packet, now);
        }
    }

    /// Hands a message to a local port (dropped if the port does not exist).
    pub(super) fn deliver_local(&mut self, port: &str, msg: Payload) {
        if let Some(port) = self.local_port(port) {
            self.deliver(port, msg);
        }
    }

    /// The shared name of local port `port`, `None` (and the message dropped) if it does
    /// not exist.
    pub(super) fn local_port(&mut self, port: &str) -> Option<Arc<str>> {
        if let Some(recent) = self.recent_port.as_ref().filter(|r| ***r == *port) {
            return Some(recent.clone());
        }
        let Some((name, _)) = self.ports.get_key_value(port) else {
            tracing::trace!(%port, "message for a missing port dropped");
            return None;
        };
        self.recent_port = Some(name.clone());
        Some(name.clone())
    }

    /// Hands a message to an existing local port.
    pub(super) fn deliver(&mut self, port: Arc<str>, msg: Payload) {
        self.events.push_back(Event::Deliver { port, msg });
    }

    /// Sends a whole packet (`[port_name, msg...]`) to `node`: delivered locally, written
    /// to the node's connection, or queued while it is being connected.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.send_packet("other", vec![Value::from(""), Value::from("devnull")], now);
    /// # }
    /// ```
    pub fn send_packet(&mut self, node: &str, packet: Vec<Value>, now: Instant) {
        self.advance(now);
        if node == self.node_id() {
            self.handle_local_packet(packet);
        } else {
            self.send_remote(node, packet);
        }
    }

    /// Starts a remote port on `node`: sends `AnyEvent::MP::_spawn` with a fresh port name
    /// and returns the new port's ID at once. On this node the port is created locally and
    /// [`Event::Spawn`] asks the application to run `func`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// let id = node.spawn("other", "My::init", vec![], now);
    /// assert!(id.starts_with("other#"));
    /// # }
    /// ```
    pub fn spawn(&mut self, node: &str, func: &str, args: Vec<Value>, now: Instant) -> String {
        let name = self.spawn_port_name();
        let spawn = Request::Spawn {
            port: name.clone(),
            func: func.to_owned(),
            args,
        };
        self.send_packet(node, spawn.into_packet(), now);
        port_id(node, &name)
    }

    fn spawn_port_name(&mut self) -> String {
        let mut name = self.rng.alnum(9);
        let last = (b'A' + (self.rng.next_u64() % 26) as u8) as char;
        name.push(last);
        name
    }

    /// Delivers the node-protocol and port messages of a packet addressed to this node.
    fn handle_local_packet(&mut self, mut packet: Vec<Value>) {
        if packet.is_empty() {
            return;
        }
        let name = match packet.remove(0) {
            Value::Str(s) => s.into_string(),
            other => other.to_string(),
        };
        if name.is_empty() {
            let me = self.node_id().to_owned();
            self.handle_node_request(&me, packet);
        } else {
            self.deliver_local(&name, packet.into());
        }
    }
}

/// The greeting key a Rust node announces its keepalive interval with (whole seconds, at
/// least 1). The original ignores greeting keys it does not know; a peer that announces it
/// will send a keepalive after that much write silence, so its silence can be judged from
/// the first second of a connection.
pub const KEEPALIVE_KEY: &str = "keepalive";

/// Adds the [`KEEPALIVE_KEY`] announcement to the greeting of every connection.
fn announce_keepalives(cfg: &mut NodeConfig) {
    let secs = cfg.keepalive_interval.as_secs().max(1).to_string();
    let conn = Arc::make_mut(&mut cfg.conn);
    if !conn.extra_kv.iter().any(|(k, _)| k == KEEPALIVE_KEY) {
        conn.extra_kv.push((KEEPALIVE_KEY.into(), secs));
    }
}

/// The reason a monitor gets when its port's node became unreachable.
fn transport_error(node: &str, text: &str) -> Vec<Value> {
    vec![
        Value::from("transport_error"),
        Value::from(node),
        Value::from(text),
    ]
}
