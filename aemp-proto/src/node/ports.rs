//! Local ports, their deaths, and monitors (local and remote).

use smallvec::SmallVec;
use std::collections::VecDeque;

use std::time::Instant;

use super::{port_id, split_port_id, Event, MonitorAction, MonitorId, NodeCore};
use crate::protocol::Request;
use crate::Value;

/// What the core remembers about one local port.
#[derive(Debug, Default)]
pub(super) struct LocalPort {
    /// Local monitors on this port.
    pub(super) monitors: SmallVec<[MonitorId; 2]>,
    /// Remote nodes that sent `mon1` for this port.
    pub(super) watchers: SmallVec<[String; 1]>,
    /// Database families where `db_reg` registered this port.
    pub(super) regs: SmallVec<[String; 1]>,
    /// The remote node that created it with `spawn`.
    pub(super) spawned_by: Option<String>,
}

/// One monitor: who is watched and what to do.
#[derive(Debug)]
pub(super) struct Monitor {
    pub(super) node: String,
    pub(super) port: String,
    pub(super) action: MonitorAction,
}

/// The reason for monitoring a port that does not exist.
fn no_such_port(port_id: &str) -> Vec<Value> {
    vec![
        Value::from("no_such_port"),
        Value::from("cannot monitor nonexistent port"),
        Value::from(port_id),
    ]
}

impl NodeCore {
    /// Creates a new local port and returns its ID (`node#name`). Names are never reused.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let a = node.port();
    /// assert!(a.starts_with("me#"));
    /// assert_ne!(a, node.port());
    /// # }
    /// ```
    pub fn port(&mut self) -> String {
        let n = self.next_id();
        let name = format!("{}{}", self.port_prefix, base62(n));
        self.ports
            .insert(name.as_str().into(), LocalPort::default());
        port_id(self.node_id(), &name)
    }

    /// Whether the local port `name` (without node ID) exists.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore, split_port_id};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// assert!(node.port_exists(split_port_id(&p).1));
    /// # }
    /// ```
    pub fn port_exists(&self, name: &str) -> bool {
        self.ports.contains_key(name)
    }

    /// The number of live local ports.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.port();
    /// assert_eq!(node.port_count(), 1);
    /// # }
    /// ```
    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// The number of live monitors set by this node.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// assert_eq!(node.monitor_count(), 0);
    /// # }
    /// ```
    pub fn monitor_count(&self) -> usize {
        self.monitors.len()
    }

    pub(super) fn create_named_port(&mut self, name: &str) -> bool {
        if self.ports.contains_key(name) {
            return false;
        }
        self.ports.insert(name.into(), LocalPort::default());
        true
    }

    /// Kills a port (local or remote) with `reason`; an empty reason is a normal kill.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// node.kil(&p, vec![], now);
    /// assert!(matches!(node.poll_event(), Some(Event::PortDied { .. })));
    /// # }
    /// ```
    #[doc(alias = "kill")]
    pub fn kil(&mut self, port_id: &str, reason: Vec<Value>, now: Instant) {
        self.advance(now);
        let (node, name) = split_port_id(port_id);
        if node == self.node_id() {
            let name = name.to_owned();
            self.kill_local(&name, reason);
        } else {
            let kill = Request::Kill {
                port: name.to_owned(),
                reason,
            };
            let node = node.to_owned();
            self.send_remote(&node, kill.into_packet());
        }
    }

    /// Kills local port `name`, and everything its death kills in turn, iteratively.
    pub(super) fn kill_local(&mut self, name: &str, reason: Vec<Value>) {
        let mut queue = VecDeque::from([(name.to_owned(), reason)]);
        while let Some((name, reason)) = queue.pop_front() {
            let Some(port) = self.ports.remove(name.as_str()) else {
                continue;
            };
            self.recent_port = None;
            if let Some(node) = &port.spawned_by {
                self.forget_spawned(node);
            }
            let me = self.node_id().to_owned();
            if !reason.is_empty() && port.monitors.is_empty() && port.watchers.is_empty() {
                let shown = Value::Array(reason.clone());
                tracing::error!(port = %port_id(&me, &name), reason = %shown, "unmonitored port died");
            }
            for family in &port.regs {
                self.db_del(family, &[port_id(&me, &name)], self.now);
            }
            for node in &port.watchers {
                let died = Request::PortDied {
                    port: name.clone(),
                    reason: reason.clone(),
                };
                if let Some(peer) = self.peers.get_mut(node) {
                    peer.watching.remove(&name);
                }
                self.send_remote(node, died.into_packet());
            }
            for id in port.monitors {
                if let Some(link) = self.fire_monitor(id, &reason) {
                    queue.push_back(link);
                }
            }
            self.events
                .push_back(Event::PortDied { port: name, reason });
        }
    }

    /// Sets a monitor on `port_id` (local or remote). It fires once, when the port dies or
    /// its node becomes unreachable; a port that does not exist fires at once with
    /// `no_such_port`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, MonitorAction, NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// let id = node.monitor(&p, MonitorAction::Callback, now);
    /// node.kil(&p, vec![Value::from("oops")], now);
    /// assert_eq!(node.poll_event(), Some(Event::MonitorFired { id, reason: vec![Value::from("oops")] }));
    /// # }
    /// ```
    #[doc(alias = "mon")]
    pub fn monitor(&mut self, port_id: &str, action: MonitorAction, now: Instant) -> MonitorId {
        self.advance(now);
        let id = MonitorId(self.next_id());
        let (node, name) = split_port_id(port_id);
        let (node, name) = (node.to_owned(), name.to_owned());
        self.monitors.insert(
            id,
            Monitor {
                node: node.clone(),
                port: name.clone(),
                action,
            },
        );
        if node == self.node_id() {
            match self.ports.get_mut(name.as_str()) {
                Some(port) => port.monitors.push(id),
                None => {
                    if let Some(link) = self.fire_monitor(id, &no_such_port(port_id)) {
                        self.kill_local(&link.0, link.1);
                    }
                }
            }
        } else {
            let peer = self.peers.entry(node.clone()).or_default();
            let ids = peer.monitored.entry(name.clone()).or_default();
            ids.push(id);
            // A node port (empty name) is watched through the connection alone: like the
            // original, send no `mon1` for it; it fires when the connection is lost.
            if ids.len() == 1 && !name.is_empty() {
                self.send_remote(&node, Request::Monitor { port: name }.into_packet());
            }
        }
        id
    }

