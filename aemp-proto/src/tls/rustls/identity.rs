//! The PEM text of the `cert` setting: what it must hold.

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A node's private key and certificates, from the PEM text of the `cert` setting.
///
/// As in the original, the certificates serve twice: the first one (followed by the rest,
/// as its chain) is what the node presents, and all of them are what peers are verified
/// against.
#[derive(Debug)]
pub(super) struct Identity {
    /// The certificates in the order of the PEM text.
    pub(super) certs: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub(super) key: PrivateKeyDer<'static>,
}

impl Identity {
    /// From PEM text holding a private key and at least one certificate.
    pub(super) fn from_pem(text: &[u8]) -> Result<Identity, String> {
        let certs = CertificateDer::pem_slice_iter(text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("cannot parse the PEM text: {e}"))?;
        if certs.is_empty() {
            return Err(
                "the PEM text holds no certificate (it needs a private key and a certificate)"
                    .into(),
            );
        }
        let key = PrivateKeyDer::from_pem_slice(text).map_err(|e| match e {
            pem::Error::NoItemsFound => {
                "the PEM text holds no private key (it needs a private key and a certificate)"
                    .to_owned()
            }
            other => format!("cannot parse the private key in the PEM text: {other}"),
        })?;
        Ok(Identity { certs, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::rustls::testing::test_pem;

    #[test]
    fn key_and_certificate_are_read() {
        let id = Identity::from_pem(test_pem().as_bytes()).unwrap();
        assert_eq!(id.certs.len(), 1);
    }

    #[test]
    fn missing_parts_are_named() {
        let pem = test_pem();
        let cert_only = &pem[pem.find("-----BEGIN CERTIFICATE").unwrap()..];
        let key_only = &pem[..pem.find("-----BEGIN CERTIFICATE").unwrap()];
        assert!(Identity::from_pem(cert_only.as_bytes())
            .unwrap_err()
            .contains("no private key"));
        assert!(Identity::from_pem(key_only.as_bytes())
            .unwrap_err()
            .contains("no certificate"));
    }
}
