//! The distributed database: `db_set`, `db_del`, `db_reg`, queries and `db_mon`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aemp_proto::node::DbQuery;
use aemp_proto::{to_value, Value};
use serde::Serialize;

use crate::guard::{DbEntry, DbGuard, DbWatch, Guard, WatchGuard};
use crate::shared::lock;
use crate::{Error, Node, PortId};

/// The contents of one database family: key → value.
pub type DbFamily = BTreeMap<String, Value>;

/// What [`Node::db_mon`] reports: the family as it is now, and the keys that changed.
/// The node keeps the family for the watch and applies each change to it, so a
/// notification costs in proportion to the change, not to the family.
///
/// ```
/// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
/// node.db_mon("eg_family", |change: &aemp_node::DbChange| {
///     println!("{} entries, +{:?} ~{:?} -{:?}", change.family.len(), change.added, change.changed, change.deleted);
/// })
/// .detach();
/// # node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DbChange<'a> {
    /// The whole family now.
    pub family: &'a DbFamily,
    /// Keys that appeared.
    pub added: &'a [String],
    /// Keys whose value changed.
    pub changed: &'a [String],
    /// Keys that disappeared.
    pub deleted: &'a [String],
}

/// One `db_mon` watch: the node's copy of the family and the callback.
pub(crate) struct FamilyWatch {
    pub(crate) family: DbFamily,
    pub(crate) callback: Box<dyn FnMut(&DbChange<'_>) + Send>,
}

/// The text of a key as the database holds it.
fn key_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

impl Node {
    /// Sets `family/key` to `value` in the global database, owned by this node. The entry
    /// disappears when the guard is dropped or this node goes down.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let server = node.port();
    /// node.db_set("eg_chat_server", server.as_str(), ())?.detach();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db_set(&self, family: &str, key: &str, value: impl Serialize) -> Result<DbGuard, Error> {
        let value = to_value(&value)?;
        self.with_core(|core, now| core.db_set(family, key, value, now));
        Ok(self.db_guard(family, key))
    }

    /// Deletes keys of `family` that this node set.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.db_set("fam", "k", 1)?.detach();
    /// node.db_del("fam", &["k"]);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db_del(&self, family: &str, keys: &[&str]) {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.with_core(|core, now| core.db_del(family, &keys, now));
    }

    /// Registers a local port under `family` (key: the port ID) with `value`; the entry is
    /// removed when the port dies or the guard is dropped.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let worker = node.port();
    /// node.db_reg("workers", &worker, "idle")?.detach();
    /// assert!(node.db_reg("workers", &"elsewhere#p".into(), ()).is_err());
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db_reg(
        &self,
        family: &str,
        port: &PortId,
        value: impl Serialize,
    ) -> Result<DbGuard, Error> {
        if !self.port_is_local(port) {
            return Err(Error::NotLocal(port.clone()));
        }
        let value = to_value(&value)?;
        if !self.with_core(|core, now| core.db_reg(family, port.as_str(), value, now)) {
            return Err(Error::NoSuchPort(port.clone()));
        }
        Ok(self.db_guard(family, port.as_str()))
    }

    fn db_guard(&self, family: &str, key: &str) -> DbGuard {
        Guard::new(self, DbEntry(family.to_owned(), key.to_owned()))
    }

    /// Runs one query; the answer comes when a master (or this global node) answers.
    async fn db_query(&self, kind: DbQuery, family: &str) -> Result<Value, Error> {
        let (tx, rx) = async_channel::bounded(1);
        {
            let now = self.now();
            let mut core = self.shared.core();
            let id = core.db_query(kind, family, now);
            lock(&self.shared.reg).queries.insert(id, tx);
        }
        self.shared.wake.wake();
        rx.recv().await.map_err(|_| Error::Stopped)
    }

    /// The whole family (waits for the master's answer).
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).seeds(["127.0.0.1:1"]).start()?;
    /// # node.shutdown();
    /// # let _ = async {
    /// let servers = node.db_family("eg_chat_server").await?;
    /// for (port, value) in &servers { println!("{port} => {value}"); }
    /// # Ok::<(), aemp_node::Error>(()) };
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn db_family(&self, family: &str) -> Result<DbFamily, Error> {
        let v = self.db_query(DbQuery::Family, family).await?;
        Ok(v.as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (key_text(k), v.clone()))
            .collect())
    }

    /// The keys of the family.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// # node.shutdown();
    /// # let _ = async {
    /// let keys: Vec<String> = node.db_keys("eg_chat_server").await?;
    /// # Ok::<(), aemp_node::Error>(()) };
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn db_keys(&self, family: &str) -> Result<Vec<String>, Error> {
        let v = self.db_query(DbQuery::Keys, family).await?;
        Ok(v.as_array()
            .unwrap_or_default()
            .iter()
            .map(key_text)
            .collect())
    }

    /// The values of the family.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// # node.shutdown();
    /// # let _ = async {
    /// let values = node.db_values("eg_chat_server").await?;
    /// # Ok::<(), aemp_node::Error>(()) };
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn db_values(&self, family: &str) -> Result<Vec<Value>, Error> {
        let v = self.db_query(DbQuery::Values, family).await?;
        Ok(v.as_array().unwrap_or_default().to_vec())
    }

    /// Watches a family: `f` gets a [`DbChange`] first with the current contents (all keys
    /// "added", even when empty), then after every change.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let guard = node.db_mon("eg_chat_server", |change| {
    ///     println!("{} servers, +{:?} -{:?}", change.family.len(), change.added, change.deleted);
    /// });
    /// # drop(guard);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db_mon(
        &self,
        family: &str,
        f: impl FnMut(&DbChange<'_>) + Send + 'static,
    ) -> WatchGuard {
        let id = {
            let now = self.now();
            let mut core = self.shared.core();
            let id = core.db_mon(family, now);
            lock(&self.shared.reg).db_watchers.insert(
                id,
                Arc::new(Mutex::new(FamilyWatch {
                    family: DbFamily::new(),
                    callback: Box::new(f),
                })),
            );
            id
        };
        self.shared.wake.wake();
        Guard::new(self, DbWatch(id))
    }
}
