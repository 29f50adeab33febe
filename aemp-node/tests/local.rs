//! One node: handler semantics, port context, configuration.

mod common;

use std::sync::mpsc::channel;
use std::time::Duration;

use aemp_node::{self_port, Error, Message, Node, PortId, Reason, StartError, Value};
use common::{builder, next, nothing, stop};

fn node() -> Node {
    builder("solo").binds(["127.0.0.1:0"]).start().unwrap()
}

fn watch(node: &Node, port: &PortId) -> std::sync::mpsc::Receiver<Reason> {
    let (tx, rx) = channel();
    node.mon(port, move |r| tx.send(r).unwrap()).detach();
    rx
}

#[test]
fn tag_handlers_get_the_message_without_its_tag_and_can_be_replaced_or_removed() {
    let n = node();
    let (tx, rx) = channel();
    let p = n.port();
    let tx1 = tx.clone();
    n.rcv_tag(&p, "t", move |m| tx1.send(("first", m.into_vec())).unwrap())
        .unwrap();
    n.snd(&p, ("t", 1)).unwrap();
    assert_eq!(next(&rx), ("first", vec![Value::Int(1)]));

    let tx2 = tx.clone();
    n.rcv_tag(&p, "t", move |m| {
        tx2.send(("second", m.into_vec())).unwrap()
    })
    .unwrap();
    n.rcv(&p, move |m| tx.send(("default", m.into_vec())).unwrap())
        .unwrap();
    n.snd(&p, ("t", 2)).unwrap();
    assert_eq!(next(&rx), ("second", vec![Value::Int(2)]));
    n.snd(&p, ("other", 3)).unwrap();
    assert_eq!(
        next(&rx),
        ("default", vec![Value::from("other"), Value::Int(3)])
    );

    n.unrcv_tag(&p, "t").unwrap();
    n.snd(&p, ("t", 4)).unwrap();
    assert_eq!(
        next(&rx),
        ("default", vec![Value::from("t"), Value::Int(4)])
    );

    let died = watch(&n, &p);
    n.unrcv(&p).unwrap();
    n.snd(&p, ("t", 5)).unwrap();
    assert_eq!(
        next(&died),
        Reason::new("unhandled_message", "no callback found for message 't'")
    );
    assert!(matches!(n.rcv(&p, |_m| {}), Err(Error::NoSuchPort(_))));
    stop(&[&n]);
}

#[test]
fn handlers_run_in_their_port_context_and_later_work_uses_psub() {
    let n = node();
    let (tx, rx) = channel();
    let p = n.port_with(move |_m| tx.send(self_port()).unwrap());
    n.snd(&p, ("who",)).unwrap();
    assert_eq!(next(&rx), Some(p.clone()));
    assert_eq!(self_port(), None);

    let died = watch(&n, &p);
    let n2 = n.clone();
    n.rcv_tag(&p, "later", move |_m| {
        let me = self_port().unwrap();
        n2.after(
            Duration::from_millis(20),
            n2.psub(&me, || -> Result<(), String> { panic!("too late") }),
        );
    })
    .unwrap();
    n.snd(&p, ("later",)).unwrap();
    assert_eq!(next(&died), Reason::new("die", "too late"));
    stop(&[&n]);
}

#[test]
fn local_monitors_fire_once_and_dead_ports_report_no_such_port() {
    let n = node();
    let p = n.port();
    let died = watch(&n, &p);
    n.kil(&p, Reason::new("a", "b"));
    assert_eq!(next(&died), Reason::new("a", "b"));
    n.kil(&p, Reason::new("again", "x"));
    nothing(&died);
    let late = watch(&n, &p);
    let r = next(&late);
    assert_eq!(r.code(), Some("no_such_port"));
    assert_eq!(r.values().get(2), Some(&Value::from(p.as_str())));
    stop(&[&n]);
}

