//! TLS between nodes over loopback: shared certificates, with and without a secret,
//! untrusted certificates, and peers without TLS; on each runtime and each transport (over
//! QUIC, the transport's own TLS verifies the certificates).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use aemp_node::{Node, NodeBuilder, Value};
use common::{any_port, bound, eventually, next, start, stop, try_start};

common::runtime_suite! {
    a_shared_certificate_without_secret_authenticates_with_tls_sha3_512,
    a_shared_certificate_with_a_secret_still_uses_tls,
    the_certificate_may_be_given_as_a_pem_file,
    an_untrusted_certificate_is_refused_even_with_a_shared_secret,
    a_peer_without_certificate_is_served_without_tls_by_the_secret,
    without_tls_and_without_secret_there_is_no_handshake,
    a_bad_certificate_setting_is_a_start_error,
    a_data_connection_is_encrypted_too,
}

common::tcp_suite! {
    tls_starts_right_after_the_greeting_lines,
}

/// A key and self-signed CA certificate as `aemp gencert` stores them (one PEM text).
fn gencert() -> String {
    aemp_config::generate_cert().unwrap()
}

/// A node builder with short timeouts and the given certificate and secret, if any.
fn node(id: &str, cert: Option<&str>, secret: Option<&str>) -> NodeBuilder {
    let mut b = Node::builder()
        .register_data_function(aemp_node::DATA_ECHO_FUNCTION, aemp_node::data_echo)
        .norc()
        .node_id(id)
        .monitor_timeout(Duration::from_secs(2))
        .connect_interval(Duration::from_millis(400));
    if let Some(pem) = cert {
        b = b.cert(pem);
    }
    if let Some(secret) = secret {
        b = b.secret(secret);
    }
    b
}

/// Starts `seed` as a global node on an ephemeral port and `member` with it as seed.
fn pair(seed: NodeBuilder, member: NodeBuilder) -> (Node, Node) {
    let (seed, addr) = bound(seed);
    let seed = start(seed.seeds([addr.as_str()]));
    let member = start(member.binds([any_port()]).seeds([addr.as_str()]));
    (seed, member)
}

/// Waits for the two nodes to connect, then sends a message each way.
fn connect_and_talk(a: &Node, b: &Node) {
    eventually("the nodes to connect", || a.node_is_up(b.node_id()));
    for (from, to) in [(a, b), (b, a)] {
        let (tx, rx) = channel();
        let port = to.port_with(move |msg| tx.send(msg.into_vec()).unwrap());
        from.snd(&port, ("hello", from.node_id().as_str())).unwrap();
        assert_eq!(
            next(&rx),
            [Value::from("hello"), Value::from(from.node_id().as_str())]
        );
    }
}

