//! Where the configuration file lives.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::ConfigError;

/// The environment variable that overrides the file location, as in the Perl original.
///
/// ```
/// assert_eq!(aemp_config::RC_ENV, "PERL_ANYEVENT_MP_RC");
/// ```
pub const RC_ENV: &str = "PERL_ANYEVENT_MP_RC";

/// The file name used in the home directory when [`RC_ENV`] is not set.
///
/// ```
/// assert_eq!(aemp_config::RC_FILE_NAME, ".perl-anyevent-mp");
/// ```
pub const RC_FILE_NAME: &str = ".perl-anyevent-mp";

/// The configuration file path: `$PERL_ANYEVENT_MP_RC` if set (and not empty), else
/// `$HOME/.perl-anyevent-mp` (`%USERPROFILE%` on Windows).
///
/// ```
/// let path = aemp_config::default_rc_path();
/// // Either a path was found or the error says which variables were missing.
/// if let Ok(p) = path {
///     assert!(!p.as_os_str().is_empty());
/// }
/// ```
pub fn default_rc_path() -> Result<PathBuf, ConfigError> {
    rc_path_from(
        std::env::var_os(RC_ENV),
        std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")),
    )
}

/// The pure part of [`default_rc_path`]: the path for a given override and home directory.
///
/// ```
/// use std::path::PathBuf;
/// use aemp_config::rc_path_from;
///
/// assert_eq!(
///     rc_path_from(None, Some("/home/me".into())).unwrap(),
///     PathBuf::from("/home/me/.perl-anyevent-mp")
/// );
/// assert_eq!(
///     rc_path_from(Some("/etc/aemp.json".into()), Some("/home/me".into())).unwrap(),
///     PathBuf::from("/etc/aemp.json")
/// );
/// assert!(rc_path_from(None, None).is_err());
/// ```
pub fn rc_path_from(
    rc_override: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, ConfigError> {
    match (rc_override, home) {
        (Some(rc), _) if !rc.is_empty() => Ok(PathBuf::from(rc)),
        (_, Some(home)) if !home.is_empty() => Ok(PathBuf::from(home).join(RC_FILE_NAME)),
        _ => Err(ConfigError::NoLocation),
    }
}
