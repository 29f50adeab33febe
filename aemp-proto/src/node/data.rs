//! Data connections (`AnyEvent::MP::DataConn`): streams that greet with `aemp-dataconn`,
//! authenticate like a node's connection, and then carry raw bytes. The core opens them,
//! runs their handshake, and once they are authenticated hands each away whole (stream
//! and [`Connection`]) with [`TransportOutput::Detach`], after a last
//! [`TransportOutput::Transmit`] of its handshake bytes: from then on the application
//! reads and writes it without the core.
//!
//! Which two nodes a data connection joins, and what runs at each end, is agreed on by
//! messages the application layer sends (`AnyEvent::MP::DataConn::_expect`); the core
//! knows a data connection by its ID only.

use std::collections::BTreeMap;

use super::links::DataLink;
use super::{ConnId, Event, NodeCore, TransportOutput};
use crate::conn::{ConnError, Connection};

/// An authenticated data connection, taken from the core with [`NodeCore::take_data`].
///
/// ```
/// use aemp_proto::node::DataConnection;
/// fn describe(d: &DataConnection) -> String {
///     let side = if d.outgoing { "opened" } else { "accepted" };
///     format!("{} {side} with {}: TLS {}", d.id, d.node, d.connection.tls_running())
/// }
/// ```
#[derive(Debug)]
pub struct DataConnection {
    /// The ID both nodes know it by.
    pub id: String,
    /// The node at the other end.
    pub node: String,
    /// We opened it.
    pub outgoing: bool,
    /// Its state: in the raw data phase, with any bytes received or queued so far.
    pub connection: Connection,
}

/// An attempt to open a data connection: the addresses to try, one after the other.
#[derive(Debug, Default)]
pub(super) struct DataAttempt {
    node: String,
    addrs: Vec<String>,
    next_addr: usize,
    /// The link of the current try.
    conn: Option<ConnId>,
    /// A `g_find` is outstanding.
    looking_up: bool,
    last_error: Option<String>,
}

/// The core's data connections: attempts in progress, and authenticated ones waiting to be
/// taken by the driver.
#[derive(Debug, Default)]
pub(super) struct DataConns {
    attempts: BTreeMap<String, DataAttempt>,
    detached: BTreeMap<ConnId, DataConnection>,
}

impl DataConns {
    /// Bytes read from `conn` after it was detached, before it was taken: kept with the
    /// data received so far (nothing when `conn` is no detached data connection).
    pub(super) fn keep_input(&mut self, conn: ConnId, bytes: &[u8]) {
        if let Some(data) = self.detached.get_mut(&conn) {
            data.connection.handle_input(bytes);
        }
    }
}

impl NodeCore {
    /// Opens a data connection with ID `id` to `node`, at the addresses the directory has
    /// for it (asking the master if this node has no directory), one after the other until
    /// one authenticates. The outcome is a [`TransportOutput::Detach`] (then
    /// [`NodeCore::take_data`]) or an [`Event::DataFailed`]. There is no deadline here: the
    /// caller's timeout ends the attempt with [`NodeCore::cancel_data`].
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.become_global(now); // a global node answers lookups itself
    /// node.connect_data("other", "b@me", now);
    /// assert!(matches!(
    ///     node.poll_event(),
    ///     Some(Event::DataFailed { id, no_address: true, .. }) if id == "b@me"
    /// ));
    /// # }
    /// ```
    pub fn connect_data(&mut self, node: &str, id: &str, now: std::time::Instant) {
        self.advance(now);
        let attempt = DataAttempt {
            node: node.to_owned(),
            ..DataAttempt::default()
        };
        self.data.attempts.insert(id.to_owned(), attempt);
        match self.directory_lookup(node) {
            Some(addrs) => self.data_addresses(id, addrs),
            None => {
                if let Some(a) = self.data.attempts.get_mut(id) {
                    a.looking_up = true;
                }
                self.request_find(node);
            }
        }
    }

    /// Ends the attempt to open data connection `id` (its timeout passed): a stream being
    /// opened or authenticated for it is closed, and nothing more is reported about it.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// node.connect_data("other", "b@me", now);
    /// node.cancel_data("b@me", now);
    /// assert_eq!(node.poll_event(), None);
    /// # }
    /// ```
    pub fn cancel_data(&mut self, id: &str, now: std::time::Instant) {
        self.advance(now);
        if let Some(conn) = self.data.attempts.remove(id).and_then(|a| a.conn) {
            self.refuse(conn, ConnError::Local("data connection timed out".into()));
        }
        self.data.detached.retain(|_, d| d.id != id);
    }

    /// Takes the data connection the core handed away with [`TransportOutput::Detach`] for
    /// `conn`; the driver takes the stream along with it.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{ConnId, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", Some(b"s".to_vec()))), &[0; 32], now);
    /// assert!(node.take_data(ConnId(1)).is_none());
    /// # }
    /// ```
    pub fn take_data(&mut self, conn: ConnId) -> Option<DataConnection> {
        self.data.detached.remove(&conn)
    }

    /// The addresses of the node of attempts waiting for a lookup arrived.
    pub(super) fn data_addresses_found(&mut self, node: &str, addrs: &[String]) {
        let waiting: Vec<String> = self
            .data
            .attempts
            .iter()
            .filter(|(_, a)| a.looking_up && a.node == node)
            .map(|(id, _)| id.clone())
            .collect();
        for id in waiting {
            self.data_addresses(&id, addrs.to_vec());
        }
    }

