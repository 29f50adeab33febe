//! The TCP transport of AEMP nodes.
//!
//! [`Tcp`] is an [`aemp_transport::Transport`]: it accepts on the node's listeners and
//! connects to `host:port` addresses (resolving host names off the driver's thread, and
//! trying every address a name resolves to in turn), with TCP_NODELAY and TCP keepalive
//! set as configured. It knows sockets, not the protocol: what it opens, the node's
//! driver hands to [`aemp_transport::Streams`], which reads and writes every stream alike.
//!
//! ```
//! use aemp_runtime::AsyncIo;
//! use aemp_transport::Transport;
//! use aemp_transport_tcp::{listen, Tcp, TcpOptions};
//!
//! let mut tcp = Tcp::new(AsyncIo, TcpOptions::default());
//! let addr = tcp.add_listener(listen("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
//! assert_ne!(addr.port(), 0);
//! assert_eq!(tcp.scheme(), None);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod host;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::task::{Context, Poll};
use std::time::Duration;

use aemp_runtime::{Listener, Runtime, Stream};
use aemp_transport::{resolve, BoxFuture, ByteStream, Channel, Opened, Transport};
use socket2::TcpKeepalive;

pub use host::listen;

/// Socket settings of a [`Tcp`] transport.
///
/// ```
/// let o = aemp_transport_tcp::TcpOptions::default();
/// assert!(o.nodelay);
/// ```
#[derive(Clone, Debug)]
pub struct TcpOptions {
    /// Disable Nagle's algorithm (on by default: the driver already batches writes).
    pub nodelay: bool,
    /// Idle time before TCP keepalive probes start; `None` turns TCP keepalive off.
    pub keepalive: Option<Duration>,
    /// Time between keepalive probes.
    pub keepalive_interval: Duration,
    /// Unanswered probes after which the connection is dead.
    pub keepalive_retries: u32,
    /// How long written data may stay unacknowledged before the connection is dead
    /// (`TCP_USER_TIMEOUT`, Linux); `None` leaves the system's default (many minutes).
    pub user_timeout: Option<Duration>,
}

impl TcpOptions {
    /// Settings that find a dead host or network within about `monitor_timeout`: keepalive
    /// probes after a third of it, three more a ninth apart (two thirds in all), and data
    /// unacknowledged for `monitor_timeout` ends the connection. This is what detects a
    /// dead peer that sends no keepalives of its own (a Perl node).
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = aemp_transport_tcp::TcpOptions::for_monitor_timeout(Duration::from_secs(30));
    /// assert_eq!(o.keepalive, Some(Duration::from_secs(10)));
    /// assert_eq!(o.user_timeout, Some(Duration::from_secs(30)));
    /// ```
    pub fn for_monitor_timeout(monitor_timeout: Duration) -> TcpOptions {
        let second = Duration::from_secs(1);
        TcpOptions {
            nodelay: true,
            keepalive: Some((monitor_timeout / 3).max(second)),
            keepalive_interval: (monitor_timeout / 9).max(second),
            keepalive_retries: 3,
            user_timeout: Some(monitor_timeout.max(second)),
        }
    }
}

impl Default for TcpOptions {
    /// [`TcpOptions::for_monitor_timeout`] of the original's default, 30 s.
    fn default() -> Self {
        TcpOptions::for_monitor_timeout(Duration::from_secs(30))
    }
}

/// The TCP listeners of one node, and its way to connect. See the [crate docs](crate).
pub struct Tcp<R: Runtime> {
    rt: R,
    opts: TcpOptions,
    listeners: Vec<R::Listener>,
}

impl<R: Runtime> fmt::Debug for Tcp<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tcp")
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl<R: Runtime> Tcp<R> {
    /// A transport with no listener yet.
    ///
    /// ```
    /// let tcp = aemp_transport_tcp::Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// # drop(tcp);
    /// ```
    pub fn new(rt: R, opts: TcpOptions) -> Self {
        Tcp {
            rt,
            opts,
            listeners: Vec::new(),
        }
    }

    /// Starts accepting on a bound listener; returns its address.
    ///
    /// ```
    /// # use aemp_transport_tcp::{listen, Tcp};
    /// let mut tcp = Tcp::new(aemp_runtime::AsyncIo, Default::default());
    /// let a = tcp.add_listener(listen("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
    /// assert!(a.ip().is_loopback());
    /// ```
    pub fn add_listener(&mut self, listener: TcpListener) -> io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        self.listeners.push(self.rt.listener(listener)?);
        Ok(addr)
    }
}

impl<R: Runtime> Transport for Tcp<R> {
    fn scheme(&self) -> Option<&'static str> {
        None
    }

    /// Accepts the next incoming stream, if one is waiting (socket options already set).
    /// Accept errors are logged and skipped.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Opened> {
        for l in &mut self.listeners {
            loop {
                match l.poll_accept(cx) {
                    Poll::Ready(Ok((stream, addr))) => {
                        if let Err(e) = configure(&stream, &self.opts) {
                            tracing::warn!(peer = %addr, error = %e, "cannot set socket options");
                        }
                        return Poll::Ready(opened(stream, addr));
                    }
                    Poll::Ready(Err(e)) => {
                        tracing::warn!(error = %e, "accept failed");
                        if is_fatal_accept_error(&e) {
                            break;
                        }
                    }
                    Poll::Pending => break,
                }
            }
        }
        Poll::Pending
    }

    fn connect(&mut self, addr: &str) -> BoxFuture<io::Result<Opened>> {
        let rt = self.rt.clone();
        let opts = self.opts.clone();
        let text = addr.to_owned();
        Box::pin(async move {
            let mut last = None;
            for a in resolve(&text).await? {
                match rt.connect(a).await {
                    Ok(stream) => {
                        if let Err(e) = configure(&stream, &opts) {
                            tracing::warn!(peer = %a, error = %e, "cannot set socket options");
                        }
                        return Ok(opened(stream, a));
                    }
                    Err(e) => last = Some(io::Error::new(e.kind(), format!("{a}: {e}"))),
                }
            }
            Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
        })
    }

    fn close_listeners(&mut self) {
        self.listeners.clear();
    }
}

/// A runtime's TCP stream as a transport stream.
struct TcpStream<S>(S);

impl<S: Stream> ByteStream for TcpStream<S> {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.poll_read(cx, buf)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored(cx, bufs)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_shutdown(cx)
    }
}

fn opened<S: Stream>(stream: S, peer: SocketAddr) -> Opened {
    Opened {
        stream: Box::new(TcpStream(stream)),
        peer: peer.to_string(),
        channel: Channel::Plain,
    }
}

/// Sets TCP_NODELAY, TCP keepalive and (on Linux) TCP_USER_TIMEOUT as configured.
fn configure<S: Stream>(stream: &S, opts: &TcpOptions) -> io::Result<()> {
    let sock = stream.socket();
    sock.set_nodelay(opts.nodelay)?;
    match opts.keepalive {
        Some(time) => {
            let probes = TcpKeepalive::new()
                .with_time(time)
                .with_interval(opts.keepalive_interval);
            #[cfg(any(target_os = "linux", target_os = "android"))]
            let probes = probes.with_retries(opts.keepalive_retries);
            sock.set_tcp_keepalive(&probes)?;
        }
        None => sock.set_keepalive(false)?,
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    sock.set_tcp_user_timeout(opts.user_timeout)?;
    Ok(())
}

/// Accept errors that are about the listener rather than one incoming connection.
fn is_fatal_accept_error(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
