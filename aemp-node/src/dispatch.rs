//! Handing the core's events to what the application registered. Runs on the driver with
//! no lock held while user code runs.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use aemp_proto::node::{DbChange, Event};

use crate::context::{guarded_in_port, in_context, panic_text, run_in_port};
use crate::db::FamilyWatch;
use crate::shared::{lock, Handler, PortEntry};
use crate::{Message, Node, NodeEvent, NodeId, PortId, Reason};

/// Dispatches one event of the core other than a message (`dispatch_all` delivers those
/// in runs).
pub(crate) fn dispatch(node: &Node, event: Event) {
    match event {
        Event::PortDied { port, reason } => {
            // What waited for the port was sent before its death was handled here.
            let mut waiting = node.shared.local.close(&port, |waiting| waiting);
            if !waiting.is_empty() {
                deliver(node, &port, &mut waiting);
            }
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
        Event::DbChange(change) => db_change(node, *change),
        Event::DataFailed {
            id,
            reason,
            no_address,
        } => crate::dataconn::failed(node, &id, &reason, no_address),
        other => tracing::debug!(event = ?other, "an event of the core this node does not use"),
    }
}

/// Dispatches every event, oldest first; consecutive messages to one port are delivered as
/// a run (collected in `run`, kept by the caller to reuse its buffer), taking the registry
/// and the handler's lock once.
pub(crate) fn dispatch_all(node: &Node, events: &mut VecDeque<Event>, run: &mut Vec<Message>) {
    let mut events = events.drain(..).peekable();
    while let Some(event) = events.next() {
        let Event::Deliver { port, msg } = event else {
            dispatch(node, event);
            continue;
        };
        // Local messages that wait for the port go first (see `crate::local`).
        run.append(&mut node.shared.local.take_waiting(&port));
        run.push(Message::from(msg));
        while let Some(Event::Deliver { port: next, .. }) = events.peek() {
            // The core hands out one shared name per port: compare the pointers first.
            if !Arc::ptr_eq(next, &port) && *next != port {
                break;
            }
            if let Some(Event::Deliver { msg, .. }) = events.next() {
                run.push(Message::from(msg));
            }
        }
        deliver(node, &port, run);
    }
}

/// Delivers messages to one local port (taking them out of `msgs`): to its mailbox, or to
/// its handlers in the port's context. A handler that fails kills the port; the messages
/// after it are dropped with it.
pub(crate) fn deliver(node: &Node, port: &str, msgs: &mut Vec<Message>) {
    let mut msgs = msgs.drain(..);
    let (id, default, tagged) = {
        let reg = lock(&node.shared.reg);
        match reg.ports.get(port) {
            Some(PortEntry::Async(mailbox)) => {
                let mailbox = mailbox.clone();
                drop(reg);
                for msg in msgs {
                    mailbox.push(msg);
                }
                return;
            }
            Some(PortEntry::Callbacks(cbs)) => {
                (cbs.id.clone(), cbs.default.clone(), !cbs.tags.is_empty())
            }
            None => (PortId::new(node.node_id(), port), None, false),
        }
    };
    if !tagged {
        // One handler for every message: lock it once for the run.
        let Some(handler) = default else {
            return unhandled(node, &id, msgs.next().as_ref());
        };
        let mut f = lock(&handler);
        return in_context(&id, || {
            for msg in msgs {
                if guarded_in_port(node, &id, || (*f)(msg).map_or(Ok(()), Err)).is_err() {
                    return;
                }
            }
        });
    }
    for msg in msgs {
        let Some((handler, strip_tag)) = tag_handler(node, port, &msg) else {
            return unhandled(node, &id, Some(&msg));
        };
        let msg = if strip_tag { msg.without_tag() } else { msg };
        let failed = run_in_port(node, &id, || {
            let mut f = lock(&handler);
            (*f)(msg).map_or(Ok(()), Err)
        });
        if failed.is_err() {
            return;
        }
    }
}

/// The handler of a port with tag handlers for `msg`: the one of its tag (the tag is then
/// not passed on), else the default one.
fn tag_handler(node: &Node, port: &str, msg: &Message) -> Option<(Handler, bool)> {
    let reg = lock(&node.shared.reg);
    let Some(PortEntry::Callbacks(cbs)) = reg.ports.get(port) else {
        return None;
    };
    match msg.tag().and_then(|t| cbs.tags.get(t)) {
        Some(h) => Some((h.clone(), true)),
        None => cbs.default.clone().map(|h| (h, false)),
    }
}

/// A message no handler takes kills its port, as in the original.
fn unhandled(node: &Node, port: &PortId, msg: Option<&Message>) {
    let tag = msg.and_then(Message::tag).unwrap_or_default();
    node.kil(
        port,
        Reason::new(
            "unhandled_message",
            &format!("no callback found for message '{tag}'"),
        ),
    );
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
        guarded("db_mon callback", || {
            let mut watch = lock(&w);
            let FamilyWatch { family, callback } = &mut *watch;
            family.extend(c.set);
            for key in &c.deleted {
                family.remove(key);
            }
            callback(&crate::DbChange {
                family,
                added: &c.added,
                changed: &c.changed,
                deleted: &c.deleted,
            });
        });
    }
}

/// Runs a callback that belongs to no port; a panic is logged.
pub(crate) fn guarded(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        tracing::error!(callback = what, panic = %panic_text(payload), "callback panicked");
    }
}
