//! One QUIC stream pair as the byte stream of an AEMP connection.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use aemp_transport::ByteStream;

/// How long a dropped stream may take to have its last bytes acknowledged before its
/// connection is closed.
const LINGER: Duration = Duration::from_secs(2);

/// The send and receive halves of a connection's one stream, and the connection.
pub(crate) struct QuicStream {
    conn: quinn::Connection,
    send: Option<quinn::SendStream>,
    recv: quinn::RecvStream,
    runtime: Arc<dyn quinn::Runtime>,
}

impl QuicStream {
    pub(crate) fn new(
        conn: quinn::Connection,
        send: quinn::SendStream,
        recv: quinn::RecvStream,
        runtime: Arc<dyn quinn::Runtime>,
    ) -> QuicStream {
        QuicStream {
            conn,
            send: Some(send),
            recv,
            runtime,
        }
    }
}

impl ByteStream for QuicStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.recv.poll_read(cx, buf).map_err(io::Error::from)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.send {
            Some(send) => Pin::new(send).poll_write(cx, buf).map_err(io::Error::from),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_shutdown(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Finishing an already finished or reset stream is no error worth reporting.
        if let Some(send) = &mut self.send {
            let _ = send.finish();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for QuicStream {
    /// The connection lives on until the peer has acknowledged what was written (at most
    /// [`LINGER`]), then closes: dropping it at once would lose bytes still in flight.
    fn drop(&mut self) {
        let Some(mut send) = self.send.take() else {
            return;
        };
        let conn = self.conn.clone();
        let mut timer = self.runtime.new_timer(self.runtime.now() + LINGER);
        self.runtime.spawn(Box::pin(async move {
            let _ = send.finish();
            let mut stopped = std::pin::pin!(send.stopped());
            poll_fn(|cx| {
                if stopped.as_mut().poll(cx).is_ready() || timer.as_mut().poll(cx).is_ready() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            conn.close(0u32.into(), b"closed");
        }));
    }
}
