//! A stand-in TLS for in-memory tests: a one-round handshake and "records" that frame and
//! scramble the bytes, so a test can see that nothing after the switch travels in the clear
//! and that the switch happens at the exact byte.
#![allow(dead_code)]

use aemp_proto::tls::{TlsError, TlsProvider, TlsRead, TlsRole, TlsSession};

const HELLO: u8 = 0x16;
const DATA: u8 = 0x17;
const CLOSE: u8 = 0x15;
/// What record payloads are XORed with.
pub const SCRAMBLE: u8 = 0x5a;

/// Starts [`FakeTlsSession`]s.
#[derive(Debug, Default)]
pub struct FakeTls;

impl TlsProvider for FakeTls {
    fn start(&self, role: TlsRole) -> Result<Box<dyn TlsSession>, TlsError> {
        let mut session = FakeTlsSession::default();
        if role == TlsRole::Client {
            session.hello();
        }
        Ok(Box::new(session))
    }
}

/// One side: the client says hello, the server answers hello; then data records flow.
#[derive(Debug, Default)]
pub struct FakeTlsSession {
    sent_hello: bool,
    got_hello: bool,
    pending: Vec<u8>,
    input: Vec<u8>,
    closed: bool,
}

impl FakeTlsSession {
    fn hello(&mut self) {
        self.sent_hello = true;
        record(HELLO, b"hello", &mut self.pending);
    }
}

/// One record: kind, length (2 bytes), scrambled payload.
pub fn record(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend(payload.iter().map(|b| b ^ SCRAMBLE));
}

impl TlsSession for FakeTlsSession {
    fn read_tls(&mut self, received: &[u8], plaintext: &mut Vec<u8>) -> Result<TlsRead, TlsError> {
        self.input.extend_from_slice(received);
        let mut read = TlsRead::default();
        while self.input.len() >= 3 && !self.closed {
            let len = u16::from_be_bytes([self.input[1], self.input[2]]) as usize;
            if self.input.len() < 3 + len {
                break;
            }
            let kind = self.input[0];
            let payload: Vec<u8> = self.input[3..3 + len]
                .iter()
                .map(|b| b ^ SCRAMBLE)
                .collect();
            self.input.drain(..3 + len);
            match kind {
                HELLO if payload == b"hello" => {
                    self.got_hello = true;
                    if !self.sent_hello {
                        self.hello();
                    }
                }
                DATA if !self.is_handshaking() => plaintext.extend_from_slice(&payload),
                CLOSE => {
                    self.closed = true;
                    read.peer_closed = true;
                }
                other => {
                    return Err(TlsError::new(format!(
                        "fake TLS: unexpected record {other:#x}"
                    )))
                }
            }
        }
        Ok(read)
    }

    fn is_handshaking(&self) -> bool {
        !(self.sent_hello && self.got_hello)
    }

    fn write_tls(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
    }

    fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        if self.is_handshaking() {
            return Err(TlsError::new("fake TLS: data before the handshake"));
        }
        for chunk in plaintext.chunks(u16::MAX as usize) {
            record(DATA, chunk, out);
        }
        Ok(())
    }

    fn send_close(&mut self, out: &mut Vec<u8>) {
        record(CLOSE, b"", out);
    }
}
