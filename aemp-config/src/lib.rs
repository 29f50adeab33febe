//! The configuration of AEMP nodes, shared with the Perl library AnyEvent::MP 2.x: the JSON
//! file `$PERL_ANYEVENT_MP_RC` (or `~/.perl-anyevent-mp`), its profiles and parent profiles,
//! and the effective, typed configuration a node starts with. No networking here.
//!
//! ```
//! use aemp_config::{resolve, Overrides, RcFile};
//!
//! let rc = RcFile::parse("/home/me/.perl-anyevent-mp", r#"{
//!     "version": 1,
//!     "secret": "s3cr3t",
//!     "seeds": ["10.0.0.1:4040"],
//!     "profile": {
//!         "seed":   {"binds": ["*:4040"]},
//!         "worker": {"parent": "seed", "nodeid": "worker/%u", "services": ["My::Service::"]}
//!     }
//! }"#)?;
//! let cfg = resolve(&rc, "worker", &Overrides::new())?.node_config("myhost", "Zq3k")?;
//! assert_eq!(cfg.nodeid, "worker/Zq3k");
//! assert_eq!(cfg.seeds, ["10.0.0.1:4040"]);
//! assert_eq!(cfg.binds[0].port, 4040);
//! # Ok::<(), aemp_config::ConfigError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod atomic;
mod bind;
mod cert;
pub mod coerce;
mod defaults;
mod error;
mod host;
mod location;
mod node_config;
mod nodeid;
mod rcfile;
mod resolve;
mod service;

pub use bind::{Bind, BindHost, BindTransport};
pub use cert::generate_cert;
pub use defaults::{
    default_nodeid_template, DEFAULT_AUTH_ACCEPT, DEFAULT_AUTH_OFFER, DEFAULT_AUTOCORK,
    DEFAULT_BINDS, DEFAULT_CONNECT_INTERVAL, DEFAULT_MONITOR_TIMEOUT, DEFAULT_NODELAY,
    DEFAULT_SECURE,
};
pub use error::ConfigError;
pub use host::hostname;
pub use location::{default_rc_path, rc_path_from, RC_ENV, RC_FILE_NAME};
pub use node_config::{configure, NodeConfig};
pub use nodeid::{expand_nodeid, ExpandedNodeId};
pub use rcfile::RcFile;
pub use resolve::{parent_chain, resolve, EffectiveConfig, Overrides, Precedence};
pub use service::Service;

/// A JSON object with its keys in file order.
///
/// ```
/// let mut map = aemp_config::JsonMap::new();
/// map.insert("z".into(), 1.into());
/// map.insert("a".into(), 2.into());
/// assert_eq!(map.keys().collect::<Vec<_>>(), ["z", "a"]);
/// ```
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
