//! The per-stream connection state machine: greeting, optional TLS, authentication, then
//! framed packets both ways (or, on a data connection, raw bytes both ways).
//!
//! A [`Connection`] owns no socket and no clock. The driver hands it received bytes
//! ([`Connection::handle_input`]) and the current time ([`Connection::handle_timeout`]),
//! writes out what [`Connection::poll_transmit`] returns, and acts on the events of
//! [`Connection::poll_event`]. When both sides want TLS, the connection runs it itself
//! (through the [`TlsSession`] its configuration's provider starts): it switches at the
//! exact byte after the greetings, and the driver keeps moving bytes as before.
//!
//! ```
//! use aemp_proto::conn::{ConnConfig, ConnError};
//! let cfg = ConnConfig::new("seed", None);
//! assert_eq!(
//!     ConnError::from(cfg.validate().unwrap_err()).to_string(),
//!     "cannot start handshake: neither a shared secret nor TLS is configured: no handshake is possible"
//! );
//! ```

mod config;
mod event;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use tracing::debug;

pub use crate::tls::TlsRole;
pub use config::{ConfigError, ConnConfig, DATA_ID_KEY, MIN_NONCE_LEN};
pub use event::{Channel, ConnError, ConnEvent, Traffic};

use crate::handshake::lines::LineReader;
use crate::handshake::{
    auth_line, choose_framing, choose_method, nonce_line, verify_auth_line, AuthPolicy, Greeting,
    HandshakeError, Transcript, DATA_PROTOCOL, PROTOCOL,
};
use crate::tls::TlsSession;
use crate::wire::{FrameDecoder, Framing, Packet, Payload, Value};

/// Events a connection's queue keeps room for once drained.
const EVENTS_KEPT: usize = 64;

/// Where a connection stands.
#[derive(Debug)]
enum Phase {
    /// Waiting for the remote's greeting line 1.
    Greeting,
    /// Waiting for the remote's nonce line; its line 1 is parsed.
    Nonce(Greeting),
    /// TLS started after the greetings; waiting for its handshake to complete.
    AwaitTls(Greeting),
    /// Our auth line is queued; waiting for the remote's.
    Auth {
        /// The framing we announced.
        send: Framing,
    },
    /// Authenticated: packets flow both ways.
    Data {
        /// The framing we send in.
        send: Framing,
        /// Decodes what the remote sends.
        decoder: FrameDecoder,
    },
    /// Authenticated data connection: raw bytes both ways (the framing the handshake
    /// named is not used, as in the original).
    Raw,
    /// Over; `Closed` was emitted.
    Closed,
}

/// One AEMP connection over one byte stream, from greeting to close. Symmetric: it does not
/// matter which side opened the stream.
///
/// The examples take the current time as `now` from the caller: this crate never reads the
/// clock.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use aemp_proto::{ConnConfig, ConnEvent, Connection};
/// # fn example(now: Instant) {
/// let mut a = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[1; 66], now);
/// let mut b = Connection::new(Arc::new(ConnConfig::new("b", Some(b"s".to_vec()))), &[2; 66], now);
/// // Shuttle bytes until both sides are quiet.
/// loop {
///     let (mut a_to_b, mut b_to_a) = (Vec::new(), Vec::new());
///     if !(a.poll_transmit(&mut a_to_b) | b.poll_transmit(&mut b_to_a)) {
///         break;
///     }
///     b.handle_input(&a_to_b);
///     a.handle_input(&b_to_a);
/// }
/// assert!(a.is_authenticated() && b.is_authenticated());
/// assert_eq!(a.remote_node_id(), Some("b"));
/// assert!(matches!(a.poll_event(), Some(ConnEvent::Greeted { node_id, .. }) if node_id == "b"));
/// assert!(matches!(a.poll_event(), Some(ConnEvent::Authenticated { .. })));
/// # }
/// ```
#[derive(Debug)]
pub struct Connection {
    config: Arc<ConnConfig>,
    /// Our greeting line 1 and nonce line, without line ends.
    local: [Vec<u8>; 2],
    /// The remote's greeting line 1 and nonce line, as far as received.
    remote: [Vec<u8>; 2],
    remote_node: Option<String>,
    phase: Phase,
    lines: LineReader,
    /// What the stream itself provides (an encrypted transport such as QUIC).
    channel: Channel,
    /// The TLS session, from the moment TLS starts (boxed: rustls's state is large).
    tls: Option<Box<dyn TlsSession>>,
    authenticated: bool,
    /// Packets sent before authentication.
    held: Vec<Vec<Value>>,
    /// The data connection's ID: ours if we opened it, the remote's greeting's if we
    /// accepted it (see [`Connection::new_data`]).
    data_id: Option<String>,
    /// A data connection's received bytes not yet read, from `data_read` on.
    data_in: Vec<u8>,
    data_read: usize,
    /// The peer ended its TLS session cleanly on a data connection: end of the data.
    data_ended: bool,
    /// We ended our side of a data connection ([`Connection::end_data`]).
    data_sent_end: bool,
    /// What we send, in the protocol's bytes (before TLS encrypts them, if it runs): whole
    /// buffers queued as they were given ([`Connection::send_framed`]), then `out`.
    queued: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    out: Vec<u8>,
    /// With TLS: bytes for the stream as they are (our plaintext greeting, then records).
    wire: Vec<u8>,
    /// With TLS: decrypted input being handed on (kept to reuse its allocation).
    decrypted: Vec<u8>,
    events: VecDeque<ConnEvent>,
    deadline: Option<Instant>,
    traffic: Traffic,
}

