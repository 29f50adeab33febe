//! `profile`, `setparent`, `delparent`, `delprofile`.

use aemp_config::parent_chain;
use serde_json::Value;

use crate::args::Args;
use crate::error::CliError;
use crate::session::{Session, Target};

/// `profile <name>`: the following commands apply to this profile (created if missing).
pub(super) fn select(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let profile = profile_name(name, args)?;
    session.select_profile(profile)
}

/// `setparent <name>`: the selected profile inherits from `name`; cycles are refused.
pub(super) fn set_parent(
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    let current = selected_profile(name, session)?;
    let parent = profile_name(name, args)?;
    if session.rc().profile(&parent)?.is_none() {
        eprintln!("aemp: warning: {name}: profile {parent:?} does not exist (yet)");
    }
    session.set("parent", Value::String(parent))?;
    // Refuse a cycle now, so that the file never holds one written by us.
    parent_chain(session.rc(), &current)?;
    Ok(())
}

/// `delparent`: the selected profile inherits from the global settings only.
pub(super) fn del_parent(name: &str, session: &mut Session) -> Result<(), CliError> {
    selected_profile(name, session)?;
    session.remove("parent")
}

/// `delprofile <name>`: removes a profile; profiles naming it as parent are reported.
pub(super) fn delete(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let profile = profile_name(name, args)?;
    if session.rc_mut().remove_profile(&profile)?.is_none() {
        eprintln!(
            "aemp: warning: {name}: there is no profile {profile:?} in {}",
            session.rc().path().display()
        );
        return Ok(());
    }
    let mut children = Vec::new();
    for other in session.rc().profile_names()? {
        let parent = session
            .rc()
            .profile(&other)?
            .and_then(|keys| keys.get("parent"));
        if parent.and_then(Value::as_str) == Some(profile.as_str()) {
            children.push(other);
        }
    }
    if !children.is_empty() {
        eprintln!(
            "aemp: warning: {name}: profile(s) {} still name {profile:?} as their parent",
            children.join(", ")
        );
    }
    Ok(())
}

/// A non-empty profile name argument.
fn profile_name(name: &str, args: &mut Args) -> Result<String, CliError> {
    let profile = args.string(name, "<name>")?;
    if profile.is_empty() {
        return Err(CliError::Usage(format!(
            "{name}: the profile name must not be empty"
        )));
    }
    Ok(profile)
}

/// The profile chosen with `profile NAME`; parent commands make no sense without one.
fn selected_profile(name: &str, session: &Session) -> Result<String, CliError> {
    match session.target() {
        Target::Profile(profile) => Ok(profile.clone()),
        Target::Global => Err(CliError::Usage(format!(
            "{name}: no profile selected; use 'aemp profile NAME {name} ...'"
        ))),
    }
}
