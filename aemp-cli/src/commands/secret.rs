//! `gensecret` and `setsecret`.

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::Value;

use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// How many random bytes a generated secret has (88 characters in base64).
const SECRET_BYTES: usize = 66;

/// `gensecret`: a new random secret.
pub(crate) fn generate(session: &mut Session) -> Result<(), CliError> {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    session.set("secret", Value::String(secret))
}

/// `setsecret <secret>`: a non-empty secret.
pub(super) fn set(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let secret = args.string(name, "<secret>")?;
    if secret.is_empty() {
        return Err(CliError::Usage(format!(
            "{name}: the secret must not be empty (use delsecret to remove it)"
        )));
    }
    session.set("secret", Value::String(secret))
}
