//! The framings a connection can use in its data phase, and a stream decoder for each.

use bytes::{Buf, BytesMut};

use super::cbor_scan::{scan_message, NoMessage};
use super::{cbor, fast, json, Encoded, Packet, Payload, Value};

/// A data-phase encoding of packets, as named in the greeting and auth lines.
///
/// ```
/// use aemp_proto::Framing;
/// assert_eq!(Framing::from_name("cbor"), Some(Framing::Cbor));
/// assert_eq!(Framing::Json.name(), "json");
/// assert_eq!(Framing::from_name("storable"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// This project's own framing for Rust-to-Rust links, `aemp-postcard1`: a LEB128 varint
    /// payload length, then the packet as a postcard sequence of values, each an enum
    /// variant naming its kind (0 null, 1 bool, 2 int, 3 uint, 4 float, 5 str, 6 bytes,
    /// 7 array, 8 map). Every [`Value`] round-trips exactly.
    Fast,
    /// One CBOR data item per packet (the Perl default). Decoding accepts everything
    /// CBOR::XS sends (byte strings valid as UTF-8 become [`Value::Str`], tags are skipped,
    /// indefinite lengths and every float width are read); encoding writes text strings,
    /// minimal heads, definite lengths, and floats as single precision when that is exact.
    Cbor,
    /// One JSON array per packet, concatenated (whitespace between packets is tolerated).
    /// JSON cannot carry everything a [`Value`] can: [`Value::Bytes`] is written as a
    /// string of the characters U+0000..=U+00FF with the bytes' values (what Perl's JSON::XS
    /// does with a byte string, so a Perl peer gets the same bytes back), non-finite floats
    /// as `null`, and map keys that are not strings as their JSON text.
    Json,
}

impl Framing {
    /// Every framing this crate speaks, in the default order of preference: CBOR first,
    /// because a CBOR message is serialized straight into bytes and read straight from
    /// them (see [`Payload`]), which made it the fastest between Rust nodes too (about
    /// 1.5 times the messages per second of `aemp-postcard1` in `aemp-bench`); the fast
    /// framing next, for values that must arrive exactly as sent.
    ///
    /// ```
    /// # use aemp_proto::Framing;
    /// let names: Vec<_> = Framing::ALL.iter().map(|f| f.name()).collect();
    /// assert_eq!(names, ["cbor", "aemp-postcard1", "json"]);
    /// ```
    pub const ALL: [Framing; 3] = [Framing::Cbor, Framing::Fast, Framing::Json];

