//! What the short-lived protocol commands share: their node, their deadline, their
//! argument and output formats.

use std::time::{Duration, Instant};

use aemp_node::{Node, PortId};
use aemp_proto::Value;

use crate::args::parse_arg;
use crate::error::CliError;

/// How long `snd`, `cal`, `mon` and `trace` wait for the network.
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the node a protocol command talks through: profile `aemp`, node ID
/// `aemp/%n/%u` (unless the rc file's `aemp` profile says otherwise), secret and seeds from
/// the rc file.
pub(super) fn start_node() -> Result<Node, CliError> {
    Node::builder()
        .profile("aemp")
        .set("nodeid", "aemp/%n/%u")
        .start()
        .map_err(|e| CliError::Failed(format!("cannot start a node: {e}")))
}

/// Stops the node and waits until its connections are closed (queued data written).
pub(super) fn stop_node(node: &Node) {
    node.shutdown();
    futures_lite::future::block_on(node.stopped());
}

/// A required argument of `command`, or a usage error naming the missing `<what>`.
pub(super) fn required(
    command: &str,
    what: &str,
    word: Option<String>,
) -> Result<String, CliError> {
    word.ok_or_else(|| {
        CliError::Usage(format!(
            "{command}: missing argument <{what}> (see 'aemp {command} --help')"
        ))
    })
}

/// The arguments of a command that takes one node and an optional `flag` (`--json`,
/// `--dot`): the node, and whether the flag was given.
pub(super) fn node_and_flag(
    command: &str,
    args: Vec<String>,
    flag: &str,
) -> Result<(String, bool), CliError> {
    let given = args.iter().any(|a| a == flag);
    let mut rest = args.into_iter().filter(|a| a != flag);
    let node = required(command, "node", rest.next())?;
    match rest.next() {
        Some(extra) => Err(CliError::Usage(format!(
            "{command}: unexpected argument {extra:?}"
        ))),
        None => Ok((node, given)),
    }
}

/// The target port of a command: `NODE#NAME`, or a bare node ID for its node port.
pub(super) fn target(command: &str, word: Option<String>) -> Result<PortId, CliError> {
    let word = required(command, "port", word)?;
    if word.is_empty() {
        return Err(CliError::Usage(format!(
            "{command}: the port must not be empty"
        )));
    }
    Ok(PortId::from(word.as_str()))
}

/// The message arguments: JSON when they start with `[`, `{` or `"`, strings otherwise.
pub(super) fn message(words: impl IntoIterator<Item = String>) -> Result<Vec<Value>, CliError> {
    words
        .into_iter()
        .map(|w| {
            let json = parse_arg(&w)?;
            aemp_proto::to_value(&json).map_err(|e| CliError::Usage(format!("argument {w:?}: {e}")))
        })
        .collect()
}

/// Values as JSON separated by commas, as the original prints replies.
pub(super) fn to_json_list(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| serde_json::to_string(v).unwrap_or_else(|_| v.to_string()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits until `node` has an established connection to `peer`, or fails after [`TIMEOUT`].
pub(super) fn wait_until_up(node: &Node, peer: &str) -> Result<(), CliError> {
    let deadline = Instant::now() + TIMEOUT;
    while !node.node_is_up(peer) {
        if Instant::now() >= deadline {
            return Err(CliError::Failed(format!(
                "node {peer} not reachable within {} s (check the seeds and the secret in the rc file)",
                TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_arguments_are_strings_unless_json() {
        let m = message(["a".into(), "1".into(), "[1,2]".into(), "\"x\"".into()]).unwrap();
        assert_eq!(
            m,
            vec![
                Value::from("a"),
                Value::from("1"),
                Value::Array(vec![Value::Int(1), Value::Int(2)]),
                Value::from("x")
            ]
        );
        assert!(message(["[1,".into()]).is_err());
    }

    #[test]
    fn replies_print_as_comma_separated_json() {
        let s = to_json_list(&[Value::Float(1.5), Value::from("x"), Value::Null]);
        assert_eq!(s, r#"1.5,"x",null"#);
    }

    #[test]
    fn a_target_is_required() {
        assert!(target("snd", None).is_err());
        assert_eq!(target("snd", Some("n#p".into())).unwrap().node(), "n");
    }
}
