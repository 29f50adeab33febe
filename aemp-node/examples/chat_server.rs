//! The chat server of the original's tutorial (part 2): it registers its port in the
//! global database under `eg_chat_server`, relays every message to all clients, and
//! monitors each client so that it notices when one goes away.
//!
//! ```text
//! cargo run -p aemp-node --example chat_server
//! cargo run -p aemp-node --example chat_client -- nick1
//! cargo run -p aemp-node --example chat_client -- nick2
//! ```
//!
//! Without a configuration file the server is its own seed, listening on 127.0.0.1:4040,
//! with the secret `aemp-example`. With one (e.g. after `aemp profile seed binds "*:4040"`
//! and `aemp seeds "*:4040"`, running the seed with `aemp run profile seed`), the file's
//! settings win, as in the original.

#[path = "common/logging.rs"]
mod logging;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aemp_node::{Node, PortId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("info");
    let node = Node::builder()
        .secret("aemp-example")
        .binds(["127.0.0.1:4040"])
        .seeds(["127.0.0.1:4040"])
        .start()?;

    let clients: Arc<Mutex<HashSet<PortId>>> = Arc::default();
    let relay = {
        let (node, clients) = (node.clone(), clients.clone());
        move |text: String| {
            println!("relaying: {text}");
            for client in clients.lock().unwrap().iter() {
                let _ = node.snd(client, (text.as_str(),));
            }
        }
    };

    let server = node.port();
    {
        let (n, relay) = (node.clone(), relay.clone());
        node.rcv_tag(&server, "join", move |msg| -> Result<(), String> {
            let (client, nick): (PortId, String) = msg.decode().map_err(|e| e.to_string())?;
            clients.lock().unwrap().insert(client.clone());
            let (clients, quit_relay, quit_nick) = (clients.clone(), relay.clone(), nick.clone());
            let gone = client.clone();
            n.mon(&client, move |reason| {
                clients.lock().unwrap().remove(&gone);
                quit_relay(format!("{quit_nick} (quits, {reason})"));
            })
            .detach();
            relay(format!("{nick} (joins)"));
            Ok(())
        })?;
    }
    node.rcv_tag(&server, "privmsg", move |msg| -> Result<(), String> {
        let (nick, text): (String, String) = msg.decode().map_err(|e| e.to_string())?;
        relay(format!("{nick}: {text}"));
        Ok(())
    })?;

    node.db_set("eg_chat_server", server.as_str(), ())?.detach();
    println!("server ready on node {}.", node.node_id());
    futures_lite::future::block_on(node.stopped());
    Ok(())
}
