//! Messages to other nodes leave without the core's lock.
//!
//! While the connection to a node is up, the node has an outbox: a sender writes its
//! message, in the connection's framing, into the outbox's buffer under the outbox's lock
//! only. Whoever locks the core next first moves the bytes of every outbox that has some
//! into its connection ([`Shared::core`]): the driver, woken when an outbox gets its first
//! bytes, or any call into the core. So a message sent this way stays ahead of whatever its
//! sender does through the core afterwards (a `kil`, a `mon`, a message to a node not up).
//!
//! Flow control and memory: an outbox takes at most [`Outboxes::limit`] bytes. A sender
//! that finds it fuller, or marked congested (the connection's queue was above its
//! high-water mark when the outbox was last emptied), goes through the core, which moves
//! the waiting bytes first and tells the sender whether to wait for room (see
//! [`crate::flow`]): a sender gets at most one outbox's worth past the mark, and what waits
//! for a peer stays within the core's bound plus one outbox.
//!
//! Loss: an outbox belongs to one connection. When that connection goes down (which the
//! core notices with its lock held), the outbox is closed before the lock is released and
//! its bytes are dropped with the rest of the connection's queue, as its monitors fire. A
//! sender that finds the outbox closed goes through the core, which queues for the next
//! connection, so nothing sent after the monitors fired is lost silently.
//!
//! Lock order: the core's lock, then `Outboxes::by_node`, then an outbox's lock, then
//! `Outboxes::ready` (a sender takes an outbox's lock and then `ready`; emptying takes
//! `ready` alone, then each outbox's lock; closing takes `by_node`, then each outbox's).

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use aemp_proto::node::{Backlog, ConnId, NodeCore};
use aemp_proto::{Encoded, Framing};
use hashbrown::HashMap;

use crate::shared::{lock, Shared};
use crate::PortId;

/// The most bytes an outbox takes (fewer when the queues' high-water mark is low).
const MAX_OUTBOX_BYTES: usize = 64 * 1024;
/// Room counted for a message's framing beside its port name and values.
const FRAMING_OVERHEAD: usize = 16;

/// The outboxes of a node's up connections and the list of those with bytes waiting.
pub(crate) struct Outboxes {
    by_node: Mutex<HashMap<Arc<str>, Arc<Outbox>>>,
    /// Outboxes with bytes waiting, in the order they got their first.
    ready: Mutex<Vec<Arc<Outbox>>>,
    /// Whether `ready` may have outboxes (read without its lock on every core lock).
    any_ready: AtomicBool,
    /// The core's [`NodeCore::links_down`] when the outboxes were last checked against it.
    seen_down: AtomicU64,
    /// The most bytes one outbox takes.
    limit: usize,
}

/// The bytes waiting for one connection.
pub(crate) struct Outbox {
    node: Arc<str>,
    conn: ConnId,
    framing: Framing,
    /// The connection went down: the outbox takes nothing any more (set and read with
    /// `state` locked; read without it to skip a closed outbox a thread remembers).
    closed: AtomicBool,
    /// The connection's queue was above the high-water mark when last looked at (under the
    /// core's lock): senders go through the core, which makes them wait for room.
    congested: AtomicBool,
    state: Mutex<OutboxState>,
}

#[derive(Default)]
struct OutboxState {
    bytes: Vec<u8>,
    packets: u64,
    /// In the ready list.
    listed: bool,
}

/// The core's lock, taken through [`Shared::core`]: the outboxes' bytes went to their
/// connections when it was taken, and outboxes whose connection went down meanwhile are
/// closed before it is released.
pub(crate) struct CoreGuard<'a> {
    core: MutexGuard<'a, NodeCore>,
    outboxes: &'a Outboxes,
}

impl Shared {
    /// Locks the core, moving the bytes waiting in outboxes to their connections first.
    pub(crate) fn core(&self) -> CoreGuard<'_> {
        let mut core = lock(&self.core);
        self.outboxes.drain_into(&mut core);
        CoreGuard {
            core,
            outboxes: &self.outboxes,
        }
    }
}

impl Deref for CoreGuard<'_> {
    type Target = NodeCore;
    fn deref(&self) -> &NodeCore {
        &self.core
    }
}

impl DerefMut for CoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut NodeCore {
        &mut self.core
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        self.outboxes.close_gone(&self.core);
    }
}

impl Outbox {
    /// Notes whether the connection's queue is above the high-water mark.
    fn note_backlog(&self, core: &NodeCore) {
        let high = core.backlog(&self.node) == Backlog::High;
        self.congested.store(high, Ordering::Relaxed);
    }

    /// Takes nothing more and lets go of what waits.
    fn close(&self) {
        let mut state = lock(&self.state);
        self.closed.store(true, Ordering::Relaxed);
        state.bytes = Vec::new();
        state.packets = 0;
    }
}

thread_local! {
    /// The outbox this thread sent to last, and the node (ours) it belongs to.
    static RECENT: RefCell<Option<(Weak<Shared>, Arc<Outbox>)>> = const { RefCell::new(None) };
}

