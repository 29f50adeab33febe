//! Runs the suite against this project's sans-IO node core, configured as a seed (see
//! `common`). This checks the suite's own client code end to end; the real node binary gets
//! its own check once it exists.

mod common;

use std::sync::Arc;

use aemp_conformance::cases::{self, Group};
use aemp_conformance::{run, Ctx, Options, Status};
use aemp_proto::Framing;

use common::{spawn_seed, SECRET};

fn run_suite(framing: Framing, with_ordering: bool) {
    let ctx = Ctx::new(Options {
        target: spawn_seed(),
        secret: SECRET.to_vec(),
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
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.status != Status::Pass)
        .map(|c| c.line())
        .collect();
    assert!(failed.is_empty(), "not passed:\n{}", failed.join("\n"));
}

#[test]
fn every_case_passes_against_the_node_core_in_cbor() {
    run_suite(Framing::Cbor, true);
}

#[test]
fn every_non_ordering_case_passes_against_the_node_core_in_json() {
    run_suite(Framing::Json, false);
}
