//! One connection's rustls state as a [`TlsSession`]: records in, plaintext out, and the
//! reverse.

use std::io::{ErrorKind, Read, Write};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};

use super::RustlsTls;
use crate::tls::{TlsError, TlsRead, TlsRole, TlsSession};

/// The server name a TLS client must give rustls. It is neither sent (SNI is off) nor
/// checked (the verifier ignores names: peers are node IDs).
const UNCHECKED_NAME: &str = "aemp-node.invalid";

/// The rustls state of one connection.
pub(super) struct RustlsSession {
    conn: Connection,
}

impl std::fmt::Debug for RustlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustlsSession")
            .field("handshaking", &self.conn.is_handshaking())
            .finish()
    }
}

impl RustlsSession {
    /// Starts TLS in `role`; a client's first handshake record is ready at once.
    pub(super) fn new(config: &RustlsTls, role: TlsRole) -> Result<RustlsSession, TlsError> {
        let conn: Connection = match role {
            TlsRole::Client => {
                let name = ServerName::try_from(UNCHECKED_NAME).expect("a valid DNS name");
                ClientConnection::new(config.client.clone(), name)
                    .map_err(|e| TlsError::new(format!("TLS: cannot start as client: {e}")))?
                    .into()
            }
            TlsRole::Server => ServerConnection::new(config.server.clone())
                .map_err(|e| TlsError::new(format!("TLS: cannot start as server: {e}")))?
                .into(),
        };
        Ok(RustlsSession { conn })
    }

    /// Moves the decrypted bytes rustls holds to `plaintext`; true if the peer sent
    /// close_notify.
    fn drain_plaintext(&mut self, plaintext: &mut Vec<u8>) -> Result<bool, TlsError> {
        let mut reader = self.conn.reader();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(true),
                Ok(n) => plaintext.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    return Err(TlsError::new(format!(
                        "TLS: cannot read decrypted data: {e}"
                    )))
                }
            }
        }
    }
}

impl TlsSession for RustlsSession {
    fn read_tls(
        &mut self,
        mut received: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<TlsRead, TlsError> {
        let mut seen = TlsRead::default();
        // An empty read would tell rustls the stream ended: only read while bytes remain.
        while !received.is_empty() {
            let taken = self
                .conn
                .read_tls(&mut received)
                .map_err(|e| TlsError::new(format!("TLS: cannot take in received bytes: {e}")))?;
            if taken == 0 {
                // After the peer's close_notify rustls takes nothing more: nothing counts.
                break;
            }
            self.conn.process_new_packets().map_err(describe)?;
            seen.peer_closed |= self.drain_plaintext(plaintext)?;
        }
        Ok(seen)
    }

    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    fn write_tls(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            // Writing into a Vec cannot fail.
            if self.conn.write_tls(out).unwrap_or(0) == 0 {
                break;
            }
        }
    }

    fn encrypt(&mut self, mut plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        if self.conn.is_handshaking() {
            return Err(TlsError::new(
                "TLS: data to send before the TLS handshake completed",
            ));
        }
        while !plaintext.is_empty() {
            // rustls takes at most its buffer limit at a time; drain it between writes.
            let n = self
                .conn
                .writer()
                .write(plaintext)
                .map_err(|e| TlsError::new(format!("TLS: cannot encrypt: {e}")))?;
            self.write_tls(out);
            if n == 0 {
                return Err(TlsError::new("TLS: rustls accepts no more data to encrypt"));
            }
            plaintext = &plaintext[n..];
        }
        Ok(())
    }

    fn send_close(&mut self, out: &mut Vec<u8>) {
        self.conn.send_close_notify();
        self.write_tls(out);
    }
}

/// A TLS failure in words a node's operator can act on.
fn describe(e: rustls::Error) -> TlsError {
    TlsError::new(match e {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::rustls::testing::{provider, test_pem};
    use crate::tls::TlsProvider;

    /// A client and a server session of the given certificate settings.
    fn pair(client_pem: &str, server_pem: &str) -> (Box<dyn TlsSession>, Box<dyn TlsSession>) {
        let client = provider(client_pem).unwrap();
        let server = provider(server_pem).unwrap();
        (
            client.start(TlsRole::Client).unwrap(),
            server.start(TlsRole::Server).unwrap(),
        )
    }

    /// Shuttles records until neither side has any; returns each side's first error, or
    /// whether its handshake completed.
    fn handshake(c: &mut dyn TlsSession, s: &mut dyn TlsSession) -> [Result<bool, TlsError>; 2] {
        let mut seen = [Ok(()), Ok(())];
        for _ in 0..10 {
            let (mut to_s, mut to_c) = (Vec::new(), Vec::new());
            c.write_tls(&mut to_s);
            s.write_tls(&mut to_c);
            if to_s.is_empty() && to_c.is_empty() {
                break;
            }
            if !to_c.is_empty() && seen[0].is_ok() {
                seen[0] = c.read_tls(&to_c, &mut Vec::new()).map(drop);
            }
            if !to_s.is_empty() && seen[1].is_ok() {
                seen[1] = s.read_tls(&to_s, &mut Vec::new()).map(drop);
            }
        }
        let [c_seen, s_seen] = seen;
        [
            c_seen.map(|()| !c.is_handshaking()),
            s_seen.map(|()| !s.is_handshaking()),
        ]
    }

    #[test]
    fn shared_certificate_handshake_then_data_both_ways() {
        let pem = test_pem();
        let (mut c, mut s) = pair(&pem, &pem);
        let [c_up, s_up] = handshake(&mut *c, &mut *s);
        assert_eq!((c_up, s_up), (Ok(true), Ok(true)));

        let mut records = Vec::new();
        c.encrypt(b"hmac;token;cbor\n", &mut records).unwrap();
        assert!(
            !records.windows(4).any(|w| w == b"hmac"),
            "sent in the clear"
        );
        let mut plain = Vec::new();
        assert_eq!(s.read_tls(&records, &mut plain), Ok(TlsRead::default()));
        assert_eq!(plain, b"hmac;token;cbor\n");

        // More than rustls buffers at once, answered the other way, split at odd places.
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut records = Vec::new();
        s.encrypt(&big, &mut records).unwrap();
        let mut plain = Vec::new();
        for chunk in records.chunks(7_001) {
            c.read_tls(chunk, &mut plain).unwrap();
        }
        assert_eq!(plain, big);

        // close_notify ends the session; whatever arrives after it is ignored.
        let mut records = Vec::new();
        c.send_close(&mut records);
        let closed = s.read_tls(&records, &mut Vec::new()).unwrap();
        assert!(closed.peer_closed);
        let mut more = Vec::new();
        s.read_tls(b"\x17\x03\x03\x00\x01x", &mut more).unwrap();
        assert!(more.is_empty());
    }

    #[test]
    fn an_untrusted_certificate_fails_both_sides() {
        let (mut c, mut s) = pair(&test_pem(), &test_pem());
        let [c_up, s_up] = handshake(&mut *c, &mut *s);
        let client_err = c_up.unwrap_err().to_string();
        assert!(
            client_err.starts_with("TLS: the peer's certificate is not trusted"),
            "{client_err}"
        );
        // The server learns of it from the client's alert.
        let server_err = s_up.unwrap_err().to_string();
        assert!(server_err.contains("refused the handshake"), "{server_err}");
    }

    #[test]
    fn nothing_is_sent_before_the_handshake() {
        let pem = test_pem();
        let (mut c, _s) = pair(&pem, &pem);
        let err = c.encrypt(b"early", &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().contains("before the TLS handshake"),
            "{err}"
        );
    }
}
