//! Log output of the long-running commands: `tracing` to standard error, filtered by
//! `RUST_LOG` (default `info`), and forwarded to log catchers that ask for it.

use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// Installs the subscriber (once; later calls do nothing). Colours only on a terminal and
/// without `NO_COLOR`.
pub(crate) fn init() {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .with_filter(filter);
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(aemp_node::logs::layer())
        .try_init();
}