#[test]
fn configuration_from_an_rc_file_profile_with_templates() {
    let path = std::env::temp_dir().join(format!("aemp-node-test-rc-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"version":1,"secret":"from-file","profile":{"tst":{"nodeid":"tst/%n/","binds":["127.0.0.1:0"],"monitor_timeout":3}}}"#,
    )
    .unwrap();
    let n = Node::builder()
        .rc_file(&path)
        .profile("tst")
        .secret("program")
        .start()
        .unwrap();
    let id = n.node_id().to_string();
    let host = aemp_config::hostname();
    assert!(id.starts_with(&format!("tst/{host}/")), "{id}");
    assert!(
        id.len() > format!("tst/{host}/").len(),
        "a unique string was appended: {id}"
    );
    stop(&[&n]);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn start_errors_name_what_is_wrong() {
    let err = builder("x").binds(["127.0.0.1:0"]).framings(&[]).start();
    assert!(err.is_err());
    let err = Node::builder()
        .norc()
        .node_id("x")
        .binds(["127.0.0.1:0"])
        .start()
        .unwrap_err();
    assert!(matches!(err, StartError::Conn(_)), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let err = builder("x").binds([bind.as_str()]).start().unwrap_err();
    assert!(matches!(err, StartError::Listen { .. }), "{err}");
    assert!(err.to_string().contains(&bind), "{err}");
    let err = builder("x")
        .binds(["127.0.0.1:0"])
        .set("framing_format", "storable")
        .start()
        .unwrap_err();
    assert!(err.to_string().contains("framing_format"), "{err}");
}

#[test]
fn a_cancelled_timer_does_not_run() {
    let n = builder("timers").binds(["127.0.0.1:0"]).start().unwrap();
    let (tx, rx) = channel();
    let tx2 = tx.clone();
    n.after(Duration::from_millis(50), move || {
        tx.send("cancelled").unwrap()
    })
    .cancel();
    let _kept = n.after(Duration::from_millis(100), move || tx2.send("ran").unwrap());
    assert_eq!(next(&rx), "ran");
    nothing(&rx);
    stop(&[&n]);
}

#[test]
fn services_start_in_order_with_their_arguments() {
    let (tx, rx) = channel();
    let (tx1, tx2) = (tx.clone(), tx);
    let n = builder("svc")
        .binds(["127.0.0.1:0"])
        .set(
            "services",
            serde_json::json!(["plain", ["with_args", 9, "x", {"k": [1]}]]),
        )
        .register_function("plain", move |_, args| tx1.send(("plain", args)).unwrap())
        .register_function("with_args", move |_, args| {
            tx2.send(("with_args", args)).unwrap()
        })
        .start()
        .unwrap();
    assert_eq!(next(&rx), ("plain", vec![]));
    let (name, args) = next(&rx);
    assert_eq!(name, "with_args");
    assert_eq!(args[..2], [Value::Int(9), Value::from("x")]);
    assert!(matches!(&args[2], Value::Map(m) if m.len() == 1));
    stop(&[&n]);
    let err = builder("svc2")
        .binds(["127.0.0.1:0"])
        .set("services", serde_json::json!([["nope", 1]]))
        .register_function("plain", |_, _| {})
        .start()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "setting services: unknown service \"nope\" (this node has: plain)"
    );
}

#[test]
fn listening_on_all_interfaces_advertises_loopback_first() {
    let n = builder("any").binds(["*"]).start().unwrap();
    stop(&[&n]);
    let addrs = aemp_transport::advertised_addresses(
        "0.0.0.0:4321".parse().unwrap(),
        &aemp_config::hostname(),
    );
    assert_eq!(addrs[0], "127.0.0.1:4321");
    assert!(addrs.iter().all(|a| a.ends_with(":4321")));
}

/// Local delivery skips the core: a fast sender waits at the queue's mark instead of
/// filling memory, and messages from one sender arrive in order, none lost.
#[test]
fn local_senders_keep_their_order_and_wait_at_the_mark() {
    const MARK: usize = 100;
    const SENDERS: u64 = 3;
    const EACH: u64 = 3_000;
    let limits = aemp_node::Limits {
        queue_high_water: MARK * 64,
        ..Default::default()
    };
    let n = builder("flow")
        .binds(["127.0.0.1:0"])
        .limits(limits)
        .start()
        .unwrap();
    let (tx, rx) = channel();
    let mut expected = vec![1u64; SENDERS as usize];
    let mut seen = 0;
    let sink = n.port_with(move |m| {
        let (_, sender, seq): (String, usize, u64) = m.decode().unwrap();
        // A slow handler: the senders outrun it.
        if seq.is_multiple_of(50) {
            std::thread::sleep(Duration::from_micros(200));
        }
        if seq != expected[sender] {
            tx.send(Err(format!(
                "sender {sender}: {seq}, expected {}",
                expected[sender]
            )))
            .unwrap();
        }
        expected[sender] = seq + 1;
        seen += 1;
        if seen == SENDERS * EACH {
            tx.send(Ok(seen)).unwrap();
        }
    });
    let threads: Vec<_> = (0..SENDERS as usize)
        .map(|sender| {
            let (n, sink) = (n.clone(), sink.clone());
            std::thread::spawn(move || {
                let mut most = 0;
                for seq in 1..=EACH {
                    n.snd(&sink, ("m", sender, seq)).unwrap();
                    if seq.is_multiple_of(20) {
                        most = most.max(n.stats().local_waiting);
                    }
                }
                most
            })
        })
        .collect();
    let most = threads.into_iter().map(|t| t.join().unwrap()).max();
    assert_eq!(next(&rx), Ok(SENDERS * EACH));
    // Each sender may queue one message past the mark before it waits.
    let most = most.unwrap();
    assert!(most <= MARK + SENDERS as usize, "{most} messages waited");
    assert!(
        most > MARK / 2,
        "the senders never outran the handler ({most})"
    );
    stop(&[&n]);
}

/// A handler sending to local ports never waits (it would stop the node): it sends on and
/// the messages arrive, past the mark.
#[test]
fn a_handler_sending_to_itself_past_the_mark_does_not_stall() {
    let limits = aemp_node::Limits {
        queue_high_water: 10 * 64,
        ..Default::default()
    };
    let n = builder("self")
        .binds(["127.0.0.1:0"])
        .limits(limits)
        .start()
        .unwrap();
    let (tx, rx) = channel();
    let n2 = n.clone();
    let p = n.port_with(move |m| {
        let (k,): (u64,) = m.decode().unwrap();
        if k == 0 {
            let me = self_port().unwrap();
            for i in 1..=1_000u64 {
                n2.snd(&me, (i,)).unwrap();
            }
        } else if k == 1_000 {
            tx.send(n2.stats().local_waiting).unwrap();
        }
    });
    n.snd(&p, (0u64,)).unwrap();
    assert_eq!(next(&rx), 0);
    stop(&[&n]);
}

/// Messages sent before a kill are handled before the port's monitors fire; messages
/// sent after it are dropped.
#[test]
fn a_kill_delivers_what_was_sent_before_it_and_drops_what_comes_after() {
    let n = node();
    let (tx, rx) = channel();
    let died = tx.clone();
    let p = n.port_with(move |m| tx.send(m.tag().unwrap().to_owned()).unwrap());
    n.mon(&p, move |r| {
        died.send(format!("died {}", r.code().unwrap())).unwrap()
    })
    .detach();
    n.snd(&p, ("a",)).unwrap();
    n.snd(&p, ("b",)).unwrap();
    n.kil(&p, Reason::new("stop", "now"));
    n.snd(&p, ("c",)).unwrap();
    assert_eq!(next(&rx), "a");
    assert_eq!(next(&rx), "b");
    assert_eq!(next(&rx), "died stop");
    nothing(&rx);
    stop(&[&n]);
}

/// An init function whose port sends what `read` makes of each message to `tx`.
fn forwarding<T: Send + 'static>(
    tx: std::sync::mpsc::Sender<T>,
    read: fn(&Message) -> T,
) -> impl Fn(&Node, PortId, Vec<Value>) -> Result<(), String> + Send + Sync + 'static {
    move |node, port, _args| {
        let tx = tx.clone();
        node.rcv(&port, move |m| tx.send(read(&m)).unwrap())
            .map_err(|e| e.to_string())
    }
}

