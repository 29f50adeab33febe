//! Errors of the `aemp` tool and the exit status each one gives.

use std::process::ExitCode;

use aemp_config::ConfigError;

/// Why an `aemp` invocation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line is wrong: unknown command, missing or malformed argument.
    #[error("{0}")]
    Usage(String),

    /// Reading, checking or writing the configuration failed.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// A command could not do its job (e.g. a certificate file is unreadable).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// 2 for usage errors, 1 for everything else.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Config(_) | CliError::Failed(_) => ExitCode::from(1),
        }
    }
}
