//! TLS for node connections, with rustls.
//!
//! A node with a `cert` setting announces `tls=1.0` in its greeting. When the peer's
//! greeting announces TLS too, the protocol core asks the driver to start TLS right after
//! the two greeting lines ([`aemp_proto::node::TransportOutput::StartTls`]); authentication and all
//! data then travel inside TLS. A peer that does not announce TLS gets a connection
//! without it (authenticated by the shared secret, if there is one), as in the original.
//!
//! - [`identity`]: the PEM text of the `cert` setting (key and certificates);
//! - [`verify`]: whom we trust (the configured certificates, and what chains to them);
//! - [`validity`]: the dates of a pinned certificate;
//! - [`session`]: one connection's TLS without I/O;
//! - [`links`]: the TLS state of a node's connections, between socket and core.

mod identity;
mod links;
mod session;
mod validity;
mod verify;

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, ServerConfig};

use identity::Identity;
pub(crate) use links::TlsLinks;
use verify::PeerVerifier;

/// The rustls settings of a node, for either TLS role: our key and certificates to
/// present, the [`verify`] rule for the peer's, no session resumption (every connection
/// verifies the peer afresh).
#[derive(Clone)]
pub(crate) struct TlsConfig {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

impl TlsConfig {
    /// From the value of the `cert` setting (PEM text, or the path of a PEM file); the
    /// error names what is wrong with it.
    pub(crate) fn from_setting(value: &str) -> Result<TlsConfig, String> {
        TlsConfig::new(Identity::from_setting(value)?)
    }

    fn new(identity: Identity) -> Result<TlsConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(PeerVerifier::new(&identity.certs, &provider)?);
        let unusable = |e: rustls::Error| format!("the key or certificate cannot be used: {e}");

        let mut client = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_auth_cert(identity.certs.clone(), identity.key.clone_key())
            .map_err(unusable)?;
        client.enable_sni = false;
        client.resumption = Resumption::disabled();

        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(identity.certs, identity.key)
            .map_err(unusable)?;
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;

        Ok(TlsConfig {
            client: Arc::new(client),
            server: Arc::new(server),
        })
    }
}

/// A key and self-signed CA certificate as `aemp gencert` makes them.
#[cfg(test)]
pub(crate) fn test_pem() -> String {
    aemp_config::generate_cert().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_does_not_fit_the_certificate_is_refused() {
        let (a, b) = (test_pem(), test_pem());
        let split = |pem: &str| pem.find("-----BEGIN CERTIFICATE").unwrap();
        let mixed = format!("{}{}", &a[..split(&a)], &b[split(&b)..]);
        let err = TlsConfig::from_setting(&mixed).err().unwrap();
        assert!(err.contains("cannot be used"), "{err}");
    }
}
