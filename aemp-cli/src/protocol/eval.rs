//! `aemp eval <node> <expr...>`: evaluate an expression on a (Perl) node and print the result.

use std::process::ExitCode;

use crate::error::CliError;

/// Placeholder until the node library exists.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::NotImplemented("eval"))
}
