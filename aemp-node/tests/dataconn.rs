//! Data connections (`AnyEvent::MP::DataConn`) between nodes over loopback: bytes both
//! ways, the data function's arguments, which side connects, and the failures, on each
//! runtime and each transport.

mod common;

use std::sync::mpsc::channel;
use std::time::Duration;

use aemp_node::{DataConnError, Node, Value, DATA_ECHO_FUNCTION};
use common::{assert_echoed, block, builder, member, next, round_trip, seed, start, stop};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

common::runtime_suite! {
    the_echo_function_returns_a_megabyte_intact,
    bytes_read_with_the_end_of_the_handshake_are_kept,
    the_data_function_gets_its_arguments_and_the_other_end,
    a_node_without_listeners_is_asked_to_connect_back,
    a_node_without_listeners_connects_itself,
    an_unknown_data_function_kills_the_attempt,
    an_unreachable_node_fails_within_the_timeout,
    a_data_connection_to_the_own_node_is_joined_in_memory,
    a_failure_in_a_port_context_kills_the_port,
    a_node_expects_a_bounded_number_of_data_connections,
}

const TIMEOUT: Duration = Duration::from_secs(5);
const NO_BINDS: [&str; 0] = [];

/// A seed and a member that listens, the member registering `Test::greet`: it sends its
/// arguments to the port that is the first of them, writes a line and ends.
fn pair() -> (Node, Node) {
    let (seed, addr) = seed();
    let b = builder("b").register_data_function("Test::greet", |node, args, mut stream| {
        let reply = aemp_node::PortId::from(args[0].as_str().unwrap());
        node.snd(&reply, &args[1..]).unwrap();
        std::thread::spawn(move || {
            futures_lite::future::block_on(async {
                stream.write_all(b"hello from b\n").await.unwrap();
                stream.close().await.unwrap();
            })
        });
    });
    let b = member(b, &seed, &addr);
    (seed, b)
}

fn the_echo_function_returns_a_megabyte_intact() {
    let (seed, b) = pair();
    // A port names its node.
    let port_of_b = format!("{}#anyport", b.node_id());
    let stream = block(seed.connect_data(&port_of_b, TIMEOUT, DATA_ECHO_FUNCTION, ())).unwrap();
    assert_eq!(stream.node().as_str(), "b");
    assert_echoed(stream, 1 << 20);
    stop(&[&b, &seed]);
}

/// The first bytes often arrive in the same read as the end of the handshake, before the
/// stream is handed over: none of them may be lost (a read goes to the core in pieces).
fn bytes_read_with_the_end_of_the_handshake_are_kept() {
    let (seed, b) = pair();
    for _ in 0..10 {
        let stream =
            block(seed.connect_data(b.node_id(), TIMEOUT, DATA_ECHO_FUNCTION, ())).unwrap();
        assert_echoed(stream, 256 << 10);
    }
    stop(&[&b, &seed]);
}

fn the_data_function_gets_its_arguments_and_the_other_end() {
    let (seed, b) = pair();
    let (reply, rx) = common::inbox(&seed);
    let call = seed.connect_data(b.node_id(), TIMEOUT, "Test::greet", (&reply, "x", 42));
    let mut stream = block(call).unwrap();
    assert_eq!(next(&rx), [Value::from("x"), Value::Int(42)]);
    let mut line = String::new();
    block(stream.read_to_string(&mut line)).unwrap();
    assert_eq!(line, "hello from b\n");
    stop(&[&b, &seed]);
}

/// A seed and a node without listeners that uses it.
fn seed_and_listenerless_node() -> (Node, Node) {
    let (seed, addr) = seed();
    let quiet = start(builder("quiet").binds(NO_BINDS).seeds([addr.as_str()]));
    common::eventually("the listener-less node to join", || {
        quiet.node_is_up(seed.node_id())
    });
    (seed, quiet)
}

fn a_node_without_listeners_is_asked_to_connect_back() {
    let (seed, quiet) = seed_and_listenerless_node();
    let stream =
        block(seed.connect_data(quiet.node_id(), TIMEOUT, DATA_ECHO_FUNCTION, ())).unwrap();
    assert_eq!(
        block(round_trip(stream, b"over the connection it opened")),
        b"over the connection it opened"
    );
    stop(&[&quiet, &seed]);
}

