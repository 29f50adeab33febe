//! The configuration file as a whole: loading, profile access and saving.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::atomic::write_atomic;
use crate::{default_rc_path, ConfigError, JsonMap};

/// The key holding the named profiles.
pub(crate) const PROFILE_KEY: &str = "profile";
/// The key holding the file format version.
pub(crate) const VERSION_KEY: &str = "version";
/// The key by which a profile names its parent.
pub(crate) const PARENT_KEY: &str = "parent";
/// The file format version this crate writes.
const VERSION: u64 = 1;

/// The parsed configuration file, with the path it came from (and is saved to).
///
/// Layout (as the Perl original): `{"version": 1, <global keys>, "profile": {NAME: {...}}}`.
/// All keys, including ones this crate does not know, keep their order and are written back
/// unchanged.
///
/// ```
/// use aemp_config::RcFile;
///
/// let mut rc = RcFile::parse("/tmp/rc", r#"{"version":1,"secret":"s","x-mine":[1]}"#).unwrap();
/// rc.profile_mut("seed").unwrap().insert("binds".into(), serde_json::json!(["*:4040"]));
/// let text = rc.to_pretty_json();
/// assert!(text.contains("x-mine"));
/// assert!(text.contains("*:4040"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RcFile {
    path: PathBuf,
    root: JsonMap,
}

