//! Forwarding this process's `tracing` events to the catchers that asked for them.
//!
//! The layer only copies an event into each interested catcher's bounded buffer; a
//! thread of its own sends them, outside the subscriber, so that sending (which takes the
//! node's locks and may wait for room) never runs inside a log call.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aemp_proto::Value;
use tracing::field::{Field, Visit};
use tracing::metadata::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer};

use super::level::{original_level, parse_level, tracing_level};
use super::CATCHER_TARGET_MARK;
use crate::shared::lock;
use crate::{Node, PortId};

/// The most messages waiting for one catcher; beyond it they are dropped and counted.
pub const FORWARD_BUFFER: usize = 1024;

/// The `tracing` layer that forwards events to catchers (see the [module docs](super)).
/// It filters for itself: it wants nothing while no catcher is connected, so callsites
/// cost nothing then, and only the levels catchers asked for afterwards.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
/// let _subscriber = tracing_subscriber::registry().with(aemp_node::logs::layer());
/// ```
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    Forwarding.with_filter(CatcherLevels)
}

/// One catcher: where to send, from which node, up to which level.
struct Catcher {
    id: u64,
    node: Node,
    reply: PortId,
    level: u8,
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    records: VecDeque<Vec<Value>>,
    dropped: u64,
}

/// Every catcher of the process, and the sending thread's wake-up.
#[derive(Default)]
struct Catchers {
    list: Mutex<Vec<Arc<Catcher>>>,
    next_id: AtomicU64,
    work: Mutex<bool>,
    wake: Condvar,
}

/// The highest level any catcher wants (0: none), read by the filter of every callsite.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

fn catchers() -> &'static Catchers {
    static CATCHERS: OnceLock<Catchers> = OnceLock::new();
    CATCHERS.get_or_init(Catchers::default)
}

/// Starts the sending thread, once.
fn start_sending() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let started = std::thread::Builder::new()
            .name("aemp log forwarder".into())
            .spawn(send_forever);
        if let Err(e) = started {
            tracing::error!(error = %e, "cannot start the log forwarding thread");
        }
    });
}

thread_local! {
    /// Set on the sending thread: what it logs itself is not forwarded.
    static SENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `AnyEvent::MP::LogCatcher::connect VERSION REPLY LEVEL`: forward to REPLY until it dies.
pub(crate) fn connect(node: &Node, args: Vec<Value>) {
    let (Some(reply), Some(level)) = (
        args.get(1).and_then(Value::as_str),
        args.get(2).and_then(parse_level),
    ) else {
        tracing::warn!(
            ?args,
            "log catcher connect without a reply port and a level ignored"
        );
        return;
    };
    let all = catchers();
    let catcher = Arc::new(Catcher {
        id: all.next_id.fetch_add(1, Ordering::Relaxed),
        node: node.clone(),
        reply: PortId::from(reply),
        level,
        waiting: Mutex::default(),
    });
    let id = catcher.id;
    start_sending();
    node.mon(&catcher.reply, move |_| remove(id)).detach();
    lock(&all.list).push(catcher);
    levels_changed(all);
    tracing::debug!(%reply, level, "forwarding log messages to a catcher");
}

fn remove(id: u64) {
    let all = catchers();
    lock(&all.list).retain(|c| c.id != id);
    levels_changed(all);
}

fn levels_changed(all: &Catchers) {
    let max = lock(&all.list).iter().map(|c| c.level).max().unwrap_or(0);
    MAX_LEVEL.store(max, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

fn wanted(meta: &Metadata<'_>) -> bool {
    let max = MAX_LEVEL.load(Ordering::Relaxed);
    max > 0 && original_level(meta.level()) <= max && !meta.target().contains(CATCHER_TARGET_MARK)
}

struct CatcherLevels;

impl<S> Filter<S> for CatcherLevels {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        wanted(meta) && !SENDING.with(|s| s.get())
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if wanted(meta) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match MAX_LEVEL.load(Ordering::Relaxed) {
            0 => Some(LevelFilter::OFF),
            n => Some(LevelFilter::from_level(tracing_level(n.into()))),
        }
    }
}

struct Forwarding;

impl<S: Subscriber> Layer<S> for Forwarding {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let level = original_level(meta.level());
        let all = catchers();
        let mut record = None;
        for catcher in lock(&all.list).iter().filter(|c| level <= c.level) {
            let record = record.get_or_insert_with(|| {
                let mut text = Text::default();
                event.record(&mut text);
                vec![
                    Value::Float(unix_time()),
                    Value::from(meta.target()),
                    Value::Int(level.into()),
                    Value::from(text.line()),
                ]
            });
            let mut waiting = lock(&catcher.waiting);
            if waiting.records.len() < FORWARD_BUFFER {
                waiting.records.push_back(record.clone());
            } else {
                waiting.dropped += 1;
            }
        }
        if record.is_some() {
            *lock(&all.work) = true;
            all.wake.notify_one();
        }
    }
}

/// The sending thread: waits for work, then sends every waiting record.
fn send_forever() {
    SENDING.with(|s| s.set(true));
    let all = catchers();
    loop {
        {
            let mut work = lock(&all.work);
            while !*work {
                work = all.wake.wait(work).unwrap_or_else(|e| e.into_inner());
            }
            *work = false;
        }
        let list = lock(&all.list).clone();
        for catcher in list {
            let Waiting { records, dropped } = std::mem::take(&mut *lock(&catcher.waiting));
            let report = (dropped > 0).then(|| dropped_record(dropped));
            for record in records.into_iter().chain(report) {
                if catcher.node.send_owned(&catcher.reply, record).is_err() {
                    remove(catcher.id); // the node stopped
                    break;
                }
            }
        }
    }
}

fn dropped_record(dropped: u64) -> Vec<Value> {
    vec![
        Value::Float(unix_time()),
        Value::from("aemp_node::logs"),
        Value::Int(5),
        Value::from(format!(
            "{dropped} log messages dropped: this catcher was slower than they came"
        )),
    ]
}

fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An event as one line: its message, then its other fields as `name=value`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Text {
    fn line(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let sep = if self.fields.is_empty() { "" } else { " " };
            let _ = write!(self.fields, "{sep}{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let sep = if self.fields.is_empty() { "" } else { " " };
            let _ = write!(self.fields, "{sep}{}={value}", field.name());
        }
    }
}