    /// The name used in greetings and auth lines.
    ///
    /// ```
    /// # use aemp_proto::Framing;
    /// assert_eq!(Framing::Cbor.name(), "cbor");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Framing::Fast => "aemp-postcard1",
            Framing::Cbor => "cbor",
            Framing::Json => "json",
        }
    }

    /// The framing with that name, if this crate speaks it.
    ///
    /// ```
    /// # use aemp_proto::Framing;
    /// assert_eq!(Framing::from_name("json"), Some(Framing::Json));
    /// ```
    pub fn from_name(name: &str) -> Option<Framing> {
        Framing::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Appends the encoding of one packet (`[port, args...]`, or empty for a keepalive).
    ///
    /// ```
    /// # use aemp_proto::{Framing, Value};
    /// let mut out = Vec::new();
    /// Framing::Json.encode(&[Value::from("p"), Value::Int(1)], &mut out);
    /// assert_eq!(out, br#"["p",1]"#);
    /// ```
    pub fn encode(self, packet: &[Value], out: &mut Vec<u8>) {
        match self {
            Framing::Fast => fast::encode(packet, out),
            Framing::Cbor => cbor::encode(packet, out),
            Framing::Json => json::encode(packet, out),
        }
    }

    /// Appends the packet `[port, msg...]` to `out`, exactly as [`Framing::encode`] would,
    /// without building the packet first.
    ///
    /// ```
    /// # use aemp_proto::{Framing, Value};
    /// for f in Framing::ALL {
    ///     let (mut a, mut b) = (Vec::new(), Vec::new());
    ///     f.encode(&[Value::from("p"), Value::Int(1)], &mut a);
    ///     f.encode_message("p", &[Value::Int(1)], &mut b);
    ///     assert_eq!(a, b);
    /// }
    /// ```
    pub fn encode_message(self, port: &str, msg: &[Value], out: &mut Vec<u8>) {
        match self {
            Framing::Fast => fast::encode_message(port, msg, out),
            Framing::Cbor => cbor::encode_message(port, msg, out),
            Framing::Json => json::encode_message(port, msg, out),
        }
    }

    /// Appends the packet `[port, values...]`; CBOR bytes of a [`Payload`] are copied as
    /// they are into a `cbor` packet, and converted item by item for the fast framing.
    ///
    /// ```
    /// # use aemp_proto::{Framing, Payload, Value};
    /// let (mut a, mut b) = (Vec::new(), Vec::new());
    /// Framing::Cbor.encode_payload("p", &Payload::encode(&("x", 1)).unwrap(), &mut a);
    /// Framing::Cbor.encode_message("p", &[Value::from("x"), Value::Int(1)], &mut b);
    /// assert_eq!(a, b);
    /// ```
    pub fn encode_payload(self, port: &str, msg: &Payload, out: &mut Vec<u8>) {
        match msg.as_encoded() {
            Some(encoded) => self.encode_encoded(port, &encoded, out),
            // Not bytes, so values.
            None => self.encode_message(port, msg.as_values().unwrap_or_default(), out),
        }
    }

    /// Appends the packet `[port, msg...]` for a message serialized with
    /// [`Encoded::serialize`]: the bytes as they are in `cbor`, converted item by item in
    /// the fast framing, through values in `json`.
    ///
    /// ```
    /// # use aemp_proto::{Encoded, Framing, Value};
    /// let mut scratch = Vec::new();
    /// let msg = Encoded::serialize(&("x", 1), &mut scratch).unwrap();
    /// let (mut a, mut b) = (Vec::new(), Vec::new());
    /// Framing::Json.encode_encoded("p", &msg, &mut a);
    /// Framing::Json.encode_message("p", &[Value::from("x"), Value::Int(1)], &mut b);
    /// assert_eq!(a, b);
    /// ```
    pub fn encode_encoded(self, port: &str, msg: &Encoded<'_>, out: &mut Vec<u8>) {
        let (items, count) = (msg.items(), msg.len());
        match self {
            Framing::Cbor => cbor::encode_encoded_message(port, items, count, out),
            Framing::Fast if fast::encode_cbor_message(port, items, count, out) => {}
            _ => self.encode_message(port, &msg.to_values(), out),
        }
    }

    /// A stream decoder for packets sent in this framing.
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing, Value};
    /// let mut dec = Framing::Json.decoder(DecodeLimits::default());
    /// dec.feed(br#"["p",1]["q"#);
    /// assert_eq!(dec.next_packet().unwrap(), Some(vec![Value::from("p"), Value::Int(1)]));
    /// assert_eq!(dec.next_packet().unwrap(), None);
    /// ```
    pub fn decoder(self, limits: DecodeLimits) -> FrameDecoder {
        let state = match self {
            Framing::Fast => State::Fast,
            Framing::Cbor => State::Cbor(cbor::Decoder::default()),
            Framing::Json => State::Json(json::Decoder::default()),
        };
        FrameDecoder {
            framing: self,
            limits,
            buf: BytesMut::new(),
            pos: 0,
            short_scans: 0,
            short_len: 0,
            state,
            failed: None,
        }
    }
}

