//! `gencert` and `setcert`.

use serde_json::Value;

use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// `gencert`: a new private key and a self-signed certificate, stored as one PEM text
/// (key first, then certificate, as `setcert` expects).
pub(super) fn generate(session: &mut Session) -> Result<(), CliError> {
    let pem = aemp_config::generate_cert()
        .map_err(|e| CliError::Failed(format!("gencert: cannot generate a certificate: {e}")))?;
    session.set("cert", Value::String(pem))
}

/// `setcert <file>`: stores the PEM text of a file holding a private key and a certificate.
pub(super) fn set(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let file = args.string(name, "<file>")?;
    let pem = std::fs::read_to_string(&file)
        .map_err(|e| CliError::Failed(format!("{name}: cannot read {file}: {e}")))?;
    check_pem(&pem).map_err(|missing| {
        CliError::Failed(format!(
            "{name}: {file} holds no PEM {missing} (it needs a private key and a certificate)"
        ))
    })?;
    session.set("cert", Value::String(pem))
}

/// Names the part missing from a key + certificate PEM text.
fn check_pem(pem: &str) -> Result<(), &'static str> {
    let has = |label: &str| {
        pem.lines()
            .any(|line| line.starts_with("-----BEGIN ") && line.contains(label))
    };
    if !has("PRIVATE KEY") {
        return Err("private key");
    }
    if !has("CERTIFICATE") {
        return Err("certificate");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pem_has_key_and_certificate() {
        let pem = aemp_config::generate_cert().unwrap();
        assert_eq!(check_pem(&pem), Ok(()));
        assert!(pem.find("PRIVATE KEY").unwrap() < pem.find("BEGIN CERTIFICATE").unwrap());
    }

    #[test]
    fn incomplete_pem_is_named() {
        assert_eq!(
            check_pem("-----BEGIN CERTIFICATE-----\n"),
            Err("private key")
        );
        assert_eq!(
            check_pem("-----BEGIN PRIVATE KEY-----\n"),
            Err("certificate")
        );
        assert_eq!(check_pem("hello"), Err("private key"));
    }
}
