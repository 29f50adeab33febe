//! The protocol commands: they run a node or talk to nodes, and take every remaining
//! argument. Each one lives in its own module with a `main(args)` entry point.

mod cal;
mod client;
mod dataconn;
mod eval;
mod mon;
mod run;
mod services;
mod snd;
mod stats;
mod trace;

use std::process::ExitCode;

use crate::error::CliError;

/// A command that needs a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtocolCmd {
    Run,
    Snd,
    Cal,
    Mon,
    Trace,
    Stats,
    Eval,
    DataConn,
}

impl ProtocolCmd {
    /// Runs the command with the words that followed it on the command line (raw: each
    /// command decides which ones are JSON). Configuration changes made earlier in the
    /// chain are already saved.
    pub(crate) fn execute(self, args: Vec<String>) -> Result<ExitCode, CliError> {
        match self {
            ProtocolCmd::Run => run::main(args),
            ProtocolCmd::Snd => snd::main(args),
            ProtocolCmd::Cal => cal::main(args),
            ProtocolCmd::Mon => mon::main(args),
            ProtocolCmd::Trace => trace::main(args),
            ProtocolCmd::Stats => stats::main(args),
            ProtocolCmd::Eval => eval::main(args),
            ProtocolCmd::DataConn => dataconn::main(args),
        }
    }
}
