//! `showprofile` and `showconfig`.

use aemp_config::{resolve, JsonMap, Overrides};

use crate::args::{parse_arg, Args};
use crate::error::CliError;
use crate::session::{Session, Target};

/// `showprofile <name>`: the profile's own keys, as stored.
pub(super) fn profile(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let profile = args.string(name, "<name>")?;
    let keys = session.rc().profile(&profile)?.ok_or_else(|| {
        CliError::Failed(format!(
            "{name}: there is no profile {profile:?} in {}",
            session.rc().path().display()
        ))
    })?;
    print_json(keys);
    Ok(())
}

/// `showconfig [<name> [<key> <value>]...]`: the effective configuration. Takes all
/// remaining arguments.
pub(super) fn config(name: &str, session: &mut Session, args: &mut Args) -> Result<(), CliError> {
    let mut words = args.rest().into_iter();
    let profile = match (words.next(), session.target()) {
        (Some(profile), _) => profile,
        (None, Target::Profile(selected)) => selected.clone(),
        (None, Target::Global) => aemp_config::hostname(),
    };
    let mut pairs = Vec::new();
    while let Some(key) = words.next() {
        let Some(value) = words.next() else {
            return Err(CliError::Usage(format!(
                "{name}: key {key:?} has no value (arguments after the profile name are KEY VALUE pairs)"
            )));
        };
        pairs.push((key, parse_arg(&value)?));
    }
    let overrides = Overrides::from_configure_args(pairs)?;
    let profile = overrides.profile.clone().unwrap_or(profile);
    let effective = resolve(session.rc(), &profile, &overrides)?;
    print_json(effective.raw());
    if let Err(problem) = effective.node_config(&aemp_config::hostname(), "UNIQUE") {
        eprintln!("aemp: warning: a node could not start with this configuration: {problem}");
    }
    Ok(())
}

fn print_json(map: &JsonMap) {
    println!(
        "{}",
        serde_json::to_string_pretty(map).expect("a JSON map with string keys always serialises")
    );
}
