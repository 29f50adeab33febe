//! Log lines an attacker cannot multiply: per topic, the first few lines of a window are
//! written at their level, the rest only at DEBUG and counted; at the end of a window an
//! INFO summary gives the counts (connections accepted, nodes up and down, failed
//! handshakes and authentications, suppressed lines).

use std::time::{Duration, Instant};

/// How long a counting window lasts.
pub(super) const WINDOW: Duration = Duration::from_secs(60);
/// Lines per topic and window written at their own level.
pub(super) const PER_WINDOW: u32 = 5;

/// What a throttled log line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Topic {
    /// A node came up or went down.
    NodeUpDown,
    /// A peer failed authentication (wrong secret or certificate).
    AuthFailure,
    /// A request refused or ignored (secure mode, malformed requests).
    Refusal,
}

impl Topic {
    const ALL: [Topic; 3] = [Topic::NodeUpDown, Topic::AuthFailure, Topic::Refusal];

    fn name(self) -> &'static str {
        match self {
            Topic::NodeUpDown => "node up/down",
            Topic::AuthFailure => "failed authentication",
            Topic::Refusal => "refused request",
        }
    }
}

/// What happened in the current window (for the summary).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) accepted: u64,
    pub(super) up: u64,
    pub(super) down: u64,
    pub(super) failed_handshakes: u64,
    pub(super) failed_auth: u64,
    pub(super) connect_attempts: u64,
    pub(super) connect_failures: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.accepted += other.accepted;
        self.up += other.up;
        self.down += other.down;
        self.failed_handshakes += other.failed_handshakes;
        self.failed_auth += other.failed_auth;
        self.connect_attempts += other.connect_attempts;
        self.connect_failures += other.connect_failures;
    }
}

/// The throttle of one node.
#[derive(Debug)]
pub(super) struct LogThrottle {
    start: Instant,
    shown: [u32; 3],
    suppressed: [u64; 3],
    /// This window's counts.
    pub(super) counts: Counts,
    /// The counts of the windows before.
    earlier: Counts,
}

impl LogThrottle {
    pub(super) fn new(now: Instant) -> LogThrottle {
        LogThrottle {
            start: now,
            shown: [0; 3],
            suppressed: [0; 3],
            counts: Counts::default(),
            earlier: Counts::default(),
        }
    }

    /// The counts since the node started.
    pub(super) fn totals(&self) -> Counts {
        let mut all = self.earlier;
        all.add(self.counts);
        all
    }

    /// Whether a line of `topic` may be written at its own level now; if not, it is
    /// counted (the caller writes it at DEBUG).
    pub(super) fn allow(&mut self, topic: Topic, now: Instant) -> bool {
        self.roll(now);
        let i = topic as usize;
        if self.shown[i] < PER_WINDOW {
            self.shown[i] += 1;
            true
        } else {
            self.suppressed[i] += 1;
            false
        }
    }

    /// Ends the window if it is over: writes the summary of what happened in it.
    pub(super) fn roll(&mut self, now: Instant) {
        if now < self.start + WINDOW {
            return;
        }
        let c = self.counts;
        if c != Counts::default() {
            tracing::info!(
                accepted = c.accepted,
                up = c.up,
                down = c.down,
                failed_handshakes = c.failed_handshakes,
                failed_authentications = c.failed_auth,
                window_secs = WINDOW.as_secs(),
                "connections in the last window"
            );
        }
        for topic in Topic::ALL {
            let n = self.suppressed[topic as usize];
            if n > 0 {
                tracing::info!(
                    topic = topic.name(),
                    suppressed = n,
                    window_secs = WINDOW.as_secs(),
                    "more log lines of this kind were written only at DEBUG"
                );
            }
        }
        let earlier = self.totals();
        *self = LogThrottle::new(now);
        self.earlier = earlier;
    }
}

/// A log line of `topic` at `level` if the throttle allows it, else at DEBUG.
macro_rules! throttled {
    ($core:expr, $topic:expr, $level:ident, $($args:tt)+) => {
        if $core.logs.allow($topic, $core.now) {
            tracing::$level!($($args)+);
        } else {
            tracing::debug!($($args)+);
        }
    };
}
pub(super) use throttled;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_lines_per_window_then_counts() {
        let t0 = std::time::Instant::now();
        let mut t = LogThrottle::new(t0);
        let allowed = (0..100).filter(|_| t.allow(Topic::AuthFailure, t0)).count();
        assert_eq!(allowed, PER_WINDOW as usize);
        assert_eq!(t.suppressed[Topic::AuthFailure as usize], 100 - 5);
        assert!(t.allow(Topic::NodeUpDown, t0), "topics count apart");
        // A new window starts afresh.
        assert!(t.allow(Topic::AuthFailure, t0 + WINDOW));
        assert_eq!(t.suppressed[Topic::AuthFailure as usize], 0);
    }
}
