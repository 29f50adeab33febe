//! Catching the log messages of every node in the network, as the original's
//! `AnyEvent::MP::LogCatcher::catch` does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aemp_proto::Value;

use super::CONNECT_FUNCTION;
use crate::guard::{Guard, Sealed, Undo, WatchGuard};
use crate::shared::lock;
use crate::{Node, NodeId, PortId, Reason};

/// One log message of another node.
///
/// ```
/// # use aemp_node::logs::LogRecord;
/// let r = LogRecord { node: "n".into(), time: 0.0, context: "main".into(), level: 5, message: "hi".into() };
/// assert_eq!(r.to_string(), "[n] main: hi");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// The node that logged it.
    pub node: NodeId,
    /// When, in seconds since the Unix epoch (the sender's clock).
    pub time: f64,
    /// Where: the Perl package, or the Rust `tracing` target.
    pub context: String,
    /// The original's level, 1 (fatal) to 9 (trace).
    pub level: u8,
    /// The text.
    pub message: String,
}

impl std::fmt::Display for LogRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}: {}", self.node, self.context, self.message)
    }
}

impl LogRecord {
    /// The record in a message `[time, context, level, text]` from `node`.
    fn parse(node: &NodeId, msg: &[Value]) -> Option<LogRecord> {
        let [time, context, level, text] = msg else {
            return None;
        };
        Some(LogRecord {
            node: node.clone(),
            time: time.as_f64()?,
            context: context.as_str()?.to_owned(),
            level: u8::try_from(level.as_i64()?.clamp(0, 9)).ok()?,
            message: text.as_str()?.to_owned(),
        })
    }
}

type OnRecord = Arc<dyn Fn(LogRecord) + Send + Sync>;

/// Log catching started with [`Node::catch_logs`]: dropping the guard stops it (every
/// node stops forwarding once the port it sends to is gone).
pub type LogCatch = Guard<Catching>;

/// Log catching in progress (see [`LogCatch`]).
pub struct Catching {
    state: Arc<Mutex<State>>,
    _watch: WatchGuard,
}

impl std::fmt::Debug for Catching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let caught: Vec<String> = lock(&self.state).ports.keys().cloned().collect();
        f.debug_struct("Catching").field("nodes", &caught).finish()
    }
}

impl Sealed for Catching {}
impl Undo for Catching {
    fn undo(self, node: &Node) {
        let ports = {
            let mut state = lock(&self.state);
            state.stopped = true;
            std::mem::take(&mut state.ports)
        };
        for port in ports.into_values() {
            node.kil(&port, Reason::normal());
        }
    }
}

struct State {
    level: u8,
    on_record: OnRecord,
    /// The nodes in the network now (the keys of `'l`).
    listed: std::collections::BTreeSet<String>,
    /// Per caught node, the port its messages come to.
    ports: BTreeMap<String, PortId>,
    stopped: bool,
}

/// How long to wait before asking a node again whose forwarding ended while it is still
/// in the network.
const RETRY: Duration = Duration::from_secs(2);

impl Node {
    /// Catches the log messages of every other node at or below `level` (the original's
    /// 1..9 scale: 5 warn, 7 info, 9 trace) until the returned guard is dropped: for each
    /// node in the network, a port of ours receives what that node forwards (Perl nodes
    /// and Rust nodes with [`logs::layer`](crate::logs::layer) in their subscriber), and
    /// `f` gets each message.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let catch = node.catch_logs(7, |record| eprintln!("{record}"));
    /// drop(catch);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn catch_logs(&self, level: u8, f: impl Fn(LogRecord) + Send + Sync + 'static) -> LogCatch {
        let state = Arc::new(Mutex::new(State {
            level,
            on_record: Arc::new(f),
            listed: Default::default(),
            ports: BTreeMap::new(),
            stopped: false,
        }));
        let (node, watched) = (self.clone(), state.clone());
        let watch = self.db_mon("'l", move |change| {
            let (added, deleted) = (change.added, change.deleted);
            let gone = {
                let mut state = lock(&watched);
                state.listed.extend(added.iter().cloned());
                deleted
                    .iter()
                    .filter_map(|n| {
                        state.listed.remove(n);
                        state.ports.remove(n)
                    })
                    .collect::<Vec<_>>()
            };
            for port in gone {
                node.kil(&port, Reason::normal());
            }
            for added in added {
                node.catch_node(&watched, added);
            }
        });
        Guard::new(
            self,
            Catching {
                state,
                _watch: watch,
            },
        )
    }

    /// Asks `who` to forward its log messages to a new port of ours, unless it is this
    /// node or already caught.
    fn catch_node(&self, state: &Arc<Mutex<State>>, who: &str) {
        let mut guard = lock(state);
        if who == self.node_id().as_str() || guard.stopped || guard.ports.contains_key(who) {
            return;
        }
        let id = NodeId::from(who);
        let on_record = guard.on_record.clone();
        let port = self.port_with(move |msg: crate::Message| {
            match LogRecord::parse(&id, &msg) {
                Some(record) => on_record(record),
                None => tracing::debug!(node = %id, "log catcher: a message that is not a log record ignored"),
            }
        });
        guard.ports.insert(who.to_owned(), port.clone());
        let level = guard.level;
        drop(guard);
        // Losing the node kills the port; the port's death asks again while it is listed.
        self.mon_link(&PortId::from(who), &port).detach();
        let (node, state, name) = (self.clone(), state.clone(), who.to_owned());
        let ended = port.clone();
        self.mon(&port, move |reason| {
            let again = {
                let mut s = lock(&state);
                if s.ports.get(&name) == Some(&ended) {
                    s.ports.remove(&name);
                }
                !s.stopped && s.listed.contains(&name)
            };
            if again {
                tracing::debug!(node = %name, %reason, "log catcher: forwarding ended, asking again");
                let node2 = node.clone();
                node.after(RETRY, move || node2.catch_node(&state, &name));
            }
        })
        .detach();
        if let Err(e) = self.snd_to_func(who, CONNECT_FUNCTION, (0, &port, level)) {
            tracing::debug!(node = %who, error = %e, "log catcher: cannot ask the node");
        }
    }
}
