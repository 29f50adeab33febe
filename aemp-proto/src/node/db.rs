//! Database tables: `family -> key -> value`, and the change sets between two states.

use std::collections::{BTreeMap, BTreeSet};

use crate::Value;

/// One family: key -> value, sorted by key.
pub(crate) type Family = BTreeMap<String, Value>;

/// A whole database: family -> family contents, and about how much memory they take.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Db {
    families: BTreeMap<String, Family>,
    /// The sum of [`entry_size`] over all entries.
    bytes: usize,
}

/// About how many bytes one entry takes: its key, its value's [`Value::size_hint`] and
/// the map node holding them.
fn entry_size(key_len: usize, value: &Value) -> usize {
    const MAP_NODE: usize = 48;
    key_len + value.size_hint() + MAP_NODE
}

/// About how many bytes the entries of `family` take.
pub(crate) fn family_bytes(family: &Family) -> usize {
    family.iter().map(|(k, v)| entry_size(k.len(), v)).sum()
}

/// What [`Db::bytes`] would be after [`Db::update`]`(family, set, del)`, without applying it.
pub(crate) fn bytes_after_update(db: &Db, family: &str, set: &Family, del: &[String]) -> usize {
    let current = db.family(family);
    let del: BTreeSet<&str> = del.iter().map(String::as_str).collect();
    let touched: BTreeSet<&str> = set
        .keys()
        .map(String::as_str)
        .chain(del.iter().copied())
        .collect();
    let removed: usize = touched
        .iter()
        .filter_map(|key| Some(entry_size(key.len(), current?.get(*key)?)))
        .sum();
    // A key both set and deleted ends deleted.
    let added: usize = set
        .iter()
        .filter(|(key, _)| !del.contains(key.as_str()))
        .map(|(key, value)| entry_size(key.len(), value))
        .sum();
    db.bytes - removed + added
}

/// What changed in one family.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FamilyDiff {
    pub(crate) added: Vec<String>,
    pub(crate) changed: Vec<String>,
    pub(crate) deleted: Vec<String>,
}

impl FamilyDiff {
    pub(crate) fn between(old: Option<&Family>, new: Option<&Family>) -> FamilyDiff {
        let empty = Family::new();
        let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let mut diff = FamilyDiff::default();
        for (k, v) in new {
            match old.get(k) {
                None => diff.added.push(k.clone()),
                Some(o) if o != v => diff.changed.push(k.clone()),
                Some(_) => {}
            }
        }
        diff.deleted = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        diff
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.deleted.is_empty()
    }
}

impl Db {
    pub(crate) fn family(&self, family: &str) -> Option<&Family> {
        self.families.get(family)
    }

    /// Every family, by name.
    pub(crate) fn families(&self) -> &BTreeMap<String, Family> {
        &self.families
    }

    /// About how many bytes the entries take (see [`entry_size`]).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Sets `family/key`; returns the value it replaced.
    pub(crate) fn set(&mut self, family: &str, key: String, value: Value) -> Option<Value> {
        self.bytes += entry_size(key.len(), &value);
        let key_len = key.len();
        let old = self
            .families
            .entry(family.to_owned())
            .or_default()
            .insert(key, value);
        if let Some(old) = &old {
            self.bytes -= entry_size(key_len, old);
        }
        old
    }

    /// Deletes `family/key` (and the family once empty); returns the value it had.
    pub(crate) fn del(&mut self, family: &str, key: &str) -> Option<Value> {
        let fam = self.families.get_mut(family)?;
        let old = fam.remove(key)?;
        self.bytes -= entry_size(key.len(), &old);
        if fam.is_empty() {
            self.families.remove(family);
        }
        Some(old)
    }

    /// Applies a `g_upd`: set the entries of `set`, then delete `del`.
    pub(crate) fn update(&mut self, family: &str, set: Family, del: &[String]) {
        for (k, v) in set {
            self.set(family, k, v);
        }
        for k in del {
            self.del(family, k);
        }
    }

    /// The database as a wire map `{family: {key: value}}`.
    pub(crate) fn to_value(&self) -> Value {
        Value::Map(
            self.families
                .iter()
                .map(|(f, fam)| (Value::from(f.as_str()), family_to_value(fam)))
                .collect(),
        )
    }

    /// Reads a wire map `{family: {key: value}}`; malformed parts are skipped.
    pub(crate) fn from_value(v: &Value) -> Db {
        let mut db = Db::default();
        for (f, fam) in v.as_map().unwrap_or_default() {
            if let Some(f) = key_string(f) {
                for (key, value) in family_from_value(fam) {
                    db.set(&f, key, value);
                }
            }
        }
        db
    }
}

/// A family as a wire map.
pub(crate) fn family_to_value(fam: &Family) -> Value {
    Value::Map(
        fam.iter()
            .map(|(k, v)| (Value::from(k.as_str()), v.clone()))
            .collect(),
    )
}

/// Reads a wire map `{key: value}` (anything else is empty).
pub(crate) fn family_from_value(v: &Value) -> Family {
    v.as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((key_string(k)?, v.clone())))
        .collect()
}

/// Reads a list of keys (a wire array; `null` is empty).
pub(crate) fn keys_from_value(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(key_string)
        .collect()
}

/// A map key as a string: strings as they are, numbers as their decimal text.
pub(crate) fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_reports_added_changed_deleted() {
        let old: Family = [("a".into(), Value::Int(1)), ("b".into(), Value::Int(2))].into();
        let new: Family = [("b".into(), Value::Int(3)), ("c".into(), Value::Null)].into();
        let d = FamilyDiff::between(Some(&old), Some(&new));
        assert_eq!(d.added, vec!["c"]);
        assert_eq!(d.changed, vec!["b"]);
        assert_eq!(d.deleted, vec!["a"]);
    }

    proptest::proptest! {
        #[test]
        fn bytes_follow_every_update_and_are_predicted(
            start in proptest::collection::vec(("[a-d]", "[a-z]{0,20}"), 0..8),
            set in proptest::collection::vec(("[a-f]", "[a-z]{0,20}"), 0..8),
            del in proptest::collection::vec("[a-f]", 0..8),
        ) {
            let mut db = Db::default();
            for (k, v) in start {
                db.set("f", k, Value::from(v.as_str()));
            }
            let set: Family = set.into_iter().map(|(k, v)| (k, Value::from(v.as_str()))).collect();
            let predicted = bytes_after_update(&db, "f", &set, &del);
            db.update("f", set, &del);
            let recount: usize = db.families().values().map(family_bytes).sum();
            proptest::prop_assert_eq!(db.bytes(), recount);
            proptest::prop_assert_eq!(db.bytes(), predicted);
        }
    }

    #[test]
    fn wire_round_trip() {
        let mut db = Db::default();
        db.set("f", "k".into(), Value::from("v"));
        db.set("'l", "n".into(), Value::Array(vec![Value::from("h:1")]));
        assert_eq!(Db::from_value(&db.to_value()), db);
        db.update("f", Family::new(), &["k".into()]);
        assert!(db.family("f").is_none());
    }
}
