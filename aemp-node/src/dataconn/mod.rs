//! Data connections (the original's `AnyEvent::MP::DataConn`): a byte stream between two
//! nodes for bulk data, beside their message connection.
//!
//! The exchange, as between Perl nodes: the node that asks (call it I) sends the other
//! (R) `AnyEvent::MP::DataConn::_expect ID PORT TIMEOUT FUNC ARGS...`, then makes a round
//! trip through R to the attempt's port PORT (`snd_on`), so that R holds the expectation
//! before any stream arrives. I then opens a stream to R's listeners that greets with
//! protocol `aemp-dataconn` and `dataconn_id=ID`; if R has no listeners, I asks R to open
//! one to I instead (`AnyEvent::MP::DataConn::_connect ID I`). Once the stream is
//! authenticated, R runs its data function FUNC with ARGS and its end of the stream, and I
//! gets the other end. A failure kills PORT with `AnyEvent::MP::DataConn => why`; R kills
//! it when its expectation times out.

mod stream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aemp_proto::node::DataConnection;
use aemp_proto::Value;
use aemp_transport::ByteStream;
use serde::Serialize;

use crate::dispatch::guarded;
use crate::shared::lock;
use crate::{DataConnError, Node, NodeId, PortId, Reason};

pub use stream::DataStream;

/// The function a node asked for a data connection runs to expect it.
pub const EXPECT_FUNCTION: &str = "AnyEvent::MP::DataConn::_expect";
/// The function a node without listeners asks the other to run: "connect to me".
pub const CONNECT_FUNCTION: &str = "AnyEvent::MP::DataConn::_connect";
/// The name the `aemp run` nodes give [`data_echo`] (with their `echo` service), for any
/// implementation to test its data connections against.
///
/// ```
/// assert_eq!(aemp_node::DATA_ECHO_FUNCTION, "aemp_echo::data");
/// ```
pub const DATA_ECHO_FUNCTION: &str = "aemp_echo::data";

/// The first value of the kill reason of a failed data connection.
const KILL_CODE: &str = "AnyEvent::MP::DataConn";
/// The most data connections one node expects at a time (each holds a timer and its
/// arguments); beyond it a request is refused at once.
const MAX_EXPECTED: usize = 1024;
/// The longest time an expectation is kept, whatever the asking node said.
const MAX_EXPECT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// A data function: runs on the node's driver with the arguments and its end of the
/// stream; it must not block (start a task that uses the stream).
pub(crate) type DataFn = Arc<dyn Fn(&Node, Vec<Value>, DataStream) + Send + Sync>;

/// The data connections of one node in the making.
#[derive(Default)]
pub(crate) struct DataState {
    /// Ours, by ID.
    opening: HashMap<String, Opening>,
    /// Those other nodes asked for, by ID.
    expected: HashMap<String, Expected>,
}

/// A data connection this node asked for.
struct Opening {
    node: NodeId,
    /// The attempt's port: the round trip ends there, and its death ends the attempt.
    port: PortId,
    /// The port whose context asked for it: killed too if it fails.
    context: Option<PortId>,
    timer: u64,
    /// The other node was asked to connect to us.
    reversed: bool,
    done: async_channel::Sender<Result<DataStream, DataConnError>>,
}

/// A data connection another node asked for.
struct Expected {
    /// The asking node's attempt port, killed if it fails.
    port: PortId,
    func: String,
    args: Vec<Value>,
    timer: u64,
}

