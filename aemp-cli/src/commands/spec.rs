//! The table of all commands: names, what they do, and their help texts. The dispatcher,
//! `aemp --help` and `aemp COMMAND --help` all read it.

use super::{ConfigCmd, ListKey, Param};
use crate::protocol::ProtocolCmd;

/// What a command word does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    /// Edits or shows the configuration; chains with the following commands.
    Config(ConfigCmd),
    /// Talks to or runs a node; takes all remaining words.
    Protocol(ProtocolCmd),
}

/// The groups of the general help, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Protocol,
    Run,
    NodeId,
    Auth,
    Seeds,
    Binds,
    Services,
    Profiles,
    Params,
}

impl Section {
    pub(crate) const ALL: [Section; 9] = [
        Section::Protocol,
        Section::Run,
        Section::NodeId,
        Section::Auth,
        Section::Seeds,
        Section::Binds,
        Section::Services,
        Section::Profiles,
        Section::Params,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Protocol => "protocol commands (talk to nodes)",
            Section::Run => "run a node",
            Section::NodeId => "node configuration: node ID",
            Section::Auth => "node configuration: authentication",
            Section::Seeds => "node configuration: seed addresses for bootstrapping",
            Section::Binds => "node configuration: bind (listen) addresses",
            Section::Services => "node configuration: services",
            Section::Profiles => "profiles",
            Section::Params => "node configuration: protocol parameters",
        }
    }
}

/// One command of the table.
pub(crate) struct Spec {
    pub(crate) name: &'static str,
    pub(crate) cmd: Cmd,
    pub(crate) section: Section,
    /// The arguments, as shown after `aemp NAME`.
    pub(crate) args: &'static str,
    /// One line for the general help.
    pub(crate) about: &'static str,
    /// More text for `aemp NAME --help` (may be empty).
    pub(crate) details: &'static str,
}

const LIST_DETAILS: &str =
    "The argument is a JSON array of strings, or one string that is split on commas.
It replaces the list of the current target (the global settings, or the profile
selected with 'profile NAME'); 'del...' removes it so that it is inherited again.";

const ITEM_DETAILS: &str =
    "Changes the list of the current target (the global settings, or the profile selected
with 'profile NAME'); a list that is only inherited starts empty. A JSON array or a
comma-separated string changes several entries at once.";

const BOOL_DETAILS: &str =
    "The value is true/false, yes/no, on/off or 1/0; 'del...' removes the setting (= inherit).";

const SECONDS_DETAILS: &str =
    "The value is a number of seconds greater than 0; 'del...' removes the setting (= inherit).";

const METHOD_LIST_DETAILS: &str =
    "The value is a JSON array of names or one comma-separated string, in order of
preference; 'del...' removes the setting (= inherit).";

macro_rules! spec {
    ($name:literal, $cmd:expr, $section:ident, $args:literal, $about:literal, $details:expr) => {
        Spec {
            name: $name,
            cmd: $cmd,
            section: Section::$section,
            args: $args,
            about: $about,
            details: $details,
        }
    };
}

use Cmd::{Config as C, Protocol as P};
use ConfigCmd::*;

