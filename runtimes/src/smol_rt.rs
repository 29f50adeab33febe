//! The smol runtime: async-io sockets and timers, the driver on smol's global executor.

use std::io;
use std::net::{SocketAddr, TcpListener};

use crate::{AsyncIo, AsyncIoListener, AsyncIoSleep, AsyncIoStream, BoxFuture, Runtime};

/// smol: the same reactor as [`AsyncIo`], but the driver is a task on smol's global
/// executor instead of a thread of its own.
///
/// ```
/// use aemp_runtime::{Runtime, Smol};
/// Smol.spawn("noop", Box::pin(async {})).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

impl Runtime for Smol {
    type Stream = AsyncIoStream;
    type Listener = AsyncIoListener;
    type Sleep = AsyncIoSleep;

    fn listener(&self, listener: TcpListener) -> io::Result<AsyncIoListener> {
        AsyncIo.listener(listener)
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<AsyncIoStream>> {
        AsyncIo.connect(addr)
    }

    fn sleep(&self) -> AsyncIoSleep {
        AsyncIo.sleep()
    }

    fn spawn(&self, _name: &str, fut: BoxFuture<()>) -> io::Result<()> {
        smol::spawn(fut).detach();
        Ok(())
    }
}
