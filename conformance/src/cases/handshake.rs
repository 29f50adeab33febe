//! Greeting, authentication and framing negotiation.

use std::thread;
use std::time::{Duration, Instant};

use aemp_proto::handshake::{nonce_line, Greeting};
use aemp_proto::Framing;
use base64::Engine as _;

use super::{relay_round_trip, Case, Group};
use crate::client::{ConnectError, Peer, PeerSetup, HMAC};
use crate::ctx::{random_nonce, Ctx, WAIT};
use crate::manual::{exchange, Hello};
use crate::outcome::{ensure, CaseResult, Failure};
use crate::raw::{excerpt, Fill, RawConn};

pub(crate) fn cases() -> Vec<Case> {
    let case = |name, run| Case::new(name, Group::Handshake, run);
    vec![
        case("handshake_greeting_shape", greeting_shape),
        case("handshake_auth_hmac", auth_hmac),
        case("handshake_auth_wrong_secret", wrong_secret),
        case("handshake_echo_attack", echo_attack),
        case("handshake_own_node_id_refused", own_node_id),
        case("handshake_wrong_version_refused", wrong_version),
        case("handshake_wrong_protocol_refused", wrong_protocol),
        case("handshake_overlong_line_refused", overlong_line),
        case("handshake_crlf_line_ends", crlf_line_ends),
        case("handshake_unknown_greeting_keys", unknown_keys),
        case("handshake_unknown_framing_skipped", unknown_framing),
        case("handshake_framing_cbor", |ctx| {
            symmetric(ctx, Framing::Cbor)
        }),
        case("handshake_framing_json", |ctx| {
            symmetric(ctx, Framing::Json)
        }),
        case("handshake_framing_json_out_cbor_back", |ctx| {
            asymmetric(ctx, Framing::Json, Framing::Cbor)
        }),
        case("handshake_framing_cbor_out_json_back", |ctx| {
            asymmetric(ctx, Framing::Cbor, Framing::Json)
        }),
        case("handshake_duplicate_node_id_refused", duplicate_node_id),
    ]
}

/// Line 1 is `aemp;1;<nodeid>;<accept>;<framings>;k=v...` with `mproto=1` and `gproto=1`
/// (every Perl 2.x node sends both), line 2 a base64 nonce (Perl: 66 bytes, 88 characters).
fn greeting_shape(ctx: &Ctx) -> CaseResult {
    let mut conn = RawConn::connect(ctx)?;
    let [line1, line2] = conn.read_greeting(Instant::now() + WAIT)?;
    let text = String::from_utf8(line1.clone())
        .map_err(|_| Failure::expected("greeting line 1 in UTF-8", excerpt(&line1)))?;
    let fields: Vec<&str> = text.split(';').collect();
    let shape = "line 1 of the form aemp;1;<nodeid>;<accept list>;<framings>[;k=v]...";
    ensure(fields.len() >= 5, shape, || format!("{text:?}"))?;
    ensure(fields[0] == "aemp", "protocol field \"aemp\"", || {
        format!("{:?} in {text:?}", fields[0])
    })?;
    ensure(fields[1] == "1", "version field \"1\"", || {
        format!("{:?} in {text:?}", fields[1])
    })?;
    ensure(!fields[2].is_empty(), "a node ID in field 3", || {
        format!("an empty one in {text:?}")
    })?;
    let accept: Vec<&str> = fields[3].split(',').collect();
    ensure(
        accept.contains(&HMAC),
        format!("{HMAC} in the accept list (the target has a secret)"),
        || format!("{:?}", fields[3]),
    )?;
    let framing = ctx.options().framing.name();
    ensure(
        fields[4].split(',').any(|f| f == framing),
        format!("{framing} in the framing list"),
        || format!("{:?}", fields[4]),
    )?;
    let kv: Vec<(&str, &str)> = fields[5..]
        .iter()
        .map(|f| f.split_once('=').unwrap_or((f, "")))
        .collect();
    for key in ["mproto", "gproto"] {
        ensure(
            kv.contains(&(key, "1")),
            format!("{key}=1 among the key=value pairs"),
            || format!("{:?}", &fields[5..]),
        )?;
    }
    let nonce = base64::engine::general_purpose::STANDARD.decode(&line2);
    ensure(
        nonce.as_ref().is_ok_and(|n| n.len() >= 16),
        "line 2 to be a base64 nonce of at least 16 bytes",
        || excerpt(&line2),
    )
}

