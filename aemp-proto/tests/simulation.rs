//! Deterministic simulation of several nodes under connection loss, partitions and
//! restarts, checking the AEMP guarantee and the database and bookkeeping invariants on
//! every schedule.
//!
//! `AEMP_SIM_SCHEDULES` sets the number of schedules (default 10,000); `AEMP_SIM_SEED`
//! the first seed (default 1), so a failing schedule can be replayed alone.

mod sim;

use std::collections::BTreeMap;
use std::time::Duration;

use aemp_proto::node::split_port_id;
use aemp_proto::Value;
use rand::Rng;
use sim::Net;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one schedule did, to show that the faults and the traffic really happened.
#[derive(Default, Debug, PartialEq)]
struct Totals {
    sent: usize,
    received: usize,
    fired: usize,
}

/// Runs one schedule and returns the invariant violations it found.
fn run_schedule(seed: u64, totals: &mut Totals) -> Vec<String> {
    let nodes = 3 + (seed % 2) as usize;
    // Every third schedule has two seeds, so two global nodes must keep their databases
    // in step (g_global, g_set, g_upd between globals).
    let seeds = if seed.is_multiple_of(3) { 2 } else { 1 };
    let mut net = Net::new(seed, nodes, seeds);
    let traffic = Duration::from_secs(20);
    let mut t = Duration::ZERO;
    while t < traffic {
        t += Duration::from_millis(net.rng.gen_range(5..400));
        net.run_until(t);
        let roll = net.rng.gen_range(0..100);
        let from = net.rng.gen_range(0..nodes);
        let to = (from + net.rng.gen_range(1..nodes)) % nodes;
        match roll {
            0..=69 => {
                for _ in 0..net.rng.gen_range(1..8) {
                    net.send_seq(from, to);
                }
            }
            70..=79 => net.cut_random_pipe(),
            80..=84 => {
                let d = Duration::from_millis(net.rng.gen_range(500..15_000));
                net.partition(from, d);
            }
            85..=87 if from >= seeds => net.restart(from),
            _ => {}
        }
    }
    net.isolated.clear();
    net.run_until(t + Duration::from_secs(60));
    for n in &net.nodes {
        let epochs = n.epochs.values().flatten();
        for e in epochs {
            totals.sent += e.sent.len();
            totals.fired += usize::from(e.fired());
        }
        totals.received += n.log.received.len();
    }
    let mut violations = check_guarantee(&net, seed);
    violations.extend(check_views(&net, seed));
    violations.extend(check_cleanup(&mut net, seed, t + Duration::from_secs(60)));
    violations
}

/// (1) no holes and no reordering within a monitor epoch; (2) a loss means the monitor fired.
fn check_guarantee(net: &Net, seed: u64) -> Vec<String> {
    let mut violations = Vec::new();
    for sender in &net.nodes {
        for (to, epochs) in &sender.epochs {
            let receiver = &net.nodes[*to];
            let mut last_seq = 0;
            for e in epochs {
                let port = split_port_id(&e.target).1;
                let got: Vec<u64> = receiver
                    .log
                    .received
                    .iter()
                    .filter(|(p, from, s)| p == port && *from == sender.id && e.sent.contains(s))
                    .map(|(_, _, s)| *s)
                    .collect();
                if got.as_slice() != &e.sent[..got.len().min(e.sent.len())]
                    || got.len() > e.sent.len()
                {
                    violations.push(format!(
                        "seed {seed}: {} -> {}: got {:?}, not a prefix of sent {:?}",
                        sender.id, e.target, got, e.sent
                    ));
                }
                if !e.fired() && got.len() != e.sent.len() {
                    violations.push(format!(
                        "seed {seed}: {} -> {}: lost {} of {} messages but the monitor never fired",
                        sender.id,
                        e.target,
                        e.sent.len() - got.len(),
                        e.sent.len()
                    ));
                }
                if let Some(first) = got.first() {
                    if *first <= last_seq {
                        violations.push(format!(
                            "seed {seed}: {} -> {}: reordered across epochs",
                            sender.id, e.target
                        ));
                    }
                }
                last_seq = got.last().copied().unwrap_or(last_seq);
            }
        }
    }
    violations
}

