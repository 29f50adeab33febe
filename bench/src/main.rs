//! `aemp-bench`: measures aemp-rs end to end between two OS processes on loopback.
//!
//! With no arguments it runs every workload and prints one line each:
//!
//! ```text
//! oneway payload=16 n=N secs=S msgs_per_s=R
//! oneway payload=1024 n=N secs=S msgs_per_s=R mb_per_s=M
//! pingpong n=N mean_us=A p50_us=B p99_us=C
//! local payload=16 n=N msgs_per_s=R
//! rss_idle_kib=K
//! dataconn bytes=B secs=S mb_per_s=M raw_tcp_mb_per_s=R ratio=X
//! ```
//!
//! The second process is this program itself (`--serve`, started by the first); the
//! nodes use the public API only. The one-way receiver checks that sequence numbers
//! arrive in order without gaps and reports a violation as an error (exit status 1),
//! never as a figure. `bench/baselines/` has the same workloads for Erlang/OTP and a C
//! floor, printing the same lines.
#![forbid(unsafe_code)]

mod bulk;
mod options;
mod peer;
mod report;
mod workloads;

use std::process::ExitCode;

use clap::Parser;

use options::{Args, Workload};

/// The binaries use jemalloc (measured against mimalloc and the system allocator: see
/// BENCHMARKS.md); the libraries set no allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Err(e) = args.make_cert() {
        eprintln!("aemp-bench: {e}");
        return ExitCode::from(1);
    }
    if args.serve {
        return match peer::serve(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("aemp-bench --serve: {e}");
                ExitCode::from(1)
            }
        };
    }
    let runs: Vec<(Workload, usize)> = match args.workload {
        Some(w) => vec![(w, args.payload.unwrap_or(16))],
        None => vec![
            (Workload::Oneway, 16),
            (Workload::Oneway, 1024),
            (Workload::Pingpong, 16),
            (Workload::Local, 16),
            (Workload::Rss, 0),
            (Workload::Dataconn, 0),
        ],
    };
    let mut failed = false;
    for (workload, payload) in runs {
        match workloads::run(&args, workload, payload) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("aemp-bench: {}: {e}", workload.name());
                failed = true;
            }
        }
    }
    if let Some(cert) = args.cert.as_ref().filter(|_| args.tls) {
        let _ = std::fs::remove_file(cert);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
