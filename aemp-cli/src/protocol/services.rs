//! The services compiled into `aemp run`, started by name from the `services` setting.

use aemp_node::{Node, NodeBuilder};
use aemp_proto::Value;

/// The database family the echo service registers its port in.
const ECHO_FAMILY: &str = "aemp_echo";

/// Registers every service with the builder.
pub(super) fn register(builder: NodeBuilder) -> NodeBuilder {
    builder.register_function("echo", |node, _args| start_echo(node))
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