/// Bounds a decoder enforces before it allocates.
///
/// ```
/// # use aemp_proto::DecodeLimits;
/// let l = DecodeLimits::default();
/// assert_eq!(l.max_frame, 16 * 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The largest encoded packet accepted, in bytes (for the fast framing: the payload
    /// after the length prefix). Declared lengths are checked against it before anything
    /// is allocated or waited for.
    pub max_frame: usize,
    /// The deepest nesting of arrays and maps accepted; the packet's own array is level 1,
    /// so `[[1]]` has depth 2. (JSON is additionally bounded by `serde_json`'s fixed
    /// recursion limit of 128 levels.)
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_frame: 16 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Why a data-phase byte stream could not be decoded.
///
/// ```
/// use aemp_proto::{DecodeError, DecodeLimits, Framing};
/// let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
/// dec.feed(&[0x01]); // the integer 1, not an array
/// let err = dec.next_packet().unwrap_err();
/// assert_eq!(err, DecodeError::NotAnArray { framing: Framing::Cbor });
/// assert_eq!(err.framing(), Framing::Cbor);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A packet is (or declares itself) larger than the limit.
    #[error(
        "{framing:?} packet of at least {size} bytes exceeds the frame limit of {limit} bytes"
    )]
    FrameTooLarge {
        /// The framing being decoded.
        framing: Framing,
        /// The size seen or declared so far.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Arrays and maps nest deeper than the limit.
    #[error("{framing:?} packet nests deeper than {limit} levels")]
    TooDeep {
        /// The framing being decoded.
        framing: Framing,
        /// The configured limit.
        limit: usize,
    },
    /// The top-level item is not an array.
    #[error("{framing:?} packet is not an array")]
    NotAnArray {
        /// The framing being decoded.
        framing: Framing,
    },
    /// The bytes are not a valid encoding.
    #[error("malformed {framing:?} data at byte {offset}: {reason}")]
    Malformed {
        /// The framing being decoded.
        framing: Framing,
        /// Offset of the problem within the current packet.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
}

impl DecodeError {
    /// The framing whose data could not be decoded.
    ///
    /// ```
    /// # use aemp_proto::{DecodeError, Framing};
    /// let err = DecodeError::TooDeep { framing: Framing::Json, limit: 64 };
    /// assert_eq!(err.framing(), Framing::Json);
    /// ```
    pub fn framing(&self) -> Framing {
        match self {
            DecodeError::FrameTooLarge { framing, .. }
            | DecodeError::TooDeep { framing, .. }
            | DecodeError::NotAnArray { framing }
            | DecodeError::Malformed { framing, .. } => *framing,
        }
    }

    pub(super) fn malformed(framing: Framing, offset: usize, reason: impl Into<String>) -> Self {
        DecodeError::Malformed {
            framing,
            offset,
            reason: reason.into(),
        }
    }

    pub(super) fn too_large(framing: Framing, size: usize, limits: &DecodeLimits) -> Self {
        DecodeError::FrameTooLarge {
            framing,
            size,
            limit: limits.max_frame,
        }
    }

    pub(super) fn too_deep(framing: Framing, limits: &DecodeLimits) -> Self {
        DecodeError::TooDeep {
            framing,
            limit: limits.max_depth,
        }
    }
}

/// Splits a byte stream into packets of one framing.
///
/// Feed bytes as they arrive (split anywhere); take packets out until `next_packet`
/// returns `Ok(None)`. After an error the decoder should be discarded: every further call
/// to [`next_packet`](FrameDecoder::next_packet) returns the same error.
///
/// The decoder keeps one buffer, drops consumed bytes as it goes, and never looks at a
/// received byte more than a bounded number of times, so a large packet arriving in many
/// small pieces costs time linear in its size.
///
/// ```
/// use aemp_proto::{DecodeLimits, Framing, Value};
/// let mut out = Vec::new();
/// Framing::Cbor.encode(&[Value::from("port"), Value::Int(7)], &mut out);
/// let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
/// let (a, b) = out.split_at(3);
/// dec.feed(a);
/// assert_eq!(dec.next_packet().unwrap(), None);
/// dec.feed(b);
/// assert_eq!(dec.next_packet().unwrap(), Some(vec![Value::from("port"), Value::Int(7)]));
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    framing: Framing,
    limits: DecodeLimits,
    /// Received bytes; everything before `pos` is consumed.
    buf: BytesMut,
    pos: usize,
    /// How often the packet at `pos` was scanned and found cut short, and how many bytes
    /// it had then.
    short_scans: u8,
    short_len: usize,
    state: State,
    failed: Option<DecodeError>,
}

/// Per-framing decoding state kept between calls.
#[derive(Debug)]
enum State {
    /// Length-prefixed: nothing to remember, the prefix is re-read (at most 10 bytes).
    Fast,
    /// CBOR is decoded incrementally; the partial packet lives here.
    Cbor(cbor::Decoder),
    /// JSON is scanned incrementally, then parsed in one go once complete.
    Json(json::Decoder),
}

/// How many times a CBOR message cut short is scanned again, with more bytes each time,
/// before the value decoder takes it on (a read comes in 8 KiB pieces: 8 cover 64 KiB).
const MAX_SHORT_SCANS: u8 = 8;
/// Cut messages at least this long go to the value decoder at once.
const RESCAN_BELOW: usize = 64 * 1024;

/// Buffers whose capacity exceeds this are shrunk once they are (nearly) empty again.
const SHRINK_ABOVE: usize = 64 * 1024;

