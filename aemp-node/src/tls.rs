//! The `cert` setting: TLS for node connections.
//!
//! A node with a `cert` setting announces `tls=1.0` in its greeting. When the peer's
//! greeting announces TLS too, the connection switches to TLS right after the two greeting
//! lines, inside the protocol core ([`aemp_proto::tls`]); authentication and all data then
//! travel inside TLS. A peer that does not announce TLS gets a connection without it
//! (authenticated by the shared secret, if there is one), as in the original.
//!
//! This module only turns the setting into the core's rustls provider: the PEM text (or the
//! file holding it), ring as the crypto provider, and the system clock for certificate
//! dates.

use std::sync::Arc;

use aemp_proto::tls::rustls::{rustls, RustlsTls};

/// The TLS provider of the `cert` setting's value: PEM text itself (what the original and
/// `aemp gencert` store), or, if the value holds no `-----BEGIN`, the path of a PEM file.
/// The error names what is wrong with it.
pub(crate) fn provider(setting: &str) -> Result<Arc<RustlsTls>, String> {
    let pem = pem_text(setting)?;
    RustlsTls::new(
        &pem,
        Arc::new(rustls::crypto::ring::default_provider()),
        Arc::new(rustls::time_provider::DefaultTimeProvider),
    )
    .map(Arc::new)
    .map_err(|e| {
        if setting.contains("-----BEGIN") {
            e.to_string()
        } else {
            format!("{setting}: {e}")
        }
    })
}

/// The PEM text of the setting (read from the file it names, if it is no PEM text).
fn pem_text(setting: &str) -> Result<Vec<u8>, String> {
    if setting.contains("-----BEGIN") {
        return Ok(setting.as_bytes().to_vec());
    }
    std::fs::read(setting).map_err(|e| {
        format!("it holds no PEM text, and as a file name it cannot be read: {setting}: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_text_and_pem_file() {
        let pem = aemp_config::generate_cert().unwrap();
        assert!(provider(&pem).is_ok());
        let path = std::env::temp_dir().join(format!("aemp-node-cert-{}", std::process::id()));
        std::fs::write(&path, &pem).unwrap();
        let from_file = provider(path.to_str().unwrap());
        std::fs::remove_file(&path).unwrap();
        assert!(from_file.is_ok());
    }

    #[test]
    fn missing_parts_and_files_are_named() {
        let pem = aemp_config::generate_cert().unwrap();
        let cert_only = &pem[pem.find("-----BEGIN CERTIFICATE").unwrap()..];
        assert!(provider(cert_only).unwrap_err().contains("no private key"));
        let missing = provider("/nonexistent/aemp.pem").unwrap_err();
        assert!(missing.contains("/nonexistent/aemp.pem"), "{missing}");
    }
}
