//! What every case knows: the options, the target's address and node ID, fresh names.

use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aemp_proto::handshake::Greeting;
use aemp_proto::Framing;
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};

use crate::net::Target;
use crate::outcome::Failure;
use crate::raw::RawConn;

/// How long the suite waits for any single reply or event of the target.
pub const WAIT: Duration = Duration::from_secs(3);

/// What the user asked for on the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// The target's address, `HOST:PORT` (TCP) or `quic:HOST:PORT` (a Rust node's QUIC
    /// endpoint).
    pub target: String,
    /// The shared secret of the target's network.
    pub secret: Vec<u8>,
    /// Whether the target is a seed (global) node: enables the global protocol cases.
    pub target_is_seed: bool,
    /// The framing the suite sends and asks for.
    pub framing: Framing,
    /// Run only cases whose name contains this.
    pub only: Option<String>,
}

/// Shared state of one run of the suite.
#[derive(Debug)]
pub struct Ctx {
    options: Options,
    target_addr: Target,
    run_id: String,
    counter: AtomicU32,
    target: OnceLock<Result<Greeting, Failure>>,
}

impl Ctx {
    /// Resolves the target's address; fails with a message when it cannot be resolved.
    pub fn new(options: Options) -> Result<Ctx, String> {
        let (quic, host_port) = match options.target.strip_prefix("quic:") {
            Some(rest) => (true, rest),
            None => (false, options.target.as_str()),
        };
        let addr = host_port
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve target {:?}: {e}", options.target))?
            .next()
            .ok_or_else(|| format!("target {:?} resolves to no address", options.target))?;
        let target_addr = if quic {
            Target::Quic(addr)
        } else {
            Target::Tcp(addr)
        };
        let run_id: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(8)
            .map(char::from)
            .collect();
        Ok(Ctx {
            options,
            target_addr,
            run_id,
            counter: AtomicU32::new(0),
            target: OnceLock::new(),
        })
    }

    /// The options of this run.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The target's resolved address and transport.
    pub fn target(&self) -> Target {
        self.target_addr
    }

    /// A node ID no other peer of this run uses: `conformance-<run>-<n>`.
    pub fn fresh_node_id(&self) -> String {
        format!("conformance-{}-{}", self.run_id, self.next())
    }

    /// A name unique to this run, valid as a port name and as a database family name
    /// (`[A-Za-z][A-Za-z0-9_]*`): `conformance_<run>_<what>_<n>`.
    pub fn unique(&self, what: &str) -> String {
        format!("conformance_{}_{what}_{}", self.run_id, self.next())
    }

    fn next(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The `key=value` pairs the suite puts in its greetings (besides `mproto`/`gproto`).
    pub fn greeting_kv(&self) -> Vec<(String, String)> {
        vec![
            (
                "provider".into(),
                concat!("aemp-conformance-", env!("CARGO_PKG_VERSION")).into(),
            ),
            ("peeraddr".into(), self.options.target.clone()),
        ]
    }

    /// The target's node ID, read once from the greeting line 1 of a probe connection.
    pub fn target_id(&self) -> Result<String, Failure> {
        self.target_greeting().map(|g| g.node_id)
    }

    /// Skips the case (rather than failing it) when the target does not list every one of
    /// `framings` in its greeting: its framing list is configurable (`framing_format`).
    pub fn require_framings(&self, framings: &[Framing]) -> Result<(), Failure> {
        let listed = self.target_greeting()?.framings;
        match framings
            .iter()
            .find(|f| !listed.iter().any(|l| l == f.name()))
        {
            Some(f) => Err(Failure::skip(format!(
                "the target does not offer the {} framing (it lists {listed:?})",
                f.name()
            ))),
            None => Ok(()),
        }
    }

    fn target_greeting(&self) -> Result<Greeting, Failure> {
        self.target.get_or_init(|| probe_target(self)).clone()
    }
}

/// 66 random bytes, the nonce size of the original.
pub fn random_nonce() -> [u8; 66] {
    let mut nonce = [0u8; 66];
    rand::thread_rng().fill_bytes(&mut nonce);
    nonce
}

fn probe_target(ctx: &Ctx) -> Result<Greeting, Failure> {
    let mut conn = RawConn::connect(ctx)?;
    let line = conn.read_line("the target's greeting line 1", Instant::now() + WAIT)?;
    Greeting::parse(&line).map_err(|e| {
        Failure::expected(
            "a greeting line 1 naming the target's node ID",
            format!("{e}"),
        )
    })
}
