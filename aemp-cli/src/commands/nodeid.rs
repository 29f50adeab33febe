//! `setnodeid`.

use serde_json::Value;

use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// `setnodeid <nodeid>`: a non-empty node ID (template) without blanks or `#`.
pub(super) fn set(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let nodeid = args.string(name, "<nodeid>")?;
    if nodeid.is_empty() {
        return Err(CliError::Usage(format!(
            "{name}: the node ID must not be empty (use delnodeid for the default)"
        )));
    }
    if let Some(bad) = nodeid
        .chars()
        .find(|c| *c == '#' || c.is_whitespace() || c.is_control())
    {
        return Err(CliError::Usage(format!(
            "{name}: node ID {nodeid:?} contains {bad:?}; node IDs cannot contain '#', blanks or control characters"
        )));
    }
    session.set("nodeid", Value::String(nodeid))
}
