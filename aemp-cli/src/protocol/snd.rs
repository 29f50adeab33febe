//! `aemp snd <port> <arg...>`: send one message to a port.

use std::process::ExitCode;

use crate::error::CliError;

/// Placeholder until the node library exists.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::NotImplemented("snd"))
}
