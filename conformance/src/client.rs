//! An authenticated peer: a blocking client over `TcpStream` that drives
//! [`aemp_proto::Connection`] (or, after a hand-made handshake, a bare frame decoder).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aemp_proto::protocol::Request;
use aemp_proto::{
    ConnConfig, ConnError, ConnEvent, Connection, FrameDecoder, Framing, HandshakeError, Value,
};

use crate::ctx::{random_nonce, Ctx, WAIT};
use crate::net::{self, ReadOutcome, Stream};
use crate::outcome::Failure;
use crate::raw::secs;
use crate::values::{show, show_all, str_at};

/// The only authentication method the suite uses (it never has TLS).
pub const HMAC: &str = "hmac_sha3_512";

/// How a peer connects: its node ID, secret and framings.
#[derive(Clone, Debug)]
pub struct PeerSetup {
    /// Our node ID.
    pub node_id: String,
    /// The shared secret we authenticate with.
    pub secret: Vec<u8>,
    /// The framings we list in our greeting (and may send), in order of preference.
    pub framings: Vec<Framing>,
    /// Extra `key=value` pairs for our greeting line 1.
    pub extra_kv: Vec<(String, String)>,
}

impl PeerSetup {
    /// A fresh node ID, the run's secret and the run's framing.
    pub fn new(ctx: &Ctx) -> PeerSetup {
        PeerSetup {
            node_id: ctx.fresh_node_id(),
            secret: ctx.options().secret.clone(),
            framings: vec![ctx.options().framing],
            extra_kv: Vec::new(),
        }
    }
}

/// Why [`Peer::try_connect`] did not produce an authenticated peer.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The target closed the connection before authentication finished.
    ClosedByTarget(String),
    /// Anything else (connect error, timeout, invalid handshake from the target).
    Failed(Failure),
}

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Failure {
        match e {
            ConnectError::ClosedByTarget(how) => Failure::expected(
                "an authenticated connection",
                format!("the target closed the connection during the handshake ({how})"),
            ),
            ConnectError::Failed(f) => f,
        }
    }
}

impl From<Failure> for ConnectError {
    fn from(f: Failure) -> ConnectError {
        ConnectError::Failed(f)
    }
}

/// Decodes what the target sends.
enum Codec {
    /// Handshake and data phase through the protocol crate's connection state machine.
    Conn(Box<Connection>),
    /// Data phase after a hand-made handshake (used for asymmetric framings, which a
    /// `Connection` cannot be configured for): we encode with `send_framing` ourselves.
    Manual(FrameDecoder),
}

/// What the handshake established.
#[derive(Clone, Debug)]
pub struct Session {
    /// Our node ID.
    pub node_id: String,
    /// The target's node ID (from its greeting).
    pub target_id: String,
    /// The framing we send in.
    pub send_framing: Framing,
    /// The framing the target sends in.
    pub recv_framing: Framing,
    /// The method the target authenticated with.
    pub method: String,
}

/// An authenticated connection to the target, seen as one node of the network.
pub struct Peer {
    stream: Stream,
    codec: Codec,
    session: Session,
    rbuf: Vec<u8>,
    out: Vec<u8>,
    pending: VecDeque<Vec<Value>>,
    closed: Option<String>,
    skipped: Vec<Vec<Value>>,
    next_port: u32,
}

impl Peer {
    /// Connects and authenticates, failing the case if that does not work.
    pub fn connect(ctx: &Ctx, setup: PeerSetup) -> Result<Peer, Failure> {
        Ok(Peer::try_connect(ctx, setup)?)
    }

    /// A peer with a fresh node ID and the run's framing.
    pub fn fresh(ctx: &Ctx) -> Result<Peer, Failure> {
        Peer::connect(ctx, PeerSetup::new(ctx))
    }

    /// Connects and authenticates, telling a refusal by the target apart from other errors.
    pub fn try_connect(ctx: &Ctx, setup: PeerSetup) -> Result<Peer, ConnectError> {
        let mut stream = net::connect(ctx.target(), WAIT)?;
        let node_id = setup.node_id.clone();
        let mut cfg = ConnConfig::new(setup.node_id, Some(setup.secret));
        cfg.framings = setup.framings;
        cfg.auth_offer = vec![HMAC.into()];
        cfg.auth_accept = vec![HMAC.into()];
        cfg.extra_kv = ctx.greeting_kv();
        cfg.extra_kv.extend(setup.extra_kv);
        cfg.handshake_timeout = WAIT;
        let now = Instant::now();
        let mut conn = Connection::new(Arc::new(cfg), &random_nonce(), now);
        conn.set_channel(stream.channel());
        let session = drive_handshake(&mut stream, &mut conn, node_id, now + WAIT)?;
        Ok(Peer::new(stream, Codec::Conn(Box::new(conn)), session))
    }

