//! What each framing accepts and writes, byte for byte.

use aemp_proto::{DecodeLimits, Framing, Value};

fn one(framing: Framing, bytes: &[u8]) -> Vec<Value> {
    let mut dec = framing.decoder(DecodeLimits::default());
    dec.feed(bytes);
    let packet = dec.next_packet().unwrap().expect("a complete packet");
    assert_eq!(dec.next_packet(), Ok(None));
    assert_eq!(dec.buffered_len(), 0);
    packet
}

fn encoded(framing: Framing, packet: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    framing.encode(packet, &mut out);
    out
}

fn s(x: &str) -> Value {
    Value::from(x)
}

// ---- CBOR ---------------------------------------------------------------------------------

#[test]
fn cbor_integers_of_every_width() {
    let bytes = [
        0x8c, // array of 12
        0x00, 0x17, 0x18, 0x18, 0x19, 0x01, 0x00, 0x1a, 0x00, 0x01, 0x00,
        0x00, // 0 23 24 256 65536
        0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // i64::MAX
        0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0, // 2^63 -> UInt
        0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // u64::MAX
        0x20, // -1
        0x38, 0xff, // -256
        0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // i64::MIN
        0x18, 0x05, // non-minimal 5 is still 5
    ];
    assert_eq!(
        one(Framing::Cbor, &bytes),
        vec![
            Value::Int(0),
            Value::Int(23),
            Value::Int(24),
            Value::Int(256),
            Value::Int(65536),
            Value::Int(i64::MAX),
            Value::UInt(1 << 63),
            Value::UInt(u64::MAX),
            Value::Int(-1),
            Value::Int(-256),
            Value::Int(i64::MIN),
            Value::Int(5),
        ]
    );
}

#[test]
fn cbor_floats_of_every_width() {
    let bytes = [
        0x85, 0xf9, 0x3e, 0x00, // half 1.5
        0xf9, 0x7c, 0x00, // half +inf
        0xfa, 0x47, 0xc3, 0x50, 0x00, // single 100000.0
        0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, // double 0.1
        0xf9, 0x80, 0x00, // half -0.0
    ];
    let packet = one(Framing::Cbor, &bytes);
    assert_eq!(
        packet[..4],
        [
            Value::Float(1.5),
            Value::Float(f64::INFINITY),
            Value::Float(100000.0),
            Value::Float(0.1)
        ]
    );
    assert!(matches!(packet[4], Value::Float(z) if z == 0.0 && z.is_sign_negative()));
}

#[test]
fn cbor_strings_simple_values_and_tags() {
    let bytes = [
        0x88, // array of 8
        0x43, b'a', b'b', b'c', // byte string, UTF-8 -> Str
        0x42, 0xff, 0x00, // byte string, not UTF-8 -> Bytes
        0x63, b'x', b'y', b'z', // text string
        0xf4, 0xf5, 0xf6, 0xf7, // false true null undefined
        0xd9, 0xd9, 0xf7, 0xc1, 0x1a, 0x5f, 0x00, 0x00, 0x00, // tag 55799, tag 1, integer
    ];
    assert_eq!(
        one(Framing::Cbor, &bytes),
        vec![
            s("abc"),
            Value::Bytes(vec![0xff, 0]),
            s("xyz"),
            Value::Bool(false),
            Value::Bool(true),
            Value::Null,
            Value::Null,
            Value::Int(0x5f00_0000),
        ]
    );
}

#[test]
fn cbor_indefinite_lengths() {
    let bytes = [
        0x9f, // indefinite array
        0x5f, 0x41, b'a', 0x41, b'b', 0xff, // indefinite byte string "ab"
        0x7f, 0xff, // empty indefinite text string
        0xbf, 0x41, b'k', 0x9f, 0x01, 0xff, 0xff, // indefinite map {k: [1]}
        0x5f, 0x41, 0xc3, 0x41, 0xa9, 0xff, // "é" split over two chunks
        0xff,
    ];
    assert_eq!(
        one(Framing::Cbor, &bytes),
        vec![
            s("ab"),
            s(""),
            Value::Map(vec![(s("k"), Value::Array(vec![Value::Int(1)]))]),
            s("é"),
        ]
    );
}

#[test]
fn cbor_maps_keep_order_and_any_keys() {
    let bytes = [0x81, 0xa3, 0x41, b'z', 0x01, 0x01, 0x02, 0x80, 0xf6];
    assert_eq!(
        one(Framing::Cbor, &bytes),
        vec![Value::Map(vec![
            (s("z"), Value::Int(1)),
            (Value::Int(1), Value::Int(2)),
            (Value::Array(vec![]), Value::Null),
        ])]
    );
}

