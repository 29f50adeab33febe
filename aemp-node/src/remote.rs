//! Requests to other nodes' node ports that need no port of ours: the original Kernel's
//! `snd_to_func` and `snd_on`.

use serde::Serialize;

use crate::{Error, Node, PortId, Value};

impl Node {
    /// Has `node` run its function `func` with `args` (a sequence), as the original's
    /// `snd_to_func`: the packet `["", func, args...]` to the node's port. A Rust node runs
    /// the function registered under that name
    /// ([`NodeBuilder::register_function`](crate::NodeBuilder::register_function)), a Perl
    /// node any fully qualified Perl function; nothing comes back, failures are logged
    /// there. Refused by nodes in `secure` mode.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"])
    /// #     .register_function("greet", |_, args| println!("greeted with {args:?}")).start()?;
    /// node.snd_to_func(node.node_id().as_str(), "greet", ("hello", 1))?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snd_to_func(
        &self,
        node: impl AsRef<str>,
        func: &str,
        args: impl Serialize,
    ) -> Result<(), Error> {
        self.snd_to_node_port(node.as_ref(), vec![Value::from(func)], args)
    }

    /// Has `node` send `msg` (a sequence) to `port`, as the original's `snd_on`: the
    /// packet `["", "snd", port, msg...]` to the node's port. With a port of our own it
    /// is a round trip through `node` that arrives after everything sent to `node` before.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let port = node.port();
    /// node.snd_on(node.node_id().as_str(), &port, ("back", 1))?;
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snd_on(
        &self,
        node: impl AsRef<str>,
        port: &PortId,
        msg: impl Serialize,
    ) -> Result<(), Error> {
        let head = vec![Value::from("snd"), Value::from(port)];
        self.snd_to_node_port(node.as_ref(), head, msg)
    }

    /// Sends `head` followed by the values of `rest` (a sequence) to `node`'s node port.
    pub(crate) fn snd_to_node_port(
        &self,
        node: &str,
        mut head: Vec<Value>,
        rest: impl Serialize,
    ) -> Result<(), Error> {
        head.extend(aemp_proto::to_values(&rest)?);
        self.send_owned(&PortId::from(node), head)
    }
}
