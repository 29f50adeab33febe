//! AEMP nodes for Rust: the API of Perl's AnyEvent::MP 2.x, on the wire-compatible core of
//! [`aemp_proto`].
//!
//! A [`Node`] has ports ([`PortId`], `NODE#NAME`) that receive messages (lists of
//! [`Value`]s) through handlers ([`Node::rcv`], [`Node::rcv_tag`]) or a mailbox
//! ([`AsyncPort`]). Any port can be sent to ([`Node::snd`]), killed ([`Node::kil`]) and
//! monitored ([`Node::mon`], [`Node::mon_link`], [`Node::mon_snd`]), wherever it lives;
//! nodes find each other through seeds and a global database ([`Node::db_set`],
//! [`Node::db_mon`]), start ports on each other ([`Node::spawn`]) and make requests
//! ([`Node::cal`]). Names are the original's, with rustdoc aliases (`send`, `kill`,
//! `monitor`) so both kinds of users find them.
//!
//! The node runs on a driver (by default a thread of its own with async-io; features
//! `tokio` and `smol` run it as a task of those runtimes) that owns every socket and calls
//! the handlers; a handler that panics or returns `Err` kills its port with
//! `["die", text]`, which monitors see.
//!
//! Transports: TCP (feature `tcp`, on by default; what the original speaks) and QUIC
//! between Rust nodes (feature `quic`): binds and addresses written `quic:HOST:PORT`. A node
//! advertises its TCP addresses first and tries the addresses of its own transports first;
//! see `aemp_transport_quic` for what QUIC authenticates and encrypts.
//!
//! ```
//! use aemp_node::{Node, Reason};
//! use std::time::Duration;
//!
//! // A seed node: its seeds include its own address, so it runs the global database.
//! let l = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let seed_addr = l.local_addr()?.to_string();
//! let seed = Node::builder().norc().secret("s3cr3t").node_id("seed").listener(l)
//!     .seeds([seed_addr.as_str()]).start()?;
//!
//! // A server registers a port under a well-known family ...
//! let s = seed.clone();
//! let server = seed.port_with(move |msg| {
//!     let (text, reply): (String, aemp_node::PortId) = msg.decode().unwrap();
//!     s.snd(&reply, (format!("you said {text}"),)).unwrap();
//! });
//! seed.db_set("eg_server", server.as_str(), ())?.detach();
//!
//! // ... and another node finds it with db_mon, monitors it and calls it.
//! let client = Node::builder().norc().secret("s3cr3t").binds(["127.0.0.1:0"])
//!     .seeds([seed_addr.as_str()]).start()?;
//! let (tx, rx) = std::sync::mpsc::channel();
//! let _watch = client.db_mon("eg_server", move |change| {
//!     if let Some(port) = change.family.keys().next() {
//!         let _ = tx.send(aemp_node::PortId::from(port.as_str()));
//!     }
//! });
//! let found = rx.recv_timeout(Duration::from_secs(10))?;
//! assert_eq!(found, server);
//! let (died_tx, died_rx) = std::sync::mpsc::channel();
//! client.mon(&found, move |reason| died_tx.send(reason).unwrap()).detach();
//! let reply = futures_lite::future::block_on(client.cal(&found, ("hi",), Some(Duration::from_secs(10))))?;
//! assert_eq!(*reply, [aemp_node::Value::from("you said hi")]);
//!
//! seed.kil(&server, Reason::new("bye", "server closed"));
//! assert_eq!(died_rx.recv_timeout(Duration::from_secs(10))?.code(), Some("bye"));
//! client.shutdown();
//! seed.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod async_port;
mod builder;
mod config;
mod context;
mod dataconn;
mod db;
mod dispatch;
mod driver;
mod error;
mod flow;
mod guard;
mod ids;
mod local;
pub mod logs;
mod message;
mod monitor;
mod node;
mod outbox;
mod ports;
mod remote;
mod services;
mod shared;
mod spawn;
mod stats;
mod tls;
mod transports;

pub use aemp_proto::node::{CoreStats, PeerState, PeerStats};
pub use async_port::AsyncPort;
pub use builder::NodeBuilder;
pub use context::{self_port, InPortContext};
pub use dataconn::{data_echo, DataStream, DATA_ECHO_FUNCTION};
pub use db::{DbChange, DbFamily};
pub use error::{CalError, DataConnError, Error, RecvError, StartError};
pub use guard::{
    DbEntry, DbGuard, DbWatch, Guard, MonitorGuard, NodeMonitorGuard, NodeWatcher, PortMonitor,
    Undo, WatchGuard,
};
pub use ids::{NodeId, PortId};
pub use message::{Message, Outcome, Reason};
pub use monitor::NodeEvent;
pub use node::{Node, TimerHandle};
pub use stats::{NodeStats, STATS_FUNCTION};

pub use aemp_config::{Overrides, Precedence};
pub use aemp_proto::node::Limits;
pub use aemp_proto::{Framing, Value};
pub use aemp_runtime::Runtime;
