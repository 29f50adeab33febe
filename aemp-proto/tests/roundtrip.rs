//! Property tests: arbitrary values survive every framing, fed in arbitrary pieces, and
//! arbitrary bytes never make a decoder panic.

use aemp_proto::{from_value, to_value, DecodeLimits, Framing, Value};
use proptest::collection::vec;
use proptest::prelude::*;

/// Equality with floats compared bit for bit (so NaN equals the same NaN).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((xk, xv), (yk, yv))| same(xk, yk) && same(xv, yv))
        }
        _ => a == b,
    }
}

fn same_packets(a: &[Vec<Value>], b: &[Vec<Value>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| same(&Value::Array(x.clone()), &Value::Array(y.clone())))
}

/// Which values a framing must carry exactly.
#[derive(Clone, Copy, Debug)]
enum Domain {
    /// Everything, exactly (the fast framing).
    Exact,
    /// Normalised values: `UInt` only above `i64::MAX`, `Bytes` only when not UTF-8 (CBOR).
    Normalised,
    /// What JSON can carry: no bytes, finite floats, string map keys.
    Json,
}

fn float(domain: Domain) -> BoxedStrategy<f64> {
    let specials = prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        any::<f32>().prop_map(f64::from),
    ];
    match domain {
        Domain::Json => prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            specials.prop_filter("finite", |f| f.is_finite()),
        ]
        .boxed(),
        _ => prop_oneof![
            any::<f64>(),
            specials,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            any::<u64>().prop_map(f64::from_bits),
        ]
        .boxed(),
    }
}

fn leaf(domain: Domain) -> BoxedStrategy<Value> {
    let common = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0),
            Just(-1),
            Just(23),
            Just(24)
        ]
        .prop_map(Value::Int),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(Value::UInt),
        float(domain).prop_map(Value::Float),
        any::<String>().prop_map(Value::from),
        "[a-z_#]{0,12}".prop_map(Value::from),
    ];
    match domain {
        Domain::Json => common.boxed(),
        Domain::Normalised => prop_oneof![
            common,
            // A leading 0xff is never UTF-8.
            vec(any::<u8>(), 0..20).prop_map(|mut b| {
                b.insert(0, 0xff);
                Value::Bytes(b)
            }),
        ]
        .boxed(),
        Domain::Exact => prop_oneof![
            common,
            any::<u64>().prop_map(Value::UInt),
            vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
            "[a-z]{0,5}".prop_map(|s| Value::Bytes(s.into_bytes())),
        ]
        .boxed(),
    }
}

fn value(domain: Domain) -> BoxedStrategy<Value> {
    leaf(domain)
        .prop_recursive(4, 64, 6, move |inner| {
            let key = match domain {
                Domain::Json => any::<String>().prop_map(Value::from).boxed(),
                _ => inner.clone(),
            };
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                vec((key, inner), 0..6).prop_map(Value::Map),
            ]
        })
        .boxed()
}

fn packets(domain: Domain) -> impl Strategy<Value = Vec<Vec<Value>>> {
    vec(vec(value(domain), 0..6), 1..5)
}

/// Encodes the packets, feeds them in pieces of the given sizes (cycled), and checks every
/// packet comes back.
fn roundtrip(
    framing: Framing,
    packets: &[Vec<Value>],
    sizes: &[usize],
) -> Result<(), TestCaseError> {
    let mut wire = Vec::new();
    for p in packets {
        framing.encode(p, &mut wire);
    }
    let mut dec = framing.decoder(DecodeLimits::default());
    let mut got = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at == wire.len() {
            break;
        }
        let n = (*size).min(wire.len() - at);
        dec.feed(&wire[at..at + n]);
        at += n;
        while let Some(p) = dec
            .next_packet()
            .map_err(|e| TestCaseError::fail(e.to_string()))?
        {
            got.push(p);
        }
    }
    prop_assert!(
        same_packets(&got, packets),
        "{:?}: sent {:?}, got {:?}",
        framing,
        packets,
        got
    );
    prop_assert_eq!(dec.buffered_len(), 0);
    Ok(())
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    vec(1usize..40, 1..20)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_message_encodes_as_the_packet_it_stands_for(
        port in "[a-zA-Z0-9#_]{0,30}",
        msg in vec(value(Domain::Exact), 0..6),
    ) {
        for framing in Framing::ALL {
            let mut packet = vec![Value::from(port.as_str())];
            packet.extend(msg.iter().cloned());
            let (mut whole, mut apart) = (Vec::new(), Vec::new());
            framing.encode(&packet, &mut whole);
            framing.encode_message(&port, &msg, &mut apart);
            prop_assert_eq!(whole, apart, "{:?}", framing);
        }
    }

    #[test]
    fn fast_roundtrips_every_value_exactly(p in packets(Domain::Exact), s in sizes()) {
        roundtrip(Framing::Fast, &p, &s)?;
    }

    #[test]
    fn cbor_roundtrips_normalised_values(p in packets(Domain::Normalised), s in sizes()) {
        roundtrip(Framing::Cbor, &p, &s)?;
    }

    #[test]
    fn json_roundtrips_json_values(p in packets(Domain::Json), s in sizes()) {
        roundtrip(Framing::Json, &p, &s)?;
    }

    /// CBOR normalises: UTF-8 bytes become strings, small unsigned become `Int`.
    #[test]
    fn cbor_normalises(b in "[a-z]{0,8}", u in 0..=i64::MAX as u64) {
        let mut wire = Vec::new();
        Framing::Cbor.encode(&[Value::Bytes(b.clone().into_bytes()), Value::UInt(u)], &mut wire);
        let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
        dec.feed(&wire);
        let got = dec.next_packet().unwrap().unwrap();
        prop_assert_eq!(got, vec![Value::from(b), Value::Int(u as i64)]);
    }

    /// A (normalised) value passes through serde's data model unchanged.
    #[test]
    fn serde_value_identity(v in value(Domain::Normalised)) {
        let via_ser = to_value(&v).unwrap();
        prop_assert!(same(&via_ser, &v), "to_value: {:?} -> {:?}", v, via_ser);
        let via_de: Value = from_value(v.clone()).unwrap();
        prop_assert!(same(&via_de, &v), "from_value: {:?} -> {:?}", v, via_de);
    }

    /// Arbitrary bytes, split anywhere, never panic any decoder (small limits, so the limit
    /// paths are reached too).
    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..300), cut in any::<prop::sample::Index>()) {
        let limits = DecodeLimits { max_frame: 128, max_depth: 8 };
        let cut = cut.index(bytes.len() + 1);
        for framing in Framing::ALL {
            let mut dec = framing.decoder(limits);
            dec.feed(&bytes[..cut]);
            while let Ok(Some(_)) = dec.next_packet() {}
            dec.feed(&bytes[cut..]);
            while let Ok(Some(_)) = dec.next_packet() {}
        }
    }

    /// Valid CBOR with one byte flipped never panics either.
    #[test]
    fn mutated_cbor_never_panics(p in packets(Domain::Normalised), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut wire = Vec::new();
        for packet in &p {
            Framing::Cbor.encode(packet, &mut wire);
        }
        let i = at.index(wire.len());
        wire[i] = byte;
        let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
        dec.feed(&wire);
        while let Ok(Some(_)) = dec.next_packet() {}
    }
}
