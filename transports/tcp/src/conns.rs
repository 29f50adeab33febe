//! The streams of one node: accepting, connecting, reading, writing, closing.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::task::{Context, Poll};
use std::time::Duration;

use aemp_proto::node::ConnId;
use aemp_runtime::{BoxFuture, Listener, Runtime, Stream};
use socket2::TcpKeepalive;

use crate::outbuf::OutBuf;
use crate::resolve::resolve;

/// Socket settings and limits of a [`Tcp`] transport.
///
/// ```
/// let o = aemp_transport_tcp::TcpOptions::default();
/// assert_eq!(o.max_queued_bytes, 64 << 20);
/// assert!(o.nodelay);
/// ```
#[derive(Clone, Debug)]
pub struct TcpOptions {
    /// Disable Nagle's algorithm (on by default: the driver already batches writes).
    pub nodelay: bool,
    /// Idle time before TCP keepalive probes start; `None` turns TCP keepalive off.
    pub keepalive: Option<Duration>,
    /// The most bytes queued towards one peer; more is an [`Overflow`].
    pub max_queued_bytes: usize,
    /// Size of the one read buffer shared by all streams.
    pub read_buffer: usize,
    /// Reads per stream per poll before the others get their turn.
    pub reads_per_poll: usize,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            nodelay: true,
            keepalive: Some(Duration::from_secs(30)),
            max_queued_bytes: 64 << 20,
            read_buffer: 64 << 10,
            reads_per_poll: 4,
        }
    }
}

/// What happened on a stream, reported by [`Tcp::poll_input`] and [`Tcp::poll_output`].
///
/// ```
/// use aemp_transport_tcp::Event;
/// let e = Event::Closed("Unexpected end-of-file".into());
/// assert!(matches!(e, Event::Closed(_)));
/// ```
#[derive(Debug, PartialEq)]
pub enum Event<'a> {
    /// The outgoing stream asked for with [`Tcp::connect`] is open.
    Connected,
    /// Bytes arrived.
    Data(&'a [u8]),
    /// The stream ended or failed, or could not be opened; the text says why.
    Closed(String),
}

/// [`Tcp::transmit`] refused data: the peer's queue would exceed the limit.
///
/// ```
/// let o = aemp_transport_tcp::Overflow { queued: 10, limit: 8 };
/// assert!(o.to_string().contains("8"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Bytes that would be queued.
    pub queued: usize,
    /// The limit.
    pub limit: usize,
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "send queue overflow: {} bytes queued for the peer, the limit is {}",
            self.queued, self.limit
        )
    }
}

impl std::error::Error for Overflow {}

enum State<S> {
    Connecting(BoxFuture<io::Result<(S, SocketAddr)>>),
    Open(S),
}

struct Conn<S> {
    state: State<S>,
    /// The peer's address as configured or as accepted from, for logs.
    peer: String,
    out: OutBuf,
    /// Write what is queued, then shut down.
    closing: bool,
}

/// The listeners and streams of one node. See the [crate docs](crate).
pub struct Tcp<R: Runtime> {
    rt: R,
    opts: TcpOptions,
    listeners: Vec<R::Listener>,
    conns: HashMap<ConnId, Conn<R::Stream>>,
    read_buf: Vec<u8>,
}

impl<R: Runtime> fmt::Debug for Tcp<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tcp")
            .field("listeners", &self.listeners.len())
            .field("conns", &self.conns.len())
            .finish()
    }
}

impl<R: Runtime> Tcp<R> {
    /// A transport with no listener and no stream.
    ///
    /// ```
    /// let tcp = aemp_transport_tcp::Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// assert!(tcp.is_idle());
    /// ```
    pub fn new(rt: R, opts: TcpOptions) -> Self {
        let read_buf = vec![0; opts.read_buffer.max(1)];
        Tcp {
            rt,
            opts,
            listeners: Vec::new(),
            conns: HashMap::new(),
            read_buf,
        }
    }

