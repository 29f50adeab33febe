//! Real processes, real sockets, real faults. Four nodes (a seed, two receivers, a
//! sender) run as separate processes of this test binary, each in its own network
//! namespace, joined by a bridge in a namespace of their own. While the sender streams
//! sequenced messages to both receivers under monitors, the test freezes a receiver past
//! `monitor_timeout` (SIGSTOP/SIGCONT), takes a receiver's link down and up again (a
//! partition that heals), and kills a receiver (SIGKILL) and starts it again. Then it
//! checks the AEMP guarantee end to end (every monitor epoch received a gap-free prefix of
//! what was sent; every loss was reported by its monitor) and that the database views of
//! all nodes converged.
//!
//! Needs root and `ip` (iproute2); without them it says so and passes, unless
//! `AEMP_REQUIRE_NETNS=1` (set by CI) makes that a failure. Only namespaces, links and
//! addresses it created are touched; all go when it ends, failed or not.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aemp_node::{Message, MonitorGuard, Node, PortId, Value};

const MONITOR_TIMEOUT: Duration = Duration::from_secs(2);
const SECRET: &str = "fault-secret";
const PORT: u16 = 4040;
/// How long the sender streams.
const STREAM: Duration = Duration::from_secs(24);
/// Node index -> (role, node ID).
const NODES: [(&str, &str); 4] = [
    ("seed", "seed"),
    ("receiver", "r1"),
    ("receiver", "r2"),
    ("sender", "s"),
];

fn main() {
    match std::env::var("AEMP_FAULT_ROLE") {
        Ok(role) => run_role(&role),
        Err(_) => run_test(),
    }
}

// ---------------------------------------------------------------------------------------
// The nodes.

fn addr(i: usize) -> String {
    format!("10.77.0.{}:{PORT}", i + 1)
}

fn start_node(id: &str, index: usize) -> Node {
    Node::builder()
        .norc()
        .node_id(id)
        .secret(SECRET)
        .monitor_timeout(MONITOR_TIMEOUT)
        .connect_interval(Duration::from_millis(400))
        .binds([addr(index)])
        .seeds([addr(0)])
        .start()
        .expect("the node starts")
}

