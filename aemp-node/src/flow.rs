//! Flow control for senders: a sender faster than its peer (or than the local ports it
//! feeds) waits instead of losing its connection.
//!
//! The rule: when the queue towards a node is above the high-water mark
//! (`Limits::queue_high_water`, 4 MiB by default) after a message was queued,
//!
//! - a call from outside the node's driver waits until the queue is down to half the mark:
//!   [`Node::snd`](crate::Node::snd) blocks the calling thread,
//!   [`Node::snd_async`](crate::Node::snd_async) awaits;
//! - a call from the driver itself (a receive handler, a monitor callback, a timer) cannot
//!   wait without stopping everything: it returns at once, and the driver stops reading from
//!   every peer but the congested ones until their queues drain, so whoever feeds the
//!   handler waits in turn.
//!
//! A message to another node is first written into that node's outbox (see
//! [`crate::outbox`]), which the driver empties into the queue; a sender looks at the mark
//! when the outbox is full, so it may run one outbox's worth (64 KiB at most) past it.
//!
//! Messages to the node's own ports wait in per-port queues (see [`crate::local`]), counted
//! against the same mark (64 bytes each): a sender outside the driver waits there too; a
//! handler sending to local ports goes on (its messages are delivered in the next round).
//!
//! `max_queued_bytes` (64 MiB) stays the last resort against a peer that does not read at
//! all: its connection is closed and its monitors fire.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aemp_proto::node::Backlog;
use event_listener::Listener;

use crate::Node;

/// How often a blocked sender looks again even without a wake-up (the driver wakes
/// waiters after every round that moved anything, so this is only a safety net).
const RECHECK: Duration = Duration::from_secs(1);

thread_local! {
    /// The thread runs a node's driver right now.
    static ON_DRIVER: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as running a driver while alive.
pub(crate) struct DriverThread(bool);

impl DriverThread {
    pub(crate) fn enter() -> DriverThread {
        DriverThread(ON_DRIVER.replace(true))
    }

    /// Whether the calling thread runs a driver now.
    pub(crate) fn is_current() -> bool {
        ON_DRIVER.get()
    }
}

impl Drop for DriverThread {
    fn drop(&mut self) {
        ON_DRIVER.set(self.0);
    }
}

impl Node {
    /// Whether a sender must wait for room: the queue it used is above the high-water mark
    /// (`high`) and the sender is not the driver (which throttles its input instead).
    pub(crate) fn must_wait(high: bool) -> bool {
        high && !DriverThread::is_current()
    }

    /// Whether the queue towards `node` is down to half the mark (or the node stops).
    fn has_room(&self, node: &str) -> bool {
        self.shared.stopping.load(Ordering::Acquire)
            || if node == self.node_id().as_str() {
                self.shared.local.has_room()
            } else {
                self.shared.core().backlog(node) == Backlog::Low
            }
    }

    /// Blocks until the queue towards `node` has room.
    pub(crate) fn wait_for_room(&self, node: &str) {
        loop {
            let listener = self.shared.room.listen();
            if self.has_room(node) {
                return;
            }
            listener.wait_timeout(RECHECK);
        }
    }

    /// Waits until the queue towards `node` has room.
    pub(crate) async fn room(&self, node: &str) {
        loop {
            let listener = self.shared.room.listen();
            if self.has_room(node) {
                return;
            }
            listener.await;
        }
    }
}
