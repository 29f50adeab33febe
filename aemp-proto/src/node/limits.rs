//! The bounds on what peers can make a node hold, in one place.

/// How much memory peers can make a [`NodeCore`](super::NodeCore) hold. Every bound is
/// checked before the memory is taken; what happens beyond it is said per field.
/// SECURITY.md lists these with the per-connection bounds of
/// [`ConnConfig`](crate::conn::ConnConfig).
///
/// ```
/// use aemp_proto::node::Limits;
/// let limits = Limits { max_queued_bytes: 8 << 20, ..Limits::default() };
/// assert_eq!(limits.queue_high_water, 4 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most packets queued for a node that is not connected yet; one more counts as
    /// a connection failure (the queue is dropped and monitors fire). Default 1,048,576.
    pub max_queued_packets: usize,
    /// The most bytes queued towards one connected peer, counted as they are produced
    /// (the last resort against a peer that does not read): beyond it the connection is
    /// closed and monitors fire. Senders that respect
    /// [`NodeCore::backlog`](super::NodeCore::backlog) never get there. Default 64 MiB.
    pub max_queued_bytes: usize,
    /// Above this many bytes queued towards a peer (or messages waiting for local ports,
    /// counted as 64 bytes each) its backlog is [`Backlog::High`](super::Backlog::High):
    /// senders should wait until it is [`Backlog::Low`](super::Backlog::Low) (at most half
    /// of this). A peer whose transport has taken nothing for `monitor_timeout` while more
    /// than this waits for it is disconnected. Default 4 MiB.
    pub queue_high_water: usize,
    /// Global role: the most database entry bytes (keys, values and about 48 bytes of
    /// bookkeeping each) one node may store here, its slaves' included when it is a global
    /// node itself; an update beyond it closes the connection to that node, whose entries
    /// then go as when it leaves. Default 32 MiB (more could not travel in one `g_set`).
    pub max_db_bytes_per_node: usize,
    /// Global role: the most database families one node may watch here (`g_mon1`); a
    /// watch beyond it closes the connection to that node. Default 65,536.
    pub max_watched_families_per_node: usize,
    /// The most ports one remote node may have created here with `spawn` that are still
    /// alive; a spawn beyond it is refused (the port is not created; a monitor on it
    /// fires with `no_such_port`). Default 65,536.
    pub max_spawned_ports_per_node: usize,
    /// The most incoming connections still in their handshake (greeting, TLS,
    /// authentication); a connection accepted beyond it is closed at once. Each is closed
    /// when its handshake deadline passes. Default 256.
    pub max_pending_handshakes: usize,
    /// The most connections in all, incoming and outgoing, in any state: an incoming
    /// connection beyond it is closed at once, and connection attempts wait (until
    /// `monitor_timeout` gives them up). With the per-connection bounds this bounds
    /// what all peers together can make the node hold. Default 8,192.
    pub max_connections: usize,
}

impl Limits {
    /// Every bound with the name it has in the rc file (and in SECURITY.md).
    ///
    /// ```
    /// use aemp_proto::node::Limits;
    /// let mut limits = Limits::default();
    /// for (name, value) in limits.named_mut() {
    ///     if name == "max_connections" {
    ///         *value = 100;
    ///     }
    /// }
    /// assert_eq!(limits.max_connections, 100);
    /// ```
    pub fn named_mut(&mut self) -> [(&'static str, &mut usize); 8] {
        [
            ("max_queued_packets", &mut self.max_queued_packets),
            ("max_queued_bytes", &mut self.max_queued_bytes),
            ("queue_high_water", &mut self.queue_high_water),
            ("max_db_bytes_per_node", &mut self.max_db_bytes_per_node),
            (
                "max_watched_families_per_node",
                &mut self.max_watched_families_per_node,
            ),
            (
                "max_spawned_ports_per_node",
                &mut self.max_spawned_ports_per_node,
            ),
            ("max_pending_handshakes", &mut self.max_pending_handshakes),
            ("max_connections", &mut self.max_connections),
        ]
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_queued_packets: 1 << 20,
            max_queued_bytes: 64 << 20,
            queue_high_water: 4 << 20,
            max_db_bytes_per_node: 32 << 20,
            max_watched_families_per_node: 1 << 16,
            max_spawned_ports_per_node: 1 << 16,
            max_pending_handshakes: 256,
            max_connections: 8192,
        }
    }
}
