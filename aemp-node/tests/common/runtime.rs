//! Which runtime drives the nodes a test starts, and the macro that runs a suite of tests
//! once per runtime enabled by features (async-io always; tokio, smol with their features).

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

thread_local! {
    /// The runtime of the test running on this thread (async-io outside [`on`]).
    static CURRENT: Cell<Runtime> = const { Cell::new(Runtime::AsyncIo) };
}

/// Runs `test` with the nodes it starts (through [`start`]) on `rt`.
pub fn on(rt: Runtime, test: fn()) {
    struct Restore(Runtime);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.set(self.0);
        }
    }
    let _restore = Restore(CURRENT.replace(rt));
    test();
}

/// The runtime of the current test.
pub fn current() -> Runtime {
    CURRENT.get()
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
/// modules `on_async_io`, `on_tokio` and `on_smol`, each running them with [`on`] that
/// runtime; the last two only with the `tokio` and `smol` features.
macro_rules! runtime_suite {
    ($($test:ident),* $(,)?) => {
        $crate::common::runtime_suite!(@mod on_async_io AsyncIo; $($test),*);
        $crate::common::runtime_suite!(@mod #[cfg(feature = "tokio")] on_tokio Tokio; $($test),*);
        $crate::common::runtime_suite!(@mod #[cfg(feature = "smol")] on_smol Smol; $($test),*);
    };
    (@mod $(#[$cfg:meta])* $module:ident $rt:ident; $($test:ident),*) => {
        $(#[$cfg])*
        mod $module {
            $(
                #[test]
                fn $test() {
                    $crate::common::on($crate::common::Runtime::$rt, super::$test);
                }
            )*
        }
    };
}
pub(crate) use runtime_suite;
