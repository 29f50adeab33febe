//! The QUIC transport of AEMP nodes, on quinn (between Rust nodes; the original speaks TCP
//! only).
//!
//! [`Quic`] is an [`aemp_transport::Transport`] for addresses written `quic:host:port`.
//! Each node pair uses one QUIC connection with one bidirectional stream, which carries
//! the unchanged AEMP greeting, authentication and packets: a QUIC stream delivers its
//! bytes in order and without holes, as a TCP connection does, so the AEMP guarantee
//! holds unchanged; when the stream or the connection is lost (idle timeout, a reset, an
//! unreachable peer), the stream ends with an error and the node fires the monitors.
//!
//! The connecting side opens the stream with one byte, [`PREAMBLE`], before any AEMP
//! byte: a QUIC stream only reaches the other side once something is written on it, and
//! AEMP lets either side wait for the other's greeting first. The accepting side checks
//! and drops it.
//!
//! QUIC always encrypts. What authenticates the peer:
//! - a node with a certificate (the `cert` setting) presents it, and a peer whose
//!   certificate passes the node's rule of trust (the same as over TCP) is *verified*: the
//!   AEMP authentication that follows may use the `tls_` methods. When both nodes announce
//!   a certificate in their greetings, the peer must be verified, or the connection is
//!   refused (as over TCP, where both would run TLS);
//! - a node with only a shared secret presents a throw-away certificate that nobody checks:
//!   QUIC then authenticates nobody, the AEMP HMAC does, and it covers a TLS exporter value
//!   of this QUIC session (the stream's [`Channel::Encrypted`] binding), so a relay that
//!   terminates QUIC towards both sides cannot splice the two sessions.
//!
//! quinn drives each endpoint and connection with tasks of its own, on the runtime given
//! to [`Quic::new`] ([`QuicRuntime`]); the node's driver polls only the streams. Why quinn
//! and not quinn-proto driven from the node's own driver (one driver per node, no hidden
//! tasks): quinn's endpoint driver already does what a QUIC endpoint needs beside the
//! protocol state machine (UDP with GSO/GRO and ECN through quinn-udp, pacing, timers per
//! connection) and its streams are poll-based, which is exactly the [`ByteStream`]
//! contract; doing it again in our driver would duplicate that work for no gain on the
//! wire. The cost is quinn's tasks on the runtime, which is why the runtime is chosen
//! explicitly.
//!
//! [`ByteStream`]: aemp_transport::ByteStream Keep-alive and idle timeout follow the node's
//! `monitor_timeout`; connection migration and 0-RTT are not used.
//!
//! ```no_run
//! # #[cfg(feature = "smol")] {
//! use aemp_transport::Transport;
//! use aemp_transport_quic::{Quic, QuicOptions};
//! use aemp_transport_quic::QuicRuntime;
//! let mut quic = Quic::new(QuicRuntime::Smol, None, QuicOptions::default()).unwrap();
//! let addr = quic.bind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
//! assert_eq!(quic.scheme(), Some("quic"));
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub)]

mod crypto;
mod stream;
#[cfg(feature = "tokio")]
mod tokio_handle;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aemp_proto::tls::rustls::RustlsTls;
use aemp_transport::{resolve, BoxFuture, Channel, Opened, Transport};
use quinn::{ClientConfig, Endpoint, EndpointConfig, ServerConfig, TransportConfig};

use stream::QuicStream;

/// The ALPN protocol name of AEMP over QUIC.
pub const ALPN: &[u8] = b"aemp/1";

/// The byte a connecting side writes first on the stream (version 1 of this framing).
pub const PREAMBLE: u8 = 0xA1;

/// The TLS exporter label of the channel binding.
const BINDING_LABEL: &[u8] = b"EXPORTER-aemp-channel-binding";

/// Timing of QUIC connections.
///
/// ```
/// let o = aemp_transport_quic::QuicOptions::for_monitor_timeout(std::time::Duration::from_secs(30));
/// assert_eq!(o.idle_timeout.as_secs(), 30);
/// assert_eq!(o.keep_alive.as_secs(), 10);
/// assert_eq!(o.max_pending_handshakes, 256);
/// ```
#[derive(Clone, Debug)]
pub struct QuicOptions {
    /// A connection with nothing received for this long is lost.
    pub idle_timeout: Duration,
    /// How often an idle connection sends a keep-alive.
    pub keep_alive: Duration,
    /// An incoming connection that has not opened its AEMP stream this long after it
    /// arrived is dropped (keep-alives would otherwise hold it open for ever).
    pub handshake_timeout: Duration,
    /// The most incoming connections between their first packet and their AEMP stream;
    /// more are refused at once. Default 256.
    pub max_pending_handshakes: usize,
}

