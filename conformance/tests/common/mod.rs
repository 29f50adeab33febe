//! A seed node for the tests: this project's own node (`aemp-node`), started in-process.

use std::net::TcpListener;

use aemp_node::Node;
use aemp_proto::Framing;

/// The shared secret of the test seed.
pub const SECRET: &str = "self-check-secret";

/// The test seed's node ID.
pub const SEED_ID: &str = "self-check-seed";

/// Starts a seed node on an ephemeral loopback port (its seeds include its own address, so
/// it runs the global service); returns it and its address.
pub fn start_seed() -> (Node, String) {
    start_seed_speaking(&Framing::ALL)
}

/// Like [`start_seed`], offering only `framings`.
pub fn start_seed_speaking(framings: &[Framing]) -> (Node, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let node = Node::builder()
        .norc()
        .secret(SECRET)
        .node_id(SEED_ID)
        .listener(listener)
        .seeds([addr.as_str()])
        .framings(framings)
        .start()
        .expect("start the seed node");
    (node, addr)
}
