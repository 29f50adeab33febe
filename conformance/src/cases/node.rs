//! Requests to the node port (`["", tag, ...]`).

use std::time::Duration;

use aemp_proto::protocol::Request;
use aemp_proto::{Framing, Value};

use super::{Case, Group};
use crate::client::{unix_now, Peer};
use crate::ctx::Ctx;
use crate::outcome::{ensure, CaseResult, Failure};
use crate::packet;
use crate::values::{is_request, same_packet, show, show_all, str_at};

pub(crate) fn cases() -> Vec<Case> {
    let case = |name, run| Case::new(name, Group::Node, run);
    vec![
        case("node_time", time),
        case("node_can_known_request", can_known),
        case("node_can_unknown_request", can_unknown),
        case("node_snd_relay", snd_relay),
        case("node_mon1_missing_port", mon1_missing_port),
        case("node_kil1_missing_port_harmless", kil1_missing_port),
        case("node_mon0_unmonitored_harmless", mon0_unmonitored),
        case("node_devnull_ignored", devnull),
        case("node_keepalive_empty_packet", |ctx| {
            ignored(ctx, Vec::new())
        }),
        case("node_keepalive_empty_tag", |ctx| {
            ignored(ctx, packet!["", ""])
        }),
        case("node_unknown_request_harmless", |ctx| {
            // Perl treats an unknown tag as a function name to load: a name with a package
            // that does not exist only logs "unable to resolve function".
            ignored(ctx, packet!["", "AEMPConformance::no_such_function", 1])
        }),
        case("node_malformed_packet_survived", malformed_packet),
    ]
}

/// How far the target's clock may be from ours.
const CLOCK_SLACK: f64 = 300.0;

/// `["", "time", REPLY...]` is answered with `[REPLY..., seconds since the epoch]` (a float
/// in the original; any number is accepted).
fn time(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let (name, id) = peer.new_port();
    let reply = packet![id, "tag", "extra"];
    peer.send(Request::Time { reply }.into_packet())?;
    let what = format!("[\"{name}\",\"tag\",\"extra\",<seconds since the epoch>]");
    let reply = peer.reply(&name, &what)?;
    let now = unix_now();
    match reply.as_slice() {
        [_, tag, extra, t] if tag.as_str() == Some("tag") && extra.as_str() == Some("extra") => {
            let t = t
                .as_f64()
                .ok_or_else(|| Failure::expected(what.clone(), show(&reply)))?;
            ensure(
                (t - now).abs() <= CLOCK_SLACK,
                format!("a time within {CLOCK_SLACK} s of ours ({now:.3})"),
                || format!("{t:.3}"),
            )
        }
        _ => Err(Failure::expected(what, show(&reply))),
    }
}

/// `["", "can", TAG, REPLY...]` is answered with `[REPLY..., "1"]` or `[REPLY..., ""]`:
/// Perl truth values, strings on the wire.
fn can(ctx: &Ctx, tag: &str, answer: &str) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let (name, id) = peer.new_port();
    let request = Request::Can {
        request: tag.to_owned(),
        reply: packet![id, "can_reply"],
    };
    peer.send(request.into_packet())?;
    let expected = packet![name.as_str(), "can_reply", answer];
    let what = show(&expected);
    let reply = peer.reply(&name, &what)?;
    ensure(same_packet(&expected, &reply), what, || show(&reply))
}

fn can_known(ctx: &Ctx) -> CaseResult {
    can(ctx, "mon1", "1")
}

fn can_unknown(ctx: &Ctx) -> CaseResult {
    can(ctx, "conformance_no_such_request", "")
}

/// `["", "snd", PORTID, msg...]` relays msg to PORTID (here: back to us, over this very
/// connection).
fn snd_relay(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let (name, id) = peer.new_port();
    let request = Request::Send {
        port: id,
        msg: packet!["relayed", 7],
    };
    peer.send(request.into_packet())?;
    let expected = packet![name.as_str(), "relayed", 7];
    let what = show(&expected);
    let reply = peer.reply(&name, &what)?;
    ensure(same_packet(&expected, &reply), what, || show(&reply))
}

