//! Statistics: `Node::stats` and the named call other nodes ask them with.

mod common;

use aemp_node::{PeerState, Value, STATS_FUNCTION};
use common::{builder, member, next, seed};

#[test]
fn stats_show_peers_with_their_sessions_and_traffic() {
    let (seed, addr) = seed();
    let a = member(builder("a"), &seed, &addr);
    let port = seed.port();
    for i in 0..10 {
        a.snd(&port, ("hello", i)).unwrap();
    }
    common::eventually("the messages to arrive", || {
        seed.stats()
            .peers
            .iter()
            .any(|p| p.node == "a" && p.traffic.packets_in >= 10)
    });
    let stats = a.stats();
    assert_eq!(stats.node, "a");
    assert!(stats.core.uptime_secs > 0.0);
    assert_eq!(stats.core.master.as_deref(), Some("seed"));
    let s = stats.peers.iter().find(|p| p.node == "seed").unwrap();
    assert_eq!(s.state, PeerState::Up);
    assert_eq!(s.outgoing, Some(true));
    assert_eq!(s.auth.as_deref(), Some("hmac_sha3_512"));
    assert!(s.send_framing.is_some() && s.recv_framing.is_some());
    assert!(s.provider.as_deref().unwrap().starts_with("aemp-rs-"));
    assert!(s.traffic.packets_out >= 10 && s.traffic.bytes_out > s.traffic.bytes_in / 2);
    assert!(stats.core.nodes_up >= 1);
    a.shutdown();
    seed.shutdown();
}

#[test]
fn a_node_answers_the_statistics_call() {
    let (seed, addr) = seed();
    let a = member(builder("a"), &seed, &addr);
    let (reply, rx) = common::inbox(&a);
    a.snd_to_func("seed", STATS_FUNCTION, (&reply,)).unwrap();
    let answer = next(&rx);
    let Some(Value::Map(fields)) = answer.first() else {
        panic!("a map of statistics: {answer:?}");
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
    };
    assert_eq!(field("node"), Some(&Value::from("seed")));
    assert_eq!(field("global"), Some(&Value::Bool(true)));
    assert!(matches!(field("peers"), Some(Value::Array(p)) if !p.is_empty()));
    a.shutdown();
    seed.shutdown();
}