/// (3) after healing, every node's view of family "sim" is the union of all nodes' entries.
fn check_views(net: &Net, seed: u64) -> Vec<String> {
    let expected: BTreeMap<String, Value> = net
        .nodes
        .iter()
        .map(|n| (n.id.clone(), Value::from(n.inbox.as_str())))
        .collect();
    net.nodes
        .iter()
        .filter(|n| n.log.view != expected)
        .map(|n| {
            format!(
                "seed {seed}: {} sees {:?}, expected {:?}",
                n.id, n.log.view, expected
            )
        })
        .collect()
}

/// (4) once every port is killed and every monitor and watch removed, the tables are empty.
fn check_cleanup(net: &mut Net, seed: u64, mut t: Duration) -> Vec<String> {
    let now = net.instant();
    for i in 0..net.nodes.len() {
        let node = &mut net.nodes[i];
        let inbox = node.inbox.clone();
        let monitors: Vec<_> = node.epochs.values().flatten().map(|e| e.monitor).collect();
        for m in monitors {
            node.core.unmonitor(m, now);
        }
        node.core.kil(&inbox, vec![], now);
        for w in 0..1_000 {
            node.core.db_unmon(aemp_proto::node::WatchId(w), now);
        }
    }
    t += Duration::from_secs(30);
    net.run_until(t);
    let mut violations = Vec::new();
    for n in &net.nodes {
        let s = n.core.stats();
        if s.ports != 0
            || s.monitors != 0
            || s.queued_packets != 0
            || s.watches != 0
            || s.remote_watchers != 0
        {
            violations.push(format!(
                "seed {seed}: {} keeps state after cleanup: {s:?}",
                n.id
            ));
        }
        if s.known_nodes > net.nodes.len() || s.links > 2 * net.nodes.len() {
            violations.push(format!(
                "seed {seed}: {} has too many peers or links: {s:?}",
                n.id
            ));
        }
    }
    violations
}

#[test]
fn simulated_schedules_keep_the_guarantee() {
    let count = env_u64("AEMP_SIM_SCHEDULES", 10_000);
    let first = env_u64("AEMP_SIM_SEED", 1);
    let mut violations = Vec::new();
    let mut totals = Totals::default();
    for seed in first..first + count {
        violations.extend(run_schedule(seed, &mut totals));
        if violations.len() > 20 {
            break;
        }
    }
    println!(
        "messages sent {}, received {}, monitors fired {}",
        totals.sent, totals.received, totals.fired
    );
    println!(
        "simulated {count} schedules, {} violations",
        violations.len()
    );
    assert!(
        totals.received > 0 && totals.fired > 0,
        "the schedules exercised nothing"
    );
    for v in violations.iter().take(20) {
        println!("  {v}");
    }
    assert!(violations.is_empty(), "{} violations", violations.len());
}

#[test]
fn a_schedule_replays_identically() {
    // The core's behaviour depends only on its inputs and seed: the same schedule run
    // twice does exactly the same (what makes AEMP_SIM_SEED replays possible).
    for seed in 1..=20 {
        let (mut first, mut second) = (Totals::default(), Totals::default());
        let v1 = run_schedule(seed, &mut first);
        let v2 = run_schedule(seed, &mut second);
        assert_eq!(first, second, "seed {seed}");
        assert_eq!(v1, v2, "seed {seed}");
        assert!(first.sent > 0, "seed {seed} sent nothing");
    }
}

/// (5) timing: a connection attempt lasts `monitor_timeout` from the call that started it,
/// however long the node sat idle before (its clock comes with every call, not only with
/// timeouts).
#[test]
fn an_idle_nodes_first_connection_attempt_lasts_monitor_timeout() {
    for seed in 1..=100 {
        // One node without seeds: nothing is scheduled, the node is idle.
        let mut net = Net::new(seed, 1, 0);
        let idle = Duration::from_millis(net.rng.gen_range(1_000..3_600_000));
        net.run_until(idle);
        assert_eq!(
            net.nodes[0].core.poll_timeout(),
            None,
            "seed {seed}: not idle"
        );
        net.send_seq(0, sim::OUTSIDE);
        net.run_until(idle + sim::MONITOR_TIMEOUT * 2);
        let e = &net.nodes[0].epochs[&sim::OUTSIDE][0];
        assert_eq!(
            e.fired_at.map(|t| t - e.started),
            Some(sim::MONITOR_TIMEOUT),
            "seed {seed}: idle for {idle:?}"
        );
    }
}
