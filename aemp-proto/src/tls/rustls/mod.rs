//! The TLS of AEMP nodes with rustls (cargo feature `rustls`, on by default).
//!
//! [`RustlsTls`] is a [`TlsProvider`] built from the PEM text of a node's `cert` setting
//! (a private key and certificates, as the original and `aemp gencert` store them): both
//! sides present their certificate and must chain to, or be, one of the configured ones
//! ([`verify`] has the rule). Host names are never checked (peers are node IDs).
//!
//! The caller brings the clock and the randomness: [`RustlsTls::new`] takes rustls's
//! [`CryptoProvider`] (whose random source draws TLS nonces and key shares) and
//! [`TimeProvider`] (which dates the certificate checks), so this crate itself never reads
//! a clock or asks the OS for randomness.
//!
//! - [`identity`]: the PEM text (key and certificates);
//! - [`verify`]: whom we trust;
//! - [`validity`]: the dates of a pinned certificate;
//! - [`session`]: one connection's rustls state as a [`TlsSession`].

mod identity;
mod session;
mod validity;
mod verify;

use std::fmt;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::NoServerSessionStorage;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, ServerConfig};

use super::{TlsError, TlsProvider, TlsRole, TlsSession};
use identity::Identity;
use session::RustlsSession;
use verify::PeerVerifier;

pub use rustls;

/// The rustls settings of a node, for either TLS role: our key and certificates to
/// present, the [`verify`] rule for the peer's, no session resumption (every connection
/// verifies the peer afresh).
///
/// ```no_run
/// # fn pem() -> String { unimplemented!() }
/// use std::sync::Arc;
/// use aemp_proto::tls::rustls::{rustls, RustlsTls};
/// # let crypto: Arc<rustls::crypto::CryptoProvider> = unimplemented!();
/// # let clock: Arc<dyn rustls::time_provider::TimeProvider> = unimplemented!();
/// let tls = RustlsTls::new(pem().as_bytes(), crypto, clock)?;
/// let mut conn = aemp_proto::ConnConfig::new("me", None);
/// conn.tls = Some(Arc::new(tls));
/// # Ok::<(), aemp_proto::tls::TlsError>(())
/// ```
#[derive(Clone)]
pub struct RustlsTls {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    identity: Arc<Identity>,
    verifier: Arc<PeerVerifier>,
    crypto: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
}

impl fmt::Debug for RustlsTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustlsTls").finish_non_exhaustive()
    }
}

impl RustlsTls {
    /// From PEM text holding a private key and at least one certificate, with the
    /// caller's crypto provider and clock. The error names what is wrong with the text.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use aemp_proto::tls::rustls::{rustls, RustlsTls};
    /// # let crypto: Arc<rustls::crypto::CryptoProvider> = unimplemented!();
    /// # let clock: Arc<dyn rustls::time_provider::TimeProvider> = unimplemented!();
    /// let err = RustlsTls::new(b"no pem here", crypto, clock).unwrap_err();
    /// assert!(err.to_string().contains("no certificate"));
    /// ```
    pub fn new(
        pem: &[u8],
        crypto: Arc<CryptoProvider>,
        time: Arc<dyn TimeProvider>,
    ) -> Result<RustlsTls, TlsError> {
        let identity = Arc::new(Identity::from_pem(pem).map_err(TlsError::new)?);
        let verifier =
            Arc::new(PeerVerifier::new(&identity.certs, &crypto).map_err(TlsError::new)?);
        let unusable =
            |e: rustls::Error| TlsError::new(format!("the key or certificate cannot be used: {e}"));

        let mut client = ClientConfig::builder_with_details(crypto.clone(), time.clone())
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_auth_cert(identity.certs.clone(), identity.key.clone_key())
            .map_err(unusable)?;
        client.enable_sni = false;
        client.resumption = Resumption::disabled();

        let mut server = ServerConfig::builder_with_details(crypto.clone(), time.clone())
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(identity.certs.clone(), identity.key.clone_key())
            .map_err(unusable)?;
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;

        Ok(RustlsTls {
            client: Arc::new(client),
            server: Arc::new(server),
            identity,
            verifier,
            crypto,
            time,
        })
    }

    /// The certificates this node presents (the first is its own, the rest its chain).
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// assert!(!tls.certificates().is_empty());
    /// ```
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.identity.certs
    }

    /// The private key of the first certificate.
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// let _key = tls.private_key().clone_key();
    /// ```
    pub fn private_key(&self) -> &PrivateKeyDer<'static> {
        &self.identity.key
    }

    /// The crypto provider the caller gave.
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// assert!(!tls.crypto_provider().cipher_suites.is_empty());
    /// ```
    pub fn crypto_provider(&self) -> &Arc<CryptoProvider> {
        &self.crypto
    }

    /// Whether a certificate chain a peer presented (to another transport's TLS, e.g.
    /// QUIC's, which proved the peer holds its key) passes this node's rule of trust
    /// ([`verify`]), dated by the caller's clock.
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// assert!(!tls.trusts(&[]));
    /// ```
    pub fn trusts(&self, chain: &[CertificateDer<'_>]) -> bool {
        let (Some(end_entity), Some(now)) = (chain.first(), self.time.current_time()) else {
            return false;
        };
        self.verifier
            .verify_client_cert(end_entity, &chain[1..], now)
            .is_ok()
    }

    /// The settings for connecting (another transport, e.g. QUIC, may build on them).
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// assert!(!tls.client_config().enable_sni);
    /// ```
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.client
    }

    /// The settings for accepting.
    ///
    /// ```no_run
    /// # let tls: aemp_proto::tls::rustls::RustlsTls = unimplemented!();
    /// assert_eq!(tls.server_config().send_tls13_tickets, 0);
    /// ```
    pub fn server_config(&self) -> &Arc<ServerConfig> {
        &self.server
    }
}

impl TlsProvider for RustlsTls {
    fn start(&self, role: TlsRole) -> Result<Box<dyn TlsSession>, TlsError> {
        Ok(Box::new(RustlsSession::new(self, role)?))
    }
}

/// Test material: a key and self-signed CA certificate as `aemp gencert` makes them, and
/// a provider for it.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// PEM text of a fresh key and self-signed certificate (`aemp gencert`'s).
    pub(crate) fn test_pem() -> String {
        aemp_config::generate_cert().unwrap()
    }

    /// ring and the system clock, as a node uses them.
    pub(crate) fn provider(pem: &str) -> Result<RustlsTls, TlsError> {
        RustlsTls::new(
            pem.as_bytes(),
            Arc::new(rustls::crypto::ring::default_provider()),
            Arc::new(rustls::time_provider::DefaultTimeProvider),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn it_trusts_its_own_certificate_and_no_other() {
        let own = provider(&test_pem()).unwrap();
        let other = provider(&test_pem()).unwrap();
        assert!(own.trusts(own.certificates()));
        assert!(!own.trusts(other.certificates()));
        assert!(!own.trusts(&[]));
    }

    #[test]
    fn a_key_that_does_not_fit_the_certificate_is_refused() {
        let (a, b) = (test_pem(), test_pem());
        let split = |pem: &str| pem.find("-----BEGIN CERTIFICATE").unwrap();
        let mixed = format!("{}{}", &a[..split(&a)], &b[split(&b)..]);
        let err = provider(&mixed).err().unwrap();
        assert!(err.to_string().contains("cannot be used"), "{err}");
    }
}
