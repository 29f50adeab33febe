//! The TCP transport of AEMP nodes.
//!
//! [`Tcp`] owns the listeners and every stream of one node and is polled by the node's
//! driver: it accepts, connects (resolving host names off the driver's thread), reads into
//! one reused buffer, and writes everything queued for a connection at once, keeping what a
//! partial write left over. It knows sockets and bytes, not the protocol: the driver feeds
//! what it reports into `aemp_proto::node::NodeCore` and hands it what the core wants
//! written.
//!
//! Backpressure: the bytes queued towards one peer are bounded
//! ([`TcpOptions::max_queued_bytes`], 64 MiB by default). [`Tcp::transmit`] refuses data
//! beyond that with [`Overflow`]; the driver then closes the connection, which counts as a
//! connection failure (monitors on that node fire), as the AEMP guarantee requires.
//!
//! ```
//! use aemp_runtime::AsyncIo;
//! use aemp_transport_tcp::{listen, Tcp, TcpOptions};
//!
//! let mut tcp = Tcp::new(AsyncIo, TcpOptions::default());
//! let addr = tcp.add_listener(listen("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
//! assert_ne!(addr.port(), 0);
//! assert!(tcp.is_idle());
//! ```
#![warn(missing_docs, unreachable_pub)]

mod conns;
mod host;
mod outbuf;
mod resolve;

pub use conns::{Event, Overflow, Tcp, TcpOptions};
pub use host::{advertised_addresses, hostname, listen};
pub use resolve::resolve;
