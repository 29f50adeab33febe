//! The TLS of QUIC connections. Each side presents the node's certificate (the `cert`
//! setting) or, without one, a throw-away certificate, and accepts whatever certificate
//! the peer presents once the peer has proved it holds the key. Whether the peer is then
//! trusted is judged after the handshake ([`peer_verified`]) by the node's own rule, so
//! that, as over TCP, nodes of which only one has a certificate still meet (and the secret
//! authenticates them).

use std::io;
use std::sync::Arc;

use aemp_proto::tls::rustls::RustlsTls;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::ALPN;

/// The server name a client gives (peers are node IDs: the name is never checked).
pub(crate) const SERVER_NAME: &str = "aemp-node.invalid";

/// Server and client settings presenting `tls`'s certificate, or a throw-away one.
pub(crate) fn configs(
    tls: Option<&RustlsTls>,
) -> io::Result<(Arc<QuicServerConfig>, Arc<QuicClientConfig>)> {
    let unusable = |e: rustls::Error| io::Error::other(format!("QUIC TLS settings: {e}"));
    let provider = match tls {
        Some(tls) => tls.crypto_provider().clone(),
        None => Arc::new(rustls::crypto::ring::default_provider()),
    };
    let (certs, key) = match tls {
        Some(tls) => (tls.certificates().to_vec(), tls.private_key().clone_key()),
        None => throw_away_certificate()?,
    };
    let any = Arc::new(AnyCertificate(provider.clone()));
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(unusable)?
        .with_client_cert_verifier(any.clone())
        .with_single_cert(certs.clone(), key.clone_key())
        .map_err(unusable)?;
    server.alpn_protocols = vec![ALPN.to_vec()];
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(unusable)?
        .dangerous()
        .with_custom_certificate_verifier(any);
    let mut client = match tls {
        Some(_) => client.with_client_auth_cert(certs, key).map_err(unusable)?,
        None => client.with_no_client_auth(),
    };
    client.alpn_protocols = vec![ALPN.to_vec()];
    let server = QuicServerConfig::try_from(server)
        .map_err(|e| io::Error::other(format!("QUIC server TLS settings: {e}")))?;
    let client = QuicClientConfig::try_from(client)
        .map_err(|e| io::Error::other(format!("QUIC client TLS settings: {e}")))?;
    Ok((Arc::new(server), Arc::new(client)))
}

/// Whether the peer of `conn` presented a certificate that `tls` (the node's settings)
/// trusts.
pub(crate) fn peer_verified(conn: &quinn::Connection, tls: Option<&RustlsTls>) -> bool {
    let Some(tls) = tls else {
        return false;
    };
    conn.peer_identity()
        .and_then(|id| id.downcast::<Vec<CertificateDer<'static>>>().ok())
        .is_some_and(|chain| tls.trusts(&chain))
}

/// A fresh self-signed certificate and its key.
fn throw_away_certificate() -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let cert = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_owned()])
        .map_err(|e| io::Error::other(format!("cannot make a QUIC certificate: {e}")))?;
    let key = PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    Ok((vec![cert.cert.der().clone()], key))
}

/// Accepts whatever certificate the peer presents, once it proved it holds the key (the
/// handshake signature); clients may present none.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl AnyCertificate {
    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("QUIC needs TLS 1.3".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for AnyCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("QUIC needs TLS 1.3".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
