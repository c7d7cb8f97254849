//! `/metrics`: one prometheus-client [`Registry`] per node, built at start ([`Metrics::new`]) and
//! encoded in the Prometheus text format (0.0.4) on every scrape.
//!
//! The counters stay where they are counted — plain atomics in the engine ([`EngineStats`]), the ARI
//! router and connection, the ticket service's journal, the call records writer — and one collector
//! reads them at scrape time (the outbound dialer's too), so the call path keeps its lock-free `fetch_add`s and nothing is
//! counted twice. The latencies are histograms observed where they happen ([`Timings`]): every ARI
//! request by operation and outcome (`ari::Client` tells an [`ari::RequestObserver`]; the ari crate
//! knows no metrics library), and every ticket a call files, until it is durable. The names are the
//! `helpline_…` ones dashboards already use.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::watch;

use crate::engine::{CallOutcome, EngineStats};

/// `/metrics`' Content-Type.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The latency histograms. Made first, handed to the parts that observe them (the ARI client, the
/// engine's ticket desk), then registered by [`Metrics::new`].
#[derive(Debug, Clone)]
pub struct Timings {
    ari: Arc<AriTimings>,
    filing: FilingTimer,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            ari: Arc::new(AriTimings(Family::new_with_constructor(ari_histogram))),
            filing: FilingTimer(Histogram::new(exponential_buckets(0.0005, 2.0, 14))),
        }
    }
}

impl Timings {
    /// What the ARI client tells how long each request took.
    pub fn ari(&self) -> Arc<dyn ari::RequestObserver> {
        Arc::clone(&self.ari) as Arc<dyn ari::RequestObserver>
    }

    /// What the engine's ticket desk tells how long each filing took.
    pub fn filing(&self) -> FilingTimer {
        self.filing.clone()
    }
}

/// 0.25 ms to 4 s, doubling (ARI's default timeout is 5 s: the last bucket, `+Inf`, holds those).
fn ari_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AriRequest {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug)]
struct AriTimings(Family<AriRequest, Histogram, fn() -> Histogram>);

impl ari::RequestObserver for AriTimings {
    fn observe(&self, operation: &'static str, outcome: ari::RequestOutcome, elapsed: Duration) {
        self.0
            .get_or_create(&AriRequest {
                operation,
                outcome: outcome.as_str(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// Times the tickets calls file, until they are durable (database or journal).
#[derive(Debug, Clone)]
pub struct FilingTimer(Histogram);

impl FilingTimer {
    /// One filing took `elapsed` (whether it succeeded or not).
    pub fn observe(&self, elapsed: Duration) {
        self.0.observe(elapsed.as_secs_f64());
    }
}

/// How long call tasks take from an ARI event to the first action it causes: observed by the task,
/// held in the engine's counters ([`EngineStats::event_to_command`]).
#[derive(Debug, Clone)]
pub struct EventToCommand(Histogram);

impl Default for EventToCommand {
    /// 50 µs to about 1.6 s, doubling.
    fn default() -> Self {
        EventToCommand(Histogram::new(exponential_buckets(0.000_05, 2.0, 16)))
    }
}

impl EventToCommand {
    /// One event's first action went out `elapsed` after the event reached the task.
    pub fn observe(&self, elapsed: Duration) {
        self.0.observe(elapsed.as_secs_f64());
    }
}

/// What the counters are read from at scrape time.
#[derive(Debug, Clone)]
pub struct Sources {
    pub engine: Arc<EngineStats>,
    pub router: ari::Router,
    pub connection: Arc<ari::ConnectionStats>,
    pub ari_state: watch::Receiver<ari::ConnectionState>,
    pub tickets: tickets::TicketService,
    pub records: Arc<records::WriterStats>,
    /// The call centre's live figures, when the node runs one.
    pub centre: Option<Arc<crate::centre::Gauges>>,
    /// The notifier's (SMS and webhooks from the ticket outbox).
    pub notify: Arc<notify::NotifyStats>,
    /// The outbound dialer's (confirmation calls, officers' reminders), when it runs.
    pub outbound: Option<Arc<crate::engine::outbound::OutboundStats>>,
}

/// The node's registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    /// Registers the histograms of `timings` and the counters of `sources`.
    pub fn new(timings: &Timings, sources: Sources) -> Self {
        let mut registry = Registry::default();
        registry.register_with_unit(
            "helpline_ari_request_duration",
            "ARI REST requests by operation and outcome (answered, refused, timed_out, failed), \
             until the whole reply is read",
            Unit::Seconds,
            timings.ari.0.clone(),
        );
        registry.register_with_unit(
            "helpline_ticket_filing_duration",
            "Tickets filed by calls, until durable in the database or the journal (failures too)",
            Unit::Seconds,
            timings.filing.0.clone(),
        );
        registry.register_with_unit(
            "helpline_event_to_command_duration",
            "From an ARI event reaching its call's task to the first action it caused going out \
             (the IVR's decision and the call's progress saved included; events that cause none \
             not counted)",
            Unit::Seconds,
            sources.engine.event_to_command.0.clone(),
        );
        registry.register_collector(Box::new(Counters(sources)));
        Metrics { registry }
    }

    /// The Prometheus text.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(err) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            // Only a failing writer fails, and a String does not.
            tracing::error!(%err, "encoding the metrics");
        }
        out
    }
}

/// Reads every counter at scrape time.
#[derive(Debug)]
struct Counters(Sources);

/// Writes one metric family (its HELP and TYPE lines, then its samples).
struct Out<'a>(DescriptorEncoder<'a>);

impl Out<'_> {
    fn counter(&mut self, name: &str, help: &str, value: u64) -> std::fmt::Result {
        let metric = ConstCounter::new(value);
        metric.encode(
            self.0
                .encode_descriptor(name, help, None, MetricType::Counter)?,
        )
    }

