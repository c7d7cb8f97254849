//! Raw queues → checked [`Queues`]: each value in its range, names resolved, overflow chains without
//! a cycle; every problem reported, in file order.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use toml::de::DeTable;

use super::problem::{Ctx, did_you_mean};
use super::raw::{RawCallback, RawFile, RawQueue, RawServiceLevel, S, read_file};
use super::{CallbackConfig, EmptyRules, Overflow, QueueConfig, Queues, ServiceLevel, Strategy};
use crate::agent::Helpline;

use super::problem::Problem;

/// The largest queues file read.
pub const MAX_QUEUES_BYTES: usize = 1024 * 1024;
/// The most queues a file may declare.
pub const MAX_QUEUES: usize = 500;

/// The shortest interval between announcements: more often, the caller hears little music.
const MIN_ANNOUNCE_SECS: i64 = 10;

/// Checks the text of a queues file (`file` names it in the problems).
pub fn check(text: &str, file: impl AsRef<Path>) -> Result<Queues, Vec<Problem>> {
    let mut ctx = Ctx::new(file.as_ref(), text);
    if text.len() > MAX_QUEUES_BYTES {
        ctx.error(
            0..0,
            format!(
                "the file is {} bytes, more than the {MAX_QUEUES_BYTES} allowed",
                text.len()
            ),
            "look for a generated or runaway file",
        );
        return Err(ctx.finish());
    }
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            ctx.error(e.span().unwrap_or(0..0), e.message().trim().to_owned(), "");
        }
        return Err(ctx.finish());
    }
    let raw = read_file(&mut ctx, doc.get_ref());
    let queues = validate(&mut ctx, &raw);
    if ctx.problems.is_empty() {
        Ok(Queues::from_checked(queues))
    } else {
        Err(ctx.finish())
    }
}

fn validate(ctx: &mut Ctx<'_>, raw: &RawFile) -> Vec<QueueConfig> {
    if raw.queues.is_empty() && !raw.queue_malformed {
        ctx.error(
            raw.queue_span.clone().unwrap_or(0..0),
            "no queues declared",
            "add a `[queue.NAME]` table for each queue",
        );
    }
    if raw.queues.len() > MAX_QUEUES {
        ctx.error(
            raw.queue_span.clone().unwrap_or(0..0),
            format!(
                "{} queues, more than the {MAX_QUEUES} allowed",
                raw.queues.len()
            ),
            "",
        );
        return Vec::new();
    }
    for (name, _) in &raw.queues {
        if !is_name(name.get_ref()) {
            ctx.error(
                name.span(),
                format!(
                    "queue name `{}` may only use a-z, 0-9, `_` and `-`",
                    name.get_ref()
                ),
                "",
            );
        }
    }
    let names: Vec<&str> = raw
        .queues
        .iter()
        .map(|(n, _)| n.get_ref().as_str())
        .collect();
    let mut queues = Vec::with_capacity(raw.queues.len());
    // Overflow edges, for the cycle check: (from, to, where it was written).
    let mut edges: Vec<(usize, usize, Range<usize>)> = Vec::new();
    for (i, (name, q)) in raw.queues.iter().enumerate() {
        let mut v = QueueCheck {
            ctx: &mut *ctx,
            q,
            d: &raw.defaults,
            names: &names,
            edges: Vec::new(),
        };
        let config = v.queue(name.get_ref());
        edges.extend(v.edges.into_iter().map(|(to, span)| (i, to, span)));
        queues.push(config);
    }
    overflow_cycles(ctx, &names, &edges);
    queues
}

/// Checks one queue, taking each value from the queue or else from `[defaults]`.
struct QueueCheck<'c, 'a, 'r> {
    ctx: &'c mut Ctx<'a>,
    q: &'r RawQueue,
    d: &'r RawQueue,
    names: &'r [&'r str],
    edges: Vec<(usize, Range<usize>)>,
}

