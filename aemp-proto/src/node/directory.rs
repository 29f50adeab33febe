//! The directory and distributed database: the slave role and the global role.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::{HashMap, HashSet};

use super::db::{
    bytes_after_update, family_bytes, family_to_value, keys_from_value, Db, Family, FamilyDiff,
};
use std::time::Instant;

use super::{split_port_id, DbChange, DbQuery, Event, NodeCore, RequestId, WatchId};
use crate::protocol::{GlobalRequest, Request};
use crate::Value;

/// The family that maps node IDs to their bind addresses.
const ADDRESSES: &str = "'l";
/// The family that lists global nodes.
const GLOBALS: &str = "'g";

/// Database and directory state of one node.
#[derive(Debug, Default)]
pub(super) struct Directory {
    pub(super) global: bool,
    me: String,
    /// Entries this node owns.
    local: Db,
    /// Slave role: the global node all database traffic goes to.
    pub(super) master: Option<String>,
    /// Nodes that announced themselves with `g_global`.
    globals: BTreeSet<String>,
    /// Lookups waiting for `g_found`.
    finds: BTreeSet<String>,
    /// Queries waiting for `g_reply`: id -> (kind, family).
    queries: BTreeMap<u64, (DbQuery, String)>,
    /// Local watches: id -> family.
    watches: BTreeMap<WatchId, String>,
    /// Watches that got their first notification.
    primed: HashSet<WatchId>,
    /// Slave role: contents of watched families as last told by the master.
    cache: HashMap<String, Family>,
    /// Global role: every node's own entries (ours, our slaves', other globals' g_set).
    sources: BTreeMap<String, Db>,
    /// Global role: the union of all sources.
    merged: Db,
    /// Global role: family -> remote nodes watching it.
    remote_watchers: BTreeMap<String, BTreeSet<String>>,
    /// Global role: nodes that made us their master.
    slaves: BTreeSet<String>,
    /// Global role: how many families each remote node watches here.
    watched_per_node: HashMap<String, usize>,
}

impl Directory {
    pub(super) fn new(me: &str, binds: &[String]) -> Directory {
        let mut local = Db::default();
        local.set(
            ADDRESSES,
            me.to_owned(),
            Value::Array(binds.iter().map(|b| Value::from(b.as_str())).collect()),
        );
        Directory {
            me: me.to_owned(),
            local,
            ..Directory::default()
        }
    }

    /// The local watches of `family`.
    fn watches_of(&self, family: &str) -> Vec<WatchId> {
        self.watches
            .iter()
            .filter(|(_, f)| *f == family)
            .map(|(w, _)| *w)
            .collect()
    }

    /// How many families `node` watches here (global role).
    pub(super) fn watched_by(&self, node: &str) -> usize {
        self.watched_per_node.get(node).copied().unwrap_or(0)
    }

    /// `node` stops watching `family` (global role).
    fn remove_remote_watch(&mut self, family: &str, node: &str) {
        let Some(watchers) = self.remote_watchers.get_mut(family) else {
            return;
        };
        if watchers.remove(node) {
            if let Some(n) = self.watched_per_node.get_mut(node) {
                *n -= 1;
                if *n == 0 {
                    self.watched_per_node.remove(node);
                }
            }
        }
        if watchers.is_empty() {
            self.remote_watchers.remove(family);
        }
    }

    /// About how many bytes the entries take: ours, the sources' and the merged view's.
    pub(super) fn bytes(&self) -> usize {
        let sources: usize = self.sources.values().map(Db::bytes).sum();
        let cached: usize = self.cache.values().map(family_bytes).sum();
        self.local.bytes() + sources + self.merged.bytes() + cached
    }

    /// How many families hold entries of this node, and (global role) of all nodes.
    pub(super) fn family_counts(&self) -> (usize, usize) {
        (self.local.families().len(), self.merged.families().len())
    }

    pub(super) fn watch_count(&self) -> usize {
        self.watches.len()
    }

    pub(super) fn remote_watcher_count(&self) -> usize {
        self.remote_watchers.values().map(BTreeSet::len).sum()
    }

