//! The driver: one future per node that owns its sockets and runs the core.
//!
//! Each round follows the core's contract: feed it one kind of input (accepted streams,
//! bytes, connection results, due timeouts), drain `poll_transport` (for the transports
//! and the streams) and `poll_event` (for the dispatcher, which runs with no lock held)
//! until both are empty, write what is queued. Every `now` comes from the runtime's clock.
//! Rounds repeat while anything happened; then the driver sleeps until a socket is ready,
//! a handle wakes it, or the next deadline (the core's `poll_timeout` or a timer) passes.
//!
//! TLS runs inside the core's connections: the driver only moves bytes.

use std::future::poll_fn;
use std::iter;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use std::collections::{HashMap, VecDeque};

use aemp_proto::node::{ConnId, DataConnection, Event, TransportOutput};
use aemp_runtime::Sleep;
use aemp_transport::{StreamEvent, Streams, Transports};

use crate::dispatch::{deliver, dispatch_all, guarded};
use crate::flow::DriverThread;
use crate::local::Taker;
use crate::outbox::CoreGuard;
use crate::shared::lock;
use crate::{Message, Node};

/// Rounds per poll before yielding to the executor.
const MAX_ROUNDS: usize = 64;
/// Capacity (in events) the event queue keeps after a burst (a read of 64 KiB of small
/// messages is a few thousand); more is given back.
const EVENTS_KEPT: usize = 4096;
/// Capacity (in messages) the buffer of a run to one port keeps after a burst.
const RUN_KEPT: usize = 1024;
/// How many bytes of a read the core decodes before their events are dispatched (a few
/// hundred small messages: their memory stays in the allocator's per-thread cache).
const DISPATCH_EVERY: usize = 8 << 10;
/// How long a stopping node may take to write what is queued.
const STOP_GRACE: Duration = Duration::from_secs(1);

pub(crate) struct Driver<S: Sleep> {
    node: Node,
    transports: Transports,
    streams: Streams,
    /// The core's events of a round, on their way to the dispatcher (kept to reuse it).
    events: VecDeque<Event>,
    /// The messages of a run to one port, on their way to its handler (kept to reuse it).
    run: Vec<Message>,
    /// Takes the messages waiting for local ports.
    local: Taker,
    /// Written buffers the streams gave back, returned to the core at the next round (see
    /// [`NodeCore::recycle`](aemp_proto::node::NodeCore::recycle)).
    written: Vec<Vec<u8>>,
    /// Data connections taken from the core whose stream still writes what was queued.
    detaching: HashMap<ConnId, DataConnection>,
    sleep: S,
    /// Busy polling: how long to keep polling after the last work before sleeping.
    spin: Option<Duration>,
    last_work: Instant,
    stop_deadline: Option<Instant>,
    /// Dropped when the driver ends, which resolves `Node::stopped`.
    _stopped: async_channel::Sender<()>,
}

impl<S: Sleep> Driver<S> {
    pub(crate) fn new(
        node: Node,
        transports: Transports,
        streams: Streams,
        sleep: S,
        stopped: async_channel::Sender<()>,
    ) -> Self {
        let last_work = node.now();
        Driver {
            node,
            transports,
            streams,
            events: VecDeque::new(),
            run: Vec::new(),
            local: Taker::default(),
            written: Vec::new(),
            detaching: HashMap::new(),
            sleep,
            spin: None,
            last_work,
            stop_deadline: None,
            _stopped: stopped,
        }
    }

    /// Keeps polling for `spin` after the last work before sleeping (see
    /// `NodeBuilder::idle_spin`).
    pub(crate) fn idle_spin(mut self, spin: Option<Duration>) -> Self {
        self.spin = spin;
        self
    }

