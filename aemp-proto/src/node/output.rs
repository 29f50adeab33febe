//! What the node core asks its driver and its application to do.

use std::sync::Arc;

use crate::{Payload, Value};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);
    };
}

id_type!(
    /// Names one byte stream the driver carries for the core.
    ///
    /// ```
    /// use aemp_proto::node::ConnId;
    /// assert_ne!(ConnId(1), ConnId(2));
    /// ```
    ConnId
);
id_type!(
    /// Names one monitor set with [`NodeCore::monitor`](super::NodeCore::monitor).
    ///
    /// ```
    /// use aemp_proto::node::MonitorId;
    /// assert_eq!(MonitorId(3).0, 3);
    /// ```
    MonitorId
);
id_type!(
    /// Names one database query, answered by [`Event::DbReply`].
    ///
    /// ```
    /// use aemp_proto::node::RequestId;
    /// assert_eq!(RequestId(1), RequestId(1));
    /// ```
    RequestId
);
id_type!(
    /// Names one database watch set with [`NodeCore::db_mon`](super::NodeCore::db_mon).
    ///
    /// ```
    /// use aemp_proto::node::WatchId;
    /// assert_eq!(WatchId(1).0, 1);
    /// ```
    WatchId
);

/// What the node core asks of the transport that carries its byte streams, polled with
/// [`NodeCore::poll_transport`](super::NodeCore::poll_transport).
///
/// ```
/// use aemp_proto::node::{ConnId, TransportOutput};
/// let out = TransportOutput::Close { conn: ConnId(1) };
/// assert!(matches!(out, TransportOutput::Close { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum TransportOutput {
    /// Open a byte stream to `addr` (`host:port`) for `conn`; report the result with
    /// `conn_connected` or `conn_closed`.
    Connect {
        /// The connection the stream is for.
        conn: ConnId,
        /// Where to connect.
        addr: String,
    },
    /// Write these bytes, in order, to the stream of `conn`.
    Transmit {
        /// The connection.
        conn: ConnId,
        /// Everything that is pending for it.
        data: Vec<u8>,
    },
    /// Close the stream of `conn` (after writing what was transmitted before).
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// The stream of `conn` became an authenticated data connection: stop reading it, and
    /// once the bytes transmitted for it are written (the peer waits for them), hand it
    /// over with its state from [`NodeCore::take_data`](super::NodeCore::take_data).
    /// Nothing more comes for `conn`.
    Detach {
        /// The connection.
        conn: ConnId,
    },
}

/// What the node core reports to the application, polled with
/// [`NodeCore::poll_event`](super::NodeCore::poll_event).
///
/// ```
/// use aemp_proto::node::Event;
/// let ev = Event::NodeUp { node: "n".into() };
/// assert!(matches!(ev, Event::NodeUp { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Hand a message to the handler of local port `port`.
    Deliver {
        /// The local port name (without the node ID), shared with the core's table.
        port: Arc<str>,
        /// The message (without the port name).
        msg: Payload,
    },
    /// A local port died: its handlers can be dropped.
    PortDied {
        /// The local port name.
        port: String,
        /// The kill reason (empty for a normal kill).
        reason: Vec<Value>,
    },
    /// A callback monitor fired (it is removed).
    MonitorFired {
        /// The monitor.
        id: MonitorId,
        /// The reason the monitored port died.
        reason: Vec<Value>,
    },
    /// A remote node became reachable.
    NodeUp {
        /// Its node ID.
        node: String,
    },
    /// A remote node became unreachable.
    NodeDown {
        /// Its node ID.
        node: String,
        /// Why, e.g. `["transport_error", node, text]`.
        reason: Vec<Value>,
    },
    /// Run the init function `func` in the context of the newly created local port `port`
    /// (a remote or local `spawn`). If it is unknown or fails, kill the port with
    /// `["die", text]`.
    Spawn {
        /// The new local port name.
        port: String,
        /// The init function's name.
        func: String,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// A remote node asked to call the registered function `func`.
    Call {
        /// The function name.
        func: String,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// The answer to a database query.
    DbReply {
        /// The query.
        id: RequestId,
        /// A map (`db_family`), or an array (`db_keys`, `db_values`).
        result: Value,
    },
    /// A watched database family changed (the first one after `db_mon` carries everything).
    DbChange(Box<DbChange>),
    /// A data connection could not be opened
    /// ([`NodeCore::connect_data`](super::NodeCore::connect_data)), or one we accepted
    /// failed after its greeting named its ID.
    DataFailed {
        /// The data connection's ID.
        id: String,
        /// Why, e.g. `node: Connection refused`.
        reason: String,
        /// No address of the node is known (it has no listeners): the other node may
        /// open it instead.
        no_address: bool,
    },
}

/// One notification of a database watch: what changed, not the whole family (a watcher
/// that wants the family applies `set` and `deleted` to a copy that starts empty; the
/// first notification sets every entry).
#[derive(Debug, Clone, PartialEq)]
pub struct DbChange {
    /// The watch.
    pub watch: WatchId,
    /// The family.
    pub family: String,
    /// The new values of the added and changed keys, sorted by key.
    pub set: Vec<(String, Value)>,
    /// Keys that appeared.
    pub added: Vec<String>,
    /// Keys whose value changed.
    pub changed: Vec<String>,
    /// Keys that disappeared.
    pub deleted: Vec<String>,
}
