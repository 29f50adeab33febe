//! `aemp stats <node> [--json]`: ask a Rust node for its statistics and print them as a
//! table (or as JSON for scripts).

use std::process::ExitCode;
use std::sync::mpsc;

use aemp_node::{Node, STATS_FUNCTION};
use serde_json::Value as Json;

use super::client::{node_and_flag, start_node, stop_node, TIMEOUT};
use crate::error::CliError;

/// Prints the node's statistics; fails naming why when it does not answer.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let (target, json) = node_and_flag("stats", args, "--json")?;
    let client = start_node()?;
    let answer = ask(&client, &target);
    let result = match answer {
        Some(stats) if json => {
            println!("{stats:#}");
            Ok(ExitCode::SUCCESS)
        }
        Some(stats) => {
            print!("{}", table(&stats));
            Ok(ExitCode::SUCCESS)
        }
        None => Err(CliError::Failed(no_answer(&client, &target))),
    };
    stop_node(&client);
    result
}

/// Sends the request and waits for the answer, as JSON.
fn ask(client: &Node, target: &str) -> Option<Json> {
    let (tx, rx) = mpsc::channel();
    let reply = client.port_with(move |msg| {
        let _ = tx.send(msg.into_vec());
    });
    client.snd_to_func(target, STATS_FUNCTION, (&reply,)).ok()?;
    let answer = rx.recv_timeout(TIMEOUT).ok()?;
    aemp_proto::from_value(answer.into_iter().next()?).ok()
}

/// Why `target` did not answer: not reachable, a Perl node, or silent.
fn no_answer(client: &Node, target: &str) -> String {
    let peer = client
        .stats()
        .peers
        .into_iter()
        .find(|p| p.node == target && p.state == aemp_node::PeerState::Up);
    match peer.and_then(|p| p.provider) {
        Some(provider) if provider.starts_with("AE-") => format!(
            "stats: {target} is a Perl node ({provider}); only aemp-rs nodes answer {STATS_FUNCTION}"
        ),
        Some(provider) => format!(
            "stats: {target} ({provider}) did not answer {STATS_FUNCTION} within {} s",
            TIMEOUT.as_secs()
        ),
        None => format!(
            "stats: node {target} not reachable within {} s (check the seeds and the secret in the rc file)",
            TIMEOUT.as_secs()
        ),
    }
}

/// The statistics as a short summary and one line per peer.
fn table(s: &Json) -> String {
    let n = |key: &str| s[key].as_f64().unwrap_or(0.0);
    let mut out = format!(
        "node {} ({}), up {:.0} s{}, master {}\n",
        text(&s["node"]),
        text(&s["provider"]),
        n("uptime_secs"),
        if s["global"].as_bool() == Some(true) {
            ", global"
        } else {
            ""
        },
        text(&s["master"]),
    );
    out += &format!(
        "ports {}, monitors {}, connections {}, queued {} B, database {} B in {} families ({} global)\n",
        n("ports"), n("monitors"), n("links"), n("queued_bytes"), n("db_bytes"),
        n("own_families"), n("global_families"),
    );
    out += &format!(
        "accepted {}, nodes up {} / down {}, failed handshakes {} (authentication {}), connect attempts {} (given up {})\n",
        n("accepted"), n("nodes_up"), n("nodes_down"), n("failed_handshakes"),
        n("failed_authentications"), n("connect_attempts"), n("connect_failures"),
    );
    let header = [
        "PEER",
        "STATE",
        "TRANSPORT",
        "PROVIDER",
        "AUTH",
        "FRAMING",
        "MSGS IN",
        "MSGS OUT",
        "BYTES IN",
        "BYTES OUT",
        "QUEUED",
        "ATTEMPTS",
        "FAILED",
        "LAST ERROR",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for p in s["peers"].as_array().into_iter().flatten() {
        let t = &p["traffic"];
        rows.push(vec![
            text(&p["node"]),
            text(&p["state"]),
            transport(p),
            text(&p["provider"]),
            text(&p["auth"]),
            format!("{}/{}", text(&p["send_framing"]), text(&p["recv_framing"])),
            text(&t["packets_in"]),
            text(&t["packets_out"]),
            text(&t["bytes_in"]),
            text(&t["bytes_out"]),
            text(&p["queued_bytes"]),
            text(&p["connect_attempts"]),
            text(&p["connect_failures"]),
            text(&p["last_error"]),
        ]);
    }
    out + "\n" + &columns(&rows)
}

/// The transport, from what protects the connection: only QUIC encrypts the stream itself.
fn transport(peer: &Json) -> String {
    match peer["encryption"].as_str() {
        Some("transport") => "quic".into(),
        Some("tls") => "tcp+tls".into(),
        Some(_) => "tcp".into(),
        None => "-".into(),
    }
}

fn text(v: &Json) -> String {
    match v {
        Json::Null => "-".into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Left-aligned columns separated by two spaces.
fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_owned() + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_with_a_line_per_peer() {
        let stats = serde_json::json!({
            "node": "seed", "provider": "aemp-rs-0.1.0", "uptime_secs": 12.3, "global": true,
            "master": null, "ports": 2, "peers": [{
                "node": "perl", "state": "up", "encryption": "none", "provider": "AE-2.01",
                "auth": "hmac_sha3_512", "send_framing": "cbor", "recv_framing": "cbor",
                "traffic": {"packets_in": 3, "packets_out": 4, "bytes_in": 100, "bytes_out": 200},
                "queued_bytes": 0, "connect_attempts": 0, "connect_failures": 0, "last_error": null
            }]
        });
        let t = table(&stats);
        assert!(
            t.starts_with("node seed (aemp-rs-0.1.0), up 12 s, global, master -\n"),
            "{t}"
        );
        let peer = t.lines().last().unwrap();
        let cells: Vec<&str> = peer.split_whitespace().collect();
        assert_eq!(
            cells[..6],
            ["perl", "up", "tcp", "AE-2.01", "hmac_sha3_512", "cbor/cbor"]
        );
        assert_eq!(cells[6..10], ["3", "4", "100", "200"]);
    }
}
