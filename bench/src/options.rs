//! The command line.

use std::time::Duration;

use aemp_node::{Node, NodeBuilder};
use aemp_proto::Framing;
use clap::{Parser, ValueEnum};

/// End-to-end benchmark of aemp-rs between two OS processes on loopback.
///
/// Without options every workload runs once with its default size.
#[derive(Debug, Clone, Parser)]
#[command(name = "aemp-bench", version)]
pub(crate) struct Args {
    /// Run only this workload.
    #[arg(long, value_enum)]
    pub(crate) workload: Option<Workload>,
    /// Payload bytes per message (oneway and local).
    #[arg(long, value_name = "BYTES")]
    pub(crate) payload: Option<usize>,
    /// Messages (or round trips) to time; the default makes a run last a few seconds.
    #[arg(long, value_name = "COUNT")]
    pub(crate) n: Option<u64>,
    /// The transport between the two processes.
    #[arg(long, value_enum, default_value_t = TransportArg::Tcp)]
    pub(crate) transport: TransportArg,
    /// The runtime the nodes run on.
    #[arg(long, value_enum, default_value_t = RuntimeArg::AsyncIo)]
    pub(crate) runtime: RuntimeArg,
    /// The framing both nodes speak.
    #[arg(long, value_enum, default_value_t = FramingArg::Cbor)]
    pub(crate) framing: FramingArg,
    /// What a node's driver does when it has nothing to do: sleep at once (block), or
    /// spin a while first (lower latency, one core busy).
    #[arg(long, value_enum, default_value_t = IdleArg::Block)]
    pub(crate) idle: IdleArg,
    /// Authenticate and encrypt with TLS, with a certificate made for the run.
    #[arg(long)]
    pub(crate) tls: bool,
    /// Internal: the certificate (a PEM file) both processes use with `--tls`.
    #[arg(long, hide = true, value_name = "PEM_FILE")]
    pub(crate) cert: Option<String>,
    /// Internal: be the second process (prints its address, serves until stdin closes).
    #[arg(long, hide = true)]
    pub(crate) serve: bool,
}

/// A workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Messages one way, from one process to a port in the other.
    Oneway,
    /// Round trips to a port handler in the other process.
    Pingpong,
    /// Messages between two ports of one node.
    Local,
    /// Resident memory of an idle node process.
    Rss,
    /// One large transfer through a data connection, and through plain TCP (`--n`: MiB).
    Dataconn,
}

impl Workload {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Oneway => "oneway",
            Workload::Pingpong => "pingpong",
            Workload::Local => "local",
            Workload::Rss => "rss",
            Workload::Dataconn => "dataconn",
        }
    }
}

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportArg {
    Tcp,
    Quic,
}

/// `--runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuntimeArg {
    AsyncIo,
    Tokio,
    Smol,
}

/// `--framing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FramingArg {
    Cbor,
    Json,
    #[value(name = "aemp-postcard1")]
    Postcard,
}

/// `--idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IdleArg {
    Block,
    Spin,
}

/// How long a spinning driver keeps polling after its last work.
const SPIN: Duration = Duration::from_micros(200);

impl Args {
    /// The command line of the second process for these options.
    pub(crate) fn serve_args(&self) -> Vec<String> {
        let value = |v: &dyn ValueEnumName| v.value_name();
        let cert = self
            .cert
            .iter()
            .flat_map(|c| ["--cert".to_owned(), c.clone()]);
        let mut args = vec![
            "--serve".into(),
            "--transport".into(),
            value(&self.transport),
            "--runtime".into(),
            value(&self.runtime),
            "--framing".into(),
            value(&self.framing),
            "--idle".into(),
            value(&self.idle),
        ];
        args.extend(cert);
        args
    }

    /// With `--tls`: makes the run's certificate and stores it in a file of the system's
    /// temporary directory (the second process reads it too).
    pub(crate) fn make_cert(&mut self) -> Result<(), String> {
        if !self.tls || self.cert.is_some() {
            return Ok(());
        }
        let pem = aemp_config::generate_cert().map_err(|e| format!("certificate: {e}"))?;
        let path = std::env::temp_dir().join(format!("aemp-bench-{}.pem", std::process::id()));
        std::fs::write(&path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
        self.cert = Some(path.display().to_string());
        Ok(())
    }

    /// A node builder with the benchmark's secret, framing and idle strategy.
    pub(crate) fn builder(&self, node_id: &str) -> NodeBuilder {
        let framing = match self.framing {
            FramingArg::Cbor => Framing::Cbor,
            FramingArg::Json => Framing::Json,
            FramingArg::Postcard => Framing::Fast,
        };
        let mut b = Node::builder()
            .norc()
            .node_id(node_id)
            .secret("aemp-bench")
            .framings(&[framing]);
        if let Some(cert) = &self.cert {
            b = b.cert(cert);
        }
        match self.idle {
            IdleArg::Block => b,
            IdleArg::Spin => b.idle_spin(SPIN),
        }
    }

    /// Starts a node on the chosen runtime.
    pub(crate) fn start(&self, b: NodeBuilder) -> Result<Node, String> {
        let started = match self.runtime {
            RuntimeArg::AsyncIo => b.start(),
            RuntimeArg::Tokio => {
                let _entered = tokio_runtime().enter();
                b.start_tokio()
            }
            RuntimeArg::Smol => b.start_smol(),
        };
        started.map_err(|e| format!("cannot start a node: {e}"))
    }
}

/// The tokio runtime of this process (for `--runtime tokio`).
fn tokio_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// The command-line spelling of an option value.
trait ValueEnumName {
    fn value_name(&self) -> String;
}

impl<T: ValueEnum> ValueEnumName for T {
    fn value_name(&self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}