    /// Starts accepting on a bound listener; returns its address.
    ///
    /// ```
    /// # use aemp_transport_tcp::{listen, Tcp};
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let a = tcp.add_listener(listen("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
    /// assert!(a.ip().is_loopback());
    /// ```
    pub fn add_listener(&mut self, listener: TcpListener) -> io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        self.listeners.push(self.rt.listener(listener)?);
        Ok(addr)
    }

    /// Stops accepting (existing streams stay).
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// tcp.drop_listeners();
    /// ```
    pub fn drop_listeners(&mut self) {
        self.listeners.clear();
    }

    /// No stream is open or being opened.
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// assert!(Tcp::new(aemp_runtime::AsyncIo, Default::default()).is_idle());
    /// ```
    pub fn is_idle(&self) -> bool {
        self.conns.is_empty()
    }

    /// Accepts the next incoming stream, if one is waiting (socket options already set).
    /// Accept errors are logged and skipped.
    ///
    /// ```
    /// # use aemp_transport_tcp::{listen, Tcp};
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(tcp.poll_accept(&mut cx).is_none());
    /// ```
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Option<(R::Stream, SocketAddr)> {
        for l in &mut self.listeners {
            loop {
                match l.poll_accept(cx) {
                    Poll::Ready(Ok((stream, addr))) => {
                        if let Err(e) = configure(&stream, &self.opts) {
                            tracing::warn!(peer = %addr, error = %e, "cannot set socket options");
                        }
                        return Some((stream, addr));
                    }
                    Poll::Ready(Err(e)) => {
                        tracing::warn!(error = %e, "accept failed");
                        if is_fatal_accept_error(&e) {
                            break;
                        }
                    }
                    Poll::Pending => break,
                }
            }
        }
        None
    }

    /// Takes over an accepted stream under the core's ID for it.
    ///
    /// ```no_run
    /// # fn f(tcp: &mut aemp_transport_tcp::Tcp<aemp_runtime::AsyncIo>, s: aemp_runtime::AsyncIoStream) {
    /// tcp.insert(aemp_proto::node::ConnId(1), s, "127.0.0.1:5555".parse().unwrap());
    /// # }
    /// ```
    pub fn insert(&mut self, id: ConnId, stream: R::Stream, peer: SocketAddr) {
        self.conns.insert(
            id,
            Conn {
                state: State::Open(stream),
                peer: peer.to_string(),
                out: OutBuf::default(),
                closing: false,
            },
        );
    }

    /// Starts opening a stream to `addr` (`host:port`; names are resolved off-thread, and
    /// every address they resolve to is tried in turn). [`Tcp::poll_input`] reports
    /// [`Event::Connected`] or [`Event::Closed`] for it.
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// tcp.connect(aemp_proto::node::ConnId(1), "127.0.0.1:1");
    /// assert!(!tcp.is_idle());
    /// ```
    pub fn connect(&mut self, id: ConnId, addr: &str) {
        let rt = self.rt.clone();
        let opts = self.opts.clone();
        let text = addr.to_owned();
        let fut = Box::pin(async move {
            let mut last = None;
            for a in resolve(&text).await? {
                match rt.connect(a).await {
                    Ok(stream) => {
                        if let Err(e) = configure(&stream, &opts) {
                            tracing::warn!(peer = %a, error = %e, "cannot set socket options");
                        }
                        return Ok((stream, a));
                    }
                    Err(e) => last = Some(io::Error::new(e.kind(), format!("{a}: {e}"))),
                }
            }
            Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
        });
        self.conns.insert(
            id,
            Conn {
                state: State::Connecting(fut),
                peer: addr.to_owned(),
                out: OutBuf::default(),
                closing: false,
            },
        );
    }

    /// Queues bytes for a stream; they go out with the next [`Tcp::poll_output`]. Data for
    /// an unknown stream is dropped; data beyond [`TcpOptions::max_queued_bytes`] is refused.
    ///
    /// ```
    /// # use aemp_transport_tcp::{Tcp, TcpOptions};
    /// let opts = TcpOptions { max_queued_bytes: 4, ..Default::default() };
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, opts);
    /// let id = aemp_proto::node::ConnId(1);
    /// tcp.connect(id, "127.0.0.1:1");
    /// assert!(tcp.transmit(id, vec![0; 4]).is_ok());
    /// assert!(tcp.transmit(id, vec![0; 1]).is_err());
    /// ```
    pub fn transmit(&mut self, id: ConnId, data: Vec<u8>) -> Result<(), Overflow> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        let queued = conn.out.pending() + data.len();
        if queued > self.opts.max_queued_bytes {
            return Err(Overflow {
                queued,
                limit: self.opts.max_queued_bytes,
            });
        }
        conn.out.push(data);
        Ok(())
    }

    /// Closes a stream once what is queued for it is written.
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// tcp.close(aemp_proto::node::ConnId(7)); // unknown: nothing happens
    /// ```
    pub fn close(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.closing = true;
        }
    }

    /// Drops a stream at once, discarding what is queued.
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let id = aemp_proto::node::ConnId(1);
    /// tcp.connect(id, "127.0.0.1:1");
    /// tcp.abort(id);
    /// assert!(tcp.is_idle());
    /// ```
    pub fn abort(&mut self, id: ConnId) {
        self.conns.remove(&id);
    }

    /// Closes every stream (after writing what is queued).
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// tcp.close_all();
    /// ```
    pub fn close_all(&mut self) {
        for conn in self.conns.values_mut() {
            conn.closing = true;
        }
    }

    /// Advances connection attempts and reads what arrived, reporting each to `sink`.
    /// Returns whether anything happened (if so, poll again after handling it).
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(!tcp.poll_input(&mut cx, |_, _| {}));
    /// ```
    pub fn poll_input(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(ConnId, Event<'_>),
    ) -> bool {
        let mut progress = false;
        let mut gone = Vec::new();
        for (&id, conn) in &mut self.conns {
            if let State::Connecting(fut) = &mut conn.state {
                match fut.as_mut().poll(cx) {
                    Poll::Pending => continue,
                    Poll::Ready(Ok((stream, addr))) => {
                        progress = true;
                        tracing::debug!(conn = id.0, peer = %conn.peer, %addr, "connected");
                        conn.state = State::Open(stream);
                        if conn.closing {
                            gone.push(id);
                            continue;
                        }
                        sink(id, Event::Connected);
                    }
                    Poll::Ready(Err(e)) => {
                        progress = true;
                        let why = if e.to_string().contains(&conn.peer) {
                            format!("connect failed: {e}")
                        } else {
                            format!("connect failed: {}: {e}", conn.peer)
                        };
                        tracing::info!(conn = id.0, peer = %conn.peer, error = %e, "connect failed");
                        gone.push(id);
                        if !conn.closing {
                            sink(id, Event::Closed(why));
                        }
                        continue;
                    }
                }
            }
            let State::Open(stream) = &mut conn.state else {
                continue;
            };
            if conn.closing {
                continue;
            }
            for _ in 0..self.opts.reads_per_poll {
                match stream.poll_read(cx, &mut self.read_buf) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(0)) => {
                        progress = true;
                        tracing::info!(conn = id.0, peer = %conn.peer, "Unexpected end-of-file");
                        gone.push(id);
                        sink(id, Event::Closed("Unexpected end-of-file".into()));
                        break;
                    }
                    Poll::Ready(Ok(n)) => {
                        progress = true;
                        sink(id, Event::Data(&self.read_buf[..n]));
                    }
                    Poll::Ready(Err(e)) => {
                        progress = true;
                        tracing::info!(conn = id.0, peer = %conn.peer, error = %e, "read failed");
                        gone.push(id);
                        sink(id, Event::Closed(format!("read error: {e}")));
                        break;
                    }
                }
            }
        }
        for id in gone {
            self.conns.remove(&id);
        }
        progress
    }

    /// Writes what is queued for every stream, and shuts closed streams down once their
    /// queue is written. A write failure is reported to `sink` as [`Event::Closed`]
    /// (unless the stream was being closed anyway). Returns whether a stream failed.
    ///
    /// ```
    /// # use aemp_transport_tcp::Tcp;
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(!tcp.poll_output(&mut cx, |_, _| {}));
    /// ```
    pub fn poll_output(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(ConnId, Event<'_>),
    ) -> bool {
        let mut failed = false;
        let mut gone = Vec::new();
        for (&id, conn) in &mut self.conns {
            let State::Open(stream) = &mut conn.state else {
                if conn.closing {
                    gone.push(id);
                }
                continue;
            };
            match conn.out.poll_flush(stream, cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => {
                    if conn.closing {
                        if let Poll::Ready(Err(e)) = stream.poll_shutdown(cx) {
                            tracing::debug!(conn = id.0, peer = %conn.peer, error = %e, "shutdown failed");
                        }
                        gone.push(id);
                    }
                }
                Poll::Ready(Err(e)) => {
                    gone.push(id);
                    if !conn.closing {
                        failed = true;
                        tracing::info!(conn = id.0, peer = %conn.peer, error = %e, "write failed");
                        sink(id, Event::Closed(format!("write error: {e}")));
                    }
                }
            }
        }
        for id in gone {
            self.conns.remove(&id);
        }
        failed
    }
}

/// Sets TCP_NODELAY and TCP keepalive as configured.
fn configure<S: Stream>(stream: &S, opts: &TcpOptions) -> io::Result<()> {
    let sock = stream.socket();
    sock.set_nodelay(opts.nodelay)?;
    match opts.keepalive {
        Some(time) => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(time)),
        None => sock.set_keepalive(false),
    }
}

/// Accept errors that are about the listener rather than one incoming connection.
fn is_fatal_accept_error(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