impl Connection {
    /// Starts a connection and queues our greeting (line 1 and the nonce line) at once.
    ///
    /// `nonce` must be fresh random bytes from the caller (66 usual, at least
    /// [`MIN_NONCE_LEN`]). An invalid configuration or nonce gives a connection that is
    /// already closed with [`ConnError::Config`].
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// let mut out = Vec::new();
    /// assert!(c.poll_transmit(&mut out));
    /// assert!(out.starts_with(b"aemp;1;a;"));
    /// assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2);
    /// # }
    /// ```
    pub fn new(config: Arc<ConnConfig>, nonce: &[u8], now: Instant) -> Connection {
        let greeting = config.greeting();
        Connection::start(config, greeting, None, nonce, now)
    }

    /// Starts a data connection (`AnyEvent::MP::DataConn`) we open, with the ID both nodes
    /// agreed on: it greets with protocol `aemp-dataconn`, authenticates like any
    /// connection, then carries raw bytes ([`Connection::send_data`],
    /// [`Connection::read_data`]). A connection made with [`Connection::new`] becomes one
    /// when the remote greets with `aemp-dataconn`.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// let mut out = Vec::new();
    /// c.poll_transmit(&mut out);
    /// assert!(out.starts_with(b"aemp-dataconn;1;a;"));
    /// assert_eq!(c.data_id(), Some("b@a"));
    /// # }
    /// ```
    pub fn new_data(config: Arc<ConnConfig>, id: &str, nonce: &[u8], now: Instant) -> Connection {
        let greeting = config.data_greeting(id);
        Connection::start(config, greeting, Some(id.to_owned()), nonce, now)
    }

    fn start(
        config: Arc<ConnConfig>,
        greeting: Greeting,
        data_id: Option<String>,
        nonce: &[u8],
        now: Instant,
    ) -> Connection {
        let local = [
            greeting.to_line().into_bytes(),
            nonce_line(nonce).into_bytes(),
        ];
        let mut conn = Connection {
            lines: LineReader::new(config.max_line),
            deadline: now.checked_add(config.handshake_timeout),
            traffic: Traffic::default(),
            config,
            local,
            remote: [Vec::new(), Vec::new()],
            remote_node: None,
            phase: Phase::Greeting,
            channel: Channel::Plain,
            tls: None,
            authenticated: false,
            held: Vec::new(),
            data_id,
            data_in: Vec::new(),
            data_read: 0,
            data_ended: false,
            data_sent_end: false,
            queued: VecDeque::new(),
            queued_bytes: 0,
            out: Vec::new(),
            wire: Vec::new(),
            decrypted: Vec::new(),
            events: VecDeque::new(),
        };
        let usable = check_start(&conn.config, nonce).and_then(|()| match &conn.data_id {
            Some(id) => check_data_id(id),
            None => Ok(()),
        });
        match usable {
            Ok(()) => {
                for line in &conn.local {
                    conn.out.extend_from_slice(line);
                    conn.out.push(b'\n');
                }
                debug!(node = %conn.config.node_id, "aemp greeting queued");
            }
            Err(e) => conn.finish(e.into()),
        }
        conn
    }

    /// Processes bytes read from the stream (TLS records once TLS runs: the connection
    /// decrypts them itself). In the data phase the bytes are decoded as
    /// [`poll_event`](Connection::poll_event) asks for packets: a malformed packet closes the
    /// connection (and counts in its traffic) when it is reached there.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, ConnError, ConnEvent, Connection, HandshakeError};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.handle_input(b"aemp;2;b;hmac_sha3_512;cbor\n");
    /// assert_eq!(
    ///     c.poll_event(),
    ///     Some(ConnEvent::Closed(ConnError::Handshake(HandshakeError::WrongVersion("2".into()))))
    /// );
    /// # }
    /// ```
    pub fn handle_input(&mut self, data: &[u8]) {
        self.traffic.bytes_in += data.len() as u64;
        if self.tls.is_some() {
            self.tls_input(data);
        } else {
            self.protocol_input(data);
        }
    }