impl RcFile {
    /// An empty configuration (`{"version": 1}`) that will be saved to `path`.
    ///
    /// ```
    /// let rc = aemp_config::RcFile::new("/tmp/rc");
    /// assert_eq!(rc.root()["version"], 1);
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let mut root = JsonMap::new();
        root.insert(VERSION_KEY.to_owned(), Value::from(VERSION));
        RcFile {
            path: path.into(),
            root,
        }
    }

    /// Loads the file at [`default_rc_path`].
    ///
    /// ```no_run
    /// let rc = aemp_config::RcFile::load_default()?;
    /// println!("{}", rc.path().display());
    /// # Ok::<(), aemp_config::ConfigError>(())
    /// ```
    pub fn load_default() -> Result<Self, ConfigError> {
        Self::load(default_rc_path()?)
    }

    /// Loads `path`. A missing file is an empty configuration; an unreadable or unparsable
    /// file is an error naming the file (and the parse position).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let rc = aemp_config::RcFile::load(dir.path().join("absent")).unwrap();
    /// assert_eq!(rc, aemp_config::RcFile::new(dir.path().join("absent")));
    /// ```
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let path = path.into();
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no configuration file, using an empty one");
                Ok(Self::new(path))
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses configuration text that belongs to `path` (used in error messages and by
    /// [`RcFile::save`]).
    ///
    /// ```
    /// use aemp_config::{ConfigError, RcFile};
    ///
    /// match RcFile::parse("/tmp/rc", "{\n  \"secret\": }") {
    ///     Err(ConfigError::Parse { line, .. }) => assert_eq!(line, 2),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(matches!(RcFile::parse("/tmp/rc", "[]"), Err(ConfigError::Layout { .. })));
    /// ```
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Self, ConfigError> {
        let path = path.into();
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => {
                return Err(ConfigError::Parse {
                    message: e.to_string(),
                    line: e.line(),
                    column: e.column(),
                    path,
                })
            }
        };
        let root = match value {
            Value::Object(root) => root,
            other => {
                return Err(ConfigError::Layout {
                    path,
                    problem: format!(
                        "the top level must be a JSON object, not {}",
                        json_kind(&other)
                    ),
                })
            }
        };
        let rc = RcFile { path, root };
        // Check the profile section once, so that a broken one is reported on load.
        for name in rc.profile_names()? {
            rc.profile(&name)?;
        }
        Ok(rc)
    }

    /// The path this configuration was loaded from and will be saved to.
    ///
    /// ```
    /// assert_eq!(aemp_config::RcFile::new("/tmp/rc").path(), std::path::Path::new("/tmp/rc"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file: global keys, `version` and `profile`.
    ///
    /// ```
    /// let rc = aemp_config::RcFile::parse("/tmp/rc", r#"{"seeds":["a:1"]}"#).unwrap();
    /// assert_eq!(rc.root()["seeds"][0], "a:1");
    /// ```
    pub fn root(&self) -> &JsonMap {
        &self.root
    }

    /// The whole file, for editing the global keys.
    ///
    /// ```
    /// let mut rc = aemp_config::RcFile::new("/tmp/rc");
    /// rc.root_mut().insert("secret".into(), "s3cr3t".into());
    /// assert_eq!(rc.root()["secret"], "s3cr3t");
    /// ```
    pub fn root_mut(&mut self) -> &mut JsonMap {
        &mut self.root
    }

    /// The names of all profiles, in file order.
    ///
    /// ```
    /// let rc = aemp_config::RcFile::parse("/tmp/rc", r#"{"profile":{"b":{},"a":{}}}"#).unwrap();
    /// assert_eq!(rc.profile_names().unwrap(), ["b", "a"]);
    /// ```
    pub fn profile_names(&self) -> Result<Vec<String>, ConfigError> {
        Ok(self
            .profiles()?
            .map(|profiles| profiles.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// The profile's own keys (without inheritance), or `None` if there is no such profile.
    ///
    /// ```
    /// let rc = aemp_config::RcFile::parse("/tmp/rc", r#"{"profile":{"seed":{"binds":["*:4040"]}}}"#).unwrap();
    /// assert_eq!(rc.profile("seed").unwrap().unwrap()["binds"][0], "*:4040");
    /// assert!(rc.profile("other").unwrap().is_none());
    /// ```
    pub fn profile(&self, name: &str) -> Result<Option<&JsonMap>, ConfigError> {
        match self.profiles()?.and_then(|profiles| profiles.get(name)) {
            None => Ok(None),
            Some(Value::Object(profile)) => Ok(Some(profile)),
            Some(other) => Err(self.bad_profile(name, other)),
        }
    }

    /// The profile's own keys for editing; the profile (and the `profile` section) is
    /// created empty if missing.
    ///
    /// ```
    /// let mut rc = aemp_config::RcFile::new("/tmp/rc");
    /// rc.profile_mut("worker").unwrap().insert("parent".into(), "base".into());
    /// assert_eq!(rc.root()["profile"]["worker"]["parent"], "base");
    /// ```
    pub fn profile_mut(&mut self, name: &str) -> Result<&mut JsonMap, ConfigError> {
        self.check_profiles_section()?;
        if let Some(found) = self.profiles()?.and_then(|p| p.get(name)) {
            if !found.is_object() {
                return Err(self.bad_profile(name, found));
            }
        }
        let path = &self.path;
        self.root
            .entry(PROFILE_KEY)
            .or_insert_with(|| Value::Object(JsonMap::new()))
            .as_object_mut()
            .map(|profiles| {
                profiles
                    .entry(name)
                    .or_insert_with(|| Value::Object(JsonMap::new()))
            })
            .and_then(Value::as_object_mut)
            .ok_or_else(|| ConfigError::Layout {
                path: path.clone(),
                problem: format!("profile {name:?} must be an object"),
            })
    }

    /// Removes a profile; returns its keys if it existed.
    ///
    /// ```
    /// let mut rc = aemp_config::RcFile::parse("/tmp/rc", r#"{"profile":{"old":{"secret":"x"}}}"#).unwrap();
    /// assert!(rc.remove_profile("old").unwrap().is_some());
    /// assert!(rc.remove_profile("old").unwrap().is_none());
    /// ```
    pub fn remove_profile(&mut self, name: &str) -> Result<Option<JsonMap>, ConfigError> {
        self.check_profiles_section()?;
        let removed = match self.root.get_mut(PROFILE_KEY) {
            Some(Value::Object(profiles)) => profiles.shift_remove(name),
            _ => None,
        };
        match removed {
            None => Ok(None),
            Some(Value::Object(profile)) => Ok(Some(profile)),
            Some(other) => Err(self.bad_profile(name, &other)),
        }
    }

    /// The file as it will be written: pretty-printed JSON with a trailing newline.
    ///
    /// ```
    /// let rc = aemp_config::RcFile::new("/tmp/rc");
    /// assert_eq!(rc.to_pretty_json(), "{\n  \"version\": 1\n}\n");
    /// ```
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.root)
            .expect("a JSON map with string keys always serialises");
        text.push('\n');
        text
    }

    /// Writes the file atomically: a temporary file in the same directory is written and
    /// synced, the previous file is kept as `FILE~`, then the temporary file is renamed over
    /// the file. A `version` key is added if the file had none.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut rc = aemp_config::RcFile::load(dir.path().join("rc")).unwrap();
    /// rc.root_mut().insert("secret".into(), "s".into());
    /// rc.save().unwrap();
    /// assert_eq!(aemp_config::RcFile::load(dir.path().join("rc")).unwrap(), rc);
    /// ```
    pub fn save(&self) -> Result<(), ConfigError> {
        if self.root.contains_key(VERSION_KEY) {
            write_atomic(&self.path, self.to_pretty_json().as_bytes())
        } else {
            let mut versioned = RcFile::new(self.path.clone());
            versioned
                .root
                .extend(self.root.iter().map(|(k, v)| (k.clone(), v.clone())));
            versioned.save()
        }
    }

    /// The `profile` section, if present.
    fn profiles(&self) -> Result<Option<&JsonMap>, ConfigError> {
        match self.root.get(PROFILE_KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(profiles)) => Ok(Some(profiles)),
            Some(other) => Err(self.bad_section(other)),
        }
    }

    /// Fails if the `profile` key holds something other than an object (or null).
    fn check_profiles_section(&mut self) -> Result<(), ConfigError> {
        self.profiles()?;
        if self.root.get(PROFILE_KEY) == Some(&Value::Null) {
            self.root
                .insert(PROFILE_KEY.to_owned(), Value::Object(JsonMap::new()));
        }
        Ok(())
    }

    fn bad_section(&self, found: &Value) -> ConfigError {
        ConfigError::Layout {
            path: self.path.clone(),
            problem: format!(
                "key \"profile\" must be an object of profiles, not {}",
                json_kind(found)
            ),
        }
    }

    fn bad_profile(&self, name: &str, found: &Value) -> ConfigError {
        ConfigError::Layout {
            path: self.path.clone(),
            problem: format!(
                "profile {name:?} must be an object, not {}",
                json_kind(found)
            ),
        }
    }
}

