//! Embedding the sans-IO core without any async runtime: two `NodeCore`s, each driven by a
//! hand-written loop over non-blocking `std::net` sockets on a thread of its own.
//!
//! ```text
//! cargo run -p aemp-node --example embedding
//! ```
//!
//! `pong` listens on an ephemeral loopback port; `ping` uses that address as its seed,
//! which makes `pong` a global node and `ping`'s master. `ping` then sends three `ping`
//! messages to a port of `pong`, which answers each one; the loop contract is the core's:
//! feed one input, drain `poll_transport` and `poll_event` until both are empty, then wait
//! (here: a short sleep) until a socket has data or `poll_timeout` is due.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aemp_proto::conn::{Channel, ConnConfig};
use aemp_proto::node::{ConnId, Event, NodeConfig, NodeCore, TransportOutput};
use aemp_proto::Value;

/// One stream: the socket and the bytes not written yet.
struct Stream {
    socket: TcpStream,
    out: Vec<u8>,
    closing: bool,
}

/// A core with its sockets.
struct Host {
    core: NodeCore,
    listener: Option<TcpListener>,
    streams: HashMap<ConnId, Stream>,
}

impl Host {
    fn new(id: &str, listener: Option<TcpListener>, seeds: Vec<String>) -> Host {
        let mut cfg = NodeConfig::new(ConnConfig::new(id, Some(b"embedding-secret".to_vec())));
        if let Some(l) = &listener {
            l.set_nonblocking(true).unwrap();
            cfg.binds = vec![l.local_addr().unwrap().to_string()];
        }
        cfg.seeds = seeds;
        let seed: [u8; 32] = rand::random();
        Host {
            core: NodeCore::new(cfg, &seed, Instant::now()),
            listener,
            streams: HashMap::new(),
        }
    }

    /// One turn of the loop: accept, read, run timeouts, act on outputs, write. Returns
    /// the messages delivered to local ports.
    fn turn(&mut self) -> Vec<(String, Vec<Value>)> {
        let now = Instant::now();
        while let Some(Ok((socket, _))) = self.listener.as_ref().map(|l| l.accept()) {
            socket.set_nonblocking(true).unwrap();
            let id = self.core.accept(Channel::Plain, now);
            self.streams.insert(
                id,
                Stream {
                    socket,
                    out: Vec::new(),
                    closing: false,
                },
            );
        }
        let mut buf = [0u8; 16 * 1024];
        let mut gone = Vec::new();
        for (id, s) in &mut self.streams {
            loop {
                match s.socket.read(&mut buf) {
                    Ok(0) => {
                        gone.push((*id, "connection closed by peer".to_string()));
                        break;
                    }
                    Ok(n) => self.core.conn_input(*id, &buf[..n], now),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => {
                        gone.push((*id, format!("read error: {e}")));
                        break;
                    }
                }
            }
        }
        for (id, why) in gone {
            self.streams.remove(&id);
            self.core.conn_closed(id, &why, now);
        }
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_timeout(now);
        }
        while let Some(out) = self.core.poll_transport() {
            match out {
                TransportOutput::Connect { conn, addr } => match TcpStream::connect(&addr) {
                    Ok(socket) => {
                        socket.set_nonblocking(true).unwrap();
                        socket.set_nodelay(true).unwrap();
                        self.streams.insert(
                            conn,
                            Stream {
                                socket,
                                out: Vec::new(),
                                closing: false,
                            },
                        );
                        self.core.conn_connected(conn, Channel::Plain, now);
                    }
                    Err(e) => self
                        .core
                        .conn_closed(conn, &format!("connect failed: {e}"), now),
                },
                TransportOutput::Transmit { conn, data } => {
                    if let Some(s) = self.streams.get_mut(&conn) {
                        s.out.extend_from_slice(&data);
                    }
                }
                TransportOutput::Close { conn } => {
                    if let Some(s) = self.streams.get_mut(&conn) {
                        s.closing = true;
                    }
                }
                TransportOutput::Detach { conn } => {
                    // This example runs no data functions: a data connection is dropped.
                    self.streams.remove(&conn);
                    drop(self.core.take_data(conn));
                }
            }
        }
        let mut delivered = Vec::new();
        while let Some(event) = self.core.poll_event() {
            match event {
                Event::Deliver { port, msg } => {
                    delivered.push((port.to_string(), msg.into_values()))
                }
                other => println!("{}: {other:?}", self.core.node_id()),
            }
        }
        self.streams.retain(|_, s| {
            while !s.out.is_empty() {
                match s.socket.write(&s.out) {
                    Ok(n) => drop(s.out.drain(..n)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            }
            !s.closing
        });
        delivered
    }
}

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let pong_addr = listener.local_addr().unwrap().to_string();
    let (port_tx, port_rx) = mpsc::channel();

    let pong = std::thread::spawn(move || {
        let mut host = Host::new("pong", Some(listener), Vec::new());
        let port = host.core.port();
        port_tx.send(port).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut answered = 0;
        while answered < 3 && Instant::now() < deadline {
            for (_, msg) in host.turn() {
                // ["ping", n, reply_port]
                let n = msg.get(1).and_then(Value::as_i64).unwrap_or(0);
                let reply = msg
                    .get(2)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                println!("pong: got ping {n}");
                host.core.snd(
                    &reply,
                    vec![Value::from("pong"), Value::Int(n)],
                    Instant::now(),
                );
                answered += 1;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Let the last answer go out.
        for _ in 0..50 {
            host.turn();
            std::thread::sleep(Duration::from_millis(1));
        }
    });

    let pong_port = port_rx.recv().unwrap();
    let mut host = Host::new("ping", None, vec![pong_addr]);
    let me = host.core.port();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut next = 1;
    let ping = |n: i64| vec![Value::from("ping"), Value::Int(n), Value::from(me.as_str())];
    host.core.snd(&pong_port, ping(next), Instant::now());
    while next <= 3 && Instant::now() < deadline {
        for (_, msg) in host.turn() {
            println!("ping: got {:?}", msg);
            next += 1;
            if next <= 3 {
                host.core.snd(&pong_port, ping(next), Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    pong.join().unwrap();
    assert!(next > 3, "not all pings were answered");
    println!("three round trips over TCP, no async runtime involved");
}
