//! Logs an attacker cannot use as a disk filler: hundreds of connections that fail
//! authentication, or that come up and go down, write a handful of lines at INFO and above
//! per minute, and a summary with the counts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::conn::Channel;
use aemp_proto::node::{ConnId, NodeConfig, NodeCore, TransportOutput};
use aemp_proto::{ConnConfig, Connection};
use tracing::Level;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Counts events at INFO or above.
struct Count(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Count {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() <= Level::INFO {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs one connection from a peer with `secret` to `node` until both sides are quiet.
fn connect(node: &mut NodeCore, secret: &[u8], n: u8, now: Instant) {
    let id: ConnId = node.accept(Channel::Plain, now);
    let cfg = ConnConfig::new(format!("peer{n}"), Some(secret.to_vec()));
    let mut peer = Connection::new(Arc::new(cfg), &[n; 66], now);
    loop {
        let mut quiet = true;
        while node.poll_event().is_some() {}
        while let Some(out) = node.poll_transport() {
            if let TransportOutput::Transmit { conn, data } = out {
                if conn == id {
                    quiet = false;
                    peer.handle_input(&data);
                }
            }
        }
        let mut bytes = Vec::new();
        if peer.poll_transmit(&mut bytes) {
            quiet = false;
            node.conn_input(id, &bytes, now);
        }
        while peer.poll_event().is_some() {}
        if quiet {
            break;
        }
    }
    node.conn_closed(id, "Unexpected end-of-file", now);
    while node.poll_transport().is_some() {}
}

#[test]
fn hundreds_of_failed_and_churning_connections_write_a_handful_of_lines() {
    let lines = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(Count(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let start = Instant::now();
    let mut node = NodeCore::new(
        NodeConfig::new(ConnConfig::new("target", Some(b"right".to_vec()))),
        &[1; 32],
        start,
    );
    for n in 0..200u8 {
        connect(&mut node, b"wrong", n, start);
        connect(&mut node, b"right", n, start);
    }
    let within_a_minute = lines.load(Ordering::Relaxed);
    // 200 failed authentications and 200 nodes up and down: at most 5 lines per topic.
    assert!(within_a_minute <= 15, "{within_a_minute} lines");
    assert!(
        within_a_minute >= 10,
        "the first ones are still written: {within_a_minute}"
    );

    // The next window starts with a summary of the counts.
    node.handle_timeout(start + Duration::from_secs(61));
    let summary = lines.load(Ordering::Relaxed) - within_a_minute;
    assert!((1..=4).contains(&summary), "{summary} summary lines");
}
