//! `aemp run <configure-args...>`: configure a node (profile, norc, force, key/value pairs) and run it until killed.

use std::process::ExitCode;

use crate::error::CliError;

/// Placeholder until the node library exists.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::NotImplemented("run"))
}
