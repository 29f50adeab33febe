//! The TLS state of a node's connections, between the TCP transport and the core.
//!
//! A connection starts without TLS: bytes go between socket and core as they are. When
//! the core asks for TLS ([`TransportOutput::StartTls`]), everything the stream delivers belongs to
//! TLS; bytes that arrive before the driver acts on the request are kept for the new
//! [`TlsSession`]. From then on received bytes reach the core only decrypted, and what the
//! core transmits after `conn_tls_established` reaches the socket only encrypted.

use std::collections::HashMap;
use std::iter;
use std::time::Instant;

use aemp_proto::node::{ConnId, NodeCore, TlsRole, TransportOutput};

use super::session::TlsSession;
use super::TlsConfig;

/// Where one connection's TLS stands (connections without TLS have no entry).
enum Link {
    /// The core asked for TLS; the driver has not started it yet. Holds the bytes
    /// received meanwhile.
    Starting(Vec<u8>),
    /// TLS runs (its handshake may still be in progress). Boxed: rustls's state is large.
    Up(Box<TlsSession>),
    /// TLS failed and the core was told; holds the records (an alert) to write before the
    /// stream closes.
    Failed(Vec<u8>),
}

/// The TLS state of every connection of one node; see the [module docs](self).
pub(crate) struct TlsLinks {
    /// The node's certificate settings; without them the node never asks for TLS.
    config: Option<TlsConfig>,
    links: HashMap<ConnId, Link>,
    /// Sessions that may have records to send since the last [`TlsLinks::take_records`].
    dirty: Vec<ConnId>,
    /// Decrypted bytes on their way to the core (reused).
    plaintext: Vec<u8>,
}

impl TlsLinks {
    /// No connection uses TLS yet; `config` is `None` on a node without a certificate.
    pub(crate) fn new(config: Option<TlsConfig>) -> TlsLinks {
        TlsLinks {
            config,
            links: HashMap::new(),
            dirty: Vec::new(),
            plaintext: Vec::new(),
        }
    }

    /// Bytes read from the stream of `conn`. Before TLS they go to the core as they are,
    /// and the core's outputs are moved to `outs` at once, so that a request for TLS is
    /// seen before the next bytes of the stream (which belong to TLS) arrive.
    pub(crate) fn input(
        &mut self,
        core: &mut NodeCore,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
        outs: &mut Vec<TransportOutput>,
    ) {
        match self.links.get_mut(&conn) {
            None => {
                core.conn_input(conn, bytes, now);
                let first = outs.len();
                outs.extend(iter::from_fn(|| core.poll_transport()));
                for out in &outs[first..] {
                    if let TransportOutput::StartTls { conn, .. } = out {
                        self.links.insert(*conn, Link::Starting(Vec::new()));
                    }
                }
            }
            Some(Link::Starting(early)) => early.extend_from_slice(bytes),
            Some(Link::Up(_)) => self.receive(core, conn, bytes, now),
            Some(Link::Failed(_)) => {}
        }
    }

    /// Acts on [`TransportOutput::StartTls`]: starts the session and hands it the bytes that
    /// already arrived. Without a certificate the connection is closed.
    pub(crate) fn start(
        &mut self,
        core: &mut NodeCore,
        conn: ConnId,
        role: TlsRole,
        leftover: &[u8],
        now: Instant,
    ) {
        let early = match self.links.remove(&conn) {
            Some(Link::Starting(early)) => early,
            _ => Vec::new(),
        };
        let session = match &self.config {
            Some(config) => TlsSession::new(config, role),
            None => Err("TLS: requested, but this node has no certificate configured".into()),
        };
        match session {
            Ok(session) => {
                tracing::debug!(conn = conn.0, ?role, "starting TLS");
                self.links.insert(conn, Link::Up(Box::new(session)));
                self.dirty.push(conn);
                for bytes in [leftover, &early] {
                    if !bytes.is_empty() {
                        self.receive(core, conn, bytes, now);
                    }
                }
            }
            Err(why) => core.conn_closed(conn, &why, now),
        }
    }

    /// What to write to the stream for the bytes of an [`TransportOutput::Transmit`]: the bytes
    /// themselves before TLS, their records with TLS, nothing after TLS failed. An error
    /// names why TLS failed; the caller tells the core.
    pub(crate) fn seal(&mut self, conn: ConnId, data: Vec<u8>) -> Result<Vec<u8>, String> {
        let session = match self.links.get_mut(&conn) {
            None | Some(Link::Starting(_)) => return Ok(data),
            Some(Link::Failed(_)) => return Ok(Vec::new()),
            Some(Link::Up(session)) => session,
        };
        let mut records = Vec::new();
        match session.send(&data, &mut records) {
            Ok(()) => Ok(records),
            Err(why) => {
                self.fail(conn);
                Err(why)
            }
        }
    }

    /// Acts on [`TransportOutput::Close`]: forgets the connection and returns the last records to
    /// write before the stream closes (close_notify, or the alert of a failure).
    pub(crate) fn close(&mut self, conn: ConnId) -> Vec<u8> {
        match self.links.remove(&conn) {
            Some(Link::Up(mut session)) => {
                let mut records = Vec::new();
                session.close(&mut records);
                records
            }
            Some(Link::Failed(alert)) => alert,
            Some(Link::Starting(_)) | None => Vec::new(),
        }
    }

    /// The records sessions want to send (handshake messages) since the last call.
    pub(crate) fn take_records(&mut self) -> Vec<(ConnId, Vec<u8>)> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        dirty
            .into_iter()
            .filter_map(|conn| match self.links.get_mut(&conn) {
                Some(Link::Up(session)) => {
                    let mut records = Vec::new();
                    session.take_output(&mut records);
                    (!records.is_empty()).then_some((conn, records))
                }
                _ => None,
            })
            .collect()
    }

    /// Decrypts bytes of a running session for the core.
    fn receive(&mut self, core: &mut NodeCore, conn: ConnId, bytes: &[u8], now: Instant) {
        let Some(Link::Up(session)) = self.links.get_mut(&conn) else {
            return;
        };
        self.dirty.push(conn);
        self.plaintext.clear();
        match session.receive(bytes, &mut self.plaintext) {
            Ok(seen) => {
                if seen.established {
                    tracing::debug!(conn = conn.0, "TLS established");
                    core.conn_tls_established(conn);
                }
                if !self.plaintext.is_empty() {
                    core.conn_input(conn, &self.plaintext, now);
                }
                if seen.closed {
                    core.conn_closed(conn, "TLS: the peer ended the TLS session", now);
                }
            }
            Err(why) => {
                tracing::info!(conn = conn.0, error = %why, "TLS failed");
                self.fail(conn);
                core.conn_closed(conn, &why, now);
            }
        }
    }

    /// Marks a connection's TLS as failed, keeping the alert rustls has for the peer.
    fn fail(&mut self, conn: ConnId) {
        if let Some(Link::Up(mut session)) = self.links.remove(&conn) {
            let mut alert = Vec::new();
            session.take_output(&mut alert);
            self.links.insert(conn, Link::Failed(alert));
        }
    }
}
