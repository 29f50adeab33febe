//! Handing the core's events to what the application registered. Runs on the driver with
//! no lock held while user code runs.

use std::panic::{catch_unwind, AssertUnwindSafe};

use aemp_proto::node::{DbChange, Event};
use aemp_proto::Value;

use crate::context::{panic_text, run_in_port};
use crate::shared::{lock, Handler, PortEntry};
use crate::{Message, Node, NodeEvent, NodeId, PortId, Reason};

/// Where one delivered message goes.
enum Target {
    Handler(Handler, Message),
    Mailbox(std::sync::Arc<crate::async_port::Mailbox>, Message),
    Unhandled(String),
}

/// Dispatches one event of the core.
pub(crate) fn dispatch(node: &Node, event: Event) {
    match event {
        Event::Deliver { port, msg } => deliver(node, port, msg),
        Event::PortDied { port, reason } => {
            let entry = lock(&node.shared.reg).ports.remove(&port);
            if let Some(PortEntry::Async(mailbox)) = entry {
                mailbox.close(Reason::from(reason));
            }
        }
        Event::MonitorFired { id, reason } => {
            let action = lock(&node.shared.reg).monitors.remove(&id);
            if let Some(action) = action {
                guarded("monitor callback", || action(Reason::from(reason)));
            }
        }
        Event::NodeUp { node: id } => node_event(node, NodeEvent::Up(NodeId::from(id))),
        Event::NodeDown { node: id, reason } => node_event(
            node,
            NodeEvent::Down(NodeId::from(id), Reason::from(reason)),
        ),
        Event::Spawn { port, func, args } => {
            let port = PortId::new(node.node_id(), &port);
            node.shared.services.run_init(node, port, &func, args);
        }
        Event::Call { func, args } => node.shared.services.call(node, &func, args),
        Event::DbReply { id, result } => {
            if let Some(tx) = lock(&node.shared.reg).queries.remove(&id) {
                let _ = tx.try_send(result);
            }
        }
        Event::DbChange(change) => db_change(node, change),
    }
}

fn deliver(node: &Node, port: String, mut msg: Vec<Value>) {
    let target = {
        let reg = lock(&node.shared.reg);
        let tag = msg
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match reg.ports.get(&port) {
            Some(PortEntry::Async(mailbox)) => Target::Mailbox(mailbox.clone(), Message::new(msg)),
            Some(PortEntry::Callbacks(cbs)) => match (cbs.tags.get(&tag), &cbs.default) {
                (Some(h), _) => {
                    msg.remove(0);
                    Target::Handler(h.clone(), Message::new(msg))
                }
                (None, Some(h)) => Target::Handler(h.clone(), Message::new(msg)),
                (None, None) => Target::Unhandled(tag),
            },
            None => Target::Unhandled(tag),
        }
    };
    let port = PortId::new(node.node_id(), &port);
    match target {
        Target::Handler(h, msg) => {
            let _ = run_in_port(node, &port, || {
                let mut f = lock(&h);
                (*f)(msg).map_or(Ok(()), Err)
            });
        }
        Target::Mailbox(mailbox, msg) => mailbox.push(msg),
        Target::Unhandled(tag) => node.kil(
            &port,
            Reason::new(
                "unhandled_message",
                &format!("no callback found for message '{tag}'"),
            ),
        ),
    }
}

fn node_event(node: &Node, event: NodeEvent) {
    let watchers: Vec<_> = lock(&node.shared.reg)
        .node_watchers
        .values()
        .cloned()
        .collect();
    for w in watchers {
        guarded("node watcher", || (*lock(&w))(&event));
    }
}

fn db_change(node: &Node, c: DbChange) {
    let watcher = lock(&node.shared.reg).db_watchers.get(&c.watch).cloned();
    if let Some(w) = watcher {
        let family = c.entries.into_iter().collect();
        guarded("db_mon callback", || {
            (*lock(&w))(&family, &c.added, &c.changed, &c.deleted)
        });
    }
}

/// Runs a callback that belongs to no port; a panic is logged.
pub(crate) fn guarded(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        tracing::error!(callback = what, panic = %panic_text(payload), "callback panicked");
    }
}
