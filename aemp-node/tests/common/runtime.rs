//! Which runtime drives the nodes a test starts and which transport they talk over, and
//! the macros that run a suite of tests once per runtime enabled by features (async-io
//! always; tokio, smol with their features) and per transport (TCP always, QUIC with the
//! `quic` feature).

use std::cell::Cell;

use aemp_node::{Node, NodeBuilder, StartError};

/// A runtime to start nodes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `NodeBuilder::start`: the driver on a thread of its own.
    AsyncIo,
    /// `NodeBuilder::start_tokio` inside one multi-thread runtime shared by all tests.
    #[cfg(feature = "tokio")]
    Tokio,
    /// `NodeBuilder::start_smol`: a task on smol's global executor.
    #[cfg(feature = "smol")]
    Smol,
}

/// A transport the nodes of a test listen and connect with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP listeners, `host:port` addresses.
    Tcp,
    /// QUIC endpoints, `quic:host:port` addresses.
    #[cfg(feature = "quic")]
    Quic,
}

thread_local! {
    /// The runtime and transport of the test running on this thread (async-io and TCP
    /// outside [`on`]).
    static CURRENT: Cell<(Runtime, Transport)> = const { Cell::new((Runtime::AsyncIo, Transport::Tcp)) };
}

/// Runs `test` with the nodes it starts (through [`start`]) on `rt`, over `transport`.
pub fn on(rt: Runtime, transport: Transport, test: fn()) {
    struct Restore((Runtime, Transport));
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.set(self.0);
        }
    }
    let _restore = Restore(CURRENT.replace((rt, transport)));
    test();
}

/// The runtime of the current test.
pub fn current() -> Runtime {
    CURRENT.get().0
}

/// The transport of the current test.
pub fn transport() -> Transport {
    CURRENT.get().1
}

/// The bind of an ephemeral loopback port of the current test's transport.
pub fn any_port() -> &'static str {
    match transport() {
        Transport::Tcp => "127.0.0.1:0",
        #[cfg(feature = "quic")]
        Transport::Quic => "quic:127.0.0.1:0",
    }
}

/// `b` listening on an ephemeral loopback port of the current test's transport, bound
/// now, and the address to reach it at.
pub fn bound(b: NodeBuilder) -> (NodeBuilder, String) {
    match transport() {
        Transport::Tcp => {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap().to_string();
            (b.listener(l), addr)
        }
        #[cfg(feature = "quic")]
        Transport::Quic => {
            let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let addr = format!("quic:{}", u.local_addr().unwrap());
            (b.quic_socket(u), addr)
        }
    }
}

/// Starts a node on the current test's runtime.
pub fn try_start(b: NodeBuilder) -> Result<Node, StartError> {
    match current() {
        Runtime::AsyncIo => b.start(),
        #[cfg(feature = "tokio")]
        Runtime::Tokio => {
            static TOKIO: std::sync::LazyLock<tokio::runtime::Runtime> =
                std::sync::LazyLock::new(|| {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap()
                });
            let _entered = TOKIO.enter();
            b.start_tokio()
        }
        #[cfg(feature = "smol")]
        Runtime::Smol => b.start_smol(),
    }
}

/// Starts a node on the current test's runtime, failing the test if it cannot start.
pub fn start(b: NodeBuilder) -> Node {
    try_start(b).unwrap()
}

/// Turns test functions (plain `fn name()`, in the invoking module) into `#[test]`s in
/// modules `on_async_io`, `on_tokio` and `on_smol` (the last two only with the `tokio` and
/// `smol` features), each with a module `tcp` and (with the `quic` feature) `quic`,
/// running them with [`on`] that runtime and transport.
macro_rules! runtime_suite {
    ($($test:ident),* $(,)?) => {
        $crate::common::runtime_suite!(@rt on_async_io AsyncIo; $($test),*);
        $crate::common::runtime_suite!(@rt #[cfg(feature = "tokio")] on_tokio Tokio; $($test),*);
        $crate::common::runtime_suite!(@rt #[cfg(feature = "smol")] on_smol Smol; $($test),*);
    };
    (@rt $(#[$cfg:meta])* $module:ident $rt:ident; $($test:ident),*) => {
        $(#[$cfg])*
        mod $module {
            $crate::common::runtime_suite!(@mod tcp $rt Tcp; $($test),*);
            #[cfg(feature = "quic")]
            $crate::common::runtime_suite!(@mod quic $rt Quic; $($test),*);
        }
    };
    (@mod $tm:ident $rt:ident $tr:ident; $($test:ident),*) => {
        mod $tm {
            $(
                #[test]
                fn $test() {
                    $crate::common::on(
                        $crate::common::Runtime::$rt,
                        $crate::common::Transport::$tr,
                        super::super::$test,
                    );
                }
            )*
        }
    };
}
pub(crate) use runtime_suite;

/// Like [`runtime_suite!`] for tests of TCP itself: once per runtime, over TCP only.
macro_rules! tcp_suite {
    ($($test:ident),* $(,)?) => {
        $crate::common::tcp_suite!(@rt tcp_on_async_io AsyncIo; $($test),*);
        $crate::common::tcp_suite!(@rt #[cfg(feature = "tokio")] tcp_on_tokio Tokio; $($test),*);
        $crate::common::tcp_suite!(@rt #[cfg(feature = "smol")] tcp_on_smol Smol; $($test),*);
    };
    (@rt $(#[$cfg:meta])* $module:ident $rt:ident; $($test:ident),*) => {
        $(#[$cfg])*
        mod $module {
            $(
                #[test]
                fn $test() {
                    $crate::common::on(
                        $crate::common::Runtime::$rt,
                        $crate::common::Transport::Tcp,
                        super::$test,
                    );
                }
            )*
        }
    };
}
pub(crate) use tcp_suite;
