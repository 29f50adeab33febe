//! The argument list as a cursor: command words and their (possibly JSON) arguments.

use std::collections::VecDeque;

use serde_json::Value;

use crate::error::CliError;

/// The words still to be consumed.
pub(crate) struct Args {
    words: VecDeque<String>,
}

impl Args {
    pub(crate) fn new(words: Vec<String>) -> Self {
        Args {
            words: words.into(),
        }
    }

    /// The next word, taken as it is (command names are never JSON).
    pub(crate) fn next_word(&mut self) -> Option<String> {
        self.words.pop_front()
    }

    /// The next argument of `command`, parsed as JSON if it starts with `[`, `{` or `"`.
    /// `what` names the argument in the error when it is missing (e.g. `<secret>`).
    pub(crate) fn value(&mut self, command: &str, what: &str) -> Result<Value, CliError> {
        match self.words.pop_front() {
            Some(word) => parse_arg(&word),
            None => Err(CliError::Usage(format!(
                "{command}: missing argument {what} (see 'aemp {command} --help')"
            ))),
        }
    }

    /// The next argument of `command` as a string (a JSON argument must be a JSON string).
    pub(crate) fn string(&mut self, command: &str, what: &str) -> Result<String, CliError> {
        match self.value(command, what)? {
            Value::String(s) => Ok(s),
            other => Err(CliError::Usage(format!(
                "{command}: {what} must be a string, not {other}"
            ))),
        }
    }

    /// All remaining words, unparsed.
    pub(crate) fn rest(&mut self) -> Vec<String> {
        self.words.drain(..).collect()
    }
}

/// One argument: JSON if it starts with `[`, `{` or `"`, else the plain string.
pub(crate) fn parse_arg(word: &str) -> Result<Value, CliError> {
    if word.starts_with(['[', '{', '"']) {
        serde_json::from_str(word).map_err(|e| {
            CliError::Usage(format!(
                "argument {word:?} starts like JSON but is not valid JSON (column {}): {e}; \
                 to pass it as a plain string, write it as a JSON string: {}",
                e.column(),
                Value::String(word.to_owned())
            ))
        })
    } else {
        Ok(Value::String(word.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_plain_arguments() {
        assert_eq!(parse_arg("*:4040").unwrap(), json!("*:4040"));
        assert_eq!(parse_arg("4040").unwrap(), json!("4040"));
        assert_eq!(
            parse_arg(r#"["a:1","b:2"]"#).unwrap(),
            json!(["a:1", "b:2"])
        );
        assert_eq!(parse_arg(r#""quoted""#).unwrap(), json!("quoted"));
        assert_eq!(parse_arg(r#"{"k":1}"#).unwrap(), json!({"k": 1}));
        let err = parse_arg("[1,").unwrap_err().to_string();
        assert!(err.contains("[1,"), "{err}");
    }

    #[test]
    fn missing_argument_names_command() {
        let mut args = Args::new(vec![]);
        let err = args.value("setsecret", "<secret>").unwrap_err().to_string();
        assert!(
            err.contains("setsecret") && err.contains("<secret>"),
            "{err}"
        );
    }

    #[test]
    fn string_rejects_json_arrays() {
        let mut args = Args::new(vec!["[1]".into()]);
        assert!(args.string("setnodeid", "<nodeid>").is_err());
    }
}
