//! The global protocol: directory and database of a seed (global) node.
//!
//! Peers register the way Perl slaves do: `["", "g_slave", {"'l": {node: [binds]}, ...}]`,
//! then `["", "g_upd", family, {set}]` / `["", "g_upd", family, null, [deleted]]`. The
//! binds are never connected to (`127.0.0.1:1`): the target only needs them for lookups.

use aemp_proto::node::DbQuery;
use aemp_proto::protocol::{GlobalRequest, Request, RequestKind};
use aemp_proto::Value;

use super::{Case, Group};
use crate::client::Peer;
use crate::ctx::{Ctx, WAIT};
use crate::outcome::{ensure, CaseResult, Failure};
use crate::packet;
use crate::values::{is_request, map, same, same_packet, same_unordered, show, str_at};

/// The bind address our peers register (never connected to).
const FAKE_BIND: &str = "127.0.0.1:1";

pub(crate) fn cases() -> Vec<Case> {
    let case = |name, run| Case::new(name, Group::Global, run);
    vec![
        case("global_announce", announce),
        case("global_slave_registration", slave_registration),
        case("global_find_target", find_target),
        case("global_find_unknown_node", find_unknown),
        case("global_db_family", db_family),
        case("global_db_keys", db_keys),
        case("global_db_values", db_values),
        case("global_mon_initial", mon_initial),
        case("global_mon_changes", mon_changes),
        case("global_second_peer_sees_entries", second_peer),
        case("global_disconnect_cleanup", disconnect_cleanup),
    ]
}

/// Sends a request of the global protocol.
fn send(peer: &mut Peer, request: GlobalRequest) -> CaseResult {
    peer.send(Request::Global(request).into_packet())
}

/// `["", "g_slave", {"'l": {us: [FAKE_BIND]}, families...}]`.
fn register(peer: &mut Peer, families: Vec<(&str, Value)>) -> CaseResult {
    let mut db = vec![("'l", map([(peer.node_id(), packet![FAKE_BIND].into())]))];
    db.extend(families);
    send(peer, GlobalRequest::Slave { db: Some(map(db)) })
}

/// `["", "g_upd", family, {set}]`.
fn set(peer: &mut Peer, family: &str, entries: Vec<(&str, Value)>) -> CaseResult {
    let set = entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let family = family.to_owned();
    send(
        peer,
        GlobalRequest::UpdateDb {
            family,
            set: Some(set),
            del: None,
        },
    )
}

/// `["", "g_upd", family, null, [keys]]`.
fn delete(peer: &mut Peer, family: &str, keys: &[&str]) -> CaseResult {
    let del = keys.iter().map(|k| k.to_string()).collect();
    let family = family.to_owned();
    send(
        peer,
        GlobalRequest::UpdateDb {
            family,
            set: None,
            del: Some(del),
        },
    )
}

/// `["", "g_db_...", family, id]` answered by `["", "g_reply", id, result]`; returns
/// result.
fn query(peer: &mut Peer, kind: DbQuery, family: &str) -> Result<Value, Failure> {
    let (id, _) = peer.new_port();
    let (family, request) = (family.to_owned(), kind.request());
    send(
        peer,
        GlobalRequest::Query {
            kind,
            family,
            id: id.as_str().into(),
        },
    )?;
    let what = format!("[\"\",\"g_reply\",\"{id}\",<result>] answering {request}");
    let reply = peer.expect(&what, WAIT, |p| {
        is_request(p, RequestKind::Reply.tag()) && str_at(p, 2) == Some(id.as_str())
    })?;
    match <[Value; 4]>::try_from(reply.clone()) {
        Ok([_, _, _, result]) => Ok(result),
        Err(_) => Err(Failure::expected(what, show(&reply))),
    }
}

/// `["", "g_find", node]` answered by `["", "g_found", node, binds-or-null]`; returns the
/// binds.
fn find(peer: &mut Peer, node: &str) -> Result<Value, Failure> {
    send(
        peer,
        GlobalRequest::Find {
            node: node.to_owned(),
        },
    )?;
    let what = format!("[\"\",\"g_found\",\"{node}\",<binds or null>]");
    let reply = peer.expect(&what, WAIT, |p| {
        is_request(p, RequestKind::Found.tag()) && str_at(p, 2) == Some(node)
    })?;
    match <[Value; 4]>::try_from(reply.clone()) {
        Ok([_, _, _, binds]) => Ok(binds),
        Err(_) => Err(Failure::expected(what, show(&reply))),
    }
}

