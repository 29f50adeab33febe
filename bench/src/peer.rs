//! The second process: a seed node with a sink port (one-way workloads) and an echo port
//! (ping-pong), started by the first process and stopped when its stdin closes.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};

use aemp_node::{Message, Node, PortId};
use serde::de::IgnoredAny;

use crate::options::{Args, TransportArg};

/// What the sink port of the second process checks: sequence numbers 1..=n in order.
#[derive(Default)]
struct Sink {
    expected: u64,
    n: u64,
    report: Option<PortId>,
    failed: bool,
}

impl Sink {
    /// Handles one message to the sink: `["begin", n, report_port]` starts a run,
    /// `["m", seq, payload]` is one message of it. The report port gets `["done", n]`
    /// after the last one, or `["error", expected, got]` at the first gap or reordering.
    fn on(&mut self, node: &Node, msg: Message) {
        match msg.tag() {
            Some("begin") => {
                if let Ok((_, n, report)) = msg.decode::<(IgnoredAny, u64, PortId)>() {
                    *self = Sink {
                        expected: 1,
                        n,
                        report: Some(report),
                        failed: false,
                    };
                }
            }
            Some("m") if !self.failed => {
                let seq = msg.decode::<(IgnoredAny, u64, IgnoredAny)>().map(|m| m.1);
                let Some(report) = &self.report else {
                    return;
                };
                match seq {
                    Ok(seq) if seq == self.expected => {
                        self.expected += 1;
                        if seq == self.n {
                            let _ = node.snd(report, ("done", seq));
                        }
                    }
                    Ok(seq) => {
                        self.failed = true;
                        let _ = node.snd(report, ("error", self.expected, seq));
                    }
                    Err(e) => {
                        self.failed = true;
                        let _ = node.snd(report, ("error", self.expected, e.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Adds a sequence-checking sink port to `node` (see [`Sink::on`]).
pub(crate) fn sink_port(node: &Node) -> PortId {
    let sink = Arc::new(Mutex::new(Sink::default()));
    let n = node.clone();
    node.port_with(move |msg| sink.lock().unwrap().on(&n, msg))
}

/// Runs the second process: prints `ready ADDR NODE SINK ECHO RAW` (RAW: the raw TCP
/// sink's address), serves until stdin ends.
pub(crate) fn serve(args: &Args) -> Result<(), String> {
    let id = format!("bench-peer-{}", std::process::id());
    let (builder, addr) = match args.transport {
        TransportArg::Tcp => {
            let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            let addr = l.local_addr().map_err(|e| e.to_string())?.to_string();
            (args.builder(&id).listener(l), addr)
        }
        TransportArg::Quic => {
            let u = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            let addr = format!("quic:{}", u.local_addr().map_err(|e| e.to_string())?);
            (args.builder(&id).quic_socket(u), addr)
        }
    };
    let builder =
        builder.register_data_function(crate::bulk::SINK_FUNCTION, crate::bulk::count_data);
    let node = args.start(builder.seeds([addr.as_str()]))?;
    let raw = crate::bulk::serve_raw().map_err(|e| format!("raw TCP sink: {e}"))?;
    let sink = sink_port(&node);
    let n = node.clone();
    let echo = node.port_with(move |msg| {
        if let Ok((_, seq, reply)) = msg.decode::<(IgnoredAny, u64, PortId)>() {
            let _ = n.snd(&reply, ("pong", seq));
        }
    });
    println!("ready {addr} {} {sink} {echo} {raw}", node.node_id());
    // Serve until the first process closes our stdin (or exits).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    node.shutdown();
    Ok(())
}

/// The second process, as the first sees it.
pub(crate) struct Remote {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Its listening address.
    pub(crate) addr: String,
    /// Its node ID.
    pub(crate) node: String,
    /// Its sequence-checking sink port.
    pub(crate) sink: PortId,
    /// Its echo port.
    pub(crate) echo: PortId,
    /// Its raw TCP sink (see [`crate::bulk`]).
    pub(crate) raw: String,
}

impl Remote {
    /// Starts the second process with the same options and waits until it serves.
    pub(crate) fn start(args: &Args) -> Result<Remote, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let mut child = Command::new(exe)
            .args(args.serve_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the second process: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout of the second process")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("second process: {e}"))?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [ready, addr, node, sink, echo, raw] = fields[..] else {
            let _ = child.kill();
            return Err(format!("second process did not start: {line:?}"));
        };
        if ready != "ready" {
            let _ = child.kill();
            return Err(format!("second process said {line:?}"));
        }
        Ok(Remote {
            stdin: child.stdin.take(),
            addr: addr.to_owned(),
            node: node.to_owned(),
            sink: PortId::from(sink),
            echo: PortId::from(echo),
            raw: raw.to_owned(),
            child,
        })
    }

    /// Its process ID.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
