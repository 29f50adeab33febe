//! From a resolved profile to listening sockets and the core's configuration.

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use aemp_config::{Bind, BindHost, BindTransport};
use aemp_proto::conn::ConnConfig;
use aemp_proto::node::{Limits, NodeConfig as CoreConfig};
use aemp_proto::tls::rustls::RustlsTls;
use aemp_proto::tls::TlsProvider;
use aemp_proto::Framing;
use aemp_transport::advertised_addresses;
use rand::distributions::{Alphanumeric, DistString};

use crate::StartError;

/// The random string `%u` and a trailing `/` expand to.
pub(crate) fn unique_string() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 8)
}

/// The sockets of a node's binds, and the addresses to advertise (TCP ones first: the
/// original tries a node's addresses in order and skips `quic:` ones only after trying).
pub(crate) struct Sockets {
    pub(crate) tcp: Vec<TcpListener>,
    pub(crate) quic: Vec<UdpSocket>,
    pub(crate) advertised: Vec<String>,
}

/// Opens a socket for every bind (or takes the pre-bound ones) and returns them with the
/// addresses to advertise, real ports filled in.
pub(crate) fn open_sockets(
    binds: &[Bind],
    prebound_tcp: Vec<TcpListener>,
    prebound_quic: Vec<UdpSocket>,
) -> Result<Sockets, StartError> {
    let mut sockets = Sockets {
        tcp: Vec::new(),
        quic: Vec::new(),
        advertised: Vec::new(),
    };
    let mut quic_advertised = Vec::new();
    let host = aemp_config::hostname();
    if !prebound_tcp.is_empty() || !prebound_quic.is_empty() {
        for l in prebound_tcp {
            let actual = local_addr(l.local_addr(), "a pre-bound listener")?;
            sockets
                .advertised
                .extend(advertised_addresses(actual, &host));
            sockets.tcp.push(l);
        }
        for u in prebound_quic {
            let actual = local_addr(u.local_addr(), "a pre-bound UDP socket")?;
            quic_advertised.extend(advertised_addresses(actual, &host));
            sockets.quic.push(u);
        }
    } else {
        for bind in binds {
            let text = bind.to_string();
            let addr = bind_address(bind, &text)?;
            let actual = match bind.transport {
                BindTransport::Tcp => {
                    let listener =
                        TcpListener::bind(addr).map_err(|source| listen_error(&text, source))?;
                    let actual = local_addr(listener.local_addr(), &text)?;
                    sockets.tcp.push(listener);
                    actual
                }
                BindTransport::Quic => {
                    let socket =
                        UdpSocket::bind(addr).map_err(|source| listen_error(&text, source))?;
                    let actual = local_addr(socket.local_addr(), &text)?;
                    sockets.quic.push(socket);
                    actual
                }
            };
            let reachable = match &bind.host {
                BindHost::Named(host) if host.parse::<IpAddr>().is_err() => {
                    vec![format!("{host}:{}", actual.port())]
                }
                _ => advertised_addresses(actual, &host),
            };
            match bind.transport {
                BindTransport::Tcp => sockets.advertised.extend(reachable),
                BindTransport::Quic => quic_advertised.extend(reachable),
            }
        }
    }
    sockets
        .advertised
        .extend(quic_advertised.into_iter().map(|a| format!("quic:{a}")));
    Ok(sockets)
}

/// The socket address a bind listens on (its host resolved).
fn bind_address(bind: &Bind, text: &str) -> Result<SocketAddr, StartError> {
    match &bind.host {
        BindHost::Any => Ok(SocketAddr::from(([0, 0, 0, 0], bind.port))),
        BindHost::Named(host) => (host.as_str(), bind.port)
            .to_socket_addrs()
            .map_err(|source| listen_error(text, source))?
            .next()
            .ok_or_else(|| {
                listen_error(
                    text,
                    std::io::Error::other(format!("{host} resolves to no address")),
                )
            }),
    }
}

fn local_addr(addr: std::io::Result<SocketAddr>, bind: &str) -> Result<SocketAddr, StartError> {
    addr.map_err(|source| listen_error(bind, source))
}

fn listen_error(bind: &str, source: std::io::Error) -> StartError {
    StartError::Listen {
        bind: bind.to_owned(),
        source,
    }
}

