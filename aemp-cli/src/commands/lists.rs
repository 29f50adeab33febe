//! `set/del/add/del` for seeds, binds and services.

use aemp_config::{coerce, Bind};
use serde_json::Value;

use super::ListKey;
use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// `setseeds`, `setbinds`, `setservices`: replaces the list.
pub(super) fn set(
    key: ListKey,
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    let value = args.value(name, key.placeholder())?;
    let items = entries(key, &value)?;
    session.set(key.key(), to_json(items))
}

/// `addseed`, `addbind`, `addservice`: appends entries. Seeds and binds are not repeated;
/// services may be (each entry is one instance).
pub(super) fn add(
    key: ListKey,
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    let value = args.value(name, key.placeholder())?;
    let mut list = own_list(key, session)?.unwrap_or_default();
    for item in entries(key, &value)? {
        if key == ListKey::Services || !list.contains(&item) {
            list.push(item);
        }
    }
    session.set(key.key(), to_json(list))
}

/// `delseed`, `delbind`, `delservice`: removes entries (one instance of a service, every
/// copy of a seed or bind). Entries that are not there are reported, not fatal.
pub(super) fn delete(
    key: ListKey,
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    let value = args.value(name, key.placeholder())?;
    let gone = entries(key, &value)?;
    let Some(mut list) = own_list(key, session)? else {
        eprintln!(
            "aemp: warning: {name}: {} sets no {} of its own; nothing removed",
            session.target_description(),
            key.key()
        );
        return Ok(());
    };
    for item in gone {
        let found = match key {
            ListKey::Services => match list.iter().position(|s| *s == item) {
                Some(at) => {
                    list.remove(at);
                    true
                }
                None => false,
            },
            ListKey::Seeds | ListKey::Binds => {
                let before = list.len();
                list.retain(|s| *s != item);
                list.len() != before
            }
        };
        if !found {
            eprintln!(
                "aemp: warning: {name}: {item} is not in the {} of {}",
                key.key(),
                session.target_description()
            );
        }
    }
    session.set(key.key(), to_json(list))
}

/// The entries an argument names, as JSON: strings, and for services also
/// `[name, arg...]` arrays; binds must parse.
fn entries(key: ListKey, value: &Value) -> Result<Vec<Value>, CliError> {
    if key == ListKey::Services {
        coerce::to_services(key.key(), value)?;
        if let Value::Array(items) = value {
            return Ok(items.clone());
        }
    }
    let items = coerce::to_string_list(key.key(), value)?;
    if key == ListKey::Binds {
        for item in &items {
            item.parse::<Bind>()?;
        }
    }
    Ok(items.into_iter().map(Value::String).collect())
}

/// The target's own list, if it has one (inherited lists do not count).
fn own_list(key: ListKey, session: &Session) -> Result<Option<Vec<Value>>, CliError> {
    match session.scope()?.and_then(|scope| scope.get(key.key())) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Ok(Some(entries(key, value)?)),
    }
}

fn to_json(items: Vec<Value>) -> Value {
    Value::Array(items)
}

impl ListKey {
    /// How the argument is shown in messages.
    fn placeholder(self) -> &'static str {
        match self {
            ListKey::Seeds | ListKey::Binds => "<host:port>",
            ListKey::Services => "<initfunc>",
        }
    }
}
