//! `aemp run <configure-args...>`: configure a node (profile, norc, force, key/value pairs)
//! and run it until SIGINT or SIGTERM.

use std::process::ExitCode;

use aemp_config::{Overrides, Precedence};
use aemp_node::{Node, StartError};

use super::services;
use crate::args::parse_arg;
use crate::commands::secret;
use crate::error::CliError;
use crate::session::Session;

/// The `KEY VALUE` pairs of the command line (values JSON when they look like JSON).
fn configure_pairs(args: Vec<String>) -> Result<Vec<(String, serde_json::Value)>, CliError> {
    if !args.len().is_multiple_of(2) {
        return Err(CliError::Usage(format!(
            "run: arguments come in KEY VALUE pairs; {:?} has no value",
            args.last().map(String::as_str).unwrap_or_default()
        )));
    }
    let mut pairs = Vec::with_capacity(args.len() / 2);
    let mut words = args.into_iter();
    while let (Some(key), Some(value)) = (words.next(), words.next()) {
        pairs.push((key, parse_arg(&value)?));
    }
    Ok(pairs)
}

/// A node needs a shared secret (or a certificate) to authenticate anybody. On a fresh
/// machine there is none yet: like `aemp gensecret`, generate one and store it in the rc
/// file, so that every node using that file shares it.
fn ensure_secret(overrides: &Overrides) -> Result<(), CliError> {
    if overrides.precedence == Precedence::ProgramOnly {
        return Err(CliError::Usage(
            "run: with norc 1 and neither 'secret' nor 'cert' given, no node could ever \
             authenticate this one; add e.g. 'secret S'"
                .into(),
        ));
    }
    let mut session = Session::load()?;
    secret::generate(&mut session)?;
    session.commit()?;
    eprintln!(
        "aemp: run: no shared secret was configured; generated one and stored it in {} \
         (nodes using that file share it; copy it to other hosts with 'aemp setsecret')",
        session.rc().path().display()
    );
    Ok(())
}

/// Runs the node until a termination signal, then shuts it down cleanly.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let overrides = Overrides::from_configure_args(configure_pairs(args)?)?;
    let cfg = aemp_config::configure(&overrides, &aemp_config::hostname(), "check")?;
    if cfg.secret.is_none() && cfg.cert.is_none() {
        ensure_secret(&overrides)?;
    }
    crate::logging::init();
    let node = services::register(Node::builder().overrides(overrides))
        .start()
        .map_err(|e| match e {
            // The original exits with a usage status for a service it cannot resolve.
            StartError::Setting {
                key: "services", ..
            } => CliError::Usage(format!("run: {e}")),
            e => CliError::Failed(format!("run: cannot start the node: {e}")),
        })?;
    println!(
        "node {} running (global: {})",
        node.node_id(),
        node.is_global()
    );
    let stopper = node.clone();
    ctrlc::set_handler(move || stopper.shutdown())
        .map_err(|e| CliError::Failed(format!("run: cannot install the signal handler: {e}")))?;
    futures_lite::future::block_on(node.stopped());
    tracing::info!("node stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_json_values() {
        let p = configure_pairs(vec![
            "norc".into(),
            "1".into(),
            "binds".into(),
            r#"["*:1"]"#.into(),
        ])
        .unwrap();
        assert_eq!(p[0], ("norc".into(), serde_json::json!("1")));
        assert_eq!(p[1], ("binds".into(), serde_json::json!(["*:1"])));
        assert!(configure_pairs(vec!["nodeid".into()]).is_err());
    }
}
