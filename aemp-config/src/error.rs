//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while locating, reading, resolving or writing the
/// configuration. Every variant names the file, profile, key or value at fault.
///
/// ```
/// use aemp_config::{ConfigError, RcFile};
///
/// let err = RcFile::parse("/tmp/rc", "{\"version\":1,").unwrap_err();
/// assert!(matches!(err, ConfigError::Parse { .. }));
/// assert!(err.to_string().contains("/tmp/rc"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither `$PERL_ANYEVENT_MP_RC` nor a home directory is known.
    #[error("cannot locate the configuration file: neither PERL_ANYEVENT_MP_RC nor HOME is set")]
    NoLocation,

    /// The file exists but could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The configuration file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// The file is not valid JSON.
    #[error(
        "configuration file {path} is not valid JSON at line {line}, column {column}: {message}"
    )]
    Parse {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected or found.
        message: String,
    },

    /// The file is valid JSON but does not have the layout of a configuration file.
    #[error("configuration file {path}: {problem}")]
    Layout {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, e.g. `top level is an array, not an object`.
        problem: String,
    },

    /// Writing the new file (or its `~` backup) failed; the previous file is untouched.
    #[error("cannot write configuration file {path}: {step}: {source}")]
    Write {
        /// The configuration file.
        path: PathBuf,
        /// Which step of the atomic replacement failed.
        step: &'static str,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A chain of `parent` references leads back to a profile already in the chain.
    #[error("configuration file {path}: profile parent cycle: {}", chain.join(" -> "))]
    ParentCycle {
        /// The configuration file.
        path: PathBuf,
        /// The profile names in the order followed; the last one repeats an earlier one.
        chain: Vec<String>,
    },

    /// A key holds a value of the wrong type or out of range.
    #[error("configuration key {key:?}: invalid value {value}: {reason}")]
    InvalidValue {
        /// The configuration key, e.g. `monitor_timeout`.
        key: String,
        /// The offending value, as JSON.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A bind address could not be parsed.
    #[error("invalid bind address {value:?}: {reason} (expected *, PORT, *:PORT or HOST:PORT)")]
    InvalidBind {
        /// The offending bind string.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A node ID template expanded to the empty string.
    #[error("node ID template {template:?} gives an empty node ID")]
    EmptyNodeId {
        /// The template as configured.
        template: String,
    },
}

impl ConfigError {
    /// Builds an [`ConfigError::InvalidValue`] for `key` holding `value`.
    pub(crate) fn invalid(key: &str, value: &serde_json::Value, reason: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            key: key.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
