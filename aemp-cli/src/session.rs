//! The configuration being edited by one chain of commands.

use aemp_config::{JsonMap, RcFile};
use serde_json::Value;

use crate::error::CliError;

/// Which settings the setters change: the global ones or one profile's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Global,
    Profile(String),
}

/// The file as loaded, the edits so far and the current target.
pub(crate) struct Session {
    rc: RcFile,
    original: RcFile,
    target: Target,
}

impl Session {
    /// Loads the configuration file; a file that cannot be parsed stops everything here, so
    /// it is never overwritten.
    pub(crate) fn load() -> Result<Self, CliError> {
        let rc = RcFile::load_default()?;
        Ok(Session {
            original: rc.clone(),
            rc,
            target: Target::Global,
        })
    }

    pub(crate) fn rc(&self) -> &RcFile {
        &self.rc
    }

    pub(crate) fn rc_mut(&mut self) -> &mut RcFile {
        &mut self.rc
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// Makes `name` the target of the following setters, creating the profile if missing.
    pub(crate) fn select_profile(&mut self, name: String) -> Result<(), CliError> {
        self.rc.profile_mut(&name)?;
        self.target = Target::Profile(name);
        Ok(())
    }

    /// The target's own keys (not inherited ones), if the target exists.
    pub(crate) fn scope(&self) -> Result<Option<&JsonMap>, CliError> {
        match &self.target {
            Target::Global => Ok(Some(self.rc.root())),
            Target::Profile(name) => Ok(self.rc.profile(name)?),
        }
    }

    /// The target's own keys, for editing (a deleted profile is created again).
    pub(crate) fn scope_mut(&mut self) -> Result<&mut JsonMap, CliError> {
        match &self.target {
            Target::Global => Ok(self.rc.root_mut()),
            Target::Profile(name) => Ok(self.rc.profile_mut(name)?),
        }
    }

    /// Sets `key` in the target.
    pub(crate) fn set(&mut self, key: &str, value: Value) -> Result<(), CliError> {
        self.scope_mut()?.insert(key.to_owned(), value);
        Ok(())
    }

    /// Removes `key` from the target, so that it is inherited again.
    pub(crate) fn remove(&mut self, key: &str) -> Result<(), CliError> {
        if self.scope()?.is_some_and(|scope| scope.contains_key(key)) {
            self.scope_mut()?.shift_remove(key);
        }
        Ok(())
    }

    /// Words for messages: `the global settings` or `profile "NAME"`.
    pub(crate) fn target_description(&self) -> String {
        match &self.target {
            Target::Global => "the global settings".to_owned(),
            Target::Profile(name) => format!("profile {name:?}"),
        }
    }

    /// Writes the file if the chain changed anything.
    pub(crate) fn commit(&self) -> Result<(), CliError> {
        if self.rc != self.original {
            self.rc.save()?;
        }
        Ok(())
    }
}
