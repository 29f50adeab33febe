//! Log output of the long-running commands: `tracing` to standard error, filtered by
//! `RUST_LOG` (default `info`), and forwarded to log catchers that ask for it.

use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// Installs the subscriber (once; later calls do nothing). Colours only on a terminal.
pub(crate) fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter);
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(aemp_node::logs::layer())
        .try_init();
}
