//! `aemp --help`, `aemp help [COMMAND]`, `aemp COMMAND --help` and `aemp --version`.

use std::fmt::Write as _;

use aemp_config::{RC_ENV, RC_FILE_NAME};

use crate::commands::{lookup, Cmd, Section, Spec, COMMANDS};
use crate::error::CliError;

const INTRO: &str = "\
aemp - the AnyEvent::MP (AEMP) utility

usage: aemp command args...

Commands chain: 'aemp gensecret profile seed binds *:4040 nodeid seed' runs four
commands. Arguments starting with [, { or \" are JSON. The 'set' prefix of a
set-command may be left out ('aemp seeds a:4040' is 'aemp setseeds a:4040').
";

/// The text to print instead of running commands, if the command line asks for help or
/// the version: `help [COMMAND]`, `--help`/`-h` (for the command before it, or the whole
/// tool), `--version`/`-V`. Help is not looked for among the arguments of a protocol
/// command, except right after it.
pub(crate) fn requested(argv: &[String]) -> Result<Option<String>, CliError> {
    match argv.first().map(String::as_str) {
        Some("--version" | "-V") => {
            return Ok(Some(format!(
                "aemp (aemp-rs) {}\n",
                env!("CARGO_PKG_VERSION")
            )))
        }
        Some("help") => {
            return match argv.get(1) {
                None => Ok(Some(general())),
                Some(word) => lookup(word)
                    .map(|spec| Some(command(spec)))
                    .ok_or_else(|| unknown_command(word)),
            };
        }
        _ => {}
    }
    let mut last_command: Option<&'static Spec> = None;
    for (at, word) in argv.iter().enumerate() {
        if word == "--help" || word == "-h" {
            return Ok(Some(last_command.map_or_else(general, command)));
        }
        if let Some(spec) = lookup(word) {
            if let Cmd::Protocol(_) = spec.cmd {
                let help_next =
                    matches!(argv.get(at + 1).map(String::as_str), Some("--help" | "-h"));
                return Ok(help_next.then(|| command(spec)));
            }
            last_command = Some(spec);
        }
    }
    Ok(None)
}

/// The error for a word that names no command.
pub(crate) fn unknown_command(word: &str) -> CliError {
    CliError::Usage(format!("unknown command {word:?} (see 'aemp --help')"))
}

/// The help of the whole tool: every command, grouped as in the original.
pub(crate) fn general() -> String {
    let mut text = String::from(INTRO);
    for section in Section::ALL {
        let _ = write!(text, "\n   # {}\n", section.title());
        for spec in COMMANDS.iter().filter(|spec| spec.section == section) {
            let usage = format!("aemp {}", usage(spec));
            let _ = writeln!(text, "   {usage:<44} # {}", spec.about);
        }
    }
    let _ = write!(
        text,
        "\nThe configuration file is ${RC_ENV}, or else ~/{RC_FILE_NAME}.\n\
         It is written once, after every command of the chain succeeded (the previous\n\
         file is kept as FILE~), and never when it could not be read. A protocol command\n\
         ends the chain: it takes all remaining arguments, and configuration changes\n\
         before it are saved first.\n\n\
         'aemp COMMAND --help' or 'aemp help COMMAND' explains one command.\n"
    );
    text
}

/// The help of one command.
pub(crate) fn command(spec: &Spec) -> String {
    let mut text = format!("usage: aemp {}\n", usage(spec));
    if let Some(short) = spec.name.strip_prefix("set") {
        let _ = writeln!(text, "   or: aemp {short} {}", spec.args);
    }
    let mut about = spec.about.chars();
    if let Some(first) = about.next() {
        let _ = writeln!(text, "\n{}{}.", first.to_uppercase(), about.as_str());
    }
    if !spec.details.is_empty() {
        let _ = writeln!(text, "\n{}", spec.details);
    }
    if let Cmd::Protocol(_) = spec.cmd {
        text.push_str("\nNot yet implemented in this version.\n");
    }
    text
}

fn usage(spec: &Spec) -> String {
    if spec.args.is_empty() {
        spec.name.to_owned()
    } else {
        format!("{} {}", spec.name, spec.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn help_forms() {
        assert!(requested(&words("--help"))
            .unwrap()
            .unwrap()
            .contains("setseeds"));
        assert!(requested(&words("help"))
            .unwrap()
            .unwrap()
            .contains("gensecret"));
        let seeds = requested(&words("help seeds")).unwrap().unwrap();
        assert!(seeds.starts_with("usage: aemp setseeds"), "{seeds}");
        let binds = requested(&words("profile x setbinds --help"))
            .unwrap()
            .unwrap();
        assert!(binds.starts_with("usage: aemp setbinds"), "{binds}");
        let snd = requested(&words("snd --help")).unwrap().unwrap();
        assert!(snd.starts_with("usage: aemp snd"), "{snd}");
        assert!(requested(&words("help nosuch")).is_err());
        assert!(requested(&words("--version"))
            .unwrap()
            .unwrap()
            .starts_with("aemp"));
    }

    #[test]
    fn protocol_arguments_are_not_help() {
        assert!(requested(&words("snd port -h")).unwrap().is_none());
        assert!(requested(&words("setsecret x")).unwrap().is_none());
    }

    #[test]
    fn every_command_is_in_the_general_help() {
        let text = general();
        for spec in COMMANDS {
            assert!(
                text.contains(&format!("aemp {}", spec.name)),
                "{}",
                spec.name
            );
        }
    }
}
