//! The per-peer bounds on tables a remote node grows here (see [`Limits`](super::Limits)).

use super::logs::{throttled, Topic};
use super::NodeCore;

impl NodeCore {
    /// Whether `node` may hold `bytes` of database entries here; if not, it is
    /// disconnected (its entries then go as when it leaves).
    pub(super) fn db_within_limit(&mut self, node: &str, bytes: usize) -> bool {
        let limit = self.cfg.limits.max_db_bytes_per_node;
        if bytes <= limit {
            return true;
        }
        throttled!(self, Topic::Refusal, warn, %node, bytes, limit,
            "database entries over max_db_bytes_per_node: disconnecting the node");
        self.disconnect(
            node,
            format!("database entries of {bytes} bytes, over max_db_bytes_per_node ({limit})"),
        );
        false
    }

    /// Whether `node` may watch one more database family here; if not, it is
    /// disconnected.
    pub(super) fn watch_within_limit(&mut self, node: &str) -> bool {
        let limit = self.cfg.limits.max_watched_families_per_node;
        if self.dir.watched_by(node) < limit {
            return true;
        }
        throttled!(self, Topic::Refusal, warn, %node, limit,
            "watches over max_watched_families_per_node: disconnecting the node");
        self.disconnect(
            node,
            format!("more than max_watched_families_per_node ({limit}) database watches"),
        );
        false
    }

    /// Whether `node` may create one more port here with `spawn`; if not, the spawn is
    /// refused (the node stays connected: a refused spawn holds nothing).
    pub(super) fn spawn_within_limit(&mut self, node: &str) -> bool {
        let limit = self.cfg.limits.max_spawned_ports_per_node;
        if self.spawned.get(node).copied().unwrap_or(0) < limit {
            return true;
        }
        throttled!(self, Topic::Refusal, warn, %node, limit,
            "spawn refused: the node's spawned ports are at max_spawned_ports_per_node");
        false
    }

    /// Port `port`, just created, was spawned by `node`.
    pub(super) fn note_spawned(&mut self, node: &str, port: &str) {
        if let Some(p) = self.ports.get_mut(port) {
            p.spawned_by = Some(node.to_owned());
            *self.spawned.entry(node.to_owned()).or_default() += 1;
        }
    }

    /// A port spawned by `node` died.
    pub(super) fn forget_spawned(&mut self, node: &str) {
        if let Some(count) = self.spawned.get_mut(node) {
            *count -= 1;
            if *count == 0 {
                self.spawned.remove(node);
            }
        }
    }

    /// Why an incoming connection must be closed at once, if it must: too many
    /// connections, or too many still in their handshake.
    pub(super) fn incoming_refusal(&mut self) -> Option<String> {
        let limits = &self.cfg.limits;
        let why = if !self.room_for_connection() {
            format!(
                "{} connections open, max_connections is {}",
                self.links.len(),
                limits.max_connections
            )
        } else if self.pending_handshakes >= limits.max_pending_handshakes {
            format!(
                "{} connections in their handshake, max_pending_handshakes is {}",
                self.pending_handshakes, limits.max_pending_handshakes
            )
        } else {
            return None;
        };
        throttled!(self, Topic::Refusal, warn, %why, "incoming connection refused");
        Some(why)
    }

    /// Whether one more connection stays within [`Limits::max_connections`](super::Limits).
    pub(super) fn room_for_connection(&self) -> bool {
        self.links.len() < self.cfg.limits.max_connections
    }
}
