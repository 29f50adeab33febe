//! Node IDs and port IDs as types of their own.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use aemp_proto::node::split_port_id;
use aemp_proto::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The ID of a node, e.g. `seed` or `anon/Zq3k9x`.
///
/// It dereferences to `str` and travels in messages as a string.
///
/// ```
/// use aemp_node::NodeId;
/// let id = NodeId::from("seed");
/// assert_eq!(&*id, "seed");
/// assert_eq!(id.to_string(), "seed");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// The ID as text.
    ///
    /// ```
    /// assert_eq!(aemp_node::NodeId::from("a").as_str(), "a");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId(s.into())
    }
}

impl From<String> for NodeId {
    fn from(s: String) -> Self {
        NodeId(s.into())
    }
}

impl Deref for NodeId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for NodeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({:?})", &*self.0)
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(NodeId::from)
    }
}

/// The ID of a port: `NODEID#NAME`. The node port (the node itself) has the empty name.
///
/// It travels in messages as a string, so it can be part of any message and decoded from
/// one.
///
/// ```
/// use aemp_node::PortId;
/// let p: PortId = "seed#a1".parse().unwrap();
/// assert_eq!(p.node(), "seed");
/// assert_eq!(p.name(), "a1");
/// assert_eq!(PortId::new("seed", "a1"), p);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId {
    id: Arc<str>,
    /// Where the node ID ends: the last `#`, or the end for a node port without one.
    node_end: usize,
}

impl PortId {
    fn from_id(id: Arc<str>) -> PortId {
        let node_end = split_port_id(&id).0.len();
        PortId { id, node_end }
    }

    /// The port `name` on node `node`.
    ///
    /// ```
    /// assert_eq!(aemp_node::PortId::new("n", "p").as_str(), "n#p");
    /// ```
    pub fn new(node: &str, name: &str) -> PortId {
        PortId::from_id(aemp_proto::node::port_id(node, name).into())
    }

    /// The ID of the node the port lives on.
    ///
    /// ```
    /// assert_eq!(aemp_node::PortId::from("a/b#c").node(), "a/b");
    /// ```
    #[doc(alias = "node_of")]
    pub fn node(&self) -> &str {
        &self.id[..self.node_end]
    }

    /// The port's name on its node.
    ///
    /// ```
    /// assert_eq!(aemp_node::PortId::from("a#c").name(), "c");
    /// ```
    pub fn name(&self) -> &str {
        self.id.get(self.node_end + 1..).unwrap_or_default()
    }

    /// The whole ID as text.
    ///
    /// ```
    /// assert_eq!(aemp_node::PortId::from("a#c").as_str(), "a#c");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

impl From<&str> for PortId {
    /// Takes text as a port ID; text without `#` names a node port.
    fn from(s: &str) -> Self {
        PortId::from_id(s.into())
    }
}

impl From<String> for PortId {
    fn from(s: String) -> Self {
        PortId::from_id(s.into())
    }
}

impl FromStr for PortId {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(PortId::from(s))
    }
}

impl From<PortId> for Value {
    fn from(p: PortId) -> Value {
        Value::from(p.as_str())
    }
}

impl From<&PortId> for Value {
    fn from(p: &PortId) -> Value {
        Value::from(p.as_str())
    }
}

impl AsRef<str> for PortId {
    fn as_ref(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl fmt::Debug for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortId({:?})", self.id)
    }
}

impl Serialize for PortId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.id)
    }
}

impl<'de> Deserialize<'de> for PortId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(PortId::from)
    }
}