    /// The merged value of `family/key`: ours first, then the other sources by node ID.
    fn source_value(&self, family: &str, key: &str) -> Option<&Value> {
        let mine = self.sources.get(&self.me).into_iter();
        let others = self
            .sources
            .iter()
            .filter(|(n, _)| **n != self.me)
            .map(|(_, db)| db);
        mine.chain(others)
            .find_map(|db| db.family(family)?.get(key))
    }

    /// Brings the merged view of `keys` of `family` up to date with the sources and
    /// returns what changed (work in proportion to the keys, not to the family).
    fn merge_keys(&mut self, family: &str, keys: BTreeSet<String>) -> FamilyDiff {
        let mut diff = FamilyDiff::default();
        for key in keys {
            let new = self.source_value(family, &key).cloned();
            let old = match &new {
                Some(v) => self.merged.set(family, key.clone(), v.clone()),
                None => self.merged.del(family, &key),
            };
            match (old, new) {
                (None, Some(_)) => diff.added.push(key),
                (Some(o), Some(n)) if o != n => diff.changed.push(key),
                (Some(_), None) => diff.deleted.push(key),
                _ => {}
            }
        }
        diff
    }

    /// The merged entries of this node and its slaves (what `g_set` carries).
    fn own_and_slaves(&self) -> Db {
        let mut db = Db::default();
        for node in std::iter::once(&self.me).chain(self.slaves.iter()) {
            for (f, fam) in self
                .sources
                .get(node)
                .map(Db::families)
                .into_iter()
                .flatten()
            {
                for (k, v) in fam {
                    db.set(f, k.clone(), v.clone());
                }
            }
        }
        db
    }

    fn query_result(&self, family: Option<&Family>, kind: DbQuery) -> Value {
        let empty = Family::new();
        let fam = family.unwrap_or(&empty);
        match kind {
            DbQuery::Family => family_to_value(fam),
            DbQuery::Keys => Value::Array(fam.keys().map(|k| Value::from(k.as_str())).collect()),
            DbQuery::Values => Value::Array(fam.values().cloned().collect()),
        }
    }
}

impl NodeCore {
    /// Sets `family/key` to `value`, owned by this node.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{DbQuery, Event, NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.become_global(now);
    /// node.db_set("fam", "k", Value::Int(1), now);
    /// let id = node.db_query(DbQuery::Keys, "fam", now);
    /// assert_eq!(node.poll_event(), Some(Event::DbReply { id, result: Value::Array(vec![Value::from("k")]) }));
    /// # }
    /// ```
    pub fn db_set(&mut self, family: &str, key: &str, value: Value, now: Instant) {
        self.advance(now);
        if self.dir.local.family(family).and_then(|f| f.get(key)) == Some(&value) {
            return;
        }
        self.dir.local.set(family, key.to_owned(), value.clone());
        let set: Family = [(key.to_owned(), value)].into();
        if self.dir.global {
            let me = self.node_id().to_owned();
            self.global_apply(&me, family, set.clone(), Vec::new());
            self.broadcast_to_globals(family, &set, &[]);
        } else if let Some(master) = self.dir.master.clone() {
            let update = GlobalRequest::UpdateDb {
                family: family.to_owned(),
                set: Some(set),
                del: None,
            };
            self.send_global(&master, update);
        }
    }

    /// Deletes keys of `family` owned by this node.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.db_set("fam", "k", Value::Null, now);
    /// node.db_del("fam", &["k".to_string()], now);
    /// # }
    /// ```
    pub fn db_del(&mut self, family: &str, keys: &[String], now: Instant) {
        self.advance(now);
        let owned = self.dir.local.family(family);
        let keys: Vec<String> = keys
            .iter()
            .filter(|k| owned.is_some_and(|f| f.contains_key(*k)))
            .cloned()
            .collect();
        if keys.is_empty() {
            return;
        }
        for k in &keys {
            self.dir.local.del(family, k);
        }
        let keys = keys.as_slice();
        if self.dir.global {
            let me = self.node_id().to_owned();
            self.global_apply(&me, family, Family::new(), keys.to_vec());
            self.broadcast_to_globals(family, &Family::new(), keys);
        } else if let Some(master) = self.dir.master.clone() {
            let update = GlobalRequest::UpdateDb {
                family: family.to_owned(),
                set: None,
                del: Some(keys.to_vec()),
            };
            self.send_global(&master, update);
        }
    }