impl Node {
    /// Opens a data connection to `node` (a node ID, or a port ID for the port's node; the
    /// original's `AnyEvent::MP::DataConn::connect_to`): there the data function `func`
    /// runs with `args` (a sequence) and its end of the stream, here the future gives this
    /// end. One of the two nodes must have listeners. On `node` itself the two ends are
    /// joined in memory. Fails after `timeout`, which should cover a few network round
    /// trips; called in a port's context (as the original must be), a failure also kills
    /// that port with the same reason, `AnyEvent::MP::DataConn => why`.
    ///
    /// A Rust node runs the data functions registered with
    /// [`NodeBuilder::register_data_function`](crate::NodeBuilder::register_data_function);
    /// a Perl node calls the Perl function of that name with `args` and an
    /// `AnyEvent::Handle`. Dropping the future does not stop the attempt; a stream that
    /// arrives later is closed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use aemp_node::{data_echo, Node, DATA_ECHO_FUNCTION};
    /// use futures_lite::{future::block_on, AsyncReadExt, AsyncWriteExt};
    /// let node = Node::builder().norc().secret("s").binds(["127.0.0.1:0"])
    ///     .register_data_function(DATA_ECHO_FUNCTION, data_echo).start()?;
    /// let mut stream = block_on(node.connect_data(node.node_id(), Duration::from_secs(5), DATA_ECHO_FUNCTION, ()))?;
    /// block_on(stream.write_all(b"hi"))?;
    /// let mut buf = [0; 2];
    /// block_on(stream.read_exact(&mut buf))?;
    /// assert_eq!(&buf, b"hi");
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_data(
        &self,
        node: impl AsRef<str>,
        timeout: Duration,
        func: &str,
        args: impl Serialize,
    ) -> impl std::future::Future<Output = Result<DataStream, DataConnError>> + Send + 'static {
        let node = node.as_ref();
        let node = NodeId::from(node.split_once('#').map_or(node, |(node, _port)| node));
        let started =
            aemp_proto::to_values(&args).map(|args| self.start_data(&node, timeout, func, args));
        async move {
            let rx = started?;
            rx.recv().await.unwrap_or(Err(DataConnError::Stopped))
        }
    }

    fn start_data(
        &self,
        node: &NodeId,
        timeout: Duration,
        func: &str,
        args: Vec<Value>,
    ) -> async_channel::Receiver<Result<DataStream, DataConnError>> {
        let (done, rx) = async_channel::bounded(1);
        let context = crate::self_port();
        let port = self.port();
        let id = format!("{}@{}", port.name(), self.node_id());
        if node == self.node_id() {
            self.kil(&port, Reason::normal());
            let local = self.local_data(&id, func, args);
            if let (Err(DataConnError::Failed(reason)), Some(context)) = (&local, &context) {
                self.kil(context, reason.clone());
            }
            let _ = done.try_send(local);
            return rx;
        }
        let on_reply = {
            let (n, id) = (self.clone(), id.clone());
            move |_msg| proceed(&n, &id)
        };
        // The port is new and alive: installing its handler cannot fail.
        let _ = self.rcv(&port, on_reply);
        let on_death = {
            let (n, id) = (self.clone(), id.clone());
            move |reason: Reason| {
                if !reason.is_normal() {
                    fail(&n, &id, reason);
                }
            }
        };
        self.mon(&port, on_death).detach();
        let on_timeout = {
            let (n, id, node) = (self.clone(), id.clone(), node.clone());
            let secs = seconds(timeout);
            move || {
                let why = format!("{node}: unable to establish connection within {secs} seconds");
                fail(&n, &id, Reason::new(KILL_CODE, &why));
            }
        };
        let timer = self.add_timer(timeout, Box::new(on_timeout));
        let opening = Opening {
            node: node.clone(),
            port: port.clone(),
            context,
            timer,
            reversed: false,
            done,
        };
        lock(&self.shared.data).opening.insert(id.clone(), opening);
        let expect = vec![
            Value::from(EXPECT_FUNCTION),
            Value::from(id.as_str()),
            Value::from(&port),
            seconds(timeout),
            Value::from(func),
        ];
        // The round trip arrives after the expectation: then the stream may come.
        let sent = self
            .snd_to_node_port(node.as_str(), expect, args)
            .and_then(|()| self.snd_on(node, &port, ()));
        if let Err(e) = sent {
            fail(self, &id, Reason::new(KILL_CODE, &e.to_string()));
        }
        rx
    }

    /// Both ends on this node: the data function runs at once with its end.
    fn local_data(
        &self,
        id: &str,
        func: &str,
        args: Vec<Value>,
    ) -> Result<DataStream, DataConnError> {
        let Some(f) = self.shared.services.data_function(func) else {
            return Err(DataConnError::Failed(unknown_function(self, func)));
        };
        let (mine, theirs) = DataStream::local_pair(id, self.node_id());
        guarded("data function", || f(self, args, theirs));
        Ok(mine)
    }
}

