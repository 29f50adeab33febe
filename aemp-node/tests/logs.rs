//! Log catching between Rust nodes (the original's LogCatcher protocol) and the Kernel's
//! `snd_to_func` and `snd_on`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::Duration;

use aemp_node::logs::LogRecord;
use aemp_node::{Node, Value};
use common::{builder, eventually, member, next, nothing, seed, SOON};
use tracing_subscriber::layer::SubscriberExt as _;

/// Every node of this test process forwards through the layer, so the catching tests
/// run one at a time (one's flood would fill the other's buffers).
fn forward_logs() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(aemp_node::logs::layer());
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A seed and a catcher node using it.
fn two_nodes() -> (Node, Node) {
    let (seed, addr) = seed();
    let catcher = member(builder("catcher"), &seed, &addr);
    (seed, catcher)
}

/// Logs `text` until a record of it arrives: catching starts once the catcher's
/// `connect` has reached the node, which the test cannot see otherwise.
fn first_record(rx: &Receiver<LogRecord>, log: impl Fn()) -> LogRecord {
    for _ in 0..(SOON.as_millis() / 100) {
        log();
        if let Ok(record) = rx.recv_timeout(Duration::from_millis(100)) {
            return record;
        }
    }
    panic!("no log record arrived");
}

#[test]
fn a_catcher_gets_what_other_nodes_log_up_to_its_level() {
    let _serial = forward_logs();
    let (seed, catcher) = two_nodes();
    let (tx, rx) = channel();
    let catch = catcher.catch_logs(5, move |record| {
        if record.context == "test_levels" {
            let _ = tx.send(record);
        }
    });
    let record = first_record(
        &rx,
        || tracing::warn!(target: "test_levels", n = 1, "warned"),
    );
    // The seed forwards; the catcher does not catch itself.
    assert_eq!(record.node.as_str(), "seed");
    assert_eq!(record.level, 5);
    assert_eq!(record.message, "warned n=1");
    assert!(record.time > 1.0e9, "a Unix time: {}", record.time);
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
    tracing::info!(target: "test_levels", "not at level 5");
    tracing::error!(target: "test_levels", "an error");
    let record = next(&rx);
    assert_eq!((record.level, record.message.as_str()), (4, "an error"));
    nothing(&rx);
    drop(catch);
    eventually("forwarding to stop with the catcher's ports", || {
        tracing::error!(target: "test_levels", "after the catcher stopped");
        rx.recv_timeout(Duration::from_millis(200)).is_err()
    });
    catcher.shutdown();
    seed.shutdown();
}

#[test]
fn a_flood_of_log_messages_is_delivered_or_counted_as_dropped() {
    let _serial = forward_logs();
    let (seed, catcher) = two_nodes();
    let (tx, rx) = channel();
    let dropped = Arc::new(AtomicU64::new(0));
    let counted = dropped.clone();
    let _catch = catcher.catch_logs(5, move |record| match record.context.as_str() {
        "test_flood" => {
            let _ = tx.send(record);
        }
        "aemp_node::logs" => {
            let n: u64 = record.message.split(' ').next().unwrap().parse().unwrap();
            counted.fetch_add(n, Ordering::Relaxed);
        }
        _ => {}
    });
    first_record(&rx, || tracing::warn!(target: "test_flood", "warming up"));
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
    dropped.store(0, Ordering::Relaxed);
    let sent = 20_000;
    for i in 0..sent {
        tracing::warn!(target: "test_flood", i, "flood");
    }
    // "last" may itself be dropped while the buffer is full: log it until it arrives.
    let (mut got, mut lasts, mut lasts_got) = (0, 0, 0);
    'flood: for _ in 0..(SOON.as_millis() / 200) {
        tracing::error!(target: "test_flood", "last");
        lasts += 1;
        while let Ok(record) = rx.recv_timeout(Duration::from_millis(200)) {
            if record.message == "last" {
                lasts_got += 1;
                break 'flood;
            }
            got += 1;
        }
    }
    // Earlier "last"s still on their way, and the count of drops, which follows the batch
    // it belongs to.
    while rx.recv_timeout(Duration::from_millis(500)).is_ok() {
        lasts_got += 1;
    }
    let dropped = dropped.load(Ordering::Relaxed);
    eprintln!("flood of {sent}: {got} delivered, {dropped} dropped and counted");
    assert_eq!(
        got + lasts_got + dropped,
        sent + lasts,
        "each message is delivered or counted"
    );
    catcher.shutdown();
    seed.shutdown();
}

#[test]
fn snd_to_func_runs_a_function_on_another_node() {
    let (tx, rx) = channel();
    let (seed, addr) = seed();
    let worker = member(
        builder("worker").register_function("work", move |_, args| tx.send(args).unwrap()),
        &seed,
        &addr,
    );
    seed.snd_to_func("worker", "work", ("job", 7)).unwrap();
    assert_eq!(next(&rx), [Value::from("job"), Value::Int(7)]);
    worker.shutdown();
    seed.shutdown();
}

#[test]
fn snd_on_relays_through_another_node_in_order() {
    let (seed, addr) = seed();
    let a = member(builder("a"), &seed, &addr);
    let (port, rx) = common::inbox(&a);
    for i in 0..100 {
        a.snd_on("seed", &port, ("relayed", i)).unwrap();
    }
    for i in 0..100 {
        assert_eq!(next(&rx), [Value::from("relayed"), Value::Int(i)]);
    }
    a.shutdown();
    seed.shutdown();
}
