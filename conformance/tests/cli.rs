//! The command-line contract: one line per case, the summary line, the exit status, `--only`,
//! `--target-is-seed` and `--json`.

mod common;

use std::net::TcpListener;
use std::process::Command;

use aemp_conformance::cases;
use common::{start_seed, SECRET, SEED_ID};

/// Runs the binary; returns its exit code and stdout lines.
fn conformance(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_aemp-conformance"))
        .args(args)
        .output()
        .expect("run aemp-conformance");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    (
        out.status.code(),
        stdout.lines().map(str::to_owned).collect(),
    )
}

fn count(pattern: &str) -> usize {
    cases::all()
        .iter()
        .filter(|c| c.name.contains(pattern))
        .count()
}

#[test]
fn a_passing_run_prints_a_line_per_case_then_the_summary_and_writes_the_report() {
    let (_seed, target) = start_seed();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let (code, lines) = conformance(&[
        "--target",
        &target,
        "--secret",
        SECRET,
        "--target-is-seed",
        "--framing",
        "json",
        "--only",
        "node_",
        "--json",
        json.to_str().unwrap(),
    ]);
    let n = count("node_");
    assert_eq!(code, Some(0), "{lines:#?}");
    assert_eq!(lines.len(), n + 1, "{lines:#?}");
    let pass = |l: &String| l.starts_with("PASS ") && l.contains("node_");
    assert!(lines[..n].iter().all(pass), "{lines:#?}");
    assert_eq!(lines[n], format!("{n} passed, 0 failed"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["passed"], n);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["framing"], "json");
    assert_eq!(report["target_node"], SEED_ID);
    assert_eq!(report["cases"].as_array().unwrap().len(), n);
    assert_eq!(report["cases"][0]["status"], "pass");
}

#[test]
fn global_cases_are_skipped_unless_the_target_is_a_seed() {
    let (_seed, target) = start_seed();
    let (code, lines) =
        conformance(&["--target", &target, "--secret", SECRET, "--only", "global_"]);
    let n = count("global_");
    assert_eq!(code, Some(0), "{lines:#?}");
    assert!(
        lines[..n].iter().all(|l| l.starts_with("SKIP global_")),
        "{lines:#?}"
    );
    assert_eq!(lines[n], format!("0 passed, 0 failed, {n} skipped"));
}

#[test]
fn a_wrong_secret_fails_with_expected_and_got_and_exit_status_1() {
    let (_seed, target) = start_seed();
    let (code, lines) = conformance(&[
        "--target",
        &target,
        "--secret",
        "not-the-secret",
        "--only",
        "handshake_auth_hmac",
    ]);
    assert_eq!(code, Some(1), "{lines:#?}");
    assert!(
        lines[0].starts_with("FAIL handshake_auth_hmac: expected ") && lines[0].contains(", got "),
        "{lines:#?}"
    );
    assert_eq!(lines[1], "0 passed, 1 failed");
}

#[test]
fn an_unreachable_target_fails_quickly() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, lines) = conformance(&[
        "--target",
        &free.to_string(),
        "--secret",
        "x",
        "--only",
        "node_time",
    ]);
    assert_eq!(code, Some(1), "{lines:#?}");
    assert!(
        lines[0].starts_with("FAIL node_time: expected a TCP connection"),
        "{lines:#?}"
    );
}
