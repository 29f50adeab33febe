//! The configuration commands: each module implements one group of them.

mod cert;
mod lists;
mod nodeid;
mod params;
mod profile;
pub(crate) mod secret;
mod show;
mod spec;

pub(crate) use spec::{lookup, Cmd, Section, Spec, COMMANDS};

use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// A configuration command, as named in the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigCmd {
    SetNodeId,
    DelNodeId,
    GenSecret,
    SetSecret,
    DelSecret,
    GenCert,
    SetCert,
    DelCert,
    SetList(ListKey),
    DelList(ListKey),
    AddItem(ListKey),
    DelItem(ListKey),
    Profile,
    SetParent,
    DelParent,
    DelProfile,
    ShowProfile,
    ShowConfig,
    SetParam(Param),
    DelParam(Param),
}

/// The list-valued keys with add/del commands for single entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKey {
    Seeds,
    Binds,
    Services,
}

/// The protocol parameters with plain set/del commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    MonitorTimeout,
    ConnectInterval,
    FramingFormat,
    AuthOffer,
    AuthAccept,
    Autocork,
    Nodelay,
    Secure,
}

/// Runs one configuration command named `name`, taking its arguments from `args`.
pub(crate) fn apply(
    cmd: ConfigCmd,
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    match cmd {
        ConfigCmd::SetNodeId => nodeid::set(name, session, args),
        ConfigCmd::DelNodeId => session.remove("nodeid"),
        ConfigCmd::GenSecret => secret::generate(session),
        ConfigCmd::SetSecret => secret::set(name, session, args),
        ConfigCmd::DelSecret => session.remove("secret"),
        ConfigCmd::GenCert => cert::generate(session),
        ConfigCmd::SetCert => cert::set(name, session, args),
        ConfigCmd::DelCert => session.remove("cert"),
        ConfigCmd::SetList(key) => lists::set(key, name, session, args),
        ConfigCmd::DelList(key) => session.remove(key.key()),
        ConfigCmd::AddItem(key) => lists::add(key, name, session, args),
        ConfigCmd::DelItem(key) => lists::delete(key, name, session, args),
        ConfigCmd::Profile => profile::select(name, session, args),
        ConfigCmd::SetParent => profile::set_parent(name, session, args),
        ConfigCmd::DelParent => profile::del_parent(name, session),
        ConfigCmd::DelProfile => profile::delete(name, session, args),
        ConfigCmd::ShowProfile => show::profile(name, session, args),
        ConfigCmd::ShowConfig => show::config(name, session, args),
        ConfigCmd::SetParam(param) => params::set(param, name, session, args),
        ConfigCmd::DelParam(param) => session.remove(param.key()),
    }
}

impl ListKey {
    /// The configuration key.
    pub(crate) fn key(self) -> &'static str {
        match self {
            ListKey::Seeds => "seeds",
            ListKey::Binds => "binds",
            ListKey::Services => "services",
        }
    }
}

impl Param {
    /// The configuration key.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Param::MonitorTimeout => "monitor_timeout",
            Param::ConnectInterval => "connect_interval",
            Param::FramingFormat => "framing_format",
            Param::AuthOffer => "auth_offer",
            Param::AuthAccept => "auth_accept",
            Param::Autocork => "autocork",
            Param::Nodelay => "nodelay",
            Param::Secure => "secure",
        }
    }
}
