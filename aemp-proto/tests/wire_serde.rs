//! Serde conversions between Rust types and `Value`.

use std::collections::BTreeMap;

use aemp_proto::{from_value, from_values, to_value, to_values, DecodeLimits, Framing, Value};
use serde::{Deserialize, Serialize};

fn s(x: &str) -> Value {
    Value::from(x)
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Inner {
    id: u32,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Unit,
    Newtype(i32),
    Tuple(u8, String),
    Struct { x: f64, y: Option<bool> },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Outer {
    name: String,
    inner: Inner,
    maybe: Option<i64>,
    shapes: Vec<Shape>,
    pair: (char, u64),
    map: BTreeMap<String, i8>,
    unit: (),
    big: u64,
    neg: i128,
}

fn sample() -> Outer {
    Outer {
        name: "n".into(),
        inner: Inner {
            id: 7,
            tags: vec!["a".into(), "b".into()],
        },
        maybe: None,
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(-3),
            Shape::Tuple(1, "t".into()),
            Shape::Struct {
                x: 0.5,
                y: Some(true),
            },
        ],
        pair: ('é', 3),
        map: [("k".to_string(), -1)].into_iter().collect(),
        unit: (),
        big: u64::MAX,
        neg: -5,
    }
}

#[test]
fn struct_to_value_shape() {
    let v = to_value(&sample()).unwrap();
    assert_eq!(v.get("name"), Some(&s("n")));
    assert_eq!(
        v.get("inner"),
        Some(&Value::Map(vec![
            (s("id"), Value::Int(7)),
            (s("tags"), Value::Array(vec![s("a"), s("b")])),
        ]))
    );
    assert_eq!(v.get("maybe"), Some(&Value::Null));
    assert_eq!(
        v.get("shapes"),
        Some(&Value::Array(vec![
            s("Unit"),
            Value::Map(vec![(s("Newtype"), Value::Int(-3))]),
            Value::Map(vec![(
                s("Tuple"),
                Value::Array(vec![Value::Int(1), s("t")])
            )]),
            Value::Map(vec![(
                s("Struct"),
                Value::Map(vec![
                    (s("x"), Value::Float(0.5)),
                    (s("y"), Value::Bool(true))
                ])
            )]),
        ]))
    );
    assert_eq!(
        v.get("pair"),
        Some(&Value::Array(vec![s("é"), Value::Int(3)]))
    );
    assert_eq!(v.get("unit"), Some(&Value::Null));
    assert_eq!(v.get("big"), Some(&Value::UInt(u64::MAX)));
    assert_eq!(v.get("neg"), Some(&Value::Int(-5)));
}

#[test]
fn struct_roundtrips_through_value_and_every_framing() {
    let v = to_value(&sample()).unwrap();
    assert_eq!(from_value::<Outer>(v.clone()).unwrap(), sample());
    for framing in Framing::ALL {
        let mut wire = Vec::new();
        framing.encode(std::slice::from_ref(&v), &mut wire);
        let mut dec = framing.decoder(DecodeLimits::default());
        dec.feed(&wire);
        let packet = dec.next_packet().unwrap().unwrap();
        let back: (Outer,) = from_values(packet).unwrap();
        assert_eq!(back.0, sample(), "{framing:?}");
    }
}

#[test]
fn messages_as_tuples() {
    let msg = to_values(&("g_upd", "family", 3u8)).unwrap();
    assert_eq!(msg, vec![s("g_upd"), s("family"), Value::Int(3)]);
    let (tag, fam, n): (String, String, u8) = from_values(msg).unwrap();
    assert_eq!((tag.as_str(), fam.as_str(), n), ("g_upd", "family", 3));
    // Too many or too few elements are errors, not silently ignored.
    assert!(from_values::<(String,)>(vec![s("a"), s("b")]).is_err());
    assert!(from_values::<(String, String)>(vec![s("a")]).is_err());
}

#[test]
fn perl_numbers_as_strings_and_strings_as_numbers() {
    assert_eq!(from_value::<u16>(s("42")).unwrap(), 42);
    assert_eq!(from_value::<i64>(s("-7")).unwrap(), -7);
    assert_eq!(from_value::<f64>(s("1.25")).unwrap(), 1.25);
    assert_eq!(from_value::<f32>(Value::Int(2)).unwrap(), 2.0);
    assert_eq!(from_value::<u64>(Value::Float(3.0)).unwrap(), 3);
    assert!(from_value::<u64>(Value::Float(3.5)).is_err());
    assert!(from_value::<u8>(s("300")).is_err());
    assert!(from_value::<i32>(s("x")).is_err());
    assert_eq!(from_value::<String>(Value::Int(15040)).unwrap(), "15040");
    assert_eq!(from_value::<String>(Value::Float(0.5)).unwrap(), "0.5");
    // Perl truth for booleans.
    assert!(!from_value::<bool>(s("0")).unwrap());
    assert!(!from_value::<bool>(s("")).unwrap());
    assert!(!from_value::<bool>(Value::Null).unwrap());
    assert!(from_value::<bool>(Value::Int(1)).unwrap());
    assert!(from_value::<bool>(Value::Array(vec![])).is_err());
    // Map keys that are numeric strings (JSON keys) into integer keys.
    let m: BTreeMap<u32, String> = from_value(Value::Map(vec![
        (s("1"), s("one")),
        (Value::Int(2), s("two")),
    ]))
    .unwrap();
    assert_eq!(m.get(&1).map(String::as_str), Some("one"));
    assert_eq!(m.get(&2).map(String::as_str), Some("two"));
}

#[test]
fn bytes_and_options() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct B {
        #[serde(with = "bytes_as_bytes")]
        raw: Vec<u8>,
        opt: Option<String>,
    }
    let b = B {
        raw: vec![0xff, 0],
        opt: Some("x".into()),
    };
    let v = to_value(&b).unwrap();
    assert_eq!(v.get("raw"), Some(&Value::Bytes(vec![0xff, 0])));
    assert_eq!(from_value::<B>(v).unwrap(), b);
    // Byte fields also take strings (CBOR turns UTF-8 byte strings into strings).
    let v = Value::Map(vec![(s("raw"), s("ab")), (s("opt"), Value::Null)]);
    assert_eq!(
        from_value::<B>(v).unwrap(),
        B {
            raw: b"ab".to_vec(),
            opt: None
        }
    );
}

