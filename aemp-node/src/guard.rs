//! One guard type for everything a node sets up for its caller and undoes when the guard
//! is dropped: monitors, node watchers, database entries and watches, log catching.

use aemp_proto::node::{MonitorId, WatchId};

use crate::shared::lock;
use crate::Node;

/// What a [`Guard`] undoes when it is dropped (sealed: the kinds are this crate's).
pub trait Undo: sealed::Sealed + Send {
    /// Undoes it on `node`.
    #[doc(hidden)]
    fn undo(self, node: &Node);
}

mod sealed {
    pub trait Sealed {}
}

/// Something the node set up for the caller, undone when the guard is dropped;
/// [`detach`](Guard::detach) keeps it instead (a monitor until it fires, a database entry
/// until the node goes down or, with `db_reg`, until its port dies, a watch or a catch
/// for the life of the node).
///
/// ```
/// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
/// let p = node.port();
/// let guard = node.mon(&p, |reason| println!("{reason}")); // a MonitorGuard
/// drop(guard); // the monitor is gone
/// node.mon(&p, |reason| println!("{reason}")).detach(); // this one stays
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard undoes it at once; call .detach() to keep it"]
pub struct Guard<T: Undo> {
    node: Node,
    held: Option<T>,
}

impl<T: Undo> Guard<T> {
    pub(crate) fn new(node: &Node, held: T) -> Guard<T> {
        Guard {
            node: node.clone(),
            held: Some(held),
        }
    }

    /// Keeps what the guard holds instead of undoing it.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.db_set("eg_family", "key", 1)?.detach();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "forget")]
    pub fn detach(mut self) {
        self.held = None;
    }
}

impl<T: Undo> Drop for Guard<T> {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            held.undo(&self.node);
        }
    }
}

impl<T: Undo + std::fmt::Debug> std::fmt::Debug for Guard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("held", &self.held).finish()
    }
}

/// A monitor set with [`Node::mon`], [`Node::mon_link`] or [`Node::mon_snd`].
pub type MonitorGuard = Guard<PortMonitor>;
/// A node watcher set with [`Node::mon_nodes`].
pub type NodeMonitorGuard = Guard<NodeWatcher>;
/// An entry set with [`Node::db_set`] or [`Node::db_reg`].
pub type DbGuard = Guard<DbEntry>;
/// A family watch set with [`Node::db_mon`].
pub type WatchGuard = Guard<DbWatch>;

/// A port monitor (see [`MonitorGuard`]).
#[derive(Debug)]
pub struct PortMonitor(pub(crate) MonitorId);

/// A node watcher (see [`NodeMonitorGuard`]).
#[derive(Debug)]
pub struct NodeWatcher(pub(crate) u64);

/// A database entry: family and key (see [`DbGuard`]).
#[derive(Debug)]
pub struct DbEntry(pub(crate) String, pub(crate) String);

/// A database family watch (see [`WatchGuard`]).
#[derive(Debug)]
pub struct DbWatch(pub(crate) WatchId);

impl sealed::Sealed for PortMonitor {}
impl Undo for PortMonitor {
    fn undo(self, node: &Node) {
        node.with_core(|core, now| {
            core.unmonitor(self.0, now);
            lock(&node.shared.reg).monitors.remove(&self.0);
        });
    }
}

impl sealed::Sealed for NodeWatcher {}
impl Undo for NodeWatcher {
    fn undo(self, node: &Node) {
        lock(&node.shared.reg).node_watchers.remove(&self.0);
    }
}

impl sealed::Sealed for DbEntry {}
impl Undo for DbEntry {
    fn undo(self, node: &Node) {
        node.db_del(&self.0, &[self.1.as_str()]);
    }
}

impl sealed::Sealed for DbWatch {}
impl Undo for DbWatch {
    fn undo(self, node: &Node) {
        node.with_core(|core, now| {
            core.db_unmon(self.0, now);
            lock(&node.shared.reg).db_watchers.remove(&self.0);
        });
    }
}

pub(crate) use sealed::Sealed;
