//! Many messages relayed through the target arrive complete and in order.

use std::thread;
use std::time::{Duration, Instant};

use aemp_proto::protocol::Request;
use aemp_proto::{Framing, Value};

use super::{Case, Group};
use crate::client::{Peer, PeerSetup};
use crate::ctx::Ctx;
use crate::outcome::{CaseResult, Failure};
use crate::values::{show, str_at};

/// How many messages each ordering case relays.
pub const COUNT: i64 = 100_000;

/// How long an ordering case may take.
pub const ORDERING_TIMEOUT: Duration = Duration::from_secs(120);

/// Messages per write.
const BATCH: i64 = 1_000;

pub(crate) fn cases() -> Vec<Case> {
    let case = |name, run| Case {
        timeout: ORDERING_TIMEOUT,
        ..Case::new(name, Group::Ordering, run)
    };
    vec![
        case("ordering_100k_cbor", |ctx| ordering(ctx, Framing::Cbor)),
        case("ordering_100k_json", |ctx| ordering(ctx, Framing::Json)),
    ]
}

/// Sends `["", "snd", "<us>#seq", n]` for n = 0..COUNT in big batches from a writer thread
/// while this thread reads `["seq", n]` back, checking each n is the next one.
fn ordering(ctx: &Ctx, framing: Framing) -> CaseResult {
    ctx.require_framings(&[framing])?;
    let mut setup = PeerSetup::new(ctx);
    setup.framings = vec![framing];
    let mut peer = Peer::connect(ctx, setup)?;
    peer.time()?;
    let port = peer.port_id("seq");
    let deadline = Instant::now() + ORDERING_TIMEOUT - Duration::from_secs(1);
    let mut writer = peer.writer()?;
    let sender = thread::spawn(move || {
        let mut n = 0;
        while n < COUNT {
            let batch: Vec<Vec<Value>> = (n..(n + BATCH).min(COUNT))
                .map(|i| {
                    let msg = vec![Value::from(i)];
                    Request::Send {
                        port: port.clone(),
                        msg,
                    }
                    .into_packet()
                })
                .collect();
            let left = deadline.saturating_duration_since(Instant::now());
            writer
                .write_batch(&batch, left.max(Duration::from_millis(1)))
                .map_err(|e| format!("write error after {n} messages: {e}"))?;
            n += BATCH;
        }
        Ok::<(), String>(())
    });
    let received = receive_sequence(&mut peer, deadline);
    drop(peer); // shuts the socket down, so a stuck writer ends too
    let written = sender
        .join()
        .unwrap_or_else(|_| Err("the writer thread panicked".into()));
    received?;
    written.map_err(|e| Failure::expected(format!("to write {COUNT} messages"), e))
}

/// Reads until `["seq", COUNT - 1]`; other packets for the node port and keepalives are
/// skipped.
fn receive_sequence(peer: &mut Peer, deadline: Instant) -> CaseResult {
    let what = |next: i64| format!("[\"seq\",{next}] (messages 0..{COUNT} in order)");
    let mut next = 0;
    while next < COUNT {
        match peer.recv(deadline) {
            Ok(Some(p)) if str_at(&p, 0) == Some("seq") => {
                if p.len() != 2 || p[1].as_i64() != Some(next) {
                    return Err(Failure::expected(what(next), show(&p)));
                }
                next += 1;
            }
            Ok(Some(p)) if p.is_empty() || str_at(&p, 0) == Some("") => {}
            Ok(Some(p)) => {
                return Err(Failure::expected(
                    what(next),
                    format!("a stray {}", show(&p)),
                ))
            }
            Ok(None) => {
                return Err(Failure::expected(
                    what(next),
                    format!("only {next} messages before the deadline"),
                ))
            }
            Err(reason) => {
                return Err(Failure::expected(
                    what(next),
                    format!("the connection ended after {next} messages: {reason}"),
                ))
            }
        }
    }
    Ok(())
}
