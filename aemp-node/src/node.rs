//! The node handle: identity, ports, sending, killing, timers, shutdown.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::node::{Backlog, NodeCore};
use aemp_proto::{to_values, Encoded, Payload, Value};
use bytes::BytesMut;
use serde::Serialize;

use crate::outbox;
use crate::shared::{lock, Shared};
use crate::{Error, Message, NodeBuilder, NodeId, PortId, Reason};

/// A running AEMP node. Cheap to clone (an `Arc` inside), `Send + Sync`: use it from any
/// thread or task. Handlers run on the node's driver (a thread of its own by default);
/// they must not block for long.
///
/// ```
/// use aemp_node::Node;
/// use std::time::Duration;
///
/// let node = Node::builder().norc().secret("s3cr3t").binds(["127.0.0.1:0"]).start()?;
/// let port = node.port();
/// let (tx, rx) = std::sync::mpsc::channel();
/// node.rcv_tag(&port, "hello", move |msg| tx.send(msg.decode::<(String,)>().unwrap().0).unwrap())?;
/// node.snd(&port, ("hello", "world"))?;
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "world");
/// node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Node {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("node_id", &self.shared.node_id)
            .finish()
    }
}

/// A timer set with [`Node::after`].
///
/// ```
/// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
/// let timer = node.after(std::time::Duration::from_secs(60), || println!("late"));
/// timer.cancel();
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TimerHandle {
    node: Node,
    id: u64,
}

impl TimerHandle {
    /// Stops the timer if it has not run yet.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.after(std::time::Duration::from_secs(60), || println!("never")).cancel();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(self) {
        self.node.cancel_timer(self.id);
    }
}

impl Node {
    /// A builder to configure and start a node.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().profile("worker");
    /// # drop(b);
    /// ```
    pub fn builder() -> NodeBuilder {
        NodeBuilder::new()
    }

    /// Runs `f` on the core and wakes the driver to act on what it did.
    /// The current time on the node's runtime clock.
    pub(crate) fn now(&self) -> Instant {
        (self.shared.clock)()
    }

    pub(crate) fn with_core<T>(&self, f: impl FnOnce(&mut NodeCore, Instant) -> T) -> T {
        let now = self.now();
        let out = f(&mut self.shared.core(), now);
        self.shared.wake.wake();
        out
    }

