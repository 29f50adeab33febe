//! Choosing the method and framing this side sends, from the remote's greeting.

use super::auth::AuthMethod;
use super::error::HandshakeError;
use crate::wire::Framing;

/// The method to authenticate with: the first entry of the remote's accept list that we
/// offer and can use (`tls_` methods only with TLS active, secret methods only with a secret).
///
/// ```
/// use aemp_proto::handshake::{choose_method, AuthMethod, HandshakeError};
/// let remote: Vec<String> = ["tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"].map(String::from).into();
/// let offer: Vec<String> = ["tls_sha3_512", "hmac_sha3_512"].map(String::from).into();
/// assert_eq!(choose_method(&remote, &offer, true, false), Ok(AuthMethod::HmacSha3_512));
/// assert_eq!(choose_method(&remote, &offer, false, true), Ok(AuthMethod::TlsSha3_512));
/// assert_eq!(choose_method(&remote, &offer, false, false), Err(HandshakeError::NoSecret));
/// ```
pub fn choose_method(
    remote_accept: &[String],
    offer: &[String],
    have_secret: bool,
    tls_active: bool,
) -> Result<AuthMethod, HandshakeError> {
    let mut lacked_secret = false;
    for name in remote_accept {
        let Some(method) = AuthMethod::from_name(name) else {
            continue;
        };
        if !offer.contains(name) || (method.requires_tls() && !tls_active) {
            continue;
        }
        if method.requires_secret() && !have_secret {
            lacked_secret = true;
            continue;
        }
        return Ok(method);
    }
    if lacked_secret {
        return Err(HandshakeError::NoSecret);
    }
    Err(HandshakeError::NoCommonAuthMethod {
        offered: offer
            .iter()
            .filter(|m| tls_active || !m.starts_with("tls_"))
            .cloned()
            .collect(),
        accepted: remote_accept.to_vec(),
    })
}

/// The framing to send in: the first entry of the remote's framing list that we speak.
///
/// ```
/// use aemp_proto::handshake::choose_framing;
/// use aemp_proto::Framing;
/// let remote: Vec<String> = ["storable", "json", "cbor"].map(String::from).into();
/// assert_eq!(choose_framing(&remote, &Framing::ALL), Ok(Framing::Json));
/// assert!(choose_framing(&remote, &[Framing::Fast]).is_err());
/// ```
pub fn choose_framing(remote: &[String], ours: &[Framing]) -> Result<Framing, HandshakeError> {
    remote
        .iter()
        .filter_map(|name| Framing::from_name(name))
        .find(|f| ours.contains(f))
        .ok_or_else(|| HandshakeError::NoCommonFraming {
            ours: ours.iter().map(|f| f.name().to_owned()).collect(),
            theirs: remote.to_vec(),
        })
}