    /// A peer over a stream whose handshake was done by hand; `leftover` are bytes received
    /// after the target's auth line.
    pub(crate) fn from_manual(stream: Stream, leftover: &[u8], session: Session) -> Peer {
        let mut decoder = session
            .recv_framing
            .decoder(aemp_proto::DecodeLimits::default());
        decoder.feed(leftover);
        Peer::new(stream, Codec::Manual(decoder), session)
    }

    fn new(stream: Stream, codec: Codec, session: Session) -> Peer {
        Peer {
            stream,
            codec,
            session,
            rbuf: vec![0u8; 64 * 1024],
            out: Vec::new(),
            pending: VecDeque::new(),
            closed: None,
            skipped: Vec::new(),
            next_port: 0,
        }
    }

    /// What the handshake established.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Our node ID.
    pub fn node_id(&self) -> &str {
        &self.session.node_id
    }

    /// The port ID `<our node>#name`.
    pub fn port_id(&self, name: &str) -> String {
        format!("{}#{name}", self.session.node_id)
    }

    /// A port name not used before on this peer, and its port ID.
    pub fn new_port(&mut self) -> (String, String) {
        self.next_port += 1;
        let name = format!("r{}", self.next_port);
        let id = self.port_id(&name);
        (name, id)
    }

    /// Sends one packet.
    pub fn send(&mut self, packet: Vec<Value>) -> Result<(), Failure> {
        if let Some(reason) = &self.closed {
            return Err(Failure::expected(
                format!("an open connection to send {}", show(&packet)),
                format!("the connection is closed ({reason})"),
            ));
        }
        self.out.clear();
        match &mut self.codec {
            Codec::Conn(conn) => {
                conn.send(&packet);
                conn.poll_transmit(&mut self.out);
            }
            Codec::Manual(_) => self.session.send_framing.encode(&packet, &mut self.out),
        }
        write_bytes(&mut self.stream, &self.out)
    }

    /// Writes bytes as they are (for malformed input).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        write_bytes(&mut self.stream, bytes)
    }

    /// The next packet from the target, `Ok(None)` if none arrived before `deadline`,
    /// `Err(reason)` once the connection is over.
    pub fn recv(&mut self, deadline: Instant) -> Result<Option<Vec<Value>>, String> {
        loop {
            self.drain();
            if let Some(packet) = self.pending.pop_front() {
                return Ok(Some(packet));
            }
            if let Some(reason) = &self.closed {
                return Err(reason.clone());
            }
            match self.stream.read_until(&mut self.rbuf, deadline) {
                Ok(ReadOutcome::Data(n)) => match &mut self.codec {
                    Codec::Conn(conn) => conn.handle_input(&self.rbuf[..n]),
                    Codec::Manual(decoder) => decoder.feed(&self.rbuf[..n]),
                },
                Ok(ReadOutcome::Closed(how)) => {
                    self.closed = Some(format!("closed by the target ({how})"))
                }
                Ok(ReadOutcome::Timeout) => return Ok(None),
                Err(e) => self.closed = Some(format!("read error: {e}")),
            }
        }
    }

    /// Moves decoded packets into `pending`, noting a decode error as the end.
    fn drain(&mut self) {
        if self.closed.is_some() {
            return;
        }
        match &mut self.codec {
            Codec::Conn(conn) => {
                while let Some(event) = conn.poll_event() {
                    match event {
                        ConnEvent::Packet(p) => self.pending.push_back(p.into_values()),
                        ConnEvent::Closed(e) => self.closed = Some(closed_reason(&e)),
                        _ => {}
                    }
                }
            }
            Codec::Manual(decoder) => loop {
                match decoder.next_packet() {
                    Ok(Some(p)) => self.pending.push_back(p),
                    Ok(None) => break,
                    Err(e) => {
                        self.closed = Some(format!("undecodable data from the target: {e}"));
                        break;
                    }
                }
            },
        }
    }

    /// Waits for a packet matching `pred`; other packets are kept aside (see
    /// [`Peer::skipped`]). `what` describes the packet for the failure message.
    pub fn expect(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Result<Vec<Value>, Failure> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.recv(deadline) {
                Ok(Some(p)) if pred(&p) => return Ok(p),
                Ok(Some(p)) => self.skipped.push(p),
                Ok(None) => {
                    return Err(Failure::expected(
                        what,
                        format!("nothing within {}{}", secs(timeout), self.skipped_note()),
                    ))
                }
                Err(reason) => {
                    return Err(Failure::expected(
                        what,
                        format!("the connection ended: {reason}{}", self.skipped_note()),
                    ))
                }
            }
        }
    }

    /// Waits for the next packet addressed to our port `name`.
    pub fn reply(&mut self, name: &str, what: &str) -> Result<Vec<Value>, Failure> {
        self.expect(what, WAIT, |p| str_at(p, 0) == Some(name))
    }

    /// Packets that arrived while waiting for others.
    pub fn skipped(&self) -> &[Vec<Value>] {
        &self.skipped
    }

    fn skipped_note(&self) -> String {
        if self.skipped.is_empty() {
            String::new()
        } else {
            format!(" (other packets: {})", show_all(&self.skipped, 5))
        }
    }

    /// Asks the target for its time (`["", "time", REPLY, tag]`) and returns it: proves the
    /// connection still works both ways.
    pub fn time(&mut self) -> Result<f64, Failure> {
        let (name, id) = self.new_port();
        let reply = vec![Value::from(id), Value::from("conformance_time")];
        self.send(Request::Time { reply }.into_packet())?;
        let what = format!("a reply [\"{name}\",\"conformance_time\",<time>] to a time request");
        let reply = self.reply(&name, &what)?;
        match reply.as_slice() {
            [_, tag, t] if tag.as_str() == Some("conformance_time") => t
                .as_f64()
                .ok_or_else(|| Failure::expected(what.clone(), show(&reply))),
            _ => Err(Failure::expected(what, show(&reply))),
        }
    }

    /// A second handle for writing packets in the send framing from another thread (the
    /// reader keeps using this peer; only one of them may write).
    pub fn writer(&self) -> Result<PacketWriter, Failure> {
        let stream = self.stream.try_clone().map_err(|e| {
            Failure::expected("a second handle on the socket", format!("error: {e}"))
        })?;
        Ok(PacketWriter {
            stream,
            framing: self.session.send_framing,
        })
    }
}

