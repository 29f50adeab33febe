//! An in-memory pair of connections with a virtual clock, shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::{ConnConfig, ConnEvent, Connection};

pub mod fake_tls;

/// A config that wants TLS, with the stand-in [`fake_tls::FakeTls`].
pub fn with_fake_tls(mut cfg: ConnConfig) -> ConnConfig {
    cfg.tls = Some(Arc::new(fake_tls::FakeTls));
    cfg
}

/// The shared secret of the reference captures.
pub const SECRET: &[u8] = b"geheim";

/// A config with the reference secret.
pub fn config(node: &str) -> ConnConfig {
    ConnConfig::new(node, Some(SECRET.to_vec()))
}

/// Two connections joined back to back (TLS, if both want it, runs inside them).
pub struct Pair {
    pub a: Connection,
    pub b: Connection,
    pub a_events: Vec<ConnEvent>,
    pub b_events: Vec<ConnEvent>,
    start: Instant,
}

impl Pair {
    pub fn new(a: ConnConfig, b: ConnConfig) -> Pair {
        let start = Instant::now();
        Pair {
            a: Connection::new(Arc::new(a), &[0x11; 66], start),
            b: Connection::new(Arc::new(b), &[0x22; 66], start),
            a_events: Vec::new(),
            b_events: Vec::new(),
            start,
        }
    }

    /// The virtual clock: the fixed start instant plus `elapsed`.
    pub fn at(&self, elapsed: Duration) -> Instant {
        self.start + elapsed
    }

    /// Moves bytes both ways and collects events until nothing moves any more.
    pub fn run(&mut self) {
        loop {
            let mut moved = false;
            moved |= collect(&mut self.a, &mut self.a_events);
            moved |= collect(&mut self.b, &mut self.b_events);
            let (mut a_to_b, mut b_to_a) = (Vec::new(), Vec::new());
            moved |= self.a.poll_transmit(&mut a_to_b);
            moved |= self.b.poll_transmit(&mut b_to_a);
            self.b.handle_input(&a_to_b);
            self.a.handle_input(&b_to_a);
            if !moved {
                return;
            }
        }
    }
}

/// Collects the events of `conn`; true if any.
fn collect(conn: &mut Connection, events: &mut Vec<ConnEvent>) -> bool {
    let before = events.len();
    events.extend(std::iter::from_fn(|| conn.poll_event()));
    events.len() > before
}

/// The `Closed` reason among `events`, if any.
pub fn closed(events: &[ConnEvent]) -> Option<&aemp_proto::ConnError> {
    events.iter().find_map(|e| match e {
        ConnEvent::Closed(reason) => Some(reason),
        _ => None,
    })
}
