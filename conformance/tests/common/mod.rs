//! A seed node for the tests: this project's sans-IO node core
//! (`aemp_proto::node::NodeCore`) driven by a minimal non-blocking TCP driver.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aemp_proto::node::{ConnId, NodeConfig, NodeCore, Output};
use aemp_proto::ConnConfig;

/// The shared secret of the test seed.
pub const SECRET: &[u8] = b"conformance-test-secret";

/// One accepted stream and the bytes the core wants written to it.
struct Stream {
    tcp: TcpStream,
    pending: Vec<u8>,
    closing: bool,
}

/// Starts a seed node core on an ephemeral port in a background thread; returns its address.
pub fn spawn_seed() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut cfg = NodeConfig::new(ConnConfig::new("core-seed", Some(SECRET.to_vec())));
    cfg.binds = vec![addr.clone()];
    cfg.seeds = vec![addr.clone()];
    let now = Instant::now();
    let mut core = NodeCore::new(cfg, &rand::random::<[u8; 32]>(), now);
    let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    core.set_unix_time(now, unix.as_secs_f64());
    thread::spawn(move || drive(core, listener));
    addr
}

/// Accepts, reads, runs the core, writes; refuses every outgoing connection.
fn drive(mut core: NodeCore, listener: TcpListener) {
    let mut streams: HashMap<ConnId, Stream> = HashMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let now = Instant::now();
        let mut busy = false;
        while let Ok((tcp, _)) = listener.accept() {
            tcp.set_nonblocking(true).expect("nonblocking");
            tcp.set_nodelay(true).expect("nodelay");
            let id = core.accept(now);
            let stream = Stream {
                tcp,
                pending: Vec::new(),
                closing: false,
            };
            streams.insert(id, stream);
            busy = true;
        }
        let mut ended = Vec::new();
        for (&id, stream) in streams.iter_mut() {
            loop {
                match stream.tcp.read(&mut buf) {
                    Ok(0) => {
                        ended.push(id);
                        break;
                    }
                    Ok(n) => {
                        busy = true;
                        core.conn_input(id, &buf[..n], now);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        ended.push(id);
                        break;
                    }
                }
            }
        }
        for id in ended {
            streams.remove(&id);
            core.conn_closed(id, "end of file", now);
        }
        if core.poll_timeout().is_some_and(|t| t <= now) {
            core.handle_timeout(now);
        }
        while let Some(out) = core.poll_output() {
            match out {
                Output::Transmit { conn, data } => {
                    if let Some(s) = streams.get_mut(&conn) {
                        s.pending.extend_from_slice(&data);
                    }
                }
                Output::Close { conn } => {
                    if let Some(s) = streams.get_mut(&conn) {
                        s.closing = true;
                    }
                }
                Output::Connect { conn, .. } => {
                    core.conn_closed(conn, "the test driver makes no connections", now)
                }
                _ => {}
            }
        }
        streams.retain(|&id, s| {
            if !s.pending.is_empty() {
                match s.tcp.write(&s.pending) {
                    Ok(n) => {
                        busy = true;
                        s.pending.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => {
                        core.conn_closed(id, "write error", now);
                        return false;
                    }
                }
            }
            if s.closing && s.pending.is_empty() {
                let _ = s.tcp.shutdown(Shutdown::Both);
                return false;
            }
            true
        });
        if !busy {
            thread::sleep(Duration::from_millis(1));
        }
    }
}