/// `["", "g_mon1", family]`, answered by `["", "g_chg1", family, {contents}]`; returns
/// the contents.
fn watch(peer: &mut Peer, family: &str) -> Result<Value, Failure> {
    send(
        peer,
        GlobalRequest::Watch {
            family: family.to_owned(),
        },
    )?;
    let what = format!("[\"\",\"g_chg1\",\"{family}\",<contents>]");
    let reply = peer.expect(&what, WAIT, |p| {
        is_request(p, RequestKind::FamilyIs.tag()) && str_at(p, 2) == Some(family)
    })?;
    match <[Value; 4]>::try_from(reply.clone()) {
        Ok([_, _, _, contents]) => Ok(contents),
        Err(_) => Err(Failure::expected(what, show(&reply))),
    }
}

/// The next `["", "g_chg2", family, {set}, [deleted]]`; returns set and deleted.
fn change(peer: &mut Peer, family: &str) -> Result<(Value, Vec<Value>), Failure> {
    let what = format!("[\"\",\"g_chg2\",\"{family}\",{{set}},[deleted]]");
    let reply = peer.expect(&what, WAIT, |p| {
        is_request(p, RequestKind::FamilyChanged.tag()) && str_at(p, 2) == Some(family)
    })?;
    match <[Value; 5]>::try_from(reply.clone()) {
        Ok([_, _, _, set, Value::Array(deleted)]) => Ok((set, deleted)),
        _ => Err(Failure::expected(what, show(&reply))),
    }
}

/// A peer that registered with `entries` in a fresh family; waits until the target has
/// processed the update (a query on the same connection is answered after it).
fn registered_with(ctx: &Ctx, entries: Vec<(&str, Value)>) -> Result<(Peer, String), Failure> {
    let mut peer = Peer::fresh(ctx)?;
    let family = ctx.unique("fam");
    register(&mut peer, Vec::new())?;
    set(&mut peer, &family, entries)?;
    query(&mut peer, DbQuery::Keys, &family)?;
    Ok((peer, family))
}

fn expect_value(what: &str, expected: &Value, got: &Value) -> CaseResult {
    ensure(same(expected, got), format!("{what} {expected}"), || {
        got.to_string()
    })
}

/// A global node announces itself to every node that connects: `["", "g_global"]`.
fn announce(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let got = peer.expect("[\"\",\"g_global\"]", WAIT, |p| {
        is_request(p, RequestKind::Global.tag())
    })?;
    let expected = packet!["", "g_global"];
    ensure(same_packet(&expected, &got), show(&expected), || show(&got))
}

/// After `g_slave` with our `'l` entry, `g_find` of our node returns our binds.
fn slave_registration(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    register(&mut peer, Vec::new())?;
    let me = peer.node_id().to_owned();
    let binds = find(&mut peer, &me)?;
    expect_value("our registered binds", &packet![FAKE_BIND].into(), &binds)
}

/// `g_find` of the target itself returns its (non-empty) list of bind addresses.
fn find_target(ctx: &Ctx) -> CaseResult {
    let target = ctx.target_id()?;
    let mut peer = Peer::fresh(ctx)?;
    let binds = find(&mut peer, &target)?;
    let ok = binds
        .as_array()
        .is_some_and(|b| !b.is_empty() && b.iter().all(|a| a.as_str().is_some()));
    ensure(
        ok,
        "a non-empty list of the target's bind addresses",
        || binds.to_string(),
    )
}

/// `g_find` of a node nobody registered returns null.
fn find_unknown(ctx: &Ctx) -> CaseResult {
    let mut peer = Peer::fresh(ctx)?;
    let binds = find(&mut peer, &ctx.fresh_node_id())?;
    expect_value("binds", &Value::Null, &binds)
}

fn sample_entries() -> Vec<(&'static str, Value)> {
    vec![("a", Value::from("1")), ("b", packet!["x", 2].into())]
}

/// `g_db_family` returns the family as a map.
fn db_family(ctx: &Ctx) -> CaseResult {
    let (mut peer, family) = registered_with(ctx, sample_entries())?;
    let got = query(&mut peer, DbQuery::Family, &family)?;
    expect_value("the family", &map(sample_entries()), &got)
}

/// `g_db_keys` returns the family's keys (in any order).
fn db_keys(ctx: &Ctx) -> CaseResult {
    let (mut peer, family) = registered_with(ctx, sample_entries())?;
    let got = query(&mut peer, DbQuery::Keys, &family)?;
    let expected = packet!["a", "b"];
    let ok = got.as_array().is_some_and(|g| same_unordered(&expected, g));
    ensure(
        ok,
        format!("the keys {} in any order", show(&expected)),
        || got.to_string(),
    )
}