    /// Bytes of the protocol itself (received as they are, or decrypted).
    fn protocol_input(&mut self, data: &[u8]) {
        match self.phase {
            Phase::Closed | Phase::AwaitTls(_) => {}
            Phase::Data { .. } => self.decode(data),
            Phase::Raw => self.data_in.extend_from_slice(data),
            Phase::Greeting | Phase::Nonce(_) | Phase::Auth { .. } => {
                self.lines.push(data);
                self.process_lines();
            }
        }
    }

    /// Records for the TLS session: the handshake, then the protocol's bytes encrypted.
    fn tls_input(&mut self, data: &[u8]) {
        let Some(session) = self.tls.as_mut() else {
            return;
        };
        let mut plain = std::mem::take(&mut self.decrypted);
        plain.clear();
        let read = session.read_tls(data, &mut plain);
        let established = !session.is_handshaking();
        match read {
            Err(e) => self.finish(ConnError::Tls(e)),
            Ok(read) => {
                if established {
                    self.tls_established();
                }
                if !plain.is_empty() {
                    self.protocol_input(&plain);
                }
                if read.peer_closed && matches!(self.phase, Phase::Raw) {
                    self.data_ended = true;
                } else if read.peer_closed && !self.is_closed() {
                    let why = "TLS: the peer ended the TLS session".to_owned();
                    self.finish(ConnError::Transport(why));
                }
            }
        }
        self.decrypted = plain;
    }

