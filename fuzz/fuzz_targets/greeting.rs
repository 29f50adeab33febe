//! Arbitrary bytes as a greeting line 1 and as an auth line: parsing must never panic, a
//! parsed greeting must survive a round trip through `to_line`, and verifying an arbitrary
//! auth line must end in a verdict (never a `tls_` method without TLS).
#![no_main]

use aemp_proto::handshake::{verify_auth_line, AuthLine, AuthPolicy, Greeting, Transcript};
use aemp_proto::{ConnConfig, Framing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(greeting) = Greeting::parse(data) {
        let again = Greeting::parse(greeting.to_line().as_bytes()).expect("own line parses");
        assert_eq!(again, greeting);
        let _ = greeting.wants_tls();
    }
    if let Ok(line) = AuthLine::parse(data) {
        assert!(!line.method.contains(';') && !line.token.contains(';'));
    }
    let accept = ConnConfig::new("x", None).auth_accept;
    let policy = AuthPolicy {
        secret: Some(b"geheim"),
        accept: &accept,
        framings: &Framing::ALL,
        tls_active: data.first().is_some_and(|b| b & 1 != 0),
    };
    let transcript = Transcript {
        local: [b"aemp;1;a;hmac_sha3_512;cbor", b"bm9uY2Ux"],
        remote: [b"aemp;1;b;hmac_sha3_512;cbor", b"bm9uY2Uy"],
        binding: &[],
    };
    if let Ok(v) = verify_auth_line(data, transcript, policy) {
        assert!(policy.tls_active || !v.method.requires_tls());
    }
});
