//! Results: one line per case, the summary line, and the JSON report.

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::cases::Group;

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The target behaved as expected.
    Pass,
    /// It did not.
    Fail,
    /// The case does not apply to this target.
    Skip,
}

/// The result of one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// Its group.
    pub group: Group,
    /// How it ended.
    pub status: Status,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

impl CaseReport {
    /// The line printed for this case: `PASS name`, `FAIL name: why` or `SKIP name: why`.
    ///
    /// ```
    /// use aemp_conformance::{cases::Group, CaseReport, Status};
    /// let r = CaseReport { name: "node_time".into(), group: Group::Node, status: Status::Fail,
    ///                      detail: Some("expected a, got b".into()), duration_ms: 3 };
    /// assert_eq!(r.line(), "FAIL node_time: expected a, got b");
    /// ```
    pub fn line(&self) -> String {
        let word = match self.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        match &self.detail {
            Some(detail) => format!("{word} {}: {detail}", self.name),
            None => format!("{word} {}", self.name),
        }
    }
}

/// The results of a whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The target as given.
    pub target: String,
    /// The target's node ID, if it could be read.
    pub target_node: Option<String>,
    /// The framing the suite sent and asked for.
    pub framing: String,
    /// Whether the global protocol cases were enabled.
    pub target_is_seed: bool,
    /// Every case that ran, in order.
    pub cases: Vec<CaseReport>,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that were skipped.
    pub skipped: usize,
}

impl Report {
    /// An empty report for a target.
    pub fn new(target: String, framing: String, target_is_seed: bool) -> Report {
        Report {
            target,
            target_node: None,
            framing,
            target_is_seed,
            cases: Vec::new(),
            passed: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// Records one case's result.
    pub fn add(&mut self, case: CaseReport) {
        match case.status {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Skip => self.skipped += 1,
        }
        self.cases.push(case);
    }

    /// The last line: `N passed, M failed`, plus `, K skipped` when K > 0.
    ///
    /// ```
    /// # use aemp_conformance::Report;
    /// let mut r = Report::new("h:1".into(), "cbor".into(), false);
    /// assert_eq!(r.summary(), "0 passed, 0 failed");
    /// r.skipped = 2;
    /// assert_eq!(r.summary(), "0 passed, 0 failed, 2 skipped");
    /// ```
    pub fn summary(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }

    /// Whether no case failed.
    pub fn success(&self) -> bool {
        self.failed == 0
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(path, text + "\n")
    }
}
