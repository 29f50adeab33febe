//! The bytes queued towards one peer, and writing them out.

use std::io;
use std::task::{Context, Poll};

use crate::ByteStream;

/// Bytes waiting to be written to one stream; `pos` of them are already written.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    buf: Vec<u8>,
    pos: usize,
}

impl OutBuf {
    /// Bytes still to be written.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Queues the bytes of `data` behind what is pending, leaving `data` empty: when nothing
    /// is pending, `data`'s buffer is taken over and this one's (emptied, its capacity kept)
    /// is left in `data` for the caller to fill again.
    pub(crate) fn push(&mut self, data: &mut Vec<u8>) {
        if self.pending() == 0 {
            std::mem::swap(&mut self.buf, data);
            data.clear();
            self.pos = 0;
            return;
        }
        if self.pos > self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.append(data);
    }

    /// Writes what is pending: the whole rest in one write call, again after a partial
    /// write, until everything is written or the stream is not writable.
    pub(crate) fn poll_flush(
        &mut self,
        stream: &mut dyn ByteStream,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.pending() > 0 {
            match stream.poll_write(cx, &self.buf[self.pos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.pos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.buf.clear();
        self.pos = 0;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_takes_over_and_appends() {
        let mut b = OutBuf::default();
        b.buf.reserve(100);
        let mut data = vec![1, 2, 3];
        b.push(&mut data);
        assert_eq!(b.pending(), 3);
        assert!(
            data.is_empty() && data.capacity() >= 100,
            "the old buffer comes back"
        );
        b.pos = 2;
        b.push(&mut vec![4]);
        assert_eq!(b.pending(), 2);
        assert_eq!(&b.buf[b.pos..], &[3, 4]);
    }
}
