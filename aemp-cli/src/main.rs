//! `aemp`, the AnyEvent::MP command-line tool: edits the configuration file shared with
//! Perl nodes, runs nodes and talks to them.
//!
//! The command line is a chain of commands, each taking its own arguments; see
//! `aemp --help`. Configuration commands live in `commands/`, one module per group; the
//! protocol commands (`run snd cal mon trace eval`) live in `protocol/`, one module each,
//! and are dispatched by [`protocol::ProtocolCmd::execute`] with the rest of the command
//! line.
#![forbid(unsafe_code)]

/// The tool uses jemalloc (measured against mimalloc and the system allocator with
/// `aemp-bench`: see BENCHMARKS.md); the libraries set no allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod args;
mod commands;
mod error;
mod help;
mod logging;
mod protocol;
mod session;

use std::process::ExitCode;

use crate::args::Args;
use crate::commands::{lookup, Cmd};
use crate::error::CliError;
use crate::session::Session;

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("aemp: {e}");
            e.exit_code()
        }
    }
}

fn run(argv: impl Iterator<Item = std::ffi::OsString>) -> Result<ExitCode, CliError> {
    let argv = argv
        .map(|arg| {
            arg.into_string()
                .map_err(|bad| CliError::Usage(format!("argument {bad:?} is not valid UTF-8")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if argv.is_empty() {
        eprint!("{}", help::general());
        return Ok(ExitCode::from(2));
    }
    if let Some(text) = help::requested(&argv)? {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    run_chain(Args::new(argv))
}

/// Runs the commands one after the other. The configuration is loaded before the first
/// configuration command and saved after the last one (or before a protocol command, which
/// takes the rest of the command line); nothing is saved if any command fails.
fn run_chain(mut args: Args) -> Result<ExitCode, CliError> {
    let mut session: Option<Session> = None;
    while let Some(word) = args.next_word() {
        let spec = lookup(&word).ok_or_else(|| help::unknown_command(&word))?;
        match spec.cmd {
            Cmd::Protocol(protocol) => {
                if let Some(session) = &session {
                    session.commit()?;
                }
                return protocol.execute(args.rest());
            }
            Cmd::Config(cmd) => {
                let session = match &mut session {
                    Some(session) => session,
                    None => session.insert(Session::load()?),
                };
                commands::apply(cmd, spec.name, session, &mut args)?;
            }
        }
    }
    if let Some(session) = &session {
        session.commit()?;
    }
    Ok(ExitCode::SUCCESS)
}
