//! A raw connection for handshake cases: bytes and lines, no protocol logic.

use std::io;
use std::time::{Duration, Instant};

use crate::ctx::{Ctx, WAIT};
use crate::net::{self, ReadOutcome, Stream};
use crate::outcome::Failure;

/// Lines longer than this (without line end) are reported as an error instead of buffered.
const MAX_LINE: usize = 64 * 1024;

/// What one wait on a raw connection produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Fill {
    /// More bytes are buffered.
    Data,
    /// The target closed the connection (end of file or reset).
    Closed(String),
    /// Nothing arrived before the deadline.
    Timeout,
}

/// A connection to the target read line by line or byte by byte.
#[derive(Debug)]
pub struct RawConn {
    stream: Stream,
    buf: Vec<u8>,
}

impl RawConn {
    /// Connects to the target.
    pub fn connect(ctx: &Ctx) -> Result<RawConn, Failure> {
        Ok(RawConn {
            stream: net::connect(ctx.target(), WAIT)?,
            buf: Vec::new(),
        })
    }

    /// Writes all of `bytes`, failing the case on a write error.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.try_send(bytes).map_err(|e| {
            Failure::expected(
                "the connection to accept our bytes",
                format!("write error: {e}"),
            )
        })
    }

    /// Writes all of `bytes`, returning the I/O error (for cases where the target closing the
    /// connection while we write is the expected outcome).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The channel binding the auth tokens must cover (empty over TCP).
    pub fn binding(&self) -> Vec<u8> {
        self.stream.binding()
    }

    /// Reads once more into the buffer, waiting until `deadline` at most.
    pub fn fill(&mut self, deadline: Instant) -> Result<Fill, Failure> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read_until(&mut chunk, deadline) {
            Ok(ReadOutcome::Data(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(Fill::Data)
            }
            Ok(ReadOutcome::Closed(how)) => Ok(Fill::Closed(how)),
            Ok(ReadOutcome::Timeout) => Ok(Fill::Timeout),
            Err(e) => Err(Failure::expected(
                "to read from the target",
                format!("read error: {e}"),
            )),
        }
    }

    /// Takes the next complete line out of the buffer, without its LF or CR LF.
    pub fn take_line(&mut self) -> Option<Vec<u8>> {
        let lf = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=lf).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(line)
    }

    /// Reads the next line (`what` names it in the failure).
    pub fn read_line(&mut self, what: &str, deadline: Instant) -> Result<Vec<u8>, Failure> {
        loop {
            if let Some(line) = self.take_line() {
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(Failure::expected(
                    what,
                    format!("more than {MAX_LINE} bytes without a line end"),
                ));
            }
            match self.fill(deadline)? {
                Fill::Data => {}
                Fill::Closed(how) => {
                    return Err(Failure::expected(
                        what,
                        format!("the connection closed ({how})"),
                    ))
                }
                Fill::Timeout => {
                    return Err(Failure::expected(
                        what,
                        format!("nothing within {}", secs(WAIT)),
                    ))
                }
            }
        }
    }

    /// Reads the target's two greeting lines.
    pub fn read_greeting(&mut self, deadline: Instant) -> Result<[Vec<u8>; 2], Failure> {
        let line1 = self.read_line("the target's greeting line 1", deadline)?;
        let line2 = self.read_line("the target's greeting line 2 (nonce)", deadline)?;
        Ok([line1, line2])
    }

    /// Waits until the target closes the connection and returns every byte still buffered
    /// or received meanwhile. Fails if it is still open after `timeout`.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<Vec<u8>, Failure> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.fill(deadline)? {
                Fill::Data => {}
                Fill::Closed(_) => return Ok(std::mem::take(&mut self.buf)),
                Fill::Timeout => {
                    return Err(Failure::expected(
                        format!(
                            "the target to close the connection within {}",
                            secs(timeout)
                        ),
                        format!(
                            "it still open ({} bytes received and not consumed: {})",
                            self.buf.len(),
                            excerpt(&self.buf)
                        ),
                    ))
                }
            }
        }
    }

    /// The stream and the bytes received but not yet consumed.
    pub fn into_parts(self) -> (Stream, Vec<u8>) {
        (self.stream, self.buf)
    }
}

/// A duration as whole or fractional seconds, e.g. `3 s`.
///
/// ```
/// # use std::time::Duration;
/// assert_eq!(aemp_conformance::raw::secs(Duration::from_millis(1500)), "1.5 s");
/// ```
pub fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The start of some received bytes as escaped text.
///
/// ```
/// assert_eq!(aemp_conformance::raw::excerpt(b"ab\n"), "\"ab\\n\"");
/// ```
pub fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    let dots = if bytes.len() > MAX { "..." } else { "" };
    format!("\"{}{dots}\"", text.escape_debug())
}