    /// Registers the local port `port_id` under `family` with `value`; the entry is removed
    /// when the port dies. Returns `false` (and registers nothing) for a port that is not a
    /// live local port.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// # use aemp_proto::Value;
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let p = node.port();
    /// assert!(node.db_reg("svc", &p, Value::Null, now));
    /// assert!(!node.db_reg("svc", "me#gone", Value::Null, now));
    /// # }
    /// ```
    pub fn db_reg(&mut self, family: &str, port_id: &str, value: Value, now: Instant) -> bool {
        let (node, name) = split_port_id(port_id);
        if node != self.node_id() || !self.note_registration(name, family) {
            return false;
        }
        self.db_set(family, port_id, value, now);
        true
    }

    /// Asks for the contents of `family`; the answer comes as [`Event::DbReply`].
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{DbQuery, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let _id = node.db_query(DbQuery::Family, "fam", now); // answered once a master is known
    /// # }
    /// ```
    pub fn db_query(&mut self, kind: DbQuery, family: &str, now: Instant) -> RequestId {
        self.advance(now);
        let id = self.next_id();
        if self.dir.global {
            let result = self.dir.query_result(self.dir.merged.family(family), kind);
            self.events.push_back(Event::DbReply {
                id: RequestId(id),
                result,
            });
        } else {
            self.dir.queries.insert(id, (kind, family.to_owned()));
            if let Some(master) = self.dir.master.clone() {
                self.send_query(&master, id);
            }
        }
        RequestId(id)
    }

    /// Watches `family`: the first [`Event::DbChange`] carries the current contents (even
    /// when empty), later ones what was added, changed or deleted.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{Event, NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.become_global(now);
    /// let w = node.db_mon("fam", now);
    /// assert!(matches!(node.poll_event(), Some(Event::DbChange(c)) if c.watch == w && c.set.is_empty()));
    /// # }
    /// ```
    pub fn db_mon(&mut self, family: &str, now: Instant) -> WatchId {
        self.advance(now);
        let id = WatchId(self.next_id());
        let first = !self.dir.watches.values().any(|f| f == family);
        self.dir.watches.insert(id, family.to_owned());
        if self.dir.global {
            let fam = self.dir.merged.family(family).cloned();
            self.prime_watch(id, family, fam.as_ref());
        } else if first {
            if let Some(master) = self.dir.master.clone() {
                self.send_global(
                    &master,
                    GlobalRequest::Watch {
                        family: family.to_owned(),
                    },
                );
            }
        } else if let Some(fam) = self.dir.cache.get(family).cloned() {
            self.prime_watch(id, family, Some(&fam));
        }
        id
    }

    /// Stops a watch; the last watch of a family on a slave sends `g_mon0`.
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// let w = node.db_mon("fam", now);
    /// node.db_unmon(w, now);
    /// # }
    /// ```
    pub fn db_unmon(&mut self, id: WatchId, now: Instant) {
        self.advance(now);
        let Some(family) = self.dir.watches.remove(&id) else {
            return;
        };
        self.dir.primed.remove(&id);
        if self.dir.watches.values().any(|f| *f == family) {
            return;
        }
        self.dir.cache.remove(&family);
        if let (false, Some(master)) = (self.dir.global, self.dir.master.clone()) {
            self.send_global(
                &master,
                GlobalRequest::Unwatch {
                    family: family.to_owned(),
                },
            );
        }
    }

    /// Starts the global service on this node (seeds do this by themselves).
    ///
    /// ```
    /// # fn example(now: std::time::Instant) {
    /// # use aemp_proto::conn::ConnConfig;
    /// # use aemp_proto::node::{NodeConfig, NodeCore};
    /// let mut node = NodeCore::new(NodeConfig::new(ConnConfig::new("me", None)), &[0; 32], now);
    /// node.become_global(now);
    /// assert!(node.is_global());
    /// # }
    /// ```
    pub fn become_global(&mut self, now: Instant) {
        self.advance(now);
        if self.dir.global {
            return;
        }
        tracing::info!("starting global service");
        self.dir.global = true;
        self.dir.master = None;
        let me = self.node_id().to_owned();
        self.dir.local.set(GLOBALS, me.clone(), Value::Null);
        let own = self.dir.local.clone();
        self.replace_source(&me, own);
        for node in self.up_nodes() {
            self.send_global(&node, GlobalRequest::Global);
        }
        // Global nodes we knew as a slave get our entries now, as the original sends its
        // g_set when it starts the global service (capture 18); they only answer our
        // g_global with theirs.
        let globals = self.up_globals();
        if !globals.is_empty() {
            let db = self.dir.own_and_slaves().to_value();
            for g in globals {
                self.send_global(&g, GlobalRequest::SetDb { db: db.clone() });
            }
        }
        let finds = std::mem::take(&mut self.dir.finds);
        for node in finds {
            let addrs = self.directory_lookup(&node).unwrap_or_default();
            self.addresses_found(&node, addrs);
        }
        for (id, (kind, family)) in std::mem::take(&mut self.dir.queries) {
            let result = self.dir.query_result(self.dir.merged.family(&family), kind);
            self.events.push_back(Event::DbReply {
                id: RequestId(id),
                result,
            });
        }
        let watches: Vec<(WatchId, String)> = self
            .dir
            .watches
            .iter()
            .map(|(w, f)| (*w, f.clone()))
            .collect();
        for (id, family) in watches {
            let fam = self.dir.merged.family(&family).cloned();
            self.notify_watch(
                id,
                &family,
                fam.as_ref(),
                self.dir.cache.get(&family).cloned().as_ref(),
            );
        }
        self.dir.cache.clear();
    }

    /// The addresses of `node` when this node can answer by itself (global role).
    pub(super) fn directory_lookup(&self, node: &str) -> Option<Vec<String>> {
        if !self.dir.global {
            return None;
        }
        let addrs = self
            .dir
            .merged
            .family(ADDRESSES)
            .and_then(|f| f.get(node))
            .map(keys_from_value)
            .unwrap_or_default();
        Some(addrs)
    }

    /// Global role: keeps a connection to every other global node listed in `'g`.
    pub(super) fn keep_global_links(&mut self) {
        if !self.dir.global {
            return;
        }
        let me = self.node_id().to_owned();
        let globals: Vec<String> = self
            .dir
            .merged
            .family(GLOBALS)
            .into_iter()
            .flat_map(|f| f.keys())
            .filter(|g| **g != me)
            .cloned()
            .collect();
        for g in globals {
            self.connect(&g);
        }
    }

    /// Asks the master for the addresses of `node` (now, or once a master is known).
    pub(super) fn request_find(&mut self, node: &str) {
        self.dir.finds.insert(node.to_owned());
        if let Some(master) = self.dir.master.clone() {
            self.send_global(
                &master,
                GlobalRequest::Find {
                    node: node.to_owned(),
                },
            );
        }
    }

    pub(super) fn directory_node_up(&mut self, node: &str) {
        if self.dir.global {
            self.send_global(node, GlobalRequest::Global);
        }
        if self.is_seed_node(node) {
            self.send_global(node, GlobalRequest::Slave { db: None });
        }
    }

    pub(super) fn directory_node_down(&mut self, node: &str) {
        self.dir.globals.remove(node);
        if self.dir.global {
            for watchers in self.dir.remote_watchers.values_mut() {
                watchers.remove(node);
            }
            self.dir.watched_per_node.remove(node);
            self.dir.remote_watchers.retain(|_, w| !w.is_empty());
            let was_slave = self.dir.slaves.remove(node);
            if let Some(db) = self.dir.sources.get(node).cloned() {
                for (family, fam) in db.families() {
                    let keys: Vec<String> = fam.keys().cloned().collect();
                    self.global_apply(node, family, Family::new(), keys.clone());
                    if was_slave {
                        self.broadcast_to_globals(family, &Family::new(), &keys);
                    }
                }
            }
            self.dir.sources.remove(node);
        } else if self.dir.master.as_deref() == Some(node) {
            tracing::info!(%node, "master is down");
            self.dir.master = None;
            if let Some(next) = self.dir.globals.iter().next().cloned() {
                self.set_master(&next);
            }
        }
    }

    fn set_master(&mut self, master: &str) {
        tracing::info!(%master, "using master");
        self.dir.master = Some(master.to_owned());
        let db = self.dir.local.to_value();
        self.send_global(master, GlobalRequest::Slave { db: Some(db) });
        let families: BTreeSet<String> = self.dir.watches.values().cloned().collect();
        for family in families {
            self.send_global(
                master,
                GlobalRequest::Watch {
                    family: family.to_owned(),
                },
            );
        }
        let ids: Vec<u64> = self.dir.queries.keys().copied().collect();
        for id in ids {
            self.send_query(master, id);
        }
        let finds: Vec<String> = self.dir.finds.iter().cloned().collect();
        for node in finds {
            self.send_global(master, GlobalRequest::Find { node: node.clone() });
        }
    }

    fn send_query(&mut self, master: &str, id: u64) {
        if let Some((kind, family)) = self.dir.queries.get(&id).cloned() {
            let id = Value::from(id.to_string());
            self.send_global(master, GlobalRequest::Query { kind, family, id });
        }
    }

    /// A request of the global protocol from `from`.
    pub(super) fn handle_global_request(&mut self, from: &str, request: GlobalRequest) {
        match request {
            GlobalRequest::Slave { db } => {
                self.become_global(self.now);
                if let Some(db) = db {
                    let db = Db::from_value(&db);
                    if !self.db_within_limit(from, db.bytes()) {
                        return;
                    }
                    self.dir.slaves.insert(from.to_owned());
                    for (family, fam) in db.families() {
                        self.broadcast_to_globals(family, fam, &[]);
                    }
                    self.replace_source(from, db);
                }
            }
            GlobalRequest::Global => {
                self.dir.globals.insert(from.to_owned());
                // A global node is nobody's slave (a seed may have been ours before it
                // started its own global service): its entries are its own from now on,
                // so they are not in our `g_set` and its `g_upd`s are not echoed back.
                self.dir.slaves.remove(from);
                if self.dir.global {
                    let db = self.dir.own_and_slaves().to_value();
                    self.send_global(from, GlobalRequest::SetDb { db });
                } else if self.dir.master.is_none() {
                    self.set_master(from);
                }
            }
            GlobalRequest::SetDb { db } if self.dir.global => {
                let db = Db::from_value(&db);
                if self.db_within_limit(from, db.bytes()) {
                    self.replace_source(from, db);
                }
            }
            GlobalRequest::UpdateDb { family, set, del } if self.dir.global => {
                let (set, del) = (set.unwrap_or_default(), del.unwrap_or_default());
                let current = self.dir.sources.get(from);
                let bytes =
                    bytes_after_update(current.unwrap_or(&Db::default()), &family, &set, &del);
                if !self.db_within_limit(from, bytes) {
                    return;
                }
                self.global_apply(from, &family, set.clone(), del.clone());
                if self.dir.slaves.contains(from) {
                    self.broadcast_to_globals(&family, &set, &del);
                }
            }
            GlobalRequest::Find { node } => {
                let addresses = if node == self.node_id() {
                    Some(self.cfg.binds.clone())
                } else {
                    self.directory_lookup(&node).filter(|a| !a.is_empty())
                };
                self.send_global(from, GlobalRequest::Found { node, addresses });
            }
            GlobalRequest::Found { node, addresses } => {
                self.dir.finds.remove(&node);
                self.addresses_found(&node, addresses.unwrap_or_default());
            }
            GlobalRequest::Query { kind, family, id } => {
                let result = self.dir.query_result(self.dir.merged.family(&family), kind);
                self.send_global(from, GlobalRequest::Reply { id, result });
            }
            GlobalRequest::Reply { id, result } => {
                let id = id.as_i64().and_then(|id| u64::try_from(id).ok());
                if let Some(id) = id.filter(|id| self.dir.queries.remove(id).is_some()) {
                    self.events.push_back(Event::DbReply {
                        id: RequestId(id),
                        result,
                    });
                }
            }
            GlobalRequest::Watch { family } => {
                let watchers = self.dir.remote_watchers.get(&family);
                if !watchers.is_some_and(|w| w.contains(from)) {
                    if !self.watch_within_limit(from) {
                        return;
                    }
                    *self
                        .dir
                        .watched_per_node
                        .entry(from.to_owned())
                        .or_default() += 1;
                }
                self.dir
                    .remote_watchers
                    .entry(family.clone())
                    .or_default()
                    .insert(from.to_owned());
                // Like the original: an unknown family is sent as null.
                let entries = self.dir.merged.family(&family).cloned();
                self.send_global(from, GlobalRequest::FamilyIs { family, entries });
            }
            GlobalRequest::Unwatch { family } => self.dir.remove_remote_watch(&family, from),
            GlobalRequest::FamilyIs { .. } | GlobalRequest::FamilyChanged { .. }
                if self.dir.master.as_deref() != Some(from) =>
            {
                tracing::debug!(%from, "database change from a node that is not our master ignored");
            }
            GlobalRequest::FamilyIs { family, entries } => {
                self.cache_changed(&family, entries.unwrap_or_default());
            }
            GlobalRequest::FamilyChanged { family, set, del } => {
                self.cache_updated(&family, set, del);
            }
            GlobalRequest::SetDb { .. } | GlobalRequest::UpdateDb { .. } => {
                tracing::debug!(%from, "database update for a global node ignored: not global");
            }
        }
    }

    /// Sends a request of the global protocol to `node`.
    pub(super) fn send_global(&mut self, node: &str, request: GlobalRequest) {
        self.send_remote(node, Request::Global(request).into_packet());
    }

    /// Slave role: the master told us the new contents of a watched family.
    fn cache_changed(&mut self, family: &str, fam: Family) {
        let ids = self.dir.watches_of(family);
        if ids.is_empty() {
            return;
        }
        let old = self.dir.cache.insert(family.to_owned(), fam.clone());
        for id in ids {
            self.notify_watch(id, family, Some(&fam), old.as_ref());
        }
    }

    /// Slave role: the master told us a change of a watched family. The cache is
    /// updated in place and watchers get the change only: the work is in proportion to
    /// the change, not to the family.
    fn cache_updated(&mut self, family: &str, set: Family, del: Vec<String>) {
        let ids = self.dir.watches_of(family);
        if ids.is_empty() {
            return;
        }
        let cache = self.dir.cache.entry(family.to_owned()).or_default();
        let mut diff = FamilyDiff::default();
        for (key, value) in set {
            match cache.get(&key) {
                None => diff.added.push(key.clone()),
                Some(old) if *old != value => diff.changed.push(key.clone()),
                Some(_) => continue,
            }
            cache.insert(key, value);
        }
        for key in del {
            if cache.remove(&key).is_some() {
                diff.deleted.push(key);
            }
        }
        let values = changed_values(Some(cache), &diff);
        let unprimed: Vec<WatchId> = ids
            .iter()
            .copied()
            .filter(|id| !self.dir.primed.contains(id))
            .collect();
        let whole = (!unprimed.is_empty()).then(|| cache.clone());
        for id in ids {
            if unprimed.contains(&id) {
                self.prime_watch(id, family, whole.as_ref());
            } else if !diff.is_empty() {
                self.emit_change(id, family, values.clone(), diff.clone());
            }
        }
    }

    fn prime_watch(&mut self, id: WatchId, family: &str, fam: Option<&Family>) {
        self.notify_watch(id, family, fam, None);
    }

    /// Tells watch `id` about the change from `old` to `new` (everything, the first time).
    fn notify_watch(
        &mut self,
        id: WatchId,
        family: &str,
        new: Option<&Family>,
        old: Option<&Family>,
    ) {
        let first = self.dir.primed.insert(id);
        let diff = FamilyDiff::between(if first { None } else { old }, new);
        if first || !diff.is_empty() {
            let values = changed_values(new, &diff);
            self.emit_change(id, family, values, diff);
        }
    }

    fn emit_change(
        &mut self,
        watch: WatchId,
        family: &str,
        set: Vec<(String, Value)>,
        diff: FamilyDiff,
    ) {
        self.events.push_back(Event::DbChange(Box::new(DbChange {
            watch,
            family: family.to_owned(),
            set,
            added: diff.added,
            changed: diff.changed,
            deleted: diff.deleted,
        })));
    }

    /// Global role: replaces everything `source` owns.
    fn replace_source(&mut self, source: &str, db: Db) {
        let old = self
            .dir
            .sources
            .insert(source.to_owned(), db.clone())
            .unwrap_or_default();
        let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (family, fam) in old.families().iter().chain(db.families()) {
            keys.entry(family.clone())
                .or_default()
                .extend(fam.keys().cloned());
        }
        for (family, keys) in keys {
            let diff = self.dir.merge_keys(&family, keys);
            self.announce(&family, diff);
        }
    }

    /// Global role: applies an update of `source`'s entries and tells watchers.
    fn global_apply(&mut self, source: &str, family: &str, set: Family, del: Vec<String>) {
        let keys: BTreeSet<String> = set.keys().cloned().chain(del.iter().cloned()).collect();
        let db = self.dir.sources.entry(source.to_owned()).or_default();
        db.update(family, set, &del);
        if db.families().is_empty() && source != self.dir.me {
            self.dir.sources.remove(source);
        }
        let diff = self.dir.merge_keys(family, keys);
        self.announce(family, diff);
    }

    /// Global role: tells remote watchers of `family` what changed (`g_chg2`), and local
    /// watchers the whole family with the change.
    fn announce(&mut self, family: &str, diff: FamilyDiff) {
        if diff.is_empty() {
            return;
        }
        if let Some(watchers) = self.dir.remote_watchers.get(family).cloned() {
            let set: Family = changed_values(self.dir.merged.family(family), &diff)
                .into_iter()
                .collect();
            let change = GlobalRequest::FamilyChanged {
                family: family.to_owned(),
                set,
                del: diff.deleted.clone(),
            };
            let packet = Request::Global(change).into_packet();
            for node in watchers {
                self.send_remote(&node, packet.clone());
            }
        }
        let ids = self.dir.watches_of(family);
        if ids.is_empty() {
            return;
        }
        let values = changed_values(self.dir.merged.family(family), &diff);
        for id in ids {
            self.dir.primed.insert(id);
            self.emit_change(id, family, values.clone(), diff.clone());
        }
    }

    /// The global nodes (other than us) we are connected to.
    fn up_globals(&self) -> Vec<String> {
        self.dir
            .globals
            .iter()
            .filter(|g| self.node_is_up(g))
            .cloned()
            .collect()
    }

    /// Global role: forwards an update to every other global node.
    fn broadcast_to_globals(&mut self, family: &str, set: &Family, del: &[String]) {
        let globals = self.up_globals();
        if globals.is_empty() {
            return;
        }
        let update = GlobalRequest::UpdateDb {
            family: family.to_owned(),
            set: Some(set.clone()),
            del: Some(del.to_vec()),
        };
        let packet = Request::Global(update).into_packet();
        for g in globals {
            self.send_remote(&g, packet.clone());
        }
    }
}

/// The values in `family` of the keys `diff` added or changed, sorted by key.
fn changed_values(family: Option<&Family>, diff: &FamilyDiff) -> Vec<(String, Value)> {
    let Some(family) = family else {
        return Vec::new();
    };
    let mut values: Vec<(String, Value)> = diff
        .added
        .iter()
        .chain(&diff.changed)
        .filter_map(|k| Some((k.clone(), family.get(k)?.clone())))
        .collect();
    values.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    values
}
