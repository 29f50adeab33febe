//! `aemp-conformance`: runs the conformance suite against one AEMP node.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aemp_conformance::{cases, run, Ctx, Options};
use aemp_proto::Framing;
use clap::{Parser, ValueEnum};

/// Black-box conformance suite for AEMP (AnyEvent::MP) nodes.
///
/// Connects to the target as peers with node IDs of its own and prints one line per case
/// (PASS, FAIL or SKIP), then `N passed, M failed[, K skipped]`. Exits with 0 only when no
/// case failed.
#[derive(Debug, Parser)]
#[command(name = "aemp-conformance", version)]
struct Args {
    /// Address of the node under test.
    #[arg(long, value_name = "HOST:PORT")]
    target: String,
    /// Shared secret of the target's network.
    #[arg(long)]
    secret: String,
    /// The target is a seed (global) node: also run the global protocol cases.
    #[arg(long)]
    target_is_seed: bool,
    /// Framing the suite sends and asks for.
    #[arg(long, value_enum, default_value_t = FramingArg::Cbor)]
    framing: FramingArg,
    /// Run only the cases whose name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    only: Option<String>,
    /// Also write a machine-readable report to this file.
    #[arg(long, value_name = "REPORT.json")]
    json: Option<PathBuf>,
}

/// The framings a Perl node speaks.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum FramingArg {
    Cbor,
    Json,
}

impl From<FramingArg> for Framing {
    fn from(f: FramingArg) -> Framing {
        match f {
            FramingArg::Cbor => Framing::Cbor,
            FramingArg::Json => Framing::Json,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        target: args.target,
        secret: args.secret.into_bytes(),
        target_is_seed: args.target_is_seed,
        framing: args.framing.into(),
        only: args.only,
    };
    let ctx = match Ctx::new(options) {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => {
            eprintln!("aemp-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let report = run(ctx, &cases::all(), |case| {
        println!("{}", case.line());
        let _ = std::io::stdout().flush();
    });
    println!("{}", report.summary());
    if let Some(path) = args.json {
        if let Err(e) = report.write_json(&path) {
            eprintln!("aemp-conformance: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
