//! The workloads: one-way throughput, ping-pong latency, local delivery, idle memory.

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aemp_node::{Message, Node, PortId};
use serde::de::IgnoredAny;

use crate::options::{Args, IdleArg, RuntimeArg, TransportArg, Workload};
use crate::peer::{sink_port, Remote};
use crate::report;

/// How long one timed run may take before it counts as failed.
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// Untimed messages (or round trips) before each timed run.
const WARM_UP: u64 = 20_000;

/// Runs one workload and returns its line.
pub(crate) fn run(args: &Args, workload: Workload, payload: usize) -> Result<String, String> {
    match workload {
        Workload::Oneway => oneway(args, payload),
        Workload::Pingpong => pingpong(args),
        Workload::Local => local(args, payload),
        Workload::Rss => rss(args),
        Workload::Dataconn => dataconn(args),
    }
}

/// The options that differ from the defaults, as extra `key=value` fields.
fn extra(args: &Args) -> String {
    let mut out = String::new();
    if args.transport != TransportArg::Tcp {
        out.push_str(" transport=quic");
    }
    if args.runtime != RuntimeArg::AsyncIo {
        let name = if args.runtime == RuntimeArg::Tokio {
            "tokio"
        } else {
            "smol"
        };
        out.push_str(&format!(" runtime={name}"));
    }
    if args.framing != crate::options::FramingArg::Cbor {
        let name = match args.framing {
            crate::options::FramingArg::Json => "json",
            _ => "aemp-postcard1",
        };
        out.push_str(&format!(" framing={name}"));
    }
    if args.idle == IdleArg::Spin {
        out.push_str(" idle=spin");
    }
    if args.cert.is_some() {
        out.push_str(" tls=1");
    }
    out
}

