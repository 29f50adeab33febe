//! An in-memory pair of connections with a virtual clock, shared by the integration tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::{ConnConfig, ConnEvent, Connection};

/// The shared secret of the reference captures.
pub const SECRET: &[u8] = b"geheim";

/// A config with the reference secret.
pub fn config(node: &str) -> ConnConfig {
    ConnConfig::new(node, Some(SECRET.to_vec()))
}

/// Two connections joined back to back. TLS is faked: on `TlsRequested` the pair calls
/// `tls_established` and hands the leftover bytes back in as (already decrypted) input.
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
            moved |= pump(&mut self.a, &mut self.a_events);
            moved |= pump(&mut self.b, &mut self.b_events);
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

/// Collects the events of `conn`, completing a fake TLS setup when asked; true if any.
fn pump(conn: &mut Connection, events: &mut Vec<ConnEvent>) -> bool {
    let mut any = false;
    while let Some(ev) = conn.poll_event() {
        any = true;
        if let ConnEvent::TlsRequested { leftover, .. } = &ev {
            let leftover = leftover.clone();
            conn.tls_established();
            conn.handle_input(&leftover);
        }
        events.push(ev);
    }
    any
}

/// The `Closed` reason among `events`, if any.
pub fn closed(events: &[ConnEvent]) -> Option<&aemp_proto::ConnError> {
    events.iter().find_map(|e| match e {
        ConnEvent::Closed(reason) => Some(reason),
        _ => None,
    })
}
