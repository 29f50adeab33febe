//! `aemp run` with the echo service, and `aemp cal`, `snd`, `mon`, `trace` against it, each
//! in its own process, on loopback.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Seed {
    child: Child,
    node: String,
    echo: String,
    rc: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Seed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aemp(rc: &PathBuf) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aemp"));
    cmd.env("PERL_ANYEVENT_MP_RC", rc).env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `aemp run` as a seed with the echo service; the rc file points clients at it.
fn start_seed(node: &str) -> Seed {
    let addr = format!("127.0.0.1:{}", free_port());
    start_seed_on(node, &[&addr], &addr)
}

/// Starts `aemp run` as a seed with the echo service listening on `binds`; the rc file
/// points clients at `client_seed`.
fn start_seed_on(node: &str, binds: &[&str], client_seed: &str) -> Seed {
    start_seed_with(node, binds, client_seed, 30)
}

/// [`start_seed_on`] with a `monitor_timeout` (seconds) for the seed and its clients.
fn start_seed_with(node: &str, binds: &[&str], client_seed: &str, monitor_timeout: u32) -> Seed {
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("rc.json");
    std::fs::write(
        &rc,
        format!(
            r#"{{"version":1,"secret":"cli-test","seeds":["{client_seed}"],"monitor_timeout":{monitor_timeout}}}"#
        ),
    )
    .unwrap();
    let binds = serde_json::to_string(binds).unwrap();
    let seeds = serde_json::to_string(&[client_seed]).unwrap();
    let mut child = aemp(&rc)
        .args(["run", "norc", "1", "nodeid", node, "secret", "cli-test"])
        .args(["monitor_timeout", &monitor_timeout.to_string()])
        .args(["binds", &binds, "seeds", &seeds, "services", r#"["echo"]"#])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let echo = loop {
        let line = lines.next().expect("aemp run ended early").unwrap();
        if let Some(port) = line.strip_prefix("echo service on port ") {
            break port.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Seed {
        child,
        node: node.to_owned(),
        echo,
        rc,
        _dir: dir,
    }
}

fn run(seed: &Seed, args: &[&str]) -> Output {
    aemp(&seed.rc).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn cal_snd_mon_and_trace_against_a_running_seed() {
    let seed = start_seed("cli-seed");

    let echoed = stdout(&run(&seed, &["cal", &seed.echo, "hello", "42", "[1,2]"]));
    assert_eq!(echoed, r#""hello","42",[1,2]"#);

    let time: f64 = stdout(&run(&seed, &["cal", &seed.node, "time"]))
        .parse()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((time - now).abs() < 60.0, "{time} vs {now}");

    let missing = format!("{}#nosuchport", seed.node);
    let reason = stdout(&run(&seed, &["mon", &missing]));
    assert_eq!(
        reason,
        format!(r#""no_such_port","cannot monitor nonexistent port","{missing}""#)
    );

    // `mon` waits while `snd` asks the seed's node port to kill the echo port.
    let watcher = aemp(&seed.rc)
        .args(["mon", &seed.echo])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let name = seed.echo.rsplit('#').next().unwrap();
    stdout(&run(
        &seed,
        &["snd", &seed.node, "kil1", name, "stopped_by_test"],
    ));
    let out = watcher.wait_with_output().unwrap();
    assert_eq!(stdout(&out), r#""stopped_by_test""#);

    let trace = stdout(&run(&seed, &["trace", &seed.node]));
    assert!(trace.starts_with(&format!("{} ->", seed.node)), "{trace}");
    let dot = stdout(&run(&seed, &["trace", &seed.node, "--dot"]));
    assert!(dot.starts_with("digraph"), "{dot}");

    let table = stdout(&run(&seed, &["stats", &seed.node]));
    assert!(
        table.starts_with(&format!("node {} (aemp-rs-", seed.node)),
        "{table}"
    );
    assert!(
        table.contains("PEER") && table.contains("hmac_sha3_512"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&seed, &["stats", &seed.node, "--json"]))).unwrap();
    assert_eq!(json["node"], seed.node.as_str());
    assert!(json["accepted"].as_u64().unwrap() >= 5, "{json}");
}

#[test]
fn a_node_bound_to_tcp_and_quic_answers_cal_over_quic() {
    let tcp = format!("127.0.0.1:{}", free_port());
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let quic = format!("quic:{}", udp.local_addr().unwrap());
    drop(udp);
    let seed = start_seed_on("cli-quic-seed", &[&tcp, &quic], &quic);
    let echoed = stdout(&run(&seed, &["cal", &seed.echo, "over", "quic"]));
    assert_eq!(echoed, r#""over","quic""#);
    let time: f64 = stdout(&run(&seed, &["cal", &seed.node, "time"]))
        .parse()
        .unwrap();
    assert!(time > 1.7e9, "{time}");
}

#[test]
fn a_frozen_node_is_found_dead_within_monitor_timeout() {
    // `aemp mon` watches a port of a Rust node, which is then frozen (SIGSTOP): the node
    // announced keepalives in its greeting, so its silence counts at once and the monitor
    // fires after about monitor_timeout (2 s), not when the kernel gives up.
    let addr = format!("127.0.0.1:{}", free_port());
    let seed = start_seed_with("cli-frozen", &[&addr], &addr, 2);
    let mut watcher = aemp(&seed.rc)
        .args(["mon", &seed.echo])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = seed.child.id().to_string();
    let signal = |sig: &str| Command::new("kill").args([sig, &pid]).status().unwrap();
    assert!(signal("-STOP").success());
    let frozen = std::time::Instant::now();
    while watcher.try_wait().unwrap().is_none() && frozen.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let waited = frozen.elapsed();
    signal("-CONT");
    let _ = watcher.kill();
    let out = watcher.wait_with_output().unwrap();
    let reason = stdout(&out);
    assert!(
        reason.starts_with(r#""transport_error","cli-frozen""#),
        "{reason}"
    );
    assert!(
        waited < Duration::from_secs(8),
        "found dead after {waited:?}"
    );
}

#[test]
fn cal_without_a_reachable_node_times_out_with_a_message() {
    let seed = start_seed("cli-seed-2");
    let out = run(&seed, &["cal", "no-such-node#p", "x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cal no-such-node#p"), "{err}");
}

#[test]
fn run_refuses_unknown_services() {
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("rc.json");
    let out = aemp(&rc)
        .args([
            "run",
            "norc",
            "1",
            "secret",
            "s",
            "binds",
            r#"["127.0.0.1:0"]"#,
        ])
        .args(["services", r#"["echo","no_such_service"]"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no_such_service") && err.contains("echo"),
        "{err}"
    );
}

#[test]
fn eval_says_rust_nodes_do_not_evaluate_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = aemp(&dir.path().join("rc.json"))
        .args(["eval", "node", "1+1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not evaluate code"));
}

#[test]
fn run_on_a_fresh_machine_generates_and_stores_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("rc.json");
    let port = free_port();
    let mut child = aemp(&rc)
        .args([
            "run",
            "profile",
            "seed",
            "binds",
            &format!(r#"["127.0.0.1:{port}"]"#),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines
        .next()
        .expect("the node reports that it runs")
        .unwrap();
    assert!(first.starts_with("node seed/"), "{first}");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rc).unwrap()).unwrap();
    assert_eq!(
        stored["secret"].as_str().map(str::len),
        Some(88),
        "{stored}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn dataconn_pipes_standard_input_through_the_echo_and_back() {
    use std::io::Write;
    let seed = start_seed("cli-dataconn-seed");
    let mut child = aemp(&seed.rc)
        .args(["dataconn", &seed.node, "aemp_echo::data"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = {
        let input = input.clone();
        // Written while the output is read: the echo stalls when nobody reads.
        std::thread::spawn(move || stdin.write_all(&input).unwrap())
    };
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == input,
        "{} bytes came back of {}",
        out.stdout.len(),
        input.len()
    );
}

#[test]
fn dataconn_to_an_unknown_function_fails_with_a_message() {
    let seed = start_seed("cli-dataconn-unknown");
    let out = run(&seed, &["dataconn", &seed.node, "No::such::function"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data function 'No::such::function' is not registered"),
        "{err}"
    );
}
