//! Database tables: `family -> key -> value`, and the change sets between two states.

use std::collections::BTreeMap;

use crate::Value;

/// One family: key -> value, sorted by key.
pub(crate) type Family = BTreeMap<String, Value>;

/// A whole database: family -> family contents.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Db {
    pub(crate) families: BTreeMap<String, Family>,
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

    pub(crate) fn set(&mut self, family: &str, key: String, value: Value) {
        self.families
            .entry(family.to_owned())
            .or_default()
            .insert(key, value);
    }

    pub(crate) fn del(&mut self, family: &str, key: &str) {
        if let Some(f) = self.families.get_mut(family) {
            f.remove(key);
            if f.is_empty() {
                self.families.remove(family);
            }
        }
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
                let fam = family_from_value(fam);
                if !fam.is_empty() {
                    db.families.insert(f, fam);
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