impl QuicOptions {
    /// The node's `monitor_timeout` as idle timeout, keep-alives three times as often.
    ///
    /// ```
    /// # use aemp_transport_quic::QuicOptions;
    /// let o = QuicOptions::for_monitor_timeout(std::time::Duration::from_secs(3));
    /// assert_eq!(o.keep_alive.as_secs(), 1);
    /// ```
    pub fn for_monitor_timeout(monitor_timeout: Duration) -> QuicOptions {
        QuicOptions {
            idle_timeout: monitor_timeout,
            keep_alive: monitor_timeout / 3,
            handshake_timeout: monitor_timeout,
            max_pending_handshakes: 256,
        }
    }
}

impl Default for QuicOptions {
    fn default() -> Self {
        QuicOptions::for_monitor_timeout(Duration::from_secs(30))
    }
}

/// Where quinn runs its tasks (each endpoint's and connection's driver).
///
/// ```
/// # #[cfg(feature = "smol")]
/// let rt = aemp_transport_quic::QuicRuntime::Smol;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuicRuntime {
    /// The tokio runtime of the context [`Quic::new`] is called in (feature `tokio`); its
    /// tasks are spawned there from wherever quinn needs them.
    #[cfg(feature = "tokio")]
    Tokio,
    /// smol's global executor, with async-io sockets and timers (feature `smol`); serves
    /// nodes on async-io and on smol.
    #[cfg(feature = "smol")]
    Smol,
}

impl QuicRuntime {
    fn quinn(self) -> io::Result<Arc<dyn quinn::Runtime>> {
        match self {
            #[cfg(feature = "tokio")]
            QuicRuntime::Tokio => Ok(Arc::new(tokio_handle::OnHandle::current()?)),
            #[cfg(feature = "smol")]
            QuicRuntime::Smol => Ok(Arc::new(quinn::SmolRuntime)),
        }
    }
}

/// The QUIC endpoints of one node. See the [crate docs](crate).
pub struct Quic {
    runtime: Arc<dyn quinn::Runtime>,
    server: ServerConfig,
    client: ClientConfig,
    /// The node's certificate settings, if it has them: what peers are judged by.
    tls: Option<Arc<RustlsTls>>,
    /// Listening endpoints; the first also connects.
    endpoints: Vec<Endpoint>,
    /// An endpoint for connecting only, made on the first connect of a node that listens
    /// on no QUIC address.
    client_endpoint: Option<Endpoint>,
    /// Per listening endpoint: the pending wait for its next incoming connection.
    accepting: Vec<Option<BoxFuture<Option<quinn::Incoming>>>>,
    /// Incoming connections completing their handshake and first stream.
    handshakes: Vec<BoxFuture<io::Result<Opened>>>,
    /// The bounds on `handshakes`: how many, and for how long each.
    max_pending_handshakes: usize,
    handshake_timeout: Duration,
}

impl fmt::Debug for Quic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quic")
            .field("endpoints", &self.endpoints.len())
            .field("cert", &self.tls.is_some())
            .field("handshakes", &self.handshakes.len())
            .finish()
    }
}

