//! The chat of the original's tutorial, part 3 ("virtual connections"): instead of a
//! server port that every client sends to, each client `spawn`s its own port on the
//! server's node (the bridge head), with the init function `chat::client_connect`. The
//! two ports monitor each other, so when either side goes away the other is cleaned up.
//!
//! ```text
//! cargo run -p aemp-node --example chat_spawn -- server
//! cargo run -p aemp-node --example chat_spawn -- client nick1
//! cargo run -p aemp-node --example chat_spawn -- client nick2
//! ```
//!
//! The server is its own seed on 127.0.0.1:4040 with the secret `aemp-example`, and
//! registers its node ID under `eg_chat_server2`.

#[path = "common/logging.rs"]
mod logging;

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::{Arc, Mutex};

use aemp_node::{Node, PortId};

/// The database family the server registers its node ID in.
const FAMILY: &str = "eg_chat_server2";

/// The clients the server relays to.
type Clients = Arc<Mutex<HashSet<PortId>>>;

fn relay(node: &Node, clients: &Clients, text: &str) {
    println!("relaying: {text}");
    for client in clients.lock().unwrap().iter() {
        let _ = node.snd(client, (text,));
    }
}

/// The init function run in the spawned port: link it with the client, relay its lines.
fn client_connect(
    node: &Node,
    me: PortId,
    args: Vec<aemp_node::Value>,
    clients: &Clients,
) -> Result<(), String> {
    let (client, nick): (PortId, String) =
        aemp_proto::from_values(args).map_err(|e| format!("client_connect arguments: {e}"))?;
    node.mon_link(&client, &me).detach();
    let (n, cl, gone, quit_nick) = (node.clone(), clients.clone(), client.clone(), nick.clone());
    node.mon(&client, move |reason| {
        cl.lock().unwrap().remove(&gone);
        relay(&n, &cl, &format!("{quit_nick} (quits, {reason})"));
    })
    .detach();
    clients.lock().unwrap().insert(client);
    relay(node, clients, &format!("{nick} (joins)"));
    let (n, cl) = (node.clone(), clients.clone());
    node.rcv(&me, move |msg| -> Result<(), String> {
        let (text,): (String,) = msg.decode().map_err(|e| e.to_string())?;
        relay(&n, &cl, &format!("{nick}: {text}"));
        Ok(())
    })
    .map_err(|e| e.to_string())
}

fn server() -> Result<(), Box<dyn std::error::Error>> {
    let clients: Clients = Arc::default();
    let cl = clients.clone();
    let node = Node::builder()
        .secret("aemp-example")
        .binds(["127.0.0.1:4040"])
        .seeds(["127.0.0.1:4040"])
        .register_init("chat::client_connect", move |node, me, args| {
            client_connect(node, me, args, &cl)
        })
        .start()?;
    node.db_set(FAMILY, node.node_id(), ())?.detach();
    println!("server ready on node {}.", node.node_id());
    futures_lite::future::block_on(node.stopped());
    Ok(())
}

fn client(nick: &str) -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::builder()
        .secret("aemp-example")
        .binds(["127.0.0.1:0"])
        .seeds(["127.0.0.1:4040"])
        .start()?;
    let bridge: Arc<Mutex<Option<PortId>>> = Arc::default();
    let (n, b, nick_owned) = (node.clone(), bridge.clone(), nick.to_owned());
    let _watch = node.db_mon(FAMILY, move |change| {
        let Some(server_node) = change.family.keys().next() else {
            return;
        };
        if b.lock().unwrap().is_some() {
            return;
        }
        let me = n.port_with(|msg| {
            let text: Vec<&str> = msg.iter().filter_map(|v| v.as_str()).collect();
            println!("{}", text.join(" "));
        });
        let Ok(head) = n.spawn(
            server_node,
            "chat::client_connect",
            (&me, nick_owned.as_str()),
        ) else {
            return;
        };
        n.mon_link(&head, &me).detach();
        let b2 = b.clone();
        n.mon(&me, move |reason| {
            println!("disconnected {reason}");
            b2.lock().unwrap().take();
        })
        .detach();
        *b.lock().unwrap() = Some(head);
    });
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        match bridge.lock().unwrap().as_ref() {
            Some(head) => node.snd(head, (line,))?,
            None => println!("(not connected to a server yet)"),
        }
    }
    node.shutdown();
    futures_lite::future::block_on(node.stopped());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["server"] => server(),
        ["client", nick] => client(nick),
        _ => Err("usage: chat_spawn server | chat_spawn client NICK".into()),
    }
}
