//! A value for the `cert` setting: a new private key and self-signed certificate.

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};

/// The subject of generated certificates, the name the original's nodes use.
const SUBJECT: &str = "AnyEvent::MP";

/// A new private key and a self-signed certificate as one PEM text (key first, then
/// certificate): what `aemp gencert` stores under `cert`. The certificate is its own CA
/// (like the original's `openssl req -x509`), so every node holding it can verify every
/// other node holding it.
///
/// ```
/// let pem = aemp_config::generate_cert().unwrap();
/// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
/// assert!(pem.contains("-----BEGIN CERTIFICATE-----"));
/// ```
pub fn generate_cert() -> Result<String, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, SUBJECT);
    params.distinguished_name = subject;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok(format!("{}{}", key.serialize_pem(), cert.pem()))
}
