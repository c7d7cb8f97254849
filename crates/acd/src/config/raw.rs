//! The queues file as written: each value with its span, read field by field from the parsed TOML
//! tree so that every unknown key and every value of the wrong type is reported, not only the first.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::problem::{Ctx, did_you_mean};

pub(super) type S<T> = Spanned<T>;

/// A whole file.
pub(super) struct RawFile {
    pub(super) defaults: RawQueue,
    /// In file order.
    pub(super) queues: Vec<(S<String>, RawQueue)>,
    /// Where `[queue…]` was written (for "no queues").
    pub(super) queue_span: Option<Range<usize>>,
    /// `queue` was there but not a table (already reported).
    pub(super) queue_malformed: bool,
}

/// One `[queue.NAME]` table, or `[defaults]`: every field optional here.
#[derive(Default)]
pub(super) struct RawQueue {
    pub(super) helpline: Option<S<String>>,
    pub(super) match_department: Option<S<bool>>,
    pub(super) strategy: Option<S<String>>,
    pub(super) ring_timeout_secs: Option<S<i64>>,
    pub(super) retry_secs: Option<S<i64>>,
    pub(super) wrap_up_secs: Option<S<i64>>,
    pub(super) auto_pause_after: Option<S<i64>>,
    pub(super) service_level: Option<S<RawServiceLevel>>,
    pub(super) priority: Option<S<i64>>,
    pub(super) open_complaint_boost: Option<S<i64>>,
    pub(super) max_wait_secs: Option<S<i64>>,
    pub(super) on_max_wait: Option<S<String>>,
    pub(super) max_callers: Option<S<i64>>,
    pub(super) on_full: Option<S<String>>,
    pub(super) callback: Option<S<RawCallback>>,
    pub(super) announce_every_secs: Option<S<i64>>,
    pub(super) join_when_empty: Option<S<bool>>,
    pub(super) leave_when_empty: Option<S<bool>>,
    pub(super) paused_is_empty: Option<S<bool>>,
    pub(super) on_empty: Option<S<String>>,
}

#[derive(Default)]
pub(super) struct RawServiceLevel {
    pub(super) percent: Option<S<i64>>,
    pub(super) within_secs: Option<S<i64>>,
    pub(super) short_abandon_secs: Option<S<i64>>,
}

#[derive(Default)]
pub(super) struct RawCallback {
    pub(super) offer_after_secs: Option<S<i64>>,
    pub(super) key: Option<S<String>>,
    pub(super) attempts: Option<S<i64>>,
    pub(super) retry_secs: Option<S<i64>>,
}

/// The keys a queue (and `[defaults]`) accepts.
pub(super) const QUEUE_FIELDS: &[&str] = &[
    "description",
    "helpline",
    "match_department",
    "strategy",
    "ring_timeout_secs",
    "retry_secs",
    "wrap_up_secs",
    "auto_pause_after",
    "service_level",
    "priority",
    "open_complaint_boost",
    "max_wait_secs",
    "on_max_wait",
    "max_callers",
    "on_full",
    "callback",
    "announce_every_secs",
    "join_when_empty",
    "leave_when_empty",
    "paused_is_empty",
    "on_empty",
];
const SERVICE_LEVEL_FIELDS: &[&str] = &["percent", "within_secs", "short_abandon_secs"];
const CALLBACK_FIELDS: &[&str] = &["offer_after_secs", "key", "attempts", "retry_secs"];

type Entry<'a, 'i> = (&'a S<std::borrow::Cow<'i, str>>, &'a S<DeValue<'i>>);

