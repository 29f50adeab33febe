//! Blocking socket helpers with deadlines, shared by the raw and the protocol clients.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::outcome::Failure;

/// The result of one read with a deadline.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were read into the buffer.
    Data(usize),
    /// The target closed the connection; how (end of file or reset).
    Closed(String),
    /// Nothing arrived before the deadline.
    Timeout,
}

/// Opens a TCP connection to the target, with `timeout` for the connect and for every later
/// write.
pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, Failure> {
    let failed = |e: io::Error| {
        Failure::expected(
            format!("a TCP connection to {addr}"),
            format!("connect error: {e}"),
        )
    };
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(failed)?;
    stream.set_nodelay(true).map_err(failed)?;
    stream.set_write_timeout(Some(timeout)).map_err(failed)?;
    Ok(stream)
}

/// Reads once into `buf`, waiting at most until `deadline`. A connection reset counts as the
/// target closing the connection.
pub fn read_until(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> io::Result<ReadOutcome> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(ReadOutcome::Timeout);
        }
        stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        match stream.read(buf) {
            Ok(0) => return Ok(ReadOutcome::Closed("end of file".into())),
            Ok(n) => return Ok(ReadOutcome::Data(n)),
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {}
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    return Ok(ReadOutcome::Closed("connection reset".into()))
                }
                _ => return Err(e),
            },
        }
    }
}
