//! The auth lines of every hmac handshake recorded from real Perl AnyEvent::MP 2.x nodes
//! (`tests/vectors/handshakes.json`).

use std::sync::Arc;
use std::time::Instant;

use aemp_proto::handshake::{
    auth_line, verify_auth_line, AuthLine, AuthMethod, AuthPolicy, Greeting, HandshakeError,
    Transcript,
};
use aemp_proto::{ConnConfig, ConnEvent, Connection, Framing};
use serde_json::Value as Json;

#[path = "common/package.rs"]
mod package;
use package::vectors_dir;

struct Vector {
    name: String,
    secret: Vec<u8>,
    local: [String; 2],
    remote: [String; 2],
    auth_line: String,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let path = vectors_dir().join("handshakes.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let json: Json = serde_json::from_str(&text).unwrap();
    let str_of = |v: &Json| v.as_str().unwrap().to_owned();
    let lines = |v: &Json| [str_of(&v[0]), str_of(&v[1])];
    json.as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: format!("{} conn {}", str_of(&v["capture"]), v["conn"]),
            secret: str_of(&v["secret"]).into_bytes(),
            local: lines(&v["local_greeting"]),
            remote: lines(&v["remote_greeting"]),
            auth_line: str_of(&v["local_auth_line"]),
            valid: v["valid_with_secret"].as_bool().unwrap(),
        })
        .collect()
}

impl Vector {
    /// The four lines as seen by the side that sent `auth_line`.
    fn transcript(&self) -> Transcript<'_> {
        Transcript {
            local: [self.local[0].as_bytes(), self.local[1].as_bytes()],
            remote: [self.remote[0].as_bytes(), self.remote[1].as_bytes()],
            binding: b"",
        }
    }

    fn framing(&self) -> Framing {
        let sent = AuthLine::parse(self.auth_line.as_bytes()).unwrap();
        Framing::from_name(&sent.framing).unwrap()
    }
}

#[test]
fn vectors_are_present() {
    let all = vectors();
    assert!(all.len() > 100, "only {} vectors", all.len());
    assert!(all.iter().any(|v| !v.valid));
}

#[test]
fn we_build_the_exact_auth_line_the_perl_node_sent() {
    for v in vectors().iter().filter(|v| v.valid) {
        let ours = auth_line(
            AuthMethod::HmacSha3_512,
            Some(&v.secret),
            v.transcript(),
            v.framing(),
        )
        .unwrap();
        assert_eq!(ours, v.auth_line, "{}", v.name);
    }
}

#[test]
fn the_receiving_side_verifies_perl_auth_lines() {
    let accept = ConnConfig::new("x", None).auth_accept;
    for v in vectors() {
        let policy = AuthPolicy {
            secret: Some(b"geheim"),
            accept: &accept,
            framings: &Framing::ALL,
            tls_active: false,
        };
        // The receiver's view: its own lines are the sender's remote lines.
        let result = verify_auth_line(v.auth_line.as_bytes(), v.transcript().swapped(), policy);
        if v.valid {
            let verified = result.unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(verified.method, AuthMethod::HmacSha3_512);
            assert_eq!(verified.framing, v.framing());
        } else {
            assert_eq!(result, Err(HandshakeError::AuthFailure), "{}", v.name);
        }
    }
}

#[test]
fn wrong_secret_lines_do_not_match_what_geheim_gives() {
    for v in vectors().iter().filter(|v| !v.valid) {
        let ours = auth_line(
            AuthMethod::HmacSha3_512,
            Some(b"geheim"),
            v.transcript(),
            v.framing(),
        )
        .unwrap();
        assert_ne!(ours, v.auth_line, "{}", v.name);
    }
}

#[test]
fn perl_greetings_parse_and_round_trip() {
    for v in vectors() {
        for line in [&v.local[0], &v.remote[0]] {
            let g = Greeting::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(&g.to_line(), line, "{}", v.name);
            if g.get("provider").is_some_and(|p| p.starts_with("AE-")) {
                assert_eq!(g.get("mproto"), Some("1"), "{}", v.name);
            }
            assert!(!g.wants_tls());
        }
    }
}

#[test]
fn a_connection_accepts_every_perl_greeting() {
    for v in vectors() {
        let local = Greeting::parse(v.local[0].as_bytes()).unwrap();
        let config = ConnConfig::new(local.node_id, Some(v.secret.clone()));
        let mut conn = Connection::new(Arc::new(config), &[7; 66], Instant::now());
        conn.poll_transmit(&mut Vec::new());
        conn.handle_input(format!("{}\r\n{}\r\n", v.remote[0], v.remote[1]).as_bytes());
        let remote = Greeting::parse(v.remote[0].as_bytes()).unwrap();
        match conn.poll_event() {
            Some(ConnEvent::Greeted { node_id, kv }) => {
                assert_eq!(node_id, remote.node_id);
                assert_eq!(kv, remote.kv);
            }
            other => panic!("{}: {other:?}", v.name),
        }
        let mut sent = Vec::new();
        assert!(conn.poll_transmit(&mut sent));
        let sent = AuthLine::parse(sent.strip_suffix(b"\n").unwrap()).unwrap();
        assert_eq!(sent.method, "hmac_sha3_512", "{}", v.name);
        assert_eq!(sent.framing, remote.framings[0], "{}", v.name);
        assert!(!conn.is_closed());
    }
}