/// Asserts that the nodes stay apart over several connection attempts.
fn stay_apart(a: &Node, b: &Node) {
    let end = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < end {
        assert!(!a.node_is_up(b.node_id()) && !b.node_is_up(a.node_id()));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn a_shared_certificate_without_secret_authenticates_with_tls_sha3_512() {
    let pem = gencert();
    // Accepting nothing but tls_sha3_512: only a TLS connection can authenticate.
    let only_tls = |b: NodeBuilder| b.auth_accept(["tls_sha3_512"]);
    let (seed, a) = pair(
        only_tls(node("seed", Some(&pem), None)),
        only_tls(node("a", Some(&pem), None)),
    );
    connect_and_talk(&a, &seed);
    stop(&[&a, &seed]);
}

fn a_data_connection_is_encrypted_too() {
    let pem = gencert();
    let (seed, a) = pair(node("seed", Some(&pem), None), node("a", Some(&pem), None));
    eventually("the nodes to connect", || a.node_is_up(seed.node_id()));
    let timeout = Duration::from_secs(5);
    let opened = a.connect_data(seed.node_id(), timeout, aemp_node::DATA_ECHO_FUNCTION, ());
    let stream = common::block(opened).unwrap();
    // Over QUIC the transport encrypts; over TCP TLS runs inside the connection.
    assert_eq!(
        stream.encrypted(),
        common::transport() == common::Transport::Tcp
    );
    common::assert_echoed(stream, 200_000);
    stop(&[&a, &seed]);
}

fn a_shared_certificate_with_a_secret_still_uses_tls() {
    let pem = gencert();
    let only_tls = |b: NodeBuilder| b.auth_accept(["tls_sha3_512"]);
    let (seed, a) = pair(
        only_tls(node("seed", Some(&pem), Some("s3cr3t"))),
        only_tls(node("a", Some(&pem), Some("s3cr3t"))),
    );
    connect_and_talk(&a, &seed);
    stop(&[&a, &seed]);
}

fn the_certificate_may_be_given_as_a_pem_file() {
    let pem = gencert();
    // One file per runtime: the suite runs on each at once, in one process.
    let path = std::env::temp_dir().join(format!(
        "aemp-tls-test-{}-{:?}-{:?}.pem",
        std::process::id(),
        common::current(),
        common::transport()
    ));
    std::fs::write(&path, &pem).unwrap();
    let (seed, a) = pair(
        node("seed", Some(&pem), None),
        node("a", Some(path.to_str().unwrap()), None),
    );
    connect_and_talk(&a, &seed);
    std::fs::remove_file(&path).unwrap();
    stop(&[&a, &seed]);
}

fn an_untrusted_certificate_is_refused_even_with_a_shared_secret() {
    let (seed, a) = pair(
        node("seed", Some(&gencert()), None),
        node("a", Some(&gencert()), None),
    );
    stay_apart(&a, &seed);
    // Both want TLS, so the secret gives no way around the certificates.
    let (seed2, b) = pair(
        node("seed2", Some(&gencert()), Some("s3cr3t")),
        node("b", Some(&gencert()), Some("s3cr3t")),
    );
    stay_apart(&b, &seed2);
    stop(&[&a, &seed, &b, &seed2]);
}

fn a_peer_without_certificate_is_served_without_tls_by_the_secret() {
    let pem = gencert();
    // The original continues without TLS when the remote does not ask for it.
    let (seed, a) = pair(
        node("seed", Some(&pem), Some("s3cr3t")),
        node("a", None, Some("s3cr3t")),
    );
    connect_and_talk(&a, &seed);
    let (seed2, b) = pair(
        node("seed2", None, Some("s3cr3t")),
        node("b", Some(&pem), Some("s3cr3t")),
    );
    connect_and_talk(&b, &seed2);
    stop(&[&a, &seed, &b, &seed2]);
}

fn without_tls_and_without_secret_there_is_no_handshake() {
    let (seed, a) = pair(
        node("seed", Some(&gencert()), None),
        node("a", None, Some("s3cr3t")),
    );
    stay_apart(&a, &seed);
    stop(&[&a, &seed]);
}

fn a_bad_certificate_setting_is_a_start_error() {
    let err =
        try_start(node("n", Some("-----BEGIN CERTIFICATE-----\n"), None).binds(["127.0.0.1:0"]))
            .err()
            .unwrap()
            .to_string();
    assert!(err.starts_with("setting cert: "), "{err}");
    let err = try_start(node("n", Some("/nonexistent/node.pem"), None).binds(["127.0.0.1:0"]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("/nonexistent/node.pem"), "{err}");
}

/// On the wire: the greeting asks for TLS, and TLS starts right after the two greeting
/// lines (here the node is the TLS client: our nonce line sorts above any base64 text).
fn tls_starts_right_after_the_greeting_lines() {
    let pem = gencert();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let n = start(node("n", Some(&pem), None).listener(l));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(common::SOON)).unwrap();
    s.write_all(b"aemp;1;raw;tls_sha3_512;cbor;tls=1.0\n~~~~~~~~~~~~~~~~~~~~~~~~\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let record = loop {
        let k = s.read(&mut buf).unwrap();
        assert_ne!(
            k,
            0,
            "closed early after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..k]);
        let lines: Vec<usize> = (0..got.len())
            .filter(|&i| got[i] == b'\n')
            .take(2)
            .collect();
        if lines.len() == 2 && got.len() >= lines[1] + 3 {
            break got.split_off(lines[1] + 1);
        }
    };
    let greeting = String::from_utf8(got).unwrap();
    assert!(greeting.starts_with("aemp;1;n;"), "{greeting}");
    assert!(
        greeting
            .lines()
            .next()
            .unwrap()
            .split(';')
            .any(|kv| kv == "tls=1.0"),
        "{greeting}"
    );
    // A TLS handshake record (ClientHello), not an auth line.
    assert_eq!(&record[..2], &[0x16, 0x03], "{record:?}");
    stop(&[&n]);
}
