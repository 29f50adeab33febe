//! Packets that arrive from other nodes, and the node-port requests among them.

use super::logs::{throttled, Topic};
use super::{split_port_id, Event, NodeCore};
use crate::Value;

/// The node-port requests this node understands (for `can`).
const KNOWN_REQUESTS: &[&str] = &[
    "",
    "mon0",
    "mon1",
    "kil0",
    "kil1",
    "snd",
    "can",
    "time",
    "devnull",
    "eval",
    "g_slave",
    "g_global",
    "g_set",
    "g_upd",
    "g_find",
    "g_found",
    "g_db_family",
    "g_db_keys",
    "g_db_values",
    "g_reply",
    "g_mon1",
    "g_mon0",
    "g_chg1",
    "g_chg2",
];

/// The only `eval` expression a Rust node answers (for the original's `aemp trace`).
const TRACE_EVAL: &str = "AnyEvent::MP::Kernel::up_nodes";

/// The packet's string at `i`, or the empty string.
fn text(args: &[Value], i: usize) -> String {
    match args.get(i) {
        Some(Value::Str(s)) => s.to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl NodeCore {
    /// A data-phase packet from `node`: a port message or a node-port request.
    pub(super) fn handle_remote_packet(&mut self, node: &str, mut packet: Vec<Value>) {
        let name = match &packet[0] {
            Value::Str(s) => s.as_str(),
            _ => {
                throttled!(self, Topic::Refusal, warn, %node, "packet with a non-string port name ignored");
                return;
            }
        };
        if name.is_empty() {
            packet.remove(0);
            self.handle_node_request(node, packet);
        } else if let Value::Str(port) = packet.remove(0) {
            self.deliver_local(&port, packet);
        }
    }

    /// A request to the node port (`["", tag, args...]` without the empty port name).
    pub(super) fn handle_node_request(&mut self, from: &str, mut req: Vec<Value>) {
        if req.is_empty() {
            return;
        }
        let tag = text(&req, 0);
        let args = req.split_off(1);
        match tag.as_str() {
            "" | "devnull" => {}
            "mon1" => self.remote_monitor(from, &text(&args, 0)),
            "mon0" => self.remote_unmonitor(from, &text(&args, 0)),
            "kil0" => {
                let port = text(&args, 0);
                self.remote_port_died(from, &port, args.into_iter().skip(1).collect());
            }
            "kil1" => {
                let port = text(&args, 0);
                self.kill_local(&port, args.into_iter().skip(1).collect());
            }
            "snd" => {
                let mut args = args.into_iter();
                if let Some(target) = args.next() {
                    self.snd(&text(&[target], 0), args.collect(), self.now);
                }
            }
            "can" => {
                let known = KNOWN_REQUESTS.contains(&text(&args, 0).as_str());
                let answer = Value::from(if known { "1" } else { "" });
                self.reply(args.into_iter().skip(1).collect(), vec![answer]);
            }
            "time" => {
                let now = Value::Float(self.unix_time());
                self.reply(args, vec![now]);
            }
            "eval" => self.handle_eval(from, args),
            "AnyEvent::MP::_spawn" => self.handle_spawn(from, args),
            _ if tag.starts_with("g_") => self.handle_global_request(from, &tag, args),
            _ => self.handle_function_call(from, tag, args),
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
        self.snd(&text(&[target], 0), msg, self.now);
    }

    fn handle_eval(&mut self, from: &str, mut args: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, "eval refused: secure mode");
            return;
        }
        if args.is_empty() {
            return;
        }
        let code = text(&args, 0);
        let reply = args.split_off(1);
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

    fn handle_spawn(&mut self, from: &str, args: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, "spawn refused: secure mode");
            return;
        }
        let port = text(&args, 0);
        let func = text(&args, 1);
        if port.is_empty() || split_port_id(&port).0 != port {
            throttled!(self, Topic::Refusal, warn, %from, %port, "spawn with an invalid port name ignored");
            return;
        }
        if !self.create_named_port(&port) {
            throttled!(self, Topic::Refusal, warn, %from, %port, "spawn of an existing port ignored");
            return;
        }
        self.events.push_back(Event::Spawn {
            port,
            func,
            args: args.into_iter().skip(2).collect(),
        });
    }

    fn handle_function_call(&mut self, from: &str, func: String, args: Vec<Value>) {
        if self.cfg.secure {
            throttled!(self, Topic::Refusal, warn, %from, %func, "remote function call refused: secure mode");
            return;
        }
        self.events.push_back(Event::Call { func, args });
    }
}
