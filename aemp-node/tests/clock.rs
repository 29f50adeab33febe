//! A node's clock is its runtime's: under tokio's paused time, where only virtual time
//! passes, an idle node's connection attempt lasts exactly `monitor_timeout` of that time.
#![cfg(feature = "tokio")]

use std::time::Duration;

use aemp_node::{Node, PortId};

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_idle_node_gives_up_connecting_after_monitor_timeout_of_runtime_time() {
    let monitor_timeout = Duration::from_secs(3);
    let node = Node::builder()
        .norc()
        .node_id("idle")
        .secret("s")
        .binds(["127.0.0.1:0"])
        .monitor_timeout(monitor_timeout)
        .start_tokio()
        .unwrap();
    // Nothing is scheduled on this node: it sleeps while (virtual) time passes.
    tokio::time::sleep(Duration::from_secs(3_600)).await;

    let start = tokio::time::Instant::now();
    let ghost = PortId::from("ghost#inbox");
    let (tx, rx) = async_channel::bounded(1);
    let _monitor = node.mon(&ghost, move |reason| {
        let _ = tx.try_send(reason);
    });
    node.snd(&ghost, ("hello",)).unwrap();
    let reason = rx.recv().await.unwrap();
    let took = start.elapsed();

    assert_eq!(
        reason,
        aemp_node::Reason::from(vec![
            "transport_error".into(),
            "ghost".into(),
            "connect timeout".into()
        ])
    );
    assert!(
        took >= monitor_timeout && took < monitor_timeout + Duration::from_millis(500),
        "the attempt lasted {took:?} of tokio time, not monitor_timeout"
    );
    node.shutdown();
}