/// A node of the first process, connected to the second.
fn local_node_for(args: &Args, remote: &Remote) -> Result<Node, String> {
    let any = match args.transport {
        TransportArg::Tcp => "127.0.0.1:0",
        TransportArg::Quic => "quic:127.0.0.1:0",
    };
    let id = format!("bench-{}", std::process::id());
    let node = args.start(args.builder(&id).binds([any]).seeds([remote.addr.as_str()]))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.node_is_up(&remote.node) {
        if Instant::now() > deadline {
            return Err("the two processes did not connect within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(node)
}

/// A port whose messages come out of the returned channel.
fn report_port(node: &Node) -> (PortId, Receiver<Message>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let port = node.port_with(move |msg| {
        let _ = tx.lock().unwrap().send(msg);
    });
    (port, rx)
}

/// Sends `["begin", n, report]` and the messages `1..=n` to `sink`, then waits for the
/// sink's verdict; returns the seconds from the first message to the verdict.
fn stream(
    node: &Node,
    sink: &PortId,
    report: (&PortId, &Receiver<Message>),
    n: u64,
    payload: &str,
) -> Result<f64, String> {
    let (report, verdicts) = report;
    let fail = |e: aemp_node::Error| format!("snd: {e}");
    node.snd(sink, ("begin", n, report)).map_err(fail)?;
    let start = Instant::now();
    for seq in 1..=n {
        node.snd(sink, ("m", seq, payload)).map_err(fail)?;
    }
    let verdict = verdicts
        .recv_timeout(RUN_LIMIT)
        .map_err(|_| format!("no verdict from the receiver within {RUN_LIMIT:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    match verdict.tag() {
        Some("done") => Ok(secs),
        _ => Err(format!(
            "sequence violation at the receiver (expected, got): {verdict}"
        )),
    }
}

fn oneway(args: &Args, payload: usize) -> Result<String, String> {
    let n = args
        .n
        .unwrap_or(if payload > 256 { 1_000_000 } else { 3_000_000 });
    let remote = Remote::start(args)?;
    let node = local_node_for(args, &remote)?;
    let (report, verdicts) = report_port(&node);
    let text = "x".repeat(payload);
    stream(&node, &remote.sink, (&report, &verdicts), WARM_UP, &text)?;
    let secs = stream(&node, &remote.sink, (&report, &verdicts), n, &text)?;
    node.shutdown();
    Ok(report::oneway(payload, n, secs, &extra(args)))
}

fn local(args: &Args, payload: usize) -> Result<String, String> {
    let n = args.n.unwrap_or(3_000_000);
    let id = format!("bench-local-{}", std::process::id());
    let any = match args.transport {
        TransportArg::Tcp => "127.0.0.1:0",
        TransportArg::Quic => "quic:127.0.0.1:0",
    };
    let node = args.start(args.builder(&id).binds([any]))?;
    let sink = sink_port(&node);
    let (report, verdicts) = report_port(&node);
    let text = "x".repeat(payload);
    stream(&node, &sink, (&report, &verdicts), WARM_UP, &text)?;
    let secs = stream(&node, &sink, (&report, &verdicts), n, &text)?;
    node.shutdown();
    Ok(report::local(payload, n, secs, &extra(args)))
}

/// Round trips driven from a port handler: each pong sends the next ping.
struct Pinger {
    echo: PortId,
    me: Arc<OnceLock<PortId>>,
    sent: Instant,
    seq: u64,
    n: u64,
    micros: Vec<f64>,
    done: mpsc::Sender<Vec<f64>>,
}

impl Pinger {
    fn on_pong(&mut self, node: &Node, msg: Message) {
        if msg.decode::<(IgnoredAny, u64)>().map(|m| m.1) != Ok(self.seq) {
            return;
        }
        self.micros.push(self.sent.elapsed().as_secs_f64() * 1e6);
        if self.seq == self.n {
            let _ = self.done.send(std::mem::take(&mut self.micros));
            return;
        }
        self.ping(node);
    }

    fn ping(&mut self, node: &Node) {
        self.seq += 1;
        self.sent = Instant::now();
        if let Some(me) = self.me.get() {
            let _ = node.snd(&self.echo, ("ping", self.seq, me));
        }
    }
}

/// `n` round trips; the round-trip times in microseconds.
fn round_trips(node: &Node, echo: &PortId, n: u64) -> Result<Vec<f64>, String> {
    let (done, finished) = mpsc::channel();
    let me = Arc::new(OnceLock::new());
    let pinger = Arc::new(Mutex::new(Pinger {
        echo: echo.clone(),
        me: me.clone(),
        sent: Instant::now(),
        seq: 0,
        n,
        micros: Vec::with_capacity(n as usize),
        done,
    }));
    let p = pinger.clone();
    let nd = node.clone();
    let port = node.port_with(move |msg| p.lock().unwrap().on_pong(&nd, msg));
    let _ = me.set(port.clone());
    pinger.lock().unwrap().ping(node);
    let micros = finished
        .recv_timeout(RUN_LIMIT)
        .map_err(|_| "the round trips did not finish".to_owned());
    node.kil(&port, Vec::<aemp_node::Value>::new());
    micros
}

fn pingpong(args: &Args) -> Result<String, String> {
    let n = args.n.unwrap_or(30_000);
    let remote = Remote::start(args)?;
    let node = local_node_for(args, &remote)?;
    round_trips(&node, &remote.echo, 2_000)?;
    let micros = round_trips(&node, &remote.echo, n)?;
    node.shutdown();
    Ok(report::pingpong(micros, &extra(args)))
}

/// One large transfer through a data connection and through plain TCP, alternating, three
/// times each; the best of each (the machine is shared: the best is the least disturbed).
fn dataconn(args: &Args) -> Result<String, String> {
    let bytes = args.n.unwrap_or(1024) << 20;
    let remote = Remote::start(args)?;
    let node = local_node_for(args, &remote)?;
    crate::bulk::through_data_connection(&node, &remote.node, 16 << 20)?;
    let (mut data, mut raw) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        data = data.min(crate::bulk::through_data_connection(
            &node,
            &remote.node,
            bytes,
        )?);
        raw = raw.min(crate::bulk::through_raw_tcp(&remote.raw, bytes)?);
    }
    node.shutdown();
    Ok(report::dataconn(bytes, data, raw, &extra(args)))
}

/// The resident memory of an idle node process, with its proportional share (`pss`:
/// pages shared with the first process, which runs the same program, count half) and its
/// anonymous memory (`anon`: heap and stacks, what the node itself allocated).
fn rss(args: &Args) -> Result<String, String> {
    let remote = Remote::start(args)?;
    std::thread::sleep(Duration::from_secs(1));
    let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", remote.pid()))
        .map_err(|e| format!("cannot read the second process's memory: {e}"))?;
    let field = |name: &str| {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(format!("no {name} in smaps_rollup"))
    };
    let (rss, pss, anon) = (field("Rss:")?, field("Pss:")?, field("Anonymous:")?);
    Ok(format!(
        "rss_idle_kib={rss} pss_kib={pss} anon_kib={anon}{}",
        extra(args)
    ))
}
