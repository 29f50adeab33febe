//! Arbitrary bytes, split arbitrarily, into a `Connection`: it must never panic, must report
//! `Closed` at most once and last, must deliver nothing before `Authenticated`, and no
//! packet at all on a data connection (its bytes are read raw).
//!
//! Input layout: byte 0 selects the setup (bit 0: we want TLS; bit 1: start the fuzz bytes
//! in the data phase after a valid remote handshake; bits 2-3: the remote's framing; bit 4:
//! that handshake opens a data connection); the rest is a sequence of `<len byte><len
//! bytes>` chunks. A zero length byte instead sends a packet (or data) and advances the
//! virtual clock by ten seconds.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aemp_proto::tls::{TlsError, TlsProvider, TlsRead, TlsRole, TlsSession};
use aemp_proto::{ConnConfig, ConnEvent, Connection, Framing, Value};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz";

/// A TLS stand-in that is done at once and passes bytes as they are, so the fuzz bytes
/// after a TLS greeting reach the protocol inside.
#[derive(Debug)]
struct ClearTls;

impl TlsProvider for ClearTls {
    fn start(&self, _role: TlsRole) -> Result<Box<dyn TlsSession>, TlsError> {
        Ok(Box::new(ClearTls))
    }
}

impl TlsSession for ClearTls {
    fn read_tls(&mut self, received: &[u8], plaintext: &mut Vec<u8>) -> Result<TlsRead, TlsError> {
        plaintext.extend_from_slice(received);
        Ok(TlsRead::default())
    }
    fn is_handshaking(&self) -> bool {
        false
    }
    fn write_tls(&mut self, _out: &mut Vec<u8>) {}
    fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        out.extend_from_slice(plaintext);
        Ok(())
    }
    fn send_close(&mut self, _out: &mut Vec<u8>) {}
}

struct Harness {
    conn: Connection,
    authenticated: bool,
    closed: bool,
}

impl Harness {
    fn input(&mut self, data: &[u8]) {
        self.conn.handle_input(data);
        self.drain();
    }

    fn drain(&mut self) {
        self.conn.poll_transmit(&mut Vec::new());
        while self.conn.read_data(&mut [0; 512]) > 0 {}
        while let Some(event) = self.conn.poll_event() {
            assert!(!self.closed, "event after Closed: {event:?}");
            match event {
                ConnEvent::TlsStarted { .. } => {}
                ConnEvent::Authenticated { .. } => self.authenticated = true,
                ConnEvent::Packet(_) => {
                    assert!(self.authenticated, "packet before auth");
                    assert!(self.conn.data_id().is_none(), "packet on a data connection");
                }
                ConnEvent::Closed(_) => self.closed = true,
                // Greeted, and events added later (the enum is non-exhaustive).
                _ => {}
            }
        }
        assert_eq!(self.conn.is_closed(), self.closed);
        assert_eq!(self.conn.is_authenticated(), self.authenticated);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let want_tls = mode & 1 != 0;
    let framing = Framing::ALL[usize::from(mode >> 2 & 3) % Framing::ALL.len()];
    let mut cfg = ConnConfig::new("fuzz", Some(SECRET.to_vec()));
    cfg.tls = want_tls.then(|| Arc::new(ClearTls) as Arc<dyn TlsProvider>);
    let start = Instant::now();
    let mut h = Harness {
        conn: Connection::new(Arc::new(cfg), &[0x5a; 66], start),
        authenticated: false,
        closed: false,
    };
    if mode & 2 != 0 {
        // A remote that authenticates with tls_anon (inside fake TLS) or the cleartext secret.
        let name = framing.name();
        let (protocol, id) = if mode & 16 != 0 {
            ("aemp-dataconn", ";dataconn_id=f@peer")
        } else {
            ("aemp", "")
        };
        let (tls, auth) = if want_tls {
            (";tls=1.0", format!("tls_anon;;{name}"))
        } else {
            ("", format!("cleartext;66757a7a;{name}"))
        };
        h.input(
            format!("{protocol};1;peer;tls_sha3_512,hmac_sha3_512;{name}{tls}{id}\nbm9uY2U=\n")
                .as_bytes(),
        );
        h.input(format!("{auth}\n").as_bytes());
        assert!(h.authenticated, "prefix did not authenticate");
        assert_eq!(h.conn.carries_data(), mode & 16 != 0);
    }
    let mut now = start;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0 {
            h.conn.send(&[Value::from("port"), Value::Int(1)]);
            h.conn.send_data(b"raw");
            now += Duration::from_secs(10);
            h.conn.handle_timeout(now);
            h.drain();
            rest = tail;
            continue;
        }
        let (chunk, tail) = tail.split_at(usize::from(len).min(tail.len()));
        h.input(chunk);
        rest = tail;
    }
});
