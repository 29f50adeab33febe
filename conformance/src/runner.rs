//! Runs cases one after another, each in its own thread under a watchdog.

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::cases::{Case, Group};
use crate::ctx::Ctx;
use crate::outcome::{CaseResult, Failure};
use crate::report::{CaseReport, Report, Status};

/// Extra time the watchdog allows beyond a case's own timeout before giving up on it.
const GRACE: Duration = Duration::from_secs(2);

/// Runs the cases selected by the options (`only`), calling `on_case` after each.
pub fn run(ctx: Arc<Ctx>, cases: &[Case], mut on_case: impl FnMut(&CaseReport)) -> Report {
    let opts = ctx.options();
    let mut report = Report::new(
        opts.target.clone(),
        opts.framing.name().to_owned(),
        opts.target_is_seed,
    );
    let only = opts.only.clone();
    for case in cases
        .iter()
        .filter(|c| only.as_deref().is_none_or(|p| c.name.contains(p)))
    {
        let started = Instant::now();
        let result = if case.group == Group::Global && !ctx.options().target_is_seed {
            Err(Failure::skip(
                "global protocol case; the target is not declared a seed (--target-is-seed)",
            ))
        } else {
            run_one(&ctx, case)
        };
        let (status, detail) = match result {
            Ok(()) => (Status::Pass, None),
            Err(f @ Failure::Skip(_)) => (Status::Skip, Some(f.to_string())),
            Err(f) => (Status::Fail, Some(f.to_string())),
        };
        let case_report = CaseReport {
            name: case.name.to_owned(),
            group: case.group,
            status,
            detail,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        on_case(&case_report);
        report.add(case_report);
    }
    report.target_node = ctx.target_id().ok();
    report
}

/// Runs one case in a thread; a case that overruns its timeout fails (its thread is left
/// behind, its sockets time out on their own).
fn run_one(ctx: &Arc<Ctx>, case: &Case) -> CaseResult {
    let (tx, rx) = mpsc::channel();
    let thread_ctx = Arc::clone(ctx);
    let run = case.run;
    let spawned = thread::Builder::new()
        .name(case.name.to_owned())
        .spawn(move || {
            let _ = tx.send(run(&thread_ctx));
        });
    if let Err(e) = spawned {
        return Err(Failure::expected(
            "to start the case's thread",
            format!("error: {e}"),
        ));
    }
    match rx.recv_timeout(case.timeout + GRACE) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::expected(
            format!("the case to finish within {:?}", case.timeout),
            "no result: it was abandoned",
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::expected(
            "the case to finish",
            "a panic in the suite itself (a bug; see stderr)",
        )),
    }
}
