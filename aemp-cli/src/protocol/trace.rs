//! `aemp trace <node> [--dot]`: walk the network from a node and print who is connected to
//! whom.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use aemp_node::{Node, PortId};
use aemp_proto::Value;

use super::client::{node_and_flag, start_node, stop_node, TIMEOUT};
use crate::error::CliError;

/// The expression every node answers with its up nodes (Perl evaluates it, Rust nodes
/// recognise it).
const UP_NODES: &str = "AnyEvent::MP::Kernel::up_nodes";

/// Asks `node` for its neighbours; the answer arrives at `reply` as `[node, error, up...]`.
fn ask(client: &Node, node: &str, reply: &PortId) {
    let request = vec![
        Value::from("eval"),
        Value::from(UP_NODES),
        Value::from(reply),
        Value::from(node),
    ];
    client.snd_values(&PortId::from(node), request);
}

/// Prints one line per node (`NODE -> NEIGHBOUR...`), or a Graphviz graph with `--dot`.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let (start, dot) = node_and_flag("trace", args, "--dot")?;
    let client = start_node()?;
    let me = client.node_id().to_string();
    let (tx, rx) = mpsc::channel();
    let reply = client.port_with(move |msg| {
        let _ = tx.send(msg.into_vec());
    });
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut asked = BTreeSet::from([start.clone()]);
    ask(&client, &start, &reply);
    let deadline = Instant::now() + TIMEOUT;
    while graph.len() < asked.len() {
        let Some(wait) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        let Ok(answer) = rx.recv_timeout(wait) else {
            break;
        };
        let mut answer = answer.into_iter();
        let node = answer
            .next()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _error = answer.next();
        let neighbours: Vec<String> = answer
            .filter_map(|v| v.as_str().map(str::to_owned))
            .filter(|n| *n != me)
            .collect();
        for n in &neighbours {
            if asked.insert(n.clone()) {
                ask(&client, n, &reply);
            }
        }
        graph.insert(node, neighbours);
    }
    stop_node(&client);
    print_graph(&graph, dot);
    let silent: Vec<&String> = asked.iter().filter(|n| !graph.contains_key(*n)).collect();
    if graph.is_empty() {
        return Err(CliError::Failed(format!(
            "trace: no answer from {start} within {} s",
            TIMEOUT.as_secs()
        )));
    }
    for n in silent {
        eprintln!("aemp: trace: no answer from {n}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_graph(graph: &BTreeMap<String, Vec<String>>, dot: bool) {
    if dot {
        println!("digraph aemp {{");
        for (node, neighbours) in graph {
            println!("  {node:?};");
            for n in neighbours {
                println!("  {node:?} -> {n:?};");
            }
        }
        println!("}}");
    } else {
        for (node, neighbours) in graph {
            println!("{node} -> {}", neighbours.join(" "));
        }
    }
}
