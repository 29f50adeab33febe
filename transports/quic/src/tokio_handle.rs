//! quinn on one tokio runtime, reached through its handle: tasks are spawned on it and
//! sockets registered with it from any thread (quinn's own tokio runtime needs the calling
//! thread to be inside the runtime, which a stream dropped elsewhere is not).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use quinn::{AsyncTimer, AsyncUdpSocket, Runtime, TokioRuntime};
use tokio::runtime::Handle;

/// quinn's tokio runtime bound to one runtime's handle.
#[derive(Debug)]
pub(crate) struct OnHandle(Handle);

impl OnHandle {
    /// The runtime of the calling context; an error outside of one.
    pub(crate) fn current() -> io::Result<OnHandle> {
        Handle::try_current()
            .map(OnHandle)
            .map_err(|e| io::Error::other(format!("QUIC on tokio needs a tokio runtime: {e}")))
    }
}

impl Runtime for OnHandle {
    fn new_timer(&self, t: Instant) -> Pin<Box<dyn AsyncTimer>> {
        let _entered = self.0.enter();
        TokioRuntime.new_timer(t)
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn(future);
    }

    fn wrap_udp_socket(&self, sock: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let _entered = self.0.enter();
        TokioRuntime.wrap_udp_socket(sock)
    }

    fn now(&self) -> Instant {
        let _entered = self.0.enter();
        TokioRuntime.now()
    }
}