/// With the right secret the target authenticates us with `hmac_sha3_512` in the framing
/// we asked for, naming the same node ID as in any other greeting.
fn auth_hmac(ctx: &Ctx) -> CaseResult {
    let peer = Peer::fresh(ctx)?;
    let session = peer.session();
    ensure(
        session.method == HMAC,
        format!("the target to authenticate with {HMAC}"),
        || session.method.clone(),
    )?;
    let framing = ctx.options().framing;
    ensure(
        session.recv_framing == framing,
        format!("the target to send {}", framing.name()),
        || session.recv_framing.name().to_owned(),
    )?;
    let target = ctx.target_id()?;
    ensure(
        session.target_id == target,
        format!("the target's node ID {target:?} again"),
        || format!("{:?}", session.target_id),
    )
}

/// An auth line made with the wrong secret: the target closes the connection. The original
/// sends its own auth line first (it answers our greeting before reading our auth line),
/// then closes; nothing may follow that line.
fn wrong_secret(ctx: &Ctx) -> CaseResult {
    let framing = ctx.options().framing;
    let ex = exchange(ctx, Hello::new(ctx, &[framing.name()]))?;
    let mut wrong = ctx.options().secret.clone();
    wrong.extend_from_slice(b"-not-the-secret");
    let line = ex.auth_line(&wrong, framing)?;
    let mut conn = ex.conn;
    // A target that closes while we write has refused us just as well.
    let _ = conn.try_send(format!("{line}\n").as_bytes());
    let rest = conn.wait_closed(WAIT)?;
    let after_auth_line = match rest.iter().position(|&b| b == b'\n') {
        Some(lf) => &rest[lf + 1..],
        None => &rest[..],
    };
    ensure(
        after_auth_line.is_empty(),
        "nothing after the target's own auth line",
        || {
            format!(
                "{} more bytes: {}",
                after_auth_line.len(),
                excerpt(after_auth_line)
            )
        },
    )
}

/// Sending the target its own two greeting lines back (and, if it answers, its own auth
/// line): it must close the connection. The original already refuses at line 1 ("I refuse
/// to talk to myself"); the spec's byte-identical check after line 2 ends the same way.
fn echo_attack(ctx: &Ctx) -> CaseResult {
    let mut conn = RawConn::connect(ctx)?;
    let [line1, line2] = conn.read_greeting(Instant::now() + WAIT)?;
    conn.send(&[line1.as_slice(), b"\n", line2.as_slice(), b"\n"].concat())?;
    let deadline = Instant::now() + WAIT;
    let mut echoed_auth = false;
    loop {
        while let Some(line) = conn.take_line() {
            // Reflect whatever the target says: if it accepts its own auth line, the attack
            // worked and the connection stays open.
            echoed_auth = true;
            if conn.try_send(&[line.as_slice(), b"\n"].concat()).is_err() {
                return Ok(());
            }
        }
        match conn.fill(deadline)? {
            Fill::Data => {}
            Fill::Closed(_) => return Ok(()),
            Fill::Timeout => {
                return Err(Failure::expected(
                    "the target to close the connection of an echoed greeting",
                    if echoed_auth {
                        "it still open after we echoed its own auth line back"
                    } else {
                        "it still open"
                    },
                ))
            }
        }
    }
}

/// Sends `line1` and a fresh nonce after reading the target's greeting, and expects the
/// target to close the connection.
fn refused_line1(ctx: &Ctx, line1: &str) -> CaseResult {
    let mut conn = RawConn::connect(ctx)?;
    conn.read_greeting(Instant::now() + WAIT)?;
    let nonce = nonce_line(&random_nonce());
    // The target may close as soon as it has read line 1.
    let _ = conn.try_send(format!("{line1}\n{nonce}\n").as_bytes());
    conn.wait_closed(WAIT).map(drop)
}

fn line1(ctx: &Ctx, protocol: &str, version: &str, node_id: &str) -> String {
    let greeting = Greeting {
        protocol: protocol.to_owned(),
        node_id: node_id.to_owned(),
        auth_accept: vec![HMAC.into()],
        framings: vec![ctx.options().framing.name().into()],
        kv: ctx.greeting_kv(),
    };
    let line = greeting.to_line();
    // `to_line` always writes version 1: replace the second field.
    format!(
        "{protocol};{version};{}",
        &line[protocol.len() + ";1;".len()..]
    )
}

/// A peer claiming the target's own node ID is refused ("I refuse to talk to myself").
fn own_node_id(ctx: &Ctx) -> CaseResult {
    let target = ctx.target_id()?;
    refused_line1(ctx, &line1(ctx, "aemp", "1", &target))
}

/// Protocol version 2 is refused.
fn wrong_version(ctx: &Ctx) -> CaseResult {
    refused_line1(ctx, &line1(ctx, "aemp", "2", &ctx.fresh_node_id()))
}

