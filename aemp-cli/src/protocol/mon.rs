//! `aemp mon <port>`: wait until a port dies and print the reason.

use std::process::ExitCode;

use super::client::{start_node, stop_node, target, to_json_list, wait_until_up};
use crate::error::CliError;

/// Monitors the port; prints the kill reason (as JSON values separated by commas) when it
/// dies. Fails when the port's node cannot be reached within the timeout.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let mut args = args.into_iter();
    let port = target("mon", args.next())?;
    if let Some(extra) = args.next() {
        return Err(CliError::Usage(format!(
            "mon: unexpected argument {extra:?}"
        )));
    }
    let node = start_node()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let guard = node.mon(&port, move |reason| {
        let _ = tx.send(reason);
    });
    let result = wait_until_up(&node, port.node()).and_then(|()| {
        rx.recv()
            .map_err(|_| CliError::Failed(format!("mon {port}: the node stopped")))
    });
    guard.detach();
    stop_node(&node);
    let reason = result?;
    println!("{}", to_json_list(reason.values()));
    Ok(ExitCode::SUCCESS)
}
