//! One connection's TLS, without I/O: ciphertext in, plaintext out, and the reverse.
//!
//! The driver hands it what the socket delivered ([`TlsSession::receive`]) and gets the
//! plaintext for the protocol core; it hands it what the core transmits
//! ([`TlsSession::send`]) and gets the records for the socket. Handshake records rustls
//! wants to send meanwhile come out of [`TlsSession::take_output`].

use std::io::{ErrorKind, Read, Write};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};

use aemp_proto::node::TlsRole;

use super::TlsConfig;

/// The server name a TLS client must give rustls. It is neither sent (SNI is off) nor
/// checked (the verifier ignores names: peers are node IDs).
const UNCHECKED_NAME: &str = "aemp-node.invalid";

/// What [`TlsSession::receive`] saw besides plaintext.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Received {
    /// The handshake completed during this call: tell the core before handing it the
    /// plaintext.
    pub(crate) established: bool,
    /// The peer ended the TLS session (close_notify): nothing more will arrive.
    pub(crate) closed: bool,
}

/// The TLS state of one connection.
pub(crate) struct TlsSession {
    conn: Connection,
    established: bool,
}

impl TlsSession {
    /// Starts TLS in `role`; a client's first handshake record is ready in
    /// [`TlsSession::take_output`] at once.
    pub(crate) fn new(config: &TlsConfig, role: TlsRole) -> Result<TlsSession, String> {
        let conn: Connection = match role {
            TlsRole::Client => {
                let name = ServerName::try_from(UNCHECKED_NAME).expect("a valid DNS name");
                ClientConnection::new(config.client.clone(), name)
                    .map_err(|e| format!("TLS: cannot start as client: {e}"))?
                    .into()
            }
            TlsRole::Server => ServerConnection::new(config.server.clone())
                .map_err(|e| format!("TLS: cannot start as server: {e}"))?
                .into(),
        };
        Ok(TlsSession {
            conn,
            established: false,
        })
    }

    /// Processes bytes from the socket, appending the plaintext they carry to `plaintext`.
    /// An error names what failed (the session is unusable then, but
    /// [`TlsSession::take_output`] may still hold an alert for the peer).
    pub(crate) fn receive(
        &mut self,
        mut ciphertext: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<Received, String> {
        let mut seen = Received::default();
        // An empty read would tell rustls the stream ended: only read while bytes remain.
        while !ciphertext.is_empty() {
            let taken = self
                .conn
                .read_tls(&mut ciphertext)
                .map_err(|e| format!("TLS: cannot take in received bytes: {e}"))?;
            if taken == 0 {
                // After the peer's close_notify rustls takes nothing more: nothing counts.
                break;
            }
            self.conn.process_new_packets().map_err(describe)?;
            if !self.established && !self.conn.is_handshaking() {
                self.established = true;
                seen.established = true;
            }
            seen.closed |= self.drain_plaintext(plaintext)?;
        }
        Ok(seen)
    }

    /// Encrypts `plaintext`, appending the records to `ciphertext` (together with any
    /// handshake record still pending). Only after the handshake: before, nothing may be
    /// sent.
    pub(crate) fn send(
        &mut self,
        mut plaintext: &[u8],
        ciphertext: &mut Vec<u8>,
    ) -> Result<(), String> {
        if !self.established {
            return Err("TLS: data to send before the TLS handshake completed".into());
        }
        while !plaintext.is_empty() {
            // rustls takes at most its buffer limit at a time; drain it between writes.
            let n = self
                .conn
                .writer()
                .write(plaintext)
                .map_err(|e| format!("TLS: cannot encrypt: {e}"))?;
            self.take_output(ciphertext);
            if n == 0 {
                return Err("TLS: rustls accepts no more data to encrypt".into());
            }
            plaintext = &plaintext[n..];
        }
        Ok(())
    }

    /// Appends every record rustls wants to send (handshake, alerts, data) to `ciphertext`.
    pub(crate) fn take_output(&mut self, ciphertext: &mut Vec<u8>) {
        while self.conn.wants_write() {
            // Writing into a Vec cannot fail.
            if self.conn.write_tls(ciphertext).unwrap_or(0) == 0 {
                break;
            }
        }
    }

    /// Ends the TLS session politely: a close_notify alert goes to `ciphertext`.
    pub(crate) fn close(&mut self, ciphertext: &mut Vec<u8>) {
        self.conn.send_close_notify();
        self.take_output(ciphertext);
    }

    /// Moves the decrypted bytes rustls holds to `plaintext`; true if the peer sent
    /// close_notify.
    fn drain_plaintext(&mut self, plaintext: &mut Vec<u8>) -> Result<bool, String> {
        let mut reader = self.conn.reader();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(true),
                Ok(n) => plaintext.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(format!("TLS: cannot read decrypted data: {e}")),
            }
        }
    }
}

