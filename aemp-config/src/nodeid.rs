//! Node ID templates: `%n`, `%u` and a trailing `/`.

use crate::ConfigError;

/// A node ID template after expansion.
///
/// ```
/// let id = aemp_config::expand_nodeid("worker/%n/", "box1", "Zq3k").unwrap();
/// assert_eq!(id.nodeid, "worker/box1/Zq3k");
/// assert!(id.unique);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedNodeId {
    /// The node ID to use.
    pub nodeid: String,
    /// Whether the unique string went into the node ID (`%u` or a trailing `/`). A node
    /// whose ID is already unique need not randomise its port names (the original then
    /// drops its per-process port name prefix).
    pub unique: bool,
}

/// Expands a node ID template: every `%n` becomes `hostname`, every `%u` becomes `unique`,
/// and if the result ends in `/`, `unique` is appended. Any other `%` stays as it is.
///
/// `hostname` and `unique` come from the caller: the host name of this machine and a
/// random string that is unique to this node's run (the original uses the same string for
/// every `%u` and the trailing `/`).
///
/// ```
/// use aemp_config::expand_nodeid;
///
/// assert_eq!(expand_nodeid("seed", "h", "U").unwrap().nodeid, "seed");
/// assert_eq!(expand_nodeid("%n", "h", "U").unwrap().nodeid, "h");
/// assert_eq!(expand_nodeid("anon/", "h", "U").unwrap().nodeid, "anon/U");
/// assert_eq!(expand_nodeid("w-%u-%u", "h", "U").unwrap().nodeid, "w-U-U");
/// assert!(expand_nodeid("", "h", "U").is_err());
/// ```
pub fn expand_nodeid(
    template: &str,
    hostname: &str,
    unique: &str,
) -> Result<ExpandedNodeId, ConfigError> {
    let mut nodeid = String::with_capacity(template.len() + unique.len());
    let mut used_unique = false;
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        nodeid.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('n') {
            nodeid.push_str(hostname);
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('u') {
            nodeid.push_str(unique);
            used_unique = true;
            rest = tail;
        } else {
            nodeid.push('%');
            rest = after;
        }
    }
    nodeid.push_str(rest);
    if nodeid.ends_with('/') {
        nodeid.push_str(unique);
        used_unique = true;
    }
    if nodeid.is_empty() {
        return Err(ConfigError::EmptyNodeId {
            template: template.to_owned(),
        });
    }
    Ok(ExpandedNodeId {
        nodeid,
        unique: used_unique,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_not_unique() {
        let id = expand_nodeid("seed", "h", "U").unwrap();
        assert_eq!(id.nodeid, "seed");
        assert!(!id.unique);
    }

    #[test]
    fn other_percent_sequences_stay() {
        assert_eq!(expand_nodeid("a%b%", "h", "U").unwrap().nodeid, "a%b%");
        assert_eq!(expand_nodeid("%%n", "h", "U").unwrap().nodeid, "%h");
    }

    #[test]
    fn host_names_are_not_rescanned() {
        assert_eq!(expand_nodeid("%n", "x%u", "U").unwrap().nodeid, "x%u");
    }

    #[test]
    fn profile_default_template() {
        let id = expand_nodeid("myprofile/", "h", "Zz9").unwrap();
        assert_eq!(id.nodeid, "myprofile/Zz9");
        assert!(id.unique);
    }

    #[test]
    fn empty_after_expansion_is_an_error() {
        let err = expand_nodeid("%n", "", "U").unwrap_err();
        assert!(err.to_string().contains("%n"), "{err}");
    }
}
