//! Listening TCP sockets.

use std::io;
use std::net::{SocketAddr, TcpListener};

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
