//! The core stays sans-IO: its sources name no socket, file, clock, thread or OS
//! randomness, and its normal dependency tree holds no async runtime, socket or
//! OS-randomness crate.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/package.rs"]
mod package;
use package::package_dir;

/// Words that would mean the core does I/O, reads a clock, spawns threads or asks the OS
/// for randomness.
const FORBIDDEN_WORDS: &[&str] = &[
    "std::net",
    "std::fs",
    "Instant::now",
    "SystemTime::now",
    "thread::spawn",
    "getrandom",
    "OsRng",
    "thread_rng",
];

/// Crates that must not be in the normal dependency tree.
const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "async-io",
    "async-std",
    "smol",
    "mio",
    "socket2",
    "polling",
    "getrandom",
    "rand",
    // TLS crypto backends draw from the OS: the caller supplies rustls's crypto provider.
    "ring",
    "aws-lc-rs",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn sources_name_no_io_clock_thread_or_os_randomness() {
    let mut files = Vec::new();
    sources(&package_dir().join("src"), &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit-test modules (at the end of a file, after `#[cfg(test)]`) may use the clock.
        let code = text.lines().take_while(|l| l.trim() != "#[cfg(test)]");
        for (n, line) in code.enumerate() {
            for word in FORBIDDEN_WORDS {
                if line.contains(word) {
                    found.push(format!("{}:{}: {word}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O in the sans-IO core:\n{}",
        found.join("\n")
    );
}

#[test]
fn normal_dependencies_hold_no_runtime_socket_or_os_randomness() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "aemp-proto",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(package_dir())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"aemp-proto") && crates.contains(&"sha3"),
        "{tree}"
    );
    let bad: Vec<&&str> = FORBIDDEN_CRATES
        .iter()
        .filter(|c| crates.contains(c))
        .collect();
    assert!(
        bad.is_empty(),
        "forbidden crates in the core's dependency tree: {bad:?}\n{tree}"
    );
}
