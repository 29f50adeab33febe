//! The `cert` setting: where its PEM text comes from and what it must hold.

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A node's private key and certificates, from the PEM text of the `cert` setting.
///
/// As in the original, the certificates serve twice: the first one (followed by the rest,
/// as its chain) is what the node presents, and all of them are what peers are verified
/// against.
#[derive(Debug)]
pub(crate) struct Identity {
    /// The certificates in the order of the PEM text.
    pub(crate) certs: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub(crate) key: PrivateKeyDer<'static>,
}

impl Identity {
    /// From the value of the `cert` setting: the PEM text itself (what the original and
    /// `aemp gencert` store), or, if the value holds no `-----BEGIN`, the path of a PEM file.
    pub(crate) fn from_setting(value: &str) -> Result<Identity, String> {
        if value.contains("-----BEGIN") {
            return Identity::from_pem(value.as_bytes());
        }
        let text = std::fs::read(value).map_err(|e| {
            format!("it holds no PEM text, and as a file name it cannot be read: {value}: {e}")
        })?;
        Identity::from_pem(&text).map_err(|e| format!("{value}: {e}"))
    }

    /// From PEM text holding a private key and at least one certificate.
    pub(crate) fn from_pem(text: &[u8]) -> Result<Identity, String> {
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
    use crate::tls::test_pem;

    #[test]
    fn pem_text_and_pem_file() {
        let pem = test_pem();
        let id = Identity::from_setting(&pem).unwrap();
        assert_eq!(id.certs.len(), 1);
        let dir = std::env::temp_dir().join(format!("aemp-node-cert-{}", std::process::id()));
        std::fs::write(&dir, &pem).unwrap();
        let from_file = Identity::from_setting(dir.to_str().unwrap()).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(from_file.certs, id.certs);
    }

    #[test]
    fn missing_parts_and_files_are_named() {
        let pem = test_pem();
        let cert_only = &pem[pem.find("-----BEGIN CERTIFICATE").unwrap()..];
        let key_only = &pem[..pem.find("-----BEGIN CERTIFICATE").unwrap()];
        assert!(Identity::from_setting(cert_only)
            .unwrap_err()
            .contains("no private key"));
        assert!(Identity::from_setting(key_only)
            .unwrap_err()
            .contains("no certificate"));
        let missing = Identity::from_setting("/nonexistent/aemp.pem").unwrap_err();
        assert!(missing.contains("/nonexistent/aemp.pem"), "{missing}");
    }
}
