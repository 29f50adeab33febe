//! Replays of the Perl reference captures with a Rust `NodeCore` in the place of one Perl
//! node.
//!
//! For each capture the core gets the Perl node's node ID, secret and configuration, does
//! the API calls the Perl script did, and is fed (through scripted peer connections) the
//! packets the other Perl nodes sent it, at the recorded times. The packets the core sends
//! back are compared with what the Perl node sent, with port names mapped, map entries and
//! set-like lists sorted, and the order between unrelated packets ignored (see
//! `capture::assert_same_packets`). Every place where the Rust core legitimately differs
//! from Perl is taken out of the expected packets by name, with the reason.

#[path = "common/capture.rs"]
mod capture;
#[path = "common/peer.rs"]
mod peer;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aemp_proto::node::{split_port_id, MonitorAction, NodeConfig, NodeCore, Output};
use aemp_proto::{Framing, Value};
use capture::{assert_same_packets, perl_only, rust_differs, Capture, PortMap, Step};
use peer::{node_config, pkt, s, Dial, Harness};

/// The addresses the Perl nodes advertised (their relay ports).
const SEED: &str = "127.0.0.1:15040";
const RECV: &str = "127.0.0.1:15042";
const SEED2: &str = "127.0.0.1:15045";

fn at(h: &Harness, t: f64) -> std::time::Instant {
    h.start + Duration::from_secs_f64(t)
}

/// The framing the Perl node `node` used towards `peer` on connection `conn`: the scripted
/// peer offers only that one, so the core sends in it too.
fn framing_towards(cap: &Capture, conn: usize, node: &str) -> Vec<Framing> {
    cap.conns[conn]
        .from(node)
        .framing
        .map_or_else(|| vec![Framing::Cbor], |f| vec![f])
}

/// The packets the Perl node `node` sent on connection `conn`.
fn perl_sent(cap: &Capture, conn: usize, node: &str) -> Vec<Vec<Value>> {
    cap.conns[conn]
        .from(node)
        .messages
        .iter()
        .map(|m| m.packet.clone())
        .collect()
}

// =========================================================================================
// The seed role: the core is `seed`, the first global node. Its seeds are its own address
// (it dials itself once, is refused, and runs the global service) and, in 17/18, seed2's.

struct SeedReplay {
    cap: Capture,
    h: Harness,
    /// Capture connection index -> harness peer index.
    conns: BTreeMap<usize, usize>,
}

fn replay_seed(prefix: &str) -> SeedReplay {
    let cap = Capture::load(prefix);
    assert!(cap.has_node("seed"), "{}: no seed", cap.name);
    let two_globals = cap.has_node("seed2");
    let mut cfg = node_config("seed");
    cfg.binds = vec![SEED.into()];
    cfg.seeds = vec![SEED.into()];
    if two_globals {
        cfg.seeds.push(SEED2.into());
    }
    let mut h = Harness::new(cfg);
    h.on_dial(SEED, Dial::Loopback);
    // seed2 starts about a second after seed: until it has dialled us, nobody listens there.
    h.on_dial(SEED2, Dial::Refused);
    let mut conns = BTreeMap::new();
    for step in cap.timeline("seed") {
        let t = at(&h, step.t);
        h.advance_to(t);
        match step.step {
            Step::Open {
                conn,
                peer,
                inbound,
            } => {
                assert!(inbound, "{}: the Perl seed dialled {peer}", cap.name);
                h.peer_framings(&peer, framing_towards(&cap, conn, "seed"));
                let p = h.connect_peer(&peer);
                assert!(h.peers[p].is_open(), "{}: {peer} connects", cap.name);
                conns.insert(conn, p);
                if peer == "seed2" {
                    h.on_dial(SEED2, Dial::Peer("seed2".into()));
                }
            }
            Step::Packet { conn, packet, .. } => h.send(conns[&conn], packet),
            Step::End { conn, .. } => h.drop_peer(conns[&conn], "Unexpected end-of-file"),
        }
    }
    h.run();
    assert!(
        h.core.is_global(),
        "{}: the seed runs the global service",
        cap.name
    );
    SeedReplay { cap, h, conns }
}

