//! The suite against this project's own node (`aemp-node`) started in-process as a seed:
//! zero failures expected, in both framings.

mod common;

use std::sync::Arc;

use aemp_conformance::cases::{self, Group};
use aemp_conformance::{run, Ctx, Options, Status};
use aemp_proto::Framing;

use common::{start_seed, SECRET};

fn run_suite(framing: Framing, with_ordering: bool) {
    let (node, target) = start_seed();
    let ctx = Ctx::new(Options {
        target,
        secret: SECRET.as_bytes().to_vec(),
        target_is_seed: true,
        framing,
        only: None,
    })
    .expect("ctx");
    let selected: Vec<_> = cases::all()
        .into_iter()
        .filter(|c| with_ordering || c.group != Group::Ordering)
        .collect();
    let report = run(Arc::new(ctx), &selected, |case| {
        eprintln!("{}", case.line())
    });
    node.shutdown();
    let not_passed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.status != Status::Pass)
        .map(|c| c.line())
        .collect();
    assert!(
        not_passed.is_empty(),
        "not passed:\n{}",
        not_passed.join("\n")
    );
}

#[test]
fn every_case_passes_against_our_seed_node_in_cbor() {
    run_suite(Framing::Cbor, true);
}

#[test]
fn every_non_ordering_case_passes_against_our_seed_node_in_json() {
    run_suite(Framing::Json, false);
}
