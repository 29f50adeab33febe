//! The distributed database: `db_set`, `db_del`, `db_reg`, queries and `db_mon`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aemp_proto::node::{DbQuery, WatchId};
use aemp_proto::{to_value, Value};
use serde::Serialize;

use crate::shared::lock;
use crate::{Error, Node, PortId};

/// The contents of one database family: key → value.
pub type DbFamily = BTreeMap<String, Value>;

/// An entry set with [`Node::db_set`] or [`Node::db_reg`]: dropping the guard deletes it;
/// [`detach`](DbGuard::detach) keeps it (until the node goes down, or with `db_reg`, until
/// the port dies).
#[must_use = "dropping the guard deletes the entry at once; call .detach() to keep it"]
#[derive(Debug)]
pub struct DbGuard {
    node: Node,
    entry: Option<(String, String)>,
}

impl DbGuard {
    /// Keeps the entry.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.db_set("eg_family", "key", 1)?.detach();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn detach(mut self) {
        self.entry = None;
    }
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let Some((family, key)) = self.entry.take() {
            self.node.db_del(&family, &[key.as_str()]);
        }
    }
}

/// A family watch set with [`Node::db_mon`]; dropping it stops the watch.
#[must_use = "dropping the guard stops the watch at once; call .detach() to keep it"]
#[derive(Debug)]
pub struct WatchGuard {
    node: Node,
    id: Option<WatchId>,
}

impl WatchGuard {
    /// Keeps the watch for the life of the node.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.db_mon("eg_family", |_fam, _added, _changed, _deleted| {}).detach();
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn detach(mut self) {
        self.id = None;
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let now = self.node.now();
            let mut core = lock(&self.node.shared.core);
            core.db_unmon(id, now);
            lock(&self.node.shared.reg).db_watchers.remove(&id);
            drop(core);
            self.node.shared.wake.wake();
        }
    }
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
        DbGuard {
            node: self.clone(),
            entry: Some((family.to_owned(), key.to_owned())),
        }
    }

    /// Runs one query; the answer comes when a master (or this global node) answers.
    async fn db_query(&self, kind: DbQuery, family: &str) -> Result<Value, Error> {
        let (tx, rx) = async_channel::bounded(1);
        {
            let now = self.now();
            let mut core = lock(&self.shared.core);
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

    /// Watches a family: `f(family, added, changed, deleted)` runs first with the current
    /// contents (all keys "added", even when empty), then after every change.
    ///
    /// ```
    /// # let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// let guard = node.db_mon("eg_chat_server", |family, added, _changed, deleted| {
    ///     println!("{} servers, +{added:?} -{deleted:?}", family.len());
    /// });
    /// # drop(guard);
    /// # node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db_mon(
        &self,
        family: &str,
        f: impl FnMut(&DbFamily, &[String], &[String], &[String]) + Send + 'static,
    ) -> WatchGuard {
        let id = {
            let now = self.now();
            let mut core = lock(&self.shared.core);
            let id = core.db_mon(family, now);
            lock(&self.shared.reg)
                .db_watchers
                .insert(id, Arc::new(Mutex::new(f)));
            id
        };
        self.shared.wake.wake();
        WatchGuard {
            node: self.clone(),
            id: Some(id),
        }
    }
}
