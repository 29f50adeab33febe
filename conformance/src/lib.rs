//! aemp-conformance: a black-box conformance suite for AEMP, the protocol of Perl's
//! AnyEvent::MP 2.x.
//!
//! The suite connects to any node as one or more peers with node IDs of its own
//! (`conformance-<run>-<n>`) and checks, on the wire, what the node does: the handshake,
//! the node-port requests, the ordering of relayed messages and (for seed nodes) the global
//! directory and database protocol. It needs nothing on the target beyond a plain node with
//! the shared secret.
//!
//! The expectations are those of the original Perl implementation, taken from recorded
//! captures of it; where the written spec and the original differ, the original wins and
//! the case says so.
//!
//! ```no_run
//! use std::sync::Arc;
//! use aemp_conformance::{cases, run, Ctx, Options};
//! let options = Options {
//!     target: "127.0.0.1:4040".into(),
//!     secret: b"geheim".to_vec(),
//!     target_is_seed: true,
//!     framing: aemp_proto::Framing::Cbor,
//!     only: None,
//! };
//! let ctx = Arc::new(Ctx::new(options).unwrap());
//! let report = run(ctx, &cases::all(), |case| println!("{}", case.line()));
//! println!("{}", report.summary());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cases;
pub mod client;
pub mod ctx;
pub mod manual;
pub mod net;
pub mod outcome;
pub mod raw;
pub mod report;
pub mod runner;
pub mod values;

pub use ctx::{Ctx, Options};
pub use outcome::{CaseResult, Failure};
pub use report::{CaseReport, Report, Status};
pub use runner::run;
