//! Node-port requests, monitor actions and the global database, each checked on the wire:
//! the `NodeCore` under test talks to a scripted peer (a plain `Connection` with its own
//! node ID) and every packet the peer gets back is compared exactly.

#[path = "common/peer.rs"]
mod peer;

use std::time::Duration;

use aemp_proto::node::{split_port_id, DbQuery, Event, MonitorAction, MonitorId};
use aemp_proto::Value;
use peer::{node_config, pkt, s, Dial, Harness};

/// The core is node `recv`; a scripted node `send` is connected to it.
fn fixture() -> (Harness, usize) {
    fixture_with(|_| {})
}

fn fixture_with(tweak: impl FnOnce(&mut aemp_proto::node::NodeConfig)) -> (Harness, usize) {
    let mut cfg = node_config("recv");
    cfg.binds = vec!["127.0.0.1:15042".into()];
    tweak(&mut cfg);
    let mut h = Harness::new(cfg);
    let send = h.connect_peer("send");
    assert!(h.peers[send].is_open(), "handshake with the scripted peer");
    assert_eq!(
        h.take_events(),
        vec![Event::NodeUp {
            node: "send".into()
        }]
    );
    assert!(
        h.take(send).is_empty(),
        "a plain node says nothing on connect"
    );
    (h, send)
}

/// A new local port: (port ID, port name).
fn port(h: &mut Harness) -> (String, String) {
    let id = h.core.port();
    let name = split_port_id(&id).1.to_owned();
    (id, name)
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

fn list(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|i| s(i)).collect())
}

fn with(mut packet: Vec<Value>, extra: Vec<Value>) -> Vec<Value> {
    packet.extend(extra);
    packet
}

/// A monitor firing with `reason`.
fn monitor_fired(id: MonitorId, reason: Vec<Value>) -> Event {
    Event::MonitorFired { id, reason }
}

/// A message for the local port `port`.
fn deliver(port: impl AsRef<str>, msg: Vec<Value>) -> Event {
    Event::Deliver {
        port: port.as_ref().into(),
        msg: msg.into(),
    }
}

/// The scripted peer sends `packet`: nothing comes of it, neither outputs nor an answer.
fn assert_ignored(packet: Vec<Value>) {
    let (mut h, send) = fixture();
    h.send(send, packet);
    assert!(h.take_events().is_empty());
    assert!(h.take(send).is_empty());
}

fn port_died(outputs: &[Event], name: &str) -> Option<Vec<Value>> {
    outputs.iter().find_map(|o| match o {
        Event::PortDied { port, reason } if port == name => Some(reason.clone()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------
// mon1 / mon0

#[test]
fn mon1_on_a_port_then_kill_with_reason_sends_kil0_with_that_reason() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    h.send(send, pkt(&["", "mon1", &name]));
    assert!(h.take(send).is_empty(), "mon1 on a live port has no answer");
    h.core.kil(&id, pkt(&["custom_error", "reason"]), h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![pkt(&["", "kil0", &name, "custom_error", "reason"])]
    );
    assert_eq!(
        port_died(&h.take_events(), &name),
        Some(pkt(&["custom_error", "reason"]))
    );
}

#[test]
fn mon1_then_normal_kill_sends_kil0_without_reason() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    h.send(send, pkt(&["", "mon1", &name]));
    h.send(send, pkt(&["", "mon1", &name]));
    h.core.kil(&id, vec![], h.now);
    h.run();
    // Capture 02: `["", "kil0", P]` with nothing after the port name; a repeated mon1 from
    // the same node does not double it.
    assert_eq!(h.take(send), vec![pkt(&["", "kil0", &name])]);
}

#[test]
fn mon1_on_a_missing_port_answers_no_such_port_at_once() {
    let (mut h, send) = fixture();
    h.send(send, pkt(&["", "mon1", "nosuchport"]));
    assert_eq!(
        h.take(send),
        vec![pkt(&[
            "",
            "kil0",
            "nosuchport",
            "no_such_port",
            "cannot monitor nonexistent port",
            "recv#nosuchport",
        ])]
    );
}

#[test]
fn mon1_on_a_port_that_already_died_answers_no_such_port() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    h.core.kil(&id, vec![], h.now);
    h.send(send, pkt(&["", "mon1", &name]));
    assert_eq!(
        h.take(send),
        vec![pkt(&[
            "",
            "kil0",
            &name,
            "no_such_port",
            "cannot monitor nonexistent port",
            &format!("recv#{name}"),
        ])]
    );
}

#[test]
fn mon0_cancels_the_remote_monitor() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    h.send(send, pkt(&["", "mon1", &name]));
    h.send(send, pkt(&["", "mon0", &name]));
    h.core.kil(&id, pkt(&["custom_error", "reason"]), h.now);
    h.run();
    assert!(h.take(send).is_empty(), "no kil0 after mon0");
    assert!(port_died(&h.take_events(), &name).is_some());
}

#[test]
fn mon0_for_an_unknown_port_is_harmless() {
    let (mut h, send) = fixture();
    h.send(send, pkt(&["", "mon0", "nosuchport"]));
    let (id, name) = port(&mut h);
    h.send(send, pkt(&["", "mon1", &name]));
    h.core.kil(&id, vec![], h.now);
    h.run();
    assert_eq!(h.take(send), vec![pkt(&["", "kil0", &name])]);
}

// ---------------------------------------------------------------------------------------
// kil0 / kil1

#[test]
fn kil0_fires_our_monitors_on_that_remote_port_with_the_reason() {
    let (mut h, send) = fixture();
    let a = h
        .core
        .monitor("send#victim", MonitorAction::Callback, h.now);
    let b = h
        .core
        .monitor("send#victim", MonitorAction::Callback, h.now);
    let other = h
        .core
        .monitor("send#bystander", MonitorAction::Callback, h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![
            pkt(&["", "mon1", "victim"]),
            pkt(&["", "mon1", "bystander"])
        ]
    );
    h.send(
        send,
        pkt(&["", "kil0", "victim", "remote_reason", "killed by send"]),
    );
    let reason = pkt(&["remote_reason", "killed by send"]);
    let outs = h.take_events();
    assert!(outs.contains(&monitor_fired(a, reason.clone())));
    assert!(outs.contains(&monitor_fired(b, reason)));
    assert_eq!(outs.len(), 2, "{outs:?}");
    assert_eq!(h.core.monitor_count(), 1, "the bystander monitor is left");
    // Perl forgets the monitors when kil0 arrives, so nothing goes back on the wire.
    assert!(h.take(send).is_empty());
    h.core.unmonitor(other, h.now);
    h.run();
    assert_eq!(h.take(send), vec![pkt(&["", "mon0", "bystander"])]);
}