impl QueueCheck<'_, '_, '_> {
    fn queue(&mut self, name: &str) -> QueueConfig {
        let (q, d) = (self.q, self.d);
        // A count or duration: the queue's own value, or [defaults]', in `range`, else `default`.
        macro_rules! secs {
            ($field:ident, $range:expr, $default:expr) => {
                self.secs(
                    stringify!($field),
                    pick(&q.$field, &d.$field),
                    $range,
                    $default,
                )
            };
        }
        let helpline = pick(&q.helpline, &d.helpline).and_then(|h| {
            h.get_ref()
                .parse::<Helpline>()
                .map_err(|e| self.ctx.error(h.span(), e.to_string(), ""))
                .ok()
        });
        let strategy = pick(&q.strategy, &d.strategy).map_or(Strategy::LongestIdle, |s| {
            match Strategy::ALL.iter().find(|x| x.as_str() == s.get_ref()) {
                Some(x) => *x,
                None => {
                    let known = Strategy::ALL.map(Strategy::as_str);
                    let hint = match did_you_mean(s.get_ref(), known) {
                        h if h.is_empty() => format!("one of: {}", known.join(", ")),
                        h => h,
                    };
                    self.ctx.error(
                        s.span(),
                        format!("unknown strategy `{}`", s.get_ref()),
                        hint,
                    );
                    Strategy::LongestIdle
                }
            }
        });
        let max_wait_secs = secs!(max_wait_secs, 1..=86_400, 600);
        let callback = pick(&q.callback, &d.callback).map(|c| self.callback(c, max_wait_secs));
        let on_max_wait = self.overflow(
            "on_max_wait",
            pick(&q.on_max_wait, &d.on_max_wait),
            callback.is_some(),
            true,
        );
        let on_full = self.overflow(
            "on_full",
            pick(&q.on_full, &d.on_full),
            callback.is_some(),
            false,
        );
        let on_empty = self.overflow(
            "on_empty",
            pick(&q.on_empty, &d.on_empty),
            callback.is_some(),
            true,
        );
        let flag = |own: &Option<S<bool>>, def: &Option<S<bool>>, dflt: bool| {
            pick(own, def).map_or(dflt, |b| *b.get_ref())
        };
        let announce_every_secs = pick(&q.announce_every_secs, &d.announce_every_secs).map(|s| {
            self.secs(
                "announce_every_secs",
                Some(s),
                MIN_ANNOUNCE_SECS..=3_600,
                60,
            )
        });
        QueueConfig {
            name: name.to_owned(),
            helpline,
            match_department: flag(&q.match_department, &d.match_department, false),
            strategy,
            ring_timeout_secs: secs!(ring_timeout_secs, 1..=300, 20),
            retry_secs: secs!(retry_secs, 0..=3_600, 5),
            wrap_up_secs: secs!(wrap_up_secs, 0..=3_600, 30),
            auto_pause_after: secs!(auto_pause_after, 0..=100, 3),
            service_level: self.service_level(pick(&q.service_level, &d.service_level)),
            priority: self.int(
                "priority",
                pick(&q.priority, &d.priority),
                -1_000..=1_000,
                0,
            ),
            open_complaint_boost: self.int(
                "open_complaint_boost",
                pick(&q.open_complaint_boost, &d.open_complaint_boost),
                0..=1_000,
                0,
            ),
            max_wait_secs,
            on_max_wait,
            max_callers: secs!(max_callers, 1..=100_000, 1_000),
            on_full,
            callback,
            announce_every_secs,
            empty: EmptyRules {
                join_when_empty: flag(&q.join_when_empty, &d.join_when_empty, false),
                leave_when_empty: flag(&q.leave_when_empty, &d.leave_when_empty, true),
                paused_is_empty: flag(&q.paused_is_empty, &d.paused_is_empty, true),
                on_empty,
            },
        }
    }

    fn service_level(&mut self, raw: Option<&S<RawServiceLevel>>) -> ServiceLevel {
        let Some(raw) = raw else {
            return ServiceLevel {
                percent: 80,
                within_secs: 20,
                short_abandon_secs: 5,
            };
        };
        let sl = raw.get_ref();
        let percent = self.secs("percent", sl.percent.as_ref(), 1..=100, 80);
        let within_secs = self.secs("within_secs", sl.within_secs.as_ref(), 1..=3_600, 20);
        let short_abandon_secs = self.secs(
            "short_abandon_secs",
            sl.short_abandon_secs.as_ref(),
            0..=3_600,
            5,
        );
        if let Some(s) = &sl.short_abandon_secs
            && short_abandon_secs >= within_secs
        {
            self.ctx.error(
                s.span(),
                format!(
                    "`short_abandon_secs` ({short_abandon_secs}) must be shorter than \
                         `within_secs` ({within_secs})"
                ),
                "a short abandon is a caller who hangs up before the target could be met",
            );
        }
        ServiceLevel {
            percent,
            within_secs,
            short_abandon_secs,
        }
    }

    fn callback(&mut self, raw: &S<RawCallback>, max_wait_secs: u32) -> CallbackConfig {
        let cb = raw.get_ref();
        let offer_after_secs = cb.offer_after_secs.as_ref().map(|s| {
            (
                s.span(),
                self.secs("offer_after_secs", Some(s), 1..=86_400, 60),
            )
        });
        if let Some((span, secs)) = &offer_after_secs
            && *secs >= max_wait_secs
        {
            self.ctx.error(
                span.clone(),
                format!(
                    "the call-back is offered after {secs} s, but callers wait at most \
                         {max_wait_secs} s (`max_wait_secs`): it would never be offered"
                ),
                "offer it earlier, or let callers wait longer",
            );
        }
        let key = cb.key.as_ref().and_then(|k| {
            let mut chars = k.get_ref().chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Some(c),
                _ => {
                    self.ctx.error(
                        k.span(),
                        format!("`{}` is not a phone key", k.get_ref()),
                        "one of 0-9, * and #",
                    );
                    None
                }
            }
        });
        if cb.offer_after_secs.is_none() && cb.key.is_none() {
            self.ctx.error(
                raw.span(),
                "the call-back is never offered: it has neither `offer_after_secs` nor `key`",
                "offer it after some seconds of waiting, on a key, or both",
            );
        }
        CallbackConfig {
            offer_after_secs: offer_after_secs.map(|(_, s)| s),
            key,
            attempts: self.secs("attempts", cb.attempts.as_ref(), 1..=10, 3),
            retry_secs: self.secs("retry_secs", cb.retry_secs.as_ref(), 1..=86_400, 300),
        }
    }

    /// An overflow action; `queue:NAME` is recorded as an edge for the cycle check.
    fn overflow(
        &mut self,
        field: &str,
        raw: Option<&S<String>>,
        has_callback: bool,
        callback_allowed: bool,
    ) -> Overflow {
        let Some(raw) = raw else {
            return Overflow::RecordComplaint;
        };
        let text = raw.get_ref().as_str();
        match text {
            "record_complaint" => Overflow::RecordComplaint,
            "callback_offer" if !callback_allowed => {
                self.ctx.error(
                    raw.span(),
                    format!("`{field}` cannot be `callback_offer`"),
                    "a full queue has no room for the caller's slot: use `record_complaint` or \
                     `queue:<other>`",
                );
                Overflow::RecordComplaint
            }
            "callback_offer" if !has_callback => {
                self.ctx.error(
                    raw.span(),
                    format!("`{field}` offers a call-back, but this queue has none"),
                    "add `callback = { offer_after_secs = …, key = … }` to the queue",
                );
                Overflow::RecordComplaint
            }
            "callback_offer" => Overflow::CallbackOffer,
            _ => match text.strip_prefix("queue:") {
                Some(target) => match self.names.iter().position(|n| *n == target) {
                    Some(ix) => {
                        self.edges.push((ix, raw.span()));
                        Overflow::Queue(target.to_owned())
                    }
                    None => {
                        self.ctx.error(
                            raw.span(),
                            format!("`{field}` names no queue `{target}`"),
                            did_you_mean(target, self.names.iter().copied()),
                        );
                        Overflow::RecordComplaint
                    }
                },
                None => {
                    self.ctx.error(
                        raw.span(),
                        format!("`{field}` cannot be `{text}`"),
                        "one of `record_complaint`, `queue:<name>`, `callback_offer`",
                    );
                    Overflow::RecordComplaint
                }
            },
        }
    }

    /// A non-negative count or number of seconds in `range`.
    fn secs(
        &mut self,
        field: &str,
        raw: Option<&S<i64>>,
        range: std::ops::RangeInclusive<i64>,
        default: u32,
    ) -> u32 {
        let value = self.int(
            field,
            raw,
            range,
            i32::try_from(default).unwrap_or(i32::MAX),
        );
        u32::try_from(value).unwrap_or(default)
    }

    fn int(
        &mut self,
        field: &str,
        raw: Option<&S<i64>>,
        range: std::ops::RangeInclusive<i64>,
        default: i32,
    ) -> i32 {
        let Some(raw) = raw else {
            return default;
        };
        let n = *raw.get_ref();
        if range.contains(&n) {
            return i32::try_from(n).unwrap_or(default);
        }
        let (lo, hi) = (*range.start(), *range.end());
        let message = match n {
            n if n < 0 && lo >= 0 && field.ends_with("_secs") => {
                format!("`{field}` is negative ({n}): a duration cannot be")
            }
            n if n < 0 && lo >= 0 => format!("`{field}` is negative ({n})"),
            0 if field.ends_with("_secs") => format!("`{field}` is zero: it must be at least {lo}"),
            n => format!("`{field}` is {n}: it must be between {lo} and {hi}"),
        };
        self.ctx.error(raw.span(), message, "");
        default
    }
}

