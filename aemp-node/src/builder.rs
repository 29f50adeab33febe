//! Configuring and starting a node.

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aemp_config::{resolve, Overrides, Precedence, RcFile};
use aemp_proto::node::{Limits, NodeCore};
use aemp_proto::tls::TlsProvider;
use aemp_proto::{Framing, Value};
use aemp_runtime::Runtime;
use aemp_transport::{StreamOptions, Streams};
use serde_json::Value as Json;

use crate::config::{core_config, open_sockets, tls_provider, unique_string};
use crate::driver::Driver;
use crate::local::LocalQueues;
use crate::outbox::Outboxes;
use crate::services::Services;
use crate::shared::{Clock, Shared};
use crate::transports;
use crate::{Node, NodeId, PortId, StartError};

/// Configures and starts a [`Node`].
///
/// Settings combine as in the original's `configure`: the profile (default: the host
/// name) is looked up in the configuration file (`$PERL_ANYEVENT_MP_RC` or
/// `~/.perl-anyevent-mp`), and the values set on the builder are the program's own. By
/// default the file wins over the program; [`force`](NodeBuilder::force) lets the program
/// win and [`norc`](NodeBuilder::norc) ignores the file. The node ID template expands `%n`
/// (host name), `%u` (a random string) and a trailing `/` (appends the random string); with
/// no node ID the profile name followed by `/` is used.
///
/// Binds: `*` listens on all interfaces on a free port, `*:PORT` on all interfaces,
/// `HOST:PORT` on that address. A node listening on all interfaces advertises `127.0.0.1`
/// and the non-loopback addresses its host name resolves to (the interface list itself is
/// not read). Seeds are resolved by DNS when connecting; `*:PORT` as a seed means this host.
///
/// ```
/// use aemp_node::Node;
/// use std::time::Duration;
///
/// let node = Node::builder()
///     .profile("worker")
///     .norc()
///     .node_id("worker/%u")
///     .secret("s3cr3t")
///     .binds(["127.0.0.1:0"])
///     .seeds(["127.0.0.1:4040"])
///     .monitor_timeout(Duration::from_secs(10))
///     .start()?;
/// assert!(node.node_id().starts_with("worker/"));
/// node.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NodeBuilder {
    overrides: Overrides,
    rc_file: Option<PathBuf>,
    listeners: Vec<TcpListener>,
    quic_sockets: Vec<UdpSocket>,
    services: Services,
    streams: StreamOptions,
    keepalive: Option<Duration>,
    idle_spin: Option<Duration>,
    limits: Limits,
}

impl Default for NodeBuilder {
    fn default() -> Self {
        NodeBuilder::new()
    }
}

impl NodeBuilder {
    /// A builder with no program values: everything comes from the file and defaults.
    ///
    /// ```
    /// let b = aemp_node::NodeBuilder::new();
    /// # drop(b);
    /// ```
    pub fn new() -> NodeBuilder {
        NodeBuilder {
            overrides: Overrides::new(),
            rc_file: None,
            listeners: Vec::new(),
            quic_sockets: Vec::new(),
            services: Services::default(),
            streams: StreamOptions::default(),
            keepalive: None,
            idle_spin: None,
            limits: Limits::default(),
        }
    }

    /// Takes configure arguments as parsed by `aemp_config` (profile, precedence and
    /// key/values), e.g. from a command line, replacing those set so far.
    ///
    /// ```
    /// use aemp_config::Overrides;
    /// let o = Overrides::from_configure_args([("profile".to_string(), "seed".into())]).unwrap();
    /// let b = aemp_node::Node::builder().overrides(o);
    /// # drop(b);
    /// ```
    pub fn overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// The profile to use (default: the host name).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().profile("seed");
    /// # drop(b);
    /// ```
    pub fn profile(mut self, name: &str) -> Self {
        self.overrides.profile = Some(name.to_owned());
        self
    }