/// Reads the parsed document; problems go to `ctx`.
pub(super) fn read_file(ctx: &mut Ctx<'_>, doc: &DeTable<'_>) -> RawFile {
    let mut file = RawFile {
        defaults: RawQueue::default(),
        queues: Vec::new(),
        queue_span: None,
        queue_malformed: false,
    };
    for (key, value) in doc.iter() {
        match key.get_ref().as_ref() {
            "defaults" => {
                if let Some(t) = table(ctx, (key, value), "a table of queue settings") {
                    file.defaults = read_queue(ctx, t);
                }
            }
            "queue" => {
                file.queue_span = Some(key.span());
                let Some(t) = table(ctx, (key, value), "tables `[queue.NAME]`") else {
                    file.queue_malformed = true;
                    continue;
                };
                for (name, body) in t.iter() {
                    let Some(body) = table(ctx, (name, body), "a table of queue settings") else {
                        continue;
                    };
                    let raw = read_queue(ctx, body);
                    file.queues
                        .push((Spanned::new(name.span(), name.get_ref().to_string()), raw));
                }
            }
            other => ctx.error(
                key.span(),
                format!("unknown table `{other}`"),
                match did_you_mean(other, ["defaults", "queue"]) {
                    h if h.is_empty() => {
                        "the file holds `[defaults]` and `[queue.NAME]` tables".to_owned()
                    }
                    h => h,
                },
            ),
        }
    }
    file.queues.sort_by_key(|(name, _)| name.span().start);
    file
}

fn read_queue(ctx: &mut Ctx<'_>, t: &DeTable<'_>) -> RawQueue {
    let mut q = RawQueue::default();
    for entry in t.iter() {
        if !queue_key(ctx, &mut q, entry.0.get_ref(), entry) {
            unknown(ctx, entry, QUEUE_FIELDS);
        }
    }
    q
}

/// Reads one key of a queue; `false` if there is no such key.
fn queue_key(ctx: &mut Ctx<'_>, q: &mut RawQueue, key: &str, entry: Entry<'_, '_>) -> bool {
    match key {
        "description" => {
            string(ctx, entry);
        }
        "helpline" => q.helpline = string(ctx, entry),
        "match_department" => q.match_department = boolean(ctx, entry),
        "strategy" => q.strategy = string(ctx, entry),
        "ring_timeout_secs" => q.ring_timeout_secs = int(ctx, entry),
        "retry_secs" => q.retry_secs = int(ctx, entry),
        "wrap_up_secs" => q.wrap_up_secs = int(ctx, entry),
        "auto_pause_after" => q.auto_pause_after = int(ctx, entry),
        "service_level" => {
            q.service_level = nested(
                ctx,
                entry,
                "a table `{ percent, within_secs }`",
                SERVICE_LEVEL_FIELDS,
                service_level_key,
            );
        }
        "priority" => q.priority = int(ctx, entry),
        "open_complaint_boost" => q.open_complaint_boost = int(ctx, entry),
        "max_wait_secs" => q.max_wait_secs = int(ctx, entry),
        "on_max_wait" => q.on_max_wait = string(ctx, entry),
        "max_callers" => q.max_callers = int(ctx, entry),
        "on_full" => q.on_full = string(ctx, entry),
        "callback" => {
            q.callback = nested(
                ctx,
                entry,
                "a table of call-back settings",
                CALLBACK_FIELDS,
                callback_key,
            );
        }
        "announce_every_secs" => q.announce_every_secs = int(ctx, entry),
        "join_when_empty" => q.join_when_empty = boolean(ctx, entry),
        "leave_when_empty" => q.leave_when_empty = boolean(ctx, entry),
        "paused_is_empty" => q.paused_is_empty = boolean(ctx, entry),
        "on_empty" => q.on_empty = string(ctx, entry),
        _ => return false,
    }
    true
}

fn service_level_key(
    ctx: &mut Ctx<'_>,
    sl: &mut RawServiceLevel,
    key: &str,
    e: Entry<'_, '_>,
) -> bool {
    match key {
        "percent" => sl.percent = int(ctx, e),
        "within_secs" => sl.within_secs = int(ctx, e),
        "short_abandon_secs" => sl.short_abandon_secs = int(ctx, e),
        _ => return false,
    }
    true
}