fn run_role(role: &str) {
    let index: usize = std::env::var("AEMP_FAULT_INDEX").unwrap().parse().unwrap();
    let node = start_node(NODES[index].1, index);
    match role {
        "seed" => {}
        "receiver" => receiver(&node),
        "sender" => {
            let node = node.clone();
            std::thread::spawn(move || sender(&node));
        }
        other => panic!("unknown role {other}"),
    }
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Prints every database view of family `inboxes` as `VIEW port,port,...`.
fn print_views(node: &Node, also: impl Fn(&BTreeSet<String>) + Send + 'static) {
    node.db_mon("inboxes", move |change| {
        let ports: BTreeSet<String> = change.family.keys().cloned().collect();
        println!(
            "VIEW {}",
            ports.iter().cloned().collect::<Vec<_>>().join(",")
        );
        also(&ports);
    })
    .detach();
}

/// An inbox registered in `inboxes`, printing `RECV epoch seq` for each message.
fn receiver(node: &Node) {
    let inbox = node.port_with(|m: Message| {
        if let [Value::Str(tag), Value::Str(epoch), seq] = m.into_vec().as_slice() {
            if tag == "seq" {
                println!("RECV {epoch} {}", seq.as_i64().unwrap_or(-1));
            }
        }
    });
    println!("PORT {inbox}");
    node.db_reg("inboxes", &inbox, ()).unwrap().detach();
    print_views(node, |_| {});
}

/// One stretch of monitored sending to one inbox.
struct Epoch {
    id: String,
    seq: i64,
    lost: Arc<AtomicBool>,
    _monitor: MonitorGuard,
}

/// Streams `["seq", epoch, n]` to every inbox in view, a new epoch (and monitor) after
/// each loss, printing `EPOCH id port`, `SENT id n` and `FIRED id reason`.
fn sender(node: &Node) {
    let view = Arc::new(Mutex::new(BTreeSet::new()));
    let shared = view.clone();
    print_views(node, move |ports| *shared.lock().unwrap() = ports.clone());
    let mut epochs: HashMap<String, Epoch> = HashMap::new();
    let mut count = 0;
    let end = Instant::now() + STREAM;
    while Instant::now() < end {
        let ports = view.lock().unwrap().clone();
        for port in ports {
            let id = PortId::from(port.as_str());
            if epochs
                .get(&port)
                .is_none_or(|e| e.lost.load(Ordering::SeqCst))
            {
                count += 1;
                let epoch = format!("e{count}");
                let lost = Arc::new(AtomicBool::new(false));
                let (flag, name) = (lost.clone(), epoch.clone());
                let monitor = node.mon(&id, move |reason| {
                    flag.store(true, Ordering::SeqCst);
                    println!("FIRED {name} {reason:?}");
                });
                println!("EPOCH {epoch} {port}");
                epochs.insert(
                    port.clone(),
                    Epoch {
                        id: epoch,
                        seq: 0,
                        lost,
                        _monitor: monitor,
                    },
                );
            }
            let e = epochs.get_mut(&port).unwrap();
            e.seq += 1;
            println!("SENT {} {}", e.id, e.seq);
            let _ = node.snd(&id, ("seq", e.id.as_str(), e.seq));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("DONE");
    // Keep the monitors: the check reads their firings until the end.
    std::mem::forget(epochs);
}

// ---------------------------------------------------------------------------------------
// The test: namespaces, processes, faults, checks.

/// Runs `ip` with `args`, panicking with its output on failure.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("runs ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// What one process printed, each line with when it arrived.
type Lines = Arc<Mutex<Vec<(Duration, String)>>>;

/// The namespaces, links and processes of one run; dropping it removes them all.
struct Lab {
    tag: String,
    started: Instant,
    procs: Vec<(usize, Child, Lines)>,
}

impl Lab {
    fn ns(&self, i: usize) -> String {
        format!("{}-{i}", self.tag)
    }

    fn hub(&self) -> String {
        format!("{}-hub", self.tag)
    }

    /// The hub's end of node `i`'s link.
    fn hub_link(&self, i: usize) -> String {
        format!("{}h{i}", &self.tag[..8])
    }

    fn new() -> Lab {
        let tag = format!("aempf{:05}", std::process::id() % 100_000);
        let lab = Lab {
            tag,
            started: Instant::now(),
            procs: Vec::new(),
        };
        let hub = lab.hub();
        ip(&["netns", "add", &hub]);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        for i in 0..NODES.len() {
            let ns = lab.ns(i);
            let (node_end, hub_end) = (format!("{}n{i}", &lab.tag[..8]), lab.hub_link(i));
            ip(&["netns", "add", &ns]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&[
                "-n", &hub, "link", "add", &hub_end, "type", "veth", "peer", "name", &node_end,
                "netns", &ns,
            ]);
            ip(&["-n", &hub, "link", "set", &hub_end, "master", "br0"]);
            ip(&["-n", &hub, "link", "set", &hub_end, "up"]);
            let cidr = format!("10.77.0.{}/24", i + 1);
            ip(&["-n", &ns, "addr", "add", &cidr, "dev", &node_end]);
            ip(&["-n", &ns, "link", "set", &node_end, "up"]);
        }
        lab
    }

    fn at(&self) -> Duration {
        self.started.elapsed()
    }

    /// Starts node `i` in its namespace.
    fn spawn(&mut self, i: usize) {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns(i)])
            .arg(exe)
            .env("AEMP_FAULT_ROLE", NODES[i].0)
            .env("AEMP_FAULT_INDEX", i.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts a node");
        let lines: Lines = Arc::default();
        let (sink, stdout, started) = (lines.clone(), child.stdout.take().unwrap(), self.started);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push((started.elapsed(), line));
            }
        });
        self.procs.push((i, child, lines));
        self.wait_for(i, "READY");
    }

    /// The newest process of node `i`.
    fn proc(&mut self, i: usize) -> &mut (usize, Child, Lines) {
        self.procs.iter_mut().rev().find(|p| p.0 == i).unwrap()
    }

    fn wait_for(&mut self, i: usize, prefix: &str) {
        let lines = self.proc(i).2.clone();
        let end = Instant::now() + Duration::from_secs(20);
        while !lines
            .lock()
            .unwrap()
            .iter()
            .any(|(_, l)| l.starts_with(prefix))
        {
            assert!(Instant::now() < end, "node {i} never printed {prefix}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&mut self, i: usize) -> u32 {
        self.proc(i).1.id()
    }

    fn sleep_until(&self, t: Duration) {
        if let Some(rest) = t.checked_sub(self.at()) {
            std::thread::sleep(rest);
        }
    }

    fn log(&self, what: &str) {
        eprintln!("faults: {:>6.2}s {what}", self.at().as_secs_f64());
    }

    /// Every line of every process of node `i`, oldest process first.
    fn lines_of(&self, i: usize) -> Vec<Vec<String>> {
        self.procs
            .iter()
            .filter(|p| p.0 == i)
            .map(|p| p.2.lock().unwrap().iter().map(|(_, l)| l.clone()).collect())
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.procs {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        for i in 0..NODES.len() {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.hub()])
            .status();
    }
}

fn netns_available() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let ip = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|o| o.status.success());
    root && ip
}