    /// Removes a monitor that has not fired yet; the last monitor of a remote port sends
    /// `mon0`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{MonitorAction, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// let id = node.monitor(&p, MonitorAction::Callback, now);
    /// node.unmonitor(id, now);
    /// assert_eq!(node.monitor_count(), 0);
    /// # }
    /// ```
    pub fn unmonitor(&mut self, id: MonitorId, now: Instant) {
        self.advance(now);
        let Some(m) = self.monitors.remove(&id) else {
            return;
        };
        if m.node == self.node_id() {
            if let Some(port) = self.ports.get_mut(m.port.as_str()) {
                port.monitors.retain(|x| *x != id);
            }
            return;
        }
        let Some(peer) = self.peers.get_mut(&m.node) else {
            return;
        };
        let Some(ids) = peer.monitored.get_mut(&m.port) else {
            return;
        };
        ids.retain(|x| *x != id);
        if ids.is_empty() {
            peer.monitored.remove(&m.port);
            if peer.up.is_some() && !m.port.is_empty() {
                self.send_remote(&m.node, Request::Unmonitor { port: m.port }.into_packet());
            }
            self.forget_idle_peer(&m.node);
        }
    }

    /// Runs monitor `id` with `reason` and forgets it. A "kill linked local port" action is
    /// returned to the caller instead of recursing.
    pub(super) fn fire_monitor(
        &mut self,
        id: MonitorId,
        reason: &[Value],
    ) -> Option<(String, Vec<Value>)> {
        let m = self.monitors.remove(&id)?;
        match m.action {
            MonitorAction::Callback => {
                self.events.push_back(Event::MonitorFired {
                    id,
                    reason: reason.to_vec(),
                });
                None
            }
            MonitorAction::Kill(target) => {
                if reason.is_empty() {
                    return None;
                }
                let (node, name) = split_port_id(&target);
                if node == self.node_id() {
                    Some((name.to_owned(), reason.to_vec()))
                } else {
                    self.kil(&target, reason.to_vec(), self.now);
                    None
                }
            }
            MonitorAction::Send(target, mut msg) => {
                msg.extend_from_slice(reason);
                self.snd(&target, msg, self.now);
                None
            }
        }
    }

    /// Fires every monitor this node holds on ports of `node` (its connection is gone).
    pub(super) fn fire_remote_monitors(&mut self, node: &str, reason: &[Value]) {
        let Some(peer) = self.peers.get_mut(node) else {
            return;
        };
        let monitored = std::mem::take(&mut peer.monitored);
        let watching = std::mem::take(&mut peer.watching);
        for port in watching {
            if let Some(p) = self.ports.get_mut(port.as_str()) {
                p.watchers.retain(|n| n != node);
            }
        }
        for (_, ids) in monitored {
            for id in ids {
                if let Some((port, reason)) = self.fire_monitor(id, reason) {
                    self.kill_local(&port, reason);
                }
            }
        }
    }

    /// `kil0` from `node`: its port `port` died with `reason`.
    pub(super) fn remote_port_died(&mut self, node: &str, port: &str, reason: Vec<Value>) {
        let Some(ids) = self
            .peers
            .get_mut(node)
            .and_then(|p| p.monitored.remove(port))
        else {
            return;
        };
        for id in ids {
            if let Some((port, reason)) = self.fire_monitor(id, &reason) {
                self.kill_local(&port, reason);
            }
        }
        self.forget_idle_peer(node);
    }

    /// `mon1` from `node` for our port `port`.
    pub(super) fn remote_monitor(&mut self, node: &str, port: &str) {
        match self.ports.get_mut(port) {
            Some(p) => {
                if !p.watchers.iter().any(|n| n == node) {
                    p.watchers.push(node.to_owned());
                }
                self.peers
                    .entry(node.to_owned())
                    .or_default()
                    .watching
                    .insert(port.to_owned());
            }
            None => {
                let died = Request::PortDied {
                    port: port.to_owned(),
                    reason: no_such_port(&port_id(self.node_id(), port)),
                };
                self.send_remote(node, died.into_packet());
            }
        }
    }

    /// `mon0` from `node` for our port `port`.
    pub(super) fn remote_unmonitor(&mut self, node: &str, port: &str) {
        if let Some(p) = self.ports.get_mut(port) {
            p.watchers.retain(|n| n != node);
        }
        if let Some(peer) = self.peers.get_mut(node) {
            peer.watching.remove(port);
        }
    }

    /// Remembers that `db_reg` registered local port `name` in `family`.
    pub(super) fn note_registration(&mut self, name: &str, family: &str) -> bool {
        match self.ports.get_mut(name) {
            Some(p) => {
                if !p.regs.iter().any(|f| f == family) {
                    p.regs.push(family.to_owned());
                }
                true
            }
            None => false,
        }
    }
}

/// A short alphanumeric rendering of a counter.
fn base62(mut n: u64) -> String {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(CHARS[(n % 62) as usize]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
