//! Packets that arrive from other nodes, and the node-port requests among them.

use super::logs::{throttled, Topic};
use super::{key_string, split_port_id, Event, NodeCore};
use crate::protocol::Request;
use crate::{Packet, Value};

/// The only `eval` expression a Rust node answers (for the original's `aemp trace`).
const TRACE_EVAL: &str = "AnyEvent::MP::Kernel::up_nodes";

impl NodeCore {
    /// A data-phase packet from `node`: a port message or a node-port request.
    pub(super) fn handle_remote_packet(&mut self, node: &str, packet: Packet) {
        let recent = self.recent_port.as_ref().filter(|p| packet.is_for(p));
        if let Some(port) = recent.cloned() {
            return self.deliver(port, packet.into_payload());
        }
        let Some(name) = packet.port() else {
            throttled!(self, Topic::Refusal, warn, %node, "packet with a non-string port name ignored");
            return;
        };
        if name.is_empty() {
            self.handle_node_request(node, packet.into_payload().into_values());
        } else if let Some(port) = self.local_port(name) {
            self.deliver(port, packet.into_payload());
        }
    }

    /// A request to the node port (`["", tag, args...]` without the empty port name).
    pub(super) fn handle_node_request(&mut self, from: &str, req: Vec<Value>) {
        let request = match Request::parse(req) {
            Ok(request) => request,
            Err(e) => {
                throttled!(self, Topic::Refusal, warn, %from, error = %e, "request ignored");
                return;
            }
        };
        match request {
            Request::Devnull => {}
            Request::Monitor { port } => self.remote_monitor(from, &port),
            Request::Unmonitor { port } => self.remote_unmonitor(from, &port),
            Request::PortDied { port, reason } => self.remote_port_died(from, &port, reason),
            Request::Kill { port, reason } => self.kill_local(&port, reason),
            Request::Send { port, msg } => self.snd(&port, msg, self.now),
            Request::Can { request, reply } => {
                let known = Request::understood(&request);
                self.reply(reply, vec![Value::from(if known { "1" } else { "" })]);
            }
            Request::Time { reply } => {
                let now = Value::Float(self.unix_time());
                self.reply(reply, vec![now]);
            }
            Request::Eval { code, reply } => self.handle_eval(from, &code, reply),
            Request::Spawn { port, func, args } => self.handle_spawn(from, port, func, args),
            Request::Global(request) => self.handle_global_request(from, request),
            Request::Call { func, args } => self.handle_function_call(from, func, args),
        }
    }

    /// Sends `values` to a reply destination `[PORTID, extra...]`.
    fn reply(&mut self, reply: Vec<Value>, values: Vec<Value>) {
        let mut reply = reply.into_iter();
        let Some(target) = reply.next() else {
            return;
        };
        let mut msg: Vec<Value> = reply.collect();
        msg.extend(values);
        let target = key_string(&target).unwrap_or_default();
        self.snd(&target, msg, self.now);
    }

    fn handle_eval(&mut self, from: &str, code: &str, reply: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, "eval refused: secure mode");
            return;
        }
        if code == TRACE_EVAL {
            let mut answer = vec![Value::from("")];
            answer.extend(self.up_nodes().into_iter().map(Value::from));
            self.reply(reply, answer);
        } else {
            throttled!(self, Topic::Refusal, warn, %from, %code, "eval is not supported by this node");
            self.reply(
                reply,
                vec![Value::from("eval is not supported by this node")],
            );
        }
    }

    fn handle_spawn(&mut self, from: &str, port: String, func: String, args: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, "spawn refused: secure mode");
            return;
        }
        if port.is_empty() || split_port_id(&port).0 != port {
            throttled!(self, Topic::Refusal, warn, %from, %port, "spawn with an invalid port name ignored");
            return;
        }
        if !self.spawn_within_limit(from) {
            return;
        }
        if !self.create_named_port(&port) {
            throttled!(self, Topic::Refusal, warn, %from, %port, "spawn of an existing port ignored");
            return;
        }
        self.note_spawned(from, &port);
        self.events.push_back(Event::Spawn { port, func, args });
    }

    fn handle_function_call(&mut self, from: &str, func: String, args: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, %func, "remote function call refused: secure mode");
            return;
        }
        self.events.push_back(Event::Call { func, args });
    }
}
