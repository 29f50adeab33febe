//! Settings of a node core.

use std::sync::Arc;
use std::time::Duration;

use super::Limits;
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
    /// The bounds on what peers can make the node hold.
    pub limits: Limits,
    /// The address schemes this node's transports reach besides plain `host:port` (TCP),
    /// most preferred first, e.g. `["quic"]`. Addresses of these schemes are tried before
    /// plain ones; addresses of other schemes are skipped.
    pub schemes: Vec<String>,
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
            limits: Limits::default(),
            schemes: Vec::new(),
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

    /// The addresses of a node in the order to try them: those of our schemes first (in
    /// our order of preference), then plain `host:port` ones; others are left out.
    ///
    /// ```
    /// # use aemp_proto::node::NodeConfig;
    /// # use aemp_proto::conn::ConnConfig;
    /// let mut cfg = NodeConfig::new(ConnConfig::new("n", None));
    /// let addrs = ["10.0.0.1:4040", "quic:10.0.0.1:4041", "sctp:10.0.0.1:9", "[::1]:4040"];
    /// let addrs: Vec<String> = addrs.map(String::from).into();
    /// assert_eq!(cfg.usable_addresses(addrs.clone()), ["10.0.0.1:4040", "[::1]:4040"]);
    /// cfg.schemes = vec!["quic".into()];
    /// assert_eq!(cfg.usable_addresses(addrs), ["quic:10.0.0.1:4041", "10.0.0.1:4040", "[::1]:4040"]);
    /// ```
    pub fn usable_addresses(&self, addrs: Vec<String>) -> Vec<String> {
        let rank = |addr: &str| match address_scheme(addr) {
            None => Some(self.schemes.len()),
            Some(scheme) => self.schemes.iter().position(|s| s == scheme),
        };
        let mut ranked: Vec<(usize, String)> = addrs
            .into_iter()
            .filter_map(|a| rank(&a).map(|r| (r, a)))
            .collect();
        ranked.sort_by_key(|(r, _)| *r);
        ranked.into_iter().map(|(_, a)| a).collect()
    }

    pub(crate) fn effective_connect_interval(&self) -> Duration {
        self.connect_interval.max(Duration::from_millis(400))
    }
}

/// The scheme prefix of an address (`quic` of `quic:host:port`), or `None` for a plain
/// `host:port` (including `[v6]:port`).
fn address_scheme(addr: &str) -> Option<&str> {
    let (prefix, rest) = addr.split_once(':')?;
    let is_scheme = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        && rest.contains(':');
    is_scheme.then_some(prefix)
}
