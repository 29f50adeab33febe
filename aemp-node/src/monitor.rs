//! Monitors on ports (`mon` in its three forms) and on nodes (`mon_nodes`).

use std::sync::{Arc, Mutex};

use aemp_proto::node::{MonitorAction, MonitorId};
use aemp_proto::to_values;
use serde::Serialize;

use crate::guard::{Guard, MonitorGuard, NodeMonitorGuard, NodeWatcher, PortMonitor};
use crate::shared::lock;
use crate::{Error, Node, NodeId, PortId, Reason};

/// A node came up or went down, as [`Node::mon_nodes`] reports it.
///
/// ```
/// use aemp_node::{NodeEvent, NodeId};
/// let e = NodeEvent::Up(NodeId::from("n"));
/// assert_eq!(e.node().as_str(), "n");
/// assert!(e.is_up());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A connection to the node was established.
    Up(NodeId),
    /// The connection is gone, for this reason (`["transport_error", node, text]`).
    Down(NodeId, Reason),
}

impl NodeEvent {
    /// The node concerned.
    ///
    /// ```
    /// # use aemp_node::{NodeEvent, NodeId, Reason};
    /// assert_eq!(NodeEvent::Down("n".into(), Reason::normal()).node().as_str(), "n");
    /// ```
    pub fn node(&self) -> &NodeId {
        match self {
            NodeEvent::Up(n) | NodeEvent::Down(n, _) => n,
        }
    }

    /// Whether the node came up.
    ///
    /// ```
    /// # use aemp_node::{NodeEvent, Reason};
    /// assert!(!NodeEvent::Down("n".into(), Reason::normal()).is_up());
    /// ```
    pub fn is_up(&self) -> bool {
        matches!(self, NodeEvent::Up(_))
    }
}

impl Node {
    /// Monitors a port, local or remote: `f` runs once, with the kill reason, when the port
    /// dies or its node becomes unreachable (`["transport_error", node, text]`). A port that
    /// does not exist fires at once with `["no_such_port", ...]`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use std::time::Duration;
    /// let port = node.port_with(|_msg| -> Result<(), String> { panic!("oops") });
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _guard = node.mon(&port, move |reason| tx.send(reason).unwrap());
    /// node.snd(&port, ("boom",))?;
    /// let reason = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    /// assert_eq!((reason.code(), reason.text()), (Some("die"), Some("oops")));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "monitor")]
    pub fn mon(&self, port: &PortId, f: impl FnOnce(Reason) + Send + 'static) -> MonitorGuard {
        let now = self.now();
        let mut core = self.shared.core();
        let id = core.monitor(port.as_str(), MonitorAction::Callback, now);
        lock(&self.shared.reg).monitors.insert(id, Box::new(f));
        drop(core);
        self.shared.wake.wake();
        self.guard(id)
    }

    /// Links `linked` to `port` (the original's `mon $port, $linked`): when `port` dies with
    /// a non-empty reason, `linked` is killed with the same reason. A normal kill does not
    /// propagate.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use aemp_node::Reason;
    /// let (a, b) = (node.port(), node.port());
    /// node.mon_link(&a, &b).detach();
    /// node.kil(&a, Reason::new("crash", "boom"));
    /// assert!(!node.port_exists(&b));
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "link")]
    pub fn mon_link(&self, port: &PortId, linked: &PortId) -> MonitorGuard {
        let id = self.with_core(|core, now| {
            core.monitor(port.as_str(), MonitorAction::Kill(linked.to_string()), now)
        });
        self.guard(id)
    }

    /// Monitors `port` by message: when it dies, `msg` followed by the kill reason's values
    /// is sent to `target`.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use aemp_node::Reason;
    /// use std::time::Duration;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let watcher = node.port();
    /// node.rcv_tag(&watcher, "gone", move |msg| tx.send(msg.into_vec()).unwrap())?;
    /// let p = node.port();
    /// node.mon_snd(&p, &watcher, ("gone", "p"))?.detach();
    /// node.kil(&p, Reason::new("bye", "now"));
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().len(), 3); // "p", "bye", "now"
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mon_snd(
        &self,
        port: &PortId,
        target: &PortId,
        msg: impl Serialize,
    ) -> Result<MonitorGuard, Error> {
        let msg = to_values(&msg)?;
        let id = self.with_core(|core, now| {
            core.monitor(
                port.as_str(),
                MonitorAction::Send(target.to_string(), msg),
                now,
            )
        });
        Ok(self.guard(id))
    }

    fn guard(&self, id: MonitorId) -> MonitorGuard {
        Guard::new(self, PortMonitor(id))
    }

    /// Watches nodes coming up and going down (the original's `mon_nodes`).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// use aemp_node::NodeEvent;
    /// let guard = node.mon_nodes(|event| match event {
    ///     NodeEvent::Up(n) => println!("{n} is up"),
    ///     NodeEvent::Down(n, why) => println!("{n} is down: {why}"),
    ///     _ => {} // events of later versions
    /// });
    /// # drop(guard);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mon_nodes(&self, f: impl FnMut(&NodeEvent) + Send + 'static) -> NodeMonitorGuard {
        let mut reg = lock(&self.shared.reg);
        reg.next_id += 1;
        let id = reg.next_id;
        reg.node_watchers.insert(id, Arc::new(Mutex::new(f)));
        drop(reg);
        Guard::new(self, NodeWatcher(id))
    }
}
