//! The contract between an AEMP node's driver and the transports that carry its byte
//! streams.
//!
//! A transport ([`Transport`]) listens, accepts and connects; what it hands over is a
//! [`ByteStream`] (a TCP connection, a QUIC stream pair, ...) together with what the
//! stream provides by itself ([`Channel`]: plain, or encrypted with a channel binding).
//! From then on every stream is alike: [`Streams`] reads them, writes what the node queued
//! (with a bound per stream) and closes them, for whichever transport they came from. A
//! node may run several transports at once ([`Transports`]): an address names its
//! transport by a scheme prefix (`quic:host:port`); one without a prefix (`host:port`, as
//! the original writes them) belongs to the transport without a scheme, TCP.
//!
//! ```
//! use aemp_transport::{Streams, StreamOptions, Transports};
//! let mut transports = Transports::default();
//! assert!(transports.route("quic:127.0.0.1:4041").is_none());
//! let streams = Streams::new(StreamOptions::default());
//! assert!(streams.is_idle());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod host;
mod outbuf;
mod resolve;
mod streams;
mod transports;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use aemp_proto::conn::Channel;
pub use host::advertised_addresses;
pub use resolve::resolve;
pub use streams::{StreamEvent, StreamOptions, Streams};
pub use transports::Transports;

/// A boxed, sendable future (what [`Transport::connect`] returns).
///
/// ```
/// let f: aemp_transport::BoxFuture<u8> = Box::pin(async { 7 });
/// # drop(f);
/// ```
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A connected byte stream the driver polls directly.
///
/// ```
/// fn buffered(_s: &dyn aemp_transport::ByteStream) {}
/// ```
pub trait ByteStream: Send + Unpin + 'static {
    /// Reads into `buf`; `Ready(Ok(0))` is the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes from `buf`, possibly only a part of it.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes from `bufs` in order, possibly only a part of them, in one call where the
    /// stream can (`writev`); by default the first non-empty one alone.
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        self.poll_write(cx, first)
    }
    /// Ends the writing half (the peer reads the end of the stream).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// A stream a transport accepted or opened, and what it knows about it.
///
/// ```
/// fn peer(o: &aemp_transport::Opened) -> &str {
///     &o.peer
/// }
/// ```
pub struct Opened {
    /// The stream.
    pub stream: Box<dyn ByteStream>,
    /// The peer's address, for logs.
    pub peer: String,
    /// What the stream provides by itself (TCP: nothing; QUIC: encryption).
    pub channel: Channel,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("peer", &self.peer)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// One way to carry AEMP byte streams: it listens on what it was given, accepts, and
/// connects to addresses of its scheme.
///
/// ```
/// fn name(t: &dyn aemp_transport::Transport) -> &'static str {
///     t.scheme().unwrap_or("tcp")
/// }
/// ```
pub trait Transport: Send + 'static {
    /// The address prefix it serves (`Some("quic")` for `quic:host:port`), or `None` for
    /// addresses without one (`host:port`: TCP, as the original writes addresses).
    fn scheme(&self) -> Option<&'static str>;

    /// The next incoming stream, if one is ready. Errors about one incoming connection are
    /// the transport's to log and skip.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Opened>;

    /// Opens a stream to `addr` (without the scheme prefix).
    fn connect(&mut self, addr: &str) -> BoxFuture<io::Result<Opened>>;

    /// Stops listening (streams already open stay).
    fn close_listeners(&mut self);
}
