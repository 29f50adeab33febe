//! [`DataStream`]: one end of a data connection, read and written like a socket.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use aemp_proto::conn::{ConnEvent, Connection};
use aemp_transport::ByteStream;
use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::NodeId;

/// Bytes read from the stream at a time while TLS runs (one record is at most 16 KiB).
const TLS_READ: usize = 32 << 10;
/// Bytes taken from one write call while TLS runs.
const TLS_WRITE: usize = 64 << 10;

/// One end of a data connection (the original's `AnyEvent::MP::DataConn`): a byte stream
/// between two nodes, authenticated like their node connection (and encrypted with TLS when
/// the nodes use it), that carries raw bytes and no messages. It implements
/// [`AsyncRead`] and [`AsyncWrite`] (the `futures-io` traits; tokio users wrap it with
/// `tokio_util::compat`). Opened with [`Node::connect_data`](crate::Node::connect_data).
///
/// Dropping it closes the connection; [`AsyncWriteExt::close`](futures_lite::AsyncWriteExt::close)
/// ends it cleanly after what was written (the other end reads the end of the stream).
///
/// ```
/// # use std::time::Duration;
/// use aemp_node::{data_echo, Node, DATA_ECHO_FUNCTION};
/// use futures_lite::{future::block_on, AsyncReadExt, AsyncWriteExt};
/// let node = Node::builder().norc().secret("s").binds(["127.0.0.1:0"])
///     .register_data_function(DATA_ECHO_FUNCTION, data_echo).start()?;
/// let mut stream = block_on(node.connect_data(node.node_id(), Duration::from_secs(5), DATA_ECHO_FUNCTION, ()))?;
/// block_on(stream.write_all(b"ping"))?;
/// let mut buf = [0; 4];
/// block_on(stream.read_exact(&mut buf))?;
/// assert_eq!(&buf, b"ping");
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DataStream {
    id: String,
    node: NodeId,
    inner: Inner,
}

enum Inner {
    /// Over a transport's stream.
    Net(Box<NetStream>),
    /// Both ends on this node: two in-memory pipes.
    Local {
        reader: piper::Reader,
        writer: piper::Writer,
    },
}

/// A data connection over a transport: the stream, and the connection state that runs
/// TLS on it (without TLS its bytes pass through untouched).
struct NetStream {
    stream: Box<dyn ByteStream>,
    conn: Connection,
    /// Bytes for the stream not yet written (the handshake's last bytes, TLS records).
    out: Vec<u8>,
    written: usize,
    /// A read buffer for TLS records.
    records: Vec<u8>,
    /// The stream reached its end.
    eof: bool,
    /// Why the connection failed (TLS), once it did.
    failed: Option<String>,
}

impl DataStream {
    /// A data connection over a transport's stream.
    pub(crate) fn net(
        id: String,
        node: NodeId,
        stream: Box<dyn ByteStream>,
        conn: Connection,
    ) -> DataStream {
        let net = NetStream {
            stream,
            conn,
            out: Vec::new(),
            written: 0,
            records: Vec::new(),
            eof: false,
            failed: None,
        };
        DataStream {
            id,
            node,
            inner: Inner::Net(Box::new(net)),
        }
    }

    /// Two connected ends on this node.
    pub(crate) fn local_pair(id: &str, node: &NodeId) -> (DataStream, DataStream) {
        let (r1, w1) = piper::pipe(TLS_WRITE);
        let (r2, w2) = piper::pipe(TLS_WRITE);
        let end = |reader, writer| DataStream {
            id: id.to_owned(),
            node: node.clone(),
            inner: Inner::Local { reader, writer },
        };
        (end(r1, w2), end(r2, w1))
    }

    /// The ID both nodes know the data connection by.
    ///
    /// ```
    /// fn log(stream: &aemp_node::DataStream) {
    ///     println!("data connection {} to {}", stream.id(), stream.node());
    /// }
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node at the other end.
    ///
    /// ```
    /// fn peer(stream: &aemp_node::DataStream) -> &str {
    ///     stream.node().as_str()
    /// }
    /// ```
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Whether TLS encrypts it.
    ///
    /// ```
    /// fn secure(stream: &aemp_node::DataStream) -> bool {
    ///     stream.encrypted()
    /// }
    /// ```
    pub fn encrypted(&self) -> bool {
        match &self.inner {
            Inner::Net(net) => net.conn.tls_running(),
            Inner::Local { .. } => false,
        }
    }
}

impl fmt::Debug for DataStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataStream")
            .field("id", &self.id)
            .field("node", &self.node)
            .field("local", &matches!(self.inner, Inner::Local { .. }))
            .finish_non_exhaustive()
    }
}

impl NetStream {
    /// Moves what the connection queued to `out` and writes `out` to the stream.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.written == self.out.len() {
            self.out.clear();
            self.written = 0;
        }
        self.conn.poll_transmit(&mut self.out);
        while self.written < self.out.len() {
            let n = ready!(self.stream.poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.out.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Notes a failure the connection reported.
    fn check_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            if let ConnEvent::Closed(why) = event {
                self.failed.get_or_insert(why.to_string());
            }
        }
    }

    fn failure(&self) -> Option<io::Error> {
        self.failed
            .as_ref()
            .map(|why| io::Error::new(io::ErrorKind::ConnectionAborted, why.clone()))
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // Bytes of the handshake may still wait (our auth line, when the peer's came right
        // behind its greeting): the peer waits for them before it sends anything.
        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            let n = self.conn.read_data(buf);
            if n > 0 || buf.is_empty() || self.eof || self.conn.data_ended() {
                return Poll::Ready(Ok(n));
            }
            if let Some(e) = self.failure() {
                return Poll::Ready(Err(e));
            }
            if !self.conn.tls_running() {
                // Nothing to decrypt: read into the caller's buffer.
                let n = ready!(self.stream.poll_read(cx, buf))?;
                self.eof = n == 0;
                return Poll::Ready(Ok(n));
            }
            self.records.resize(TLS_READ, 0);
            let n = ready!(self.stream.poll_read(cx, &mut self.records))?;
            if n == 0 {
                self.eof = true;
                continue;
            }
            self.conn.handle_input(&self.records[..n]);
            self.check_events();
            // TLS may answer what it read; a later write or flush finishes what this cannot.
            if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                return Poll::Ready(Err(e));
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_write_out(cx))?;
        if let Some(e) = self.failure() {
            return Poll::Ready(Err(e));
        }
        if !self.conn.tls_running() {
            return self.stream.poll_write(cx, buf);
        }
        let n = buf.len().min(TLS_WRITE);
        if !self.conn.send_data(&buf[..n]) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        // Accepted: what the stream does not take now goes out with the next call.
        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // What was written goes out first; ending twice is ending once.
        ready!(self.poll_write_out(cx))?;
        self.conn.end_data();
        ready!(self.poll_write_out(cx))?;
        self.stream.poll_shutdown(cx)
    }
}

impl AsyncRead for DataStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Net(net) => net.poll_read(cx, buf),
            Inner::Local { reader, .. } => Pin::new(reader).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for DataStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Net(net) => net.poll_write(cx, buf),
            Inner::Local { writer, .. } => Pin::new(writer).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Net(net) => net.poll_write_out(cx),
            Inner::Local { writer, .. } => Pin::new(writer).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Net(net) => net.poll_close(cx),
            Inner::Local { writer, .. } => Pin::new(writer).poll_close(cx),
        }
    }
}