#[test]
fn kil0_for_a_port_we_do_not_monitor_is_ignored() {
    assert_ignored(pkt(&["", "kil0", "whatever", "die", "x"]));
}

#[test]
fn kil1_kills_our_port_and_its_local_monitors_fire_with_the_reason() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    let m = h.core.monitor(&id, MonitorAction::Callback, h.now);
    h.send(send, pkt(&["", "mon1", &name]));
    h.send(
        send,
        pkt(&["", "kil1", &name, "remote_reason", "killed by send"]),
    );
    let reason = pkt(&["remote_reason", "killed by send"]);
    let outs = h.take_events();
    assert!(outs.contains(&monitor_fired(m, reason.clone())));
    assert_eq!(port_died(&outs, &name), Some(reason));
    assert!(!h.core.port_exists(&name));
    // Capture 02: the killer monitored the port too and gets kil0 with the same reason.
    assert_eq!(
        h.take(send),
        vec![pkt(&["", "kil0", &name, "remote_reason", "killed by send"])]
    );
}

#[test]
fn kil1_without_reason_is_a_normal_kill() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    let m = h.core.monitor(&id, MonitorAction::Callback, h.now);
    h.send(send, pkt(&["", "kil1", &name]));
    let outs = h.take_events();
    assert!(outs.contains(&monitor_fired(m, vec![])));
    assert_eq!(port_died(&outs, &name), Some(vec![]));
}

#[test]
fn kil1_for_a_missing_port_is_ignored() {
    assert_ignored(pkt(&["", "kil1", "nosuchport", "die", "x"]));
}

#[test]
fn kil_of_a_remote_port_sends_kil1() {
    let (mut h, send) = fixture();
    h.core.kil(
        "send#victim",
        pkt(&["remote_reason", "killed by recv"]),
        h.now,
    );
    h.run();
    assert_eq!(
        h.take(send),
        vec![pkt(&[
            "",
            "kil1",
            "victim",
            "remote_reason",
            "killed by recv"
        ])]
    );
}

// ---------------------------------------------------------------------------------------
// snd, can, time, devnull, keepalive, eval

#[test]
fn snd_relays_to_a_local_port() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    h.send(send, pkt(&["", "snd", &id, "relayed via snd_on"]));
    assert_eq!(
        h.take_events(),
        vec![deliver(name, pkt(&["relayed via snd_on"]))]
    );
}

#[test]
fn snd_relays_to_a_remote_port() {
    let (mut h, send) = fixture();
    h.send(
        send,
        vec![s(""), s("snd"), s("send#reply"), s("echo"), Value::Int(42)],
    );
    assert_eq!(
        h.take(send),
        vec![vec![s("reply"), s("echo"), Value::Int(42)]]
    );
}

#[test]
fn can_answers_1_for_known_and_empty_for_unknown_requests() {
    let (mut h, send) = fixture();
    h.send(
        send,
        pkt(&["", "can", "mon1", "send#l77XlNr3Ub", "can_mon1"]),
    );
    h.send(
        send,
        pkt(&["", "can", "g_whatever", "send#l77XlNr3Ub", "can_other"]),
    );
    // Exactly capture 06's answers.
    assert_eq!(
        h.take(send),
        vec![
            pkt(&["l77XlNr3Ub", "can_mon1", "1"]),
            pkt(&["l77XlNr3Ub", "can_other", ""]),
        ]
    );
    for known in [
        "mon0", "mon1", "kil0", "kil1", "snd", "can", "time", "devnull", "eval",
    ] {
        h.send(send, pkt(&["", "can", known, "send#r"]));
        assert_eq!(h.take(send), vec![pkt(&["r", "1"])], "can {known}");
    }
}

#[test]
fn can_without_reply_port_sends_nothing() {
    assert_ignored(pkt(&["", "can", "mon1"]));
}