/// A short description of a JSON value's type, for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_and_order_survive_a_round_trip() {
        let text = r#"{"zeta":1,"version":1,"alpha":{"deep":[1,2]},"profile":{"p":{"zz":true,"nodeid":"x"}}}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        let rc = RcFile::parse(&path, text).unwrap();
        rc.save().unwrap();
        let back = fs::read_to_string(&path).unwrap();
        let keys: Vec<_> = RcFile::parse(&path, &back)
            .unwrap()
            .root
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["zeta", "version", "alpha", "profile"]);
        let reparsed: Value = serde_json::from_str(&back).unwrap();
        assert_eq!(reparsed, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn version_is_added_first_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        RcFile::parse(&path, r#"{"secret":"s"}"#)
            .unwrap()
            .save()
            .unwrap();
        let rc = RcFile::load(&path).unwrap();
        let keys: Vec<_> = rc.root().keys().cloned().collect();
        assert_eq!(keys, ["version", "secret"]);
    }

    #[test]
    fn parse_error_names_file_and_position() {
        let err = RcFile::parse("/some/where/rc", "{\n \"a\": 1,\n \"b\" 2\n}").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/some/where/rc"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn load_reports_unparsable_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rc");
        fs::write(&path, "not json").unwrap();
        assert!(matches!(
            RcFile::load(&path),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn broken_profile_sections_are_rejected() {
        for text in [r#"{"profile":[]}"#, r#"{"profile":{"a":3}}"#] {
            let err = RcFile::parse("/rc", text).unwrap_err();
            assert!(matches!(err, ConfigError::Layout { .. }), "{err}");
        }
        // null is treated as "no profiles"
        let mut rc = RcFile::parse("/rc", r#"{"profile":null}"#).unwrap();
        rc.profile_mut("a").unwrap().insert("k".into(), json!(1));
        assert_eq!(rc.root()["profile"], json!({"a": {"k": 1}}));
    }

    #[test]
    fn profile_mut_rejects_non_object_profile() {
        let mut rc = RcFile::new("/rc");
        rc.root_mut().insert("profile".into(), json!({"a": "oops"}));
        assert!(rc.profile_mut("a").is_err());
        assert!(rc.profile_mut("b").is_ok());
    }
}
