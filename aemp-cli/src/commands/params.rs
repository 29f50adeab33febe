//! `set...` for the protocol parameters (monitor_timeout, auth_offer, secure, ...).

use aemp_config::coerce;
use serde_json::Value;

use super::Param;
use crate::args::Args;
use crate::error::CliError;
use crate::session::Session;

/// Checks the value and stores it in its natural JSON type: a number of seconds, a list of
/// names, or a boolean.
pub(super) fn set(
    param: Param,
    name: &str,
    session: &mut Session,
    args: &mut Args,
) -> Result<(), CliError> {
    let key = param.key();
    let stored = match param {
        Param::MonitorTimeout | Param::ConnectInterval => {
            let value = args.value(name, "<seconds>")?;
            seconds_json(coerce::to_seconds(key, &value)?)
        }
        Param::FramingFormat | Param::AuthOffer | Param::AuthAccept => {
            let value = args.value(name, "<name>,...")?;
            Value::Array(
                coerce::to_non_empty_list(key, &value)?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            )
        }
        Param::Autocork | Param::Nodelay | Param::Secure => {
            let value = args.value(name, "<bool>")?;
            Value::Bool(coerce::to_bool(key, &value)?)
        }
    };
    session.set(key, stored)
}

/// Whole seconds as a JSON integer (`30`, not `30.0`), others as a float.
fn seconds_json(secs: f64) -> Value {
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53
    if secs.fract() == 0.0 && secs < EXACT_INTEGERS {
        Value::from(secs as u64)
    } else {
        Value::from(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_are_integers() {
        assert_eq!(seconds_json(30.0).to_string(), "30");
        assert_eq!(seconds_json(0.5).to_string(), "0.5");
    }
}
