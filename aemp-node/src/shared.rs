//! The state a node's handles and its driver share.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::Instant;

use aemp_proto::node::{MonitorId, NodeCore, RequestId, WatchId};
use aemp_proto::Value;
use hashbrown::HashMap;

use crate::async_port::Mailbox;
use crate::dataconn::DataState;
use crate::db::FamilyWatch;
use crate::local::LocalQueues;
use crate::outbox::Outboxes;
use crate::services::Services;
use crate::{Message, NodeEvent, NodeId, PortId, Reason};

/// Locks a mutex, ignoring poisoning (a panicking user callback never holds our locks, and
/// the data behind them stays consistent).
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A receive handler: returns the failure text, if it failed.
pub(crate) type Handler = Arc<Mutex<dyn FnMut(Message) -> Option<String> + Send>>;
/// A node up/down watcher.
pub(crate) type NodeWatcher = Arc<Mutex<dyn FnMut(&NodeEvent) + Send>>;
/// A database family watcher: its copy of the family and its callback.
pub(crate) type DbWatcher = Arc<Mutex<FamilyWatch>>;

/// The receive handlers of one callback port.
pub(crate) struct Callbacks {
    /// The port's ID (shared: handlers run in its context).
    pub(crate) id: PortId,
    pub(crate) default: Option<Handler>,
    pub(crate) tags: HashMap<String, Handler>,
}

/// Where messages for a local port go.
pub(crate) enum PortEntry {
    Callbacks(Callbacks),
    Async(Arc<Mailbox>),
}

/// Everything the application registered that the driver dispatches to.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) ports: HashMap<String, PortEntry>,
    pub(crate) monitors: HashMap<MonitorId, Box<dyn FnOnce(Reason) + Send>>,
    pub(crate) node_watchers: BTreeMap<u64, NodeWatcher>,
    pub(crate) db_watchers: HashMap<WatchId, DbWatcher>,
    pub(crate) queries: HashMap<RequestId, async_channel::Sender<Value>>,
    pub(crate) next_id: u64,
}

/// Timers run by the driver (`after`, `cal` and receive timeouts).
#[derive(Default)]
pub(crate) struct Timers {
    next_id: u64,
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    actions: HashMap<u64, Box<dyn FnOnce() + Send>>,
}

impl Timers {
    pub(crate) fn add(&mut self, at: Instant, action: Box<dyn FnOnce() + Send>) -> u64 {
        self.next_id += 1;
        self.heap.push(Reverse((at, self.next_id)));
        self.actions.insert(self.next_id, action);
        self.next_id
    }

    pub(crate) fn cancel(&mut self, id: u64) {
        self.actions.remove(&id);
    }

    /// The earliest deadline of a timer that is still armed.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.heap.peek() {
            if self.actions.contains_key(id) {
                return Some(*at);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the actions that are due at `now`, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Box<dyn FnOnce() + Send>> {
        let mut due = Vec::new();
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            due.extend(self.actions.remove(&id));
        }
        due
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        self.actions.clear();
    }
}

/// Starts a named task on the node's runtime.
pub(crate) type Spawner =
    Arc<dyn Fn(&str, aemp_runtime::BoxFuture<()>) -> std::io::Result<()> + Send + Sync>;

/// The clock of the node's runtime: every `now` the core is given comes from it.
pub(crate) type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// How handles wake the driver after changing the core.
#[derive(Default)]
pub(crate) struct Wake {
    flag: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Wake {
    /// Asks the driver for another round.
    pub(crate) fn wake(&self) {
        if !self.flag.swap(true, Ordering::AcqRel) {
            if let Some(w) = lock(&self.waker).as_ref() {
                w.wake_by_ref();
            }
        }
    }

    /// The driver's waker for the next [`Wake::wake`].
    pub(crate) fn register(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Whether a wake-up was asked for since the last call.
    pub(crate) fn take(&self) -> bool {
        self.flag.swap(false, Ordering::AcqRel)
    }
}

/// What a [`Node`](crate::Node) handle points to.
pub(crate) struct Shared {
    pub(crate) node_id: NodeId,
    /// Lock order: `local`'s map of queues before `core` before `reg` and the outboxes'
    /// locks; none is held while user code runs. Taken through [`Shared::core`], which
    /// empties the outboxes into it first (see [`crate::outbox`]).
    pub(crate) core: Mutex<NodeCore>,
    pub(crate) reg: Mutex<Registry>,
    /// The queues of messages to local ports (see [`crate::local`]).
    pub(crate) local: LocalQueues,
    /// The outboxes of messages to other nodes (see [`crate::outbox`]).
    pub(crate) outboxes: Outboxes,
    pub(crate) timers: Mutex<Timers>,
    pub(crate) clock: Clock,
    pub(crate) wake: Wake,
    /// Notified by the driver after every round that moved anything: senders waiting for
    /// room in a queue look again (see [`crate::flow`]).
    pub(crate) room: event_listener::Event,
    pub(crate) services: Services,
    /// Data connections being opened or expected.
    pub(crate) data: Mutex<DataState>,
    /// Starts a task on the node's runtime.
    pub(crate) spawn: Spawner,
    pub(crate) stopping: AtomicBool,
    pub(crate) stopped: async_channel::Receiver<()>,
}
