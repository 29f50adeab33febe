//! A small network on loopback TCP: a seed (global) node and nodes that use it, started on
//! the runtime the current test runs on (see [`runtime_suite!`]).
#![allow(dead_code, unused_imports, unused_macros)] // each test binary uses a different part

use std::future::Future;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use aemp_node::{Node, NodeBuilder};

mod runtime;
pub use runtime::{any_port, bound, current, on, start, transport, try_start, Runtime, Transport};
pub(crate) use runtime::{runtime_suite, tcp_suite};

/// Generous bound for anything that should happen "soon" over loopback.
pub const SOON: Duration = Duration::from_secs(10);

/// A builder with the test secret and short timeouts, ignoring any rc file, that answers
/// data connections to the echo function.
pub fn builder(id: &str) -> NodeBuilder {
    Node::builder()
        .register_data_function(aemp_node::DATA_ECHO_FUNCTION, aemp_node::data_echo)
        .norc()
        .node_id(id)
        .secret("test-secret")
        .monitor_timeout(Duration::from_secs(2))
        .connect_interval(Duration::from_millis(400))
}

/// A seed node listening on an ephemeral loopback port of the test's transport, with
/// itself as seed (so it is a global node), and its address.
pub fn seed() -> (Node, String) {
    let (node, addr) = bound(builder("seed"));
    (start(node.seeds([addr.as_str()])), addr)
}

/// A node using `seed_addr`, listening on an ephemeral loopback port; returns once it is
/// connected to the seed and the seed's database has its addresses (before that, another
/// node looking it up is told "no known address", as by the original).
pub fn member(b: NodeBuilder, seed: &Node, seed_addr: &str) -> Node {
    let node = start(b.binds([any_port()]).seeds([seed_addr]));
    eventually("connection to the seed", || node.node_is_up(seed.node_id()));
    let me = node.node_id().to_string();
    eventually("the seed to know the node's addresses", || {
        futures_lite::future::block_on(seed.db_keys("'l")).is_ok_and(|keys| keys.contains(&me))
    });
    node
}

/// A seed and two members `a` and `b`.
pub fn network() -> (Node, Node, Node) {
    let (seed, addr) = seed();
    let a = member(builder("a"), &seed, &addr);
    let b = member(builder("b"), &seed, &addr);
    (seed, a, b)
}

/// A port of `node` whose messages come out of the returned channel.
pub fn inbox(node: &Node) -> (aemp_node::PortId, Receiver<Vec<aemp_node::Value>>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let port = node.port_with(move |msg| tx.send(msg.into_vec()).unwrap());
    (port, rx)
}

/// Waits until `cond` holds, failing the test after [`SOON`].
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let end = Instant::now() + SOON;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The next value from a channel, failing the test after [`SOON`].
pub fn next<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(SOON).expect("nothing arrived in time")
}

/// Asserts that nothing arrives on `rx` for a short while.
pub fn nothing<T: std::fmt::Debug>(rx: &Receiver<T>) {
    if let Ok(v) = rx.recv_timeout(Duration::from_millis(300)) {
        panic!("unexpected {v:?}");
    }
}

/// Runs a future to completion, failing the test after [`SOON`]. A plain `block_on` serves
/// every runtime: a node's futures (`cal`, `db_family`, `stopped`, ...) are woken by its
/// driver, wherever that runs.
pub fn block<F: Future>(f: F) -> F::Output {
    use futures_lite::FutureExt;
    let timeout = async {
        async_io::Timer::after(SOON).await;
        None
    };
    futures_lite::future::block_on(async { Some(f.await) }.or(timeout)).expect("future timed out")
}

/// Writes `data` to a data connection to an echo and reads back as much at the same time
/// (the echo would stall on full buffers if the writer waited for the end first); returns
/// what came back.
pub async fn round_trip(stream: aemp_node::DataStream, data: &[u8]) -> Vec<u8> {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let (mut reader, mut writer) = futures_lite::io::split(stream);
    let write = async {
        writer.write_all(data).await.unwrap();
        writer.close().await.unwrap();
    };
    let read = async {
        let mut back = Vec::new();
        reader.read_to_end(&mut back).await.unwrap();
        back
    };
    futures_lite::future::zip(write, read).await.1
}

/// Sends `len` bytes that are not all alike through an echo and checks what comes back.
pub fn assert_echoed(stream: aemp_node::DataStream, len: usize) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let back = block(round_trip(stream, &data));
    assert!(back == data, "{} bytes came back of {}", back.len(), len);
}

/// Shuts nodes down and waits for their drivers.
pub fn stop(nodes: &[&Node]) {
    for n in nodes {
        n.shutdown();
    }
    for n in nodes {
        block(n.stopped());
    }
}