/// Another protocol name is refused.
fn wrong_protocol(ctx: &Ctx) -> CaseResult {
    refused_line1(ctx, &line1(ctx, "noaemp", "1", &ctx.fresh_node_id()))
}

/// A greeting line that grows past 4096 bytes without a line end, arriving in several
/// writes, gets the connection closed. (The original enforces the limit through its read
/// buffer, so it only notices a line that has not ended yet: a long line that arrives whole
/// in one read is accepted there, and is therefore not tested.)
fn overlong_line(ctx: &Ctx) -> CaseResult {
    let mut conn = RawConn::connect(ctx)?;
    conn.read_greeting(Instant::now() + WAIT)?;
    let start = line1(ctx, "aemp", "1", &ctx.fresh_node_id()) + ";pad=";
    if conn.try_send(start.as_bytes()).is_err() {
        return Err(Failure::expected(
            "the target to read a normal greeting start",
            "a write error",
        ));
    }
    let chunk = [b'x'; 512];
    for _ in 0..24 {
        thread::sleep(Duration::from_millis(10));
        if conn.try_send(&chunk).is_err() {
            return Ok(()); // closed while we were still writing
        }
    }
    conn.wait_closed(WAIT).map(drop)
}

/// Greeting and auth lines ending in CR LF are accepted.
fn crlf_line_ends(ctx: &Ctx) -> CaseResult {
    let framing = ctx.options().framing;
    let mut hello = Hello::new(ctx, &[framing.name()]);
    hello.eol = "\r\n";
    let mut peer = exchange(ctx, hello)?.authenticate(ctx, framing)?;
    peer.time().map(drop)
}

/// Unknown `key=value` pairs in our greeting are ignored.
fn unknown_keys(ctx: &Ctx) -> CaseResult {
    let mut setup = PeerSetup::new(ctx);
    setup
        .extra_kv
        .push(("conformance_unknown_key".into(), "ignore me".into()));
    let mut peer = Peer::connect(ctx, setup)?;
    peer.time().map(drop)
}

/// A framing name the target does not know, listed first in our greeting, is skipped: the
/// target picks the next one (this is how a faster framing of one implementation coexists
/// with Perl nodes).
fn unknown_framing(ctx: &Ctx) -> CaseResult {
    let framing = ctx.options().framing;
    let hello = Hello::new(ctx, &["conformance-nosuchframing", framing.name()]);
    let mut peer = exchange(ctx, hello)?.authenticate(ctx, framing)?;
    relay_round_trip(&mut peer)
}

/// Both directions in one framing: greeting lists only it, the target must send it, and the
/// sample message survives the relay.
fn symmetric(ctx: &Ctx, framing: Framing) -> CaseResult {
    ctx.require_framings(&[framing])?;
    let mut setup = PeerSetup::new(ctx);
    setup.framings = vec![framing];
    let mut peer = Peer::connect(ctx, setup)?;
    let session = peer.session();
    ensure(
        session.send_framing == framing && session.recv_framing == framing,
        format!("{} both ways", framing.name()),
        || {
            format!(
                "we send {}, the target sends {}",
                session.send_framing.name(),
                session.recv_framing.name()
            )
        },
    )?;
    relay_round_trip(&mut peer)
}

/// Different framings per direction: our auth line names what WE send; the target picks
/// what IT sends from our greeting's list, which holds only `back`.
fn asymmetric(ctx: &Ctx, send: Framing, back: Framing) -> CaseResult {
    ctx.require_framings(&[send, back])?;
    let mut peer = exchange(ctx, Hello::new(ctx, &[back.name()]))?.authenticate(ctx, send)?;
    relay_round_trip(&mut peer)
}

/// A second connection with the node ID of a connected peer is refused (the original checks
/// right after line 1: "already connected, not connecting again"); the first connection
/// keeps working.
fn duplicate_node_id(ctx: &Ctx) -> CaseResult {
    let setup = PeerSetup::new(ctx);
    let mut first = Peer::connect(ctx, setup.clone())?;
    // A reply proves the target has processed our auth line and counts us as connected.
    first.time()?;
    match Peer::try_connect(ctx, setup) {
        Err(ConnectError::ClosedByTarget(_)) => {}
        Err(ConnectError::Failed(f)) => return Err(f),
        Ok(_) => {
            return Err(Failure::expected(
                "the second connection with the same node ID to be refused",
                "it authenticated",
            ))
        }
    }
    first.time().map(drop).map_err(|f| match f {
        Failure::Mismatch { got, .. } => Failure::expected(
            "the first connection to keep working after the refused second one",
            got,
        ),
        skip => skip,
    })
}
