//! Several nodes in one process, talking over loopback TCP, on each runtime.

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc::channel;
use std::time::Duration;

use aemp_node::{CalError, Limits, NodeEvent, PortId, Reason, RecvError, Value};
use aemp_proto::Framing;
use common::{block, builder, eventually, member, network, next, nothing, seed, stop};

common::runtime_suite! {
    seed_is_global_and_members_are_not,
    discovery_through_the_database_then_messages_both_ways,
    messages_arrive_in_order,
    a_remote_kill_arrives_after_the_messages_sent_before_it,
    remote_monitor_forms,
    normal_kill_does_not_kill_linked_ports_and_missing_ports_report_no_such_port,
    remote_kill_handler_failures_and_unhandled_messages,
    spawn_known_unknown_and_failing_init,
    failing_and_unknown_init_functions_kill_the_port_with_die,
    cal_replies_times_out_and_reports_death,
    database_queries_registrations_and_changes,
    node_death_fires_monitors_with_transport_error,
    secure_nodes_refuse_spawn_and_calls,
    registered_functions_run_on_remote_request,
    async_port_selective_receive_across_nodes,
    a_peer_exceeding_the_send_queue_limit_is_disconnected,
    a_fast_sender_waits_instead_of_losing_its_connection,
    a_relaying_handler_slows_down_its_feeders_instead_of_overflowing,
    typed_messages_cross_every_framing,
}

/// A typed message goes from node to node unchanged in every framing (CBOR, the default,
/// in every other test): messages are serialized to CBOR bytes first, and converted for
/// the others.
fn typed_messages_cross_every_framing() {
    type Typed = (
        String,
        u64,
        i64,
        f64,
        BTreeMap<String, Vec<i32>>,
        Option<String>,
    );
    let sent: Typed = (
        "tag".into(),
        u64::MAX,
        -5,
        0.1,
        BTreeMap::from([("k".into(), vec![1, -2])]),
        None,
    );
    let (seed, addr) = seed();
    for framing in [Framing::Fast, Framing::Json] {
        let name = |who: &str| format!("{who}-{}", framing.name());
        let a = member(builder(&name("a")).framings(&[framing]), &seed, &addr);
        let b = member(builder(&name("b")).framings(&[framing]), &seed, &addr);
        let (tx, rx) = channel();
        let port = b.port_with(move |msg| tx.send(msg.decode::<Typed>()).unwrap());
        // The first waits for the connection (as values), the second takes it.
        for _ in 0..2 {
            a.snd(&port, &sent).unwrap();
            assert_eq!(next(&rx).unwrap(), sent, "{framing:?}");
        }
        stop(&[&a, &b]);
    }
    stop(&[&seed]);
}

fn seed_is_global_and_members_are_not() {
    let (seed, a, b) = network();
    assert!(seed.is_global());
    assert!(!a.is_global() && !b.is_global());
    assert!(a.up_nodes().contains(seed.node_id()));
    stop(&[&a, &b, &seed]);
}

fn discovery_through_the_database_then_messages_both_ways() {
    let (seed, a, b) = network();
    let (tx, rx) = channel();
    let server = a.port();
    let a2 = a.clone();
    a.rcv_tag(&server, "join", move |msg| {
        let (client, nick): (PortId, String) = msg.decode().unwrap();
        tx.send(nick.clone()).unwrap();
        a2.snd(&client, ("welcome", nick)).unwrap();
    })
    .unwrap();
    a.db_set("eg_chat_server", server.as_str(), ())
        .unwrap()
        .detach();

    let (found_tx, found_rx) = channel();
    let _watch = b.db_mon("eg_chat_server", move |change| {
        if !change.family.is_empty() {
            found_tx
                .send((
                    change.family.keys().cloned().collect::<Vec<_>>(),
                    change.added.to_vec(),
                ))
                .unwrap();
        }
    });
    let (keys, added) = next(&found_rx);
    assert_eq!(keys, [server.to_string()]);
    assert_eq!(added, [server.to_string()]);

    let (reply_tx, reply_rx) = channel();
    let client = b.port_with(move |msg| reply_tx.send(msg.into_vec()).unwrap());
    b.snd(&PortId::from(keys[0].as_str()), ("join", &client, "nick1"))
        .unwrap();
    assert_eq!(next(&rx), "nick1");
    assert_eq!(
        next(&reply_rx),
        vec![Value::from("welcome"), Value::from("nick1")]
    );
    assert!(b.node_is_up(a.node_id()), "b reached a directly");
    stop(&[&a, &b, &seed]);
}

