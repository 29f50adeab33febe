//! The async runtimes an AEMP node can run on.
//!
//! A node's driver is one future that owns every socket of the node and polls them itself
//! (one task per node, no task per connection). What it needs from a runtime is small and
//! poll-based: TCP streams and listeners it can poll for readiness, a resettable sleep, and
//! a way to run the driver future. [`Runtime`] is that contract; this crate implements it for
//!
//! - [`AsyncIo`] (cargo feature `async-io`, the default): the async-io reactor; the driver
//!   runs on a thread of its own with `async_io::block_on`.
//! - `Tokio` (feature `tokio`): tokio's reactor and timer; the driver is a task spawned on
//!   the runtime that was current when the `Tokio` value was made.
//! - `Smol` (feature `smol`): the async-io reactor, with the driver spawned on smol's
//!   global executor.
//!
//! ```
//! # #[cfg(feature = "async-io")] {
//! use aemp_runtime::{AsyncIo, Runtime, Sleep};
//! use std::time::{Duration, Instant};
//!
//! let rt = AsyncIo;
//! let (tx, rx) = std::sync::mpsc::channel();
//! rt.spawn("example", Box::pin(async move {
//!     let mut sleep = AsyncIo.sleep();
//!     sleep.reset(Instant::now() + Duration::from_millis(5));
//!     std::future::poll_fn(|cx| sleep.poll_sleep(cx)).await;
//!     tx.send(()).unwrap();
//! })).unwrap();
//! rx.recv().unwrap();
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

#[cfg(feature = "async-io")]
mod async_io_rt;
#[cfg(feature = "smol")]
mod smol_rt;
#[cfg(feature = "tokio")]
mod tokio_rt;

#[cfg(feature = "async-io")]
pub use async_io_rt::{AsyncIo, AsyncIoListener, AsyncIoSleep, AsyncIoStream};
#[cfg(feature = "smol")]
pub use smol_rt::Smol;
#[cfg(feature = "tokio")]
pub use tokio_rt::{Tokio, TokioListener, TokioSleep, TokioStream};

/// A boxed, sendable future, as runtimes spawn and connect them.
///
/// ```
/// let f: aemp_runtime::BoxFuture<u8> = Box::pin(async { 7 });
/// # drop(f);
/// ```
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A connected TCP stream the driver polls directly.
///
/// ```
/// fn bytes_to_read<S: aemp_runtime::Stream>(_s: &S) {}
/// ```
pub trait Stream: Send + Unpin + 'static {
    /// Reads into `buf`; `Ready(Ok(0))` is the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes from `buf`, possibly only a part of it.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes from `bufs` in order, possibly only a part of them, in one call (`writev`).
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Shuts the writing half down (the peer reads the end of the stream).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// The socket, to set options on.
    fn socket(&self) -> socket2::SockRef<'_>;
}

/// A listening TCP socket the driver polls directly.
///
/// ```
/// fn accepts<L: aemp_runtime::Listener>(_l: &L) {}
/// ```
pub trait Listener: Send + Unpin + 'static {
    /// The streams it accepts.
    type Stream: Stream;
    /// Accepts the next connection.
    fn poll_accept(&mut self, cx: &mut Context<'_>)
        -> Poll<io::Result<(Self::Stream, SocketAddr)>>;
}

/// A timer that can be moved to another deadline.
///
/// ```
/// fn wait_on<S: aemp_runtime::Sleep>(_s: &mut S) {}
/// ```
pub trait Sleep: Send + Unpin + 'static {
    /// Sets the deadline (replacing the previous one).
    fn reset(&mut self, at: Instant);
    /// Ready once the deadline has passed.
    fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// What a node driver needs from an async runtime.
///
/// ```
/// # #[cfg(feature = "async-io")] {
/// use aemp_runtime::{AsyncIo, Runtime};
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let _l = AsyncIo.listener(listener).unwrap();
/// # }
/// ```
pub trait Runtime: Clone + Send + Sync + 'static {
    /// Its TCP streams.
    type Stream: Stream;
    /// Its TCP listeners.
    type Listener: Listener<Stream = Self::Stream>;
    /// Its timers.
    type Sleep: Sleep;

    /// Registers a bound standard listener with the runtime's reactor.
    fn listener(&self, listener: std::net::TcpListener) -> io::Result<Self::Listener>;
    /// Connects to `addr`.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<Self::Stream>>;
    /// A timer with no deadline yet (it never fires before [`Sleep::reset`]).
    fn sleep(&self) -> Self::Sleep;
    /// Runs `fut` to completion in the background; `name` names the thread or task.
    fn spawn(&self, name: &str, fut: BoxFuture<()>) -> io::Result<()>;

    /// The runtime's clock: the time every deadline of this runtime's [`Sleep`] is measured
    /// against. The system clock unless the runtime has its own (tokio's can be paused and
    /// advanced in tests).
    ///
    /// ```
    /// # #[cfg(feature = "async-io")] {
    /// use aemp_runtime::{AsyncIo, Runtime};
    /// let before = std::time::Instant::now();
    /// assert!(AsyncIo.now() >= before);
    /// # }
    /// ```
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A deadline far enough away to mean "never" for a timer that has none yet.
#[cfg(any(feature = "async-io", feature = "tokio"))]
fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(86_400 * 365)
}
