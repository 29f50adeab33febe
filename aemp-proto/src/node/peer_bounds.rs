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
}
