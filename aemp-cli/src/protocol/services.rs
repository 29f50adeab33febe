//! The services compiled into `aemp run`, started by name from the `services` setting.

use aemp_node::{Node, NodeBuilder};
use aemp_proto::Value;

/// The database family the echo service registers its port in.
const ECHO_FAMILY: &str = "aemp_echo";

/// The log catcher's name as the original spells it, accepted as well.
const ORIGINAL_LOG_CATCHER: &str = "AnyEvent::MP::LogCatcher::catch";

/// Registers every service with the builder (and the echo service's data function, which
/// must be known before the node starts: every `aemp run` node answers it).
pub(super) fn register(builder: NodeBuilder) -> NodeBuilder {
    builder
        .register_function("echo", |node, _args| start_echo(node))
        .register_data_function(aemp_node::DATA_ECHO_FUNCTION, aemp_node::data_echo)
        .register_function("log_catcher", start_log_catcher)
        .register_function(ORIGINAL_LOG_CATCHER, start_log_catcher)
}

/// The log catcher: `["log_catcher", LEVEL]` prints the log messages of every other node
/// at or below LEVEL (the original's 1..9; 9 when not given), each prefixed with its
/// node ID, at the matching level of this node's log.
fn start_log_catcher(node: &Node, args: Vec<Value>) {
    let level = args
        .first()
        .and_then(Value::as_i64)
        .map_or(9, |n| n.clamp(1, 9) as u8);
    let catch = node.catch_logs(level, |record| {
        match aemp_node::logs::tracing_level(record.level.into()) {
            tracing::Level::ERROR => tracing::error!(target: "aemp::log_catcher", "{record}"),
            tracing::Level::WARN => tracing::warn!(target: "aemp::log_catcher", "{record}"),
            tracing::Level::INFO => tracing::info!(target: "aemp::log_catcher", "{record}"),
            tracing::Level::DEBUG => tracing::debug!(target: "aemp::log_catcher", "{record}"),
            tracing::Level::TRACE => tracing::trace!(target: "aemp::log_catcher", "{record}"),
        }
    });
    println!("log catcher catching every node's messages up to level {level}");
    // A service lasts as long as the node.
    std::mem::forget(catch);
}

/// The echo service: a port registered in family `aemp_echo` that answers a message
/// `(m1, ..., mk, R)` with `snd(R, m1, ..., mk)`, so `aemp cal` works against it.
fn start_echo(node: &Node) {
    let n = node.clone();
    let port = node.port_with(move |msg| {
        let mut values = msg.into_vec();
        match values.pop() {
            Some(Value::Str(reply)) => n.snd_values(&reply.as_str().into(), values),
            _ => tracing::warn!("echo: message without a reply port ignored"),
        }
    });
    match node.db_reg(ECHO_FAMILY, &port, Value::Null) {
        Ok(guard) => guard.detach(),
        Err(e) => tracing::error!(error = %e, "echo: cannot register the port"),
    }
    println!("echo service on port {port}");
}
