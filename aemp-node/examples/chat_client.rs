//! The chat client of the original's tutorial (part 2): it finds the server through the
//! global database (`db_mon eg_chat_server`), joins with a port of its own, and links that
//! port to the server's (symmetric monitoring): when the server goes away the client port
//! dies, and the client looks for a server again. Lines typed on stdin are sent as
//! `privmsg`.
//!
//! ```text
//! cargo run -p aemp-node --example chat_client -- NICK
//! ```
//!
//! See the `chat_server` example for the seed and the secret.

#[path = "common/logging.rs"]
mod logging;

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aemp_node::{Node, PortId, WatchGuard};

/// The client's view: the server it talks to, and the watch looking for one.
#[derive(Default)]
struct State {
    server: Mutex<Option<PortId>>,
    watch: Mutex<Option<WatchGuard>>,
}

/// Waits for a server in the database, then joins it (the original's `server_connect`).
fn server_connect(node: &Node, nick: &str, state: &Arc<State>) {
    let done = Arc::new(AtomicBool::new(false));
    let (n, nick, st) = (node.clone(), nick.to_owned(), state.clone());
    let guard = node.db_mon("eg_chat_server", move |change| {
        let Some(server) = change.family.keys().next() else {
            return;
        };
        if done.swap(true, Ordering::AcqRel) {
            return;
        }
        st.watch.lock().unwrap().take();
        println!("connecting to server...");
        let server = PortId::from(server.as_str());
        let client = n.port_with(|msg| {
            let text: Vec<String> = msg
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            println!("{}", text.join(" "));
        });
        let (n2, nick2, st2) = (n.clone(), nick.clone(), st.clone());
        n.mon(&client, move |reason| {
            println!("disconnected {reason}");
            st2.server.lock().unwrap().take();
            server_connect(&n2, &nick2, &st2);
        })
        .detach();
        *st.server.lock().unwrap() = Some(server.clone());
        let _ = n.snd(&server, ("join", &client, nick.as_str()));
        n.mon_link(&server, &client).detach();
    });
    *state.watch.lock().unwrap() = Some(guard);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn");
    let nick = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "anonymous".into());
    let node = Node::builder()
        .secret("aemp-example")
        .binds(["127.0.0.1:0"])
        .seeds(["127.0.0.1:4040"])
        .start()?;
    let state = Arc::new(State::default());
    server_connect(&node, &nick, &state);

    for line in std::io::stdin().lock().lines() {
        let line = line?;
        match state.server.lock().unwrap().as_ref() {
            Some(server) => node.snd(server, ("privmsg", nick.as_str(), line))?,
            None => println!("(not connected to a server yet)"),
        }
    }
    node.shutdown();
    futures_lite::future::block_on(node.stopped());
    Ok(())
}