impl Drop for Peer {
    /// Shuts the connection down for every handle (a [`PacketWriter`] included).
    fn drop(&mut self) {
        self.stream.shutdown();
    }
}

/// Writes encoded packets on a peer's socket from another thread.
pub struct PacketWriter {
    stream: Stream,
    framing: Framing,
}

impl PacketWriter {
    /// Encodes the packets into one buffer and writes it, waiting at most `timeout` for
    /// each write to make progress.
    pub fn write_batch(&mut self, packets: &[Vec<Value>], timeout: Duration) -> io::Result<()> {
        let mut buf = Vec::new();
        for p in packets {
            self.framing.encode(p, &mut buf);
        }
        self.stream.set_write_timeout(timeout)?;
        self.stream.write_all(&buf)
    }
}

/// Runs the handshake until authenticated and returns what it established.
fn drive_handshake(
    stream: &mut Stream,
    conn: &mut Connection,
    node_id: String,
    deadline: Instant,
) -> Result<Session, ConnectError> {
    let mut rbuf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let mut target_id = String::new();
    loop {
        out.clear();
        if conn.poll_transmit(&mut out) {
            stream.write_all(&out).map_err(|e| match e.kind() {
                // The target may refuse us before our auth line arrives.
                io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted => {
                    ConnectError::ClosedByTarget(format!("write error: {e}"))
                }
                _ => ConnectError::Failed(Failure::expected(
                    "the target to read our handshake",
                    format!("write error: {e}"),
                )),
            })?;
        }
        while let Some(event) = conn.poll_event() {
            match event {
                ConnEvent::Greeted { node_id, .. } => target_id = node_id,
                ConnEvent::Authenticated {
                    send_framing,
                    recv_framing,
                    method,
                } => {
                    return Ok(Session {
                        node_id,
                        target_id,
                        send_framing,
                        recv_framing,
                        method,
                    });
                }
                ConnEvent::TlsStarted { .. } => {
                    return Err(ConnectError::Failed(Failure::expected(
                        "a handshake without TLS (we do not announce tls)",
                        "a TLS request",
                    )))
                }
                ConnEvent::Closed(ConnError::Handshake(HandshakeError::AuthFailure)) => {
                    return Err(ConnectError::Failed(Failure::expected(
                        "the target's auth line to verify with our secret",
                        "a token that does not (is --secret the target's shared secret?)",
                    )))
                }
                ConnEvent::Closed(e) => {
                    return Err(ConnectError::Failed(Failure::expected(
                        "a valid handshake from the target",
                        closed_reason(&e),
                    )))
                }
                // Packets before authentication, and events of later versions.
                _ => {}
            }
        }
        match stream.read_until(&mut rbuf, deadline) {
            Ok(ReadOutcome::Data(n)) => conn.handle_input(&rbuf[..n]),
            Ok(ReadOutcome::Closed(how)) => return Err(ConnectError::ClosedByTarget(how)),
            Ok(ReadOutcome::Timeout) => {
                return Err(ConnectError::Failed(Failure::expected(
                    format!("the handshake to complete within {}", secs(WAIT)),
                    "no complete handshake (the target went silent)",
                )))
            }
            Err(e) => {
                return Err(ConnectError::Failed(Failure::expected(
                    "to read the target's handshake",
                    format!("read error: {e}"),
                )))
            }
        }
    }
}

fn write_bytes(stream: &mut Stream, bytes: &[u8]) -> Result<(), Failure> {
    stream.write_all(bytes).map_err(|e| {
        Failure::expected(
            "the target to accept our packets",
            format!("write error: {e}"),
        )
    })
}

fn closed_reason(e: &ConnError) -> String {
    format!("connection closed by us: {e}")
}

/// Seconds since the Unix epoch, as the target's `time` reply should be.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