    /// Runs the node until it is shut down, then drops everything the application
    /// registered.
    pub(crate) async fn run(mut self) {
        poll_fn(|cx| self.poll(cx)).await;
        tracing::info!(node = %self.node.node_id(), "node stopped");
        let shared = &self.node.shared;
        let reg = std::mem::take(&mut *lock(&shared.reg));
        lock(&shared.timers).clear();
        drop(reg);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let _driver = DriverThread::enter();
        for _ in 0..MAX_ROUNDS {
            let shared = &self.node.shared;
            shared.wake.register(cx.waker());
            let woken = shared.wake.take();
            if shared.stopping.load(Ordering::Acquire) {
                return self.poll_stop(cx);
            }
            let mut progress = woken;
            progress |= self.accept(cx);
            progress |= self.input(cx);
            progress |= self.timeouts();
            progress |= self.outputs();
            progress |= self.write(cx);
            progress |= self.hand_over();
            if progress {
                // Senders waiting for room in a queue look again.
                self.node.shared.room.notify(usize::MAX);
                if self.spin.is_some() {
                    self.last_work = self.node.now();
                }
                continue;
            }
            if self
                .spin
                .is_some_and(|spin| self.node.now() < self.last_work + spin)
            {
                // Busy polling: be polled again at once instead of sleeping.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let deadline = self
                .deadline()
                .unwrap_or_else(|| self.node.now() + Duration::from_secs(3600));
            self.sleep.reset(deadline);
            if self.sleep.poll_sleep(cx).is_pending() {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn core(&self) -> CoreGuard<'_> {
        self.node.shared.core()
    }

    fn accept(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Poll::Ready(opened) = self.transports.poll_accept(cx) {
            let id = self.core().accept(opened.channel.clone(), self.node.now());
            tracing::debug!(conn = id.0, peer = %opened.peer, "accepted");
            self.streams.insert(id, opened);
            progress = true;
        }
        progress
    }

    /// Reads what arrived, except from the connections the core says not to read now (a
    /// handler outran a peer: see [`crate::flow`]).
    ///
    /// A read is handed to the core in pieces of [`DISPATCH_EVERY`] bytes, each piece's
    /// events dispatched before the next: its messages are handled while their bytes are in
    /// cache, and the memory of one piece's messages serves the next.
    fn input(&mut self, cx: &mut Context<'_>) -> bool {
        let unreadable = self.core().unreadable();
        let readable = |id: ConnId| !unreadable.contains(&id);
        let (node, events, run) = (&self.node, &mut self.events, &mut self.run);
        self.streams
            .poll_input(cx, readable, |id, event| match event {
                StreamEvent::Data(bytes) => {
                    for piece in bytes.chunks(DISPATCH_EVERY) {
                        feed(node, id, StreamEvent::Data(piece));
                        node.shared.core().poll_events_into(events);
                        dispatch_all(node, events, run);
                    }
                }
                other => feed(node, id, other),
            })
    }

    fn write(&mut self, cx: &mut Context<'_>) -> bool {
        let node = &self.node;
        self.streams
            .poll_output(cx, |id, event| feed(node, id, event))
    }

    fn timeouts(&mut self) -> bool {
        let now = self.node.now();
        let core_due = {
            let mut core = self.core();
            let due = core.poll_timeout().is_some_and(|t| t <= now);
            if due {
                core.handle_timeout(now);
            }
            due
        };
        let timers = lock(&self.node.shared.timers).take_due(now);
        let fired = !timers.is_empty();
        for action in timers {
            guarded("timer", action);
        }
        core_due || fired
    }

    fn deadline(&self) -> Option<Instant> {
        let core = self.core().poll_timeout();
        let timer = lock(&self.node.shared.timers).next_deadline();
        core.into_iter().chain(timer).min()
    }

    /// Drains the core: acts on every transport output, then hands every event to the
    /// dispatcher with no lock held; then delivers the messages waiting for local ports.
    fn outputs(&mut self) -> bool {
        let mut events = std::mem::take(&mut self.events);
        let outs: Vec<TransportOutput> = {
            let mut core = self.node.shared.core();
            core.poll_events_into(&mut events);
            // With the core's events, under its lock (see `Taker::take`).
            self.local.take(&self.node.shared.local);
            for buf in self.written.drain(..) {
                core.recycle(buf);
            }
            iter::from_fn(|| core.poll_transport()).collect()
        };
        let progress = !outs.is_empty() || !events.is_empty();
        for out in outs {
            match out {
                TransportOutput::Connect { conn, addr } => self.connect(conn, &addr),
                TransportOutput::Transmit { conn, data } => self.send(conn, data),
                TransportOutput::Close { conn } => self.streams.close(conn),
                TransportOutput::Detach { conn } => self.detach(conn),
            }
        }
        dispatch_all(&self.node, &mut events, &mut self.run);
        self.run.shrink_to(RUN_KEPT);
        // It becomes the core's queue at the next swap: keep no more than a round's worth.
        events.shrink_to(EVENTS_KEPT);
        self.events = events;
        let node = &self.node;
        let local = (self.local).deliver_all(&node.shared.local, |port, msgs| {
            deliver(node, port, msgs);
        });
        progress || local
    }

    /// Starts opening a stream to `addr` with the transport its scheme names.
    fn connect(&mut self, conn: ConnId, addr: &str) {
        match self.transports.route(addr) {
            Some((transport, rest)) => {
                let opening = transport.connect(rest);
                self.streams.connect(conn, addr, opening);
            }
            None => {
                let why = format!("no transport for {addr} in this node");
                self.core().conn_closed(conn, &why, self.node.now());
            }
        }
    }

    /// Takes an authenticated data connection's state from the core; its stream follows
    /// once what is queued for it is written (see [`Driver::hand_over`]).
    fn detach(&mut self, conn: ConnId) {
        let data = self.core().take_data(conn);
        if let Some(data) = data {
            self.detaching.insert(conn, data);
            self.streams.detach(conn);
        }
    }

    /// Hands each detached data connection, stream and state, to whoever waits for it.
    fn hand_over(&mut self) -> bool {
        let mut progress = false;
        while let Some((conn, stream)) = self.streams.take_detached() {
            if let Some(data) = self.detaching.remove(&conn) {
                crate::dataconn::arrived(&self.node, data, stream);
                progress = true;
            }
        }
        let failed: Vec<ConnId> = (self.detaching.keys().copied())
            .filter(|id| !self.streams.contains(*id))
            .collect();
        for conn in failed {
            if let Some(data) = self.detaching.remove(&conn) {
                let why = "the stream failed before it was handed over";
                crate::dataconn::failed(&self.node, &data.id, why, false);
                progress = true;
            }
        }
        progress
    }

    /// Queues bytes for a stream; a full stream stops the core's flow to it until it
    /// reports [`StreamEvent::Writable`].
    fn send(&mut self, conn: ConnId, mut data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let room = self.streams.transmit(conn, &mut data);
        self.written.push(data);
        if !room {
            self.core().conn_writable(conn, false);
        }
    }

    /// Hands what senders queued (in outboxes and connections) to the streams.
    fn write_queued(&mut self) {
        let outs: Vec<TransportOutput> = {
            let mut core = self.core();
            iter::from_fn(|| core.poll_transport()).collect()
        };
        for out in outs {
            if let TransportOutput::Transmit { conn, data } = out {
                self.send(conn, data);
            }
        }
    }

    /// The shutdown rounds: no more core input, write what is queued, then end.
    fn poll_stop(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let now = self.node.now();
        if self.stop_deadline.is_none() {
            self.write_queued();
            self.node.shared.outboxes.close_all();
            self.transports.close_listeners();
            self.streams.close_all();
        }
        let deadline = *self.stop_deadline.get_or_insert(now + STOP_GRACE);
        self.streams.poll_output(cx, |_, _| {});
        if self.streams.is_idle() || now >= deadline {
            return Poll::Ready(());
        }
        self.sleep.reset(deadline);
        match self.sleep.poll_sleep(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Hands one stream event to the core.
fn feed(node: &Node, id: ConnId, event: StreamEvent<'_>) {
    let now = node.now();
    let mut core = node.shared.core();
    match event {
        StreamEvent::Connected(channel) => core.conn_connected(id, channel, now),
        StreamEvent::Data(bytes) => core.conn_input(id, bytes, now),
        StreamEvent::Writable => core.conn_writable(id, true),
        StreamEvent::Closed(why) => core.conn_closed(id, &why, now),
    }
}
