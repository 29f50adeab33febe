//! The port context: code running on behalf of a port, whose failure kills that port.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use aemp_proto::Value;

use crate::{Node, Outcome, PortId, Reason};

thread_local! {
    static CURRENT: RefCell<Option<PortId>> = const { RefCell::new(None) };
}

/// The port whose context the calling code runs in (the original's `$SELF`): set while a
/// receive handler, an init function, [`Node::peval`], a [`Node::psub`] closure or a future
/// wrapped by [`Node::in_port_context`] runs; `None` elsewhere.
///
/// ```
/// assert_eq!(aemp_node::self_port(), None);
/// ```
#[doc(alias = "SELF")]
pub fn self_port() -> Option<PortId> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Sets the current port for its lifetime, restoring the previous one after.
struct Enter(Option<PortId>);

impl Enter {
    fn new(port: &PortId) -> Enter {
        Enter(CURRENT.with(|c| c.replace(Some(port.clone()))))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The text of a panic payload.
pub(crate) fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => "panic with a non-text payload".to_owned(),
        },
    }
}

/// `["die", text]`.
pub(crate) fn die(text: String) -> Reason {
    Reason::from(vec![Value::from("die"), Value::from(text)])
}

/// Runs `f` in the context of `port`; a panic or a failure result kills the port with
/// `["die", text]` and is returned as that reason.
pub(crate) fn run_in_port<R: Outcome>(
    node: &Node,
    port: &PortId,
    f: impl FnOnce() -> R,
) -> Result<(), Reason> {
    in_context(port, || guarded_in_port(node, port, f))
}

/// Runs `f` with `port` as the current port (for a run of calls, set once).
pub(crate) fn in_context<T>(port: &PortId, f: impl FnOnce() -> T) -> T {
    let _enter = Enter::new(port);
    f()
}

/// [`run_in_port`] for code already in the context of `port` (see [`in_context`]).
pub(crate) fn guarded_in_port<R: Outcome>(
    node: &Node,
    port: &PortId,
    f: impl FnOnce() -> R,
) -> Result<(), Reason> {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into_failure(),
        Err(payload) => Some(panic_text(payload)),
    };
    match failure {
        None => Ok(()),
        Some(text) => {
            let reason = die(text);
            node.kil(port, reason.clone());
            Err(reason)
        }
    }
}

/// A future running in a port's context; see [`Node::in_port_context`].
#[must_use = "futures do nothing unless polled"]
pub struct InPortContext<F> {
    node: Node,
    port: PortId,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for InPortContext<F>
where
    F::Output: Outcome,
{
    type Output = Result<(), Reason>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = {
            let _enter = Enter::new(&this.port);
            catch_unwind(AssertUnwindSafe(|| this.fut.as_mut().poll(cx)))
        };
        let failure = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(out)) => out.into_failure(),
            Err(payload) => Some(panic_text(payload)),
        };
        Poll::Ready(match failure {
            None => Ok(()),
            Some(text) => {
                let reason = die(text);
                this.node.kil(&this.port, reason.clone());
                Err(reason)
            }
        })
    }
}

impl Node {
    /// Runs `f` now, in the context of `port` (the original's `peval`): a panic or an `Err`
    /// returned by `f` kills `port` with `["die", text]`, and that reason is returned.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(Vec::<String>::new()).start()?;
    /// let port = node.port();
    /// node.rcv(&port, |_msg| {})?;
    /// let r = node.peval(&port, || Err::<(), _>("it broke"));
    /// assert_eq!(r.unwrap_err().to_string(), "die it broke");
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "in_port_context")]
    pub fn peval<R: Outcome>(&self, port: &PortId, f: impl FnOnce() -> R) -> Result<(), Reason> {
        run_in_port(self, port, f)
    }

    /// Wraps `f` so that it runs in the context of `port` whenever it is called later (the
    /// original's `psub`), e.g. from a timer: its failure kills `port`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(Vec::<String>::new()).start()?;
    /// use std::time::Duration;
    /// let port = node.port();
    /// node.rcv(&port, |_msg| {})?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _guard = node.mon(&port, move |reason| tx.send(reason.to_string()).unwrap());
    /// node.after(Duration::from_millis(10), node.psub(&port, || -> Result<(), String> { Err("later".into()) }));
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "die later");
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn psub<R: Outcome>(
        &self,
        port: &PortId,
        mut f: impl FnMut() -> R + Send + 'static,
    ) -> impl FnMut() + Send + 'static {
        let node = self.clone();
        let port = port.clone();
        move || {
            let _ = run_in_port(&node, &port, &mut f);
        }
    }

    /// Wraps a future so that every poll runs in the context of `port`: a panic, or an
    /// `Err` output, kills `port` with `["die", text]`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(Vec::<String>::new()).start()?;
    /// let port = node.port();
    /// node.rcv(&port, |_msg| {})?;
    /// let fut = node.in_port_context(&port, async { Err::<(), _>("async failure") });
    /// let r = futures_lite::future::block_on(fut);
    /// assert_eq!(r.unwrap_err().text(), Some("async failure"));
    /// assert!(!node.port_exists(&port));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_port_context<F>(&self, port: &PortId, fut: F) -> InPortContext<F>
    where
        F: Future,
        F::Output: Outcome,
    {
        InPortContext {
            node: self.clone(),
            port: port.clone(),
            fut: Box::pin(fut),
        }
    }
}
