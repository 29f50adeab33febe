//! Decodes the data phase of every real Perl capture in `tests/vectors/captures/` and
//! compares it with the messages recorded there.
//!
//! Each capture direction is fed (a) all at once, (b) byte by byte and (c) in the chunks the
//! relay actually read. The capture's `chunks` list every read of both directions in time
//! order with its `dir` and `len`; the lengths of one direction add up exactly to that
//! direction's `bytes_hex`, so a direction's chunk boundaries are the running sums of its own
//! chunk lengths. The first data-phase chunk may also carry the end of the auth line: it is
//! clipped at `data_offset`.

#[path = "common/capture.rs"]
mod capture;

use aemp_proto::{DecodeLimits, FrameDecoder, Framing, Value};
use capture::{capture_json, capture_names, from_recorded, get as field, hex_decode};

fn usize_field(v: &Value, key: &str) -> usize {
    usize::try_from(field(v, key).as_i64().expect("an integer")).expect("non-negative")
}

/// One direction of one connection that reached the data phase.
struct Direction {
    label: String,
    framing: Framing,
    /// The data-phase bytes.
    data: Vec<u8>,
    /// Recorded messages: the value and where it ends in `data`.
    messages: Vec<(Vec<Value>, usize)>,
    /// The recording ends with an `error` entry: the tail is an incomplete packet.
    cut: bool,
    /// The relay's reads, clipped to the data phase.
    chunks: Vec<usize>,
}

fn load() -> Vec<Direction> {
    let mut out = Vec::new();
    for stem in capture_names() {
        let capture = capture_json(&stem);
        let name = format!("{stem}.json");
        for conn in field(&capture, "connections").as_array().unwrap() {
            let id = field(conn, "id").as_i64().unwrap();
            for dir_name in ["c2s", "s2c"] {
                let d = field(conn, dir_name);
                if d.get("data_offset").is_none() {
                    continue;
                }
                let bytes = hex_decode(field(d, "bytes_hex").as_str().unwrap());
                let offset = usize_field(d, "data_offset");
                let framing_name = field(d, "framing").as_str().unwrap();
                let framing = Framing::from_name(framing_name)
                    .unwrap_or_else(|| panic!("{name}: unknown framing {framing_name}"));
                let mut messages = Vec::new();
                let mut cut = false;
                for m in field(d, "messages").as_array().unwrap() {
                    if m.get("error").is_some() {
                        cut = true;
                        continue;
                    }
                    assert!(!cut, "{name}: message after an error entry");
                    let msg = from_recorded(field(m, "msg"));
                    let end = usize_field(m, "offset") + usize_field(m, "len");
                    let Value::Array(msg) = msg else {
                        panic!("{name}: recorded msg is not an array")
                    };
                    messages.push((msg, end));
                }
                let mut chunks = Vec::new();
                let mut at = 0;
                for c in field(conn, "chunks").as_array().unwrap() {
                    if field(c, "dir").as_str() != Some(dir_name) {
                        continue;
                    }
                    let len = usize_field(c, "len");
                    let (start, end) = (at.max(offset), at + len);
                    if end > start {
                        chunks.push(end - start);
                    }
                    at += len;
                }
                assert_eq!(at, bytes.len(), "{name} conn {id} {dir_name}: chunk sum");
                out.push(Direction {
                    label: format!("{name} conn {id} {dir_name}"),
                    framing,
                    data: bytes[offset..].to_vec(),
                    messages,
                    cut,
                    chunks,
                });
            }
        }
    }
    out
}

