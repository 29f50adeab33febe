//! The effective configuration of one profile: global keys, the parent chain, the profile,
//! the program's own values and the built-in defaults, combined as the original's
//! `AnyEvent::MP::Config::find_profile` and `AnyEvent::MP::Kernel::configure` do.

use serde_json::Value;

use crate::coerce;
use crate::defaults::fill_defaults;
use crate::rcfile::{PARENT_KEY, PROFILE_KEY, VERSION_KEY};
use crate::{ConfigError, JsonMap, RcFile};

/// How the program's own values combine with the file.
///
/// ```
/// use aemp_config::Precedence;
/// assert_eq!(Precedence::default(), Precedence::FileWins);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precedence {
    /// The file's values win over the program's (the original's default).
    #[default]
    FileWins,
    /// The program's values win over the file's (the original's `force`).
    ProgramWins,
    /// The file is ignored entirely (the original's `norc`).
    ProgramOnly,
}

/// The values a program supplies at configure time, and how they combine with the file.
///
/// ```
/// use aemp_config::{Overrides, Precedence};
/// use serde_json::json;
///
/// let o = Overrides::new().set("binds", json!(["*:4040"])).precedence(Precedence::ProgramWins);
/// assert_eq!(o.values["binds"], json!(["*:4040"]));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The profile to use; `None` leaves the choice to the caller (the original uses the
    /// host name).
    pub profile: Option<String>,
    /// Key/value pairs, with the same keys as the file.
    pub values: JsonMap,
    /// Whether the file or the program wins.
    pub precedence: Precedence,
}

impl Overrides {
    /// No values, the file wins.
    ///
    /// ```
    /// assert!(aemp_config::Overrides::new().values.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one value.
    ///
    /// ```
    /// let o = aemp_config::Overrides::new().set("secret", "s");
    /// assert_eq!(o.values["secret"], "s");
    /// ```
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.values.insert(key.into(), value.into());
        self
    }

    /// Sets how these values combine with the file.
    ///
    /// ```
    /// use aemp_config::{Overrides, Precedence};
    /// let o = Overrides::new().precedence(Precedence::ProgramOnly);
    /// assert_eq!(o.precedence, Precedence::ProgramOnly);
    /// ```
    pub fn precedence(mut self, precedence: Precedence) -> Self {
        self.precedence = precedence;
        self
    }

    /// Reads configure arguments as the original's `configure` takes them: key/value pairs
    /// where `profile` names the profile, `norc` (true) ignores the file, `force` (true) lets
    /// the program win, and every other key is a configuration value.
    ///
    /// ```
    /// use aemp_config::{Overrides, Precedence};
    /// use serde_json::json;
    ///
    /// let o = Overrides::from_configure_args([
    ///     ("profile".to_owned(), json!("seed")),
    ///     ("force".to_owned(), json!("1")),
    ///     ("binds".to_owned(), json!("*:4040")),
    /// ]).unwrap();
    /// assert_eq!(o.profile.as_deref(), Some("seed"));
    /// assert_eq!(o.precedence, Precedence::ProgramWins);
    /// assert_eq!(o.values["binds"], "*:4040");
    /// ```
    pub fn from_configure_args(
        args: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<Self, ConfigError> {
        let mut overrides = Overrides::new();
        let (mut norc, mut force) = (false, false);
        for (key, value) in args {
            match key.as_str() {
                "profile" => overrides.profile = Some(coerce::to_string(&key, &value)?),
                "norc" => norc = coerce::to_bool(&key, &value)?,
                "force" => force = coerce::to_bool(&key, &value)?,
                _ => {
                    overrides.values.insert(key, value);
                }
            }
        }
        overrides.precedence = match (norc, force) {
            (true, _) => Precedence::ProgramOnly,
            (false, true) => Precedence::ProgramWins,
            (false, false) => Precedence::FileWins,
        };
        Ok(overrides)
    }
}

/// The merged configuration of one profile, with defaults filled in, before it is turned
/// into a [`NodeConfig`](crate::NodeConfig). The node ID is still a template here.
///
/// ```
/// use aemp_config::{resolve, Overrides, RcFile};
///
/// let rc = RcFile::parse("/rc", r#"{"secret":"g","profile":{"p":{"seeds":["s:1"]}}}"#).unwrap();
/// let eff = resolve(&rc, "p", &Overrides::new()).unwrap();
/// assert_eq!(eff.raw()["secret"], "g");
/// assert_eq!(eff.raw()["seeds"][0], "s:1");
/// assert_eq!(eff.raw()["nodeid"], "p/");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveConfig {
    profile: String,
    map: JsonMap,
}

impl EffectiveConfig {
    /// The profile this configuration was resolved for.
    ///
    /// ```
    /// # use aemp_config::{resolve, Overrides, RcFile};
    /// let eff = resolve(&RcFile::new("/rc"), "seed", &Overrides::new()).unwrap();
    /// assert_eq!(eff.profile(), "seed");
    /// ```
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The merged key/value map (including unknown keys and filled-in defaults).
    ///
    /// ```
    /// # use aemp_config::{resolve, Overrides, RcFile};
    /// let eff = resolve(&RcFile::new("/rc"), "seed", &Overrides::new()).unwrap();
    /// assert_eq!(eff.raw()["binds"], serde_json::json!(["*"]));
    /// ```
    pub fn raw(&self) -> &JsonMap {
        &self.map
    }

