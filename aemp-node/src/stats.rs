//! Statistics: a snapshot of what the node is doing ([`Node::stats`]), the named call
//! other nodes use to ask for it ([`STATS_FUNCTION`]), and (feature `metrics`) the same
//! figures exported through the `metrics` facade.

use aemp_proto::node::{CoreStats, PeerStats};
use aemp_proto::Value;
use serde::Serialize;

use crate::{Node, PortId};

/// The function a Rust node answers with its statistics: `["", "aemp_rs::stats", REPLY]`
/// makes it send one message, `[STATS]` (a map, as [`NodeStats`] serializes), to REPLY.
/// Perl nodes do not know it.
pub const STATS_FUNCTION: &str = "aemp_rs::stats";

/// A snapshot of a node's state, from [`Node::stats`].
///
/// ```
/// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
/// let stats = node.stats();
/// assert_eq!(stats.node, node.node_id().as_str());
/// assert!(stats.peers.is_empty());
/// assert_eq!(stats.local_waiting, 0);
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NodeStats {
    /// The node's ID.
    pub node: String,
    /// The implementation and its version (`aemp-rs-0.1.0`).
    pub provider: &'static str,
    /// Table sizes and counts of the node.
    #[serde(flatten)]
    pub core: CoreStats,
    /// Messages sent to local ports that their handlers have not had yet.
    pub local_waiting: usize,
    /// One record per known peer.
    pub peers: Vec<PeerStats>,
}

impl Node {
    /// What the node is doing now: its tables and counts, and per known peer its state,
    /// connection (encryption, authentication, framings), traffic, queued bytes,
    /// connection attempts and the last error.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.port();
    /// assert_eq!(node.stats().core.ports, 1);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> NodeStats {
        let (core, peers) = self.with_core(|core, _| (core.stats(), core.peer_stats()));
        NodeStats {
            node: self.node_id().as_str().to_owned(),
            provider: concat!("aemp-rs-", env!("CARGO_PKG_VERSION")),
            core,
            local_waiting: self.shared.local.waiting(),
            peers,
        }
    }
}

/// `aemp_rs::stats REPLY`: sends the statistics to REPLY.
pub(crate) fn answer(node: &Node, args: Vec<Value>) {
    let Some(reply) = args.first().and_then(Value::as_str) else {
        tracing::debug!("statistics requested without a reply port");
        return;
    };
    match aemp_proto::to_value(&node.stats()) {
        Ok(stats) => node.snd_values(&PortId::from(reply), vec![stats]),
        Err(e) => tracing::warn!(error = %e, "cannot encode the statistics"),
    }
}

/// Exports the statistics through the `metrics` facade every few seconds.
#[cfg(feature = "metrics")]
pub(crate) fn export_periodically(node: &Node) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
    export(&node.stats());
    let n = node.clone();
    node.after(EVERY, move || export_periodically(&n));
}

#[cfg(feature = "metrics")]
fn export(s: &NodeStats) {
    let node = s.node.clone();
    let gauges = [
        ("aemp_ports", s.core.ports as f64),
        ("aemp_monitors", s.core.monitors as f64),
        ("aemp_known_nodes", s.core.known_nodes as f64),
        ("aemp_connections", s.core.links as f64),
        ("aemp_queued_bytes", s.core.queued_bytes as f64),
        ("aemp_local_waiting", s.local_waiting as f64),
        ("aemp_db_bytes", s.core.db_bytes as f64),
        ("aemp_uptime_seconds", s.core.uptime_secs),
    ];
    for (name, value) in gauges {
        metrics::gauge!(name, "node" => node.clone()).set(value);
    }
    let counters = [
        ("aemp_accepted_total", s.core.accepted),
        ("aemp_nodes_up_total", s.core.nodes_up),
        ("aemp_nodes_down_total", s.core.nodes_down),
        ("aemp_failed_handshakes_total", s.core.failed_handshakes),
        (
            "aemp_failed_authentications_total",
            s.core.failed_authentications,
        ),
        ("aemp_connect_attempts_total", s.core.connect_attempts),
        ("aemp_connect_failures_total", s.core.connect_failures),
    ];
    for (name, value) in counters {
        metrics::counter!(name, "node" => node.clone()).absolute(value);
    }
    for p in &s.peers {
        let labels = [("node", node.clone()), ("peer", p.node.clone())];
        metrics::gauge!("aemp_peer_queued_bytes", &labels).set(p.queued_bytes as f64);
        metrics::gauge!("aemp_peer_bytes_in", &labels).set(p.traffic.bytes_in as f64);
        metrics::gauge!("aemp_peer_bytes_out", &labels).set(p.traffic.bytes_out as f64);
        metrics::gauge!("aemp_peer_messages_in", &labels).set(p.traffic.packets_in as f64);
        metrics::gauge!("aemp_peer_messages_out", &labels).set(p.traffic.packets_out as f64);
    }
}