    fn gauge(&mut self, name: &str, help: &str, value: u64) -> std::fmt::Result {
        let metric = ConstGauge::new(value);
        metric.encode(
            self.0
                .encode_descriptor(name, help, None, MetricType::Gauge)?,
        )
    }

    /// A gauge with one label, a sample per value (`None`: no sample for that one).
    fn gauges_by<V: prometheus_client::encoding::EncodeGaugeValue + Copy + std::fmt::Debug>(
        &mut self,
        name: &str,
        help: &str,
        label: &'static str,
        values: &[(&str, Option<V>)],
    ) -> std::fmt::Result {
        let mut family = self
            .0
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (value, sample) in values {
            if let Some(sample) = sample {
                let labels = [(label, *value)];
                ConstGauge::new(*sample).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }

    /// A counter with one label, a sample per value.
    fn counters_by(
        &mut self,
        name: &str,
        help: &str,
        label: &'static str,
        values: &[(&'static str, u64)],
    ) -> std::fmt::Result {
        let mut family = self
            .0
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (value, count) in values {
            let labels = [(label, *value)];
            ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Collector for Counters {
    fn encode(&self, encoder: DescriptorEncoder) -> std::fmt::Result {
        let mut out = Out(encoder);
        let s = &self.0;
        let e = s.engine.snapshot();
        out.counter(
            "helpline_calls_offered",
            "Calls that entered the IVR application.",
            e.calls_offered,
        )?;
        out.counter(
            "helpline_calls_over_capacity",
            "Calls sent back to the dialplan because the engine was at its concurrency cap.",
            e.calls_over_capacity,
        )?;
        out.counter(
            "helpline_calls_refused_shutdown",
            "Calls sent back to the dialplan because the engine was shutting down.",
            e.calls_refused_shutdown,
        )?;
        out.gauge(
            "helpline_calls_in_progress",
            "Calls being handled now.",
            e.calls_in_progress,
        )?;
        let ended: Vec<_> = CallOutcome::ALL
            .iter()
            .map(|o| (o.as_str(), e.ended(*o)))
            .collect();
        out.counters_by(
            "helpline_calls_ended",
            "Calls whose handling ended, by outcome.",
            "outcome",
            &ended,
        )?;
        for (name, help, value) in [
            (
                "helpline_ari_events",
                "ARI events delivered to calls.",
                e.events,
            ),
            (
                "helpline_tickets_created",
                "Tickets filed by calls.",
                e.tickets_created,
            ),
            (
                "helpline_ticket_failures",
                "Ticket filings from calls that failed.",
                e.ticket_failures,
            ),
            (
                "helpline_status_lookups",
                "Complaint status enquiries answered.",
                e.lookups,
            ),
            (
                "helpline_recordings_fetched",
                "Complaint recordings fetched from Asterisk.",
                e.recordings_fetched,
            ),
            (
                "helpline_ari_errors",
                "ARI requests that failed (other than for a channel already gone).",
                e.ari_errors,
            ),
            (
                "helpline_ari_retries",
                "ARI requests of calls tried again after a failure.",
                e.ari_retries,
            ),
            (
                "helpline_desk_timeouts",
                "Status lookups and feedback the ticket store did not answer in time.",
                e.desk_timeouts,
            ),
            (
                "helpline_recordings_deleted",
                "Recordings deleted on Asterisk once no longer needed there.",
                e.recordings_deleted,
            ),
            (
                "helpline_calls_resumed",
                "Calls picked up from the progress an engine that died left.",
                e.calls_resumed,
            ),
            (
                "helpline_calls_picked_up",
                "Calls found waiting after their StasisStart was lost with the connection, started then.",
                e.calls_picked_up,
            ),
            (
                "helpline_ari_reconnections",
                "Times the ARI connection came back and calls were reconciled.",
                e.reconnections,
            ),
            (
                "helpline_orphan_channels",
                "Channels found after a reconnection with no call task (sent back to the dialplan).",
                e.orphans_reconciled,
            ),
            (
                "helpline_script_reloads",
                "IVR script reloads.",
                e.script_reloads,
            ),
            (
                "helpline_script_reload_failures",
                "IVR script reloads refused (invalid script; the old one stays).",
                e.script_reload_failures,
            ),
        ] {
            out.counter(name, help, value)?;
        }
        out.counters_by(
            "helpline_fallback_recordings",
            "Complaints recorded by the dialplan fallback, by what the importer did with them.",
            "result",
            &[
                ("imported", e.fallback_imported),
                ("skipped", e.fallback_skipped),
                ("failed", e.fallback_failed),
            ],
        )?;

        let r = s.router.stats();
        for (name, help, value) in [
            (
                "helpline_ari_events_delivered",
                "ARI events routed to call mailboxes.",
                r.delivered,
            ),
            (
                "helpline_ari_events_unrouted",
                "ARI events for no call (other applications, channels already ended), dropped.",
                r.unrouted,
            ),
            (
                "helpline_ari_mailbox_overflows",
                "Calls failed because their mailbox overflowed.",
                r.mailbox_overflows,
            ),
            (
                "helpline_ari_events_dropped_failed_calls",
                "ARI events dropped because their call had already failed or its task was gone.",
                r.dropped_for_failed_calls,
            ),
            (
                "helpline_ari_calls_routed",
                "Calls the router handed to the engine.",
                r.new_calls,
            ),
            (
                "helpline_ari_calls_rejected",
                "Calls the router could not hand to the engine.",
                r.rejected_calls,
            ),
            (
                "helpline_ari_control_events",
                "ARI events that are no one call's (reconnections, stalls), handed to the engine.",
                r.control_events,
            ),
            (
                "helpline_ari_control_overflows",
                "Control events lost because the control channel was full.",
                r.control_overflows,
            ),
        ] {
            out.counter(name, help, value)?;
        }
        out.gauge(
            "helpline_ari_routed_channels",
            "Channel ids the router routes now.",
            r.routed_channels as u64,
        )?;
        out.gauge(
            "helpline_ari_routed_bridges",
            "Bridge ids the router routes now.",
            r.routed_bridges as u64,
        )?;

        let c = s.connection.snapshot();
        for (name, help, value) in [
            (
                "helpline_ari_frames",
                "WebSocket data frames received from ARI.",
                c.frames,
            ),
            (
                "helpline_ari_frames_parsed",
                "Frames parsed into an event (typed or unknown).",
                c.parsed,
            ),
            (
                "helpline_ari_events_unknown",
                "Events of an unknown type, or whose fields did not decode (kept raw).",
                c.unknown,
            ),
            (
                "helpline_ari_frames_malformed",
                "Frames that were not events at all.",
                c.malformed,
            ),
            (
                "helpline_ari_websocket_reconnects",
                "WebSocket reconnections after the first connection.",
                c.reconnects,
            ),
            (
                "helpline_ari_connect_failures",
                "Failed WebSocket connection attempts.",
                c.connect_failures,
            ),
            (
                "helpline_ari_silent_peers",
                "Connections dropped because Asterisk went silent (no pong).",
                c.silent_peers,
            ),
            (
                "helpline_ari_stalls",
                "Late pongs on connections that stayed up (reconciled without reconnecting).",
                c.stalls,
            ),
        ] {
            out.counter(name, help, value)?;
        }
        let connected = matches!(
            &*s.ari_state.borrow(),
            ari::ConnectionState::Connected { .. }
        );
        out.gauge(
            "helpline_ari_connected",
            "1 when the ARI event connection is up.",
            u64::from(connected),
        )?;

        out.gauge(
            "helpline_database_up",
            "1 when the ticket database is reachable.",
            u64::from(!s.tickets.database_down()),
        )?;
        let pool = s.tickets.store().pool_connections();
        out.gauges_by(
            "helpline_database_connections",
            "The ticket store's pooled connections: lent out, idle, and the most it opens \
             (all lent: the next query waits for one).",
            "state",
            &[
                (
                    "in_use",
                    Some(u64::from(pool.open.saturating_sub(pool.idle))),
                ),
                ("idle", Some(u64::from(pool.idle))),
                ("max", Some(u64::from(pool.max))),
            ],
        )?;
        out.gauge(
            "helpline_journal_pending",
            "Tickets in the local journal waiting for the database.",
            s.tickets.journal_backlog() as u64,
        )?;

        let w = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let rec = &s.records;
        for (name, help, value) in [
            (
                "helpline_records_calls",
                "Call records handed to the records writer.",
                w(&rec.calls),
            ),
            (
                "helpline_records_queue_events",
                "Queue and agent events handed to the records writer.",
                w(&rec.events),
            ),
            (
                "helpline_records_stored",
                "Call records and queue events written to the database (a replayed one counts again).",
                w(&rec.stored),
            ),
            (
                "helpline_records_journalled_directly",
                "Call records and queue events that found the writer's queue full and went straight to its journal.",
                w(&rec.overflowed),
            ),
            (
                "helpline_records_write_failures",
                "Failed database writes of the records writer (their entries stay journalled and are retried).",
                w(&rec.write_failures),
            ),
            (
                "helpline_records_lost",
                "Call records and queue events that reached neither the writer's queue nor its journal.",
                w(&rec.lost),
            ),
        ] {
            out.counter(name, help, value)?;
        }
        out.gauge(
            "helpline_records_journal_pending",
            "Call records and queue events in the records journal not yet known to be stored.",
            w(&rec.journalled),
        )?;
        let n = &s.notify;
        for (name, help, value) in [
            (
                "helpline_notify_delivered",
                "Notifications (SMS, webhooks) delivered: answered with a 2xx.",
                w(&n.delivered),
            ),
            (
                "helpline_notify_failed",
                "Notification tries that failed (each one; most are tried again).",
                w(&n.failed),
            ),
            (
                "helpline_notify_dead",
                "Notifications that became dead letters after their last try.",
                w(&n.dead),
            ),
        ] {
            out.counter(name, help, value)?;
        }
        out.gauge(
            "helpline_notify_backlog",
            "Notifications owed (pending deliveries and events not planned yet), as last read from the outbox.",
            w(&n.backlog),
        )?;
        out.gauge(
            "helpline_notify_dead_letters",
            "Dead letters waiting for an administrator's retry, as last read from the outbox.",
            w(&n.dead_letters),
        )?;
        if let Some(o) = &s.outbound {
            for (name, help, value) in [
                (
                    "helpline_outbound_dialled",
                    "Outbound tries placed (confirmation calls, officers' reminders).",
                    w(&o.dialled),
                ),
                (
                    "helpline_outbound_reached",
                    "Outbound jobs done: the person answered and their answer was stored.",
                    w(&o.reached),
                ),
                (
                    "helpline_outbound_not_reached",
                    "Outbound tries that reached nobody and are tried again later.",
                    w(&o.not_reached),
                ),
                (
                    "helpline_outbound_given_up",
                    "Outbound jobs whose last try reached nobody (the policy applied).",
                    w(&o.given_up),
                ),
                (
                    "helpline_outbound_polls",
                    "Times the dialer read the due jobs and the inbound load.",
                    w(&o.polls),
                ),
            ] {
                out.counter(name, help, value)?;
            }
            out.gauge(
                "helpline_outbound_in_flight",
                "Outbound calls ringing or talking now.",
                w(&o.in_flight),
            )?;
            out.gauge(
                "helpline_outbound_most_in_flight",
                "The most outbound calls at once since the node started (the pacing's cap holds it).",
                w(&o.most_in_flight),
            )?;
        }
        let by_outcome: Vec<_> = rec.by_outcome().collect();
        out.counters_by(
            "helpline_call_records",
            "Call records handed to the records writer, by outcome (the reports' vocabulary).",
            "outcome",
            &by_outcome,
        )?;

        match &s.centre {
            Some(centre) => centre_gauges(&mut out, &centre.read()),
            None => Ok(()),
        }
    }
}

/// The call centre, now: per queue and agents by state.
fn centre_gauges(out: &mut Out<'_>, floor: &crate::centre::Floor) -> std::fmt::Result {
    let per_queue = |f: fn(&crate::centre::QueueGauge) -> u64| -> Vec<(&str, Option<u64>)> {
        floor
            .queues
            .iter()
            .map(|q| (q.queue.as_str(), Some(f(q))))
            .collect()
    };
    for (name, help, values) in [
        (
            "helpline_queue_callers",
            "Callers on the line in the queue now (waiting, or an agent's phone ringing for them).",
            per_queue(|q| q.callers),
        ),
        (
            "helpline_queue_callbacks",
            "Call-backs keeping their place in the queue now.",
            per_queue(|q| q.callbacks),
        ),
        (
            "helpline_queue_oldest_wait_seconds",
            "The longest wait in the queue now (0 when nobody waits).",
            per_queue(|q| q.oldest_wait_secs),
        ),
        (
            "helpline_queue_agents_logged_in",
            "Agents logged in who serve the queue.",
            per_queue(|q| q.agents_logged_in),
        ),
        (
            "helpline_queue_agents_available",
            "Agents available for the queue now.",
            per_queue(|q| q.agents_available),
        ),
    ] {
        out.gauges_by(name, help, "queue", &values)?;
    }
    let service: Vec<_> = floor
        .queues
        .iter()
        .map(|q| (q.queue.as_str(), q.service_level))
        .collect();
    out.gauges_by(
        "helpline_queue_service_level_ratio",
        "Today's service level of the queue (answered within its target over those counted), once anything counted.",
        "queue",
        &service,
    )?;
    let agents: Vec<_> = floor.agents.iter().map(|(s, n)| (*s, Some(*n))).collect();
    out.gauges_by(
        "helpline_agents",
        "Agents of the call centre by state now.",
        "state",
        &agents,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_are_histograms_by_operation_and_outcome() {
        let timings = Timings::default();
        let ari = timings.ari();
        ari.observe(
            "channels.answer",
            ari::RequestOutcome::Answered,
            Duration::from_micros(400),
        );
        ari.observe(
            "channels.answer",
            ari::RequestOutcome::Answered,
            Duration::from_millis(3),
        );
        ari.observe(
            "channels.hangup",
            ari::RequestOutcome::Refused,
            Duration::from_millis(1),
        );
        timings.filing().observe(Duration::from_millis(12));
        let mut registry = Registry::default();
        registry.register_with_unit("a", "A", Unit::Seconds, timings.ari.0.clone());
        registry.register_with_unit("f", "F", Unit::Seconds, timings.filing.0.clone());
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        let samples = testkit::prometheus::parse(&text).unwrap();
        let answer = "operation=\"channels.answer\",outcome=\"answered\"";
        assert_eq!(
            samples[&format!("a_seconds_count{{{answer}}}")],
            2.0,
            "{text}"
        );
        assert_eq!(
            samples[&format!("a_seconds_bucket{{{answer},le=\"0.0005\"}}")],
            1.0,
            "{text}"
        );
        assert_eq!(
            samples["a_seconds_count{operation=\"channels.hangup\",outcome=\"refused\"}"],
            1.0
        );
        assert_eq!(samples["f_seconds_count"], 1.0);
        assert!((samples["f_seconds_sum"] - 0.012).abs() < 1e-9, "{text}");
    }
}
