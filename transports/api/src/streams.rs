//! The open streams of one node, whatever transport they came from: connecting, reading,
//! writing what is queued, closing.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::task::{Context, Poll};

use aemp_proto::node::ConnId;

use crate::outbuf::OutBuf;
use crate::{BoxFuture, ByteStream, Channel, Opened};

/// Flow control and read behaviour of [`Streams`].
///
/// ```
/// let o = aemp_transport::StreamOptions::default();
/// assert_eq!(o.write_window, 1 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// Bytes a stream may hold unwritten before [`Streams::transmit`] says it is full; it
    /// reports [`StreamEvent::Writable`] once half of them are written.
    pub write_window: usize,
    /// Size of the one read buffer shared by all streams.
    pub read_buffer: usize,
    /// Reads per stream per poll before the others get their turn.
    pub reads_per_poll: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            write_window: 1 << 20,
            read_buffer: 64 << 10,
            reads_per_poll: 1,
        }
    }
}

/// What happened on a stream, reported by [`Streams::poll_input`] and
/// [`Streams::poll_output`].
///
/// ```
/// use aemp_transport::StreamEvent;
/// let e = StreamEvent::Closed("Unexpected end-of-file".into());
/// assert!(matches!(e, StreamEvent::Closed(_)));
/// ```
#[derive(Debug, PartialEq)]
pub enum StreamEvent<'a> {
    /// The outgoing stream asked for with [`Streams::connect`] is open, with what its
    /// transport provides.
    Connected(Channel),
    /// Bytes arrived.
    Data(&'a [u8]),
    /// A stream [`Streams::transmit`] called full has written half its window: it takes
    /// more.
    Writable,
    /// The stream ended or failed, or could not be opened; the text says why.
    Closed(String),
}

enum State {
    Connecting(BoxFuture<io::Result<Opened>>),
    Open(Box<dyn ByteStream>),
}

struct Conn {
    state: State,
    /// The peer's address as configured or as accepted from, for logs.
    peer: String,
    out: OutBuf,
    /// [`Streams::transmit`] said it is full; [`StreamEvent::Writable`] is due.
    full: bool,
    /// Write what is queued, then shut down.
    closing: bool,
    /// Write what is queued, then hand the stream over ([`Streams::take_detached`]).
    detaching: bool,
}

/// The streams of one node. See the [crate docs](crate).
pub struct Streams {
    opts: StreamOptions,
    conns: HashMap<ConnId, Conn>,
    read_buf: Vec<u8>,
    /// Streams whose queue is written, waiting to be taken.
    detached: Vec<(ConnId, Box<dyn ByteStream>)>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("conns", &self.conns.len())
            .finish()
    }
}

impl Streams {
    /// No stream yet.
    ///
    /// ```
    /// let s = aemp_transport::Streams::new(Default::default());
    /// assert!(s.is_idle());
    /// ```
    pub fn new(opts: StreamOptions) -> Streams {
        let read_buf = vec![0; opts.read_buffer.max(1)];
        Streams {
            opts,
            conns: HashMap::new(),
            read_buf,
            detached: Vec::new(),
        }
    }

    /// No stream is open or being opened.
    ///
    /// ```
    /// assert!(aemp_transport::Streams::new(Default::default()).is_idle());
    /// ```
    pub fn is_idle(&self) -> bool {
        self.conns.is_empty()
    }

    /// Takes over an accepted stream under the core's ID for it.
    ///
    /// ```no_run
    /// # fn f(streams: &mut aemp_transport::Streams, opened: aemp_transport::Opened) {
    /// streams.insert(aemp_proto::node::ConnId(1), opened);
    /// # }
    /// ```
    pub fn insert(&mut self, id: ConnId, opened: Opened) {
        self.conns.insert(
            id,
            Conn {
                state: State::Open(opened.stream),
                peer: opened.peer,
                out: OutBuf::default(),
                full: false,
                closing: false,
                detaching: false,
            },
        );
    }