fn run_test() {
    if !netns_available() {
        let required = std::env::var("AEMP_REQUIRE_NETNS").is_ok_and(|v| v == "1");
        eprintln!("faults: skipped: needs root and ip (iproute2) for network namespaces");
        assert!(
            !required,
            "AEMP_REQUIRE_NETNS=1 but network namespaces are unavailable"
        );
        return;
    }
    let mut lab = Lab::new();
    for i in 0..NODES.len() {
        lab.spawn(i);
    }
    lab.log("all nodes started");
    let (r1, r2) = (1, 2);
    let t0 = lab.at();
    let mt = MONITOR_TIMEOUT;

    lab.sleep_until(t0 + Duration::from_secs(3));
    let pid = lab.pid(r1);
    signal(pid, "-STOP");
    lab.log("r1 frozen");
    lab.sleep_until(t0 + Duration::from_secs(3) + mt * 2);
    signal(pid, "-CONT");
    lab.log("r1 thawed");

    lab.sleep_until(t0 + Duration::from_secs(10));
    let link = lab.hub_link(r2);
    ip(&["-n", &lab.hub(), "link", "set", &link, "down"]);
    lab.log("r2's link down");
    lab.sleep_until(t0 + Duration::from_secs(10) + mt * 2);
    ip(&["-n", &lab.hub(), "link", "set", &link, "up"]);
    lab.log("r2's link up");

    lab.sleep_until(t0 + Duration::from_secs(17));
    let pid = lab.pid(r1);
    signal(pid, "-KILL");
    lab.log("r1 killed");
    lab.sleep_until(t0 + Duration::from_secs(18));
    lab.spawn(r1);
    lab.log("r1 started again");

    lab.wait_for(3, "DONE");
    lab.log("the sender is done; letting the last messages arrive");
    std::thread::sleep(mt * 2);
    check(&lab);
}

/// What the sender did in one epoch.
#[derive(Default, Debug)]
struct SentEpoch {
    port: String,
    sent: i64,
    fired: Option<String>,
}

fn check(lab: &Lab) {
    let sender = lab.lines_of(3).concat();
    let mut epochs: BTreeMap<String, SentEpoch> = BTreeMap::new();
    for line in &sender {
        let words: Vec<&str> = line.splitn(3, ' ').collect();
        match words.as_slice() {
            ["EPOCH", id, port] => {
                epochs.entry(id.to_string()).or_default().port = port.to_string()
            }
            ["SENT", id, n] => epochs.entry(id.to_string()).or_default().sent = n.parse().unwrap(),
            ["FIRED", id, why] => {
                epochs.entry(id.to_string()).or_default().fired = Some(why.to_string())
            }
            _ => {}
        }
    }
    let mut received: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for i in [1, 2] {
        for line in lab.lines_of(i).concat() {
            if let ["RECV", id, n] = line.split(' ').collect::<Vec<_>>().as_slice() {
                received
                    .entry(id.to_string())
                    .or_default()
                    .push(n.parse().unwrap());
            }
        }
    }
    let mut failures = Vec::new();
    let (mut sent_total, mut received_total, mut fired) = (0, 0, 0);
    for (id, e) in &epochs {
        let got = received.get(id).map(Vec::as_slice).unwrap_or_default();
        sent_total += e.sent;
        received_total += got.len() as i64;
        fired += usize::from(e.fired.is_some());
        let prefix = got.iter().copied().eq(1..=got.len() as i64);
        if !prefix {
            failures.push(format!(
                "epoch {id} to {}: not a gap-free prefix: {got:?}",
                e.port
            ));
        }
        if (got.len() as i64) < e.sent && e.fired.is_none() {
            failures.push(format!(
                "epoch {id} to {}: {} of {} arrived and the monitor never fired",
                e.port,
                got.len(),
                e.sent
            ));
        }
    }
    eprintln!(
        "faults: {} epochs, {fired} ended by their monitor; {sent_total} messages sent, \
         {received_total} received",
        epochs.len()
    );
    for (id, e) in &epochs {
        let got = received.get(id).map_or(0, Vec::len);
        eprintln!(
            "  {id} -> {}: sent {}, received {got}, monitor {:?}",
            e.port, e.sent, e.fired
        );
    }
    assert!(
        failures.is_empty(),
        "the guarantee broke:\n{}",
        failures.join("\n")
    );
    assert!(
        fired >= 3,
        "the freeze, the link loss and the kill each end an epoch: {fired}"
    );

    // The views: the last one of every live process is the same, the live inboxes.
    let live_inboxes: BTreeSet<String> = [1, 2]
        .iter()
        .filter_map(|&i| {
            lab.lines_of(i)
                .last()?
                .iter()
                .find_map(|l| l.strip_prefix("PORT "))
                .map(String::from)
        })
        .collect();
    // The seed (node 0) does not watch.
    for (i, (_, id)) in NODES.iter().enumerate().skip(1) {
        let last = lab
            .lines_of(i)
            .last()
            .and_then(|lines| {
                lines
                    .iter()
                    .rev()
                    .find_map(|l| l.strip_prefix("VIEW "))
                    .map(String::from)
            })
            .unwrap_or_default();
        let view: BTreeSet<String> = last
            .split(',')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        assert_eq!(view, live_inboxes, "the last view of {id}");
    }
    eprintln!("faults: every view converged to {live_inboxes:?}");
}
