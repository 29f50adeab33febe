//! The transports a node runs: TCP (cargo feature `tcp`, on by default) and QUIC (feature
//! `quic`).

use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use aemp_proto::tls::rustls::RustlsTls;
use aemp_runtime::Runtime;
use aemp_transport::Transports;

use crate::config::Sockets;
use crate::StartError;

/// Everything the transports of a node are made from.
pub(crate) struct Setup<'a> {
    pub(crate) sockets: Sockets,
    pub(crate) nodelay: bool,
    pub(crate) tls: Option<&'a Arc<RustlsTls>>,
    pub(crate) monitor_timeout: Duration,
    /// QUIC handshakes are bounded apart from the core's, which sees streams only.
    pub(crate) max_pending_handshakes: usize,
}

/// TCP on the node's listeners, and QUIC on its UDP sockets; a node built without one of
/// them refuses binds that need it.
pub(crate) fn start<R: Runtime>(rt: &R, setup: Setup<'_>) -> Result<Transports, StartError> {
    let mut transports = Transports::default();
    tcp(
        rt,
        setup.sockets.tcp,
        (setup.nodelay, setup.monitor_timeout),
        &mut transports,
    )?;
    quic(
        rt,
        setup.sockets.quic,
        setup.tls,
        (setup.monitor_timeout, setup.max_pending_handshakes),
        &mut transports,
    )?;
    Ok(transports)
}

#[cfg(feature = "tcp")]
fn tcp<R: Runtime>(
    rt: &R,
    listeners: Vec<TcpListener>,
    (nodelay, monitor_timeout): (bool, Duration),
    transports: &mut Transports,
) -> Result<(), StartError> {
    use aemp_transport_tcp::{Tcp, TcpOptions};

    let opts = TcpOptions {
        nodelay,
        ..TcpOptions::for_monitor_timeout(monitor_timeout)
    };
    let mut tcp = Tcp::new(rt.clone(), opts);
    for l in listeners {
        let bind = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tcp.add_listener(l)
            .map_err(|source| StartError::Listen { bind, source })?;
    }
    transports.add(Box::new(tcp));
    Ok(())
}

#[cfg(not(feature = "tcp"))]
fn tcp<R: Runtime>(
    _rt: &R,
    listeners: Vec<TcpListener>,
    _settings: (bool, Duration),
    _transports: &mut Transports,
) -> Result<(), StartError> {
    left_out(&listeners, "a TCP bind needs TCP", "tcp")
}

#[cfg(feature = "quic")]
fn quic<R: Runtime>(
    rt: &R,
    sockets: Vec<UdpSocket>,
    tls: Option<&Arc<RustlsTls>>,
    (monitor_timeout, max_pending_handshakes): (Duration, usize),
    transports: &mut Transports,
) -> Result<(), StartError> {
    use aemp_transport_quic::{Quic, QuicOptions, QuicRuntime};

    #[cfg(not(feature = "tokio"))]
    let _ = rt;
    let runtime = QuicRuntime::Smol;
    #[cfg(feature = "tokio")]
    let tokio = (rt as &dyn std::any::Any).downcast_ref::<aemp_runtime::Tokio>();
    #[cfg(feature = "tokio")]
    let _entered = tokio.map(|t| t.handle().enter());
    #[cfg(feature = "tokio")]
    let runtime = if tokio.is_some() {
        QuicRuntime::Tokio
    } else {
        runtime
    };
    let setting = |source| StartError::Listen {
        bind: "quic".into(),
        source,
    };
    let mut quic = Quic::new(
        runtime,
        tls.cloned(),
        QuicOptions {
            max_pending_handshakes,
            ..QuicOptions::for_monitor_timeout(monitor_timeout)
        },
    )
    .map_err(setting)?;
    for socket in sockets {
        let bind = socket.local_addr().map(|a| format!("quic:{a}"));
        let bind = bind.unwrap_or_default();
        quic.bind(socket)
            .map_err(|source| StartError::Listen { bind, source })?;
    }
    transports.add(Box::new(quic));
    Ok(())
}

#[cfg(not(feature = "quic"))]
fn quic<R: Runtime>(
    _rt: &R,
    sockets: Vec<UdpSocket>,
    _tls: Option<&Arc<RustlsTls>>,
    _settings: (Duration, usize),
    _transports: &mut Transports,
) -> Result<(), StartError> {
    left_out(&sockets, "a quic: bind needs QUIC", "quic")
}

/// The error for binds of a transport this build leaves out.
#[cfg(any(not(feature = "tcp"), not(feature = "quic")))]
fn left_out<T>(sockets: &[T], what: &str, feature: &str) -> Result<(), StartError> {
    match sockets.first() {
        None => Ok(()),
        Some(_) => Err(StartError::Setting {
            key: "binds",
            reason: format!("{what}, which this build leaves out (cargo feature `{feature}`)"),
        }),
    }
}