/// Every command, in the order of the general help.
pub(crate) static COMMANDS: &[Spec] = &[
    spec!("snd", P(ProtocolCmd::Snd), Protocol, "<port> <arg...>", "send a message to a port",
        "Arguments starting with [, { or \" are JSON, all others are strings."),
    spec!("cal", P(ProtocolCmd::Cal), Protocol, "<port> <arg...>",
        "send a message with a reply port appended, print the reply", ""),
    spec!("mon", P(ProtocolCmd::Mon), Protocol, "<port>", "wait until a port is killed, print the reason", ""),
    spec!("eval", P(ProtocolCmd::Eval), Protocol, "<node> <expr...>", "evaluate an expression on a (Perl) node", ""),
    spec!("trace", P(ProtocolCmd::Trace), Protocol, "<node>", "trace the network topology from a node", ""),
    spec!("stats", P(ProtocolCmd::Stats), Protocol, "<node> [--json]", "print a (Rust) node's statistics",
        "Per node: uptime, ports, monitors, connections, queued bytes, database, counts.\nPer peer: state, transport, provider, authentication, framings, messages and bytes\nin and out, queued bytes, connection attempts and failures, last error.\n--json prints the same as JSON. Perl nodes do not report statistics."),
    spec!("dataconn", P(ProtocolCmd::DataConn), Protocol, "<node> <function> [<arg...>]",
        "open a data connection: standard input to it, what comes back to standard output",
        "On <node>, the data function <function> runs with the arguments and its end of the\nconnection (aemp run nodes have aemp_echo::data, an echo). Arguments as for snd."),
    spec!("run", P(ProtocolCmd::Run), Run, "<configure-args...>", "run a node, e.g. aemp run profile seed",
        "The arguments are key/value pairs as for configure: profile NAME, norc 1,\nforce 1, or any configuration key and its value."),

    spec!("setnodeid", C(SetNodeId), NodeId, "<nodeid>", "set the node ID",
        "In the node ID, %n stands for the host name and %u for a random unique string;\na node ID ending in / gets a random unique string appended."),
    spec!("delnodeid", C(DelNodeId), NodeId, "", "reset the node ID to the default (= inherit)",
        "Without a node ID, a node uses its profile name followed by /."),

    spec!("gensecret", C(GenSecret), Auth, "", "generate a random shared secret",
        "Stores 66 random bytes, base64-encoded, as the secret."),
    spec!("setsecret", C(SetSecret), Auth, "<secret>", "set the shared secret",
        "Nodes authenticate each other with the shared secret."),
    spec!("delsecret", C(DelSecret), Auth, "", "remove the secret (= inherit)", ""),
    spec!("gencert", C(GenCert), Auth, "", "generate a random self-signed certificate",
        "Stores a new private key and self-signed certificate (PEM) as the cert."),
    spec!("setcert", C(SetCert), Auth, "<file>", "set a certificate (key.pem + certificate.pem)",
        "The file must hold a PEM private key and a PEM certificate; its text is stored."),
    spec!("delcert", C(DelCert), Auth, "", "remove the certificate (= inherit)", ""),

    spec!("setseeds", C(SetList(ListKey::Seeds)), Seeds, "<host:port>,...", "set the seeds", LIST_DETAILS),
    spec!("delseeds", C(DelList(ListKey::Seeds)), Seeds, "", "remove the seeds (= inherit)", ""),
    spec!("addseed", C(AddItem(ListKey::Seeds)), Seeds, "<host:port>", "add a seed", ITEM_DETAILS),
    spec!("delseed", C(DelItem(ListKey::Seeds)), Seeds, "<host:port>", "remove a seed", ITEM_DETAILS),

    spec!("setbinds", C(SetList(ListKey::Binds)), Binds, "<host:port>,...", "set the bind addresses",
        "A bind is * (all interfaces, any port), *:PORT, HOST:PORT, [IPV6]:PORT or a bare\nPORT (= *:PORT).\n\nThe argument is a JSON array of strings, or one string that is split on commas."),
    spec!("delbinds", C(DelList(ListKey::Binds)), Binds, "", "remove the bind addresses (= inherit)", ""),
    spec!("addbind", C(AddItem(ListKey::Binds)), Binds, "<host:port>", "add a bind address", ITEM_DETAILS),
    spec!("delbind", C(DelItem(ListKey::Binds)), Binds, "<host:port>", "remove a bind address", ITEM_DETAILS),

    spec!("setservices", C(SetList(ListKey::Services)), Services, "<initfunc>,...", "set the services", LIST_DETAILS),
    spec!("delservices", C(DelList(ListKey::Services)), Services, "", "remove the services (= inherit)", ""),
    spec!("addservice", C(AddItem(ListKey::Services)), Services, "<initfunc>", "add an instance of a service", ITEM_DETAILS),
    spec!("delservice", C(DelItem(ListKey::Services)), Services, "<initfunc>", "remove one instance of a service", ITEM_DETAILS),

    spec!("profile", C(Profile), Profiles, "<name> <command>...", "apply the following commands to a profile",
        "Every command after 'profile NAME' applies to that profile (created if missing)\ninstead of the global settings, until the end of the command line."),
    spec!("setparent", C(SetParent), Profiles, "<name>", "make the selected profile inherit from another",
        "Only after 'profile NAME'. Settings missing in a profile come from its parent,\nthen the parent's parent, then the global settings. Cycles are refused."),
    spec!("delparent", C(DelParent), Profiles, "", "remove the parent of the selected profile", ""),
    spec!("delprofile", C(DelProfile), Profiles, "<name>", "delete a profile", ""),
    spec!("showprofile", C(ShowProfile), Profiles, "<name>", "print the settings of a profile (as stored)", ""),
    spec!("showconfig", C(ShowConfig), Profiles, "[<name> [<key> <value>]...]", "print the effective configuration",
        "Prints, as JSON, the configuration a node of profile NAME would use: global\nsettings, then parent profiles, then the profile, combined with the given KEY VALUE\npairs (the program's own values: the file wins unless 'force 1' is given; 'norc 1'\nignores the file), then defaults. NAME defaults to the profile selected with\n'profile', else to this host's name. Takes all remaining arguments."),

    spec!("setmonitor_timeout", C(SetParam(Param::MonitorTimeout)), Params, "<seconds>",
        "seconds of silence before a node counts as dead (30)", SECONDS_DETAILS),
    spec!("delmonitor_timeout", C(DelParam(Param::MonitorTimeout)), Params, "", "remove monitor_timeout (= inherit)", ""),
    spec!("setconnect_interval", C(SetParam(Param::ConnectInterval)), Params, "<seconds>",
        "seconds between connection attempts (2)", SECONDS_DETAILS),
    spec!("delconnect_interval", C(DelParam(Param::ConnectInterval)), Params, "", "remove connect_interval (= inherit)", ""),
    spec!("setframing_format", C(SetParam(Param::FramingFormat)), Params, "<format>,...",
        "framings to offer and accept (e.g. cbor,json)", METHOD_LIST_DETAILS),
    spec!("delframing_format", C(DelParam(Param::FramingFormat)), Params, "", "remove framing_format (= inherit)", ""),
    spec!("setauth_offer", C(SetParam(Param::AuthOffer)), Params, "<method>,...",
        "authentication methods to offer", METHOD_LIST_DETAILS),
    spec!("delauth_offer", C(DelParam(Param::AuthOffer)), Params, "", "remove auth_offer (= inherit)", ""),
    spec!("setauth_accept", C(SetParam(Param::AuthAccept)), Params, "<method>,...",
        "authentication methods to accept", METHOD_LIST_DETAILS),
    spec!("delauth_accept", C(DelParam(Param::AuthAccept)), Params, "", "remove auth_accept (= inherit)", ""),
    spec!("setautocork", C(SetParam(Param::Autocork)), Params, "<bool>", "batch writes (false)", BOOL_DETAILS),
    spec!("delautocork", C(DelParam(Param::Autocork)), Params, "", "remove autocork (= inherit)", ""),
    spec!("setnodelay", C(SetParam(Param::Nodelay)), Params, "<bool>", "disable Nagle's algorithm (true)", BOOL_DETAILS),
    spec!("delnodelay", C(DelParam(Param::Nodelay)), Params, "", "remove nodelay (= inherit)", ""),
    spec!("setsecure", C(SetParam(Param::Secure)), Params, "<bool>", "refuse remote code execution (false)", BOOL_DETAILS),
    spec!("delsecure", C(DelParam(Param::Secure)), Params, "", "remove secure (= inherit)", ""),
];

/// The command a word names: its exact name, or a set-command without its `set` prefix.
pub(crate) fn lookup(word: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|spec| spec.name == word).or_else(|| {
        COMMANDS
            .iter()
            .find(|spec| spec.name.strip_prefix("set") == Some(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_set_prefix_is_optional() {
        for (i, spec) in COMMANDS.iter().enumerate() {
            assert!(
                COMMANDS[i + 1..]
                    .iter()
                    .all(|other| other.name != spec.name),
                "{} twice",
                spec.name
            );
            assert!(std::ptr::eq(lookup(spec.name).unwrap(), spec));
            if let Some(short) = spec.name.strip_prefix("set") {
                assert_eq!(lookup(short).unwrap().name, spec.name);
            }
        }
        assert!(lookup("nosuchcommand").is_none());
        assert_eq!(lookup("delseed").unwrap().name, "delseed");
        assert_eq!(lookup("delseeds").unwrap().name, "delseeds");
    }

    #[test]
    fn every_section_has_commands() {
        for section in Section::ALL {
            assert!(COMMANDS.iter().any(|s| s.section == section), "{section:?}");
        }
    }
}
