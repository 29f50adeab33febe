//! Ports with a mailbox for selective receive (the original's Coro::MP).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::shared::{lock, PortEntry};
use crate::{Message, Node, PortId, Reason, RecvError};

#[derive(Default)]
struct MailboxState {
    queue: VecDeque<Message>,
    dead: Option<Reason>,
    waker: Option<Waker>,
}

/// The queue of an async port, filled by the driver.
#[derive(Default)]
pub(crate) struct Mailbox(Mutex<MailboxState>);

impl Mailbox {
    pub(crate) fn push(&self, msg: Message) {
        let mut st = lock(&self.0);
        st.queue.push_back(msg);
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }

    pub(crate) fn close(&self, reason: Reason) {
        let mut st = lock(&self.0);
        st.dead = Some(reason);
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }

    fn wake(&self) {
        if let Some(w) = lock(&self.0).waker.take() {
            w.wake();
        }
    }
}

/// A port whose messages queue up until a task receives them, in any order it chooses
/// (the original's Coro::MP `port_async` / `get_cond`). Dropping it kills the port
/// normally.
///
/// ```
/// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
/// use std::time::Duration;
/// let mut port = node.async_port();
/// node.snd(port.id(), ("data", 1))?;
/// node.snd(port.id(), ("write_file", "/tmp/x"))?;
/// futures_lite::future::block_on(async {
///     let first = port.recv_matching(|m| m.tag() == Some("write_file"), Some(Duration::from_secs(5))).await?;
///     assert_eq!(first.tag(), Some("write_file"));
///     let next = port.recv().await?; // the "data" message waited in the queue
///     assert_eq!(next.tag(), Some("data"));
///     Ok::<(), aemp_node::RecvError>(())
/// })?;
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsyncPort {
    node: Node,
    id: PortId,
    mailbox: Arc<Mailbox>,
}

impl std::fmt::Debug for AsyncPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPort").field("id", &self.id).finish()
    }
}

impl Node {
    /// Creates a port whose messages are received with [`AsyncPort::recv`] and
    /// [`AsyncPort::recv_matching`] instead of handlers.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.async_port();
    /// assert!(node.port_exists(port.id()));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "port_async")]
    pub fn async_port(&self) -> AsyncPort {
        let mailbox = Arc::new(Mailbox::default());
        let id = {
            let mut core = self.shared.core();
            let id = crate::PortId::from(core.port());
            lock(&self.shared.reg)
                .ports
                .insert(id.name().to_owned(), PortEntry::Async(mailbox.clone()));
            id
        };
        AsyncPort {
            node: self.clone(),
            id,
            mailbox,
        }
    }
}

impl AsyncPort {
    /// The port's ID, to give to senders.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.async_port();
    /// assert!(node.port_is_local(port.id()));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> &PortId {
        &self.id
    }

    /// The next message, in arrival order. Fails once the port is dead and its queue empty.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let mut port = node.async_port();
    /// node.snd(port.id(), ("hi",))?;
    /// let m = futures_lite::future::block_on(port.recv())?;
    /// assert_eq!(m.tag(), Some("hi"));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn recv(&mut self) -> Result<Message, RecvError> {
        self.recv_matching(|_| true, None).await
    }

    /// The first queued or arriving message for which `pred` is true; the others stay
    /// queued, in order. Fails after `timeout`, or when the port is dead and no queued
    /// message matches. `pred` runs while the mailbox is locked: keep it quick.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use std::time::Duration;
    /// let mut port = node.async_port();
    /// let r = futures_lite::future::block_on(port.recv_matching(|_| true, Some(Duration::from_millis(20))));
    /// assert_eq!(r, Err(aemp_node::RecvError::Timeout(Duration::from_millis(20))));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "get_cond")]
    pub async fn recv_matching(
        &mut self,
        mut pred: impl FnMut(&Message) -> bool,
        timeout: Option<Duration>,
    ) -> Result<Message, RecvError> {
        let expired = Arc::new(AtomicBool::new(false));
        let timer = timeout.map(|d| {
            let (expired, mailbox) = (expired.clone(), self.mailbox.clone());
            let id = self.node.add_timer(
                d,
                Box::new(move || {
                    expired.store(true, Ordering::Release);
                    mailbox.wake();
                }),
            );
            TimerGuard(self.node.clone(), id)
        });
        let result = poll_fn(|cx| {
            let mut st = lock(&self.mailbox.0);
            if let Some(i) = st.queue.iter().position(&mut pred) {
                return Poll::Ready(Ok(st.queue.remove(i).unwrap_or_default()));
            }
            if let Some(reason) = &st.dead {
                return Poll::Ready(Err(RecvError::PortDied(reason.clone())));
            }
            if let (true, Some(d)) = (expired.load(Ordering::Acquire), timeout) {
                return Poll::Ready(Err(RecvError::Timeout(d)));
            }
            st.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        drop(timer);
        result
    }
}

/// Cancels a receive timeout that is no longer needed.
struct TimerGuard(Node, u64);

impl Drop for TimerGuard {
    fn drop(&mut self) {
        self.0.cancel_timer(self.1);
    }
}

impl Drop for AsyncPort {
    fn drop(&mut self) {
        self.node.kil(&self.id, Reason::normal());
    }
}