/// A TLS failure in words a node's operator can act on.
fn describe(e: rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(why) => format!(
            "TLS: the peer's certificate is not trusted: it is not one of the configured \
             certificates and not signed by one of them ({why})"
        ),
        rustls::Error::NoCertificatesPresented => {
            "TLS: the peer presented no certificate (both sides need one)".into()
        }
        rustls::Error::AlertReceived(alert) => format!(
            "TLS: the peer refused the handshake with alert {alert:?} \
             (does it trust our certificate?)"
        ),
        other => format!("TLS: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::test_pem;

    /// A client and a server session of the given certificate settings.
    fn pair(client_pem: &str, server_pem: &str) -> (TlsSession, TlsSession) {
        let client = TlsConfig::from_setting(client_pem).unwrap();
        let server = TlsConfig::from_setting(server_pem).unwrap();
        (
            TlsSession::new(&client, TlsRole::Client).unwrap(),
            TlsSession::new(&server, TlsRole::Server).unwrap(),
        )
    }

    /// Shuttles records until neither side has any; returns each side's first error and
    /// whether each saw the handshake complete.
    fn handshake(c: &mut TlsSession, s: &mut TlsSession) -> [(Result<bool, String>, Vec<u8>); 2] {
        let mut seen = [Ok(false), Ok(false)];
        let mut plain = [Vec::new(), Vec::new()];
        for _ in 0..10 {
            let (mut to_s, mut to_c) = (Vec::new(), Vec::new());
            c.take_output(&mut to_s);
            s.take_output(&mut to_c);
            if to_s.is_empty() && to_c.is_empty() {
                break;
            }
            for (side, session, bytes) in [(0, &mut *c, to_c), (1, &mut *s, to_s)] {
                if bytes.is_empty() || seen[side].is_err() {
                    continue;
                }
                match session.receive(&bytes, &mut plain[side]) {
                    Ok(r) => seen[side] = Ok(seen[side].clone().unwrap() | r.established),
                    Err(e) => seen[side] = Err(e),
                }
            }
        }
        let [c_seen, s_seen] = seen;
        let [c_plain, s_plain] = plain;
        [(c_seen, c_plain), (s_seen, s_plain)]
    }

    #[test]
    fn shared_certificate_handshake_then_data_both_ways() {
        let pem = test_pem();
        let (mut c, mut s) = pair(&pem, &pem);
        let [(c_up, _), (s_up, _)] = handshake(&mut c, &mut s);
        assert_eq!((c_up, s_up), (Ok(true), Ok(true)));

        let mut records = Vec::new();
        c.send(b"hmac;token;cbor\n", &mut records).unwrap();
        assert!(
            !records.windows(4).any(|w| w == b"hmac"),
            "sent in the clear"
        );
        let mut plain = Vec::new();
        assert_eq!(s.receive(&records, &mut plain), Ok(Received::default()));
        assert_eq!(plain, b"hmac;token;cbor\n");

        // More than rustls buffers at once, answered the other way, split at odd places.
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut records = Vec::new();
        s.send(&big, &mut records).unwrap();
        let mut plain = Vec::new();
        for chunk in records.chunks(7_001) {
            c.receive(chunk, &mut plain).unwrap();
        }
        assert_eq!(plain, big);

        // close_notify ends the session; whatever arrives after it is ignored.
        let mut records = Vec::new();
        c.close(&mut records);
        let closed = s.receive(&records, &mut Vec::new()).unwrap();
        assert!(closed.closed);
        let mut more = Vec::new();
        c.take_output(&mut more);
        s.receive(b"\x17\x03\x03\x00\x01x", &mut more).unwrap();
        assert!(more.is_empty());
    }

    #[test]
    fn an_untrusted_certificate_fails_both_sides() {
        let (mut c, mut s) = pair(&test_pem(), &test_pem());
        let [(c_up, _), (s_up, _)] = handshake(&mut c, &mut s);
        let client_err = c_up.unwrap_err();
        assert!(
            client_err.starts_with("TLS: the peer's certificate is not trusted"),
            "{client_err}"
        );
        // The server learns of it from the client's alert.
        let server_err = s_up.unwrap_err();
        assert!(server_err.contains("refused the handshake"), "{server_err}");
    }

    #[test]
    fn nothing_is_sent_before_the_handshake() {
        let pem = test_pem();
        let (mut c, _s) = pair(&pem, &pem);
        let err = c.send(b"early", &mut Vec::new()).unwrap_err();
        assert!(err.contains("before the TLS handshake"), "{err}");
    }
}