    /// Moves pending bytes to `out`; true if anything was moved. When `out` is empty, the
    /// oldest pending buffer takes its place whole (call again for the rest: messages
    /// framed outside the connection wait as the buffers they were given in); otherwise
    /// everything pending is appended.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// let mut out = b"previous".to_vec();
    /// assert!(c.poll_transmit(&mut out));
    /// assert!(out.starts_with(b"previousaemp;1;a;"));
    /// assert!(!c.poll_transmit(&mut out));
    /// # }
    /// ```
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        if self.tls.is_some() {
            self.seal();
        }
        let moved = if self.tls.is_some() || !self.wire.is_empty() {
            take_into(&mut self.wire, out)
        } else if out.is_empty() && !self.queued.is_empty() {
            // (Never empty: `send_framed` queues no empty buffer.)
            let mut oldest = self.queued.pop_front().unwrap_or_default();
            self.queued_bytes -= oldest.len();
            std::mem::swap(out, &mut oldest);
            if self.out.capacity() == 0 {
                // The caller's empty buffer serves for what is sent next.
                self.out = oldest;
            }
            out.len()
        } else {
            let mut moved = 0;
            for mut buffer in self.queued.drain(..) {
                moved += take_into(&mut buffer, out);
            }
            self.queued_bytes = 0;
            moved + take_into(&mut self.out, out)
        };
        self.traffic.bytes_out += moved as u64;
        moved > 0
    }

    /// Queues a whole buffer of framed packets behind what waits.
    fn queue_whole(&mut self, buffer: Vec<u8>) {
        self.queued_bytes += buffer.len();
        self.queued.push_back(buffer);
    }

    /// With TLS: moves the session's own records, then our pending bytes encrypted (once
    /// the handshake is over), to `wire`.
    fn seal(&mut self) {
        let Some(session) = self.tls.as_mut() else {
            return;
        };
        session.write_tls(&mut self.wire);
        if session.is_handshaking() {
            return;
        }
        let mut sealed = Ok(());
        for buffer in self.queued.iter().chain([&self.out]) {
            if sealed.is_ok() && !buffer.is_empty() {
                sealed = session.encrypt(buffer, &mut self.wire);
            }
        }
        match sealed {
            Ok(()) => {
                self.queued.clear();
                self.queued_bytes = 0;
                self.out.clear();
            }
            Err(e) => self.finish(ConnError::Tls(e)),
        }
    }

    /// The next event, oldest first.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert_eq!(c.poll_event(), None);
    /// # }
    /// ```
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        if self.events.is_empty() {
            if let Some(packet) = self.next_packet() {
                return Some(ConnEvent::Packet(packet));
            }
        }
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > EVENTS_KEPT {
            // Packets queued at the end of a connection made the queue long: give the
            // memory back.
            self.events.shrink_to(EVENTS_KEPT);
        }
        event
    }

    /// The handshake deadline while not yet authenticated (and not closed).
    ///
    /// ```
    /// # use std::{sync::Arc, time::{Duration, Instant}};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let now = now;
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(30)));
    /// # }
    /// ```
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.authenticated || self.is_closed() {
            None
        } else {
            self.deadline
        }
    }

    /// Tells the connection the time; past the deadline before authentication it closes with
    /// [`HandshakeError::Timeout`].
    ///
    /// ```
    /// # use std::{sync::Arc, time::{Duration, Instant}};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let now = now;
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.handle_timeout(now + Duration::from_secs(29));
    /// assert!(!c.is_closed());
    /// c.handle_timeout(now + Duration::from_secs(30));
    /// assert!(c.is_closed());
    /// # }
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.finish(HandshakeError::Timeout.into());
        }
    }

    /// Queues one packet (`[port, args...]`, or empty for a keepalive). Before
    /// authentication it is held and sent right after; after close it is dropped.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection, Value};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// let mut greeting = Vec::new();
    /// c.poll_transmit(&mut greeting);
    /// c.send(&[Value::from("port"), Value::Int(1)]);
    /// assert!(!c.poll_transmit(&mut Vec::new())); // held until authenticated
    /// # }
    /// ```
    pub fn send(&mut self, packet: &[Value]) {
        match &self.phase {
            Phase::Closed => {}
            Phase::Data { send, .. } => {
                send.encode(packet, &mut self.out);
                self.traffic.packets_out += 1;
            }
            _ => self.held.push(packet.to_vec()),
        }
    }

    /// Queues the packet `[port, msg...]` like [`Connection::send`], without the caller
    /// building it (the hot path of sending a message).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection, Value};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.send_message("port", &[Value::Int(1)]); // held until authenticated
    /// # }
    /// ```
    pub fn send_message(&mut self, port: &str, msg: &[Value]) {
        match &self.phase {
            Phase::Closed => {}
            Phase::Data { send, .. } => {
                send.encode_message(port, msg, &mut self.out);
                self.traffic.packets_out += 1;
            }
            _ => {
                let mut packet = Vec::with_capacity(msg.len() + 1);
                packet.push(Value::from(port));
                packet.extend_from_slice(msg);
                self.held.push(packet);
            }
        }
    }

    /// Queues the message `msg` for local port `port` of the remote node, like
    /// [`send_message`](Connection::send_message); CBOR bytes of the payload are copied
    /// as they are when this connection sends CBOR.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection, Payload};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.send_payload("port", &Payload::encode(&("hi", 1)).unwrap()); // held until authenticated
    /// # }
    /// ```
    pub fn send_payload(&mut self, port: &str, msg: &Payload) {
        match &self.phase {
            Phase::Data { send, .. } => {
                send.encode_payload(port, msg, &mut self.out);
                self.traffic.packets_out += 1;
            }
            _ => self.send_message(port, &msg.to_values()),
        }
    }

    /// The framing this connection sends in, once it carries messages (after the
    /// handshake): packets given to [`Connection::send_framed`] must be written in it.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert_eq!(c.send_framing(), None); // not authenticated yet
    /// # }
    /// ```
    pub fn send_framing(&self) -> Option<Framing> {
        match &self.phase {
            Phase::Data { send, .. } => Some(*send),
            _ => None,
        }
    }

    /// Queues `packets` packets that the caller already wrote in this connection's
    /// [`send_framing`](Connection::send_framing), taking `bytes` (left empty, its buffer
    /// swapped in when nothing else waits). Ignored unless the connection carries messages.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection, Payload};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// if let Some(framing) = c.send_framing() {
    ///     let mut bytes = Vec::new();
    ///     framing.encode_payload("port", &Payload::encode(&("hi",)).unwrap(), &mut bytes);
    ///     c.send_framed(&mut bytes, 1);
    /// }
    /// # }
    /// ```
    pub fn send_framed(&mut self, bytes: &mut Vec<u8>, packets: u64) {
        if bytes.is_empty() {
            return;
        }
        if !matches!(self.phase, Phase::Data { .. }) {
            bytes.clear();
            return;
        }
        if self.out.is_empty() && self.queued.is_empty() {
            std::mem::swap(&mut self.out, bytes);
        } else {
            // Queued whole behind what waits, not copied; `bytes` is left without memory.
            if !self.out.is_empty() {
                let out = std::mem::take(&mut self.out);
                self.queue_whole(out);
            }
            self.queue_whole(std::mem::take(bytes));
        }
        self.traffic.packets_out += packets;
    }

    /// The ID of the data connection this is, `None` for a node connection (known from
    /// the start on the side that opens it, from the remote's greeting on the other).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert_eq!(c.data_id(), None);
    /// c.handle_input(b"aemp-dataconn;1;b;hmac_sha3_512;cbor;dataconn_id=b@b\n");
    /// assert_eq!(c.data_id(), Some("b@b"));
    /// # }
    /// ```
    pub fn data_id(&self) -> Option<&str> {
        self.data_id.as_deref()
    }

    /// Whether this is an authenticated data connection: it carries raw bytes now.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// assert!(!c.carries_data()); // not yet authenticated
    /// # }
    /// ```
    pub fn carries_data(&self) -> bool {
        matches!(self.phase, Phase::Raw)
    }

    /// Moves received data-connection bytes into `buf` (decrypted, if TLS runs); returns
    /// how many. Zero when none are waiting: feed more input, or see
    /// [`Connection::data_ended`].
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// assert_eq!(c.read_data(&mut [0; 16]), 0);
    /// # }
    /// ```
    pub fn read_data(&mut self, buf: &mut [u8]) -> usize {
        let waiting = &self.data_in[self.data_read..];
        let n = waiting.len().min(buf.len());
        buf[..n].copy_from_slice(&waiting[..n]);
        self.data_read += n;
        if self.data_read == self.data_in.len() {
            self.data_in.clear();
            self.data_read = 0;
        }
        n
    }

    /// Whether received data-connection bytes are waiting for [`Connection::read_data`].
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// assert!(!c.data_waiting());
    /// # }
    /// ```
    pub fn data_waiting(&self) -> bool {
        self.data_read < self.data_in.len()
    }

    /// Whether the peer ended the data cleanly (its TLS session's close_notify) and every
    /// byte before that was read. Without TLS the end of the stream itself is the end.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// assert!(!c.data_ended());
    /// # }
    /// ```
    pub fn data_ended(&self) -> bool {
        self.data_ended && !self.data_waiting()
    }

    /// Queues bytes on an authenticated data connection (encrypted on their way out, if
    /// TLS runs); returns false, queueing nothing, on any other connection and after
    /// [`Connection::end_data`].
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// assert!(!c.send_data(b"too early"));
    /// # }
    /// ```
    pub fn send_data(&mut self, data: &[u8]) -> bool {
        if !self.carries_data() || self.data_sent_end {
            return false;
        }
        self.out.extend_from_slice(data);
        true
    }

    /// Ends our side of a data connection after what is queued: with TLS, the queued
    /// bytes are sealed and a close_notify follows them, so the peer sees a clean end
    /// (take the last bytes with [`Connection::poll_transmit`]). Receiving goes on until
    /// the peer ends its side. A connection not yet carrying data is closed.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new_data(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), "b@a", &[0; 66], now);
    /// c.end_data();
    /// assert!(c.is_closed()); // it was still in its handshake
    /// # }
    /// ```
    pub fn end_data(&mut self) {
        if !self.carries_data() {
            return self.close(ConnError::Local("data connection ended".into()));
        }
        if self.data_sent_end {
            return;
        }
        self.data_sent_end = true;
        if self.tls.is_some() {
            self.seal();
        }
        if let Some(session) = self.tls.as_mut() {
            session.send_close(&mut self.wire);
        }
    }

    /// Closes the connection for a reason of the caller's (e.g. already connected).
    /// Untransmitted bytes, held packets and events not yet polled are discarded (an
    /// `Authenticated` among them no longer counts for [`Connection::is_authenticated`]); the
    /// only event left is `Closed(reason)`. Does nothing if already closed.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, ConnError, ConnEvent, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.close(ConnError::AlreadyConnected);
    /// c.close(ConnError::Local("twice".into()));
    /// assert!(!c.poll_transmit(&mut Vec::new()));
    /// assert_eq!(c.poll_event(), Some(ConnEvent::Closed(ConnError::AlreadyConnected)));
    /// assert_eq!(c.poll_event(), None);
    /// # }
    /// ```
    pub fn close(&mut self, reason: ConnError) {
        if self.is_closed() {
            return;
        }
        // An `Authenticated` the caller never saw (e.g. it refuses after `Greeted`) is void.
        if self
            .events
            .iter()
            .any(|e| matches!(e, ConnEvent::Authenticated { .. }))
        {
            self.authenticated = false;
        }
        // Nothing that arrived is reported any more: neither queued events nor the
        // packets still undecoded.
        self.events.clear();
        self.phase = Phase::Closed;
        self.finish(reason);
    }

    /// The TLS handshake is over: our auth line is queued, to be sent inside TLS.
    fn tls_established(&mut self) {
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::AwaitTls(remote) => {
                debug!(node = %self.config.node_id, "TLS established, authenticating inside");
                match self.queue_auth_line(&remote) {
                    Ok(send) => self.phase = Phase::Auth { send },
                    Err(e) => self.finish(e.into()),
                }
            }
            other => self.phase = other,
        }
    }

    /// Tells the connection what its stream provides, before any byte of the peer arrived:
    /// an [`Channel::Encrypted`] stream (QUIC) runs no TLS of its own inside, and its
    /// binding is covered by the auth tokens. Ignored once the handshake has gone further.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::conn::{Channel, ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.set_channel(Channel::Encrypted { binding: vec![7; 32], peer_verified: false });
    /// # }
    /// ```
    pub fn set_channel(&mut self, channel: Channel) {
        if matches!(self.phase, Phase::Greeting) && self.remote_node.is_none() {
            self.channel = channel;
        } else {
            debug!(node = %self.config.node_id, "channel set too late, ignored");
        }
    }

    /// Whether the peer's certificate was verified: by our TLS session, or by the
    /// encrypted stream's own (the `tls_` methods need it).
    fn peer_verified_by_tls(&self) -> bool {
        self.tls.is_some()
            || matches!(
                self.channel,
                Channel::Encrypted {
                    peer_verified: true,
                    ..
                }
            )
    }

    /// Whether authentication succeeded (stays true after a later close).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert!(!c.is_authenticated());
    /// # }
    /// ```
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// What the stream itself provides (see [`Connection::set_channel`]).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::conn::{Channel, ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert_eq!(c.channel(), &Channel::Plain);
    /// # }
    /// ```
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Whether TLS runs inside this connection (it has started).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert!(!c.tls_running());
    /// # }
    /// ```
    pub fn tls_running(&self) -> bool {
        self.tls.is_some()
    }

    /// What has crossed this connection so far: bytes as the transport carries them,
    /// packets as the protocol counts them (keepalives included).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// let mut out = Vec::new();
    /// c.poll_transmit(&mut out);
    /// assert_eq!(c.traffic().bytes_out, out.len() as u64);
    /// # }
    /// ```
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// Bytes queued and not yet taken by [`Connection::poll_transmit`] (before TLS
    /// encrypts them, if it runs).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// assert!(c.pending_bytes() > 0); // the greeting
    /// c.poll_transmit(&mut Vec::new());
    /// assert_eq!(c.pending_bytes(), 0);
    /// # }
    /// ```
    pub fn pending_bytes(&self) -> usize {
        self.queued_bytes + self.out.len() + self.wire.len()
    }

    /// Makes room for `additional` more bytes to send, growing the buffer as usual
    /// (doubling) but to no more than `limit` bytes where that is enough: a caller that
    /// bounds what it queues keeps the buffer's memory within the same bound.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.reserve_output(1000, 4096);
    /// # }
    /// ```
    pub fn reserve_output(&mut self, additional: usize, limit: usize) {
        let needed = self.out.len() + additional;
        if needed > self.out.capacity() {
            let target = (self.out.capacity() * 2).clamp(needed, limit.max(needed));
            self.out.reserve_exact(target - self.out.len());
        }
    }

    /// Whether the connection is over (`Closed` has been emitted).
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let c = Connection::new(Arc::new(ConnConfig::new("a", None)), &[0; 66], now);
    /// assert!(c.is_closed()); // no secret and no TLS
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The remote's node ID, once its greeting line 1 passed the checks.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Instant};
    /// # use aemp_proto::{ConnConfig, Connection};
    /// # fn example(now: Instant) {
    /// let mut c = Connection::new(Arc::new(ConnConfig::new("a", Some(b"s".to_vec()))), &[0; 66], now);
    /// c.handle_input(b"aemp;1;b;hmac_sha3_512;cbor\n");
    /// assert_eq!(c.remote_node_id(), Some("b"));
    /// # }
    /// ```
    pub fn remote_node_id(&self) -> Option<&str> {
        self.remote_node.as_deref()
    }

    /// Handles complete lines while in a line-oriented phase, then hands any bytes after
    /// the auth line to the data phase.
    fn process_lines(&mut self) {
        while matches!(
            self.phase,
            Phase::Greeting | Phase::Nonce(_) | Phase::Auth { .. }
        ) {
            let line = match self.lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => return,
                Err(e) => return self.finish(e.into()),
            };
            let next = match std::mem::replace(&mut self.phase, Phase::Closed) {
                Phase::Greeting => self.on_greeting(line),
                Phase::Nonce(remote) => self.on_nonce(remote, line),
                Phase::Auth { send } => self.on_auth_line(send, &line),
                other => Ok(other),
            };
            match next {
                Ok(phase) => self.phase = phase,
                Err(e) => return self.finish(e.into()),
            }
        }
        let rest = self.lines.take_rest();
        if rest.is_empty() {
            return;
        }
        match self.phase {
            Phase::Data { .. } => self.decode(&rest),
            Phase::Raw => self.data_in.extend_from_slice(&rest),
            // Everything after the remote's nonce line belongs to TLS.
            Phase::AwaitTls(_) => self.tls_input(&rest),
            _ => {}
        }
    }

    fn on_greeting(&mut self, line: Vec<u8>) -> Result<Phase, HandshakeError> {
        let remote = Greeting::parse(&line)?;
        self.agree_on_protocol(&remote)?;
        // A reflected line 1 is judged after line 2 (echo attack or talking to ourselves);
        // a data connection may connect a node to itself, as in the original.
        if self.data_id.is_none() && remote.node_id == self.config.node_id && line != self.local[0]
        {
            return Err(HandshakeError::SelfConnection);
        }
        debug!(node = %self.config.node_id, remote = %remote.node_id, "aemp greeting line 1 received");
        self.remote_node = Some(remote.node_id.clone());
        self.remote[0] = line;
        Ok(Phase::Nonce(remote))
    }

    /// Accepts the remote's protocol: `aemp` always (the side that opens a data connection
    /// accepts the other's plain greeting); `aemp-dataconn` makes this a data connection
    /// with the ID the remote names.
    fn agree_on_protocol(&mut self, remote: &Greeting) -> Result<(), HandshakeError> {
        if remote.protocol == PROTOCOL || self.data_id.is_some() && remote.protocol == DATA_PROTOCOL
        {
            return Ok(());
        }
        if remote.protocol != DATA_PROTOCOL {
            return Err(HandshakeError::WrongProtocol(remote.protocol.clone()));
        }
        let id = remote.get(DATA_ID_KEY).unwrap_or_default();
        check_data_id(id).map_err(|e| HandshakeError::MalformedGreeting {
            reason: e.to_string(),
        })?;
        debug!(node = %self.config.node_id, remote = %remote.node_id, %id, "data connection greeting");
        self.data_id = Some(id.to_owned());
        Ok(())
    }

    fn on_nonce(&mut self, remote: Greeting, line: Vec<u8>) -> Result<Phase, HandshakeError> {
        if self.remote[0] == self.local[0] {
            return Err(if line == self.local[1] {
                HandshakeError::EchoAttack
            } else {
                HandshakeError::SelfConnection
            });
        }
        self.remote[1] = line;
        self.events.push_back(ConnEvent::Greeted {
            node_id: remote.node_id.clone(),
            kv: remote.kv.clone(),
        });
        let both_want_tls = self.config.tls.is_some() && remote.wants_tls();
        let encrypted = matches!(self.channel, Channel::Encrypted { .. });
        if both_want_tls && encrypted && !self.peer_verified_by_tls() {
            // Over TCP both would now run TLS and verify each other: on an encrypted
            // stream its own TLS must have verified the peer.
            return Err(HandshakeError::PeerNotVerified);
        }
        if let (Some(provider), true, false) = (&self.config.tls, remote.wants_tls(), encrypted) {
            let role = if self.local[1] < self.remote[1] {
                TlsRole::Client
            } else {
                TlsRole::Server
            };
            debug!(node = %self.config.node_id, ?role, "both sides want TLS");
            let session = provider.start(role).map_err(HandshakeError::TlsStart)?;
            // What we queued so far (our greeting) goes out in the clear, before TLS.
            self.wire.append(&mut self.out);
            self.tls = Some(session);
            self.events.push_back(ConnEvent::TlsStarted { role });
            return Ok(Phase::AwaitTls(remote));
        }
        let send = self.queue_auth_line(&remote)?;
        Ok(Phase::Auth { send })
    }

    /// Chooses method and framing from the remote's greeting and queues our auth line.
    fn queue_auth_line(&mut self, remote: &Greeting) -> Result<Framing, HandshakeError> {
        let cfg = &self.config;
        let method = choose_method(
            &remote.auth_accept,
            &cfg.auth_offer,
            cfg.secret.is_some(),
            self.peer_verified_by_tls(),
        )?;
        let framing = choose_framing(&remote.framings, &cfg.framings)?;
        let line = auth_line(method, cfg.secret.as_deref(), self.transcript(), framing)?;
        debug!(node = %cfg.node_id, method = method.name(), framing = framing.name(), "auth line queued");
        self.out.extend_from_slice(line.as_bytes());
        self.out.push(b'\n');
        Ok(framing)
    }

    fn on_auth_line(&mut self, send: Framing, line: &[u8]) -> Result<Phase, HandshakeError> {
        let cfg = &self.config;
        let policy = AuthPolicy {
            secret: cfg.secret.as_deref(),
            accept: &cfg.auth_accept,
            framings: &cfg.framings,
            tls_active: self.peer_verified_by_tls(),
        };
        let verified = verify_auth_line(line, self.transcript(), policy)?;
        let decoder = verified.framing.decoder(cfg.limits);
        debug!(
            node = %cfg.node_id,
            remote = self.remote_node.as_deref().unwrap_or_default(),
            method = verified.method.name(),
            "authenticated"
        );
        self.authenticated = true;
        self.events.push_back(ConnEvent::Authenticated {
            send_framing: send,
            recv_framing: verified.framing,
            method: verified.method.name().to_owned(),
        });
        if self.data_id.is_some() {
            self.held = Vec::new();
            return Ok(Phase::Raw);
        }
        for packet in self.held.drain(..) {
            send.encode(&packet, &mut self.out);
            self.traffic.packets_out += 1;
        }
        Ok(Phase::Data { send, decoder })
    }

    /// Keeps data-phase bytes for [`Connection::poll_event`], which decodes them one packet
    /// at a time: each packet goes to the application while its bytes are still in cache,
    /// and no queue of decoded packets builds up.
    fn decode(&mut self, data: &[u8]) {
        if let Phase::Data { decoder, .. } = &mut self.phase {
            decoder.feed(data);
        }
    }

    /// The next packet of the bytes received in the data phase; a decoding error ends the
    /// connection (its `Closed` event is then queued).
    fn next_packet(&mut self) -> Option<Packet> {
        let Phase::Data { decoder, .. } = &mut self.phase else {
            return None;
        };
        match decoder.next_frame() {
            Ok(Some(packet)) => {
                self.traffic.packets_in += 1;
                Some(packet)
            }
            Ok(None) => None,
            Err(e) => {
                self.finish(e.into());
                None
            }
        }
    }

    fn transcript(&self) -> Transcript<'_> {
        Transcript {
            local: [&self.local[0], &self.local[1]],
            remote: [&self.remote[0], &self.remote[1]],
            binding: match &self.channel {
                Channel::Plain => &[],
                Channel::Encrypted { binding, .. } => binding,
            },
        }
    }

    /// Ends the connection: nothing more is reported after `Closed(reason)`, and nothing
    /// more is sent but, with TLS, its last words (an alert after a TLS failure, else
    /// close_notify, unless the stream itself is gone).
    fn finish(&mut self, reason: ConnError) {
        debug!(node = %self.config.node_id, remote = ?self.remote_node, %reason, "connection closed");
        // The packets that arrived before the end are reported before it.
        if let Phase::Data { decoder, .. } = &mut self.phase {
            while let Ok(Some(packet)) = decoder.next_frame() {
                self.traffic.packets_in += 1;
                self.events.push_back(ConnEvent::Packet(packet));
            }
        }
        self.phase = Phase::Closed;
        self.out = Vec::new();
        self.queued = VecDeque::new();
        self.queued_bytes = 0;
        self.wire = Vec::new();
        if let Some(mut session) = self.tls.take() {
            match &reason {
                ConnError::Transport(_) => {}
                ConnError::Tls(_) => session.write_tls(&mut self.wire),
                _ => session.send_close(&mut self.wire),
            }
        }
        self.held = Vec::new();
        self.lines.take_rest();
        self.events.push_back(ConnEvent::Closed(reason));
    }
}