/// `g_db_values` returns the family's values (in any order).
fn db_values(ctx: &Ctx) -> CaseResult {
    let (mut peer, family) = registered_with(ctx, sample_entries())?;
    let got = query(&mut peer, DbQuery::Values, &family)?;
    let expected: Vec<Value> = sample_entries().into_iter().map(|(_, v)| v).collect();
    let ok = got.as_array().is_some_and(|g| same_unordered(&expected, g));
    ensure(
        ok,
        format!("the values {} in any order", show(&expected)),
        || got.to_string(),
    )
}

/// `g_mon1` is answered with the whole family (`g_chg1`), set by another peer.
fn mon_initial(ctx: &Ctx) -> CaseResult {
    let (_owner, family) = registered_with(ctx, sample_entries())?;
    let mut watcher = Peer::fresh(ctx)?;
    let contents = watch(&mut watcher, &family)?;
    expect_value("the family's contents", &map(sample_entries()), &contents)
}

/// A watcher gets `g_chg2 family {set} []` when another peer sets a key, and
/// `g_chg2 family {} [key]` when it deletes one (the original sends an empty map for the
/// set part of a pure delete; null is accepted too).
fn mon_changes(ctx: &Ctx) -> CaseResult {
    let (mut owner, family) = registered_with(ctx, vec![("a", Value::from("1"))])?;
    let mut watcher = Peer::fresh(ctx)?;
    watch(&mut watcher, &family)?;
    set(&mut owner, &family, vec![("b", Value::from("2"))])?;
    let (added, deleted) = change(&mut watcher, &family)?;
    expect_value("the set part", &map([("b", Value::from("2"))]), &added)?;
    ensure(deleted.is_empty(), "an empty deleted list", || {
        show(&deleted)
    })?;
    delete(&mut owner, &family, &["a"])?;
    let (added, deleted) = change(&mut watcher, &family)?;
    ensure(
        added.is_null() || added.as_map().is_some_and(|m| m.is_empty()),
        "an empty set part for a delete",
        || added.to_string(),
    )?;
    let expected = packet!["a"];
    ensure(
        same_packet(&expected, &deleted),
        format!("the deleted list {}", show(&expected)),
        || show(&deleted),
    )
}

/// A second peer sees the first one's database entries and address.
fn second_peer(ctx: &Ctx) -> CaseResult {
    let (owner, family) = registered_with(ctx, sample_entries())?;
    let mut other = Peer::fresh(ctx)?;
    let got = query(&mut other, DbQuery::Family, &family)?;
    expect_value("the other peer's family", &map(sample_entries()), &got)?;
    let binds = find(&mut other, owner.node_id())?;
    expect_value("the other peer's binds", &packet![FAKE_BIND].into(), &binds)
}

/// Everything a peer registered (in `g_slave` and by `g_upd`) disappears when it
/// disconnects: a watcher gets `g_chg2 family {} [keys]` (as in the original's capture of a
/// killed node), `g_find` returns null, and the family is empty.
fn disconnect_cleanup(ctx: &Ctx) -> CaseResult {
    let family = ctx.unique("fam");
    let mut owner = Peer::fresh(ctx)?;
    register(
        &mut owner,
        vec![(family.as_str(), map([("x", Value::from("1"))]))],
    )?;
    set(&mut owner, &family, vec![("y", Value::from("2"))])?;
    query(&mut owner, DbQuery::Keys, &family)?;
    let owner_id = owner.node_id().to_owned();

    let mut watcher = Peer::fresh(ctx)?;
    let contents = watch(&mut watcher, &family)?;
    let both = map([("x", Value::from("1")), ("y", Value::from("2"))]);
    expect_value("the family's contents", &both, &contents)?;

    drop(owner);
    let mut gone: Vec<Value> = Vec::new();
    while !(gone.contains(&Value::from("x")) && gone.contains(&Value::from("y"))) {
        let (_, deleted) = change(&mut watcher, &family).map_err(|f| match f {
            Failure::Mismatch { got, .. } => Failure::expected(
                format!(
                    "g_chg2 deleting x and y after the owner disconnected (so far {})",
                    show(&gone)
                ),
                got,
            ),
            skip => skip,
        })?;
        gone.extend(deleted);
    }
    let binds = find(&mut watcher, &owner_id)?;
    expect_value("the disconnected peer's binds", &Value::Null, &binds)?;
    // The original answers a family that no longer exists with an empty map; null is
    // accepted too.
    let rest = query(&mut watcher, DbQuery::Family, &family)?;
    ensure(
        rest.is_null() || rest.as_map().is_some_and(|m| m.is_empty()),
        "an empty family (an empty map)",
        || rest.to_string(),
    )
}
