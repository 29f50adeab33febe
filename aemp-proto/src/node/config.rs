//! Settings of a node core.

use std::sync::Arc;
use std::time::Duration;

use crate::conn::ConnConfig;

/// How a [`NodeCore`](super::NodeCore) behaves.
///
/// ```
/// use aemp_proto::node::NodeConfig;
/// use aemp_proto::conn::ConnConfig;
/// let cfg = NodeConfig::new(ConnConfig::new("seed", Some(b"secret".to_vec())));
/// assert_eq!(cfg.monitor_timeout.as_secs(), 30);
/// ```
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Handshake settings of every connection (carries the node ID and secret).
    pub conn: Arc<ConnConfig>,
    /// The addresses this node listens on, as advertised to others in family `'l`.
    pub binds: Vec<String>,
    /// Seed addresses (`host:port`) to keep connections to.
    pub seeds: Vec<String>,
    /// How long to try to reach a node before giving up; also how long a peer that sends
    /// keepalives may stay silent.
    pub monitor_timeout: Duration,
    /// Spacing of connection attempts (never below 0.4 s).
    pub connect_interval: Duration,
    /// A connection on which nothing was written for this long gets a keepalive packet.
    pub keepalive_interval: Duration,
    /// Refuse remote function calls, spawns and `eval`.
    pub secure: bool,
    /// The most packets queued for a node that is not connected yet; one more counts as
    /// a connection failure (the queue is dropped and monitors fire).
    pub max_queued_packets: usize,
}

impl NodeConfig {
    /// Defaults of the original: monitor timeout 30 s, connect interval 2 s, keepalive
    /// after 15 s of silence.
    ///
    /// ```
    /// # use aemp_proto::node::NodeConfig;
    /// # use aemp_proto::conn::ConnConfig;
    /// let cfg = NodeConfig::new(ConnConfig::new("n", Some(b"s".to_vec())));
    /// assert!(cfg.seeds.is_empty());
    /// ```
    pub fn new(conn: ConnConfig) -> NodeConfig {
        NodeConfig {
            conn: Arc::new(conn),
            binds: Vec::new(),
            seeds: Vec::new(),
            monitor_timeout: Duration::from_secs(30),
            connect_interval: Duration::from_secs(2),
            keepalive_interval: Duration::from_secs(15),
            secure: false,
            max_queued_packets: 1 << 20,
        }
    }

    /// The node ID.
    ///
    /// ```
    /// # use aemp_proto::node::NodeConfig;
    /// # use aemp_proto::conn::ConnConfig;
    /// assert_eq!(NodeConfig::new(ConnConfig::new("n", None)).node_id(), "n");
    /// ```
    pub fn node_id(&self) -> &str {
        &self.conn.node_id
    }

    pub(crate) fn effective_connect_interval(&self) -> Duration {
        self.connect_interval.max(Duration::from_millis(400))
    }
}