/// Monitoring a port that does not exist is answered at once with
/// `["", "kil0", P, "no_such_port", "cannot monitor nonexistent port", "<target>#P"]`.
fn mon1_missing_port(ctx: &Ctx) -> CaseResult {
    let target = ctx.target_id()?;
    let mut peer = Peer::fresh(ctx)?;
    let port = ctx.unique("nosuchport");
    peer.send(Request::Monitor { port: port.clone() }.into_packet())?;
    let expected = packet![
        "",
        "kil0",
        port.as_str(),
        "no_such_port",
        "cannot monitor nonexistent port",
        format!("{target}#{port}"),
    ];
    let what = show(&expected);
    let got = peer.expect(&what, crate::ctx::WAIT, |p| {
        is_request(p, "kil0") && str_at(p, 2) == Some(port.as_str())
    })?;
    ensure(same_packet(&expected, &got), what, || show(&got))
}

/// Checks that the connection still answers a time request and that nothing was sent to
/// `quiet_port` meanwhile.
fn still_works(peer: &mut Peer, quiet_port: Option<&str>) -> CaseResult {
    peer.time()?;
    let stray: Vec<Vec<Value>> = peer
        .skipped()
        .iter()
        .filter(|p| quiet_port.is_some_and(|q| str_at(p, 0) == Some(q)))
        .cloned()
        .collect();
    ensure(stray.is_empty(), "no reply to the ignored request", || {
        show_all(&stray, 3)
    })
}

/// Killing a port that does not exist changes nothing.
fn kil1_missing_port(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let port = ctx.unique("nosuchport");
    peer.send(packet![
        "",
        "kil1",
        port.as_str(),
        "conformance",
        "harmless"
    ])?;
    still_works(&mut peer, None)?;
    let kil0: Vec<Vec<Value>> = peer
        .skipped()
        .iter()
        .filter(|p| is_request(p, "kil0"))
        .cloned()
        .collect();
    ensure(
        kil0.is_empty(),
        "no kil0 for a port nobody monitors",
        || show_all(&kil0, 3),
    )
}

/// Stopping a monitor that was never started changes nothing.
fn mon0_unmonitored(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let port = ctx.unique("nosuchport");
    peer.send(Request::Unmonitor { port }.into_packet())?;
    still_works(&mut peer, None)
}

/// `["", "devnull", ...]` is ignored, even when it names a port of ours.
fn devnull(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let (name, id) = peer.new_port();
    peer.send(packet!["", "devnull", id, "dropped"])?;
    still_works(&mut peer, Some(&name))
}

/// A packet that must be ignored without harm.
fn ignored(ctx: &Ctx, packet: Vec<Value>) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    peer.send(packet)?;
    still_works(&mut peer, None)
}

/// Bytes that no decoder of the framing accepts (and that do not decode to a non-array).
fn garbage(framing: Framing) -> &'static [u8] {
    match framing {
        // Reserved additional-information values 28..30 and a stray break.
        Framing::Cbor | Framing::Fast => &[0x1c, 0x1d, 0x1e, 0xff, 0xff],
        Framing::Json => b"}{ this is not json ]\n",
    }
}

/// Undecodable bytes after authentication do not take the target down: a new connection
/// works afterwards. (The original logs the decoder error and leaves that connection open
/// but no longer reading; the spec asks to close it. Both are accepted.)
fn malformed_packet(ctx: &Ctx) -> CaseResult {
    let mut bad = Peer::fresh(ctx)?;
    bad.time()?;
    bad.send_raw(garbage(bad.session().send_framing))?;
    std::thread::sleep(Duration::from_millis(100));
    let mut fresh = Peer::fresh(ctx).map_err(|f| match f {
        Failure::Mismatch { got, .. } => Failure::expected(
            "a new connection to work after malformed input on another",
            got,
        ),
        skip => skip,
    })?;
    fresh.time().map(drop)
}
