//! How a case ends when it does not pass.

use std::fmt;

/// Why a case did not pass: the target did something else than expected, or the case cannot
/// run against this target.
///
/// ```
/// use aemp_conformance::Failure;
/// let f = Failure::expected("a reply", "nothing within 3s");
/// assert_eq!(f.to_string(), "expected a reply, got nothing within 3s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The target's behaviour differs from what the case expects.
    Mismatch {
        /// What the case expected.
        expected: String,
        /// What it observed instead.
        got: String,
    },
    /// The case does not apply to this target (for example a global case on a plain node).
    Skip(String),
}

impl Failure {
    /// A mismatch between what was expected and what was observed.
    pub fn expected(expected: impl Into<String>, got: impl Into<String>) -> Failure {
        Failure::Mismatch {
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// A case that does not apply, with the reason.
    ///
    /// ```
    /// # use aemp_conformance::Failure;
    /// assert_eq!(Failure::skip("not a seed").to_string(), "not a seed");
    /// ```
    pub fn skip(why: impl Into<String>) -> Failure {
        Failure::Skip(why.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Mismatch { expected, got } => write!(f, "expected {expected}, got {got}"),
            Failure::Skip(why) => f.write_str(why),
        }
    }
}

/// What a case returns: `Ok(())` when it passed.
pub type CaseResult = Result<(), Failure>;

/// Fails with `expected`/`got` unless `condition` holds.
///
/// ```
/// # use aemp_conformance::outcome::ensure;
/// assert!(ensure(true, "x", || "y".into()).is_ok());
/// assert_eq!(ensure(false, "x", || "y".into()).unwrap_err().to_string(), "expected x, got y");
/// ```
pub fn ensure(
    condition: bool,
    expected: impl Into<String>,
    got: impl FnOnce() -> String,
) -> CaseResult {
    if condition {
        Ok(())
    } else {
        Err(Failure::expected(expected, got()))
    }
}
