//! Local delivery: messages from a node to its own ports do not go through the core.
//!
//! Every port that was sent to has a queue of its own. A sender appends to it under the
//! queue's lock only (not the core's) and wakes the driver only when the queue had nothing
//! waiting, so a fast sender wakes the driver once per round, not once per message. The
//! driver takes each waiting queue whole and runs the port's handlers on the run (see
//! [`crate::dispatch`]). A sender's thread remembers the queue it used last, so runs of
//! messages to one port take no map lookup either.
//!
//! Order and loss: a port's messages from one sender are delivered in the order they were
//! sent, and a message to a port that does not exist is dropped. The driver takes the list
//! of waiting queues together with the core's events and delivers them after those events,
//! so a port spawned on this node runs its init function before the messages sent to it
//! after `spawn` returned. A message the core delivers to a port (from another node, or a
//! monitor's message) goes behind the messages already waiting for it, which keeps the
//! order of a sender that sends to a port and then, say, kills a port it monitors.
//! [`Node::kil`](crate::Node::kil) hands the port's waiting messages to the core before the
//! kill, so they are delivered before the death is handled; messages sent after it are
//! dropped. When the core kills a port by itself (a link, a remote `kil`), the messages
//! waiting when the driver handles the death are delivered first (its monitors have fired
//! by then), and later ones are dropped.
//!
//! Flow control: the node counts the messages waiting in all its queues; above
//! `Limits::queue_high_water / 64` (a local message is charged 64 bytes, as in the core) a
//! sender outside the driver waits until half of them are delivered (see [`crate::flow`]).
//!
//! Lock order: `LocalQueues::by_name` before the core's lock, and a queue's lock alone.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use hashbrown::HashMap;

use crate::shared::{lock, Shared};
use crate::Message;

/// How many queued local messages count as the byte mark of the core's queues.
const BYTES_PER_MESSAGE: usize = 64;
/// Capacity (in messages) a buffer keeps after a burst; more is given back.
const KEPT_CAPACITY: usize = 64;

/// The queues of a node's local ports and the list of those with messages waiting.
pub(crate) struct LocalQueues {
    by_name: Mutex<HashMap<Arc<str>, Arc<PortQueue>>>,
    /// Queues with messages waiting, in the order they got their first one.
    ready: Mutex<Vec<Arc<PortQueue>>>,
    /// Messages waiting in all queues.
    waiting: AtomicUsize,
    /// Above this many waiting messages, senders outside the driver wait.
    high_water: usize,
}

/// The waiting messages of one local port.
pub(crate) struct PortQueue {
    name: Arc<str>,
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    msgs: Vec<Message>,
    /// In the ready list (or being delivered by the driver).
    listed: bool,
    /// The port died: messages sent now are dropped.
    closed: bool,
}

/// What became of a message handed to a queue.
enum Pushed {
    /// Queued as the only waiting message: the queue must be listed as ready.
    First(Arc<PortQueue>),
    /// Queued behind others.
    Behind,
    /// The port died: the queue takes nothing any more.
    Closed(Message),
}

impl PortQueue {
    fn push(self: &Arc<Self>, msg: Message) -> Pushed {
        let mut state = lock(&self.state);
        if state.closed {
            return Pushed::Closed(msg);
        }
        state.msgs.push(msg);
        if std::mem::replace(&mut state.listed, true) {
            Pushed::Behind
        } else {
            Pushed::First(self.clone())
        }
    }
}

thread_local! {
    /// The queue this thread sent to last, and the node it belongs to.
    static RECENT: RefCell<Option<(Weak<Shared>, Arc<PortQueue>)>> = const { RefCell::new(None) };
}

impl LocalQueues {
    /// Queues for a node whose byte mark for queues is `queue_high_water`.
    pub(crate) fn new(queue_high_water: usize) -> LocalQueues {
        LocalQueues {
            by_name: Mutex::default(),
            ready: Mutex::default(),
            waiting: AtomicUsize::new(0),
            high_water: (queue_high_water / BYTES_PER_MESSAGE).max(1),
        }
    }