/// The round trip through the other node is back: open the stream.
fn proceed(node: &Node, id: &str) {
    let target = lock(&node.shared.data)
        .opening
        .get(id)
        .map(|o| o.node.clone());
    if let Some(target) = target {
        node.with_core(|core, now| core.connect_data(target.as_str(), id, now));
    }
}

/// Ends our attempt `id` with `reason`.
fn fail(node: &Node, id: &str, reason: Reason) {
    let Some(opening) = lock(&node.shared.data).opening.remove(id) else {
        return;
    };
    tracing::debug!(%id, %reason, "data connection failed");
    node.cancel_timer(opening.timer);
    node.with_core(|core, now| core.cancel_data(id, now));
    node.kil(&opening.port, reason.clone());
    if let Some(context) = &opening.context {
        node.kil(context, reason.clone());
    }
    let _ = opening.done.try_send(Err(DataConnError::Failed(reason)));
}

/// `AnyEvent::MP::DataConn::_expect ID PORT TIMEOUT FUNC ARGS...`: another node will open
/// (or ask us to open) data connection ID.
pub(crate) fn expect(node: &Node, mut args: Vec<Value>) {
    let parsed = (
        args.first().and_then(Value::as_str),
        args.get(1).and_then(Value::as_str),
        args.get(2).and_then(Value::as_f64),
        args.get(3).and_then(Value::as_str),
    );
    let (Some(id), Some(port), Some(timeout), Some(func)) = parsed else {
        tracing::warn!(
            ?args,
            "data connection request without ID, port, timeout and function ignored"
        );
        return;
    };
    let (id, port, func) = (id.to_owned(), PortId::from(port), func.to_owned());
    if node.shared.services.data_function(&func).is_none() {
        // Known before any stream is opened (the original finds out only once it is).
        node.kil(&port, unknown_function(node, &func));
        return;
    }
    let timeout = Duration::try_from_secs_f64(timeout)
        .unwrap_or_default()
        .min(MAX_EXPECT_TIMEOUT);
    let mut state = lock(&node.shared.data);
    if state.expected.len() >= MAX_EXPECTED || state.expected.contains_key(&id) {
        drop(state);
        tracing::warn!(%id, "data connection request refused: too many expected, or a duplicate ID");
        let why = "too many data connections expected, or a duplicate ID";
        node.kil(&port, Reason::new(KILL_CODE, why));
        return;
    }
    let on_timeout = {
        let (n, id) = (node.clone(), id.clone());
        move || {
            let gone = lock(&n.shared.data).expected.remove(&id);
            if let Some(e) = gone {
                // The original kills with an undefined text here.
                n.kil(
                    &e.port,
                    Reason::from(vec![Value::from(KILL_CODE), Value::Null]),
                );
            }
        }
    };
    let timer = node.add_timer(timeout, Box::new(on_timeout));
    let args = args.split_off(4.min(args.len()));
    tracing::debug!(%id, %port, %func, "expecting a data connection");
    state.expected.insert(
        id,
        Expected {
            port,
            func,
            args,
            timer,
        },
    );
}