impl FrameDecoder {
    /// Appends received bytes.
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing};
    /// let mut dec = Framing::Json.decoder(DecodeLimits::default());
    /// dec.feed(b"[\"p\"");
    /// assert_eq!(dec.buffered_len(), 4);
    /// ```
    pub fn feed(&mut self, bytes: &[u8]) {
        // The consumed bytes go (the buffer's start moves); `BytesMut` moves what is left
        // to the front, or takes new memory while received messages still share the old,
        // when it needs room: amortised O(1) per byte.
        self.buf.advance(self.pos);
        self.pos = 0;
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() + bytes.len() < SHRINK_ABOVE / 2 {
            self.buf = BytesMut::from(&self.buf[..]);
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed.
    ///
    /// An empty packet (a keepalive) is returned as `Some(vec![])`.
    ///
    /// ```
    /// # use aemp_proto::{DecodeError, DecodeLimits, Framing};
    /// let mut dec = Framing::Json.decoder(DecodeLimits::default());
    /// dec.feed(b"[] {}");
    /// assert_eq!(dec.next_packet().unwrap(), Some(vec![]));
    /// assert!(matches!(dec.next_packet(), Err(DecodeError::NotAnArray { .. })));
    /// ```
    pub fn next_packet(&mut self) -> Result<Option<Vec<Value>>, DecodeError> {
        Ok(self.next_frame()?.map(Packet::into_values))
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed, like
    /// [`next_packet`](FrameDecoder::next_packet); a CBOR message to a port keeps its
    /// values encoded until they are used (see [`Payload`](crate::Payload)).
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing, Value};
    /// let mut out = Vec::new();
    /// Framing::Cbor.encode(&[Value::from("port"), Value::Int(7)], &mut out);
    /// let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
    /// dec.feed(&out);
    /// let packet = dec.next_frame().unwrap().unwrap();
    /// assert_eq!(packet.port(), Some("port"));
    /// let (n,): (u8,) = packet.into_payload().decode().unwrap();
    /// assert_eq!(n, 7);
    /// ```
    pub fn next_frame(&mut self) -> Result<Option<Packet>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let input = &self.buf[self.pos..];
        let result = match &mut self.state {
            State::Cbor(dec) => {
                let scan = if dec.is_idle() {
                    scan_message(input, &self.limits)
                } else {
                    Err(NoMessage::Other)
                };
                match scan {
                    Ok(scan) => {
                        (self.short_scans, self.short_len) = (0, 0);
                        // The message keeps its bytes where they were read: split off,
                        // shared.
                        self.buf.advance(self.pos);
                        self.pos = 0;
                        let frame = self.buf.split_to(scan.end).freeze();
                        return Ok(Some(Packet::scanned(frame, scan)));
                    }
                    // A message cut by the end of a read: scanned again when more comes
                    // (a few times, and only while it is small, so that a peer dribbling
                    // bytes cannot make the rescans quadratic; the value decoder then
                    // takes it on incrementally).
                    Err(NoMessage::Short)
                        if self.short_scans < MAX_SHORT_SCANS && input.len() < RESCAN_BELOW =>
                    {
                        // Counted once per scan that had new bytes to look at.
                        if input.len() > self.short_len {
                            self.short_scans += 1;
                            self.short_len = input.len();
                        }
                        return Ok(None);
                    }
                    Err(_) => (self.short_scans, self.short_len) = (0, 0),
                }
                dec.decode(&self.buf, &mut self.pos, &self.limits)
            }
            State::Fast => fast::decode(&self.buf, &mut self.pos, &self.limits),
            State::Json(dec) => dec.decode(&self.buf, &mut self.pos, &self.limits),
        };
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result.map(|packet| packet.map(Packet::from))
    }

    /// How many received bytes have not yet been returned as part of a packet (a partial
    /// packet, or whole packets not yet taken out).
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing};
    /// let mut dec = Framing::Cbor.decoder(DecodeLimits::default());
    /// dec.feed(&[0x82, 0x61]);
    /// assert_eq!(dec.next_packet().unwrap(), None);
    /// assert_eq!(dec.buffered_len(), 2);
    /// ```
    pub fn buffered_len(&self) -> usize {
        let partial = match &self.state {
            State::Cbor(dec) => dec.partial_len(),
            State::Fast | State::Json(_) => 0,
        };
        self.buf.len() - self.pos + partial
    }

    /// The framing this decoder reads.
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing};
    /// let dec = Framing::Fast.decoder(DecodeLimits::default());
    /// assert_eq!(dec.framing(), Framing::Fast);
    /// ```
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The limits this decoder enforces.
    ///
    /// ```
    /// # use aemp_proto::{DecodeLimits, Framing};
    /// let dec = Framing::Fast.decoder(DecodeLimits::default());
    /// assert_eq!(dec.limits(), DecodeLimits::default());
    /// ```
    pub fn limits(&self) -> DecodeLimits {
        self.limits
    }
}