fn callback_key(ctx: &mut Ctx<'_>, cb: &mut RawCallback, key: &str, e: Entry<'_, '_>) -> bool {
    match key {
        "offer_after_secs" => cb.offer_after_secs = int(ctx, e),
        "key" => cb.key = string(ctx, e),
        "attempts" => cb.attempts = int(ctx, e),
        "retry_secs" => cb.retry_secs = int(ctx, e),
        _ => return false,
    }
    true
}

/// An inline or nested table read key by key with `set` (`false`: no such key).
fn nested<T: Default>(
    ctx: &mut Ctx<'_>,
    entry: Entry<'_, '_>,
    expected: &str,
    known: &[&str],
    set: fn(&mut Ctx<'_>, &mut T, &str, Entry<'_, '_>) -> bool,
) -> Option<S<T>> {
    let t = table(ctx, entry, expected)?;
    let mut out = T::default();
    for e in t.iter() {
        if !set(ctx, &mut out, e.0.get_ref(), e) {
            unknown(ctx, e, known);
        }
    }
    Some(Spanned::new(entry.1.span(), out))
}

fn unknown(ctx: &mut Ctx<'_>, (key, _): Entry<'_, '_>, known: &[&str]) {
    let name = key.get_ref().as_ref();
    let hint = match did_you_mean(name, known.iter().copied()) {
        h if h.is_empty() => format!("the keys here are: {}", known.join(", ")),
        h => h,
    };
    ctx.error(key.span(), format!("unknown key `{name}`"), hint);
}

fn wrong_type(ctx: &mut Ctx<'_>, (key, value): Entry<'_, '_>, expected: &str) {
    ctx.error(
        value.span(),
        format!(
            "`{}` must be {expected}, not {}",
            key.get_ref(),
            value.get_ref().type_str()
        ),
        "",
    );
}

fn table<'a, 'i>(
    ctx: &mut Ctx<'_>,
    entry: Entry<'a, 'i>,
    expected: &str,
) -> Option<&'a DeTable<'i>> {
    match entry.1.get_ref() {
        DeValue::Table(t) => Some(t),
        DeValue::Array(_) if entry.0.get_ref() == "queue" => {
            ctx.error(
                entry.0.span(),
                "queues are tables named after the queue, not an array",
                "write `[queue.grievance]` rather than `[[queue]]`",
            );
            None
        }
        _ => {
            wrong_type(ctx, entry, expected);
            None
        }
    }
}

/// A value `get` reads from the TOML value: `None` is the wrong type, `Some(Err)` a value out of
/// range.
fn typed<T>(
    ctx: &mut Ctx<'_>,
    entry: Entry<'_, '_>,
    expected: &str,
    get: impl FnOnce(&DeValue<'_>) -> Option<Result<T, String>>,
) -> Option<S<T>> {
    match get(entry.1.get_ref()) {
        Some(Ok(v)) => Some(Spanned::new(entry.1.span(), v)),
        Some(Err(message)) => {
            ctx.error(entry.1.span(), message, "");
            None
        }
        None => {
            wrong_type(ctx, entry, expected);
            None
        }
    }
}

fn int(ctx: &mut Ctx<'_>, entry: Entry<'_, '_>) -> Option<S<i64>> {
    let key = entry.0.get_ref();
    typed(ctx, entry, "a whole number", |v| {
        v.as_integer().map(|i| {
            i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| format!("`{key}` is out of range"))
        })
    })
}

fn string(ctx: &mut Ctx<'_>, entry: Entry<'_, '_>) -> Option<S<String>> {
    typed(ctx, entry, "a string", |v| {
        v.as_str().map(|s| Ok(s.to_owned()))
    })
}

fn boolean(ctx: &mut Ctx<'_>, entry: Entry<'_, '_>) -> Option<S<bool>> {
    typed(ctx, entry, "true or false", |v| v.as_bool().map(Ok))
}