#[test]
fn time_answers_the_wall_clock_as_a_float() {
    let (mut h, send) = fixture();
    let now = h.now;
    h.core.set_unix_time(now, 1_795_711_153.790_448_2);
    h.send(send, pkt(&["", "time", "send#l77XlNr3Ub", "time_reply"]));
    assert_eq!(
        h.take(send),
        vec![vec![
            s("l77XlNr3Ub"),
            s("time_reply"),
            Value::Float(1_795_711_153.790_448_2)
        ]]
    );
    h.advance(Duration::from_millis(1500));
    h.send(send, pkt(&["", "time", "send#r"]));
    let got = h.take(send);
    assert_eq!(got.len(), 1);
    match got[0].as_slice() {
        [Value::Str(r), Value::Float(t)] if r == "r" => {
            assert!((t - 1_795_711_155.290_448_2).abs() < 1e-6, "{t}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn devnull_empty_tag_and_keepalive_are_ignored() {
    let (mut h, send) = fixture();
    let before = h.core.stats();
    h.send(
        send,
        vec![s(""), s("devnull"), Value::Int(1), Value::Int(2)],
    );
    h.send(send, pkt(&["", ""]));
    h.send(send, pkt(&[""]));
    h.send(send, vec![]);
    assert!(h.take(send).is_empty());
    assert!(h.take_events().is_empty());
    assert_eq!(h.core.stats(), before);
    assert!(h.peers[send].is_open());
}

#[test]
fn eval_is_answered_with_not_supported() {
    let (mut h, send) = fixture();
    h.send(
        send,
        pkt(&["", "eval", "2+3", "send#l77XlNr3Ub", "eval_reply"]),
    );
    assert_eq!(
        h.take(send),
        vec![pkt(&[
            "l77XlNr3Ub",
            "eval_reply",
            "eval is not supported by this node"
        ])]
    );
    h.send(send, pkt(&["", "eval", "2+3"]));
    assert!(h.take(send).is_empty(), "no reply port, no answer");
    assert!(h.take_events().is_empty(), "nothing is executed");
}

#[test]
fn eval_of_up_nodes_answers_like_aemp_trace_expects() {
    let (mut h, send) = fixture();
    let other = h.connect_peer("other");
    h.take_events();
    h.send(
        send,
        pkt(&[
            "",
            "eval",
            "AnyEvent::MP::Kernel::up_nodes",
            "send#trace",
            "recv",
        ]),
    );
    assert_eq!(
        h.take(send),
        vec![pkt(&["trace", "recv", "", "other", "send"])]
    );
    assert!(h.take(other).is_empty());
}

// ---------------------------------------------------------------------------------------
// function calls and spawn

#[test]
fn a_named_function_becomes_a_call_output() {
    let (mut h, send) = fixture();
    h.send(
        send,
        vec![s(""), s("AEMPTest::Spawnee::nosuch_func"), Value::Int(1)],
    );
    assert_eq!(
        h.take_events(),
        vec![Event::Call {
            func: "AEMPTest::Spawnee::nosuch_func".into(),
            args: vec![Value::Int(1)]
        }]
    );
    assert!(h.take(send).is_empty());
}

#[test]
fn spawn_creates_the_named_port_and_asks_for_the_init_function() {
    let (mut h, send) = fixture();
    let args = map(&[("k", s("v"))]);
    h.send(
        send,
        vec![
            s(""),
            s("AnyEvent::MP::_spawn"),
            s("fuwc8KyWmUd"),
            s("AEMPTest::Spawnee::init"),
            s("send#bSoToYziqc"),
            s("arg1"),
            args.clone(),
        ],
    );
    assert!(h.core.port_exists("fuwc8KyWmUd"));
    assert_eq!(
        h.take_events(),
        vec![Event::Spawn {
            port: "fuwc8KyWmUd".into(),
            func: "AEMPTest::Spawnee::init".into(),
            args: vec![s("send#bSoToYziqc"), s("arg1"), args]
        }]
    );
    // The spawner's mon1 right behind the spawn finds the port, messages reach it.
    h.send(send, pkt(&["", "mon1", "fuwc8KyWmUd"]));
    h.send(
        send,
        vec![s("fuwc8KyWmUd"), s("ping"), s("p1"), Value::Int(42)],
    );
    assert_eq!(
        h.take_events(),
        vec![deliver(
            "fuwc8KyWmUd",
            vec![s("ping"), s("p1"), Value::Int(42)]
        )]
    );
    h.core.kil(
        "recv#fuwc8KyWmUd",
        pkt(&["spawnee_quit", "asked to quit"]),
        h.now,
    );
    h.run();
    assert_eq!(
        h.take(send),
        vec![pkt(&[
            "",
            "kil0",
            "fuwc8KyWmUd",
            "spawnee_quit",
            "asked to quit"
        ])]
    );
}

#[test]
fn spawn_of_an_existing_port_name_is_ignored() {
    let (mut h, send) = fixture();
    let (_, name) = port(&mut h);
    h.send(
        send,
        pkt(&["", "AnyEvent::MP::_spawn", &name, "AEMPTest::Spawnee::init"]),
    );
    assert!(h.take_events().is_empty());
}

#[test]
fn secure_mode_refuses_spawn_eval_and_calls_but_not_the_rest() {
    let (mut h, send) = fixture_with(|cfg| cfg.secure = true);
    let (_, main) = port(&mut h);
    // The requests of capture 16, in its order.
    h.send(
        send,
        pkt(&[
            "",
            "AnyEvent::MP::_spawn",
            "OutXHAYfJPc",
            "AEMPTest::Spawnee::init",
            "send#7DL8qRJiib",
            "arg1",
        ]),
    );
    h.send(send, pkt(&["", "mon1", "OutXHAYfJPc"]));
    h.send(
        send,
        pkt(&["", "eval", "2+3", "send#7DL8qRJiib", "eval_reply"]),
    );
    h.send(send, pkt(&["", "AEMPTest::Spawnee::nosuch_func", "x"]));
    h.send(
        send,
        pkt(&[
            "",
            "eval",
            "AnyEvent::MP::Kernel::up_nodes",
            "send#7DL8qRJiib",
        ]),
    );
    let now = h.now;
    h.core.set_unix_time(now, 1_795_711_229.184_383_4);
    h.send(send, pkt(&["", "time", "send#7DL8qRJiib", "time_reply"]));
    h.send(send, pkt(&[&main, "msg", "plain message still works"]));
    assert!(!h.core.port_exists("OutXHAYfJPc"));
    assert_eq!(
        h.take(send),
        vec![
            pkt(&[
                "",
                "kil0",
                "OutXHAYfJPc",
                "no_such_port",
                "cannot monitor nonexistent port",
                "recv#OutXHAYfJPc",
            ]),
            vec![
                s("7DL8qRJiib"),
                s("time_reply"),
                Value::Float(1_795_711_229.184_383_4)
            ],
        ]
    );
    assert_eq!(
        h.take_events(),
        vec![deliver(main, pkt(&["msg", "plain message still works"]))]
    );
}

// ---------------------------------------------------------------------------------------
// port messages

#[test]
fn a_message_to_a_missing_port_is_dropped() {
    let (mut h, send) = fixture();
    h.send(send, pkt(&["nosuchport", "into the void"]));
    assert!(h.take_events().is_empty());
    assert!(h.take(send).is_empty());
    assert!(h.peers[send].is_open(), "the connection stays up");
}

#[test]
fn a_packet_with_a_non_string_port_name_is_ignored() {
    let (mut h, send) = fixture();
    let (_, name) = port(&mut h);
    h.send(send, vec![Value::Int(5), s("x")]);
    h.send(send, vec![Value::Null, s("x")]);
    h.send(send, vec![Value::Array(vec![s(&name)]), s("x")]);
    h.send(send, vec![map(&[("a", Value::Int(1))])]);
    assert!(h.take_events().is_empty());
    assert!(h.take(send).is_empty());
    assert!(h.peers[send].is_open(), "the connection stays up");
    h.send(send, pkt(&[&name, "still", "works"]));
    assert_eq!(
        h.take_events(),
        vec![deliver(name, pkt(&["still", "works"]))]
    );
}

#[test]
fn messages_arrive_in_order_with_their_values() {
    let (mut h, send) = fixture();
    let (_, name) = port(&mut h);
    let complex = vec![
        s(&name),
        s("complex"),
        map(&[
            ("nested", map(&[("k", s("v"))])),
            (
                "list",
                Value::Array(vec![Value::Int(1), Value::Float(2.5), s("x")]),
            ),
            ("undef", Value::Null),
        ]),
        Value::Int(-7),
        s("☺"),
    ];
    for n in 1..=5 {
        let n = n.to_string();
        h.peers[send]
            .conn
            .send(&pkt(&[&name, "msg", &n, &format!("hello {n}")]));
    }
    h.send(send, complex.clone());
    let outs = h.take_events();
    assert_eq!(outs.len(), 6);
    for (i, out) in outs.iter().take(5).enumerate() {
        let n = (i + 1).to_string();
        assert_eq!(
            out,
            &deliver(name.clone(), pkt(&["msg", &n, &format!("hello {n}")]))
        );
    }
    assert_eq!(outs[5], deliver(name, complex[1..].to_vec()));
}

// ---------------------------------------------------------------------------------------
// monitor actions

#[test]
fn callback_monitor_on_a_local_port_fires_once() {
    let (mut h, _) = fixture();
    let (id, _) = port(&mut h);
    let m = h.core.monitor(&id, MonitorAction::Callback, h.now);
    h.core.kil(&id, pkt(&["oops"]), h.now);
    h.core.kil(&id, pkt(&["again"]), h.now);
    h.run();
    let fired: Vec<_> = h
        .take_events()
        .into_iter()
        .filter(|o| matches!(o, Event::MonitorFired { .. }))
        .collect();
    assert_eq!(fired, vec![monitor_fired(m, pkt(&["oops"]))]);
    assert_eq!(h.core.monitor_count(), 0);
}

#[test]
fn monitoring_a_missing_local_port_fires_no_such_port_at_once() {
    let (mut h, _) = fixture();
    let m = h.core.monitor("recv#gone", MonitorAction::Callback, h.now);
    h.run();
    assert_eq!(
        h.take_events(),
        vec![monitor_fired(
            m,
            pkt(&[
                "no_such_port",
                "cannot monitor nonexistent port",
                "recv#gone"
            ])
        )]
    );
}

#[test]
fn kill_action_kills_the_linked_port_only_on_abnormal_death() {
    let (mut h, send) = fixture();
    let (a, a_name) = port(&mut h);
    let (b, b_name) = port(&mut h);
    h.core.monitor(&a, MonitorAction::Kill(b.clone()), h.now);
    h.core.kil(&a, vec![], h.now);
    h.run();
    assert!(h.core.port_exists(&b_name), "a normal kill does nothing");
    assert_eq!(h.core.monitor_count(), 0, "but the monitor is used up");

    let (c, _) = port(&mut h);
    h.core.monitor(&c, MonitorAction::Kill(b.clone()), h.now);
    h.send(send, pkt(&["", "mon1", &b_name]));
    h.core.kil(&c, pkt(&["custom_error", "reason"]), h.now);
    h.run();
    let outs = h.take_events();
    assert_eq!(port_died(&outs, &a_name), Some(vec![]));
    assert_eq!(
        port_died(&outs, &b_name),
        Some(pkt(&["custom_error", "reason"])),
        "the linked port dies with the same reason"
    );
    assert_eq!(
        h.take(send),
        vec![pkt(&["", "kil0", &b_name, "custom_error", "reason"])]
    );
}

#[test]
fn kill_action_on_a_remote_port_links_through_kil0() {
    let (mut h, send) = fixture();
    let (b, b_name) = port(&mut h);
    h.core
        .monitor("send#x", MonitorAction::Kill(b.clone()), h.now);
    h.core
        .monitor("send#y", MonitorAction::Kill(b.clone()), h.now);
    h.run();
    h.take(send);
    h.send(send, pkt(&["", "kil0", "x"]));
    assert!(h.core.port_exists(&b_name), "normal death of x: b lives");
    h.send(
        send,
        pkt(&["", "kil0", "y", "die", "exception in rcv callback"]),
    );
    assert_eq!(
        port_died(&h.take_events(), &b_name),
        Some(pkt(&["die", "exception in rcv callback"]))
    );
}

#[test]
fn kill_action_can_kill_a_remote_port() {
    let (mut h, send) = fixture();
    let (a, _) = port(&mut h);
    h.core
        .monitor(&a, MonitorAction::Kill("send#partner".into()), h.now);
    h.core.kil(&a, pkt(&["custom_error", "reason"]), h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![pkt(&["", "kil1", "partner", "custom_error", "reason"])]
    );
}

#[test]
fn send_action_sends_the_message_with_the_reason_appended() {
    let (mut h, send) = fixture();
    // Capture 02: `mon p_custom, $reply, 'mon_msg_form', 'extra'` on a remote port.
    h.core.monitor(
        "send#p_custom",
        MonitorAction::Send("send#VFSLsUmr8b".into(), pkt(&["mon_msg_form", "extra"])),
        h.now,
    );
    let (a, _) = port(&mut h);
    h.core.monitor(
        &a,
        MonitorAction::Send("send#VFSLsUmr8b".into(), pkt(&["local_form"])),
        h.now,
    );
    h.run();
    assert_eq!(h.take(send), vec![pkt(&["", "mon1", "p_custom"])]);
    h.send(
        send,
        pkt(&["", "kil0", "p_custom", "custom_error", "reason"]),
    );
    h.core.kil(&a, vec![], h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![
            pkt(&[
                "VFSLsUmr8b",
                "mon_msg_form",
                "extra",
                "custom_error",
                "reason"
            ]),
            pkt(&["VFSLsUmr8b", "local_form"]),
        ]
    );
}

#[test]
fn monitors_are_one_shot() {
    let (mut h, send) = fixture();
    let m = h.core.monitor("send#p", MonitorAction::Callback, h.now);
    h.run();
    h.send(send, pkt(&["", "kil0", "p", "first"]));
    h.send(send, pkt(&["", "kil0", "p", "second"]));
    assert_eq!(h.take_events(), vec![monitor_fired(m, pkt(&["first"]))]);
    assert_eq!(h.core.monitor_count(), 0);
}

#[test]
fn one_mon1_per_remote_port_and_mon0_when_the_last_monitor_goes() {
    let (mut h, send) = fixture();
    let (dest, _) = port(&mut h);
    let a = h.core.monitor("send#main", MonitorAction::Callback, h.now);
    let b = h
        .core
        .monitor("send#main", MonitorAction::Kill(dest.clone()), h.now);
    let c = h.core.monitor(
        "send#main",
        MonitorAction::Send(dest.clone(), pkt(&["gone"])),
        h.now,
    );
    h.run();
    assert_eq!(h.take(send), vec![pkt(&["", "mon1", "main"])]);
    h.core.unmonitor(a, h.now);
    h.core.unmonitor(b, h.now);
    h.run();
    assert!(h.take(send).is_empty(), "a monitor is left");
    h.core.unmonitor(c, h.now);
    h.core.unmonitor(c, h.now);
    h.run();
    assert_eq!(h.take(send), vec![pkt(&["", "mon0", "main"])]);
    assert_eq!(h.core.monitor_count(), 0);
    h.send(send, pkt(&["", "kil0", "main", "late"]));
    assert!(h.take_events().is_empty(), "nothing left to fire");
    h.core.monitor("send#main", MonitorAction::Callback, h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![pkt(&["", "mon1", "main"])],
        "a new monitor after mon0 sends mon1 again"
    );
}

#[test]
fn unmonitor_of_a_local_monitor_keeps_it_from_firing() {
    let (mut h, _) = fixture();
    let (id, name) = port(&mut h);
    let m = h.core.monitor(&id, MonitorAction::Callback, h.now);
    h.core.unmonitor(m, h.now);
    h.core.kil(&id, pkt(&["x"]), h.now);
    h.run();
    assert_eq!(
        h.take_events(),
        vec![Event::PortDied {
            port: name,
            reason: pkt(&["x"])
        }]
    );
}

#[test]
fn connection_loss_fires_every_monitor_of_that_node_with_transport_error() {
    let (mut h, send) = fixture();
    let other = h.connect_peer("other");
    let (dest, dest_name) = port(&mut h);
    let (linked, linked_name) = port(&mut h);
    let m1 = h.core.monitor("send#a", MonitorAction::Callback, h.now);
    let m2 = h.core.monitor("send#b", MonitorAction::Callback, h.now);
    h.core.monitor(
        "send#b",
        MonitorAction::Send(dest.clone(), pkt(&["b_gone"])),
        h.now,
    );
    h.core
        .monitor("send#c", MonitorAction::Kill(linked.clone()), h.now);
    let m_other = h.core.monitor("other#a", MonitorAction::Callback, h.now);
    h.run();
    h.take_events();
    h.take(send);
    h.drop_peer(send, "Unexpected end-of-file");

    let outs = h.take_events();
    let reason = |o: &Event| match o {
        Event::MonitorFired { reason, .. } => reason.clone(),
        _ => unreachable!(),
    };
    let fired: Vec<_> = outs
        .iter()
        .filter(|o| matches!(o, Event::MonitorFired { .. }))
        .collect();
    assert_eq!(fired.len(), 2, "{outs:?}");
    for f in &fired {
        let r = reason(f);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0], s("transport_error"));
        assert_eq!(r[1], s("send"));
        assert!(matches!(&r[2], Value::Str(t) if !t.is_empty()), "{r:?}");
    }
    let ids: Vec<_> = fired
        .iter()
        .map(|o| match o {
            Event::MonitorFired { id, .. } => *id,
            _ => unreachable!(),
        })
        .collect();
    assert!(ids.contains(&m1) && ids.contains(&m2));
    let text = reason(fired[0]);
    let delivered = outs.iter().find_map(|o| match o {
        Event::Deliver { port, msg } if **port == *dest_name => Some(msg.clone().into_values()),
        _ => None,
    });
    assert_eq!(delivered, Some(with(pkt(&["b_gone"]), text.clone())));
    assert_eq!(port_died(&outs, &linked_name), Some(text));
    assert!(outs.contains(&Event::NodeDown {
        node: "send".into(),
        reason: reason(fired[0]),
    }));
    assert_eq!(
        h.core.monitor_count(),
        1,
        "only the other node's monitor is left"
    );
    assert!(!outs
        .iter()
        .any(|o| matches!(o, Event::MonitorFired { id, .. } if *id == m_other)));
    assert!(h.peers[other].is_open());
}

#[test]
fn monitoring_a_node_port_sends_no_mon1_and_fires_on_connection_loss() {
    let (mut h, send) = fixture();
    // Capture 03: `mon 'recv'` (the node port) puts nothing on the wire; only the
    // connection loss fires it.
    let by_name = h.core.monitor("send", MonitorAction::Callback, h.now);
    let by_id = h.core.monitor("send#", MonitorAction::Callback, h.now);
    let gone = h.core.monitor("send#", MonitorAction::Callback, h.now);
    h.core.unmonitor(gone, h.now);
    h.run();
    assert!(h.take(send).is_empty(), "no mon1/mon0 for the node port");
    assert!(h.take_events().is_empty(), "nothing fired yet");
    h.drop_peer(send, "Unexpected end-of-file");
    let fired: Vec<_> = h
        .take_events()
        .into_iter()
        .filter_map(|o| match o {
            Event::MonitorFired { id, reason } => Some((id, reason[..2].to_vec())),
            _ => None,
        })
        .collect();
    let reason = pkt(&["transport_error", "send"]);
    assert_eq!(fired, vec![(by_name, reason.clone()), (by_id, reason)]);
}

#[test]
fn a_failed_connection_attempt_discards_the_queue_and_fires_monitors() {
    let mut cfg = node_config("recv");
    cfg.monitor_timeout = Duration::from_secs(5);
    cfg.connect_interval = Duration::from_secs(1);
    let mut h = Harness::new(cfg);
    h.core.become_global(h.now);
    h.core
        .db_set("'l", "far", Value::Array(vec![s("10.0.0.9:4040")]), h.now);
    h.on_dial("10.0.0.9:4040", Dial::Refused);
    let m = h.core.monitor("far#p", MonitorAction::Callback, h.now);
    h.core.snd("far#p", pkt(&["lost 1"]), h.now);
    h.core.snd("far#p", pkt(&["lost 2"]), h.now);
    h.run();
    assert_eq!(h.core.stats().queued_packets, 3, "mon1 and two messages");
    h.advance(Duration::from_secs(6));
    assert!(h.dialled.len() >= 2, "it retried: {:?}", h.dialled);
    let outs = h.take_events();
    assert_eq!(
        outs,
        vec![monitor_fired(
            m,
            pkt(&["transport_error", "far", "connect timeout"])
        )]
    );
    assert_eq!(h.core.stats().queued_packets, 0);
    assert_eq!(h.core.stats().known_nodes, 0, "the node record is gone");

    // When the node is reachable later, none of the old packets arrive.
    h.on_dial("10.0.0.9:4040", Dial::Peer("far".into()));
    h.core.snd("far#p", pkt(&["fresh"]), h.now);
    h.advance(Duration::from_millis(10));
    let far = h.peer_of("far").expect("connected");
    assert_eq!(
        h.take(far),
        vec![pkt(&["", "g_global"]), pkt(&["p", "fresh"])]
    );
}

#[test]
fn queued_packets_go_out_in_order_once_connected() {
    let mut cfg = node_config("recv");
    cfg.connect_interval = Duration::from_secs(1);
    let mut h = Harness::new(cfg);
    h.core.become_global(h.now);
    h.core
        .db_set("'l", "far", Value::Array(vec![s("10.0.0.9:4040")]), h.now);
    h.on_dial("10.0.0.9:4040", Dial::Peer("far".into()));
    h.core.monitor("far#p", MonitorAction::Callback, h.now);
    for n in 1..=3 {
        h.core.snd("far#p", pkt(&["msg", &n.to_string()]), h.now);
    }
    h.advance(Duration::from_millis(10));
    let far = h.peer_of("far").expect("connected");
    // Node-up work (a global node's `g_global`) goes out first, then the queue in order,
    // as in the original's transport_connect.
    assert_eq!(
        h.take(far),
        vec![
            pkt(&["", "g_global"]),
            pkt(&["", "mon1", "p"]),
            pkt(&["p", "msg", "1"]),
            pkt(&["p", "msg", "2"]),
            pkt(&["p", "msg", "3"]),
        ]
    );
}

#[test]
fn an_unmonitored_port_dying_with_a_reason_breaks_nothing() {
    let (mut h, send) = fixture();
    let (id, name) = port(&mut h);
    let (_, other) = port(&mut h);
    h.core
        .kil(&id, pkt(&["die", "exception in rcv callback"]), h.now);
    h.run();
    assert_eq!(
        h.take_events(),
        vec![Event::PortDied {
            port: name.clone(),
            reason: pkt(&["die", "exception in rcv callback"])
        }]
    );
    assert!(!h.core.port_exists(&name));
    assert!(h.take(send).is_empty(), "nothing on the wire");
    h.send(send, pkt(&[&other, "still alive"]));
    assert_eq!(h.take_events().len(), 1);
}

// ---------------------------------------------------------------------------------------
// the global database, with the core as global node and scripted slaves

/// The core is the global node `seed` (advertising 127.0.0.1:15040); `recv` is connected
/// and has announced itself as a slave with the database of capture 01.
fn global_fixture() -> (Harness, usize) {
    let mut cfg = node_config("seed");
    cfg.binds = vec!["127.0.0.1:15040".into()];
    let mut h = Harness::new(cfg);
    h.core.become_global(h.now);
    let recv = h.connect_peer("recv");
    assert_eq!(h.take(recv), vec![pkt(&["", "g_global"])]);
    h.send(recv, pkt(&["", "g_slave"]));
    h.send(
        recv,
        vec![
            s(""),
            s("g_slave"),
            map(&[
                ("aemptest_reg", map(&[("recv#SRKjqiECHc", Value::Null)])),
                (
                    "aemptest",
                    map(&[
                        ("p_custom", s("recv#SRKjqiECHc")),
                        ("main", s("recv#SRKjqiECHb")),
                    ]),
                ),
                ("'l", map(&[("recv", list(&["127.0.0.1:15042"]))])),
            ]),
        ],
    );
    assert!(h.take(recv).is_empty(), "g_slave has no answer");
    h.take_events();
    (h, recv)
}

#[test]
fn g_slave_db_is_merged_into_the_global_database() {
    let (mut h, _) = global_fixture();
    let id = h.core.db_query(DbQuery::Family, "aemptest", h.now);
    h.run();
    assert_eq!(
        h.take_events(),
        vec![Event::DbReply {
            id,
            result: map(&[
                ("main", s("recv#SRKjqiECHb")),
                ("p_custom", s("recv#SRKjqiECHc"))
            ])
        }]
    );
}

#[test]
fn g_find_answers_known_unknown_and_own_addresses() {
    let (mut h, recv) = global_fixture();
    h.send(recv, pkt(&["", "g_find", "recv"]));
    h.send(recv, pkt(&["", "g_find", "seed"]));
    h.send(recv, pkt(&["", "g_find", "nobody"]));
    assert_eq!(
        h.take(recv),
        vec![
            vec![s(""), s("g_found"), s("recv"), list(&["127.0.0.1:15042"])],
            vec![s(""), s("g_found"), s("seed"), list(&["127.0.0.1:15040"])],
            vec![s(""), s("g_found"), s("nobody"), Value::Null],
        ]
    );
}

#[test]
fn g_upd_then_queries_are_answered_with_g_reply() {
    let (mut h, recv) = global_fixture();
    h.send(
        recv,
        vec![
            s(""),
            s("g_upd"),
            s("aemptest_late"),
            map(&[
                ("k1", Value::Int(1)),
                ("k2", s("two")),
                (
                    "late_key",
                    map(&[
                        (
                            "a",
                            Value::Array(vec![Value::Int(1), Value::Int(2), s("three")]),
                        ),
                        ("n", Value::Null),
                    ]),
                ),
            ]),
        ],
    );
    h.send(
        recv,
        vec![
            s(""),
            s("g_upd"),
            s("aemptest_late"),
            Value::Null,
            list(&["late_key"]),
        ],
    );
    h.send(recv, pkt(&["", "g_db_keys", "aemptest_late", "b"]));
    h.send(recv, pkt(&["", "g_db_values", "aemptest_late", "c"]));
    h.send(recv, pkt(&["", "g_db_family", "aemptest_late", "d"]));
    h.send(recv, pkt(&["", "g_db_family", "aemptest_reg", "e"]));
    h.send(recv, pkt(&["", "g_db_keys", "nosuchfamily", "f"]));
    assert_eq!(
        h.take(recv),
        vec![
            vec![s(""), s("g_reply"), s("b"), list(&["k1", "k2"])],
            vec![
                s(""),
                s("g_reply"),
                s("c"),
                Value::Array(vec![Value::Int(1), s("two")])
            ],
            vec![
                s(""),
                s("g_reply"),
                s("d"),
                map(&[("k1", Value::Int(1)), ("k2", s("two"))])
            ],
            vec![
                s(""),
                s("g_reply"),
                s("e"),
                map(&[("recv#SRKjqiECHc", Value::Null)])
            ],
            vec![s(""), s("g_reply"), s("f"), Value::Array(vec![])],
        ]
    );
}

#[test]
fn g_mon1_answers_g_chg1_and_later_changes_come_as_g_chg2() {
    let (mut h, recv) = global_fixture();
    let send = h.connect_peer("send");
    h.send(
        send,
        vec![
            s(""),
            s("g_slave"),
            map(&[("'l", map(&[("send", list(&["127.0.0.1:15043"]))]))]),
        ],
    );
    h.take(send);
    h.send(send, pkt(&["", "g_mon1", "aemptest"]));
    assert_eq!(
        h.take(send),
        vec![vec![
            s(""),
            s("g_chg1"),
            s("aemptest"),
            map(&[
                ("main", s("recv#SRKjqiECHb")),
                ("p_custom", s("recv#SRKjqiECHc"))
            ])
        ]]
    );
    // Like the original, which sends `$GLOBAL_DB{$family}`: an unknown family is null.
    h.send(send, pkt(&["", "g_mon1", "empty_family"]));
    assert_eq!(
        h.take(send),
        vec![vec![s(""), s("g_chg1"), s("empty_family"), Value::Null]]
    );

    // A slave adds and deletes; the global node itself sets a key.
    h.send(
        recv,
        vec![
            s(""),
            s("g_upd"),
            s("aemptest"),
            map(&[("p_new", s("recv#x"))]),
        ],
    );
    h.send(
        recv,
        vec![
            s(""),
            s("g_upd"),
            s("aemptest"),
            Value::Null,
            list(&["p_custom"]),
        ],
    );
    h.core.db_set("aemptest", "seedkey", Value::Int(1), h.now);
    h.run();
    assert_eq!(
        h.take(send),
        vec![
            vec![
                s(""),
                s("g_chg2"),
                s("aemptest"),
                map(&[("p_new", s("recv#x"))]),
                list(&[])
            ],
            vec![
                s(""),
                s("g_chg2"),
                s("aemptest"),
                map(&[]),
                list(&["p_custom"])
            ],
            vec![
                s(""),
                s("g_chg2"),
                s("aemptest"),
                map(&[("seedkey", Value::Int(1))]),
                list(&[])
            ],
        ]
    );
    assert!(h.take(recv).is_empty(), "recv does not watch");

    h.send(send, pkt(&["", "g_mon0", "aemptest"]));
    h.core.db_del("aemptest", &["seedkey".into()], h.now);
    h.run();
    assert!(h.take(send).is_empty(), "no changes after g_mon0");
}

#[test]
fn slave_disconnect_deletes_its_entries_and_tells_watchers() {
    let (mut h, recv) = global_fixture();
    let send = h.connect_peer("send");
    h.send(send, pkt(&["", "g_slave"]));
    h.send(send, pkt(&["", "g_mon1", "aemptest"]));
    h.send(send, pkt(&["", "g_mon1", "'l"]));
    h.take(send);
    let w = h.core.db_mon("aemptest", h.now);
    h.run();
    h.take_events();

    h.drop_peer(recv, "Unexpected end-of-file");
    let mut got = h.take(send);
    got.sort_by_key(|p| format!("{p:?}"));
    // Capture 03: `["", "g_chg2", "aemptest", {}, [deleted keys]]`.
    assert_eq!(
        got,
        vec![
            vec![s(""), s("g_chg2"), s("'l"), map(&[]), list(&["recv"])],
            vec![
                s(""),
                s("g_chg2"),
                s("aemptest"),
                map(&[]),
                list(&["main", "p_custom"])
            ],
        ]
    );
    let outs = h.take_events();
    assert!(outs.iter().any(|o| matches!(o,
        Event::DbChange(c) if c.watch == w && c.set.is_empty() && c.deleted == ["main", "p_custom"])));
    h.send(send, pkt(&["", "g_find", "recv"]));
    assert_eq!(
        h.take(send),
        vec![vec![s(""), s("g_found"), s("recv"), Value::Null]]
    );
    let id = h.core.db_query(DbQuery::Keys, "aemptest_reg", h.now);
    h.run();
    assert_eq!(
        h.take_events(),
        vec![Event::DbReply {
            id,
            result: Value::Array(vec![])
        }]
    );
}

#[test]
fn a_slave_core_talks_to_its_master_like_a_perl_slave() {
    let mut cfg = node_config("recv");
    cfg.binds = vec!["127.0.0.1:15042".into()];
    cfg.seeds = vec!["127.0.0.1:15040".into()];
    let mut h = Harness::new(cfg);
    h.on_dial("127.0.0.1:15040", Dial::Peer("seed".into()));
    let (_, main) = port(&mut h);
    let main_id = format!("recv#{main}");
    h.core.db_set("aemptest", "main", s(&main_id), h.now);
    let w = h.core.db_mon("aemptest", h.now);
    let q = h.core.db_query(DbQuery::Keys, "aemptest", h.now);
    h.advance(Duration::from_millis(1));
    let seed = h.peer_of("seed").expect("dialled the seed");
    assert_eq!(h.take(seed), vec![pkt(&["", "g_slave"])]);
    h.send(seed, pkt(&["", "g_global"]));
    let got = h.take(seed);
    assert_eq!(
        got,
        vec![
            vec![
                s(""),
                s("g_slave"),
                map(&[
                    ("'l", map(&[("recv", list(&["127.0.0.1:15042"]))])),
                    ("aemptest", map(&[("main", s(&main_id))])),
                ])
            ],
            pkt(&["", "g_mon1", "aemptest"]),
            vec![s(""), s("g_db_keys"), s("aemptest"), got[2][3].clone()],
        ]
    );
    let qid = got[2][3].clone();
    h.send(
        seed,
        vec![s(""), s("g_reply"), qid, list(&["main", "other"])],
    );
    h.send(
        seed,
        vec![
            s(""),
            s("g_chg1"),
            s("aemptest"),
            map(&[("main", s(&main_id)), ("other", s("send#x"))]),
        ],
    );
    let outs = h.take_events();
    assert!(outs.contains(&Event::DbReply {
        id: q,
        result: list(&["main", "other"])
    }));
    assert!(outs.iter().any(|o| matches!(o,
        Event::DbChange(c) if c.watch == w && c.added == ["main", "other"])));
    h.core
        .db_set("aemptest_late", "late_key", Value::Int(1), h.now);
    h.core.db_del("aemptest_late", &["late_key".into()], h.now);
    h.core.db_unmon(w, h.now);
    h.run();
    assert_eq!(
        h.take(seed),
        vec![
            vec![
                s(""),
                s("g_upd"),
                s("aemptest_late"),
                map(&[("late_key", Value::Int(1))])
            ],
            vec![
                s(""),
                s("g_upd"),
                s("aemptest_late"),
                Value::Null,
                list(&["late_key"])
            ],
            pkt(&["", "g_mon0", "aemptest"]),
        ]
    );
}

/// A core `node` advertising `bind` that has dialled its seed, the global node `seed`,
/// which has said `g_global`.
fn dialled_master(node: &str, bind: &str) -> (Harness, usize) {
    let mut cfg = node_config(node);
    cfg.binds = vec![bind.into()];
    cfg.seeds = vec!["127.0.0.1:15040".into()];
    let mut h = Harness::new(cfg);
    h.on_dial("127.0.0.1:15040", Dial::Peer("seed".into()));
    h.advance(Duration::from_millis(1));
    let seed = h.peer_of("seed").expect("dialled the seed");
    h.send(seed, pkt(&["", "g_global"]));
    (h, seed)
}

/// A slave core `send` whose master `seed` is connected and has said `g_global`.
fn slave_fixture() -> (Harness, usize) {
    let (mut h, seed) = dialled_master("send", "127.0.0.1:15043");
    assert_eq!(h.take(seed).len(), 2, "g_slave, g_slave with the database");
    h.take_events();
    (h, seed)
}

#[test]
fn g_found_null_gives_up_at_once_with_no_known_address() {
    // Capture 03: after recv died, send sends to it again and re-monitors it; its master
    // answers `g_find recv` with null and the monitor fires at once with "no known
    // address". No more lookups follow.
    let (mut h, seed) = slave_fixture();
    let m = h.core.monitor("recv#main", MonitorAction::Callback, h.now);
    h.core
        .snd("recv#main", pkt(&["sending to dead node"]), h.now);
    h.run();
    assert_eq!(h.take(seed), vec![pkt(&["", "g_find", "recv"])]);
    h.send(seed, vec![s(""), s("g_found"), s("recv"), Value::Null]);
    assert_eq!(
        h.take_events(),
        vec![monitor_fired(
            m,
            pkt(&["transport_error", "recv", "no known address"])
        )]
    );
    assert_eq!(h.core.stats().queued_packets, 0, "the queue is dropped");
    h.advance(Duration::from_secs(40));
    assert!(h.take(seed).is_empty(), "no further g_find");
    assert!(h.take_events().is_empty());
    assert!(h.pending_connects.is_empty() && h.dialled == ["127.0.0.1:15040"]);
}

#[test]
fn g_found_with_addresses_connects_and_flushes_the_queue() {
    let (mut h, seed) = slave_fixture();
    h.on_dial("127.0.0.1:15042", Dial::Peer("recv".into()));
    h.core.monitor("recv#main", MonitorAction::Callback, h.now);
    h.core
        .snd("recv#main", pkt(&["msg", "1", "hello 1"]), h.now);
    h.run();
    assert_eq!(h.take(seed), vec![pkt(&["", "g_find", "recv"])]);
    h.send(
        seed,
        vec![s(""), s("g_found"), s("recv"), list(&["127.0.0.1:15042"])],
    );
    h.advance(Duration::from_millis(1));
    let recv = h.peer_of("recv").expect("dialled recv");
    assert_eq!(
        h.take(recv),
        vec![
            pkt(&["", "mon1", "main"]),
            pkt(&["main", "msg", "1", "hello 1"])
        ]
    );
}

#[test]
fn addresses_of_our_transports_come_first_and_unknown_schemes_are_skipped() {
    let addrs = list(&[
        "127.0.0.1:15042",
        "quic:127.0.0.1:15043",
        "sctp:127.0.0.1:9",
    ]);
    for (schemes, first) in [
        (vec![], "127.0.0.1:15042"),
        (vec!["quic".to_string()], "quic:127.0.0.1:15043"),
    ] {
        let mut cfg = node_config("send");
        cfg.binds = vec!["127.0.0.1:15041".into()];
        cfg.seeds = vec!["127.0.0.1:15040".into()];
        cfg.schemes = schemes.clone();
        let mut h = Harness::new(cfg);
        h.on_dial("127.0.0.1:15040", Dial::Peer("seed".into()));
        h.advance(Duration::from_millis(1));
        let seed = h.peer_of("seed").expect("dialled the seed");
        h.send(seed, pkt(&["", "g_global"]));
        h.core.snd("recv#main", pkt(&["hello"]), h.now);
        h.run();
        h.send(seed, vec![s(""), s("g_found"), s("recv"), addrs.clone()]);
        // Nobody answers: every usable address is tried in turn, the others never.
        h.advance(Duration::from_secs(5));
        let tried: Vec<&String> = h.dialled.iter().skip(1).collect();
        assert_eq!(tried[0], first, "{schemes:?}: {tried:?}");
        assert!(!tried.iter().any(|a| a.starts_with("sctp:")), "{tried:?}");
        assert_eq!(
            tried.iter().any(|a| a.starts_with("quic:")),
            !schemes.is_empty(),
            "{tried:?}"
        );
    }
}

#[test]
fn a_global_node_gives_up_at_once_on_a_node_without_address() {
    let mut h = Harness::new(node_config("seed"));
    h.core.become_global(h.now);
    let m = h.core.monitor("nobody#p", MonitorAction::Callback, h.now);
    h.core.snd("nobody#p", pkt(&["x"]), h.now);
    h.advance(Duration::from_millis(1));
    assert_eq!(
        h.take_events(),
        vec![monitor_fired(
            m,
            pkt(&["transport_error", "nobody", "no known address"])
        )]
    );
    assert!(h.dialled.is_empty());
    assert_eq!(h.core.stats().known_nodes, 0);
}

#[test]
fn a_slave_that_becomes_global_sends_its_entries_to_the_globals_it_knows() {
    // Capture 18: seed2 first made seed its master, then started its own global service
    // and sent seed g_global and a g_set with its entries ('g included).
    let (mut h, seed) = dialled_master("seed2", "127.0.0.1:15045");
    h.take(seed);
    h.core.become_global(h.now);
    h.run();
    assert_eq!(
        h.take(seed),
        vec![
            pkt(&["", "g_global"]),
            vec![
                s(""),
                s("g_set"),
                map(&[
                    ("'g", map(&[("seed2", Value::Null)])),
                    ("'l", map(&[("seed2", list(&["127.0.0.1:15045"]))])),
                ])
            ],
        ]
    );
    // seed answers our g_global with its g_set; nothing more goes back.
    h.send(
        seed,
        vec![
            s(""),
            s("g_set"),
            map(&[("'l", map(&[("seed", list(&["127.0.0.1:15040"]))]))]),
        ],
    );
    assert!(h.take(seed).is_empty());
    h.send(seed, pkt(&["", "g_find", "seed"]));
    assert_eq!(
        h.take(seed),
        vec![vec![
            s(""),
            s("g_found"),
            s("seed"),
            list(&["127.0.0.1:15040"])
        ]]
    );
}

#[test]
fn a_peer_announcing_keepalives_is_judged_by_its_silence_from_the_start() {
    // A Rust peer announces `keepalive=N` in its greeting: when it then says nothing for
    // monitor_timeout (it froze, or its host vanished), the connection is closed and the
    // monitors fire, although it never sent a first keepalive. A peer without the
    // announcement (the original never sends keepalives) is left alone.
    for announces in [true, false] {
        let mut cfg = node_config("recv");
        cfg.monitor_timeout = Duration::from_secs(10);
        cfg.keepalive_interval = Duration::from_secs(3);
        let mut h = Harness::new(cfg);
        if announces {
            h.peer_greeting_kv("send", &[("keepalive", "3")]);
        }
        let p = h.connect_peer("send");
        assert!(h.peers[p].is_open());
        let m = h.core.monitor("send#main", MonitorAction::Callback, h.now);
        h.advance(Duration::from_secs(11));
        let fired = h
            .take_events()
            .iter()
            .any(|e| matches!(e, Event::MonitorFired { id, .. } if *id == m));
        assert_eq!(fired, announces);
        assert_eq!(h.peers[p].closed_by_core, announces);
    }
}
