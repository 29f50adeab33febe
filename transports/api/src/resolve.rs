//! Turning `host:port` text into socket addresses without blocking the driver.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host:port`. Literal addresses resolve at once; `*:PORT` (as the original's
/// `aemp seeds "*:4040"` writes a seed on this host) means `127.0.0.1:PORT`; host names
/// are looked up with the system resolver on a short-lived thread of their own, so the
/// caller's thread never blocks.
///
/// ```
/// use aemp_transport::resolve;
/// let addrs = futures_lite::future::block_on(resolve("*:4040")).unwrap();
/// assert_eq!(addrs, ["127.0.0.1:4040".parse().unwrap()]);
/// let addrs = futures_lite::future::block_on(resolve("localhost:1")).unwrap();
/// assert!(addrs.iter().all(|a| a.ip().is_loopback()));
/// ```
pub async fn resolve(addr: &str) -> io::Result<Vec<SocketAddr>> {
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(vec![a]);
    }
    let text = match addr.strip_prefix("*:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => addr.to_owned(),
    };
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(vec![a]);
    }
    let (tx, rx) = async_channel::bounded(1);
    std::thread::Builder::new()
        .name("aemp-resolve".into())
        .spawn(move || {
            let result = text.to_socket_addrs().map(|a| a.collect::<Vec<_>>());
            let _ = tx.try_send(result);
        })?;
    let addrs = rx
        .recv()
        .await
        .map_err(|_| io::Error::other("resolver thread ended without an answer"))??;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{addr} resolves to no address"),
        ));
    }
    Ok(addrs)
}
