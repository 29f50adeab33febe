//! Hostile or broken peers: each case ends in a typed error, never a panic, and nothing from
//! the remote is delivered before authentication.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::handshake::{auth_line, AuthMethod, Transcript};
use aemp_proto::{
    ConfigError, ConnConfig, ConnError, ConnEvent, Connection, DecodeError, DecodeLimits, Framing,
    HandshakeError, Value,
};
use common::{closed, config, with_fake_tls, Pair, SECRET};

const REMOTE_L1: &str =
    "aemp;1;b;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,aemp-postcard1;provider=test;mproto=1";
const REMOTE_L2: &str = "cmVtb3RlIG5vbmNlIHJlbW90ZSBub25jZSByZW1vdGUgbm9uY2UgcmVtb3RlIG5vbmNl";

/// A connection "a" (with the reference secret unless `cfg` says otherwise) and its two
/// greeting lines.
struct Local {
    conn: Connection,
    lines: [Vec<u8>; 2],
    events: Vec<ConnEvent>,
}

impl Local {
    fn new(cfg: ConnConfig) -> Local {
        let mut conn = Connection::new(Arc::new(cfg), &[0x11; 66], Instant::now());
        let mut out = Vec::new();
        conn.poll_transmit(&mut out);
        let text = String::from_utf8(out).unwrap();
        let mut split = text.split('\n');
        let lines = [
            split.next().unwrap().as_bytes().to_vec(),
            split.next().unwrap().as_bytes().to_vec(),
        ];
        Local {
            conn,
            lines,
            events: Vec::new(),
        }
    }

