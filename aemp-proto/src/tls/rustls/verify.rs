//! Whom a node trusts: the peer must hold one of the configured certificates or a
//! certificate that chains to one of them. The same rule applies whichever side of the TLS
//! handshake the peer plays, and both sides must present a certificate.
//!
//! Two ways to pass, both followed by rustls checking the handshake signature against the
//! presented certificate's key (so the peer proves it holds the private key):
//! - the presented certificate is byte for byte one of the configured certificates, and
//!   today lies in its validity period. This is the shared self-signed certificate of
//!   `aemp gencert` and of the original, which is a CA certificate: webpki refuses a CA
//!   certificate as the peer's own, so it cannot take the second way.
//! - webpki verifies the chain from the presented certificate to one of the configured
//!   certificates as trust anchors (signatures, validity periods, constraints, key usage).
//!
//! Host names are never checked: peers are node IDs, not DNS names, and the certificates
//! of the original name none.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, RootCertStore, SignatureScheme};

use super::validity::Validity;

/// Verifies peer certificates by the rule of the [module docs](self), as TLS client (the
/// peer is the server) and as TLS server (the peer is the client).
#[derive(Debug)]
pub(super) struct PeerVerifier {
    /// The configured certificates with their validity periods.
    pinned: Vec<(CertificateDer<'static>, Validity)>,
    /// The configured certificates as trust anchors.
    roots: Arc<RootCertStore>,
    /// webpki's chain check for client certificates, with `roots`.
    client_chain: Arc<dyn ClientCertVerifier>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PeerVerifier {
    /// Trusts `trusted` (the certificates of the `cert` setting), with the signature
    /// algorithms of `provider`.
    pub(super) fn new(
        trusted: &[CertificateDer<'static>],
        provider: &Arc<CryptoProvider>,
    ) -> Result<PeerVerifier, String> {
        let mut roots = RootCertStore::empty();
        let mut pinned = Vec::new();
        for (i, cert) in trusted.iter().enumerate() {
            let which = |e: String| format!("certificate {} of the PEM text: {e}", i + 1);
            roots
                .add(cert.clone())
                .map_err(|e| which(format!("cannot be a trust anchor: {e}")))?;
            pinned.push((cert.clone(), Validity::of(cert).map_err(which)?));
        }
        let roots = Arc::new(roots);
        let client_chain =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .map_err(|e| format!("cannot set up client certificate checks: {e}"))?;
        Ok(PeerVerifier {
            pinned,
            roots,
            client_chain,
            algorithms: provider.signature_verification_algorithms,
        })
    }

    /// The rule for either side: a configured certificate in its validity period, or
    /// whatever `chain` (webpki's chain check for that side) says.
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
        chain: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self.pinned.iter().find(|(cert, _)| cert == end_entity) {
            Some((_, validity)) => validity.check(now),
            None => chain(),
        }
    }
}

/// The handshake-signature checks, the same for the server and the client side: rustls'
/// own, with the provider's algorithms.
macro_rules! handshake_signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.verify(end_entity, now, || {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                &self.roots,
                intermediates,
                now,
                self.algorithms.all,
            )
        })?;
        Ok(ServerCertVerified::assertion())
    }

    handshake_signature_checks!();
}

impl ClientCertVerifier for PeerVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.client_chain.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.verify(end_entity, now, || {
            self.client_chain
                .verify_client_cert(end_entity, intermediates, now)
                .map(drop)
        })?;
        Ok(ClientCertVerified::assertion())
    }

    handshake_signature_checks!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, IsCa, KeyPair};

    /// A CA certificate and its key.
    fn ca() -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        (params.self_signed(&key).unwrap(), key)
    }

    /// A node certificate issued by `ca`, valid from `from` to `to` (years).
    fn leaf(ca: &(rcgen::Certificate, KeyPair), from: i32, to: i32) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(to, 1, 1);
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, &ca.0, &ca.1).unwrap().der().clone()
    }

    fn verifier(trusted: &[CertificateDer<'static>]) -> PeerVerifier {
        PeerVerifier::new(trusted, &Arc::new(rustls::crypto::ring::default_provider())).unwrap()
    }

    /// Both directions' verdicts on `cert`, which must agree.
    fn verdict(v: &PeerVerifier, cert: &CertificateDer<'_>) -> Result<(), Error> {
        let now = UnixTime::now();
        let name = ServerName::try_from("ignored.invalid").unwrap();
        let as_server = v.verify_server_cert(cert, &[], &name, &[], now).map(drop);
        let as_client = v.verify_client_cert(cert, &[], now).map(drop);
        // (rustls's errors from webpki do not compare equal: compare their text.)
        assert_eq!(format!("{as_server:?}"), format!("{as_client:?}"));
        as_server
    }

    #[test]
    fn the_shared_ca_certificate_itself_is_accepted_by_exact_match() {
        let (shared, _) = ca();
        let v = verifier(&[shared.der().clone()]);
        assert_eq!(verdict(&v, shared.der()), Ok(()));
        let (other, _) = ca();
        assert!(verdict(&v, other.der()).is_err());
    }

    #[test]
    fn a_certificate_issued_by_a_configured_ca_is_accepted_by_chain() {
        let issuer = ca();
        let ours = leaf(&issuer, 2000, 4000);
        let v = verifier(&[ours, issuer.0.der().clone()]);
        assert_eq!(verdict(&v, &leaf(&issuer, 2000, 4000)), Ok(()));
        // Another CA of the same name: the signature does not verify.
        let stranger = leaf(&ca(), 2000, 4000);
        assert_eq!(
            verdict(&v, &stranger),
            Err(Error::InvalidCertificate(
                rustls::CertificateError::BadSignature
            ))
        );
    }

    #[test]
    fn expired_certificates_are_refused_either_way() {
        let issuer = ca();
        let expired = leaf(&issuer, 2000, 2001);
        let v = verifier(&[expired.clone(), issuer.0.der().clone()]);
        for way in ["pinned", "chained"] {
            let cert = match way {
                "pinned" => expired.clone(),
                _ => leaf(&issuer, 2000, 2001),
            };
            let err = verdict(&v, &cert).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidCertificate(
                        rustls::CertificateError::Expired
                            | rustls::CertificateError::ExpiredContext { .. }
                    )
                ),
                "{way}: {err:?}"
            );
        }
    }
}
