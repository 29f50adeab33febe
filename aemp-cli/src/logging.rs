//! Log output of the long-running commands: `tracing` to standard error, filtered by
//! `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

/// Installs the subscriber (once; later calls do nothing). Colours only on a terminal.
pub(crate) fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