#[test]
fn cbor_encoding_is_minimal_and_definite() {
    let packet = [
        s("p"),
        Value::Int(24),
        Value::Int(-25),
        Value::UInt(u64::MAX),
        Value::Float(1.5),
        Value::Float(0.1),
        Value::Bytes(vec![0xff]),
        Value::Map(vec![(s("k"), Value::Null)]),
        Value::Bool(true),
    ];
    let mut expected = vec![0x89, 0x61, b'p', 0x18, 24, 0x38, 24];
    expected.extend([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expected.extend([0xfa, 0x3f, 0xc0, 0x00, 0x00]);
    expected.extend([0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]);
    expected.extend([0x41, 0xff, 0xa1, 0x61, b'k', 0xf6, 0xf5]);
    assert_eq!(encoded(Framing::Cbor, &packet), expected);
}

/// A real packet from the Perl captures (CBOR::XS sends strings as byte strings).
#[test]
fn cbor_from_perl() {
    let bytes = [
        0x84, 0x40, 0x47, b'g', b'_', b'f', b'o', b'u', b'n', b'd', 0x44, b's', b'e', b'e', b'd',
        0x81, 0x4f, b'1', b'2', b'7', b'.', b'0', b'.', b'0', b'.', b'1', b':', b'1', b'5', b'0',
        b'4', b'0',
    ];
    assert_eq!(
        one(Framing::Cbor, &bytes),
        vec![
            s(""),
            s("g_found"),
            s("seed"),
            Value::Array(vec![s("127.0.0.1:15040")])
        ]
    );
}

// ---- JSON ---------------------------------------------------------------------------------

#[test]
fn json_concatenated_with_whitespace() {
    let mut dec = Framing::Json.decoder(DecodeLimits::default());
    dec.feed(b"[\"a\",1][]\n\t [\"b\\\"]\",{\"k\":[2.5,-3,18446744073709551615]}]  ");
    assert_eq!(dec.next_packet(), Ok(Some(vec![s("a"), Value::Int(1)])));
    assert_eq!(dec.next_packet(), Ok(Some(vec![])));
    assert_eq!(
        dec.next_packet(),
        Ok(Some(vec![
            s("b\"]"),
            Value::Map(vec![(
                s("k"),
                Value::Array(vec![
                    Value::Float(2.5),
                    Value::Int(-3),
                    Value::UInt(u64::MAX)
                ])
            )])
        ]))
    );
    assert_eq!(dec.next_packet(), Ok(None));
    // Trailing whitespace is consumed while looking for the next packet.
    assert_eq!(dec.buffered_len(), 0);
}

#[test]
fn json_escapes_split_across_feeds() {
    let text = br#"["x\\\"\u00e9\n","\\"]"#;
    for cut in 0..text.len() {
        let mut dec = Framing::Json.decoder(DecodeLimits::default());
        dec.feed(&text[..cut]);
        assert_eq!(dec.next_packet(), Ok(None), "cut at {cut}");
        dec.feed(&text[cut..]);
        assert_eq!(
            dec.next_packet(),
            Ok(Some(vec![s("x\\\"é\n"), s("\\")])),
            "cut at {cut}"
        );
    }
}

#[test]
fn json_encoding_matches_serde_json() {
    let packet = [
        s("port"),
        s("quote \" backslash \\ newline \n tab \t nul \u{0} é"),
        Value::Int(-5),
        Value::UInt(u64::MAX),
        Value::Float(1.0),
        Value::Float(1e300),
        Value::Null,
        Value::Array(vec![Value::Bool(false)]),
    ];
    let expected = serde_json::to_vec(&serde_json::json!([
        "port",
        "quote \" backslash \\ newline \n tab \t nul \u{0} é",
        -5,
        u64::MAX,
        1.0,
        1e300,
        null,
        [false]
    ]))
    .unwrap();
    assert_eq!(encoded(Framing::Json, &packet), expected);
}

#[test]
fn json_encoding_of_values_json_lacks() {
    let packet = [
        Value::Bytes(vec![b'a', 0xe9, 0xff]),
        Value::Float(f64::INFINITY),
        Value::Map(vec![
            (Value::Int(7), s("int key")),
            (Value::Null, s("null key")),
            (Value::Bytes(vec![0xff]), s("bytes key")),
            (Value::Map(vec![(s("a"), Value::Int(1))]), s("map key")),
        ]),
    ];
    assert_eq!(
        String::from_utf8(encoded(Framing::Json, &packet)).unwrap(),
        r#"["aéÿ",null,{"7":"int key","null":"null key","ÿ":"bytes key","{\"a\":1}":"map key"}]"#
    );
}

// ---- fast ---------------------------------------------------------------------------------

#[test]
fn fast_layout() {
    let packet = [s("p"), Value::Int(-1), Value::Null, Value::Bytes(vec![1])];
    // len 10: count 4, Str "p", Int zig-zag(-1) = 1, Null, Bytes [1]
    assert_eq!(
        encoded(Framing::Fast, &packet),
        [10, 4, 5, 1, b'p', 2, 1, 0, 6, 1, 1]
    );
    assert_eq!(one(Framing::Fast, &encoded(Framing::Fast, &packet)), packet);
}

#[test]
fn fast_keeps_what_cbor_normalises() {
    let packet = vec![
        Value::Bytes(b"utf8".to_vec()),
        Value::UInt(5),
        Value::Float(f64::from_bits(0x7ff8_0000_dead_beef)),
    ];
    let got = one(Framing::Fast, &encoded(Framing::Fast, &packet));
    assert_eq!(got[..2], packet[..2]);
    assert!(matches!(got[2], Value::Float(f) if f.to_bits() == 0x7ff8_0000_dead_beef));
}