impl SeedReplay {
    /// Compares what the core sent on every connection with what the Perl seed sent;
    /// `edit` applies the documented differences for one peer.
    fn check(&self, edit: impl Fn(&str, &mut Vec<Vec<Value>>)) {
        for (&conn, &p) in &self.conns {
            let peer = &self.h.peers[p].node;
            let mut expected = perl_sent(&self.cap, conn, "seed");
            edit(peer, &mut expected);
            let label = format!(
                "{} conn#{} seed -> {peer}",
                self.cap.name, self.cap.conns[conn].id
            );
            assert_same_packets(&label, &self.h.peers[p].received, &expected);
        }
    }
}

/// Seed role, one global node: the Rust seed sends exactly what the Perl seed sent.
fn seed_role(prefix: &str) {
    let r = replay_seed(prefix);
    assert!(r.conns.len() >= 2, "{}: replayed connections", r.cap.name);
    r.check(|_, _| {});
}

#[test]
fn seed_role_01_db_messages_cbor() {
    seed_role("01-");
}

#[test]
fn seed_role_02_monitors_cbor() {
    seed_role("02-");
}

#[test]
fn seed_role_03_nodedown_cbor() {
    // recv is killed: the seed deletes its entries, tells send (g_chg2 with the deleted
    // keys) and then answers g_find recv with null.
    seed_role("03-");
}

#[test]
fn seed_role_04_spawn_cbor() {
    seed_role("04-");
}

#[test]
fn seed_role_05_wrong_secret_cbor() {
    seed_role("05-");
}

#[test]
fn seed_role_05b_no_secret_cbor() {
    seed_role("05b-");
}

#[test]
fn seed_role_06_nodeport_misc_cbor() {
    seed_role("06-");
}

#[test]
fn seed_role_07_db_messages_json() {
    seed_role("07-");
}

#[test]
fn seed_role_08_monitors_json() {
    seed_role("08-");
}

#[test]
fn seed_role_09_nodedown_json() {
    seed_role("09-");
}

#[test]
fn seed_role_10_spawn_json() {
    seed_role("10-");
}

#[test]
fn seed_role_11_wrong_secret_json() {
    seed_role("11-");
}

#[test]
fn seed_role_12_nodeport_misc_json() {
    seed_role("12-");
}

#[test]
fn seed_role_13_mixed_framing() {
    seed_role("13-");
}

#[test]
fn seed_role_14_json_only_send() {
    seed_role("14-");
}

#[test]
fn seed_role_15_python_peer() {
    seed_role("15-");
}

#[test]
fn seed_role_16_secure_recv() {
    seed_role("16-");
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

fn addrs(a: &str) -> Value {
    Value::Array(vec![s(a)])
}

/// The documented differences between the Rust seed and the Perl seed towards the other
/// global node, seed2.
fn towards_seed2(peer: &str, expected: &mut Vec<Vec<Value>>) {
    if peer != "seed2" {
        return;
    }
    let none = Value::Array(vec![]);
    perl_only(
        expected,
        &[
            s(""),
            s("g_upd"),
            s("'g"),
            map(&[("seed2", Value::Null)]),
            none.clone(),
        ],
        "a Perl global adds every global node it hears of to its own 'g entries and tells \
         it so; the Rust core's own 'g entry names only itself (each global announces \
         itself, so the merged 'g family is the same)",
    );
    perl_only(
        expected,
        &[
            s(""),
            s("g_upd"),
            s("'l"),
            map(&[("seed2", addrs(SEED2))]),
            none,
        ],
        "Perl echoes seed2's own address entry back to seed2 once; seed2 owns it already",
    );
    perl_only(
        expected,
        &pkt(&["", "g_slave"]),
        "Perl's seed connect to seed2's address finds seed2 connected already and then \
         sends the argument-less g_slave on the existing connection; the Rust core sends \
         it when a seed connection comes up. To a node that runs the global service \
         already, it means nothing",
    );
    let perl_set = vec![
        s(""),
        s("g_set"),
        map(&[
            ("'g", map(&[("seed", Value::Null), ("seed2", Value::Null)])),
            ("'l", map(&[("seed", addrs(SEED))])),
        ]),
    ];
    let rust_set = vec![
        s(""),
        s("g_set"),
        map(&[
            ("'g", map(&[("seed", Value::Null)])),
            ("'l", map(&[("seed", addrs(SEED))])),
        ]),
    ];
    rust_differs(expected, &perl_set, rust_set, "the 'g entries, as above");
}

#[test]
fn seed_role_17_two_globals_cbor() {
    // seed2 dials seed, both run the global service: g_global both ways, g_set of each
    // one's own (and slaves') entries, then g_upd for every change of a slave (send is
    // seed's slave here, recv is seed2's).
    let r = replay_seed("17-");
    r.check(towards_seed2);
    global_view_of_two_globals(r);
}

#[test]
fn seed_role_18_two_globals_json() {
    // Here seed2 first made seed its master (g_slave with its database) and only then
    // started its own global service: its entries must not be echoed back to it.
    let r = replay_seed("18-");
    r.check(towards_seed2);
    global_view_of_two_globals(r);
}

/// After a two-globals run the Rust seed knows every node's entries, whichever global
/// node they were registered with.
fn global_view_of_two_globals(mut r: SeedReplay) {
    use aemp_proto::node::DbQuery;
    let keys = r.h.core.db_query(DbQuery::Keys, "aemptest");
    let globals = r.h.core.db_query(DbQuery::Keys, "'g");
    let nodes = r.h.core.db_query(DbQuery::Keys, "'l");
    r.h.run();
    let outs = r.h.take_outputs();
    let reply = |id| {
        outs.iter()
            .find_map(|o| match o {
                Output::DbReply { id: i, result } if *i == id => Some(result.clone()),
                _ => None,
            })
            .expect("a reply")
    };
    let keys_of = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        keys_of(reply(keys)),
        ["main", "p_custom", "p_die", "p_normal", "p_victim"],
        "{}",
        r.cap.name
    );
    assert_eq!(keys_of(reply(globals)), ["seed", "seed2"], "{}", r.cap.name);
    // send has gone; recv (seed2's slave or ours), seed and seed2 remain.
    assert_eq!(
        keys_of(reply(nodes)),
        ["recv", "seed", "seed2"],
        "{}",
        r.cap.name
    );
}

