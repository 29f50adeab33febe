//! `aemp cal <port> <arg...>`: send a message with a reply port appended and print the reply.

use std::process::ExitCode;

use crate::error::CliError;

/// Placeholder until the node library exists.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::NotImplemented("cal"))
}