    /// Starts opening a stream to `peer` with `opening` (a transport's
    /// [`connect`](crate::Transport::connect)). [`Streams::poll_input`] reports
    /// [`StreamEvent::Connected`] or [`StreamEvent::Closed`] for it.
    ///
    /// ```
    /// # use aemp_transport::Streams;
    /// let mut s = Streams::new(Default::default());
    /// s.connect(aemp_proto::node::ConnId(1), "h:1", Box::pin(async { Err(std::io::Error::other("no")) }));
    /// assert!(!s.is_idle());
    /// ```
    pub fn connect(&mut self, id: ConnId, peer: &str, opening: BoxFuture<io::Result<Opened>>) {
        self.conns.insert(
            id,
            Conn {
                state: State::Connecting(opening),
                peer: peer.to_owned(),
                out: OutBuf::default(),
                full: false,
                closing: false,
                detaching: false,
            },
        );
    }

    /// Queues the bytes of `data` for a stream; they go out with the next
    /// [`Streams::poll_output`]. `data` is left empty, often holding a written buffer of the
    /// stream's to fill again (its memory is reused instead of freed and grown anew). Data
    /// for an unknown stream is dropped. Returns whether the stream takes more: `false`
    /// once it holds [`StreamOptions::write_window`] bytes unwritten (the caller should
    /// stop until [`StreamEvent::Writable`]).
    ///
    /// ```
    /// # use aemp_transport::{Streams, StreamOptions};
    /// let mut s = Streams::new(StreamOptions { write_window: 4, ..Default::default() });
    /// let id = aemp_proto::node::ConnId(1);
    /// s.connect(id, "h:1", Box::pin(std::future::pending()));
    /// let mut data = vec![0; 3];
    /// assert!(s.transmit(id, &mut data));
    /// assert!(data.is_empty());
    /// assert!(!s.transmit(id, &mut vec![0; 1]));
    /// ```
    pub fn transmit(&mut self, id: ConnId, data: &mut Vec<u8>) -> bool {
        let Some(conn) = self.conns.get_mut(&id) else {
            data.clear();
            return true;
        };
        conn.out.push(data);
        conn.full = conn.out.pending() >= self.opts.write_window;
        !conn.full
    }