    /// Reads this configuration file instead of the default one.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().rc_file("/etc/aemp.json");
    /// # drop(b);
    /// ```
    pub fn rc_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.rc_file = Some(path.into());
        self
    }

    /// Ignores the configuration file (the original's `norc`).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().norc();
    /// # drop(b);
    /// ```
    pub fn norc(mut self) -> Self {
        self.overrides.precedence = Precedence::ProgramOnly;
        self
    }

    /// Lets the program's values win over the file's (the original's `force`).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().force();
    /// # drop(b);
    /// ```
    pub fn force(mut self) -> Self {
        if self.overrides.precedence != Precedence::ProgramOnly {
            self.overrides.precedence = Precedence::ProgramWins;
        }
        self
    }

    /// Sets any configuration key, as in the file (`nodeid`, `secret`, `binds`, `seeds`,
    /// `monitor_timeout`, `framing_format`, `auth_offer`, `secure`, ...).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().set("binds", "*:4040").set("secure", true);
    /// # drop(b);
    /// ```
    pub fn set(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.overrides.values.insert(key.to_owned(), value.into());
        self
    }

    /// The node ID or ID template (`%n`, `%u`, trailing `/`).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().node_id("anon/");
    /// # drop(b);
    /// ```
    pub fn node_id(self, id: &str) -> Self {
        self.set("nodeid", id)
    }

    /// The shared secret nodes authenticate each other with.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().secret("s3cr3t");
    /// # drop(b);
    /// ```
    pub fn secret(self, secret: &str) -> Self {
        self.set("secret", secret)
    }

    /// Listen addresses: `*`, `*:PORT`, `HOST:PORT`, `PORT`; empty: do not listen.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().binds(["*:4040", "127.0.0.1:0"]);
    /// # drop(b);
    /// ```
    pub fn binds<S: AsRef<str>>(self, binds: impl IntoIterator<Item = S>) -> Self {
        self.set("binds", strings(binds))
    }

    /// Seed addresses (`host:port`) to discover the network through. A node whose seeds
    /// include its own address becomes a global node.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().seeds(["10.0.0.1:4040"]);
    /// # drop(b);
    /// ```
    pub fn seeds<S: AsRef<str>>(self, seeds: impl IntoIterator<Item = S>) -> Self {
        self.set("seeds", strings(seeds))
    }

    /// The key and certificate(s) for TLS, as PEM text (what `aemp gencert` stores) or the
    /// path of a PEM file. With it the node asks peers for TLS, presents the first
    /// certificate, and trusts peers holding one of these certificates or one that chains
    /// to them; peers that do not ask for TLS are served without it.
    ///
    /// ```
    /// # use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    /// # let key = KeyPair::generate()?;
    /// # let mut params = CertificateParams::new(Vec::<String>::new())?;
    /// # params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    /// # let pem = format!("{}{}", key.serialize_pem(), params.self_signed(&key)?.pem());
    /// // `pem`: a private key and a certificate, as `aemp gencert` stores them. No secret
    /// // is needed: nodes holding the certificate authenticate with `tls_sha3_512`.
    /// let node = aemp_node::Node::builder().norc().cert(&pem).binds(["127.0.0.1:0"]).start()?;
    /// node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cert(self, pem_or_path: &str) -> Self {
        self.set("cert", pem_or_path)
    }

    /// Refuse remote function calls and spawns.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().secure(true);
    /// # drop(b);
    /// ```
    pub fn secure(self, secure: bool) -> Self {
        self.set("secure", secure)
    }

    /// How long to try to reach a node, and how long a peer may stay silent (default 30 s).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().monitor_timeout(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn monitor_timeout(self, timeout: Duration) -> Self {
        self.set("monitor_timeout", timeout.as_secs_f64())
    }

    /// Spacing of connection attempts (default 2 s, never below 0.4 s).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().connect_interval(std::time::Duration::from_millis(400));
    /// # drop(b);
    /// ```
    pub fn connect_interval(self, interval: Duration) -> Self {
        self.set("connect_interval", interval.as_secs_f64())
    }

    /// The framings to offer, in order of preference (default: all, CBOR first: see
    /// [`Framing::ALL`](aemp_proto::Framing::ALL)).
    ///
    /// ```
    /// use aemp_proto::Framing;
    /// let b = aemp_node::Node::builder().framings(&[Framing::Cbor, Framing::Json]);
    /// # drop(b);
    /// ```
    pub fn framings(self, framings: &[Framing]) -> Self {
        self.set("framing_format", strings(framings.iter().map(|f| f.name())))
    }

    /// Authentication methods to offer, in order of preference.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().auth_offer(["hmac_sha3_512"]);
    /// # drop(b);
    /// ```
    pub fn auth_offer<S: AsRef<str>>(self, methods: impl IntoIterator<Item = S>) -> Self {
        self.set("auth_offer", strings(methods))
    }

    /// Authentication methods to accept.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().auth_accept(["hmac_sha3_512"]);
    /// # drop(b);
    /// ```
    pub fn auth_accept<S: AsRef<str>>(self, methods: impl IntoIterator<Item = S>) -> Self {
        self.set("auth_accept", strings(methods))
    }

    /// Listens on an already bound socket instead of the configured binds (for example
    /// to learn an ephemeral port before starting). May be given several times.
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap().to_string();
    /// let seed = aemp_node::Node::builder().norc().secret("s").listener(l).seeds([addr]).start()?;
    /// # seed.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Listens for QUIC on this bound UDP socket instead of the configured binds, like
    /// [`NodeBuilder::listener`] for TCP (cargo feature `quic`; without it the node does
    /// not start). May be given several times.
    ///
    /// ```
    /// # #[cfg(feature = "quic")] {
    /// let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let addr = format!("quic:{}", u.local_addr().unwrap());
    /// let seed = aemp_node::Node::builder().norc().secret("s").quic_socket(u).seeds([addr]).start()?;
    /// # seed.shutdown();
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quic_socket(mut self, socket: UdpSocket) -> Self {
        self.quic_sockets.push(socket);
        self
    }

    /// The bounds on what peers can make the node hold (see [`Limits`] for each and its
    /// default). Keys of the same names in the profile override these.
    ///
    /// ```
    /// use aemp_node::Limits;
    /// let limits = Limits { max_queued_bytes: 8 << 20, queue_high_water: 1 << 20, ..Limits::default() };
    /// let b = aemp_node::Node::builder().limits(limits);
    /// # drop(b);
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// After this much silence on a connection a keepalive packet is sent (default: a
    /// third of the monitor timeout, at most 15 s).
    ///
    /// ```
    /// let b = aemp_node::Node::builder().keepalive_interval(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn keepalive_interval(mut self, interval: Duration) -> Self {
        self.keepalive = Some(interval);
        self
    }

    /// Opt-in busy polling for latency-sensitive deployments: after its last piece of
    /// work the node's driver keeps polling its sockets for `spin` before it sleeps, so a
    /// message arriving meanwhile is handled without the operating system waking a thread.
    /// It costs a busy core while traffic lasts (and up to `spin` after). Off by default.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().idle_spin(std::time::Duration::from_micros(200));
    /// # drop(b);
    /// ```
    pub fn idle_spin(mut self, spin: Duration) -> Self {
        self.idle_spin = Some(spin);
        self
    }

    /// Registers an init function for `spawn`: it runs in the context of the new port and
    /// must install its handlers. It returns any [`Outcome`](crate::Outcome), as handlers
    /// do: an `Err` (or a panic) kills the port with `["die", text]`.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().register_init("chat::client_connect", |node, port, args| {
    ///     node.rcv(&port, |msg| println!("{msg}"))
    /// });
    /// # drop(b);
    /// ```
    pub fn register_init<R: crate::Outcome>(
        mut self,
        name: &str,
        init: impl Fn(&Node, PortId, Vec<Value>) -> R + Send + Sync + 'static,
    ) -> Self {
        let init = move |node: &Node, port, args| match init(node, port, args).into_failure() {
            Some(failure) => Err(failure),
            None => Ok(()),
        };
        self.services.inits.insert(name.to_owned(), Arc::new(init));
        self
    }

    /// Registers a function remote nodes may call by name (`["", NAME, args...]` to the
    /// node port), and that the `services` setting may name to run at start.
    ///
    /// ```
    /// let b = aemp_node::Node::builder().register_function("My::Service::", |_node, _args| {
    ///     println!("service started");
    /// });
    /// # drop(b);
    /// ```
    pub fn register_function(
        mut self,
        name: &str,
        f: impl Fn(&Node, Vec<Value>) + Send + Sync + 'static,
    ) -> Self {
        self.services.functions.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// Registers a data function: when another node opens a data connection to this one
    /// naming it ([`Node::connect_data`], or the original's
    /// `AnyEvent::MP::DataConn::connect_to`), it runs on the node's driver with the
    /// arguments and this end of the stream. It must not block: start a task (or a thread)
    /// that uses the stream.
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    /// let b = aemp_node::Node::builder().register_data_function("My::greeter", |_node, _args, mut stream| {
    ///     std::thread::spawn(move || futures_lite::future::block_on(stream.write_all(b"hello\n")));
    /// });
    /// # drop(b);
    /// ```
    pub fn register_data_function(
        mut self,
        name: &str,
        f: impl Fn(&Node, Vec<Value>, crate::DataStream) + Send + Sync + 'static,
    ) -> Self {
        self.services
            .data_functions
            .insert(name.to_owned(), Arc::new(f));
        self
    }

    /// Starts the node on the default runtime: async-io, with the driver on a thread of
    /// its own. Listeners are bound when this returns.
    ///
    /// ```
    /// let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start()?;
    /// node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "async-io")]
    pub fn start(self) -> Result<Node, StartError> {
        self.start_with(aemp_runtime::AsyncIo)
    }

    /// Starts the node as a task on the current tokio runtime (call it from inside one).
    ///
    /// ```
    /// let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    /// rt.block_on(async {
    ///     let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start_tokio()?;
    ///     node.shutdown();
    ///     node.stopped().await;
    ///     Ok::<(), aemp_node::StartError>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tokio")]
    pub fn start_tokio(self) -> Result<Node, StartError> {
        let rt = aemp_runtime::Tokio::current().map_err(StartError::Runtime)?;
        self.start_with(rt)
    }

    /// Starts the node as a task on smol's global executor.
    ///
    /// ```
    /// let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"]).start_smol()?;
    /// node.shutdown();
    /// smol::block_on(node.stopped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "smol")]
    pub fn start_smol(self) -> Result<Node, StartError> {
        self.start_with(aemp_runtime::Smol)
    }

    /// Starts the node on any [`Runtime`].
    ///
    /// ```
    /// let node = aemp_node::Node::builder().norc().secret("s").binds(["127.0.0.1:0"])
    ///     .start_with(aemp_runtime::AsyncIo)?;
    /// node.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_with<R: Runtime>(self, rt: R) -> Result<Node, StartError> {
        let host = aemp_config::hostname();
        let rc = match (self.overrides.precedence, &self.rc_file) {
            (Precedence::ProgramOnly, _) => RcFile::new(""),
            (_, Some(path)) => RcFile::load(path)?,
            (_, None) => RcFile::load_default()?,
        };
        let profile = self
            .overrides
            .profile
            .clone()
            .unwrap_or_else(|| host.clone());
        let cfg = resolve(&rc, &profile, &self.overrides)?.node_config(&host, &unique_string())?;
        let services = self.services.planned(&cfg.services)?;
        let tls = tls_provider(&cfg)?;
        let sockets = open_sockets(&cfg.binds, self.listeners, self.quic_sockets)?;
        let advertised = sockets.advertised.clone();
        let core_tls = tls.clone().map(|t| t as Arc<dyn TlsProvider>);
        let mut core_cfg = core_config(
            &cfg,
            advertised.clone(),
            self.keepalive,
            core_tls,
            self.limits,
        )?;
        let transports = transports::start(
            &rt,
            transports::Setup {
                sockets,
                nodelay: cfg.nodelay,
                tls: tls.as_ref(),
                monitor_timeout: core_cfg.monitor_timeout,
                max_pending_handshakes: core_cfg.limits.max_pending_handshakes,
            },
        )?;
        core_cfg.schemes = transports.schemes().into_iter().map(String::from).collect();

        let clock: Clock = {
            let rt = rt.clone();
            Arc::new(move || rt.now())
        };
        let now = clock();
        let mut core = NodeCore::new(core_cfg, &rand::random::<[u8; 32]>(), now);
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        core.set_unix_time(now, unix.as_secs_f64());

        let (stopped_tx, stopped_rx) = async_channel::bounded(1);
        let high_water = core.config().limits.queue_high_water;
        let local = LocalQueues::new(high_water);
        let node = Node {
            shared: Arc::new(Shared {
                node_id: NodeId::from(cfg.nodeid.as_str()),
                core: Mutex::new(core),
                reg: Mutex::default(),
                local,
                outboxes: Outboxes::new(high_water),
                timers: Mutex::default(),
                clock,
                wake: Default::default(),
                room: event_listener::Event::new(),
                services: self.services,
                data: Mutex::default(),
                spawn: {
                    let rt = rt.clone();
                    Arc::new(move |name: &str, task| rt.spawn(name, task))
                },
                stopping: AtomicBool::new(false),
                stopped: stopped_rx,
            }),
        };
        let streams = Streams::new(self.streams);
        let driver = Driver::new(node.clone(), transports, streams, rt.sleep(), stopped_tx)
            .idle_spin(self.idle_spin);
        rt.spawn(&format!("aemp {}", cfg.nodeid), Box::pin(driver.run()))
            .map_err(StartError::Runtime)?;
        tracing::info!(node = %cfg.nodeid, profile = %cfg.profile, binds = ?advertised, seeds = ?cfg.seeds, "node started");
        for (name, args) in services {
            node.shared.services.call(&node, &name, args);
        }
        #[cfg(feature = "metrics")]
        crate::stats::export_periodically(&node);
        Ok(node)
    }
}

fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Json {
    Json::Array(items.into_iter().map(|s| Json::from(s.as_ref())).collect())
}