/// Whether `id` can name a data connection in a greeting.
fn check_data_id(id: &str) -> Result<(), ConfigError> {
    let why = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_DATA_ID_LEN {
        "it is longer than 256 bytes"
    } else if id
        .bytes()
        .any(|b| matches!(b, b';' | b'\n' | b'\r' | b'\0'))
    {
        "it contains ';' or a line end"
    } else {
        return Ok(());
    };
    Err(ConfigError::Invalid {
        what: format!("data connection ID {:?}", id.escape_debug().to_string()),
        reason: why.to_owned(),
    })
}

/// The longest data connection ID taken (the original makes `COUNTER@NODEID`).
const MAX_DATA_ID_LEN: usize = 256;

/// Whether a handshake can start with this configuration and nonce.
fn check_start(config: &ConnConfig, nonce: &[u8]) -> Result<(), ConfigError> {
    config.validate()?;
    if nonce.len() < MIN_NONCE_LEN {
        return Err(ConfigError::ShortNonce {
            len: nonce.len(),
            min: MIN_NONCE_LEN,
        });
    }
    Ok(())
}

/// Moves the bytes of `from` to the end of `to` (swapping buffers when `to` is empty);
/// how many.
fn take_into(from: &mut Vec<u8>, to: &mut Vec<u8>) -> usize {
    let moved = from.len();
    if to.is_empty() {
        std::mem::swap(to, from);
    } else {
        to.append(from);
    }
    moved
}