    /// Closes a stream once what is queued for it is written.
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// s.close(aemp_proto::node::ConnId(7)); // unknown: nothing happens
    /// ```
    pub fn close(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.closing = true;
        }
    }

    /// Stops reading a stream and hands it over once what is queued for it is written
    /// (a data connection leaving the core: its peer waits for those bytes before it
    /// sends anything): [`Streams::poll_output`] moves it to [`Streams::take_detached`].
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// s.detach(aemp_proto::node::ConnId(7)); // unknown: nothing happens
    /// ```
    pub fn detach(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.detaching = true;
        }
    }

    /// A stream [`Streams::detach`] asked for, once everything queued for it is written.
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// assert!(s.take_detached().is_none());
    /// ```
    pub fn take_detached(&mut self) -> Option<(ConnId, Box<dyn ByteStream>)> {
        self.detached.pop()
    }

    /// Whether the stream of `id` is open, being opened, or waiting to be detached.
    ///
    /// ```
    /// let s = aemp_transport::Streams::new(Default::default());
    /// assert!(!s.contains(aemp_proto::node::ConnId(1)));
    /// ```
    pub fn contains(&self, id: ConnId) -> bool {
        self.conns.contains_key(&id) || self.detached.iter().any(|(d, _)| *d == id)
    }

    /// Drops a stream at once, discarding what is queued.
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// let id = aemp_proto::node::ConnId(1);
    /// s.connect(id, "h:1", Box::pin(std::future::pending()));
    /// s.abort(id);
    /// assert!(s.is_idle());
    /// ```
    pub fn abort(&mut self, id: ConnId) {
        self.conns.remove(&id);
    }

    /// Closes every stream (after writing what is queued).
    ///
    /// ```
    /// aemp_transport::Streams::new(Default::default()).close_all();
    /// ```
    pub fn close_all(&mut self) {
        for conn in self.conns.values_mut() {
            conn.closing = true;
        }
    }

    /// Advances connection attempts and reads what arrived on the streams `readable`
    /// allows (flow control: a node whose queues are full reads less), reporting each to
    /// `sink`. Returns whether anything happened (if so, poll again after handling it).
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(!s.poll_input(&mut cx, |_| true, |_, _| {}));
    /// ```
    pub fn poll_input(
        &mut self,
        cx: &mut Context<'_>,
        readable: impl Fn(ConnId) -> bool,
        mut sink: impl FnMut(ConnId, StreamEvent<'_>),
    ) -> bool {
        let mut progress = false;
        let mut gone = Vec::new();
        for (&id, conn) in &mut self.conns {
            if let State::Connecting(fut) = &mut conn.state {
                match fut.as_mut().poll(cx) {
                    Poll::Pending => continue,
                    Poll::Ready(Ok(opened)) => {
                        progress = true;
                        tracing::debug!(conn = id.0, peer = %conn.peer, addr = %opened.peer, "connected");
                        conn.state = State::Open(opened.stream);
                        if conn.closing {
                            gone.push(id);
                            continue;
                        }
                        sink(id, StreamEvent::Connected(opened.channel));
                    }
                    Poll::Ready(Err(e)) => {
                        progress = true;
                        let why = if e.to_string().contains(&conn.peer) {
                            format!("connect failed: {e}")
                        } else {
                            format!("connect failed: {}: {e}", conn.peer)
                        };
                        tracing::debug!(conn = id.0, peer = %conn.peer, error = %e, "connect failed");
                        gone.push(id);
                        if !conn.closing {
                            sink(id, StreamEvent::Closed(why));
                        }
                        continue;
                    }
                }
            }
            let State::Open(stream) = &mut conn.state else {
                continue;
            };
            if conn.closing || conn.detaching || !readable(id) {
                continue;
            }
            for _ in 0..self.opts.reads_per_poll {
                match stream.poll_read(cx, &mut self.read_buf) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(0)) => {
                        progress = true;
                        tracing::debug!(conn = id.0, peer = %conn.peer, "Unexpected end-of-file");
                        gone.push(id);
                        sink(id, StreamEvent::Closed("Unexpected end-of-file".into()));
                        break;
                    }
                    Poll::Ready(Ok(n)) => {
                        progress = true;
                        sink(id, StreamEvent::Data(&self.read_buf[..n]));
                    }
                    Poll::Ready(Err(e)) => {
                        progress = true;
                        tracing::debug!(conn = id.0, peer = %conn.peer, error = %e, "read failed");
                        gone.push(id);
                        sink(id, StreamEvent::Closed(format!("read error: {e}")));
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

    /// Writes what is queued for every stream, shuts closed streams down once their queue
    /// is written, and moves streams being detached to [`Streams::take_detached`] then. A full stream that has written half its window is reported to
    /// `sink` as [`StreamEvent::Writable`], a write failure as [`StreamEvent::Closed`]
    /// (unless the stream was being closed anyway). Returns whether anything was reported.
    ///
    /// ```
    /// let mut s = aemp_transport::Streams::new(Default::default());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(!s.poll_output(&mut cx, |_, _| {}));
    /// ```
    pub fn poll_output(
        &mut self,
        cx: &mut Context<'_>,
        mut sink: impl FnMut(ConnId, StreamEvent<'_>),
    ) -> bool {
        let mut reported = false;
        let (mut gone, mut handed) = (Vec::new(), Vec::new());
        for (&id, conn) in &mut self.conns {
            let State::Open(stream) = &mut conn.state else {
                if conn.closing {
                    gone.push(id);
                }
                continue;
            };
            let flushed = conn.out.poll_flush(stream.as_mut(), cx);
            if conn.full && conn.out.pending() <= self.opts.write_window / 2 && !conn.closing {
                conn.full = false;
                reported = true;
                sink(id, StreamEvent::Writable);
            }
            match flushed {
                Poll::Pending => {}
                Poll::Ready(Ok(())) if conn.detaching && !conn.closing => handed.push(id),
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
                        reported = true;
                        tracing::debug!(conn = id.0, peer = %conn.peer, error = %e, "write failed");
                        sink(id, StreamEvent::Closed(format!("write error: {e}")));
                    }
                }
            }
        }
        for id in gone {
            self.conns.remove(&id);
        }
        for id in handed {
            if let Some(State::Open(stream)) = self.conns.remove(&id).map(|c| c.state) {
                self.detached.push((id, stream));
                reported = true;
            }
        }
        reported
    }
}
