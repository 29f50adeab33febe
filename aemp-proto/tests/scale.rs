//! Scale, by simulation: a network of nodes (two of them global) where every node
//! registers in the database and watches the same family. Measures, in virtual time, how
//! long until every view is complete after start, after a global node dies, and after a
//! partition heals, and the memory the cores take; asserts that the views converge.
//!
//! `AEMP_SCALE_NODES` sets the network's size (default 100, what CI runs); the figures
//! in BENCHMARKS.md come from
//! `AEMP_SCALE_NODES=1000 cargo test --release -p aemp-proto --test scale -- --nocapture`.

#[path = "common/heap.rs"]
mod heap;
mod sim;

use std::collections::BTreeSet;
use std::time::Duration;

use sim::Net;

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

/// Views are checked this often (the figures' resolution).
const TICK: Duration = Duration::from_millis(100);

/// The node IDs of every node not in `gone`: what every view should hold.
fn expected(net: &Net, gone: &BTreeSet<usize>) -> BTreeSet<String> {
    (0..net.nodes.len())
        .filter(|i| !gone.contains(i))
        .map(|i| net.nodes[i].id.clone())
        .collect()
}

/// How many of the nodes not in `gone` see exactly `want`.
fn complete_views(net: &Net, gone: &BTreeSet<usize>, want: &BTreeSet<String>) -> usize {
    net.nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .filter(|(_, n)| n.log.view.len() == want.len() && n.log.view.keys().eq(want.iter()))
        .count()
}

/// Runs until every node not in `gone` sees every other one; returns how long that took.
fn converge(net: &mut Net, gone: &BTreeSet<usize>, what: &str, limit: Duration) -> Duration {
    let start = net.now;
    let want = expected(net, gone);
    let live = net.nodes.len() - gone.len();
    loop {
        let complete = complete_views(net, gone, &want);
        if complete == live {
            return net.now - start;
        }
        assert!(
            net.now - start < limit,
            "{what}: after {:?} only {complete} of {live} views are complete",
            net.now - start
        );
        let next = net.now + TICK;
        net.run_until(next);
    }
}

#[test]
fn database_views_converge_after_start_global_loss_and_partition() {
    let nodes: usize = std::env::var("AEMP_SCALE_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let limit = Duration::from_secs(120);
    let mut gone = BTreeSet::new();
    let heap_before = heap::live();
    let mut net = Net::new(7, nodes, 2);

    let started = converge(&mut net, &gone, "start", limit);
    let heap = heap::live() - heap_before;
    let (links, db_bytes) = net.nodes.iter().fold((0, 0), |(l, d), n| {
        let s = n.core.stats();
        (l + s.links, d + s.db_bytes)
    });

    // Global node n0 dies: its connections reset, it never comes back.
    net.partition(0, Duration::from_secs(24 * 3600));
    gone.insert(0);
    let after_global_loss = converge(&mut net, &gone, "global lost", limit);

    // A tenth of the nodes are cut off for 20 s (each from all others), then heal.
    let cut: Vec<usize> = (nodes - nodes / 10..nodes).collect();
    for &n in &cut {
        net.partition(n, Duration::from_secs(20));
    }
    net.run_until(net.now + Duration::from_secs(20));
    let after_heal = converge(&mut net, &gone, "partition healed", limit);

    println!(
        "{nodes} nodes, 2 globals: views complete {started:?} after start, \
         {after_global_loss:?} after a global died, {after_heal:?} after a partition of \
         {} nodes healed",
        cut.len()
    );
    println!(
        "memory after start: {} KiB in all, {} KiB per node, {} links ({} B per link if all \
         were theirs), database entries {} KiB in all",
        heap / 1024,
        heap / nodes / 1024,
        links,
        heap / links.max(1),
        db_bytes / 1024
    );
}
