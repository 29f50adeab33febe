//! Bulk transfer: one data connection against one plain TCP connection, in the same run.
//!
//! The second process counts what arrives until the end of the stream and answers with
//! the count (eight bytes, little-endian): through the data function [`SINK_FUNCTION`], and
//! on a raw TCP listener of its own. The first process times the same number of bytes
//! through each, from the first byte written to the count read.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use aemp_node::{DataStream, Node};
use futures_lite::future::block_on;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// The data function of the second process that counts and answers.
pub(crate) const SINK_FUNCTION: &str = "aemp_bench::count";

/// Bytes written per call.
const CHUNK: usize = 64 << 10;

/// Registered on the second process's node: counts on a thread of its own.
pub(crate) fn count_data(_node: &Node, _args: Vec<aemp_node::Value>, stream: DataStream) {
    std::thread::spawn(move || {
        let (mut reader, mut writer) = futures_lite::io::split(stream);
        let counted = block_on(async {
            let total = futures_lite::io::copy(&mut reader, futures_lite::io::sink()).await?;
            writer.write_all(&total.to_le_bytes()).await?;
            writer.close().await?;
            Ok::<u64, std::io::Error>(total)
        });
        if let Err(e) = counted {
            eprintln!("aemp-bench --serve: data sink: {e}");
        }
    });
}

/// The second process's raw TCP sink: counts each connection until its end, answers.
pub(crate) fn serve_raw() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                if let Ok(total) = std::io::copy(&mut stream, &mut std::io::sink()) {
                    let _ = stream.write_all(&total.to_le_bytes());
                }
            });
        }
    });
    Ok(addr)
}

/// Sends `bytes` through a data connection to the second process's sink; the seconds.
pub(crate) fn through_data_connection(
    node: &Node,
    remote: &str,
    bytes: u64,
) -> Result<f64, String> {
    let opened = node.connect_data(remote, Duration::from_secs(10), SINK_FUNCTION, ());
    let stream = block_on(opened).map_err(|e| format!("data connection: {e}"))?;
    let (mut reader, mut writer) = futures_lite::io::split(stream);
    let chunk = vec![0x5a; CHUNK];
    let start = Instant::now();
    let counted = block_on(async {
        let mut left = bytes;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            writer.write_all(&chunk[..n]).await?;
            left -= n as u64;
        }
        writer.close().await?;
        let mut count = [0; 8];
        reader.read_exact(&mut count).await?;
        Ok::<u64, std::io::Error>(u64::from_le_bytes(count))
    })
    .map_err(|e| format!("data connection: {e}"))?;
    check(counted, bytes)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Sends `bytes` over a plain TCP connection to the second process's raw sink; the seconds.
pub(crate) fn through_raw_tcp(addr: &str, bytes: u64) -> Result<f64, String> {
    let fail = |e: std::io::Error| format!("raw TCP: {e}");
    let mut stream = TcpStream::connect(addr).map_err(fail)?;
    let chunk = vec![0x5a; CHUNK];
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        stream.write_all(&chunk[..n]).map_err(fail)?;
        left -= n as u64;
    }
    stream.shutdown(std::net::Shutdown::Write).map_err(fail)?;
    let mut count = [0; 8];
    stream.read_exact(&mut count).map_err(fail)?;
    check(u64::from_le_bytes(count), bytes)?;
    Ok(start.elapsed().as_secs_f64())
}

fn check(counted: u64, sent: u64) -> Result<(), String> {
    if counted == sent {
        Ok(())
    } else {
        Err(format!("the sink counted {counted} bytes of {sent}"))
    }
}
