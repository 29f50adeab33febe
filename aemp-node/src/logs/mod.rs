//! Log catching, the original's `AnyEvent::MP::LogCatcher`: one node collects the log
//! messages of every node in the network.
//!
//! - **Forwarding** ([`layer`]): add the layer to the process's `tracing` subscriber and
//!   every node of the process answers the catchers' `AnyEvent::MP::LogCatcher::connect`
//!   by sending `[time, context, level, message]` for each event at or below the level
//!   asked for (the target is the context, levels on the original's 1..9 scale, see
//!   [`original_level`]), until the catcher's port dies. Messages wait in a bounded
//!   buffer per catcher ([`FORWARD_BUFFER`]); when a catcher is slow the rest are dropped
//!   and counted, and the count is sent once there is room: logging never blocks.
//! - **Catching** ([`Node::catch_logs`](crate::Node::catch_logs)): watches the node
//!   family `'l` and asks every other node to forward to a port of ours, as the
//!   original's `catch` does, so Perl and Rust nodes are caught alike.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_subscriber::fmt::layer())
//!     .with(aemp_node::logs::layer());
//! # drop(subscriber);
//! ```

mod catch;
mod forward;
mod level;

pub use catch::{Catching, LogCatch, LogRecord};
pub(crate) use forward::connect;
pub use forward::{layer, FORWARD_BUFFER};
pub use level::{original_level, tracing_level};

/// The function catchers call on every node (the original's name).
pub const CONNECT_FUNCTION: &str = "AnyEvent::MP::LogCatcher::connect";

/// Events from targets containing this are never forwarded: they are what a catcher
/// prints of other nodes' messages, and forwarding them would echo them back.
pub const CATCHER_TARGET_MARK: &str = "log_catcher";
