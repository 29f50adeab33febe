//! The suite against this project's own node (`aemp-node`) started in-process as a seed:
//! zero failures expected, in both framings.

mod common;

use std::sync::Arc;

use aemp_conformance::cases::{self, Case, Group};
use aemp_conformance::{run, Ctx, Options, Report, Status};
use aemp_proto::Framing;

use common::{start_seed, start_seed_speaking, SECRET};

/// Runs the cases `select` picks against `target`, in `framing`.
fn run_cases(target: String, framing: Framing, select: impl Fn(&Case) -> bool) -> Report {
    let ctx = Ctx::new(Options {
        target,
        secret: SECRET.as_bytes().to_vec(),
        target_is_seed: true,
        framing,
        only: None,
    })
    .expect("ctx");
    let selected: Vec<_> = cases::all().into_iter().filter(|c| select(c)).collect();
    run(Arc::new(ctx), &selected, |case| {
        eprintln!("{}", case.line())
    })
}

fn run_suite(framing: Framing, with_ordering: bool) {
    let (node, target) = start_seed();
    let report = run_cases(target, framing, |c| {
        with_ordering || c.group != Group::Ordering
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

#[test]
fn cases_of_a_framing_the_target_does_not_offer_are_skipped() {
    let (node, target) = start_seed_speaking(&[Framing::Json]);
    let report = run_cases(target, Framing::Json, |c| c.name.contains("framing"));
    node.shutdown();
    let status = |name: &str| {
        report
            .cases
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status)
            .unwrap_or_else(|| panic!("{name} did not run"))
    };
    assert_eq!(status("handshake_framing_json"), Status::Pass);
    for name in [
        "handshake_framing_cbor",
        "handshake_framing_json_out_cbor_back",
        "handshake_framing_cbor_out_json_back",
    ] {
        assert_eq!(status(name), Status::Skip, "{name}");
    }
}
