//! `aemp snd <port> <arg...>`: send one message to a port.

use std::process::ExitCode;

use super::client::{message, start_node, stop_node, target, wait_until_up};
use crate::error::CliError;

/// Sends the message and exits once it is handed to the connection of the port's node.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let mut args = args.into_iter();
    let port = target("snd", args.next())?;
    let msg = message(args)?;
    let node = start_node()?;
    node.snd_values(&port, msg);
    let result = wait_until_up(&node, port.node());
    stop_node(&node);
    result.map(|()| ExitCode::SUCCESS)
}