/// The TLS settings of the `cert` setting (PEM text, or the path of a PEM file), if any.
pub(crate) fn tls_provider(
    cfg: &aemp_config::NodeConfig,
) -> Result<Option<Arc<RustlsTls>>, StartError> {
    cfg.cert
        .as_deref()
        .map(crate::tls::provider)
        .transpose()
        .map_err(|reason| StartError::Setting {
            key: "cert",
            reason,
        })
}

/// The core's configuration for a resolved profile and the advertised addresses; `tls`:
/// the node's TLS provider, if it has a certificate (then its greeting asks for TLS).
pub(crate) fn core_config(
    cfg: &aemp_config::NodeConfig,
    binds: Vec<String>,
    keepalive: Option<Duration>,
    tls: Option<Arc<dyn TlsProvider>>,
    limits: Limits,
) -> Result<CoreConfig, StartError> {
    let mut conn = ConnConfig::new(
        cfg.nodeid.clone(),
        cfg.secret.clone().map(String::into_bytes),
    );
    conn.auth_offer = cfg.auth_offer.clone();
    conn.auth_accept = cfg.auth_accept.clone();
    if let Some(names) = &cfg.framing_format {
        conn.framings = names
            .iter()
            .filter_map(|n| {
                let f = Framing::from_name(n);
                if f.is_none() {
                    tracing::warn!(framing = %n, "framing not supported by this node, skipped");
                }
                f
            })
            .collect();
        if conn.framings.is_empty() {
            return Err(StartError::Setting {
                key: "framing_format",
                reason: format!(
                    "none of {names:?} is supported (supported: aemp-postcard1, cbor, json)"
                ),
            });
        }
    }
    conn.tls = tls;
    conn.validate()?;
    let monitor_timeout = seconds("monitor_timeout", cfg.monitor_timeout)?;
    let mut core = CoreConfig::new(conn);
    core.binds = binds;
    core.seeds = cfg.seeds.clone();
    core.monitor_timeout = monitor_timeout;
    core.connect_interval = seconds("connect_interval", cfg.connect_interval)?;
    core.keepalive_interval =
        keepalive.unwrap_or_else(|| (monitor_timeout / 3).min(Duration::from_secs(15)));
    core.secure = cfg.secure;
    core.limits = rc_limits(cfg, limits)?;
    Ok(core)
}

/// `base` with the bounds the profile sets (keys named as the fields of [`Limits`]).
fn rc_limits(cfg: &aemp_config::NodeConfig, base: Limits) -> Result<Limits, StartError> {
    let mut limits = base;
    for (key, field) in limits.named_mut() {
        if let Some(value) = cfg.raw.get(key).filter(|v| !v.is_null()) {
            *field = aemp_config::coerce::to_count(key, value)?;
        }
    }
    Ok(limits)
}

fn seconds(key: &'static str, secs: f64) -> Result<Duration, StartError> {
    Duration::try_from_secs_f64(secs).map_err(|e| StartError::Setting {
        key,
        reason: format!("{secs} is not a usable number of seconds: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aemp_config::{resolve, Overrides, RcFile};

    fn profile(json: &str) -> aemp_config::NodeConfig {
        let rc = RcFile::parse("/rc", json).unwrap();
        resolve(&rc, "p", &Overrides::new())
            .unwrap()
            .node_config("h", "U")
            .unwrap()
    }

    #[test]
    fn the_profile_sets_limits_over_the_programs() {
        let base = Limits {
            max_queued_packets: 7,
            ..Limits::default()
        };
        let cfg = profile(r#"{"max_queued_bytes":"1048576","max_db_bytes_per_node":4096}"#);
        let limits = rc_limits(&cfg, base).unwrap();
        assert_eq!(limits.max_queued_bytes, 1 << 20);
        assert_eq!(limits.max_db_bytes_per_node, 4096);
        assert_eq!(limits.max_queued_packets, 7);
        assert_eq!(limits.queue_high_water, Limits::default().queue_high_water);
    }

    #[test]
    fn a_limit_that_is_not_a_count_is_an_error_naming_it() {
        let cfg = profile(r#"{"queue_high_water":"lots"}"#);
        let err = rc_limits(&cfg, Limits::default()).unwrap_err();
        assert!(err.to_string().contains("queue_high_water"), "{err}");
    }
}
