//! The global protocol's requests (`g_...`): the distributed database and node lookup.

use std::collections::BTreeMap;

use super::{Args, RequestError, RequestKind};
use crate::node::{family_from_value, family_to_value, DbQuery};
use crate::Value;

/// One family's entries: key -> value.
pub type Entries = BTreeMap<String, Value>;

/// A request of the global protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum GlobalRequest {
    /// `g_slave`: the sender makes the receiver its master, with all its entries (none
    /// when a seed is only told to start its global service).
    Slave {
        /// `{family: {key: value}}`.
        db: Option<Value>,
    },
    /// `g_global`: the sender is a global node.
    Global,
    /// `g_set`: all entries the sending global node holds for itself and its slaves.
    SetDb {
        /// `{family: {key: value}}`.
        db: Value,
    },
    /// `g_upd`: entries of the sender were set and deleted.
    UpdateDb {
        /// The family.
        family: String,
        /// Entries set (`None`: sent as `null`).
        set: Option<Entries>,
        /// Keys deleted (`None`: left out).
        del: Option<Vec<String>>,
    },
    /// `g_find`: where `node` listens.
    Find {
        /// The node ID.
        node: String,
    },
    /// `g_found`: the answer to [`GlobalRequest::Find`].
    Found {
        /// The node ID.
        node: String,
        /// Its addresses (`None`: unknown node, sent as `null`).
        addresses: Option<Vec<String>>,
    },
    /// `g_db_family`, `g_db_keys`, `g_db_values`: a query.
    Query {
        /// Which of the three.
        kind: DbQuery,
        /// The family.
        family: String,
        /// The querier's ID for the answer.
        id: Value,
    },
    /// `g_reply`: the answer to a query.
    Reply {
        /// The query's ID.
        id: Value,
        /// The answer.
        result: Value,
    },
    /// `g_mon1`: watch a family.
    Watch {
        /// The family.
        family: String,
    },
    /// `g_mon0`: stop watching it.
    Unwatch {
        /// The family.
        family: String,
    },
    /// `g_chg1`: a watched family, whole.
    FamilyIs {
        /// The family.
        family: String,
        /// Its entries (`None`: unknown family, sent as `null`).
        entries: Option<Entries>,
    },
    /// `g_chg2`: a watched family changed.
    FamilyChanged {
        /// The family.
        family: String,
        /// Entries set.
        set: Entries,
        /// Keys deleted.
        del: Vec<String>,
    },
}

impl GlobalRequest {
    pub(super) fn parse(kind: RequestKind, mut args: Args) -> Result<GlobalRequest, RequestError> {
        let entries = |v: Option<Value>| v.as_ref().map(family_from_value);
        Ok(match kind {
            RequestKind::Slave => GlobalRequest::Slave {
                db: args.map("database")?,
            },
            RequestKind::Global => GlobalRequest::Global,
            RequestKind::SetDb => GlobalRequest::SetDb {
                db: args.map("database")?.unwrap_or(Value::Map(Vec::new())),
            },
            RequestKind::UpdateDb => GlobalRequest::UpdateDb {
                family: args.name("family")?,
                set: entries(args.map("set")?),
                del: args.names("deleted keys")?,
            },
            RequestKind::Find => GlobalRequest::Find {
                node: args.name("node")?,
            },
            RequestKind::Found => GlobalRequest::Found {
                node: args.name("node")?,
                addresses: args.names("addresses")?,
            },
            RequestKind::QueryFamily | RequestKind::QueryKeys | RequestKind::QueryValues => {
                GlobalRequest::Query {
                    kind: match kind {
                        RequestKind::QueryFamily => DbQuery::Family,
                        RequestKind::QueryKeys => DbQuery::Keys,
                        _ => DbQuery::Values,
                    },
                    family: args.name("family")?,
                    id: args.any(),
                }
            }
            RequestKind::Reply => GlobalRequest::Reply {
                id: args.any(),
                result: args.optional().unwrap_or(Value::Null),
            },
            RequestKind::Watch => GlobalRequest::Watch {
                family: args.name("family")?,
            },
            RequestKind::Unwatch => GlobalRequest::Unwatch {
                family: args.name("family")?,
            },
            RequestKind::FamilyIs => GlobalRequest::FamilyIs {
                family: args.name("family")?,
                entries: entries(args.map("entries")?),
            },
            RequestKind::FamilyChanged => GlobalRequest::FamilyChanged {
                family: args.name("family")?,
                set: entries(args.map("set")?).unwrap_or_default(),
                del: args.names("deleted keys")?.unwrap_or_default(),
            },
            // `Request::parse` parses the node requests itself.
            _ => return Err(args.error("not a request of the global protocol")),
        })
    }

    pub(super) fn into_tag_and_args(self) -> (&'static str, Vec<Value>) {
        let names = |n: Vec<String>| Value::Array(n.into_iter().map(Value::from).collect());
        match self {
            GlobalRequest::Slave { db } => (RequestKind::Slave.tag(), db.into_iter().collect()),
            GlobalRequest::Global => (RequestKind::Global.tag(), Vec::new()),
            GlobalRequest::SetDb { db } => (RequestKind::SetDb.tag(), vec![db]),
            GlobalRequest::UpdateDb { family, set, del } => {
                let mut args = vec![
                    family.into(),
                    set.map_or(Value::Null, |s| family_to_value(&s)),
                ];
                args.extend(del.map(names));
                (RequestKind::UpdateDb.tag(), args)
            }
            GlobalRequest::Find { node } => (RequestKind::Find.tag(), vec![node.into()]),
            GlobalRequest::Found { node, addresses } => {
                let addresses = addresses.map_or(Value::Null, names);
                (RequestKind::Found.tag(), vec![node.into(), addresses])
            }
            GlobalRequest::Query { kind, family, id } => (kind.request(), vec![family.into(), id]),
            GlobalRequest::Reply { id, result } => (RequestKind::Reply.tag(), vec![id, result]),
            GlobalRequest::Watch { family } => (RequestKind::Watch.tag(), vec![family.into()]),
            GlobalRequest::Unwatch { family } => (RequestKind::Unwatch.tag(), vec![family.into()]),
            GlobalRequest::FamilyIs { family, entries } => {
                let entries = entries.map_or(Value::Null, |e| family_to_value(&e));
                (RequestKind::FamilyIs.tag(), vec![family.into(), entries])
            }
            GlobalRequest::FamilyChanged { family, set, del } => (
                RequestKind::FamilyChanged.tag(),
                vec![family.into(), family_to_value(&set), names(del)],
            ),
        }
    }
}