impl Outboxes {
    /// Outboxes for a node whose byte mark for queues is `queue_high_water`.
    pub(crate) fn new(queue_high_water: usize) -> Outboxes {
        Outboxes {
            by_node: Mutex::default(),
            ready: Mutex::default(),
            any_ready: AtomicBool::new(false),
            seen_down: AtomicU64::new(0),
            limit: (queue_high_water / 2).clamp(1, MAX_OUTBOX_BYTES),
        }
    }

    /// Gives `node` an outbox if its connection is up and it has none, or notes whether its
    /// queue is congested now if it has one (called after a message to it went through the
    /// core).
    pub(crate) fn open(&self, core: &NodeCore, node: &str) {
        let mut by_node = lock(&self.by_node);
        if let Some(outbox) = by_node.get(node) {
            outbox.note_backlog(core);
            return;
        }
        // JSON connections (Perl nodes that prefer it) go through the core: their messages
        // are converted through values, and their framed size is not known beforehand.
        let up = core
            .up_link(node)
            .filter(|(_, framing)| *framing != Framing::Json);
        if let Some((conn, framing)) = up {
            let node: Arc<str> = node.into();
            let outbox = Outbox {
                node: node.clone(),
                conn,
                framing,
                closed: AtomicBool::new(false),
                congested: AtomicBool::new(false),
                state: Mutex::default(),
            };
            by_node.insert(node, Arc::new(outbox));
        }
    }

    /// Moves the bytes of every outbox listed as ready to its connection.
    fn drain_into(&self, core: &mut NodeCore) {
        if !self.any_ready.load(Ordering::Relaxed) {
            return;
        }
        let ready = {
            let mut ready = lock(&self.ready);
            self.any_ready.store(false, Ordering::Relaxed);
            std::mem::take(&mut *ready)
        };
        for outbox in ready {
            let mut state = lock(&outbox.state);
            state.listed = false;
            let packets = std::mem::take(&mut state.packets);
            core.send_framed(outbox.conn, &mut state.bytes, packets);
            if state.bytes.capacity() > 2 * self.limit {
                // A large buffer handed over in exchange is not kept idle.
                state.bytes = Vec::new();
            }
            outbox.note_backlog(core);
        }
    }

    /// Closes the outboxes whose connection is no longer up, when one went down since the
    /// last look.
    fn close_gone(&self, core: &NodeCore) {
        // Read on every release of the core's lock: a plain load, which leaves the cache
        // line shared (only written under the core's lock, so no read-modify-write).
        let down = core.links_down();
        if self.seen_down.load(Ordering::Relaxed) == down {
            return;
        }
        self.seen_down.store(down, Ordering::Relaxed);
        lock(&self.by_node).retain(|node, outbox| {
            let up = core
                .up_link(node)
                .is_some_and(|(conn, _)| conn == outbox.conn);
            if !up {
                outbox.close();
            }
            up
        });
    }

    /// Closes every outbox (the node stops), dropping what waits in them.
    pub(crate) fn close_all(&self) {
        for (_, outbox) in lock(&self.by_node).drain() {
            outbox.close();
        }
        lock(&self.ready).clear();
    }

    /// The open outbox for `node`, if it has one.
    fn get(&self, node: &str) -> Option<Arc<Outbox>> {
        lock(&self.by_node).get(node).cloned()
    }
}

/// Writes the message `msg` for `port` into the outbox of the port's node (see the module
/// documentation). `Some(wake)` if it was queued, `wake` telling whether the driver must be
/// woken; `None` if it must go through the core instead: no open outbox (the node is not
/// up, the outbox was closed, or the connection speaks JSON), a full or congested one, or
/// a message larger than an outbox.
pub(crate) fn send(shared: &Arc<Shared>, port: &PortId, msg: &Encoded<'_>) -> Option<bool> {
    let (node, name) = (port.node(), port.name());
    let size = name.len() + msg.encoded_len() + FRAMING_OVERHEAD;
    if size > shared.outboxes.limit {
        return None;
    }
    let recent = RECENT.with_borrow(|recent| match recent {
        Some((owner, outbox))
            if Weak::as_ptr(owner) == Arc::as_ptr(shared)
                && *outbox.node == *node
                && !outbox.closed.load(Ordering::Relaxed) =>
        {
            Some(outbox.clone())
        }
        _ => None,
    });
    let outbox = match recent {
        Some(outbox) => outbox,
        None => {
            let outbox = shared.outboxes.get(node)?;
            RECENT.set(Some((Arc::downgrade(shared), outbox.clone())));
            outbox
        }
    };
    let mut state = lock(&outbox.state);
    if outbox.closed.load(Ordering::Relaxed)
        || outbox.congested.load(Ordering::Relaxed)
        || state.bytes.len() + size > shared.outboxes.limit
    {
        return None;
    }
    outbox.framing.encode_encoded(name, msg, &mut state.bytes);
    state.packets += 1;
    if std::mem::replace(&mut state.listed, true) {
        return Some(false);
    }
    // Listed under the outbox's lock: a sender that finds it listed may rely on it.
    let outboxes = &shared.outboxes;
    lock(&outboxes.ready).push(outbox.clone());
    outboxes.any_ready.store(true, Ordering::Relaxed);
    Some(true)
}