impl Quic {
    /// A transport whose TLS presents `cert` (the node's certificate settings) if given,
    /// else a throw-away certificate (the AEMP secret then authenticates, bound to the
    /// session).
    /// quinn's tasks run on `runtime`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "tokio")] {
    /// # use aemp_transport_quic::{Quic, QuicOptions, QuicRuntime};
    /// let quic = Quic::new(QuicRuntime::Tokio, None, QuicOptions::default())?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(
        runtime: QuicRuntime,
        cert: Option<Arc<RustlsTls>>,
        opts: QuicOptions,
    ) -> io::Result<Quic> {
        let runtime = runtime.quinn()?;
        let (server, client) = crypto::configs(cert.as_deref())?;
        let transport = Arc::new(transport_config(&opts)?);
        let mut server = ServerConfig::with_crypto(server);
        server.transport_config(transport.clone());
        server.migration(false);
        let mut client = ClientConfig::new(client);
        client.transport_config(transport);
        Ok(Quic {
            runtime,
            server,
            client,
            tls: cert,
            endpoints: Vec::new(),
            client_endpoint: None,
            accepting: Vec::new(),
            handshakes: Vec::new(),
            max_pending_handshakes: opts.max_pending_handshakes,
            handshake_timeout: opts.handshake_timeout,
        })
    }

    /// Listens on a bound UDP socket; returns its address.
    ///
    /// ```no_run
    /// # #[cfg(feature = "smol")] {
    /// # use aemp_transport_quic::{Quic, QuicOptions, QuicRuntime};
    /// let mut quic = Quic::new(QuicRuntime::Smol, None, QuicOptions::default()).unwrap();
    /// let addr = quic.bind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// assert!(addr.port() > 0);
    /// # }
    /// ```
    pub fn bind(&mut self, socket: UdpSocket) -> io::Result<SocketAddr> {
        let addr = socket.local_addr()?;
        let endpoint = self.endpoint(socket, Some(self.server.clone()))?;
        self.endpoints.push(endpoint);
        self.accepting.push(None);
        Ok(addr)
    }

    fn endpoint(&self, socket: UdpSocket, server: Option<ServerConfig>) -> io::Result<Endpoint> {
        let mut endpoint = Endpoint::new(
            EndpointConfig::default(),
            server,
            socket,
            self.runtime.clone(),
        )?;
        endpoint.set_default_client_config(self.client.clone());
        Ok(endpoint)
    }

    /// The endpoint to connect from: the first listening one, else one of its own (on
    /// any address, IPv6 and IPv4 where the system allows).
    fn connecting_endpoint(&mut self) -> io::Result<Endpoint> {
        if let Some(e) = self.endpoints.first().or(self.client_endpoint.as_ref()) {
            return Ok(e.clone());
        }
        let socket = UdpSocket::bind("[::]:0").or_else(|_| UdpSocket::bind("0.0.0.0:0"))?;
        let e = self.endpoint(socket, None)?;
        self.client_endpoint = Some(e.clone());
        Ok(e)
    }
}

impl Transport for Quic {
    fn scheme(&self) -> Option<&'static str> {
        Some("quic")
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Opened> {
        for (endpoint, waiting) in self.endpoints.iter().zip(&mut self.accepting) {
            loop {
                let fut = waiting.get_or_insert_with(|| {
                    let endpoint = endpoint.clone();
                    Box::pin(async move { endpoint.accept().await })
                });
                match fut.as_mut().poll(cx) {
                    Poll::Pending => break,
                    Poll::Ready(None) => {
                        // The endpoint is closed: it accepts nothing more.
                        *waiting = Some(Box::pin(std::future::pending()));
                        break;
                    }
                    Poll::Ready(Some(incoming)) => {
                        *waiting = None;
                        if self.handshakes.len() >= self.max_pending_handshakes {
                            tracing::debug!(peer = %incoming.remote_address(),
                                "incoming QUIC connection refused: max_pending_handshakes reached");
                            incoming.refuse();
                            continue;
                        }
                        let timer = self
                            .runtime
                            .new_timer(Instant::now() + self.handshake_timeout);
                        let stream =
                            accept_stream(incoming, self.tls.clone(), self.runtime.clone());
                        self.handshakes.push(Box::pin(before(timer, stream)));
                    }
                }
            }
        }
        let mut i = 0;
        while i < self.handshakes.len() {
            match self.handshakes[i].as_mut().poll(cx) {
                Poll::Pending => i += 1,
                Poll::Ready(result) => {
                    drop(self.handshakes.swap_remove(i));
                    match result {
                        Ok(opened) => return Poll::Ready(opened),
                        Err(e) => tracing::debug!(error = %e, "incoming QUIC connection failed"),
                    }
                }
            }
        }
        Poll::Pending
    }

