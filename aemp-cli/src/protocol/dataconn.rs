//! `aemp dataconn <node> <function> [<arg...>]`: open a data connection to a node, whose
//! data function runs with the arguments; copy standard input to it and what comes back
//! to standard output, until both directions are done.

use std::io::Write;
use std::process::ExitCode;

use aemp_node::DataStream;
use futures_lite::future::block_on;
use futures_lite::io::{BlockOn, ReadHalf, WriteHalf};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::client::{message, required, start_node, stop_node, TIMEOUT};
use crate::error::CliError;

/// Bytes copied at a time in each direction.
const CHUNK: usize = 64 << 10;

/// Runs the copy; fails naming why when the connection cannot be opened or breaks.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let mut args = args.into_iter();
    let target = required("dataconn", "node", args.next())?;
    let func = required("dataconn", "function", args.next())?;
    let values = message(args)?;
    let node = start_node()?;
    let opened = block_on(node.connect_data(target.as_str(), TIMEOUT, &func, values));
    let result = match opened {
        Ok(stream) => copy_both_ways(stream)
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| CliError::Failed(format!("dataconn {target}: {e}"))),
        Err(e) => Err(CliError::Failed(format!("dataconn {target} {func}: {e}"))),
    };
    stop_node(&node);
    result
}

/// Standard input to the stream (on a thread of its own), the stream to standard output.
fn copy_both_ways(stream: DataStream) -> std::io::Result<()> {
    tracing::info!(id = stream.id(), node = %stream.node(), encrypted = stream.encrypted(), "data connection open");
    let (reader, writer) = futures_lite::io::split(stream);
    let sending = std::thread::spawn(move || send_stdin(writer));
    receive_to_stdout(reader)?;
    sending
        .join()
        .map_err(|_| std::io::Error::other("the sending thread panicked"))?
}

fn send_stdin(writer: WriteHalf<DataStream>) -> std::io::Result<()> {
    let mut writer = BlockOn::new(writer);
    std::io::copy(&mut std::io::stdin().lock(), &mut writer)?;
    block_on(writer.into_inner().close())
}

/// Copies in chunks, each flushed at once (standard output may be line-buffered, and a
/// netcat shows what arrives as it arrives).
fn receive_to_stdout(mut reader: ReadHalf<DataStream>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0; CHUNK];
    loop {
        let n = block_on(reader.read(&mut buf))?;
        if n == 0 {
            return Ok(());
        }
        stdout.write_all(&buf[..n])?;
        stdout.flush()?;
    }
}
