//! The bytes queued towards one peer, and writing them out.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::task::{Context, Poll};

use crate::ByteStream;

/// The most buffers handed to one vectored write.
const MAX_SLICES: usize = 16;
/// Written buffers kept to hand back (see [`OutBuf::push`]), and the largest kept.
const KEPT_WRITTEN: usize = 2;
const KEPT_CAPACITY: usize = 256 * 1024;

/// Buffers waiting to be written to one stream, oldest first, each as it was queued (never
/// joined); `pos` bytes of the oldest are already written.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    bufs: VecDeque<Vec<u8>>,
    pos: usize,
    pending: usize,
    /// Emptied buffers, handed back by [`OutBuf::push`] for their memory.
    written: Vec<Vec<u8>>,
}

impl OutBuf {
    /// Bytes still to be written.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Queues the bytes of `data` behind what is pending, leaving `data` empty. A buffer at
    /// least half full is queued whole (not copied) and an emptied buffer written before is
    /// left in `data` for its memory; the bytes of a sparser one are copied behind the
    /// last queued buffer, so that memory stays within twice what is pending, plus the
    /// first buffer.
    pub(crate) fn push(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        self.pending += data.len();
        match self.bufs.back_mut() {
            Some(last) if data.len() * 2 < data.capacity() => {
                last.extend_from_slice(data);
                data.clear();
            }
            _ => {
                let spare = self.written.pop().unwrap_or_default();
                self.bufs.push_back(std::mem::replace(data, spare));
            }
        }
    }

    /// Writes what is pending: up to [`MAX_SLICES`] buffers in one vectored write call,
    /// again after a partial write, until everything is written or the stream is not
    /// writable.
    pub(crate) fn poll_flush(
        &mut self,
        stream: &mut dyn ByteStream,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.pending > 0 {
            let written = {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let bufs = self.bufs.iter().take(MAX_SLICES).enumerate();
                for (i, buf) in bufs {
                    let from = if i == 0 { self.pos } else { 0 };
                    slices[i] = IoSlice::new(&buf[from..]);
                }
                let count = self.bufs.len().min(MAX_SLICES);
                stream.poll_write_vectored(cx, &slices[..count])
            };
            match written {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.advance(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Counts `n` more bytes as written, letting go of the buffers written whole.
    fn advance(&mut self, mut n: usize) {
        self.pending -= n;
        while let Some(front) = self.bufs.front() {
            let left = front.len() - self.pos;
            if n < left {
                self.pos += n;
                return;
            }
            n -= left;
            self.pos = 0;
            if let Some(mut done) = self.bufs.pop_front() {
                if self.written.len() < KEPT_WRITTEN && done.capacity() <= KEPT_CAPACITY {
                    done.clear();
                    self.written.push(done);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_queues_whole_buffers_and_hands_back_written_ones() {
        let mut b = OutBuf::default();
        let mut data = vec![1, 2, 3];
        b.push(&mut data);
        assert!(data.is_empty());
        b.push(&mut vec![4]);
        assert_eq!(b.pending(), 4);
        b.advance(2);
        assert_eq!((b.pending(), b.pos), (2, 2));
        b.advance(2);
        assert_eq!(b.pending(), 0);
        assert!(b.bufs.is_empty());
        let mut next = vec![5];
        b.push(&mut next);
        assert!(
            next.is_empty() && next.capacity() >= 1,
            "a written buffer comes back"
        );
        let mut sparse = Vec::with_capacity(1000);
        sparse.push(6);
        b.push(&mut sparse);
        assert_eq!(b.bufs.len(), 1, "a sparse buffer's bytes are copied");
        assert_eq!((b.pending(), &b.bufs[0][..]), (2, &[5, 6][..]));
        assert_eq!(
            sparse.capacity(),
            1000,
            "and its memory stays with the caller"
        );
    }
}
