//! Shared harness of the `decode_*` targets: arbitrary bytes, split at an arbitrary point,
//! into one framing's `FrameDecoder`.
//!
//! Input layout: byte 0 picks the split point (scaled to the rest) and, in its low bit,
//! small limits (256-byte frames, depth 8) instead of the defaults; the rest is the stream.
//!
//! Checks beyond "no panic": feeding in two pieces gives the same packets and the same kind
//! of outcome as feeding everything at once, every decoded packet re-encodes to bytes
//! that decode back to the same packet, and a message's values read straight from its
//! bytes (CBOR) are the values the value decoder builds.

use aemp_proto::{DecodeError, DecodeLimits, FrameDecoder, Framing, Value};

/// Takes out packets until the decoder needs more bytes or fails.
fn drain(dec: &mut FrameDecoder, packets: &mut Vec<Vec<Value>>) -> Option<DecodeError> {
    loop {
        match dec.next_packet() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// Bit-exact form of a packet (floats compared by bits, NaN included).
fn exact(packet: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    Framing::Fast.encode(packet, &mut out);
    out
}

pub fn run(framing: Framing, data: &[u8]) {
    let Some((&ctl, bytes)) = data.split_first() else {
        return;
    };
    let limits = if ctl & 1 == 0 {
        DecodeLimits::default()
    } else {
        DecodeLimits {
            max_frame: 256,
            max_depth: 8,
        }
    };
    let cut = usize::from(ctl) * (bytes.len() + 1) / 256;

    let mut whole = framing.decoder(limits);
    whole.feed(bytes);
    let mut whole_packets = Vec::new();
    let whole_err = drain(&mut whole, &mut whole_packets);

    let mut split = framing.decoder(limits);
    let mut split_packets = Vec::new();
    split.feed(&bytes[..cut]);
    let mut split_err = drain(&mut split, &mut split_packets);
    if split_err.is_none() {
        split.feed(&bytes[cut..]);
        split_err = drain(&mut split, &mut split_packets);
    }

    assert_eq!(whole_packets.len(), split_packets.len());
    for (a, b) in whole_packets.iter().zip(&split_packets) {
        assert_eq!(exact(a), exact(b));
    }
    assert_eq!(
        whole_err.as_ref().map(std::mem::discriminant),
        split_err.as_ref().map(std::mem::discriminant),
        "{whole_err:?} vs {split_err:?}"
    );
    if whole_err.is_none() {
        assert_eq!(whole.buffered_len(), split.buffered_len());
    }

    for packet in &whole_packets {
        let mut wire = Vec::new();
        framing.encode(packet, &mut wire);
        let mut again = framing.decoder(DecodeLimits::default());
        again.feed(&wire);
        let back = again
            .next_packet()
            .expect("own encoding decodes")
            .expect("own encoding is complete");
        assert_eq!(exact(&back), exact(packet));
        assert_eq!(again.buffered_len(), 0);
    }

    let mut frames = framing.decoder(limits);
    frames.feed(bytes);
    for packet in &whole_packets {
        let frame = frames.next_frame().expect("decoded before").expect("complete");
        let payload = frame.into_payload();
        let values = packet.get(1..).unwrap_or_default();
        let read = payload.decode::<Vec<Value>>().expect("values read back");
        assert_eq!(exact(&read), exact(values));
        assert_eq!(payload.tag(), values.first().and_then(Value::as_str));
    }
}
