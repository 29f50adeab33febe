//! This host: its name, listening sockets, and the addresses a listener is reachable at.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};

/// Binds a listening socket to `addr` (port 0: any free port).
///
/// ```
/// let l = aemp_transport_tcp::listen("127.0.0.1:0".parse().unwrap()).unwrap();
/// assert!(l.local_addr().unwrap().port() > 0);
/// ```
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// The addresses other nodes can reach a listener bound to `local` at, as `host:port`.
///
/// A listener on a specific address is reachable there. One on all interfaces (`0.0.0.0` or
/// `::`) is advertised as the loopback address first, followed by the non-loopback
/// addresses this host's name resolves to (from `/etc/hosts` or DNS). The interface list
/// itself is not read (that would need a platform crate), so an address that is only on an
/// interface and not behind the host name is not advertised.
///
/// ```
/// let addrs = aemp_transport_tcp::advertised_addresses("127.0.0.1:4040".parse().unwrap());
/// assert_eq!(addrs, ["127.0.0.1:4040"]);
/// let addrs = aemp_transport_tcp::advertised_addresses("0.0.0.0:4040".parse().unwrap());
/// assert_eq!(addrs[0], "127.0.0.1:4040");
/// ```
pub fn advertised_addresses(local: SocketAddr) -> Vec<String> {
    let port = local.port();
    let loopback = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => return vec![local.to_string()],
    };
    let mut out = vec![SocketAddr::new(loopback, port).to_string()];
    let host_addrs = (hostname().as_str(), port).to_socket_addrs();
    for addr in host_addrs.into_iter().flatten() {
        let text = addr.to_string();
        if !addr.ip().is_loopback() && addr.is_ipv4() == local.is_ipv4() && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// This host's name: the kernel's host name, else `$HOSTNAME`, else `localhost`.
///
/// ```
/// assert!(!aemp_transport_tcp::hostname().is_empty());
/// ```
pub fn hostname() -> String {
    let from_file = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| {
            std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::env::var("COMPUTERNAME").ok())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