    /// How many messages wait in all queues.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Whether the waiting messages are down to half the mark.
    pub(crate) fn has_room(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) <= self.high_water / 2
    }

    /// Closes the queue of local port `name` (it dies) and hands its waiting messages to
    /// `and_then`, which runs with the map still locked: no sender can open a new queue for
    /// the name meanwhile, so the core can be told of the death there. Messages sent to the
    /// port later are dropped.
    pub(crate) fn close<T>(&self, name: &str, and_then: impl FnOnce(Vec<Message>) -> T) -> T {
        let mut by_name = lock(&self.by_name);
        let waiting = by_name.remove(name).map(|queue| {
            let mut state = lock(&queue.state);
            state.closed = true;
            let mut waiting = Vec::new();
            self.take_into(&mut state, &mut waiting);
            waiting
        });
        and_then(waiting.unwrap_or_default())
    }

    /// The messages waiting for local port `name`, taken out of its queue (which stays
    /// open): delivered before a message that came through the core, they keep the order
    /// of whoever sent both.
    pub(crate) fn take_waiting(&self, name: &str) -> Vec<Message> {
        let queue = lock(&self.by_name).get(name).cloned();
        let mut waiting = Vec::new();
        if let Some(queue) = queue {
            self.take_into(&mut lock(&queue.state), &mut waiting);
        }
        waiting
    }

    /// Swaps the waiting messages of a queue's state with the empty `into` (whose buffer
    /// the queue keeps) and stops counting them.
    fn take_into(&self, state: &mut QueueState, into: &mut Vec<Message>) {
        std::mem::swap(&mut state.msgs, into);
        self.waiting.fetch_sub(into.len(), Ordering::Relaxed);
    }
}

/// Hands `msg` to local port `name` of `node` (see the module documentation); true if the
/// sender must now wait for room.
pub(crate) fn send(node: &Arc<Shared>, name: &str, msg: Message) -> bool {
    let local = &node.local;
    // Counted before it is queued, so that the driver never takes more than was counted.
    let waiting = local.waiting.fetch_add(1, Ordering::Relaxed) + 1;
    let pushed = RECENT.with_borrow(|recent| match recent {
        Some((owner, queue))
            if Weak::as_ptr(owner) == Arc::as_ptr(node) && *queue.name == *name =>
        {
            queue.push(msg)
        }
        _ => Pushed::Closed(msg),
    });
    let pushed = match pushed {
        Pushed::Closed(msg) => match queue_of(node, name) {
            Some(queue) => {
                RECENT.set(Some((Arc::downgrade(node), queue.clone())));
                queue.push(msg)
            }
            None => {
                tracing::trace!(port = %name, "message for a missing port dropped");
                Pushed::Closed(msg)
            }
        },
        pushed => pushed,
    };
    match pushed {
        Pushed::First(queue) => {
            lock(&local.ready).push(queue);
            node.wake.wake();
        }
        Pushed::Behind => {}
        Pushed::Closed(_) => {
            local.waiting.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
    }
    waiting > local.high_water
}

/// The queue of local port `name`, made when the port exists and has none yet.
fn queue_of(node: &Shared, name: &str) -> Option<Arc<PortQueue>> {
    let mut by_name = lock(&node.local.by_name);
    if let Some(queue) = by_name.get(name) {
        return Some(queue.clone());
    }
    if !node.core().port_exists(name) {
        return None;
    }
    let name: Arc<str> = name.into();
    let queue = Arc::new(PortQueue {
        name: name.clone(),
        state: Mutex::default(),
    });
    by_name.insert(name, queue.clone());
    Some(queue)
}

/// The driver's side: takes the waiting queues, one at a time.
#[derive(Default)]
pub(crate) struct Taker {
    /// The queues listed when the round's events were taken (kept to reuse its buffer).
    queues: Vec<Arc<PortQueue>>,
    /// The messages of the queue being delivered (kept to reuse its buffer).
    msgs: Vec<Message>,
}

impl Taker {
    /// Takes the list of waiting queues. Called with the core locked, as the core's events
    /// are taken: a queue listed after a `spawn` on this node is then never delivered
    /// before the spawn's init function has run.
    pub(crate) fn take(&mut self, local: &LocalQueues) {
        std::mem::swap(&mut self.queues, &mut *lock(&local.ready));
    }

    /// Calls `deliver` with each taken queue's port name and messages, the queues in the
    /// order they got their first message; the messages are delivered (or dropped) when it
    /// returns. False if no queue was taken.
    pub(crate) fn deliver_all(
        &mut self,
        local: &LocalQueues,
        mut deliver: impl FnMut(&str, &mut Vec<Message>),
    ) -> bool {
        let any = !self.queues.is_empty();
        for queue in self.queues.drain(..) {
            {
                let mut state = lock(&queue.state);
                local.take_into(&mut state, &mut self.msgs);
                state.listed = false;
            }
            if self.msgs.is_empty() {
                // Closed, or its messages taken before a message from the core.
                continue;
            }
            deliver(&queue.name, &mut self.msgs);
            self.msgs.clear();
            // The buffer goes to the next queue delivered: keep it small.
            self.msgs.shrink_to(KEPT_CAPACITY);
        }
        any
    }
}
