//! Node IDs and port IDs: `NODE#PORT`.

/// Splits a port ID `node#name` into its node ID and port name.
///
/// A port ID without `#` names a node port (the empty port name).
///
/// ```
/// use aemp_proto::node::split_port_id;
/// assert_eq!(split_port_id("seed#abc"), ("seed", "abc"));
/// assert_eq!(split_port_id("aemp/h/x#"), ("aemp/h/x", ""));
/// assert_eq!(split_port_id("seed"), ("seed", ""));
/// ```
pub fn split_port_id(port_id: &str) -> (&str, &str) {
    match port_id.rfind('#') {
        Some(i) => (&port_id[..i], &port_id[i + 1..]),
        None => (port_id, ""),
    }
}

/// Joins a node ID and a port name into a port ID.
///
/// ```
/// use aemp_proto::node::port_id;
/// assert_eq!(port_id("seed", "abc"), "seed#abc");
/// ```
pub fn port_id(node: &str, name: &str) -> String {
    let mut s = String::with_capacity(node.len() + 1 + name.len());
    s.push_str(node);
    s.push('#');
    s.push_str(name);
    s
}
