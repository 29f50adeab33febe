//! `aemp trace <node>`: print the network topology as seen from a node.

use std::process::ExitCode;

use crate::error::CliError;

/// Placeholder until the node library exists.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::NotImplemented("trace"))
}
