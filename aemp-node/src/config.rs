//! From a resolved profile to listening sockets and the core's configuration.

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use aemp_config::{Bind, BindHost};
use aemp_proto::conn::ConnConfig;
use aemp_proto::node::NodeConfig as CoreConfig;
use aemp_proto::tls::TlsProvider;
use aemp_proto::Framing;
use aemp_transport_tcp::{advertised_addresses, listen};
use rand::distributions::{Alphanumeric, DistString};

use crate::StartError;

/// The random string `%u` and a trailing `/` expand to.
pub(crate) fn unique_string() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 8)
}

/// Opens a listener for every bind (or takes the pre-bound ones) and returns them with
/// the addresses to advertise, real ports filled in.
pub(crate) fn open_listeners(
    binds: &[Bind],
    prebound: Vec<TcpListener>,
) -> Result<(Vec<TcpListener>, Vec<String>), StartError> {
    let local = |l: &TcpListener, bind: &str| {
        l.local_addr().map_err(|source| StartError::Listen {
            bind: bind.to_owned(),
            source,
        })
    };
    let mut advertised = Vec::new();
    if !prebound.is_empty() {
        for l in &prebound {
            advertised.extend(advertised_addresses(local(l, "a pre-bound listener")?));
        }
        return Ok((prebound, advertised));
    }
    let mut listeners = Vec::new();
    for bind in binds {
        let text = bind.to_string();
        let fail = |source| StartError::Listen {
            bind: text.clone(),
            source,
        };
        let addr = match &bind.host {
            BindHost::Any => SocketAddr::from(([0, 0, 0, 0], bind.port)),
            BindHost::Named(host) => (host.as_str(), bind.port)
                .to_socket_addrs()
                .map_err(fail)?
                .next()
                .ok_or_else(|| {
                    fail(std::io::Error::other(format!(
                        "{host} resolves to no address"
                    )))
                })?,
        };
        let listener = listen(addr).map_err(fail)?;
        let actual = local(&listener, &text)?;
        match &bind.host {
            BindHost::Named(host) if host.parse::<IpAddr>().is_err() => {
                advertised.push(format!("{host}:{}", actual.port()));
            }
            _ => advertised.extend(advertised_addresses(actual)),
        }
        listeners.push(listener);
    }
    Ok((listeners, advertised))
}

/// The TLS provider of the `cert` setting (PEM text, or the path of a PEM file), if any.
pub(crate) fn tls_provider(
    cfg: &aemp_config::NodeConfig,
) -> Result<Option<Arc<dyn TlsProvider>>, StartError> {
    cfg.cert
        .as_deref()
        .map(|setting| crate::tls::provider(setting).map(|p| p as Arc<dyn TlsProvider>))
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
    Ok(core)
}

fn seconds(key: &'static str, secs: f64) -> Result<Duration, StartError> {
    Duration::try_from_secs_f64(secs).map_err(|e| StartError::Setting {
        key,
        reason: format!("{secs} is not a usable number of seconds: {e}"),
    })
}
