//! The whole sans-IO path of one message between two `NodeCore`s in memory: `snd` on one
//! node, encode, transmit, decode and `Deliver` on the other, in batches of 1,000 messages
//! per framing. The codec-only cost of the same framing (encode + decode of the same packet,
//! measured here too) is the baseline the node overhead is compared with.

use std::hint::black_box;
use std::time::Instant;

use aemp_proto::conn::{Channel, ConnConfig};
use aemp_proto::node::{ConnId, Event, NodeConfig, NodeCore, TransportOutput};
use aemp_proto::{DecodeLimits, Framing, Value};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const BATCH: u64 = 1_000;

/// Two connected nodes and the port on `b` that receives.
struct Pair {
    a: NodeCore,
    b: NodeCore,
    /// (a's connection, b's connection).
    link: (ConnId, ConnId),
    sink: String,
    now: Instant,
}

fn node(id: &str, seeds: &[&str], framing: Framing, now: Instant) -> NodeCore {
    let mut conn = ConnConfig::new(id, Some(b"bench".to_vec()));
    conn.framings = vec![framing];
    let mut cfg = NodeConfig::new(conn);
    cfg.binds = vec![format!("mem:{id}")];
    cfg.seeds = seeds.iter().map(|s| s.to_string()).collect();
    NodeCore::new(cfg, id.as_bytes(), now)
}

impl Pair {
    /// `a` has `b` as its seed, so it connects to it at once.
    fn new(framing: Framing) -> Pair {
        let now = Instant::now();
        let mut a = node("a", &["mem:b"], framing, now);
        let mut b = node("b", &[], framing, now);
        let sink = b.port();
        a.handle_timeout(now);
        let ca = std::iter::from_fn(|| a.poll_transport())
            .find_map(|out| match out {
                TransportOutput::Connect { conn, .. } => Some(conn),
                _ => None,
            })
            .expect("a connects to its seed");
        a.conn_connected(ca, Channel::Plain, now);
        let cb = b.accept(Channel::Plain, now);
        let mut pair = Pair {
            a,
            b,
            link: (ca, cb),
            sink,
            now,
        };
        pair.settle();
        assert!(pair.a.node_is_up("b"), "the handshake did not complete");
        pair
    }

    /// Shuttles bytes both ways until both nodes are idle; returns the messages delivered.
    fn settle(&mut self) -> u64 {
        let mut delivered = 0;
        loop {
            let mut idle = true;
            while let Some(out) = self.a.poll_transport() {
                if let TransportOutput::Transmit { data, .. } = out {
                    idle = false;
                    self.b.conn_input(self.link.1, &data, self.now);
                }
            }
            while let Some(out) = self.b.poll_transport() {
                if let TransportOutput::Transmit { data, .. } = out {
                    idle = false;
                    self.a.conn_input(self.link.0, &data, self.now);
                }
            }
            while let Some(event) = self.b.poll_event() {
                if let Event::Deliver { msg, .. } = event {
                    delivered += 1;
                    black_box(msg);
                }
            }
            if idle {
                return delivered;
            }
        }
    }
}

fn message() -> Vec<Value> {
    vec![
        Value::from("tag"),
        Value::Int(42),
        Value::from("0123456789abcdef"),
    ]
}

fn node_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("node");
    group.throughput(Throughput::Elements(BATCH));
    for framing in [Framing::Cbor, Framing::Fast, Framing::Json] {
        let name = framing.name();
        let packet: Vec<Value> = std::iter::once(Value::from("port"))
            .chain(message())
            .collect();
        group.bench_function(format!("{name}/codec only (baseline)"), |bench| {
            let mut out = Vec::new();
            bench.iter(|| {
                for _ in 0..BATCH {
                    out.clear();
                    framing.encode(&packet, &mut out);
                    let mut dec = framing.decoder(DecodeLimits::default());
                    dec.feed(&out);
                    black_box(dec.next_packet().unwrap());
                }
            })
        });
        let mut pair = Pair::new(framing);
        group.bench_function(format!("{name}/snd to Deliver"), |bench| {
            bench.iter_batched(
                message,
                |msg| {
                    for _ in 0..BATCH {
                        pair.a.snd(&pair.sink, msg.clone(), pair.now);
                    }
                    assert_eq!(pair.settle(), BATCH);
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, node_path);
criterion_main!(benches);
