//! The transports of one node, and which one an address belongs to.

use std::task::{Context, Poll};

use crate::{Opened, Transport};

/// Every transport a node runs, in the order they were added.
///
/// ```
/// let t = aemp_transport::Transports::default();
/// assert!(t.is_empty());
/// ```
#[derive(Default)]
pub struct Transports {
    list: Vec<Box<dyn Transport>>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let schemes: Vec<_> = self
            .list
            .iter()
            .map(|t| t.scheme().unwrap_or("tcp"))
            .collect();
        f.debug_struct("Transports")
            .field("schemes", &schemes)
            .finish()
    }
}

impl Transports {
    /// Adds a transport.
    ///
    /// ```no_run
    /// # fn f(t: Box<dyn aemp_transport::Transport>) {
    /// let mut all = aemp_transport::Transports::default();
    /// all.add(t);
    /// # }
    /// ```
    pub fn add(&mut self, transport: Box<dyn Transport>) {
        self.list.push(transport);
    }

    /// Whether there is none.
    ///
    /// ```
    /// assert!(aemp_transport::Transports::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The schemes of the transports with one (`quic`, ...), in the order added: the
    /// address kinds this node can reach besides plain `host:port`.
    ///
    /// ```
    /// assert!(aemp_transport::Transports::default().schemes().is_empty());
    /// ```
    pub fn schemes(&self) -> Vec<&'static str> {
        self.list.iter().filter_map(|t| t.scheme()).collect()
    }

    /// The transport for `addr` and the address without its scheme prefix: the one whose
    /// scheme prefixes it (`quic:h:p`), else the one without a scheme (`h:p`).
    ///
    /// ```
    /// let mut t = aemp_transport::Transports::default();
    /// assert!(t.route("127.0.0.1:4040").is_none());
    /// ```
    pub fn route<'a>(&mut self, addr: &'a str) -> Option<(&mut dyn Transport, &'a str)> {
        let prefixed = addr.split_once(':').and_then(|(scheme, rest)| {
            let i = self.list.iter().position(|t| t.scheme() == Some(scheme))?;
            Some((i, rest))
        });
        let (i, rest) = match prefixed {
            Some(found) => found,
            None => (self.list.iter().position(|t| t.scheme().is_none())?, addr),
        };
        Some((self.list[i].as_mut(), rest))
    }

    /// The next stream any transport accepted.
    ///
    /// ```
    /// let mut t = aemp_transport::Transports::default();
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(t.poll_accept(&mut cx).is_pending());
    /// ```
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Opened> {
        for t in &mut self.list {
            if let Poll::Ready(opened) = t.poll_accept(cx) {
                return Poll::Ready(opened);
            }
        }
        Poll::Pending
    }

    /// Stops every listener.
    ///
    /// ```
    /// aemp_transport::Transports::default().close_listeners();
    /// ```
    pub fn close_listeners(&mut self) {
        for t in &mut self.list {
            t.close_listeners();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxFuture;

    struct Named(Option<&'static str>);

    impl Transport for Named {
        fn scheme(&self) -> Option<&'static str> {
            self.0
        }
        fn poll_accept(&mut self, _cx: &mut Context<'_>) -> Poll<Opened> {
            Poll::Pending
        }
        fn connect(&mut self, addr: &str) -> BoxFuture<std::io::Result<Opened>> {
            let addr = addr.to_owned();
            Box::pin(async move { Err(std::io::Error::other(addr)) })
        }
        fn close_listeners(&mut self) {}
    }

    #[test]
    fn addresses_go_to_the_transport_of_their_scheme() {
        let mut t = Transports::default();
        t.add(Box::new(Named(None)));
        t.add(Box::new(Named(Some("quic"))));
        assert_eq!(t.schemes(), ["quic"]);
        let (quic, rest) = t.route("quic:127.0.0.1:4041").unwrap();
        assert_eq!((quic.scheme(), rest), (Some("quic"), "127.0.0.1:4041"));
        let (tcp, rest) = t.route("127.0.0.1:4040").unwrap();
        assert_eq!((tcp.scheme(), rest), (None, "127.0.0.1:4040"));
        let (tcp, rest) = t.route("[::1]:4040").unwrap();
        assert_eq!((tcp.scheme(), rest), (None, "[::1]:4040"));
        // A host name is no scheme.
        let (tcp, rest) = t.route("quicksilver:4040").unwrap();
        assert_eq!((tcp.scheme(), rest), (None, "quicksilver:4040"));
    }

    #[test]
    fn a_scheme_nobody_serves_has_no_route_without_a_plain_transport() {
        let mut t = Transports::default();
        t.add(Box::new(Named(Some("quic"))));
        assert!(t.route("127.0.0.1:4040").is_none());
        assert!(t.route("quic:h:1").is_some());
    }
}
