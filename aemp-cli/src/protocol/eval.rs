//! `aemp eval <expr>`: the original evaluates Perl on a node; Rust nodes do not.

use std::process::ExitCode;

use crate::error::CliError;

/// Always fails: there is no code to evaluate on a Rust node.
pub(super) fn main(_args: Vec<String>) -> Result<ExitCode, CliError> {
    Err(CliError::Failed(
        "eval: Rust nodes do not evaluate code (the original evaluates Perl on Perl nodes only)"
            .into(),
    ))
}