    /// The merged map, consumed.
    ///
    /// ```
    /// # use aemp_config::{resolve, Overrides, RcFile};
    /// let map = resolve(&RcFile::new("/rc"), "seed", &Overrides::new()).unwrap().into_raw();
    /// assert_eq!(map["monitor_timeout"], 30);
    /// ```
    pub fn into_raw(self) -> JsonMap {
        self.map
    }
}

/// Resolves the effective configuration of `profile`:
///
/// 1. the file's top-level keys (without `version` and `profile`),
/// 2. each ancestor profile, the farthest first (following `parent`),
/// 3. the profile's own keys (a missing profile adds nothing),
///
/// then combines that with `overrides.values` according to `overrides.precedence`, and fills
/// in defaults for unset keys (`nodeid` defaults to `PROFILE/`). `parent` keys are not part of
/// the result. `overrides.profile` is not consulted: the caller chose `profile`.
///
/// ```
/// use aemp_config::{resolve, Overrides, Precedence, RcFile};
/// use serde_json::json;
///
/// let rc = RcFile::parse("/rc", r#"{"profile":{
///     "base": {"secret": "b", "seeds": ["s:1"]},
///     "w":    {"parent": "base", "secret": "w"}}}"#).unwrap();
///
/// let eff = resolve(&rc, "w", &Overrides::new().set("secret", "prog")).unwrap();
/// assert_eq!(eff.raw()["secret"], "w"); // the file wins by default
///
/// let forced = Overrides::new().set("secret", "prog").precedence(Precedence::ProgramWins);
/// assert_eq!(resolve(&rc, "w", &forced).unwrap().raw()["secret"], "prog");
///
/// let norc = Overrides::new().precedence(Precedence::ProgramOnly);
/// assert!(resolve(&rc, "w", &norc).unwrap().raw().get("seeds").is_none());
/// ```
pub fn resolve(
    rc: &RcFile,
    profile: &str,
    overrides: &Overrides,
) -> Result<EffectiveConfig, ConfigError> {
    let mut map = JsonMap::new();
    match overrides.precedence {
        Precedence::FileWins => {
            extend(&mut map, &overrides.values);
            extend(&mut map, &file_layer(rc, profile)?);
        }
        Precedence::ProgramWins => {
            extend(&mut map, &file_layer(rc, profile)?);
            extend(&mut map, &overrides.values);
        }
        Precedence::ProgramOnly => extend(&mut map, &overrides.values),
    }
    fill_defaults(&mut map, profile);
    Ok(EffectiveConfig {
        profile: profile.to_owned(),
        map,
    })
}

/// The names of `profile` and its ancestors, nearest first: the profile itself, its parent,
/// the parent's parent, ... Only existing profiles are listed (a profile that does not exist
/// ends the chain). A chain that comes back to a profile already in it is an error.
///
/// ```
/// use aemp_config::{parent_chain, ConfigError, RcFile};
///
/// let rc = RcFile::parse("/rc", r#"{"profile":{"a":{"parent":"b"},"b":{},"x":{"parent":"x"}}}"#).unwrap();
/// assert_eq!(parent_chain(&rc, "a").unwrap(), ["a", "b"]);
/// assert!(parent_chain(&rc, "none").unwrap().is_empty());
/// assert!(matches!(parent_chain(&rc, "x"), Err(ConfigError::ParentCycle { .. })));
/// ```
pub fn parent_chain(rc: &RcFile, profile: &str) -> Result<Vec<String>, ConfigError> {
    let mut chain: Vec<String> = Vec::new();
    let mut next = Some(profile.to_owned());
    while let Some(name) = next.take() {
        if chain.contains(&name) {
            chain.push(name);
            return Err(ConfigError::ParentCycle {
                path: rc.path().to_path_buf(),
                chain,
            });
        }
        let Some(keys) = rc.profile(&name)? else {
            if let Some(child) = chain.last() {
                tracing::warn!(
                    file = %rc.path().display(),
                    "profile {child:?} names parent {name:?}, which does not exist; ignoring it"
                );
            }
            break;
        };
        next = match keys.get(PARENT_KEY) {
            None | Some(Value::Null) => None,
            Some(parent) => Some(coerce::to_string(PARENT_KEY, parent)?),
        };
        chain.push(name);
    }
    Ok(chain)
}

