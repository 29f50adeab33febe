//! The original's log levels (AnyEvent::Log: 1 fatal ... 9 trace) and `tracing`'s.

use aemp_proto::Value;
use tracing::Level;

/// The original's level of a `tracing` level: ERROR 4 (error), WARN 5 (warn), INFO 7
/// (info), DEBUG 8 (debug), TRACE 9 (trace).
///
/// ```
/// assert_eq!(aemp_node::logs::original_level(&tracing::Level::WARN), 5);
/// ```
pub fn original_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 4,
        Level::WARN => 5,
        Level::INFO => 7,
        Level::DEBUG => 8,
        Level::TRACE => 9,
    }
}

/// The `tracing` level that shows a message of the original's level `n`: 1 to 4
/// (fatal, alert, crit, error) are ERROR, 5 WARN, 6 and 7 (note, info) INFO, 8 DEBUG,
/// 9 and above TRACE.
///
/// ```
/// assert_eq!(aemp_node::logs::tracing_level(6), tracing::Level::INFO);
/// ```
pub fn tracing_level(n: i64) -> Level {
    match n {
        ..=4 => Level::ERROR,
        5 => Level::WARN,
        6 | 7 => Level::INFO,
        8 => Level::DEBUG,
        _ => Level::TRACE,
    }
}

/// A level as catchers send it: a number, or one of the original's names.
pub(crate) fn parse_level(value: &Value) -> Option<u8> {
    let n = match value {
        Value::Str(name) => match name.as_str() {
            "fatal" | "emerg" | "exit" => 1,
            "alert" => 2,
            "crit" | "critical" => 3,
            "error" | "err" | "die" => 4,
            "warn" | "warning" => 5,
            "note" | "notice" => 6,
            "info" => 7,
            "debug" => 8,
            "trace" => 9,
            other => other.parse().ok()?,
        },
        other => other.as_i64()?,
    };
    u8::try_from(n.clamp(0, 9)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_by_number_and_by_name() {
        assert_eq!(parse_level(&Value::Int(6)), Some(6));
        assert_eq!(parse_level(&Value::from("warning")), Some(5));
        assert_eq!(parse_level(&Value::from("8")), Some(8));
        assert_eq!(parse_level(&Value::Int(42)), Some(9));
        assert_eq!(parse_level(&Value::from("loud")), None);
        for level in [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ] {
            assert_eq!(tracing_level(original_level(&level).into()), level);
        }
    }
}
