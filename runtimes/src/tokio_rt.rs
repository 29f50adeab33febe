//! The tokio runtime: tokio::net sockets, tokio::time timers, the driver as a tokio task.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Handle;

use crate::{far_future, BoxFuture, Listener, Runtime, Sleep, Stream};

/// tokio: the runtime that is current when [`Tokio::current`] is called.
///
/// ```
/// use aemp_runtime::{Runtime, Tokio};
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// rt.block_on(async {
///     let tokio = Tokio::current().unwrap();
///     tokio.spawn("noop", Box::pin(async {})).unwrap();
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Tokio {
    handle: Handle,
}

impl Tokio {
    /// The runtime of the calling context; an error outside of a tokio runtime.
    ///
    /// ```
    /// assert!(aemp_runtime::Tokio::current().is_err());
    /// ```
    pub fn current() -> io::Result<Tokio> {
        Handle::try_current()
            .map(|handle| Tokio { handle })
            .map_err(|e| io::Error::other(format!("no tokio runtime is running here: {e}")))
    }

    /// The runtime's handle (enter it to make sockets or tasks of other libraries on it).
    ///
    /// ```
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let tokio = rt.block_on(async { aemp_runtime::Tokio::current().unwrap() });
    /// let _entered = tokio.handle().enter();
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

/// A tokio TCP stream.
///
/// ```
/// fn _f(_s: aemp_runtime::TokioStream) {}
/// ```
#[derive(Debug)]
pub struct TokioStream(tokio::net::TcpStream);

/// A tokio TCP listener.
///
/// ```
/// fn _f(_l: aemp_runtime::TokioListener) {}
/// ```
#[derive(Debug)]
pub struct TokioListener(tokio::net::TcpListener);

/// A tokio timer.
///
/// ```
/// fn _f(_s: aemp_runtime::TokioSleep) {}
/// ```
#[derive(Debug)]
pub struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Stream for TokioStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut self.0).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn socket(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(&self.0)
    }
}

impl Listener for TokioListener {
    type Stream = TokioStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(TokioStream, SocketAddr)>> {
        self.0.poll_accept(cx).map_ok(|(s, a)| (TokioStream(s), a))
    }
}

impl Sleep for TokioSleep {
    fn reset(&mut self, at: Instant) {
        self.0.as_mut().reset(tokio::time::Instant::from_std(at));
    }

    fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Runtime for Tokio {
    type Stream = TokioStream;
    type Listener = TokioListener;
    type Sleep = TokioSleep;

    fn listener(&self, listener: TcpListener) -> io::Result<TokioListener> {
        let _guard = self.handle.enter();
        listener.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(listener).map(TokioListener)
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<TokioStream>> {
        Box::pin(async move { tokio::net::TcpStream::connect(addr).await.map(TokioStream) })
    }

    fn sleep(&self) -> TokioSleep {
        let _guard = self.handle.enter();
        TokioSleep(Box::pin(tokio::time::sleep_until(
            tokio::time::Instant::from_std(far_future()),
        )))
    }

    fn spawn(&self, _name: &str, fut: BoxFuture<()>) -> io::Result<()> {
        self.handle.spawn(fut);
        Ok(())
    }

    /// tokio's clock, which a test may pause and advance (`tokio::time::pause`).
    fn now(&self) -> Instant {
        let _guard = self.handle.enter();
        tokio::time::Instant::now().into_std()
    }
}