/// Feeds the pieces in order, taking out every packet after each one; checks each packet
/// ends where the recording says.
fn run(d: &Direction, pieces: impl IntoIterator<Item = usize>, how: &str) {
    let mut dec = d.framing.decoder(DecodeLimits::default());
    let mut fed = 0;
    let mut got = Vec::new();
    for n in pieces {
        dec.feed(&d.data[fed..fed + n]);
        fed += n;
        while let Some(packet) = drain_one(&mut dec, &d.label, how) {
            let end = fed - dec.buffered_len();
            got.push((packet, end));
        }
    }
    assert_eq!(
        fed,
        d.data.len(),
        "{} ({how}): pieces cover the data",
        d.label
    );
    assert_eq!(
        got.len(),
        d.messages.len(),
        "{} ({how}): packet count",
        d.label
    );
    for (i, (g, e)) in got.iter().zip(&d.messages).enumerate() {
        assert_eq!(g.0, e.0, "{} ({how}): message {i}", d.label);
        assert_eq!(g.1, e.1, "{} ({how}): end of message {i}", d.label);
    }
    let tail = d.data.len() - d.messages.last().map_or(0, |m| m.1);
    assert_eq!(
        dec.buffered_len(),
        tail,
        "{} ({how}): unconsumed tail",
        d.label
    );
    assert_eq!(tail > 0, d.cut, "{} ({how}): cut mid-packet", d.label);
}

fn drain_one(dec: &mut FrameDecoder, label: &str, how: &str) -> Option<Vec<Value>> {
    match dec.next_packet() {
        Ok(p) => p,
        Err(e) => panic!("{label} ({how}): {e}"),
    }
}

#[test]
fn captures_decode_all_at_once() {
    let dirs = load();
    assert!(
        dirs.len() > 100,
        "expected many directions, found {}",
        dirs.len()
    );
    let mut framings = std::collections::HashSet::new();
    for d in &dirs {
        framings.insert(d.framing);
        run(d, [d.data.len()], "at once");
    }
    assert!(framings.contains(&Framing::Cbor) && framings.contains(&Framing::Json));
}

#[test]
fn captures_decode_byte_by_byte() {
    for d in &load() {
        run(d, std::iter::repeat_n(1, d.data.len()), "byte by byte");
    }
}

#[test]
fn captures_decode_in_recorded_chunks() {
    for d in &load() {
        run(d, d.chunks.iter().copied(), "recorded chunks");
    }
}

/// Cutting a direction inside any packet leaves exactly the earlier packets and no error.
#[test]
fn captures_cut_mid_packet_wait_for_more() {
    for d in &load() {
        let mut start = 0;
        for (i, (_, end)) in d.messages.iter().enumerate() {
            for cut in [start + 1, (start + end) / 2, end - 1] {
                if cut <= start || cut >= *end {
                    continue;
                }
                let mut dec = d.framing.decoder(DecodeLimits::default());
                dec.feed(&d.data[..cut]);
                for (j, (msg, _)) in d.messages[..i].iter().enumerate() {
                    let got = drain_one(&mut dec, &d.label, "cut");
                    assert_eq!(
                        got.as_ref(),
                        Some(msg),
                        "{}: cut at {cut}, message {j}",
                        d.label
                    );
                }
                assert_eq!(
                    drain_one(&mut dec, &d.label, "cut"),
                    None,
                    "{}: cut at {cut}",
                    d.label
                );
                assert_eq!(dec.buffered_len(), cut - start, "{}: cut at {cut}", d.label);
                // The rest arrives: the packet completes.
                dec.feed(&d.data[cut..*end]);
                assert_eq!(
                    drain_one(&mut dec, &d.label, "cut").as_ref(),
                    Some(&d.messages[i].0),
                    "{}: resumed after cut at {cut}",
                    d.label
                );
            }
            start = *end;
        }
    }
}

/// What a Perl peer sent comes back unchanged through every framing of ours.
#[test]
fn captured_messages_reencode_in_every_framing() {
    for d in &load() {
        for framing in Framing::ALL {
            let mut wire = Vec::new();
            for (msg, _) in &d.messages {
                framing.encode(msg, &mut wire);
            }
            let mut dec = framing.decoder(DecodeLimits::default());
            dec.feed(&wire);
            for (msg, _) in &d.messages {
                let got = drain_one(&mut dec, &d.label, framing.name());
                assert_eq!(
                    got.as_ref(),
                    Some(msg),
                    "{} via {}",
                    d.label,
                    framing.name()
                );
            }
            assert_eq!(drain_one(&mut dec, &d.label, framing.name()), None);
        }
    }
}