/// `serialize_bytes`/`deserialize_byte_buf` without pulling in serde_bytes.
mod bytes_as_bytes {
    use serde::{de, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[test]
fn structs_from_arrays_and_enum_errors() {
    let inner: Inner = from_value(Value::Array(vec![Value::Int(1), Value::Array(vec![])])).unwrap();
    assert_eq!(
        inner,
        Inner {
            id: 1,
            tags: vec![]
        }
    );
    assert!(from_value::<Shape>(Value::Int(1)).is_err());
    assert!(from_value::<Shape>(s("Nope")).is_err());
    assert!(from_value::<Shape>(s("Newtype")).is_err());
    let err = from_value::<Inner>(Value::Map(vec![(s("id"), s("x"))])).unwrap_err();
    assert!(err.message().contains("invalid type"), "{err}");
}

#[test]
fn value_natural_serde_form() {
    let v = Value::Map(vec![
        (
            s("b"),
            Value::Array(vec![Value::Int(1), Value::Null, Value::Float(0.5)]),
        ),
        (s("a"), Value::Bool(false)),
    ]);
    let text = serde_json::to_string(&v).unwrap();
    assert_eq!(text, r#"{"b":[1,null,0.5],"a":false}"#);
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, v);
    let big: Value = serde_json::from_str("[18446744073709551615, -1]").unwrap();
    assert_eq!(
        big,
        Value::Array(vec![Value::UInt(u64::MAX), Value::Int(-1)])
    );
    // Values nest inside other serde types.
    let o: Option<Vec<Value>> = from_value(Value::Array(vec![s("x")])).unwrap();
    assert_eq!(o, Some(vec![s("x")]));
}