    /// This node's ID (the original's `$NODE`).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").node_id("me").binds(["127.0.0.1:0"]).start()?;
    /// assert_eq!(node.node_id().as_str(), "me");
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "NODE")]
    pub fn node_id(&self) -> &NodeId {
        &self.shared.node_id
    }

    /// Creates a new local port. Until [`rcv`](Node::rcv) installs handlers, a message to it
    /// kills it with `unhandled_message`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let p = node.port();
    /// assert!(node.port_is_local(&p));
    /// assert_ne!(p, node.port());
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn port(&self) -> PortId {
        PortId::from(self.shared.core().port())
    }

    /// Whether `port` is a live port of this node.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let p = node.port();
    /// assert!(node.port_exists(&p));
    /// node.kil(&p, aemp_node::Reason::normal());
    /// assert!(!node.port_exists(&p));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn port_exists(&self, port: &PortId) -> bool {
        self.port_is_local(port) && self.shared.core().port_exists(port.name())
    }

    /// Sends a message to a port, local or remote. `msg` is anything that serializes as a
    /// sequence: a tuple, a `Vec`, a tuple struct. Delivery follows the AEMP guarantee: in
    /// order, and if a message is lost, monitors of the port fire.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// # let port = node.port();
    /// node.snd(&port, ("privmsg", "nick", "hello"))?;
    /// assert!(node.snd(&port, 42).is_err()); // not a sequence
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Flow control (see [`crate::flow`]): when the queue towards the port's node is above
    /// its high-water mark, a call from outside the node's handlers blocks until it has
    /// drained to half the mark; a call from a handler returns at once and the node reads
    /// less from its peers meanwhile. [`Node::snd_async`] awaits instead of blocking.
    /// After [`Node::shutdown`] it fails with [`Error::Stopped`].
    #[doc(alias = "send")]
    pub fn snd(&self, port: &PortId, msg: impl Serialize) -> Result<(), Error> {
        if self.queue_serialized(port, &msg)? {
            self.wait_for_room(port.node());
        }
        Ok(())
    }

    /// [`Node::snd`] for async code: awaits room in a full queue instead of blocking the
    /// thread.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// # let port = node.port();
    /// futures_lite::future::block_on(node.snd_async(&port, ("ping", 1)))?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "send")]
    pub async fn snd_async(&self, port: &PortId, msg: impl Serialize) -> Result<(), Error> {
        if self.queue_serialized(port, &msg)? {
            self.room(port.node()).await;
        }
        Ok(())
    }

    /// Serializes a message into CBOR bytes and queues it; true if the sender must now wait
    /// for room. For a remote port whose node has an outbox, the bytes are written straight
    /// into it (see [`crate::outbox`]); otherwise they become the message's payload, which a
    /// local port's handler reads as fast as values (measured: local delivery 1.1–1.45×
    /// faster than with values, whose larger allocation moves between the sender's and the
    /// driver's threads).
    fn queue_serialized(&self, port: &PortId, msg: &impl Serialize) -> Result<bool, Error> {
        if self.shared.stopping.load(Ordering::Acquire) {
            return Err(Error::Stopped);
        }
        let remote = port.node() != self.node_id().as_str();
        with_scratch(|scratch| match Encoded::serialize(msg, scratch) {
            Ok(encoded) => {
                let outbox = remote.then(|| outbox::send(&self.shared, port, &encoded));
                match outbox.flatten() {
                    Some(wake) => {
                        if wake {
                            self.shared.wake.wake();
                        }
                        Ok(false)
                    }
                    None => self.queue(
                        port,
                        with_arena(|arena| encoded.to_payload_in(arena, ARENA_CHUNK)),
                    ),
                }
            }
            // What the direct serializer refuses goes through values (or is an error).
            Err(_) => self.queue(port, Payload::from(to_values(msg)?)),
        })
    }

    /// Queues a message; true if the sender must now wait for room.
    fn queue(&self, port: &PortId, msg: Payload) -> Result<bool, Error> {
        if self.shared.stopping.load(Ordering::Acquire) {
            return Err(Error::Stopped);
        }
        if port.node() == self.node_id().as_str() && !port.name().is_empty() {
            let high = crate::local::send(&self.shared, port.name(), Message::from(msg));
            return Ok(Node::must_wait(high));
        }
        let (wake, backlog) = {
            let mut core = self.shared.core();
            // Over an up connection: no clock, and a wake-up only if the driver had no
            // writes pending.
            let wake = match core.snd_up(port.node(), port.name(), msg) {
                Ok(idle) => {
                    self.shared.outboxes.open(&core, port.node());
                    idle
                }
                Err(msg) => {
                    core.snd_to(port.node(), port.name(), msg, self.now());
                    true
                }
            };
            (wake, core.backlog(port.node()))
        };
        if wake {
            self.shared.wake.wake();
        }
        Ok(Node::must_wait(backlog == Backlog::High))
    }

    /// Sends a message given as values.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// # let port = node.port();
    /// use aemp_proto::Value;
    /// node.snd_values(&port, vec![Value::from("ping"), Value::Int(1)]);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snd_values(&self, port: &PortId, msg: Vec<Value>) {
        let _ = self.send_owned(port, msg);
    }

    /// [`Node::snd`] of values already built: nothing is serialized again.
    pub(crate) fn send_owned(&self, port: &PortId, msg: Vec<Value>) -> Result<(), Error> {
        if self.queue(port, Payload::from(msg))? {
            self.wait_for_room(port.node());
        }
        Ok(())
    }

    /// Kills a port, local or remote. [`Reason::normal`] is a normal kill: "kill my linked
    /// port" monitors ignore it; any other reason is passed on to monitors.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use aemp_node::Reason;
    /// let p = node.port();
    /// node.kil(&p, Reason::new("custom_error", "don't like your steenking face"));
    /// assert!(!node.port_exists(&p));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "kill")]
    pub fn kil(&self, port: &PortId, reason: impl Into<Reason>) {
        let reason = reason.into().into_vec();
        if !self.port_is_local(port) {
            return self.with_core(|core, now| core.kil(port.as_str(), reason, now));
        }
        // The messages waiting for the port go through the core before the kill (see
        // `crate::local`).
        self.shared.local.close(port.name(), |waiting| {
            self.with_core(|core, now| {
                for msg in waiting {
                    core.snd_to(port.node(), port.name(), msg.into_payload(), now);
                }
                core.kil(port.as_str(), reason, now);
            });
        });
    }

    /// The IDs of the nodes with an established connection.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// assert!(node.up_nodes().is_empty());
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn up_nodes(&self) -> Vec<NodeId> {
        self.shared
            .core()
            .up_nodes()
            .into_iter()
            .map(NodeId::from)
            .collect()
    }

    /// Whether `node` is this node or connected to it.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// assert!(node.node_is_up(node.node_id()));
    /// assert!(!node.node_is_up("elsewhere"));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_is_up(&self, node: impl AsRef<str>) -> bool {
        self.shared.core().node_is_up(node.as_ref())
    }

    /// Whether this node runs the global (directory and database) service, as seed nodes
    /// do.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// assert!(!node.is_global());
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_global(&self) -> bool {
        self.shared.core().is_global()
    }

    /// The node a port lives on.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// assert_eq!(node.node_of(&"x#y".into()).as_str(), "x");
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_of(&self, port: &PortId) -> NodeId {
        NodeId::from(port.node())
    }

    /// Whether a port ID names a port of this node (alive or not).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// assert!(!node.port_is_local(&"elsewhere#p".into()));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn port_is_local(&self, port: &PortId) -> bool {
        port.node() == self.shared.node_id.as_str()
    }

    /// Runs `f` once, after `delay`, on the node's driver (the original's `after`). Wrap it
    /// with [`psub`](Node::psub) to run it in a port's context. The returned handle can
    /// [`cancel`](TimerHandle::cancel) it; dropping the handle leaves the timer set.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use std::time::Duration;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// node.after(Duration::from_millis(5), move || tx.send(()).unwrap());
    /// rx.recv_timeout(Duration::from_secs(5)).unwrap();
    /// node.after(Duration::from_secs(60), || unreachable!()).cancel();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn after(&self, delay: Duration, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        TimerHandle {
            node: self.clone(),
            id: self.add_timer(delay, Box::new(f)),
        }
    }

    pub(crate) fn add_timer(&self, delay: Duration, f: Box<dyn FnOnce() + Send>) -> u64 {
        let id = lock(&self.shared.timers).add(self.now() + delay, f);
        self.shared.wake.wake();
        id
    }

    pub(crate) fn cancel_timer(&self, id: u64) {
        lock(&self.shared.timers).cancel(id);
    }

    /// Starts `task` on the node's runtime; a runtime that refuses is logged.
    pub(crate) fn spawn_task(&self, name: &str, task: aemp_runtime::BoxFuture<()>) {
        if let Err(e) = (self.shared.spawn)(name, task) {
            tracing::error!(task = name, error = %e, "cannot start a task");
        }
    }

    /// Stops the node: it stops listening, closes every connection (after writing what was
    /// already queued, for at most a second) and drops all handlers. Remote nodes see the
    /// connections end and fire their monitors. Returns at once; await
    /// [`stopped`](Node::stopped) to know when the driver is done.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.shutdown();
    /// futures_lite::future::block_on(node.stopped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.wake.wake();
        self.shared.room.notify(usize::MAX);
    }

    /// Resolves once the node's driver has stopped after [`shutdown`](Node::shutdown).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let stopped = node.stopped();
    /// node.shutdown();
    /// futures_lite::future::block_on(stopped);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let rx = self.shared.stopped.clone();
        async move {
            let _ = rx.recv().await;
        }
    }
}

thread_local! {
    /// Where this thread serializes the messages it sends.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Where this thread keeps the bytes of the messages it queues (see [`with_arena`]).
    static ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// The memory a thread's message arena takes at a time (see [`with_arena`]).
const ARENA_CHUNK: usize = 32 * 1024;

/// What the scratch space may keep between messages.
const SCRATCH_KEPT: usize = 64 * 1024;

/// Runs `f` with this thread's arena for message bytes (see [`Encoded::to_payload_in`]): a
/// run of messages to local ports shares one allocation per [`ARENA_CHUNK`] instead of
/// taking one each, and the driver that drops them frees it once.
fn with_arena<T>(f: impl FnOnce(&mut BytesMut) -> T) -> T {
    ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut arena) => f(&mut arena),
        Err(_) => f(&mut BytesMut::new()),
    })
}

/// Runs `f` with this thread's scratch space for serializing messages (fresh space for a
/// message serialized while another is, from inside its `Serialize`).
fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut space) => {
            let out = f(&mut space);
            if space.capacity() > SCRATCH_KEPT {
                *space = Vec::new();
            }
            out
        }
        Err(_) => f(&mut Vec::new()),
    })
}
