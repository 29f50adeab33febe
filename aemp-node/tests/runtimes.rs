//! The same node on the other runtimes: tokio and smol drive the core like async-io.
//! Run with `cargo test -p aemp-node --features tokio,smol --test runtimes`.
#![cfg(all(feature = "tokio", feature = "smol"))]

mod common;

use std::sync::mpsc::channel;
use std::time::Duration;

use aemp_node::{PortId, Reason, Value};
use common::{builder, eventually, next, seed, stop};

#[test]
fn tokio_smol_and_async_io_nodes_talk_to_each_other() {
    let (seed, addr) = seed();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let on_tokio = rt.block_on(async {
        builder("tokio")
            .binds(["127.0.0.1:0"])
            .seeds([addr.as_str()])
            .start_tokio()
            .unwrap()
    });
    let on_smol = builder("smol")
        .binds(["127.0.0.1:0"])
        .seeds([addr.as_str()])
        .start_smol()
        .unwrap();
    eventually("both connected to the seed", || {
        on_tokio.node_is_up(seed.node_id()) && on_smol.node_is_up(seed.node_id())
    });

    let t = on_tokio.clone();
    let doubler = on_tokio.port_with(move |msg| {
        let (n, reply): (i64, PortId) = msg.decode().unwrap();
        t.snd(&reply, (n * 2,)).unwrap();
    });
    let reply = smol::block_on(on_smol.cal(&doubler, (21,), Some(Duration::from_secs(5)))).unwrap();
    assert_eq!(*reply, [Value::Int(42)]);

    let reply = rt
        .block_on(on_tokio.cal(&doubler, (1,), Some(Duration::from_secs(5))))
        .unwrap();
    assert_eq!(*reply, [Value::Int(2)]);

    let (tx, rx) = channel();
    on_smol.mon(&doubler, move |r| tx.send(r).unwrap()).detach();
    // A call from the monitoring node after its `mon1` (same connection, in order) makes
    // sure the monitor is in place before the port is killed.
    let reply = smol::block_on(on_smol.cal(&doubler, (3,), Some(Duration::from_secs(5)))).unwrap();
    assert_eq!(*reply, [Value::Int(6)]);
    on_tokio.kil(&doubler, Reason::new("done", "bye"));
    assert_eq!(next(&rx), Reason::new("done", "bye"));

    let (tx, rx) = channel();
    let p = on_tokio.port_with(|_m| {});
    on_smol.mon(&p, move |r| tx.send(r).unwrap()).detach();
    std::thread::sleep(Duration::from_millis(100));
    on_tokio.shutdown();
    rt.block_on(on_tokio.stopped());
    assert_eq!(next(&rx).code(), Some("transport_error"));
    stop(&[&on_smol, &seed]);
}
