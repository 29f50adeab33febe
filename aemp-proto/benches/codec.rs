//! Encode and decode cost of one typical message in every framing, with `serde_json` on the
//! same message as the baseline.

use std::hint::black_box;

use aemp_proto::{DecodeLimits, Framing, Value};
use criterion::{criterion_group, criterion_main, Criterion};

fn message() -> Vec<Value> {
    vec![
        Value::from("port"),
        Value::from("tag"),
        Value::Int(42),
        Value::from("0123456789abcdef"),
    ]
}

fn codec(c: &mut Criterion) {
    let msg = message();

    let json_msg = serde_json::json!(["port", "tag", 42, "0123456789abcdef"]);
    c.bench_function("baseline/serde_json::to_vec", |b| {
        b.iter(|| serde_json::to_vec(black_box(&json_msg)).unwrap())
    });
    let mut reused = Vec::with_capacity(256);
    c.bench_function("baseline/serde_json::to_writer (reused buffer)", |b| {
        b.iter(|| {
            reused.clear();
            serde_json::to_writer(&mut reused, black_box(&json_msg)).unwrap();
            black_box(reused.len())
        })
    });
    let json_bytes = serde_json::to_vec(&json_msg).unwrap();
    c.bench_function("baseline/serde_json::from_slice", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&json_bytes)).unwrap())
    });

    for framing in Framing::ALL {
        let name = framing.name();
        let mut out = Vec::with_capacity(256);
        c.bench_function(&format!("encode/{name}"), |b| {
            b.iter(|| {
                out.clear();
                framing.encode(black_box(&msg), &mut out);
                black_box(out.len())
            })
        });

        let mut wire = Vec::new();
        framing.encode(&msg, &mut wire);
        let mut dec = framing.decoder(DecodeLimits::default());
        c.bench_function(&format!("decode/{name}"), |b| {
            b.iter(|| {
                dec.feed(black_box(&wire));
                dec.next_packet().unwrap().unwrap()
            })
        });
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