// =========================================================================================
// The recv role: the core is `recv`, a plain node whose seed is `seed`. Like the Perl test
// script it creates the ports main, p_custom, p_die, p_normal and p_victim, registers them
// with db_set aemptest => NAME => PORT (and db_reg aemptest_reg => p_custom), sets and
// deletes aemptest_late/late_key half a second and 1.5 s after send connected, and reacts
// to messages as the script's handlers did.

const RECV_PORTS: [&str; 5] = ["main", "p_custom", "p_die", "p_normal", "p_victim"];

/// The application of the Perl `recv` script, driving the core.
struct RecvApp {
    /// Script name (main, p_custom, ...) -> port name.
    ports: BTreeMap<String, String>,
    /// Spawned port name -> the spawner's port ID (the init function's first argument).
    parents: HashMap<String, String>,
    /// Everything the core handed to the application.
    seen: Vec<Output>,
}

impl RecvApp {
    fn start(core: &mut NodeCore) -> RecvApp {
        let mut ports = BTreeMap::new();
        for name in RECV_PORTS {
            let id = core.port();
            core.db_set("aemptest", name, s(&id));
            ports.insert(name.to_owned(), split_port_id(&id).1.to_owned());
        }
        let custom = format!("recv#{}", ports["p_custom"]);
        assert!(core.db_reg("aemptest_reg", &custom, Value::Null));
        RecvApp {
            ports,
            parents: HashMap::new(),
            seen: Vec::new(),
        }
    }

    fn script_name(&self, port: &str) -> Option<&str> {
        self.ports
            .iter()
            .find(|(_, p)| *p == port)
            .map(|(n, _)| n.as_str())
    }

    fn react(&mut self, core: &mut NodeCore, out: Output) {
        match &out {
            Output::Deliver { port, msg } => {
                let me = format!("recv#{port}");
                let tag = msg.first().and_then(Value::as_str).unwrap_or("");
                if let Some(parent) = self.parents.get(port).cloned() {
                    match tag {
                        "ping" => {
                            let mut reply = vec![s("pong"), s(&me)];
                            reply.extend(msg[1..].iter().cloned());
                            core.snd(&parent, reply);
                        }
                        "quit" => core.kil(&me, pkt(&["spawnee_quit", "asked to quit"])),
                        _ => {}
                    }
                }
                match (self.script_name(port), tag) {
                    (Some("p_custom"), "kill_me") => {
                        core.kil(&me, pkt(&["custom_error", "reason"]))
                    }
                    // The Perl handler dies; the kernel kills the port with the exception.
                    (Some("p_die"), "boom") => {
                        core.kil(&me, pkt(&["die", "exception in rcv callback"]))
                    }
                    (Some("p_normal"), "bye") => core.kil(&me, vec![]),
                    _ => {}
                }
            }
            Output::Spawn { port, func, args } => {
                let me = format!("recv#{port}");
                if func == "AEMPTest::Spawnee::init" {
                    // mon $parent; snd $parent, spawned => $SELF, @args
                    let parent = args[0].as_str().expect("parent port").to_owned();
                    core.monitor(&parent, MonitorAction::Callback);
                    let mut reply = vec![s("spawned"), s(&me)];
                    reply.extend(args[1..].iter().cloned());
                    core.snd(&parent, reply);
                    self.parents.insert(port.clone(), parent);
                } else {
                    core.kil(
                        &me,
                        vec![s("die"), s(&format!("unable to resolve function '{func}'"))],
                    );
                }
            }
            _ => {}
        }
        self.seen.push(out);
    }
}

