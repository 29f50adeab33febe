//! End-to-end loopback benchmark: two nodes in one process, connected on 127.0.0.1, one
//! sending `["tag", 42, "0123456789abcdef"]` messages to a port of the other, per framing
//! over TCP and (with the `quic` feature) per framing over QUIC.
//!
//! Run with `cargo run --release -p aemp-node --features quic --example loopback_bench
//! [MESSAGES]`. Every figure is also given as a ratio against CBOR over TCP (the
//! Perl-compatible default) measured in the same run, because absolute numbers on a shared
//! machine are noisy. Round-trip latency is measured with `cal`.

use std::net::TcpListener;
#[cfg(feature = "quic")]
use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use aemp_node::{Node, PortId};
use aemp_proto::{Framing, Value};

/// One pair of nodes whose links use only `framing`.
struct Pair {
    seed: Node,
    other: Node,
}

/// The transports to measure.
#[derive(Clone, Copy, Debug)]
enum Transport {
    Tcp,
    #[cfg(feature = "quic")]
    Quic,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            #[cfg(feature = "quic")]
            Transport::Quic => "quic",
        }
    }
}

fn pair(transport: Transport, framing: Framing) -> Pair {
    let node = |role: &str| {
        Node::builder()
            .norc()
            .node_id(&format!(
                "bench-{role}-{}-{}",
                transport.name(),
                framing.name()
            ))
            .secret("bench")
            .framings(&[framing])
    };
    let (seed, addr, any) = match transport {
        Transport::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
            let addr = listener.local_addr().expect("local address").to_string();
            (node("seed").listener(listener), addr, "127.0.0.1:0")
        }
        #[cfg(feature = "quic")]
        Transport::Quic => {
            let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback port");
            let addr = format!("quic:{}", socket.local_addr().expect("local address"));
            (node("seed").quic_socket(socket), addr, "quic:127.0.0.1:0")
        }
    };
    let seed = seed.seeds([addr.clone()]).start().expect("start the seed");
    let other = node("other")
        .binds([any])
        .seeds([addr])
        .start()
        .expect("start the second node");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seed.node_is_up(other.node_id()) {
        assert!(Instant::now() < deadline, "the nodes did not connect");
        std::thread::sleep(Duration::from_millis(5));
    }
    Pair { seed, other }
}

/// Messages per second from `from` to a counting port on `to`.
fn throughput(from: &Node, to: &Node, messages: u64) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = mpsc::channel();
    let counter = count.clone();
    let sink = to.port_with(move |_msg| {
        if counter.fetch_add(1, Ordering::Relaxed) + 1 == messages {
            let _ = done_tx.send(());
        }
    });
    let start = Instant::now();
    for _ in 0..messages {
        from.snd_values(&sink, message());
    }
    done_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("all messages arrive");
    let secs = start.elapsed().as_secs_f64();
    to.kil(&sink, Vec::<Value>::new());
    messages as f64 / secs
}

fn message() -> Vec<Value> {
    vec![
        Value::from("tag"),
        Value::Int(42),
        Value::from("0123456789abcdef"),
    ]
}

/// Median round trip of `cal` to an echo port on `to`, in microseconds.
fn round_trip_micros(from: &Node, to: &Node, calls: usize) -> f64 {
    let n = to.clone();
    let echo = to.port_with(move |msg| {
        let mut values = msg.into_vec();
        if let Some(Value::Str(reply)) = values.pop() {
            n.snd_values(&PortId::from(reply.as_str()), values);
        }
    });
    let mut times: Vec<f64> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            futures_lite::future::block_on(from.cal(
                &echo,
                ("ping",),
                Some(Duration::from_secs(10)),
            ))
            .expect("echo answers");
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    to.kil(&echo, Vec::<Value>::new());
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let messages: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let transports = [
        Transport::Tcp,
        #[cfg(feature = "quic")]
        Transport::Quic,
    ];
    let framings = [Framing::Cbor, Framing::Fast, Framing::Json];
    let mut rows = Vec::new();
    for (transport, framing) in transports
        .into_iter()
        .flat_map(|t| framings.map(|f| (t, f)))
    {
        let p = pair(transport, framing);
        let rate = throughput(&p.seed, &p.other, messages);
        let rtt = round_trip_micros(&p.seed, &p.other, 2_000);
        let name = format!("{}/{}", transport.name(), framing.name());
        eprintln!("{name:>20}: {rate:>12.0} msg/s, cal round trip {rtt:.1} µs");
        rows.push((name, rate, rtt));
        p.other.shutdown();
        p.seed.shutdown();
        futures_lite::future::block_on(p.other.stopped());
        futures_lite::future::block_on(p.seed.stopped());
    }
    let (_, base_rate, base_rtt) = rows[0].clone();
    println!(
        "transport/framing      msg/s  vs tcp/cbor   cal µs  vs tcp/cbor   ({messages} messages)"
    );
    for (name, rate, rtt) in rows {
        println!(
            "{name:<20} {rate:>8.0}  {:>10.2}x  {rtt:>7.1}  {:>10.2}x",
            rate / base_rate,
            rtt / base_rtt
        );
    }
}