    fn data_addresses(&mut self, id: &str, addrs: Vec<String>) {
        let addrs = self.cfg.usable_addresses(addrs);
        let Some(attempt) = self.data.attempts.get_mut(id) else {
            return;
        };
        attempt.looking_up = false;
        if addrs.is_empty() {
            let why = format!("{}: no listeners found", attempt.node);
            self.data_failed(id, why, true);
        } else {
            attempt.addrs = addrs;
            self.next_data_try(id);
        }
    }

    /// Opens a stream to the attempt's next address, or gives up with the last error.
    fn next_data_try(&mut self, id: &str) {
        let Some(attempt) = self.data.attempts.get_mut(id) else {
            return;
        };
        let Some(addr) = attempt.addrs.get(attempt.next_addr).cloned() else {
            let why = attempt.last_error.take().unwrap_or_default();
            let why = format!("{}: {why}", attempt.node);
            return self.data_failed(id, why, false);
        };
        attempt.next_addr += 1;
        let expected = attempt.node.clone();
        let mut nonce = [0u8; 66];
        self.rng.fill(&mut nonce);
        let connection = Connection::new_data(self.cfg.conn.clone(), id, &nonce, self.now);
        let data = DataLink {
            id: id.to_owned(),
            expected: Some(expected),
            remote: None,
        };
        let conn = self.open_data_link(&addr, connection, data);
        if let Some(attempt) = self.data.attempts.get_mut(id) {
            attempt.conn = Some(conn);
        }
    }

    /// A data link's handshake is over: hand it away.
    pub(super) fn data_link_authenticated(&mut self, conn: ConnId, link: DataLink) {
        self.data.attempts.remove(&link.id);
        let Some(mut l) = self.links.remove(&conn) else {
            return;
        };
        if l.handshaking {
            self.pending_handshakes -= 1;
        }
        // The last bytes of the handshake go out before the stream is handed away.
        let mut data = Vec::new();
        if l.conn.poll_transmit(&mut data) {
            self.transports
                .push_back(TransportOutput::Transmit { conn, data });
        }
        let node = link.remote.unwrap_or_default();
        tracing::debug!(conn = conn.0, id = %link.id, %node, "data connection authenticated");
        self.data.detached.insert(
            conn,
            DataConnection {
                id: link.id,
                node,
                outgoing: l.outgoing,
                connection: l.conn,
            },
        );
        self.transports.push_back(TransportOutput::Detach { conn });
    }

    /// A data link closed before it was handed away: ours tries the next address, one we
    /// accepted reports the failure (the application tells the node that asked for it).
    pub(super) fn data_link_closed(&mut self, conn: ConnId, link: DataLink, err: &ConnError) {
        let why = match err {
            ConnError::Transport(why) => why.clone(),
            other => other.to_string(),
        };
        tracing::debug!(conn = conn.0, id = %link.id, error = %why, "data connection attempt ended");
        match self.data.attempts.get_mut(&link.id) {
            Some(attempt) if attempt.conn == Some(conn) => {
                attempt.conn = None;
                attempt.last_error = Some(why);
                self.next_data_try(&link.id);
            }
            Some(_) => {}
            None if link.expected.is_none() => self.data_failed(&link.id, why, false),
            None => {}
        }
    }

    fn data_failed(&mut self, id: &str, reason: String, no_address: bool) {
        self.data.attempts.remove(id);
        self.events.push_back(Event::DataFailed {
            id: id.to_owned(),
            reason,
            no_address,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::conn::{Channel, ConnConfig, ConnEvent};
    use crate::node::NodeConfig;

    /// Bytes read from a data connection's stream after the core handed it away (the
    /// rest of the read that ended its handshake) stay with the data connection.
    #[test]
    fn bytes_after_the_detach_are_kept_for_the_data_stream() {
        let now = Instant::now();
        let secret = Some(b"s".to_vec());
        let mut core = NodeCore::new(
            NodeConfig::new(ConnConfig::new("b", secret.clone())),
            &[0; 32],
            now,
        );
        let conn = core.accept(Channel::Plain, now);
        let mut remote =
            Connection::new_data(Arc::new(ConnConfig::new("a", secret)), "x@a", &[1; 66], now);
        let mut detached = false;
        while !detached {
            let mut bytes = Vec::new();
            if remote.poll_transmit(&mut bytes) {
                core.conn_input(conn, &bytes, now);
            }
            while let Some(out) = core.poll_transport() {
                match out {
                    TransportOutput::Transmit { data, .. } => remote.handle_input(&data),
                    TransportOutput::Detach { .. } => detached = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        while let Some(event) = remote.poll_event() {
            assert!(!matches!(event, ConnEvent::Closed(_)), "{event:?}");
        }
        assert!(remote.carries_data());
        assert!(remote.send_data(b"first bytes"));
        let mut bytes = Vec::new();
        assert!(remote.poll_transmit(&mut bytes));
        core.conn_input(conn, &bytes, now);
        let mut data = core.take_data(conn).expect("the detached data connection");
        let mut read = [0; 32];
        let n = data.connection.read_data(&mut read);
        assert_eq!(&read[..n], b"first bytes");
    }
}
