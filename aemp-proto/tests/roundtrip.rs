//! Property tests: arbitrary values survive every framing, fed in arbitrary pieces, and
//! arbitrary bytes never make a decoder panic; a CBOR message read straight from its bytes
//! gives what the value decoder gives.

use std::collections::BTreeMap;
use std::fmt::Debug;

use aemp_proto::{
    from_slice, from_value, to_value, DecodeLimits, FrameDecoder, Framing, Packet, Payload, Value,
};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;

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

/// A message packet: a port name, then values.
fn message(domain: Domain) -> impl Strategy<Value = Vec<Value>> {
    ("[a-z#]{1,12}", vec(value(domain), 0..6)).prop_map(|(port, values)| {
        let mut packet = vec![Value::from(port)];
        packet.extend(values);
        packet
    })
}

/// The first packet of `bytes` read two ways: whole, so that a message keeps its values as
/// bytes, and after a first byte alone, so that the value decoder builds them. `None` for
/// either when the bytes do not decode.
fn both_ways(bytes: &[u8]) -> (Option<Packet>, Option<Vec<Value>>) {
    let first = |dec: &mut FrameDecoder| dec.next_frame().ok().flatten();
    let mut whole = Framing::Cbor.decoder(DecodeLimits::default());
    whole.feed(bytes);
    let lazy = first(&mut whole);
    let mut split = Framing::Cbor.decoder(DecodeLimits::default());
    split.feed(&bytes[..1.min(bytes.len())]);
    let early = first(&mut split);
    split.feed(&bytes[1.min(bytes.len())..]);
    let eager = early.or_else(|| first(&mut split)).map(Packet::into_values);
    (lazy, eager)
}

/// A struct in message order, as handlers decode them.
#[derive(Debug, PartialEq, Deserialize)]
struct Fields {
    tag: String,
    n: Option<i32>,
    rest: Vec<BTreeMap<String, u8>>,
}

/// An enum in serde's externally tagged form.
#[derive(Debug, PartialEq, Deserialize)]
enum Shape {
    Unit,
    Newtype(i64),
    Tuple(String, bool),
    Struct { x: u32 },
}

/// `T` read from the payload's bytes and from the values: the same value, or the same error.
fn same_outcome<T: DeserializeOwned + PartialEq + Debug>(
    payload: &Payload,
    values: &[Value],
) -> Result<(), TestCaseError> {
    match (payload.decode::<T>(), from_slice::<T>(values)) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(a), Err(b)) => prop_assert_eq!(a.message(), b.message()),
        (a, b) => prop_assert!(false, "from bytes {:?}, from values {:?}", a, b),
    }
    Ok(())
}

/// Every way a handler reads a message gives the same from bytes as from values.
fn same_reading(payload: &Payload, values: &[Value]) -> Result<(), TestCaseError> {
    prop_assert!(same(
        &Value::Array(payload.to_values()),
        &Value::Array(values.to_vec())
    ));
    prop_assert_eq!(payload.len(), values.len());
    prop_assert_eq!(payload.tag(), values.first().and_then(Value::as_str));
    same_outcome::<(String, i64)>(payload, values)?;
    same_outcome::<(IgnoredAny, u64, IgnoredAny)>(payload, values)?;
    same_outcome::<Vec<Option<String>>>(payload, values)?;
    same_outcome::<(bool, Vec<u8>)>(payload, values)?;
    same_outcome::<Fields>(payload, values)?;
    same_outcome::<Vec<Shape>>(payload, values)?;
    same_outcome::<(IgnoredAny, Shape)>(payload, values)?;
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

    /// A CBOR message read from its bytes reads as the values the value decoder builds:
    /// the values themselves, the tag, typed decoding (values or error messages alike),
    /// and the same without the first value.
    #[test]
    fn message_bytes_read_as_their_values(packet in message(Domain::Normalised)) {
        let mut bytes = Vec::new();
        Framing::Cbor.encode(&packet, &mut bytes);
        let (Some(lazy), Some(values)) = both_ways(&bytes) else {
            return Err(TestCaseError::fail("a message did not decode"));
        };
        prop_assert_eq!(lazy.port(), values[0].as_str());
        let payload = lazy.into_payload();
        same_reading(&payload, &values[1..])?;
        same_reading(&payload.without_first(), values.get(2..).unwrap_or_default())?;
    }

    /// A message serialized straight to CBOR is the packet its values make.
    #[test]
    fn messages_serialize_to_the_bytes_their_values_make(values in vec(value(Domain::Exact), 0..6)) {
        let (mut direct, mut via_values) = (Vec::new(), Vec::new());
        let payload = Payload::encode(&values).unwrap();
        Framing::Cbor.encode_payload("p", &payload, &mut direct);
        Framing::Cbor.encode_message("p", &values, &mut via_values);
        prop_assert_eq!(direct, via_values);
        prop_assert_eq!(payload.len(), values.len());
        // The fast framing converts the bytes item by item into what their values make.
        let (mut direct, mut via_values) = (Vec::new(), Vec::new());
        Framing::Fast.encode_payload("p", &payload, &mut direct);
        Framing::Fast.encode_message("p", &payload.to_values(), &mut via_values);
        prop_assert_eq!(direct, via_values);
    }

    /// Typed messages (the usual case) decode to the same value from bytes as from values.
    #[test]
    fn typed_messages_read_alike(
        tag in "[a-z]{0,6}",
        n in prop::option::of(any::<i32>()),
        rest in vec(prop::collection::btree_map("[a-z]{0,3}", any::<u8>(), 0..3), 0..3),
    ) {
        let values = vec![Value::from(tag), to_value(&n).unwrap(), to_value(&rest).unwrap()];
        let payload = Payload::from(values.clone());
        let mut bytes = Vec::new();
        Framing::Cbor.encode_message("port", &values, &mut bytes);
        let (Some(lazy), _) = both_ways(&bytes) else {
            return Err(TestCaseError::fail("a message did not decode"));
        };
        let lazy = lazy.into_payload();
        prop_assert!(lazy.decode::<Fields>().is_ok());
        prop_assert_eq!(lazy.decode::<Fields>(), payload.decode::<Fields>());
    }

    /// Valid CBOR with one byte flipped never panics either, and reads the same whole or
    /// in two pieces.
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
        match both_ways(&wire) {
            (Some(lazy), Some(values)) => {
                prop_assert!(same(&Value::Array(lazy.into_values()), &Value::Array(values)));
            }
            (lazy, values) => prop_assert_eq!(lazy.is_some(), values.is_some()),
        }
    }
}