fn a_node_without_listeners_connects_itself() {
    let (seed, quiet) = seed_and_listenerless_node();
    let stream =
        block(quiet.connect_data(seed.node_id(), TIMEOUT, DATA_ECHO_FUNCTION, ())).unwrap();
    assert_eq!(block(round_trip(stream, b"to the seed")), b"to the seed");
    stop(&[&quiet, &seed]);
}

fn an_unknown_data_function_kills_the_attempt() {
    let (seed, b) = pair();
    let failed = block(seed.connect_data(b.node_id(), TIMEOUT, "No::such", ())).unwrap_err();
    let DataConnError::Failed(reason) = failed else {
        panic!("{failed:?}")
    };
    assert_eq!(reason.code(), Some("AnyEvent::MP::DataConn"));
    assert!(
        reason
            .text()
            .unwrap()
            .contains("'No::such' is not registered on b"),
        "{reason}"
    );
    stop(&[&b, &seed]);
}

fn an_unreachable_node_fails_within_the_timeout() {
    let (seed, b) = pair();
    let started = std::time::Instant::now();
    let failed = block(b.connect_data("nowhere", Duration::from_secs(1), DATA_ECHO_FUNCTION, ()))
        .unwrap_err();
    let DataConnError::Failed(reason) = failed else {
        panic!("{failed:?}")
    };
    assert_eq!(reason.code(), Some("AnyEvent::MP::DataConn"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    stop(&[&b, &seed]);
}

fn a_failure_in_a_port_context_kills_the_port() {
    let (seed, b) = pair();
    let n = b.clone();
    let port = b.port_with(move |_msg| {
        // Started at once; the future is not needed to see the failure.
        drop(n.connect_data("nowhere", Duration::from_secs(1), DATA_ECHO_FUNCTION, ()));
    });
    let (tx, rx) = channel();
    b.mon(&port, move |reason| tx.send(reason).unwrap())
        .detach();
    b.snd(&port, ("go",)).unwrap();
    let reason = next(&rx);
    assert_eq!(reason.code(), Some("AnyEvent::MP::DataConn"), "{reason}");
    assert_eq!(
        reason.text(),
        Some("nowhere: unable to establish connection within 1 seconds")
    );
    stop(&[&b, &seed]);
}

fn a_node_expects_a_bounded_number_of_data_connections() {
    let (seed, b) = pair();
    let kills = |port: &aemp_node::PortId| {
        let (tx, rx) = channel();
        seed.mon(port, move |reason| tx.send(reason).unwrap())
            .detach();
        rx
    };
    // What `connect_data` sends first, 1,024 times, with IDs nobody will ever connect for.
    let patient = seed.port_with(|_msg| ());
    let patient_killed = kills(&patient);
    for i in 0..1024 {
        let id = format!("{i}@seed");
        let args = (id, &patient, 60, DATA_ECHO_FUNCTION);
        seed.snd_to_func(b.node_id(), "AnyEvent::MP::DataConn::_expect", args)
            .unwrap();
    }
    // Requests that are not one are ignored (and logged), and take no place.
    let expect = "AnyEvent::MP::DataConn::_expect";
    seed.snd_to_func(b.node_id(), expect, ("only-an-id",))
        .unwrap();
    seed.snd_to_func(b.node_id(), expect, (1, 2, "three", [4]))
        .unwrap();
    seed.snd_to_func(b.node_id(), "AnyEvent::MP::DataConn::_connect", ())
        .unwrap();
    let refused = seed.port_with(|_msg| ());
    let refused_killed = kills(&refused);
    let args = ("one-more@seed", &refused, 60, DATA_ECHO_FUNCTION);
    seed.snd_to_func(b.node_id(), "AnyEvent::MP::DataConn::_expect", args)
        .unwrap();
    let reason = next(&refused_killed);
    assert_eq!(reason.code(), Some("AnyEvent::MP::DataConn"), "{reason}");
    assert!(reason.text().unwrap().contains("too many"), "{reason}");
    common::nothing(&patient_killed);
    stop(&[&b, &seed]);
}

fn a_data_connection_to_the_own_node_is_joined_in_memory() {
    let (seed, _) = seed();
    let stream = block(seed.connect_data(seed.node_id(), TIMEOUT, DATA_ECHO_FUNCTION, ())).unwrap();
    assert!(!stream.encrypted());
    assert_eq!(block(round_trip(stream, b"loop")), b"loop");
    stop(&[&seed]);
}