/// `AnyEvent::MP::DataConn::_connect ID NODE`: the node that asked for data connection ID
/// has no listeners; open it to NODE ourselves.
pub(crate) fn connect_back(node: &Node, args: Vec<Value>) {
    let (Some(id), Some(target)) = (
        args.first().and_then(Value::as_str),
        args.get(1).and_then(Value::as_str),
    ) else {
        tracing::warn!(
            ?args,
            "data connection connect-back without ID and node ignored"
        );
        return;
    };
    if lock(&node.shared.data).expected.contains_key(id) {
        node.with_core(|core, now| core.connect_data(target, id, now));
    }
}

/// An authenticated data connection left the core: hand it to whoever waits for its ID.
pub(crate) fn arrived(node: &Node, data: DataConnection, stream: Box<dyn ByteStream>) {
    let DataConnection {
        id,
        node: peer,
        connection,
        ..
    } = data;
    let stream = DataStream::net(id.clone(), NodeId::from(peer), stream, connection);
    let (opening, expected) = {
        let mut state = lock(&node.shared.data);
        (state.opening.remove(&id), state.expected.remove(&id))
    };
    if let Some(o) = opening {
        node.cancel_timer(o.timer);
        node.kil(&o.port, Reason::normal());
        tracing::debug!(%id, node = %o.node, "data connection open");
        let _ = o.done.try_send(Ok(stream));
    } else if let Some(e) = expected {
        node.cancel_timer(e.timer);
        match node.shared.services.data_function(&e.func) {
            Some(f) => {
                tracing::debug!(%id, func = %e.func, "data connection open, running its function");
                guarded("data function", || f(node, e.args, stream));
            }
            None => node.kil(&e.port, unknown_function(node, &e.func)),
        }
    } else {
        tracing::debug!(%id, "data connection nobody waits for closed");
    }
}

/// The core could not open data connection `id`, or one we accepted failed.
pub(crate) fn failed(node: &Node, id: &str, reason: &str, no_address: bool) {
    let mut state = lock(&node.shared.data);
    if let Some(o) = state.opening.get_mut(id) {
        if no_address && !o.reversed {
            // The other node has no listeners: it connects to us.
            o.reversed = true;
            let target = o.node.clone();
            drop(state);
            let ask = (id, node.node_id().as_str());
            if let Err(e) = node.snd_to_func(&target, CONNECT_FUNCTION, ask) {
                fail(node, id, Reason::new(KILL_CODE, &e.to_string()));
            }
        } else {
            drop(state);
            fail(node, id, Reason::new(KILL_CODE, reason));
        }
    } else if let Some(e) = state.expected.remove(id) {
        drop(state);
        node.cancel_timer(e.timer);
        node.kil(&e.port, Reason::new(KILL_CODE, reason));
    }
}

/// A duration as the original writes timeouts: whole seconds as an integer.
fn seconds(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        Value::from(d.as_secs())
    } else {
        Value::from(d.as_secs_f64())
    }
}

/// The kill reason for a data function this node does not have.
fn unknown_function(node: &Node, func: &str) -> Reason {
    let why = format!(
        "data function '{func}' is not registered on {}",
        node.node_id()
    );
    Reason::new(KILL_CODE, &why)
}

/// A data function that writes back every byte it reads until the end of the stream, then
/// ends its side too (its arguments are ignored): register it, e.g. as
/// [`DATA_ECHO_FUNCTION`], for other nodes to test their data connections against.
///
/// ```
/// use aemp_node::{data_echo, Node, DATA_ECHO_FUNCTION};
/// let builder = Node::builder().register_data_function(DATA_ECHO_FUNCTION, data_echo);
/// # drop(builder);
/// ```
pub fn data_echo(node: &Node, _args: Vec<Value>, stream: DataStream) {
    let id = stream.id().to_owned();
    node.spawn_task(
        "data echo",
        Box::pin(async move {
            let (reader, mut writer) = futures_lite::io::split(stream);
            let copied = futures_lite::io::copy(reader, &mut writer).await;
            let closed = futures_lite::AsyncWriteExt::close(&mut writer).await;
            tracing::debug!(%id, ?copied, ?closed, "data echo ended");
        }),
    );
}
