//! The errors of this crate, one enum per kind of operation.

use std::io;
use std::time::Duration;

use aemp_proto::ValueError;

use crate::{PortId, Reason};

/// Why a node operation failed.
///
/// ```
/// use aemp_node::{Error, PortId};
/// let e = Error::NotLocal(PortId::from("other#p"));
/// assert!(e.to_string().contains("other#p"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message (or value) could not be turned into AEMP values.
    #[error("cannot encode the message as AEMP values: {0}")]
    Encode(#[from] ValueError),
    /// The operation needs a port of this node.
    #[error("port {0} is not a port of this node")]
    NotLocal(PortId),
    /// The local port does not exist (any more).
    #[error("port {0} does not exist (it was killed or never created)")]
    NoSuchPort(PortId),
    /// The port is an [`AsyncPort`](crate::AsyncPort): it takes no handlers.
    #[error("port {0} is an async port: receive with AsyncPort::recv instead of handlers")]
    NotCallbackPort(PortId),
    /// The node has been shut down.
    #[error("the node has been shut down")]
    Stopped,
}

/// Why a node could not be started.
///
/// ```
/// let err = aemp_node::Node::builder().norc().node_id("x").binds(["127.0.0.1:0"]).start().unwrap_err();
/// assert!(err.to_string().contains("secret"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration file or a configured value is invalid.
    #[error("configuration: {0}")]
    Config(#[from] aemp_config::ConfigError),
    /// The configuration cannot be used for handshakes (e.g. no secret and no TLS).
    #[error("connection settings: {0}")]
    Conn(#[from] aemp_proto::ConfigError),
    /// A configured value is not usable by this implementation.
    #[error("setting {key}: {reason}")]
    Setting {
        /// The configuration key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A bind address could not be listened on.
    #[error("cannot listen on {bind}: {source}")]
    Listen {
        /// The bind as configured.
        bind: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The runtime could not run the node's driver.
    #[error("cannot start the node's driver: {0}")]
    Runtime(#[source] io::Error),
}

/// Why a [`cal`](crate::Node::cal) got no reply.
///
/// ```
/// use std::time::Duration;
/// let e = aemp_node::CalError::Timeout(Duration::from_secs(2));
/// assert!(e.to_string().contains("2s"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalError {
    /// The request could not be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(#[from] ValueError),
    /// No reply came in time.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The called port died (or its node became unreachable) before replying.
    #[error("the called port died before replying: {0}")]
    PortDied(Reason),
    /// The node was shut down.
    #[error("the node has been shut down")]
    Stopped,
}

/// Why [`Node::connect_data`](crate::Node::connect_data) gave no stream.
///
/// ```
/// let e = aemp_node::DataConnError::Failed(aemp_node::Reason::new("AnyEvent::MP::DataConn", "n: no listeners found"));
/// assert!(e.to_string().contains("no listeners found"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataConnError {
    /// The arguments could not be encoded.
    #[error("cannot encode the arguments: {0}")]
    Encode(#[from] ValueError),
    /// The attempt failed: the reason its port was killed with, as in the original
    /// (`AnyEvent::MP::DataConn => why`: a timeout, no listeners, a refused stream, ...).
    #[error("data connection failed: {0}")]
    Failed(Reason),
    /// The node was shut down.
    #[error("the node has been shut down")]
    Stopped,
}

/// Why an [`AsyncPort`](crate::AsyncPort) receive returned no message.
///
/// ```
/// let e = aemp_node::RecvError::PortDied(aemp_node::Reason::new("die", "x"));
/// assert!(e.to_string().contains("die x"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// No matching message came in time.
    #[error("no matching message within {0:?}")]
    Timeout(Duration),
    /// The port was killed and every queued message that could match is received.
    #[error("the port died: {0}")]
    PortDied(Reason),
}
