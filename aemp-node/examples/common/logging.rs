//! Log output of the examples: `tracing` to standard error, filtered by `RUST_LOG` (else
//! `default`), in colour only on a terminal and without `NO_COLOR`.

use std::io::IsTerminal as _;

/// Installs the subscriber.
pub fn init(default: &str) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .init();
}