/// Runs the harness and lets the application react until everything is quiet, as the
/// Perl event loop would before reading the next packet.
fn settle(h: &mut Harness, app: &mut RecvApp) {
    loop {
        h.run();
        let outs = h.take_outputs();
        if outs.is_empty() {
            return;
        }
        for out in outs {
            app.react(&mut h.core, out);
        }
    }
}

/// The Perl recv's port names, from the database it sent its master.
fn perl_recv_ports(cap: &Capture) -> BTreeMap<String, String> {
    let db = ["seed", "seed2"]
        .iter()
        .flat_map(|m| cap.sent("recv", m))
        .find_map(|p| match p.as_slice() {
            [_, tag, db] if tag.as_str() == Some("g_slave") => Some(db.clone()),
            _ => None,
        })
        .expect("recv sent its database");
    db.get("aemptest")
        .and_then(Value::as_map)
        .expect("aemptest family")
        .iter()
        .map(|(k, v)| {
            let id = v.as_str().expect("port id");
            (
                k.as_str().unwrap().to_owned(),
                split_port_id(id).1.to_owned(),
            )
        })
        .collect()
}

struct RecvReplay {
    cap: Capture,
    h: Harness,
    app: RecvApp,
    map: PortMap,
    conns: BTreeMap<usize, usize>,
}

fn late_value() -> Value {
    map(&[
        (
            "a",
            Value::Array(vec![Value::Int(1), Value::Int(2), s("three")]),
        ),
        ("n", Value::Null),
    ])
}

fn replay_recv(prefix: &str, secure: bool) -> RecvReplay {
    let cap = Capture::load(prefix);
    let mut cfg: NodeConfig = node_config("recv");
    cfg.binds = vec![RECV.into()];
    cfg.seeds = vec![SEED.into()];
    cfg.secure = secure;
    let mut h = Harness::new(cfg);
    h.on_dial(SEED, Dial::Peer("seed".into()));
    let timeline = cap.timeline("recv");
    for step in &timeline {
        if let Step::Open { conn, peer, .. } = &step.step {
            h.peer_framings(peer, framing_towards(&cap, *conn, "recv"));
        }
    }
    let mut app = RecvApp::start(&mut h.core);
    let mut map = PortMap::default();
    for (name, perl) in perl_recv_ports(&cap) {
        map.add(&perl, &app.ports[&name]);
    }
    // The Perl script's clock readings, so that `time` answers compare exactly.
    let mut clock: Vec<f64> = cap
        .sent("recv", "send")
        .into_iter()
        .chain(cap.sent("recv", "pyclient"))
        .filter_map(|p| match p.last() {
            Some(Value::Float(f)) => Some(*f),
            _ => None,
        })
        .collect();
    clock.reverse();
    let send_open = cap
        .conns
        .iter()
        .find(|c| c.authenticated && c.other("recv") == Some("send"))
        .and_then(|c| c.open)
        .expect("send connects to recv");
    let mut late = vec![(send_open + 0.5, true), (send_open + 1.5, false)];
    late.reverse();
    let mut conns = BTreeMap::new();
    let mut run_late = |h: &mut Harness, app: &mut RecvApp, until: f64| {
        while let Some(&(t, set)) = late.last().filter(|(t, _)| *t <= until) {
            late.pop();
            let when = at(h, t);
            h.advance_to(when);
            if set {
                h.core.db_set("aemptest_late", "late_key", late_value());
            } else {
                h.core.db_del("aemptest_late", &["late_key".into()]);
            }
            settle(h, app);
        }
    };
    for step in timeline {
        run_late(&mut h, &mut app, step.t);
        let when = at(&h, step.t);
        h.advance_to(when);
        settle(&mut h, &mut app);
        match step.step {
            Step::Open {
                conn,
                peer,
                inbound: true,
            } => {
                let p = h.connect_peer(&peer);
                conns.insert(conn, p);
            }
            Step::Open {
                conn,
                peer,
                inbound: false,
            } => {
                let p = h
                    .open_peer_of(&peer)
                    .unwrap_or_else(|| panic!("{}: the core dialled {peer}", cap.name));
                conns.insert(conn, p);
            }
            Step::Packet { conn, packet, .. } => {
                if packet.get(1).and_then(Value::as_str) == Some("time") {
                    let t = clock.pop().expect("a recorded time answer");
                    let now = h.now;
                    h.core.set_unix_time(now, t);
                }
                h.send(conns[&conn], map.to_rust(&packet));
            }
            Step::End { conn, .. } => h.drop_peer(conns[&conn], "Unexpected end-of-file"),
        }
        settle(&mut h, &mut app);
    }
    run_late(&mut h, &mut app, f64::MAX);
    settle(&mut h, &mut app);
    RecvReplay {
        cap,
        h,
        app,
        map,
        conns,
    }
}

