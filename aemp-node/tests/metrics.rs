//! Feature `metrics`: the statistics reach a `metrics` recorder.
#![cfg(feature = "metrics")]

mod common;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[test]
fn a_node_exports_its_statistics_to_the_metrics_recorder() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();
    let node = common::builder("metered")
        .binds(["127.0.0.1:0"])
        .start()
        .unwrap();
    node.port();
    let ports = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(key, ..)| key.key().name() == "aemp_ports")
        .map(|(key, _, _, value)| {
            (
                key.key()
                    .labels()
                    .map(|l| l.value().to_owned())
                    .collect::<Vec<_>>(),
                value,
            )
        });
    let Some((labels, DebugValue::Gauge(_))) = ports else {
        panic!("no aemp_ports gauge: {ports:?}");
    };
    assert_eq!(labels, ["metered"]);
    node.shutdown();
}
