//! Remote port creation (`spawn`) and request/reply (`cal`).

use std::future::Future;
use std::time::Duration;

use aemp_proto::{to_values, Value};
use serde::Serialize;

use crate::{CalError, Error, Message, MonitorGuard, Node, PortId, Reason};

/// Cleans a `cal` up when its future completes or is dropped.
struct CalCleanup {
    node: Node,
    reply: PortId,
    timer: Option<u64>,
    _monitor: MonitorGuard,
}

impl Drop for CalCleanup {
    fn drop(&mut self) {
        if let Some(t) = self.timer {
            self.node.cancel_timer(t);
        }
        self.node.kil(&self.reply, Reason::normal());
    }
}

impl Node {
    /// Creates a port on `node` and runs the init function registered there under `init`
    /// in its context, with `args` (a tuple or sequence). Returns the new port's ID at once.
    /// An unknown init function or a failing one kills the port with `["die", text]`; a
    /// `secure` node refuses spawns (monitoring the port then reports `no_such_port`).
    ///
    /// ```
    /// use aemp_node::Node;
    /// use std::time::Duration;
    ///
    /// let node = Node::builder().norc().secret("s").binds(["127.0.0.1:0"])
    ///     .register_init("echo", |node, port, _args| {
    ///         let n = node.clone();
    ///         node.rcv(&port, move |msg| {
    ///             let (reply,): (aemp_node::PortId,) = msg.decode().unwrap();
    ///             n.snd(&reply, ("echoed",)).unwrap();
    ///         }).map_err(|e| e.to_string())
    ///     })
    ///     .start()?;
    /// let echo = node.spawn(node.node_id(), "echo", ())?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let me = node.port_with(move |msg| tx.send(msg.tag().map(str::to_owned)).unwrap());
    /// node.snd(&echo, (&me,))?;
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().as_deref(), Some("echoed"));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(
        &self,
        node: impl AsRef<str>,
        init: &str,
        args: impl Serialize,
    ) -> Result<PortId, Error> {
        let args = match aemp_proto::to_value(&args)? {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        Ok(PortId::from(self.with_core(|core, now| {
            core.spawn(node.as_ref(), init, args, now)
        })))
    }

    /// Sends `msg` to `port` with the ID of a fresh reply port appended, and resolves with
    /// the first message that port receives (the original's `cal`). The request is sent at
    /// once, not when the future is first polled. The call fails when `timeout` passes
    /// first, or when `port` dies or becomes unreachable first. The reply port is killed
    /// when the future completes or is dropped.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use std::time::Duration;
    /// let n = node.clone();
    /// let adder = node.port_with(move |msg| {
    ///     let (a, b, reply): (i64, i64, aemp_node::PortId) = msg.decode().unwrap();
    ///     n.snd(&reply, (a + b,)).unwrap();
    /// });
    /// let reply = futures_lite::future::block_on(node.cal(&adder, (2, 3), Some(Duration::from_secs(5))))?;
    /// let (sum,): (i64,) = reply.decode()?;
    /// assert_eq!(sum, 5);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cal(
        &self,
        port: &PortId,
        msg: impl Serialize,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Message, CalError>> + Send + 'static {
        let started = to_values(&msg).map(|values| self.start_cal(port, values, timeout));
        async move {
            let (rx, cleanup) = started?;
            let result = rx.recv().await.unwrap_or(Err(CalError::Stopped));
            drop(cleanup);
            result
        }
    }

    fn start_cal(
        &self,
        port: &PortId,
        mut values: Vec<Value>,
        timeout: Option<Duration>,
    ) -> (
        async_channel::Receiver<Result<Message, CalError>>,
        CalCleanup,
    ) {
        let (tx, rx) = async_channel::bounded(1);
        let reply_tx = tx.clone();
        let reply = self.port_with(move |m: Message| {
            let _ = reply_tx.try_send(Ok(m));
        });
        let died_tx = tx.clone();
        let monitor = self.mon(port, move |reason| {
            let _ = died_tx.try_send(Err(CalError::PortDied(reason)));
        });
        let timer = timeout.map(|d| {
            self.add_timer(
                d,
                Box::new(move || {
                    let _ = tx.try_send(Err(CalError::Timeout(d)));
                }),
            )
        });
        values.push(Value::from(&reply));
        self.snd_values(port, values);
        let cleanup = CalCleanup {
            node: self.clone(),
            reply,
            timer,
            _monitor: monitor,
        };
        (rx, cleanup)
    }
}