impl RecvReplay {
    /// Compares what the core sent on every connection with what the Perl recv sent;
    /// `edit` applies the documented differences for one peer.
    fn check(&self, edit: impl Fn(&str, &mut Vec<Vec<Value>>)) {
        for (&conn, &p) in &self.conns {
            let peer = &self.h.peers[p].node;
            let mut expected = perl_sent(&self.cap, conn, "recv");
            if peer == "seed" {
                towards_master(&mut expected);
            }
            edit(peer, &mut expected);
            let actual: Vec<Vec<Value>> = self.h.peers[p]
                .received
                .iter()
                .map(|packet| self.map.to_perl(packet))
                .collect();
            let label = format!(
                "{} conn#{} recv -> {peer}",
                self.cap.name, self.cap.conns[conn].id
            );
            assert_same_packets(&label, &actual, &expected);
        }
    }

    /// The messages the application's port `name` received.
    fn delivered(&self, name: &str) -> Vec<Vec<Value>> {
        let port = &self.app.ports[name];
        self.app
            .seen
            .iter()
            .filter_map(|o| match o {
                Output::Deliver { port: p, msg } if p == port => Some(msg.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The documented differences between a Rust slave and a Perl slave towards the master.
fn towards_master(expected: &mut Vec<Vec<Value>>) {
    perl_only(
        expected,
        &pkt(&["", "g_slave"]),
        "Perl sends the argument-less g_slave twice to its seed (once when the connection \\
         comes up, once more from its seed-connect bookkeeping); the Rust core once",
    );
    perl_only(
        expected,
        &pkt(&["", "g_find", "seed"]),
        "Perl asks its master for the master's own addresses; the Rust core is connected \\
         to it and has no use for them",
    );
}

fn recv_role(prefix: &str, secure: bool) -> RecvReplay {
    let r = replay_recv(prefix, secure);
    assert!(r.conns.len() >= 2, "{}: replayed connections", r.cap.name);
    r
}

fn hello_messages() -> Vec<Vec<Value>> {
    let mut msgs: Vec<Vec<Value>> = (1..=5)
        .map(|n| pkt(&["msg", &n.to_string(), &format!("hello {n}")]))
        .collect();
    msgs.push(vec![
        s("complex"),
        map(&[
            (
                "list",
                Value::Array(vec![Value::Int(1), Value::Float(2.5), s("x")]),
            ),
            ("nested", map(&[("k", s("v"))])),
            ("undef", Value::Null),
        ]),
        Value::Int(-7),
        s("☺"),
    ]);
    msgs
}

fn check_db_messages(prefix: &str) {
    let r = recv_role(prefix, false);
    r.check(|_, _| {});
    let got: Vec<Vec<Value>> = r.delivered("main").iter().map(|m| canon_msg(m)).collect();
    let want: Vec<Vec<Value>> = hello_messages().iter().map(|m| canon_msg(m)).collect();
    assert_eq!(got, want, "{}: main got the messages in order", r.cap.name);
}

fn canon_msg(m: &[Value]) -> Vec<Value> {
    m.iter().map(capture::canon).collect()
}

#[test]
fn recv_role_01_db_messages_cbor() {
    check_db_messages("01-");
}

#[test]
fn recv_role_07_db_messages_json() {
    check_db_messages("07-");
}

#[test]
fn recv_role_13_mixed_framing() {
    check_db_messages("13-");
}

fn check_monitors(prefix: &str) {
    // kil0 for the missing port, kil0 with the reason of each death (custom reason, the
    // handler's exception, normal kill, remote kil1), no kil0 for main after mon0, the
    // message to the missing port dropped, and the db_reg entry of p_custom deleted.
    let r = recv_role(prefix, false);
    r.check(|_, _| {});
    assert!(r.delivered("main").is_empty(), "{}", r.cap.name);
    for gone in ["p_custom", "p_die", "p_normal", "p_victim"] {
        assert!(!r.h.core.port_exists(&r.app.ports[gone]), "{gone} died");
    }
    assert!(r.h.core.port_exists(&r.app.ports["main"]));
}

#[test]
fn recv_role_02_monitors_cbor() {
    check_monitors("02-");
}

#[test]
fn recv_role_08_monitors_json() {
    check_monitors("08-");
}

#[test]
fn recv_role_14_monitors_json_only_send() {
    check_monitors("14-");
}

fn check_spawn(prefix: &str) {
    // The spawned port monitors its parent and answers; the unknown init function kills
    // its port before the spawner's mon1 arrives, so that gets no_such_port.
    let r = recv_role(prefix, false);
    r.check(|_, _| {});
    let spawns: Vec<&Output> = r
        .app
        .seen
        .iter()
        .filter(|o| matches!(o, Output::Spawn { .. }))
        .collect();
    assert_eq!(spawns.len(), 2, "{}", r.cap.name);
    // send went away: the spawnee's monitor on its parent fired with transport_error.
    assert!(r.app.seen.iter().any(|o| matches!(o,
        Output::MonitorFired { reason, .. } if reason.first() == Some(&s("transport_error")))));
}

#[test]
fn recv_role_04_spawn_cbor() {
    check_spawn("04-");
}

#[test]
fn recv_role_10_spawn_json() {
    check_spawn("10-");
}

fn check_nodeport_misc(prefix: &str) {
    let r = recv_role(prefix, false);
    r.check(|peer, expected| {
        if peer != "send" {
            return;
        }
        let reply = expected
            .iter()
            .find(|p| p.get(1).and_then(Value::as_str) == Some("eval_reply"))
            .expect("an eval reply")[0]
            .clone();
        rust_differs(
            expected,
            &[reply.clone(), s("eval_reply"), s(""), Value::Int(5)],
            vec![
                reply,
                s("eval_reply"),
                s("eval is not supported by this node"),
            ],
            "a Rust node never evaluates Perl code (spec section 5)",
        );
    });
    assert_eq!(
        r.delivered("main"),
        vec![pkt(&["relayed via snd_on"])],
        "{}: the snd relay",
        r.cap.name
    );
    let calls: Vec<&Output> = r
        .app
        .seen
        .iter()
        .filter(|o| matches!(o, Output::Call { .. }))
        .collect();
    assert_eq!(
        calls,
        [&Output::Call {
            func: "AEMPTest::Spawnee::nosuch_func".into(),
            args: vec![Value::Int(1)]
        }],
        "{}",
        r.cap.name
    );
}

#[test]
fn recv_role_06_nodeport_misc_cbor() {
    check_nodeport_misc("06-");
}

#[test]
fn recv_role_12_nodeport_misc_json() {
    check_nodeport_misc("12-");
}

#[test]
fn recv_role_05_wrong_secret_cbor() {
    let r = recv_role("05-", false);
    r.check(|_, _| {});
    assert_eq!(
        r.delivered("main"),
        vec![pkt(&["msg", "authenticated hello"])]
    );
}

#[test]
fn recv_role_15_python_peer() {
    // The minimal foreign client: mon1 (live and missing port), time, can, a message,
    // kil1 of the monitored port, and a keepalive.
    let r = recv_role("15-", false);
    r.check(|_, _| {});
    let main = r.delivered("main");
    assert_eq!(main.len(), 2, "{main:?}");
    assert!(!r.h.core.port_exists(&r.app.ports["p_victim"]));
}

#[test]
fn recv_role_16_secure() {
    // secure => 1: the spawn and the eval are refused (no port, no reply), so the
    // spawner's mon1 gets no_such_port; time and plain messages still work.
    let r = recv_role("16-", true);
    r.check(|_, _| {});
    assert!(!r
        .app
        .seen
        .iter()
        .any(|o| matches!(o, Output::Spawn { .. } | Output::Call { .. })));
    assert_eq!(
        r.delivered("main"),
        vec![pkt(&["msg", "plain message still works"])]
    );
}
