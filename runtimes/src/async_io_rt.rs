//! The async-io runtime: a thread per node driver, async-io's reactor and timers.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::{Async, Timer};

use crate::{far_future, BoxFuture, Listener, Runtime, Sleep, Stream};

/// The async-io runtime: the driver runs on a thread of its own with `async_io::block_on`.
///
/// ```
/// use aemp_runtime::{AsyncIo, Runtime};
/// AsyncIo.spawn("noop", Box::pin(async {})).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncIo;

/// A TCP stream registered with async-io.
///
/// ```
/// fn _f(_s: aemp_runtime::AsyncIoStream) {}
/// ```
#[derive(Debug)]
pub struct AsyncIoStream {
    io: Async<TcpStream>,
    /// Data may be waiting: try a read before asking the reactor (cleared by a read that
    /// found nothing, set again when the reactor says readable).
    readable: bool,
}

impl AsyncIoStream {
    pub(crate) fn new(io: Async<TcpStream>) -> AsyncIoStream {
        AsyncIoStream { io, readable: true }
    }
}

/// A TCP listener registered with async-io.
///
/// ```
/// fn _f(_l: aemp_runtime::AsyncIoListener) {}
/// ```
#[derive(Debug)]
pub struct AsyncIoListener {
    io: Async<TcpListener>,
    /// A connection may be waiting (as `AsyncIoStream::readable`).
    acceptable: bool,
}

/// An async-io timer.
///
/// ```
/// use aemp_runtime::{AsyncIo, Runtime, Sleep};
/// let mut t = AsyncIo.sleep();
/// t.reset(std::time::Instant::now());
/// ```
#[derive(Debug)]
pub struct AsyncIoSleep(Timer);

impl Stream for AsyncIoStream {
    /// Reads only when data may be waiting: an idle stream costs no system call per poll.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            if !self.readable {
                if self.io.poll_readable(cx)?.is_pending() {
                    return Poll::Pending;
                }
                self.readable = true;
            }
            match self.io.get_ref().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.io.get_ref().write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                done => return Poll::Ready(done),
            }
            if self.io.poll_writable(cx)?.is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn poll_shutdown(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.io.get_ref().shutdown(Shutdown::Write))
    }

    fn socket(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self.io.get_ref())
    }
}

impl Listener for AsyncIoListener {
    type Stream = AsyncIoStream;

    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(AsyncIoStream, SocketAddr)>> {
        loop {
            if !self.acceptable {
                if self.io.poll_readable(cx)?.is_pending() {
                    return Poll::Pending;
                }
                self.acceptable = true;
            }
            match self.io.get_ref().accept() {
                Ok((stream, addr)) => {
                    return Poll::Ready(Async::new(stream).map(|s| (AsyncIoStream::new(s), addr)))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.acceptable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Sleep for AsyncIoSleep {
    fn reset(&mut self, at: Instant) {
        self.0.set_at(at);
    }

    fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl Runtime for AsyncIo {
    type Stream = AsyncIoStream;
    type Listener = AsyncIoListener;
    type Sleep = AsyncIoSleep;

    fn listener(&self, listener: TcpListener) -> io::Result<AsyncIoListener> {
        Async::new(listener).map(|io| AsyncIoListener {
            io,
            acceptable: true,
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<AsyncIoStream>> {
        Box::pin(async move {
            Async::<TcpStream>::connect(addr)
                .await
                .map(AsyncIoStream::new)
        })
    }

    fn sleep(&self) -> AsyncIoSleep {
        AsyncIoSleep(Timer::at(far_future()))
    }

    fn spawn(&self, name: &str, fut: BoxFuture<()>) -> io::Result<()> {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || async_io::block_on(fut))
            .map(|_| ())
    }
}