fn pick<'r, T>(own: &'r Option<S<T>>, default: &'r Option<S<T>>) -> Option<&'r S<T>> {
    own.as_ref().or(default.as_ref())
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Every cycle in the overflow graph (each reported once, at the edge that closes it).
fn overflow_cycles(ctx: &mut Ctx<'_>, names: &[&str], edges: &[(usize, usize, Range<usize>)]) {
    let mut out: BTreeMap<usize, Vec<(usize, &Range<usize>)>> = BTreeMap::new();
    for (from, to, span) in edges {
        out.entry(*from).or_default().push((*to, span));
    }
    // Iterative depth-first search with colours: 0 unseen, 1 on the path, 2 done.
    let mut colour: HashMap<usize, u8> = HashMap::new();
    for start in 0..names.len() {
        if colour.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        colour.insert(start, 1);
        while let Some(&(node, next)) = path.last() {
            let succ = out.get(&node).map_or(&[][..], Vec::as_slice);
            let Some(&(to, span)) = succ.get(next) else {
                colour.insert(node, 2);
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            match colour.get(&to).copied().unwrap_or(0) {
                0 => {
                    colour.insert(to, 1);
                    path.push((to, 0));
                }
                1 => {
                    let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    let mut cycle: Vec<&str> =
                        path[from..].iter().map(|(n, _)| names[*n]).collect();
                    cycle.push(names[to]);
                    ctx.error(
                        span.clone(),
                        format!("overflow goes round in a circle: {}", cycle.join(" → ")),
                        "a caller could be passed from queue to queue for ever: end the chain \
                         with `record_complaint` or `callback_offer`",
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