/// A port spawned on this node runs its init function before the messages sent to it
/// right after `spawn` returned.
#[test]
fn a_local_spawn_runs_init_before_the_first_messages() {
    let (tx, rx) = channel();
    let n = builder("spawner")
        .binds(["127.0.0.1:0"])
        .register_init(
            "counter",
            forwarding(tx, |m| m.decode::<(u32,)>().unwrap().0),
        )
        .start()
        .unwrap();
    let p = n.spawn(n.node_id(), "counter", ()).unwrap();
    for i in 0..100u32 {
        n.snd(&p, (i,)).unwrap();
    }
    for i in 0..100u32 {
        assert_eq!(next(&rx), i);
    }
    stop(&[&n]);
}

/// Code running on the driver (here an init function) that spawns a port and sends to it
/// at once: the child's init runs before the message arrives.
#[test]
fn an_init_that_spawns_and_sends_at_once_reaches_an_initialised_child() {
    let (tx, rx) = channel();
    let n = builder("tree")
        .binds(["127.0.0.1:0"])
        .register_init("leaf", forwarding(tx, |m| m.tag().unwrap().to_owned()))
        .register_init("parent", |node, _port, _args| -> Result<(), String> {
            let child = node
                .spawn(node.node_id(), "leaf", ())
                .map_err(|e| e.to_string())?;
            node.snd(&child, ("hello",)).map_err(|e| e.to_string())
        })
        .start()
        .unwrap();
    n.spawn(n.node_id(), "parent", ()).unwrap();
    assert_eq!(next(&rx), "hello");
    stop(&[&n]);
}

/// A sender's message to a port arrives before the message the core sends there for the
/// sender's next action (a monitor's message when the sender kills the monitored port).
#[test]
fn a_message_stays_ahead_of_what_the_core_sends_after_it() {
    let n = node();
    let (tx, rx) = channel();
    let watcher = n.port_with(move |m| tx.send(m.tag().unwrap().to_owned()).unwrap());
    for round in 0..50 {
        let watched = n.port();
        n.mon_snd(&watched, &watcher, ("gone",)).unwrap().detach();
        n.snd(&watcher, ("first",)).unwrap();
        n.kil(&watched, Reason::new("bye", "now"));
        assert_eq!(next(&rx), "first", "round {round}");
        assert_eq!(next(&rx), "gone", "round {round}");
    }
    stop(&[&n]);
}