fn messages_arrive_in_order() {
    let (seed, a, b) = network();
    let (tx, rx) = channel();
    let sink = a.port_with(move |msg| tx.send(msg.decode::<(i64,)>().unwrap().0).unwrap());
    for i in 0..500 {
        b.snd(&sink, (i,)).unwrap();
    }
    let got: Vec<i64> = (0..500).map(|_| next(&rx)).collect();
    assert_eq!(got, (0..500).collect::<Vec<_>>());
    stop(&[&a, &b, &seed]);
}

/// Messages a sender sent to a remote port are delivered before the kill it sends after
/// them: messages leave through the connection's outbox, the kill through the core, which
/// sends what waits in the outbox first.
fn a_remote_kill_arrives_after_the_messages_sent_before_it() {
    let (seed, a, b) = network();
    for round in 0..5 {
        let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = received.clone();
        let p = b.port_with(move |_m| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let (tx, rx) = channel();
        b.mon(&p, move |r| {
            let count = received.load(std::sync::atomic::Ordering::Relaxed);
            tx.send((count, r.code().map(String::from))).unwrap();
        })
        .detach();
        for i in 0..2_000u32 {
            a.snd(&p, ("m", i)).unwrap();
        }
        a.kil(&p, Reason::new("stop", "now"));
        let (count, code) = next(&rx);
        assert_eq!(code.as_deref(), Some("stop"), "round {round}");
        assert_eq!(
            count, 2_000,
            "round {round}: messages handled before the kill"
        );
    }
    stop(&[&a, &b, &seed]);
}

fn remote_monitor_forms() {
    let (seed, a, b) = network();

    // Callback form, with a reason.
    let p = a.port_with(|_m| {});
    let (tx, rx) = channel();
    b.mon(&p, move |r| tx.send(r).unwrap()).detach();
    // Link form: b's port dies with p's reason.
    let linked = b.port_with(|_m| {});
    let (ltx, lrx) = channel();
    b.mon(&linked, move |r| ltx.send(r).unwrap()).detach();
    b.mon_link(&p, &linked).detach();
    // Message form: b's watcher gets ["gone", "p", reason...].
    let (mtx, mrx) = channel();
    let watcher = b.port_with(move |m| mtx.send(m.into_vec()).unwrap());
    b.mon_snd(&p, &watcher, ("gone", "p")).unwrap().detach();
    // A monitor removed by dropping its guard does not fire.
    let (dtx, drx) = channel::<Reason>();
    drop(b.mon(&p, move |r| dtx.send(r).unwrap()));

    // Make sure the monitors reached a before the kill.
    eventually("mon1 at a", || b.up_nodes().contains(a.node_id()));
    std::thread::sleep(Duration::from_millis(100));
    a.kil(&p, Reason::new("custom_error", "bad face"));

    let r = next(&rx);
    assert_eq!(
        (r.code(), r.text()),
        (Some("custom_error"), Some("bad face"))
    );
    assert_eq!(next(&lrx), Reason::new("custom_error", "bad face"));
    assert!(!b.port_exists(&linked));
    assert_eq!(
        next(&mrx),
        vec![
            Value::from("gone"),
            Value::from("p"),
            Value::from("custom_error"),
            Value::from("bad face")
        ]
    );
    nothing(&drx);
    stop(&[&a, &b, &seed]);
}

fn normal_kill_does_not_kill_linked_ports_and_missing_ports_report_no_such_port() {
    let (seed, a, b) = network();
    let p = a.port_with(|_m| {});
    let (tx, rx) = channel();
    b.mon(&p, move |r| tx.send(r).unwrap()).detach();
    let linked = b.port_with(|_m| {});
    b.mon_link(&p, &linked).detach();
    std::thread::sleep(Duration::from_millis(200));
    a.kil(&p, Reason::normal());
    assert!(next(&rx).is_normal());
    std::thread::sleep(Duration::from_millis(100));
    assert!(b.port_exists(&linked), "a normal kill does not propagate");

    let (tx, rx) = channel();
    b.mon(&PortId::new(a.node_id(), "nonexistent"), move |r| {
        tx.send(r).unwrap()
    })
    .detach();
    let r = next(&rx);
    assert_eq!(r.code(), Some("no_such_port"));
    assert_eq!(r.text(), Some("cannot monitor nonexistent port"));
    stop(&[&a, &b, &seed]);
}

fn remote_kill_handler_failures_and_unhandled_messages() {
    let (seed, a, b) = network();
    let watch = |port: &PortId| {
        let (tx, rx) = channel();
        b.mon(port, move |r| tx.send(r).unwrap()).detach();
        rx
    };

    let victim = a.port_with(|_m| {});
    let rx = watch(&victim);
    std::thread::sleep(Duration::from_millis(100));
    b.kil(&victim, Reason::new("killed", "by b"));
    assert_eq!(next(&rx), Reason::new("killed", "by b"));
    eventually("victim gone", || !a.port_exists(&victim));

    let panicky = a.port_with(|_m| -> Result<(), String> { panic!("oops") });
    let rx = watch(&panicky);
    b.snd(&panicky, ("anything",)).unwrap();
    assert_eq!(next(&rx), Reason::new("die", "oops"));

    let failing = a.port();
    a.rcv_tag(&failing, "work", |_m| Err::<(), _>("bad input"))
        .unwrap();
    let rx = watch(&failing);
    b.snd(&failing, ("work", 1)).unwrap();
    assert_eq!(next(&rx), Reason::new("die", "bad input"));

    let picky = a.port();
    a.rcv_tag(&picky, "known", |_m| {}).unwrap();
    let rx = watch(&picky);
    b.snd(&picky, ("known",)).unwrap();
    b.snd(&picky, ("other", 1)).unwrap();
    assert_eq!(
        next(&rx),
        Reason::new("unhandled_message", "no callback found for message 'other'")
    );
    stop(&[&a, &b, &seed]);
}

fn spawn_known_unknown_and_failing_init() {
    let (seed, addr) = seed();
    let a = member(
        builder("a")
            .register_init("test::echo", |node, port, args| {
                let prefix: String = aemp_proto::from_values::<(String,)>(args)
                    .map_err(|e| e.to_string())?
                    .0;
                let n = node.clone();
                node.rcv(&port, move |msg| {
                    let (text, reply): (String, PortId) = msg.decode().unwrap();
                    n.snd(&reply, (format!("{prefix}{text}"),)).unwrap();
                })
                .map_err(|e| e.to_string())
            })
            .register_init("test::broken", |_, _, _| Err::<(), _>("init refused")),
        &seed,
        &addr,
    );
    let b = member(builder("b"), &seed, &addr);

    let echo = b.spawn(a.node_id(), "test::echo", ("echo: ",)).unwrap();
    assert_eq!(echo.node(), "a");
    let reply = block(b.cal(&echo, ("hi",), Some(Duration::from_secs(5)))).unwrap();
    assert_eq!(*reply, [Value::from("echo: hi")]);

    let unknown = b.spawn(a.node_id(), "test::nothing", ()).unwrap();
    let (tx, rx) = channel();
    b.mon(&unknown, move |r| tx.send(r).unwrap()).detach();
    // Whether mon1 reaches a before or after the init failed is a race: both are correct.
    let r = next(&rx);
    let died = Reason::new(
        "die",
        "init function 'test::nothing' is not registered on this node",
    );
    assert!(r == died || r.code() == Some("no_such_port"), "{r}");

    let broken = b.spawn(a.node_id(), "test::broken", ()).unwrap();
    let (tx, rx) = channel();
    // Monitor after a round trip, so the port has surely died: no_such_port then.
    let _ = block(b.cal(&echo, ("sync",), Some(Duration::from_secs(5)))).unwrap();
    b.mon(&broken, move |r| tx.send(r).unwrap()).detach();
    assert_eq!(next(&rx).code(), Some("no_such_port"));
    stop(&[&a, &b, &seed]);
}

fn failing_and_unknown_init_functions_kill_the_port_with_die() {
    let (seed, addr) = seed();
    let a = member(
        builder("a").register_init("test::broken", |_, _, _| Err::<(), _>("init refused")),
        &seed,
        &addr,
    );
    // Spawning and monitoring from a handler is race-free: the driver runs the init
    // function only after the handler has returned, so the monitor is already set.
    let (tx, rx) = channel();
    let a2 = a.clone();
    let starter = a.port_with(move |msg| {
        let (init,): (String,) = msg.decode().unwrap();
        let p = a2.spawn(a2.node_id(), &init, ()).unwrap();
        let tx = tx.clone();
        a2.mon(&p, move |r| tx.send(r).unwrap()).detach();
    });
    a.snd(&starter, ("test::broken",)).unwrap();
    assert_eq!(next(&rx), Reason::new("die", "init refused"));
    a.snd(&starter, ("test::missing",)).unwrap();
    assert_eq!(
        next(&rx),
        Reason::new(
            "die",
            "init function 'test::missing' is not registered on this node"
        )
    );
    stop(&[&a, &seed]);
}

fn cal_replies_times_out_and_reports_death() {
    let (seed, a, b) = network();
    let a2 = a.clone();
    let adder = a.port_with(move |msg| {
        let (x, y, reply): (i64, i64, PortId) = msg.decode().unwrap();
        a2.snd(&reply, (x + y,)).unwrap();
    });
    assert_eq!(
        block(b.cal(&adder, (2, 40), Some(Duration::from_secs(5))))
            .unwrap()
            .into_vec(),
        vec![Value::Int(42)]
    );

    let silent = a.port_with(|_m| {});
    let started = std::time::Instant::now();
    match block(b.cal(&silent, ("hello",), Some(Duration::from_millis(300)))) {
        Err(CalError::Timeout(d)) => assert_eq!(d, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));

    let dying = a.port();
    a.rcv(&dying, |_m| Err::<(), _>("cannot answer")).unwrap();
    match block(b.cal(&dying, ("hello",), None)) {
        Err(CalError::PortDied(r)) => assert_eq!(r, Reason::new("die", "cannot answer")),
        other => panic!("{other:?}"),
    }
    stop(&[&a, &b, &seed]);
}

fn database_queries_registrations_and_changes() {
    let (seed, a, b) = network();
    let (tx, rx) = channel();
    let _watch = b.db_mon("eg_fam", move |change| {
        tx.send((
            change.family.clone(),
            change.added.to_vec(),
            change.changed.to_vec(),
            change.deleted.to_vec(),
        ))
        .unwrap();
    });
    let (fam, added, _, _) = next(&rx);
    assert!(
        fam.is_empty() && added.is_empty(),
        "first call: current (empty) contents"
    );

    let guard = a.db_set("eg_fam", "k1", "v1").unwrap();
    let (fam, added, _, _) = next(&rx);
    assert_eq!(fam.get("k1"), Some(&Value::from("v1")));
    assert_eq!(added, ["k1"]);

    a.db_set("eg_fam", "k1", "v2").unwrap().detach();
    let (_, _, changed, _) = next(&rx);
    assert_eq!(changed, ["k1"]);

    let worker = b.port_with(|_m| {});
    b.db_reg("eg_fam", &worker, 7).unwrap().detach();
    let (fam, added, _, _) = next(&rx);
    assert_eq!(added, [worker.to_string()]);
    assert_eq!(fam.len(), 2);

    let family = block(a.db_family("eg_fam")).unwrap();
    assert_eq!(family.get("k1"), Some(&Value::from("v2")));
    assert_eq!(family.get(worker.as_str()), Some(&Value::Int(7)));
    let mut keys = block(b.db_keys("eg_fam")).unwrap();
    keys.sort();
    let mut want = vec!["k1".to_string(), worker.to_string()];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(block(seed.db_values("eg_fam")).unwrap().len(), 2);

    b.kil(&worker, Reason::normal());
    let (_, _, _, deleted) = next(&rx);
    assert_eq!(deleted, [worker.to_string()]);

    drop(guard);
    let (fam, _, _, deleted) = next(&rx);
    assert_eq!(deleted, ["k1"]);
    assert!(fam.is_empty());
    stop(&[&a, &b, &seed]);
}

fn node_death_fires_monitors_with_transport_error() {
    let (seed, a, b) = network();
    let p = b.port_with(|_m| {});
    let (tx, rx) = channel();
    a.mon(&p, move |r| tx.send(r).unwrap()).detach();
    let (ntx, nrx) = channel();
    a.mon_nodes(move |e| ntx.send(e.clone()).unwrap()).detach();
    eventually("a connected to b", || a.node_is_up(b.node_id()));
    std::thread::sleep(Duration::from_millis(100));

    stop(&[&b]);
    let r = next(&rx);
    assert_eq!(r.code(), Some("transport_error"));
    assert_eq!(r.values().get(1), Some(&Value::from("b")));
    let down = loop {
        match next(&nrx) {
            NodeEvent::Down(n, why) if n.as_str() == "b" => break why,
            _ => continue,
        }
    };
    assert_eq!(down.code(), Some("transport_error"));
    assert!(!a.node_is_up("b"));
    stop(&[&a, &seed]);
}

fn secure_nodes_refuse_spawn_and_calls() {
    let (seed, addr) = seed();
    let (ctx, crx) = channel();
    let guarded = member(
        builder("guarded")
            .secure(true)
            .register_init("test::init", |node, port, _| {
                node.rcv(&port, |_m| {}).map_err(|e| e.to_string())
            })
            .register_function("test::fn", move |_, _| ctx.send(()).unwrap()),
        &seed,
        &addr,
    );
    let b = member(builder("b"), &seed, &addr);
    let spawned = b.spawn(guarded.node_id(), "test::init", ()).unwrap();
    let (tx, rx) = channel();
    b.mon(&spawned, move |r| tx.send(r).unwrap()).detach();
    assert_eq!(next(&rx).code(), Some("no_such_port"));
    b.snd(&PortId::new(guarded.node_id(), ""), ("test::fn",))
        .unwrap();
    nothing(&crx);
    stop(&[&guarded, &b, &seed]);
}

fn registered_functions_run_on_remote_request() {
    let (seed, addr) = seed();
    let (tx, rx) = channel();
    let a = member(
        builder("a").register_function("test::hello", move |_, args| tx.send(args).unwrap()),
        &seed,
        &addr,
    );
    let b = member(builder("b"), &seed, &addr);
    b.snd(&PortId::new(a.node_id(), ""), ("test::hello", 1, "x"))
        .unwrap();
    assert_eq!(next(&rx), vec![Value::Int(1), Value::from("x")]);
    b.snd(&PortId::new(a.node_id(), ""), ("test::unknown",))
        .unwrap();
    nothing(&rx);
    stop(&[&a, &b, &seed]);
}

fn async_port_selective_receive_across_nodes() {
    let (seed, a, b) = network();
    let mut port = a.async_port();
    b.snd(port.id(), ("data", "p1", "chunk")).unwrap();
    b.snd(port.id(), ("write_file", "p1", "/tmp/f")).unwrap();
    b.snd(port.id(), ("data", "p1", "")).unwrap();
    block(async {
        let first = port
            .recv_matching(|m| m.tag() == Some("write_file"), None)
            .await
            .unwrap();
        assert_eq!(
            first.decode::<(String, String, String)>().unwrap().2,
            "/tmp/f"
        );
        let d1 = port.recv().await.unwrap();
        assert_eq!(d1[2], Value::from("chunk"));
        let d2 = port.recv().await.unwrap();
        assert_eq!(d2[2], Value::from(""));
        let none = port
            .recv_matching(|_| true, Some(Duration::from_millis(100)))
            .await;
        assert_eq!(none, Err(RecvError::Timeout(Duration::from_millis(100))));
    });
    let id = port.id().clone();
    let (tx, rx) = channel();
    b.mon(&id, move |r| tx.send(r).unwrap()).detach();
    std::thread::sleep(Duration::from_millis(100));
    drop(port);
    assert!(
        next(&rx).is_normal(),
        "dropping an async port kills it normally"
    );
    stop(&[&a, &b, &seed]);
}

/// Limits with a send-queue bound of `bytes` (and the high-water mark at a quarter of it).
fn queue_limit(bytes: usize) -> Limits {
    Limits {
        max_queued_bytes: bytes,
        queue_high_water: bytes / 4,
        ..Limits::default()
    }
}

fn a_peer_exceeding_the_send_queue_limit_is_disconnected() {
    let (seed, addr) = seed();
    let a = member(builder("a").limits(queue_limit(64 << 10)), &seed, &addr);
    let b = member(builder("b"), &seed, &addr);
    let p = b.port_with(|_m| {});
    let (tx, rx) = channel();
    a.mon(&p, move |r| tx.send(r).unwrap()).detach();
    let (ok_tx, ok_rx) = channel();
    let probe = b.port_with(move |_m| ok_tx.send(()).unwrap());
    a.snd(&probe, ("small",)).unwrap();
    next(&ok_rx);
    a.snd(&p, ("big", "x".repeat(200 << 10))).unwrap();
    let r = next(&rx);
    assert_eq!(r.code(), Some("transport_error"));
    assert!(r.to_string().contains("send queue overflow"), "{r}");
    stop(&[&a, &b, &seed]);
}

/// A port on `node` that counts messages and checks their sequence numbers (the second
/// element); sends the count on `tx` every `every` messages and at a gap.
fn counting_sink(node: &aemp_node::Node, every: u64) -> (PortId, std::sync::mpsc::Receiver<u64>) {
    let (tx, rx) = channel();
    let mut expected = 1u64;
    let port = node.port_with(move |msg| {
        let seq: u64 = msg.decode::<(String, u64, String)>().unwrap().1;
        assert_eq!(seq, expected, "sequence gap or reordering");
        if seq.is_multiple_of(every) {
            tx.send(seq).unwrap();
        }
        expected += 1;
    });
    (port, rx)
}

/// How long bulk transfers may take to arrive (a liveness bound, not a speed check).
const BULK: Duration = Duration::from_secs(60);

fn a_fast_sender_waits_instead_of_losing_its_connection() {
    let (seed, addr) = seed();
    // 1 MiB is the last resort: 20 MB sent as fast as possible would blow through it
    // without flow control.
    let a = member(builder("a").limits(queue_limit(1 << 20)), &seed, &addr);
    let b = member(builder("b"), &seed, &addr);
    let (sink, counts) = counting_sink(&b, 20_000);
    let (died_tx, died) = channel();
    a.mon(&sink, move |r| died_tx.send(r).unwrap()).detach();
    let payload = "x".repeat(1024);
    for seq in 1..=20_000u64 {
        a.snd(&sink, ("m", seq, payload.as_str())).unwrap();
    }
    // 20 MB through a debug build while the other tests share two cores: a generous
    // bound on liveness, not a speed check.
    match counts.recv_timeout(BULK) {
        Ok(n) => assert_eq!(n, 20_000),
        Err(e) => panic!(
            "not all messages arrived ({e}); monitor: {:?}",
            died.try_recv()
        ),
    }
    nothing(&died);
    stop(&[&a, &b, &seed]);
}

fn a_relaying_handler_slows_down_its_feeders_instead_of_overflowing() {
    let (seed, addr) = seed();
    let relay = member(builder("relay").limits(queue_limit(1 << 20)), &seed, &addr);
    let slow = member(builder("slow"), &seed, &addr);
    let feeder = member(builder("feeder"), &seed, &addr);
    // The destination is slow: its handler pauses now and then.
    let (tx, counts) = channel();
    let mut seen = 0u64;
    let sink = slow.port_with(move |_msg| {
        seen += 1;
        if seen.is_multiple_of(20) {
            std::thread::sleep(Duration::from_millis(1));
        }
        if seen == 4_000 {
            tx.send(seen).unwrap();
        }
    });
    // The relay's handler forwards everything at once (it cannot wait: it runs on the
    // relay's driver), so the relay must stop reading from the feeder meanwhile.
    let r = relay.clone();
    let target = sink.clone();
    let hop = relay.port_with(move |msg| r.snd_values(&target, msg.into_vec()));
    let (died_tx, died) = channel();
    relay.mon(&sink, move |r| died_tx.send(r).unwrap()).detach();
    let payload = "y".repeat(4096);
    for seq in 1..=4_000u64 {
        feeder.snd(&hop, ("m", seq, payload.as_str())).unwrap();
    }
    match counts.recv_timeout(BULK) {
        Ok(n) => assert_eq!(n, 4_000),
        Err(_) => panic!("stalled; monitor: {:?}", died.try_recv()),
    }
    nothing(&died);
    stop(&[&feeder, &relay, &slow, &seed]);
}