    fn connect(&mut self, addr: &str) -> BoxFuture<io::Result<Opened>> {
        let text = addr.to_owned();
        let tls = self.tls.clone();
        let runtime = self.runtime.clone();
        let endpoint = self.connecting_endpoint();
        Box::pin(async move {
            let endpoint = endpoint?;
            let mut last = None;
            for remote in resolve(&text).await? {
                match connect_to(&endpoint, remote, tls.as_deref(), runtime.clone()).await {
                    Ok(opened) => return Ok(opened),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
        })
    }

    fn close_listeners(&mut self) {
        for endpoint in &self.endpoints {
            endpoint.set_server_config(None);
        }
        self.accepting.iter_mut().for_each(|w| *w = None);
    }
}

/// Opens a connection to `remote` and its one stream.
async fn connect_to(
    endpoint: &Endpoint,
    remote: SocketAddr,
    tls: Option<&RustlsTls>,
    runtime: Arc<dyn quinn::Runtime>,
) -> io::Result<Opened> {
    let fail = |e: &dyn fmt::Display| io::Error::other(format!("quic:{remote}: {e}"));
    let conn = endpoint
        .connect(remote, crypto::SERVER_NAME)
        .map_err(|e| fail(&e))?
        .await
        .map_err(|e| fail(&e))?;
    let (mut send, recv) = conn.open_bi().await.map_err(|e| fail(&e))?;
    send.write_all(&[PREAMBLE]).await.map_err(|e| fail(&e))?;
    opened(conn, send, recv, tls, runtime)
}

/// The stream of a connection as the node sees it, with the session's channel binding.
fn opened(
    conn: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    tls: Option<&RustlsTls>,
    runtime: Arc<dyn quinn::Runtime>,
) -> io::Result<Opened> {
    let mut binding = vec![0; 32];
    conn.export_keying_material(&mut binding, BINDING_LABEL, b"")
        .map_err(|_| io::Error::other("QUIC: cannot derive the channel binding"))?;
    Ok(Opened {
        peer: format!("quic:{}", conn.remote_address()),
        channel: Channel::Encrypted {
            binding,
            peer_verified: crypto::peer_verified(&conn, tls),
        },
        stream: Box::new(QuicStream::new(conn, send, recv, runtime)),
    })
}

/// Completes an incoming connection up to its AEMP stream, checking the preamble.
async fn accept_stream(
    incoming: quinn::Incoming,
    tls: Option<Arc<RustlsTls>>,
    runtime: Arc<dyn quinn::Runtime>,
) -> io::Result<Opened> {
    let peer = incoming.remote_address();
    let failed = |e: &dyn fmt::Display| io::Error::other(format!("{peer}: {e}"));
    let conn = incoming.await.map_err(|e| failed(&e))?;
    let (send, mut recv) = conn.accept_bi().await.map_err(|e| failed(&e))?;
    let mut first = [0u8];
    recv.read_exact(&mut first).await.map_err(|e| failed(&e))?;
    if first[0] != PREAMBLE {
        let why = format!("not an AEMP stream (first byte {:#04x})", first[0]);
        return Err(failed(&why));
    }
    opened(conn, send, recv, tls.as_deref(), runtime)
}

/// `work`, or a time-out error if `timer` fires first.
async fn before<T>(
    mut timer: Pin<Box<dyn quinn::AsyncTimer>>,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    let expired = async move {
        std::future::poll_fn(|cx| timer.as_mut().poll(cx)).await;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no AEMP stream within the handshake timeout",
        ))
    };
    futures_lite::future::or(work, expired).await
}

fn transport_config(opts: &QuicOptions) -> io::Result<TransportConfig> {
    let mut t = TransportConfig::default();
    let idle = quinn::IdleTimeout::try_from(opts.idle_timeout)
        .map_err(|e| io::Error::other(format!("idle timeout {:?}: {e}", opts.idle_timeout)))?;
    t.max_idle_timeout(Some(idle));
    t.keep_alive_interval(Some(opts.keep_alive));
    // One stream per connection carries everything.
    t.max_concurrent_bidi_streams(1u32.into());
    t.max_concurrent_uni_streams(0u32.into());
    Ok(t)
}

#[cfg(all(test, feature = "smol"))]
mod tests {
    use super::*;

    /// Connects at the QUIC level without ever opening the AEMP stream.
    async fn handshake_only(client: &Endpoint, addr: SocketAddr) -> io::Result<quinn::Connection> {
        let connecting = client.connect(addr, "aemp").map_err(io::Error::other)?;
        connecting.await.map_err(io::Error::other)
    }

    #[test]
    fn handshakes_beyond_the_bound_are_refused_and_the_rest_dropped_at_the_deadline() {
        let opts = QuicOptions {
            max_pending_handshakes: 2,
            handshake_timeout: Duration::from_millis(500),
            ..QuicOptions::default()
        };
        let mut quic = Quic::new(QuicRuntime::Smol, None, opts).unwrap();
        let addr = quic.bind(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = quic.endpoint(socket, None).unwrap();
        let runtime = quic.runtime.clone();
        let server = std::future::poll_fn(|cx| match quic.poll_accept(cx) {
            Poll::Ready(_) => panic!("no AEMP stream was opened, none can be accepted"),
            Poll::Pending => Poll::<io::Result<()>>::Pending,
        });
        let clients = async {
            let first = handshake_only(&client, addr).await?;
            let second = handshake_only(&client, addr).await?;
            let third = handshake_only(&client, addr).await;
            assert!(
                third.is_err(),
                "a third pending handshake is refused: {third:?}"
            );
            let limit = runtime.new_timer(Instant::now() + Duration::from_secs(10));
            let closed = before(limit, async {
                Ok((first.closed().await, second.closed().await))
            });
            let (a, b) = closed.await?;
            eprintln!("dropped at the deadline: {a}; {b}");
            Ok(())
        };
        futures_lite::future::block_on(futures_lite::future::or(server, clients)).unwrap();
    }
}
