//! Blocking streams to the target with deadlines (TCP, or one QUIC stream for a
//! `quic:HOST:PORT` target), shared by the raw and the protocol clients.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aemp_proto::conn::Channel;
use aemp_transport::{ByteStream, Transport};
use aemp_transport_quic::{Quic, QuicOptions, QuicRuntime};

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

/// Where the target listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A TCP listener (`HOST:PORT`).
    Tcp(SocketAddr),
    /// A QUIC endpoint (`quic:HOST:PORT`).
    Quic(SocketAddr),
}

impl Target {
    /// The socket address.
    pub fn addr(self) -> SocketAddr {
        match self {
            Target::Tcp(a) | Target::Quic(a) => a,
        }
    }
}

/// A connection to the target; clones are handles on the same connection.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// The one stream of a QUIC connection.
    Quic(QuicConn),
}

/// A QUIC stream driven from blocking code.
#[derive(Clone)]
pub struct QuicConn {
    stream: Arc<Mutex<Box<dyn ByteStream>>>,
    channel: Channel,
    write_timeout: Duration,
}

impl std::fmt::Debug for QuicConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuicConn").finish_non_exhaustive()
    }
}

/// The runtime QUIC connections of the suite run on.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for QUIC")
});

/// Opens a connection to the target, with `timeout` for the connect and for every later
/// write.
pub fn connect(target: Target, timeout: Duration) -> Result<Stream, Failure> {
    match target {
        Target::Tcp(addr) => connect_tcp(addr, timeout),
        Target::Quic(addr) => connect_quic(addr, timeout),
    }
}

fn connect_tcp(addr: SocketAddr, timeout: Duration) -> Result<Stream, Failure> {
    let failed = |e: io::Error| {
        Failure::expected(
            format!("a TCP connection to {addr}"),
            format!("connect error: {e}"),
        )
    };
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(failed)?;
    stream.set_nodelay(true).map_err(failed)?;
    stream.set_write_timeout(Some(timeout)).map_err(failed)?;
    Ok(Stream::Tcp(stream))
}

fn connect_quic(addr: SocketAddr, timeout: Duration) -> Result<Stream, Failure> {
    let failed = |e: io::Error| {
        Failure::expected(
            format!("a QUIC connection to {addr}"),
            format!("connect error: {e}"),
        )
    };
    let opened = RUNTIME
        .block_on(async {
            let mut quic = Quic::new(QuicRuntime::Tokio, None, QuicOptions::default())?;
            tokio::time::timeout(timeout, quic.connect(&addr.to_string()))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer"))?
        })
        .map_err(failed)?;
    Ok(Stream::Quic(QuicConn {
        stream: Arc::new(Mutex::new(opened.stream)),
        channel: opened.channel,
        write_timeout: timeout,
    }))
}

impl Stream {
    /// What the stream provides by itself (a QUIC stream: encryption and its binding).
    pub fn channel(&self) -> Channel {
        match self {
            Stream::Tcp(_) => Channel::Plain,
            Stream::Quic(q) => q.channel.clone(),
        }
    }

    /// The channel binding the auth tokens must cover (empty over TCP).
    pub fn binding(&self) -> Vec<u8> {
        match self.channel() {
            Channel::Plain => Vec::new(),
            Channel::Encrypted { binding, .. } => binding,
        }
    }

    /// Reads once into `buf`, waiting at most until `deadline`. A connection reset counts
    /// as the target closing the connection.
    pub fn read_until(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<ReadOutcome> {
        match self {
            Stream::Tcp(s) => read_tcp(s, buf, deadline),
            Stream::Quic(q) => q.read_until(buf, deadline),
        }
    }

    /// Writes all of `bytes` (each write waiting at most the write timeout).
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Stream::Quic(q) => q.write_all(bytes),
        }
    }

    /// Sets how long each later write may wait.
    pub fn set_write_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(Some(timeout)),
            Stream::Quic(q) => {
                q.write_timeout = timeout;
                Ok(())
            }
        }
    }

    /// A second handle on the same connection.
    pub fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
            Stream::Quic(q) => Ok(Stream::Quic(q.clone())),
        }
    }

    /// Ends the connection for every handle.
    pub fn shutdown(&self) {
        match self {
            Stream::Tcp(s) => {
                let _ = s.shutdown(Shutdown::Both);
            }
            Stream::Quic(q) => {
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let _ = q.lock().poll_shutdown(&mut cx);
            }
        }
    }
}

impl QuicConn {
    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn ByteStream>> {
        self.stream.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One read; the lock is held only while polling, so another handle may write.
    fn read_until(&self, buf: &mut [u8], deadline: Instant) -> io::Result<ReadOutcome> {
        let left = deadline.saturating_duration_since(Instant::now());
        let read = RUNTIME.block_on(async {
            let poll = std::future::poll_fn(|cx| self.lock().poll_read(cx, buf));
            tokio::time::timeout(left, poll).await
        });
        match read {
            Err(_) => Ok(ReadOutcome::Timeout),
            Ok(Ok(0)) => Ok(ReadOutcome::Closed("end of stream".into())),
            Ok(Ok(n)) => Ok(ReadOutcome::Data(n)),
            Ok(Err(e)) => Ok(ReadOutcome::Closed(format!("stream reset ({e})"))),
        }
    }

    fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let write = RUNTIME.block_on(async {
                let poll = std::future::poll_fn(|cx| self.lock().poll_write(cx, bytes));
                tokio::time::timeout(self.write_timeout, poll).await
            });
            match write {
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
                Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(Ok(n)) => bytes = &bytes[n..],
                Ok(Err(e)) => return Err(e),
            }
        }
        Ok(())
    }
}

fn read_tcp(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<ReadOutcome> {
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
