//! `aemp run <configure-args...>`: configure a node (profile, norc, force, key/value pairs)
//! and run it until SIGINT or SIGTERM.

use std::process::ExitCode;

use aemp_config::Overrides;
use aemp_node::Node;

use super::services::{self, SERVICES};
use crate::args::parse_arg;
use crate::error::CliError;
use crate::hostname::host_name;

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

/// Runs the node until a termination signal, then shuts it down cleanly.
pub(super) fn main(args: Vec<String>) -> Result<ExitCode, CliError> {
    let overrides = Overrides::from_configure_args(configure_pairs(args)?)?;
    let cfg = aemp_config::configure(&overrides, &host_name(), "check")?;
    if let Some(unknown) = cfg
        .services
        .iter()
        .find(|s| !SERVICES.contains(&s.as_str()))
    {
        return Err(CliError::Usage(format!(
            "run: unknown service {unknown:?} in 'services' (this binary has: {})",
            SERVICES.join(", ")
        )));
    }
    crate::logging::init();
    let node = services::register(Node::builder().overrides(overrides))
        .start()
        .map_err(|e| CliError::Failed(format!("run: cannot start the node: {e}")))?;
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
