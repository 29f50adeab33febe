//! The selective-receive file writer of the original's tutorial (part 4, Coro::MP): a
//! server port takes `("write_file", source, path)` followed by `("data", source, bytes)`
//! messages, ending with an empty `data`. It writes one file at a time; requests and data
//! of other sources wait in the port's queue until their turn.
//!
//! ```text
//! cargo run -p aemp-node --example file_writer
//! ```

use std::io::Write;
use std::time::Duration;

use aemp_node::{AsyncPort, Node, PortId, RecvError};

/// The server loop: `get_cond` becomes `recv_matching`.
async fn ioserver(mut port: AsyncPort) -> Result<(), String> {
    loop {
        let request = match port.recv().await {
            Ok(m) => m,
            Err(RecvError::PortDied(_)) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let (tag, source, path): (String, PortId, String) =
            request.decode().map_err(|e| e.to_string())?;
        if tag != "write_file" {
            return Err(format!("only write_file messages expected, got {tag}"));
        }
        let mut file = std::fs::File::create(&path).map_err(|e| format!("{path}: {e}"))?;
        loop {
            let is_data_from_source = |m: &aemp_node::Message| {
                m.tag() == Some("data")
                    && m.get(1).and_then(|v| v.as_str()) == Some(source.as_str())
            };
            let msg = port
                .recv_matching(is_data_from_source, Some(Duration::from_secs(5)))
                .await
                .map_err(|e| format!("waiting for data from {source}: {e}"))?;
            let (_, _, data): (String, String, String) = msg.decode().map_err(|e| e.to_string())?;
            if data.is_empty() {
                break;
            }
            file.write_all(data.as_bytes())
                .map_err(|e| format!("{path}: {e}"))?;
        }
        println!("wrote {path}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::builder()
        .norc()
        .secret("aemp-example")
        .binds(Vec::<String>::new())
        .start()?;
    let port = node.async_port();
    let server = port.id().clone();
    let (tx, rx) = std::sync::mpsc::channel();
    node.mon(&server, move |reason| tx.send(reason).unwrap())
        .detach();

    // Two writers whose messages interleave: the server still writes one file at a time.
    let dir = std::env::temp_dir();
    let (a, b) = (node.port(), node.port());
    let (path_a, path_b) = (dir.join("aemp-writer-a.txt"), dir.join("aemp-writer-b.txt"));
    node.snd(&server, ("write_file", &a, path_a.to_string_lossy()))?;
    node.snd(&server, ("write_file", &b, path_b.to_string_lossy()))?;
    node.snd(&server, ("data", &b, "second file\n"))?;
    node.snd(&server, ("data", &a, "first file, "))?;
    node.snd(&server, ("data", &b, ""))?;
    node.snd(&server, ("data", &a, "two chunks\n"))?;
    node.snd(&server, ("data", &a, ""))?;

    let task = node.in_port_context(&server, ioserver(port));
    let done = std::thread::spawn(move || futures_lite::future::block_on(task));
    std::thread::sleep(Duration::from_millis(300));
    node.kil(&server, aemp_node::Reason::normal());
    done.join().unwrap().ok();
    println!(
        "ioserver ended: {}",
        rx.recv_timeout(Duration::from_secs(5))?
    );
    print!(
        "{}{}",
        std::fs::read_to_string(&path_a)?,
        std::fs::read_to_string(&path_b)?
    );
    node.shutdown();
    Ok(())
}
