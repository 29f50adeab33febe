//! Hostile and broken input: each case expects one specific outcome and no panic.

use aemp_proto::{DecodeError, DecodeLimits, FrameDecoder, Framing, Value};

fn decoder(framing: Framing) -> FrameDecoder {
    framing.decoder(DecodeLimits::default())
}

fn decode_all(
    framing: Framing,
    limits: DecodeLimits,
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, DecodeError> {
    let mut dec = framing.decoder(limits);
    dec.feed(bytes);
    dec.next_packet()
}

fn decode(framing: Framing, bytes: &[u8]) -> Result<Option<Vec<Value>>, DecodeError> {
    decode_all(framing, DecodeLimits::default(), bytes)
}

fn small(max_frame: usize) -> DecodeLimits {
    DecodeLimits {
        max_frame,
        ..DecodeLimits::default()
    }
}

#[track_caller]
fn assert_too_deep(r: Result<Option<Vec<Value>>, DecodeError>, framing: Framing) {
    assert_eq!(r, Err(DecodeError::TooDeep { framing, limit: 64 }));
}

#[track_caller]
fn assert_too_large(r: Result<Option<Vec<Value>>, DecodeError>, framing: Framing) {
    match r {
        Err(DecodeError::FrameTooLarge { framing: f, .. }) => assert_eq!(f, framing),
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
}

#[track_caller]
fn assert_malformed(r: Result<Option<Vec<Value>>, DecodeError>, framing: Framing) {
    match r {
        Err(DecodeError::Malformed { framing: f, .. }) => assert_eq!(f, framing),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

// ---- truncation: wait, do not fail --------------------------------------------------------

#[test]
fn truncated_packets_wait_for_more_in_every_framing() {
    let packet = vec![
        Value::from("port"),
        Value::Map(vec![(
            Value::from("k"),
            Value::Array(vec![Value::Int(1 << 40)]),
        )]),
        Value::Float(0.1),
        Value::Bytes(vec![0xff, 0]),
    ];
    for framing in Framing::ALL {
        let mut wire = Vec::new();
        framing.encode(&packet, &mut wire);
        for cut in 0..wire.len() {
            let mut dec = decoder(framing);
            dec.feed(&wire[..cut]);
            assert_eq!(dec.next_packet(), Ok(None), "{framing:?} cut at {cut}");
            assert_eq!(
                dec.next_packet(),
                Ok(None),
                "{framing:?} cut at {cut}, again"
            );
            assert_eq!(dec.buffered_len(), cut);
            dec.feed(&wire[cut..]);
            assert!(
                dec.next_packet().unwrap().is_some(),
                "{framing:?} resumed at {cut}"
            );
            assert_eq!(dec.buffered_len(), 0);
        }
    }
}

#[test]
fn truncated_cbor_is_none_until_the_rest_arrives() {
    let mut dec = decoder(Framing::Cbor);
    // ["ab", 1] in pieces: array head, half a string, the rest.
    dec.feed(&[0x82, 0x62, b'a']);
    assert_eq!(dec.next_packet(), Ok(None));
    dec.feed(b"b");
    assert_eq!(dec.next_packet(), Ok(None));
    dec.feed(&[0x01, 0x80]);
    assert_eq!(
        dec.next_packet(),
        Ok(Some(vec![Value::from("ab"), Value::Int(1)]))
    );
    assert_eq!(dec.next_packet(), Ok(Some(vec![])));
    assert_eq!(dec.next_packet(), Ok(None));
}

#[test]
fn keepalives_are_empty_packets() {
    for framing in Framing::ALL {
        let mut wire = Vec::new();
        framing.encode(&[], &mut wire);
        framing.encode(&[], &mut wire);
        let mut dec = decoder(framing);
        dec.feed(&wire);
        assert_eq!(dec.next_packet(), Ok(Some(vec![])), "{framing:?}");
        assert_eq!(dec.next_packet(), Ok(Some(vec![])), "{framing:?}");
        assert_eq!(dec.next_packet(), Ok(None), "{framing:?}");
    }
}

// ---- nesting bombs ------------------------------------------------------------------------

#[test]
fn cbor_nesting_bombs_are_too_deep() {
    for head in [0x81u8, 0x9f, 0xa1, 0xbf] {
        let mut bomb = vec![0x81];
        bomb.extend(vec![head; 100_000]);
        assert_too_deep(decode(Framing::Cbor, &bomb), Framing::Cbor);
    }
    // Maps nest through their keys as well as their values.
    let mut keys = vec![0x81];
    keys.extend(std::iter::repeat_n([0xa1u8], 100_000).flatten());
    assert_too_deep(decode(Framing::Cbor, &keys), Framing::Cbor);
}

#[test]
fn cbor_nesting_at_the_limit_is_accepted() {
    let limits = DecodeLimits::default();
    let mut ok = vec![0x81; limits.max_depth - 1];
    ok.push(0x80);
    let packet = decode(Framing::Cbor, &ok).unwrap().unwrap();
    assert_eq!(packet.len(), 1);
    let mut deep = vec![0x81; limits.max_depth];
    deep.push(0x80);
    assert_too_deep(decode(Framing::Cbor, &deep), Framing::Cbor);
}

#[test]
fn cbor_tag_chains_do_not_recurse() {
    let mut bytes = vec![0xc6; 200_000];
    bytes.extend([0x81, 0xd8, 0x20, 0x01]);
    assert_eq!(decode(Framing::Cbor, &bytes), Ok(Some(vec![Value::Int(1)])));
}

#[test]
fn json_nesting_bomb_is_too_deep() {
    let bomb = vec![b'['; 100_000];
    assert_too_deep(decode(Framing::Json, &bomb), Framing::Json);
    let mut objects = b"[".to_vec();
    objects.extend(std::iter::repeat_n(*br#"{"a":"#, 100_000).flatten());
    assert_too_deep(decode(Framing::Json, &objects), Framing::Json);
    // Brackets inside strings do not count.
    let mut in_string = b"[\"".to_vec();
    in_string.extend(vec![b'['; 1000]);
    in_string.extend(b"\\\"]\"]");
    let packet = decode(Framing::Json, &in_string).unwrap().unwrap();
    assert_eq!(packet[0].as_str().map(str::len), Some(1002));
}

#[test]
fn fast_nesting_bomb_is_too_deep() {
    // One-element arrays nested 100 000 deep: [count 1, tag Array, count 1, tag Array, ...]
    let mut payload = vec![1u8];
    for _ in 0..100_000 {
        payload.extend([7, 1]);
    }
    payload.push(0);
    let mut wire = Vec::new();
    let mut len = payload.len();
    while len >= 0x80 {
        wire.push((len as u8) | 0x80);
        len >>= 7;
    }
    wire.push(len as u8);
    wire.extend(payload);
    assert_too_deep(decode(Framing::Fast, &wire), Framing::Fast);
}

// ---- declared sizes -----------------------------------------------------------------------

#[test]
fn cbor_huge_declared_lengths_fail_before_allocation() {
    let cases: &[&[u8]] = &[
        &[0x81, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // byte string 2^64-1
        &[0x81, 0x7a, 0x7f, 0xff, 0xff, 0xff],                         // text string 2 GiB
        &[0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],       // array 2^63-1 items
        &[0x81, 0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0],                      // map 2^60 entries
    ];
    for bytes in cases {
        assert_too_large(decode(Framing::Cbor, bytes), Framing::Cbor);
    }
    // Just over the limit is refused, just under it waits for the bytes.
    let mut over = vec![0x81, 0x5a];
    over.extend(((16 << 20) as u32 - 6 + 1).to_be_bytes());
    assert_too_large(decode(Framing::Cbor, &over), Framing::Cbor);
    let mut under = vec![0x81, 0x5a];
    under.extend(((16 << 20) as u32 - 6).to_be_bytes());
    assert_eq!(decode(Framing::Cbor, &under), Ok(None));
}

#[test]
fn cbor_frame_limit_counts_whole_packet() {
    // Many small items add up past the limit.
    let mut bytes = vec![0x9f];
    bytes.extend([0x01; 100]);
    assert_too_large(decode_all(Framing::Cbor, small(50), &bytes), Framing::Cbor);
    // A packet exactly at the limit is fine.
    let mut exact = vec![0x98, 48];
    exact.extend([0x01; 48]);
    assert_eq!(
        decode_all(Framing::Cbor, small(50), &exact)
            .unwrap()
            .unwrap()
            .len(),
        48
    );
}

#[test]
fn json_oversize_frame_is_refused() {
    let text = br#"["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]"#;
    assert_too_large(decode_all(Framing::Json, small(16), text), Framing::Json);
    // In small pieces too, as soon as the limit is passed.
    let mut dec = Framing::Json.decoder(small(16));
    let mut result = Ok(None);
    for (i, b) in text.iter().enumerate() {
        dec.feed(std::slice::from_ref(b));
        result = dec.next_packet();
        if result.is_err() {
            // 16 bytes without the end: the packet cannot fit any more.
            assert_eq!(i + 1, 16, "refused once the limit is reached");
            break;
        }
    }
    assert_too_large(result, Framing::Json);
    // Exactly at the limit passes.
    assert!(decode_all(Framing::Json, small(text.len()), text)
        .unwrap()
        .is_some());
}

#[test]
fn fast_oversize_length_prefix_is_refused() {
    // 2^30 bytes announced, default limit 16 MiB: refused without waiting for the payload.
    assert_too_large(
        decode(Framing::Fast, &[0x80, 0x80, 0x80, 0x80, 0x04]),
        Framing::Fast,
    );
    assert_too_large(decode_all(Framing::Fast, small(10), &[11]), Framing::Fast);
    // A prefix overflowing 64 bits is malformed.
    assert_malformed(decode(Framing::Fast, &[0xff; 11]), Framing::Fast);
}

// ---- not an array -------------------------------------------------------------------------

#[test]
fn non_array_top_level_is_refused() {
    for bytes in [
        &[0x01u8][..],
        &[0xa0],
        &[0x61, b'x'],
        &[0xf6],
        &[0xc0, 0x01],
        &[0x5f],
    ] {
        assert_eq!(
            decode(Framing::Cbor, bytes),
            Err(DecodeError::NotAnArray {
                framing: Framing::Cbor
            }),
            "{bytes:x?}"
        );
    }
    for text in ["{}", "\"x\"", "42", "null", " \n x"] {
        assert_eq!(
            decode(Framing::Json, text.as_bytes()),
            Err(DecodeError::NotAnArray {
                framing: Framing::Json
            }),
            "{text}"
        );
    }
}

#[test]
fn errors_are_sticky() {
    let mut dec = decoder(Framing::Cbor);
    dec.feed(&[0x01]);
    let err = dec.next_packet().unwrap_err();
    dec.feed(&[0x80]);
    assert_eq!(dec.next_packet(), Err(err));
}

// ---- malformed ----------------------------------------------------------------------------

#[test]
fn cbor_malformed_items() {
    let cases: &[&[u8]] = &[
        &[0x81, 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // -2^64: below i64::MIN
        &[0x81, 0xff],                                                 // break in definite array
        &[0x81, 0x1c],                                                 // reserved info 28
        &[0x81, 0x1f],                                                 // indefinite integer
        &[0x81, 0xdf, 0x01],                                           // indefinite tag
        &[0x81, 0xf0],                                                 // unassigned simple value
        &[0x81, 0xf8, 0x20],                                           // one-byte simple value
        &[0x81, 0x5f, 0x61, b'a', 0xff],                               // text chunk in byte string
        &[0x81, 0x5f, 0x5f, 0xff, 0xff],                               // nested indefinite string
        &[0x81, 0xbf, 0x01, 0xff],                                     // map break after a key
        &[0xff],                                                       // break at top level
    ];
    for bytes in cases {
        assert_malformed(decode(Framing::Cbor, bytes), Framing::Cbor);
    }
}

#[test]
fn json_invalid_utf8_is_an_error() {
    assert_malformed(decode(Framing::Json, b"[\"\xff\xfe\"]"), Framing::Json);
    assert_malformed(decode(Framing::Json, b"[\"\xc3\"]"), Framing::Json);
    assert_malformed(decode(Framing::Json, b"[1,\xff]"), Framing::Json);
}

#[test]
fn json_garbage_is_malformed() {
    for text in [
        "[1,,2]",
        "[tru]",
        "[}",
        "[\"a\":1]",
        "[{1:2}]",
        "[\"\\ud800\"]",
        "[1 2]",
    ] {
        assert_malformed(decode(Framing::Json, text.as_bytes()), Framing::Json);
    }
}

#[test]
fn fast_garbage_is_malformed() {
    let cases: &[&[u8]] = &[
        &[3, 1, 9, 0],             // unknown value kind 9
        &[2, 1, 5],                // string without its length
        &[4, 1, 5, 5, b'a'],       // string longer than the payload
        &[4, 1, 5, 2, 0xff],       // length 2 but 1 byte, then invalid UTF-8
        &[5, 1, 5, 2, 0xff, 0xfe], // invalid UTF-8 in a string
        &[3, 1, 0, 0],             // trailing byte after the packet
        &[2, 1, 1],                // bool without its byte
        &[3, 1, 1, 2],             // bool that is neither 0 nor 1
        &[1, 0xff],                // sequence count truncated
    ];
    for bytes in cases {
        assert_malformed(decode(Framing::Fast, bytes), Framing::Fast);
    }
}

// ---- large packets in small pieces --------------------------------------------------------

#[test]
fn large_packet_in_small_pieces() {
    let big = Value::from("x".repeat(1 << 20));
    let many = Value::Array((0..50_000).map(Value::Int).collect());
    for framing in Framing::ALL {
        let mut wire = Vec::new();
        framing.encode(&[big.clone(), many.clone()], &mut wire);
        let mut dec = decoder(framing);
        let mut got = None;
        for piece in wire.chunks(16) {
            dec.feed(piece);
            if let Some(p) = dec.next_packet().unwrap() {
                got = Some(p);
            }
        }
        assert_eq!(got, Some(vec![big.clone(), many.clone()]), "{framing:?}");
        assert_eq!(dec.buffered_len(), 0);
    }
}

#[test]
fn unlimited_frames_do_not_overflow() {
    let limits = small(usize::MAX);
    let huge = [0x81, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
    assert_eq!(decode_all(Framing::Cbor, limits, &huge), Ok(None));
    let max = [0x81, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_too_large(decode_all(Framing::Cbor, limits, &max), Framing::Cbor);
    let mut prefix = vec![0xff; 9];
    prefix.push(0x01); // 2^64 - 1
    assert_too_large(decode_all(Framing::Fast, limits, &prefix), Framing::Fast);
}
