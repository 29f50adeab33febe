//! The addresses a socket of this host is reachable at.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The addresses other nodes can reach a listener bound to `local` at, as `host:port`.
///
/// A listener on a specific address is reachable there. One on all interfaces (`0.0.0.0` or
/// `::`) is advertised as the loopback address first, followed by the non-loopback
/// addresses `host` (this host's name) resolves to (from `/etc/hosts` or DNS). The interface list
/// itself is not read (that would need a platform crate), so an address that is only on an
/// interface and not behind the host name is not advertised.
///
/// ```
/// let addrs = aemp_transport::advertised_addresses("127.0.0.1:4040".parse().unwrap(), "h");
/// assert_eq!(addrs, ["127.0.0.1:4040"]);
/// let addrs = aemp_transport::advertised_addresses("0.0.0.0:4040".parse().unwrap(), "localhost");
/// assert_eq!(addrs[0], "127.0.0.1:4040");
/// ```
pub fn advertised_addresses(local: SocketAddr, host: &str) -> Vec<String> {
    let port = local.port();
    let loopback = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => return vec![local.to_string()],
    };
    let mut out = vec![SocketAddr::new(loopback, port).to_string()];
    let host_addrs = (host, port).to_socket_addrs();
    for addr in host_addrs.into_iter().flatten() {
        let text = addr.to_string();
        if !addr.ip().is_loopback() && addr.is_ipv4() == local.is_ipv4() && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}
