//! `aemp cal <port> <arg...>`: send a message with a reply port appended, print the reply.

use std::process::ExitCode;

use aemp_node::CalError;

use super::client::{message, start_node, stop_node, target, to_json_list, TIMEOUT};
use crate::error::CliError;

/// Prints the reply's values as JSON separated by commas.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let mut args = args.into_iter();
    let port = target("cal", args.next())?;
    let msg = message(args)?;
    let node = start_node()?;
    let reply = futures_lite::future::block_on(node.cal(&port, msg, Some(TIMEOUT)));
    stop_node(&node);
    match reply {
        Ok(values) => {
            println!("{}", to_json_list(&values));
            Ok(ExitCode::SUCCESS)
        }
        Err(CalError::Timeout(d)) => Err(CliError::Failed(format!(
            "cal {port}: no reply within {} s",
            d.as_secs()
        ))),
        Err(e) => Err(CliError::Failed(format!("cal {port}: {e}"))),
    }
}
