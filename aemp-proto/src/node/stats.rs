//! What an operator asks first: what is this node doing. Table sizes, lifetime counts and
//! one record per known peer, taken as a snapshot.

use std::time::Duration;

use serde::Serialize;

use super::links::{Link, Peer};
use super::NodeCore;
use crate::conn::{Channel, Traffic};

/// The state of a [`NodeCore`], from [`NodeCore::stats`]: table sizes (to check that
/// nothing grows without bound) and counts since the core started.
///
/// ```
/// use aemp_proto::node::CoreStats;
/// assert_eq!(CoreStats::default().ports, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CoreStats {
    /// Seconds since the core was made.
    pub uptime_secs: f64,
    /// Whether this node runs the global database.
    pub global: bool,
    /// The global node it uses as master, if any.
    pub master: Option<String>,
    /// Live local ports.
    pub ports: usize,
    /// Monitors set by this node that have not fired.
    pub monitors: usize,
    /// Remote nodes the core keeps a record of.
    pub known_nodes: usize,
    /// Open or opening byte streams.
    pub links: usize,
    /// Packets queued for nodes that are being connected.
    pub queued_packets: usize,
    /// Local database watches.
    pub watches: usize,
    /// Remote nodes watching database families here (global role), counted per family.
    pub remote_watchers: usize,
    /// Bytes waiting to be written to connected peers or queued for nodes being
    /// connected (see [`Limits::max_queued_bytes`](super::Limits::max_queued_bytes)).
    pub queued_bytes: usize,
    /// About how many bytes the database entries held here take (see
    /// [`Limits::max_db_bytes_per_node`](super::Limits::max_db_bytes_per_node)).
    pub db_bytes: usize,
    /// Database families with entries of this node.
    pub own_families: usize,
    /// Global role: database families with entries of any node.
    pub global_families: usize,
    /// Connections accepted since the start.
    pub accepted: u64,
    /// Times a node came up.
    pub nodes_up: u64,
    /// Times a node went down.
    pub nodes_down: u64,
    /// Handshakes that failed.
    pub failed_handshakes: u64,
    /// Handshakes whose authentication failed.
    pub failed_authentications: u64,
    /// Connection attempts made.
    pub connect_attempts: u64,
    /// Nodes given up on (`connect timeout`, `no known address`).
    pub connect_failures: u64,
}

/// Where a node stands with a peer.
///
/// ```
/// assert_eq!(aemp_proto::node::PeerState::Up.name(), "up");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PeerState {
    /// Connected and authenticated.
    Up,
    /// Being connected (looking up its address or trying it).
    Connecting,
    /// Neither: remembered for what it watches or for our monitors on it.
    Known,
}

impl PeerState {
    /// The state as a word.
    ///
    /// ```
    /// assert_eq!(aemp_proto::node::PeerState::Connecting.name(), "connecting");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            PeerState::Up => "up",
            PeerState::Connecting => "connecting",
            PeerState::Known => "known",
        }
    }
}

/// One known peer, from [`NodeCore::peer_stats`]. Traffic and session are those of the
/// current connection; attempts, failures and the last error count while the core keeps
/// a record of the node.
///
/// ```
/// # fn example(now: std::time::Instant) {
/// # use aemp_proto::conn::ConnConfig;
/// # use aemp_proto::node::{NodeConfig, NodeCore};
/// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
/// assert!(node.peer_stats().is_empty());
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PeerStats {
    /// The node ID.
    pub node: String,
    /// Up, connecting or known.
    pub state: PeerState,
    /// Who opened the connection: we did (`true`) or the peer did.
    pub outgoing: Option<bool>,
    /// The implementation the peer names in its greeting: `AE-2.01` for the Perl
    /// original, `aemp-rs-0.1.0` for this one.
    pub provider: Option<String>,
    /// What protects the connection: `"tls"` (inside it), `"transport"` (an encrypted
    /// transport such as QUIC) or `"none"`.
    pub encryption: Option<&'static str>,
    /// The authentication method the peer used.
    pub auth: Option<String>,
    /// The framing we send in.
    pub send_framing: Option<&'static str>,
    /// The framing the peer sends in.
    pub recv_framing: Option<&'static str>,
    /// What crossed the current connection.
    pub traffic: Traffic,
    /// Bytes waiting to be written to it, or queued until it is connected.
    pub queued_bytes: usize,
    /// Connection attempts made to it.
    pub connect_attempts: u64,
    /// Times connecting to it was given up.
    pub connect_failures: u64,
    /// Why the last connection ended or the last attempt failed.
    pub last_error: Option<String>,
}