/// Everything the file says for `profile`: global keys, then ancestors, then the profile.
fn file_layer(rc: &RcFile, profile: &str) -> Result<JsonMap, ConfigError> {
    let mut map = JsonMap::new();
    for (key, value) in rc.root() {
        if ![PROFILE_KEY, VERSION_KEY, PARENT_KEY].contains(&key.as_str()) {
            map.insert(key.clone(), value.clone());
        }
    }
    for name in parent_chain(rc, profile)?.iter().rev() {
        if let Some(keys) = rc.profile(name)? {
            for (key, value) in keys {
                if key != PARENT_KEY {
                    map.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Ok(map)
}

/// Copies every entry of `from` into `into`, replacing existing keys.
fn extend(into: &mut JsonMap, from: &JsonMap) {
    for (key, value) in from {
        into.insert(key.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rc(text: &str) -> RcFile {
        RcFile::parse("/test/rc", text).unwrap()
    }

    #[test]
    fn layers_apply_farthest_ancestor_first() {
        let rc = rc(
            r#"{"version":1,"secret":"global","seeds":["g:1"],"monitor_timeout":5,
            "profile":{
              "grand":{"secret":"grand","binds":["*:1"],"x":"grand"},
              "parent":{"parent":"grand","secret":"parent","x":"parent"},
              "child":{"parent":"parent","nodeid":"c"}}}"#,
        );
        let eff = resolve(&rc, "child", &Overrides::new()).unwrap();
        let m = eff.raw();
        assert_eq!(m["secret"], "parent");
        assert_eq!(m["x"], "parent");
        assert_eq!(m["binds"], json!(["*:1"]));
        assert_eq!(m["seeds"], json!(["g:1"]));
        assert_eq!(m["monitor_timeout"], 5);
        assert_eq!(m["nodeid"], "c");
        assert!(!m.contains_key("parent"));
        assert!(!m.contains_key("profile"));
        assert!(!m.contains_key("version"));
    }

    #[test]
    fn missing_profile_gets_globals_and_default_nodeid() {
        let rc = rc(r#"{"secret":"g"}"#);
        let eff = resolve(&rc, "myhost", &Overrides::new()).unwrap();
        assert_eq!(eff.raw()["secret"], "g");
        assert_eq!(eff.raw()["nodeid"], "myhost/");
    }

    #[test]
    fn cycles_are_errors_naming_the_chain_and_file() {
        let rc = rc(r#"{"profile":{"a":{"parent":"b"},"b":{"parent":"c"},"c":{"parent":"a"}}}"#);
        let err = resolve(&rc, "a", &Overrides::new()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("a -> b -> c -> a"), "{msg}");
        assert!(msg.contains("/test/rc"), "{msg}");
    }

    #[test]
    fn dangling_parent_ends_the_chain() {
        let rc = rc(r#"{"profile":{"a":{"parent":"gone","secret":"a"}}}"#);
        assert_eq!(parent_chain(&rc, "a").unwrap(), ["a"]);
        assert_eq!(
            resolve(&rc, "a", &Overrides::new()).unwrap().raw()["secret"],
            "a"
        );
    }

    #[test]
    fn parent_must_be_a_string() {
        let rc = rc(r#"{"profile":{"a":{"parent":["b"]}}}"#);
        let err = parent_chain(&rc, "a").unwrap_err();
        assert!(err.to_string().contains("parent"), "{err}");
    }

    #[test]
    fn precedence_file_wins_force_and_norc() {
        let rc = rc(r#"{"secret":"file","profile":{"p":{"binds":["*:1"]}}}"#);
        let program = Overrides::new()
            .set("secret", "prog")
            .set("binds", json!(["*:2"]))
            .set("services", json!(["S::"]));

        let eff = resolve(&rc, "p", &program).unwrap();
        assert_eq!(eff.raw()["secret"], "file");
        assert_eq!(eff.raw()["binds"], json!(["*:1"]));
        assert_eq!(eff.raw()["services"], json!(["S::"]), "program fills gaps");

        let forced = program.clone().precedence(Precedence::ProgramWins);
        let eff = resolve(&rc, "p", &forced).unwrap();
        assert_eq!(eff.raw()["secret"], "prog");
        assert_eq!(eff.raw()["binds"], json!(["*:2"]));

        let norc = program.precedence(Precedence::ProgramOnly);
        let eff = resolve(&rc, "p", &norc).unwrap();
        assert_eq!(eff.raw()["secret"], "prog");
        assert_eq!(eff.raw()["binds"], json!(["*:2"]));
        // norc does not even look at the (broken) profile section
        let mut broken = RcFile::new("/rc");
        broken.root_mut().insert("profile".into(), json!(3));
        assert!(resolve(&broken, "p", &norc).is_ok());
    }

    #[test]
    fn defaults_do_not_beat_the_file_under_force() {
        let rc = rc(r#"{"monitor_timeout":7}"#);
        let forced = Overrides::new().precedence(Precedence::ProgramWins);
        assert_eq!(
            resolve(&rc, "p", &forced).unwrap().raw()["monitor_timeout"],
            7
        );
    }

    #[test]
    fn configure_args_norc_beats_force() {
        let o = Overrides::from_configure_args([
            ("force".to_owned(), json!(1)),
            ("norc".to_owned(), json!(true)),
        ])
        .unwrap();
        assert_eq!(o.precedence, Precedence::ProgramOnly);
        assert!(Overrides::from_configure_args([("norc".to_owned(), json!("perhaps"))]).is_err());
    }
}