    fn input(&mut self, data: &[u8]) {
        self.conn.handle_input(data);
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    /// Feeds the standard remote greeting.
    fn greet(&mut self) {
        self.input(format!("{REMOTE_L1}\n{REMOTE_L2}\n").as_bytes());
    }

    /// The auth line the remote of [`Local::greet`] would send with `method` and `secret`.
    fn remote_auth(&self, method: AuthMethod, secret: Option<&[u8]>, framing: Framing) -> Vec<u8> {
        let seen_by_remote = Transcript {
            local: [REMOTE_L1.as_bytes(), REMOTE_L2.as_bytes()],
            remote: [&self.lines[0], &self.lines[1]],
            binding: b"",
        };
        let mut line = auth_line(method, secret, seen_by_remote, framing).unwrap();
        line.push('\n');
        line.into_bytes()
    }

    fn closed_with(&self) -> Option<&ConnError> {
        closed(&self.events)
    }

    fn assert_handshake_error(&self, expected: HandshakeError) {
        assert_eq!(
            self.closed_with(),
            Some(&ConnError::Handshake(expected)),
            "{:?}",
            self.events
        );
        assert!(self.conn.is_closed());
        assert!(!self.conn.is_authenticated());
        assert!(
            !self
                .events
                .iter()
                .any(|e| matches!(e, ConnEvent::Packet(_) | ConnEvent::Authenticated { .. })),
            "delivered before authentication: {:?}",
            self.events
        );
        let closes = self
            .events
            .iter()
            .filter(|e| matches!(e, ConnEvent::Closed(_)))
            .count();
        assert_eq!(closes, 1);
    }
}

fn local() -> Local {
    Local::new(config("a"))
}

#[test]
fn garbage_greeting() {
    let mut l = local();
    l.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(matches!(
        l.closed_with(),
        Some(ConnError::Handshake(
            HandshakeError::MalformedGreeting { .. }
        ))
    ));
    let mut l = local();
    l.input(b"\xff\xfe;1;b;c;d\n");
    assert!(matches!(
        l.closed_with(),
        Some(ConnError::Handshake(
            HandshakeError::MalformedGreeting { .. }
        ))
    ));
    let mut l = local();
    l.input(b"aemp;1;b\n");
    assert!(matches!(
        l.closed_with(),
        Some(ConnError::Handshake(
            HandshakeError::MalformedGreeting { .. }
        ))
    ));
}

#[test]
fn wrong_protocol_name() {
    let mut l = local();
    l.input(b"aemp-other;1;b;hmac_sha3_512;cbor\n");
    l.assert_handshake_error(HandshakeError::WrongProtocol("aemp-other".into()));
}

#[test]
fn wrong_version() {
    let mut l = local();
    l.input(b"aemp;2;b;hmac_sha3_512;cbor\n");
    l.assert_handshake_error(HandshakeError::WrongVersion("2".into()));
}

#[test]
fn same_node_id() {
    let mut l = local();
    l.input(b"aemp;1;a;hmac_sha3_512;cbor;peeraddr=127.0.0.1:1\n");
    l.assert_handshake_error(HandshakeError::SelfConnection);
    assert_eq!(l.conn.remote_node_id(), None);
}

#[test]
fn echoed_greeting() {
    let mut l = local();
    let echo = [
        l.lines[0].clone(),
        b"\n".to_vec(),
        l.lines[1].clone(),
        b"\n".to_vec(),
    ]
    .concat();
    l.input(&echo);
    l.assert_handshake_error(HandshakeError::EchoAttack);
}

#[test]
fn reflected_line_1_with_another_nonce_is_a_self_connection() {
    let mut l = local();
    let input = [l.lines[0].clone(), b"\nb3RoZXI=\n".to_vec()].concat();
    l.input(&input);
    l.assert_handshake_error(HandshakeError::SelfConnection);
}

#[test]
fn over_long_line_arriving_in_pieces_without_lf() {
    let mut l = local();
    let piece = vec![b'x'; 1000];
    for _ in 0..4 {
        l.input(&piece);
        assert!(!l.conn.is_closed(), "closed too early");
    }
    l.input(&piece[..95]); // 4095 bytes buffered: a LF could still end a valid line
    assert!(!l.conn.is_closed());
    l.input(b"x"); // 4096 without terminator can no longer fit
    l.assert_handshake_error(HandshakeError::LineTooLong { limit: 4096 });
}

#[test]
fn over_long_line_arriving_whole() {
    let mut l = local();
    let mut line = format!("{REMOTE_L1};pad=").into_bytes();
    line.resize(4096, b'x');
    line.push(b'\n');
    l.input(&line);
    l.assert_handshake_error(HandshakeError::LineTooLong { limit: 4096 });
}

#[test]
fn over_long_nonce_line() {
    let mut l = local();
    l.input(format!("{REMOTE_L1}\n").as_bytes());
    let mut nonce = vec![b'A'; 5000];
    nonce.push(b'\n');
    l.input(&nonce);
    l.assert_handshake_error(HandshakeError::LineTooLong { limit: 4096 });
}

#[test]
fn line_of_exactly_the_limit_is_accepted() {
    let mut l = local();
    let mut line = format!("{REMOTE_L1};pad=").into_bytes();
    line.resize(4094, b'x');
    line.extend_from_slice(b"\r\n"); // 4096 bytes including CR LF
    l.input(&line);
    l.input(format!("{REMOTE_L2}\n").as_bytes());
    assert!(matches!(&l.events[0], ConnEvent::Greeted { node_id, .. } if node_id == "b"));
    assert!(!l.conn.is_closed());
}

#[test]
fn unknown_auth_method() {
    let mut l = local();
    l.greet();
    l.input(b"md5_hmac;0123;cbor\n");
    l.assert_handshake_error(HandshakeError::MethodNotAccepted("md5_hmac".into()));
}

#[test]
fn malformed_auth_line() {
    let mut l = local();
    l.greet();
    l.input(b"hmac_sha3_512\n");
    assert!(matches!(
        l.closed_with(),
        Some(ConnError::Handshake(
            HandshakeError::MalformedAuthLine { .. }
        ))
    ));
}

#[test]
fn no_common_framing() {
    let mut l = local();
    l.input(format!("aemp;1;b;hmac_sha3_512;storable,xml\n{REMOTE_L2}\n").as_bytes());
    l.assert_handshake_error(HandshakeError::NoCommonFraming {
        ours: Framing::ALL.iter().map(|f| f.name().to_string()).collect(),
        theirs: vec!["storable".into(), "xml".into()],
    });
}

#[test]
fn remote_announces_a_framing_we_did_not_offer() {
    let mut cfg = config("a");
    cfg.framings = vec![Framing::Cbor];
    let mut l = Local::new(cfg);
    l.greet();
    let line = l.remote_auth(AuthMethod::HmacSha3_512, Some(SECRET), Framing::Json);
    l.input(&line);
    l.assert_handshake_error(HandshakeError::UnsupportedFraming("json".into()));
}

#[test]
fn no_common_auth_method() {
    let mut l = local();
    l.input(format!("aemp;1;b;tls_anon,cleartext;cbor\n{REMOTE_L2}\n").as_bytes());
    l.assert_handshake_error(HandshakeError::NoCommonAuthMethod {
        offered: vec!["hmac_sha3_512".into()],
        accepted: vec!["tls_anon".into(), "cleartext".into()],
    });
}

#[test]
fn secret_method_without_secret() {
    // We want TLS and have no secret; the remote does not want TLS, so only hmac is left.
    let cfg = with_fake_tls(ConnConfig::new("a", None));
    let mut l = Local::new(cfg);
    l.greet();
    l.assert_handshake_error(HandshakeError::NoSecret);
}

#[test]
fn wrong_token_from_wrong_secret() {
    let mut pair = Pair::new(config("a"), ConnConfig::new("b", Some(b"falsch".to_vec())));
    pair.run();
    let failure = ConnError::Handshake(HandshakeError::AuthFailure);
    assert_eq!(closed(&pair.a_events), Some(&failure));
    assert_eq!(closed(&pair.b_events), Some(&failure));
    assert_eq!(
        failure.to_string(),
        "handshake failed: authentication failure / shared secret mismatch"
    );
}

#[test]
fn tampered_token() {
    let mut l = local();
    l.greet();
    let mut line = l.remote_auth(AuthMethod::HmacSha3_512, Some(SECRET), Framing::Cbor);
    line[20] = if line[20] == b'0' { b'1' } else { b'0' };
    l.input(&line);
    l.assert_handshake_error(HandshakeError::AuthFailure);
}

#[test]
fn cleartext_when_not_accepted() {
    let mut cfg = config("a");
    cfg.auth_accept = vec!["tls_sha3_512".into(), "hmac_sha3_512".into()];
    let mut l = Local::new(cfg);
    l.greet();
    let line = l.remote_auth(AuthMethod::Cleartext, Some(SECRET), Framing::Cbor);
    l.input(&line);
    l.assert_handshake_error(HandshakeError::MethodNotAccepted("cleartext".into()));
}

#[test]
fn cleartext_when_accepted() {
    let mut l = local();
    l.greet();
    let line = l.remote_auth(AuthMethod::Cleartext, Some(SECRET), Framing::Cbor);
    l.input(&line);
    assert!(l.conn.is_authenticated(), "{:?}", l.events);
}

#[test]
fn tls_method_without_tls() {
    let mut l = local();
    l.greet();
    let line = l.remote_auth(AuthMethod::TlsSha3_512, None, Framing::Cbor);
    l.input(&line);
    l.assert_handshake_error(HandshakeError::TlsRequired);
}

#[test]
fn handshake_timeout() {
    let pair = Pair::new(config("a"), config("b"));
    let deadline = pair.at(Duration::from_secs(30));
    let (before, after) = (
        pair.at(Duration::from_secs(29)),
        pair.at(Duration::from_secs(60)),
    );
    let mut a = pair.a;
    assert_eq!(a.poll_timeout(), Some(deadline));
    a.handle_timeout(before);
    assert!(!a.is_closed());
    a.handle_timeout(deadline);
    assert_eq!(
        a.poll_event(),
        Some(ConnEvent::Closed(ConnError::Handshake(
            HandshakeError::Timeout
        )))
    );
    assert_eq!(a.poll_timeout(), None);
    a.handle_timeout(after);
    assert_eq!(a.poll_event(), None);
}

#[test]
fn garbage_where_tls_records_belong() {
    let mut l = Local::new(with_fake_tls(config("a")));
    // Everything after the nonce line belongs to TLS: what is no record there is refused.
    l.input(format!("{REMOTE_L1};tls=1.0\n{REMOTE_L2}\n\x42\x00\x00").as_bytes());
    assert!(
        matches!(l.events[1], ConnEvent::TlsStarted { .. }),
        "{:?}",
        l.events
    );
    assert!(
        matches!(closed(&l.events), Some(ConnError::Tls(e)) if e.to_string().contains("unexpected record")),
        "{:?}",
        l.events
    );
    assert!(!l.conn.is_authenticated());
}

#[test]
fn unusable_config_or_nonce() {
    let mut c = Connection::new(
        Arc::new(ConnConfig::new("a", None)),
        &[1; 66],
        Instant::now(),
    );
    assert_eq!(
        c.poll_event(),
        Some(ConnEvent::Closed(ConnError::Config(
            ConfigError::NoSecretNoTls
        )))
    );
    assert!(c.is_closed());
    c = Connection::new(Arc::new(config("a")), &[1; 8], Instant::now());
    assert_eq!(
        c.poll_event(),
        Some(ConnEvent::Closed(ConnError::Config(
            ConfigError::ShortNonce { len: 8, min: 16 }
        )))
    );
    assert!(!c.poll_transmit(&mut Vec::new()));
    let mut bad = config("a;b");
    assert!(matches!(bad.validate(), Err(ConfigError::Invalid { .. })));
    bad = config("a");
    bad.auth_offer = vec!["md5".into()];
    assert!(matches!(
        bad.validate(),
        Err(ConfigError::UnknownAuthMethod { .. })
    ));
    bad = config("a");
    bad.secret = Some(Vec::new());
    assert_eq!(bad.validate(), Err(ConfigError::EmptySecret));
    bad = config("a");
    bad.extra_kv.push(("big".into(), "x".repeat(5000)));
    assert!(matches!(
        bad.validate(),
        Err(ConfigError::GreetingTooLong { .. })
    ));
}

#[test]
fn nothing_is_delivered_before_authentication() {
    let mut l = local();
    let mut input = format!("{REMOTE_L1}\n{REMOTE_L2}\n").into_bytes();
    input.extend_from_slice(b"hmac_sha3_512;00;cbor\n");
    input.extend_from_slice(b"\x82\x40\x41x"); // a valid cbor packet ["", "x"]
    l.input(&input);
    l.assert_handshake_error(HandshakeError::AuthFailure);
}

#[test]
fn frame_over_the_size_limit_in_the_data_phase() {
    let mut b = config("b");
    b.limits = DecodeLimits {
        max_frame: 64,
        ..DecodeLimits::default()
    };
    let mut pair = Pair::new(config("a"), b);
    pair.run();
    assert!(pair.b.is_authenticated());
    pair.a
        .send(&[Value::from("port"), Value::from("x".repeat(1000))]);
    pair.run();
    assert!(
        matches!(
            closed(&pair.b_events),
            Some(ConnError::Decode(DecodeError::FrameTooLarge {
                limit: 64,
                ..
            }))
        ),
        "{:?}",
        pair.b_events
    );
}

#[test]
fn garbage_after_auth() {
    for framing in Framing::ALL {
        let mut cfg = config("a");
        cfg.framings = vec![framing];
        let mut l = Local::new(cfg);
        l.greet();
        let mut input = l.remote_auth(AuthMethod::HmacSha3_512, Some(SECRET), framing);
        input.extend_from_slice(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage \x00\x01");
        l.input(&input);
        assert!(l.conn.is_authenticated(), "{framing:?}: {:?}", l.events);
        assert!(
            matches!(l.closed_with(), Some(ConnError::Decode(_))),
            "{framing:?}: {:?}",
            l.events
        );
        assert!(matches!(l.events.last(), Some(ConnEvent::Closed(_))));
    }
}

mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `chunks` to a fresh connection (optionally after a valid remote handshake, so
    /// the bytes land in the data phase) and checks the event invariants.
    fn feed(data_phase: bool, framing: Framing, chunks: &[Vec<u8>]) {
        let mut l = local();
        if data_phase {
            let remote = format!("aemp;1;b;hmac_sha3_512;{}\n{REMOTE_L2}\n", framing.name());
            l.input(remote.as_bytes());
            let auth = format!("cleartext;67656865696d;{}\n", framing.name());
            l.input(auth.as_bytes());
            assert!(l.conn.is_authenticated(), "{:?}", l.events);
        }
        for chunk in chunks {
            l.input(chunk);
            l.conn.send(&[Value::from("p")]);
            l.conn.poll_transmit(&mut Vec::new());
        }
        let closes: Vec<usize> = (0..l.events.len())
            .filter(|&i| matches!(l.events[i], ConnEvent::Closed(_)))
            .collect();
        assert!(closes.len() <= 1);
        if let Some(&i) = closes.first() {
            assert_eq!(i, l.events.len() - 1, "Closed is last");
        }
        let auth = l
            .events
            .iter()
            .position(|e| matches!(e, ConnEvent::Authenticated { .. }));
        let first_packet = l
            .events
            .iter()
            .position(|e| matches!(e, ConnEvent::Packet(_)));
        if let Some(p) = first_packet {
            assert!(auth.is_some_and(|a| a < p), "packet before authentication");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_in_arbitrary_splits_never_panic(
            data_phase in any::<bool>(),
            framing in prop::sample::select(Framing::ALL.to_vec()),
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        ) {
            feed(data_phase, framing, &chunks);
        }

        #[test]
        fn greeting_like_bytes_never_panic(
            lines in prop::collection::vec("(aemp|aemp-x|AEMP)?(;[0-9a-z_,.=]{0,12}){0,8}\r?\n", 0..5),
        ) {
            feed(false, Framing::Cbor, &lines.into_iter().map(String::into_bytes).collect::<Vec<_>>());
        }
    }
}