impl NodeCore {
    /// The node's table sizes and counts.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.port();
    /// assert_eq!(node.stats().ports, 1);
    /// assert_eq!(node.stats().known_nodes, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> CoreStats {
        let totals = self.logs.totals();
        let (own_families, global_families) = self.dir.family_counts();
        CoreStats {
            uptime_secs: self.uptime().as_secs_f64(),
            global: self.dir.global,
            master: self.dir.master.clone(),
            ports: self.ports.len(),
            monitors: self.monitors.len(),
            known_nodes: self.peers.len(),
            links: self.links.len(),
            queued_packets: self.peers.values().map(|p| p.queue.len()).sum(),
            watches: self.dir.watch_count(),
            remote_watchers: self.dir.remote_watcher_count(),
            queued_bytes: self
                .links
                .values()
                .map(|l| l.conn.pending_bytes())
                .sum::<usize>()
                + self.peers.values().map(|p| p.queue.bytes).sum::<usize>(),
            db_bytes: self.dir.bytes(),
            own_families,
            global_families,
            accepted: totals.accepted,
            nodes_up: totals.up,
            nodes_down: totals.down,
            failed_handshakes: totals.failed_handshakes,
            failed_authentications: totals.failed_auth,
            connect_attempts: totals.connect_attempts,
            connect_failures: totals.connect_failures,
        }
    }

    /// One record per known peer, in node ID order.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore, PeerState};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.snd("other#port", vec![], now); // a node to connect to
    /// let peers = node.peer_stats();
    /// assert_eq!((peers[0].node.as_str(), peers[0].state), ("other", PeerState::Connecting));
    /// # }
    /// ```
    pub fn peer_stats(&self) -> Vec<PeerStats> {
        self.peers
            .iter()
            .map(|(node, peer)| {
                let link = peer.up.and_then(|id| self.links.get(&id));
                peer_record(node, peer, link)
            })
            .collect()
    }

    /// How long the core has run, by the time it was last given.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert_eq!(node.uptime(), std::time::Duration::ZERO);
    /// # }
    /// ```
    pub fn uptime(&self) -> Duration {
        self.now.saturating_duration_since(self.started)
    }
}

fn peer_record(node: &str, peer: &Peer, link: Option<&Link>) -> PeerStats {
    let state = if link.is_some() {
        PeerState::Up
    } else if peer.connecting.is_some() {
        PeerState::Connecting
    } else {
        PeerState::Known
    };
    let session = link.and_then(|l| l.session.as_ref());
    PeerStats {
        node: node.to_owned(),
        state,
        outgoing: link.map(|l| l.outgoing),
        provider: link.and_then(|l| l.provider.clone()),
        encryption: link.map(|l| match (l.conn.channel(), l.conn.tls_running()) {
            (Channel::Encrypted { .. }, _) => "transport",
            (Channel::Plain, true) => "tls",
            (Channel::Plain, false) => "none",
        }),
        auth: session.map(|s| s.method.clone()),
        send_framing: session.map(|s| s.send_framing.name()),
        recv_framing: session.map(|s| s.recv_framing.name()),
        traffic: link.map(|l| l.conn.traffic()).unwrap_or_default(),
        queued_bytes: link.map_or(0, |l| l.conn.pending_bytes()) + peer.queue.bytes,
        connect_attempts: peer.connect_attempts,
        connect_failures: peer.connect_failures,
        last_error: peer.last_error.clone(),
    }
}
