//! One try of an outbound job, as its own task: the call placed through the trunk (its channel's
//! mailbox made before the request, so no event is lost to an early reply), waited for until it is
//! answered (`StasisStart`), fails (busy 17, no answer 18/19, unreachable) or rings out; answered,
//! the job's IVR script runs on it like any call (`call::run_call_to_end`, started with the job's
//! language and variables), and what the person answered goes back in its `ivr::Call`. Every try
//! leaves a call record (its outcome `outbound:<result>` set by the runtime once the result is
//! known).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use outbound::{Cause, Job};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::super::call::{
    CallMailbox, CallParams, CallShared, CallSignals, OutboundStart, run_call_to_end,
};
use super::super::ports::{
    CallControl, CallLog, FilterGone, OriginateLeg, RingFailure, TicketDesk,
};
use super::super::translate::{self, LegEvent};

/// What a try starts from.
#[derive(Debug)]
pub struct AttemptParams {
    /// The channel id chosen for it (`ob-<job>-<try>`).
    pub channel: String,
    /// The dial string with the number in it.
    pub endpoint: String,
    pub job: Job,
    pub attempt: u32,
    pub caller_id: String,
    pub ring: Duration,
    pub script: Arc<ivr::Script>,
    pub started_at: DateTime<FixedOffset>,
    pub speed: f64,
}

/// How a try ended.
#[derive(Debug)]
pub enum AttemptEnd {
    /// Nobody was reached (never answered, or the call could not be placed).
    NotReached {
        cause: Cause,
        record: Option<Box<records::CallRecord>>,
    },
    /// Answered and the script ran: the person's answers are in the IVR's variables.
    Answered {
        call: Box<ivr::Call>,
        record: Option<Box<records::CallRecord>>,
    },
}

/// The call log of one try: keeps its record for the runtime, which sets its outcome.
#[derive(Debug, Default)]
struct Kept(Mutex<Option<records::CallRecord>>);

impl CallLog for Kept {
    fn record(&self, record: records::CallRecord) {
        if let Ok(mut kept) = self.0.lock() {
            *kept = Some(record);
        }
    }
}

impl Kept {
    fn take(&self) -> Option<Box<records::CallRecord>> {
        self.0.lock().ok().and_then(|mut k| k.take()).map(Box::new)
    }
}

/// The answered channel's mailbox with its `StasisStart` put back first (the call task reads the
/// call's id from it).
struct Replay<M> {
    first: Option<ari::Event>,
    inner: M,
}

impl<M: CallMailbox> CallMailbox for Replay<M> {
    // Cancel-safe: taking `first` completes at once; the inner mailbox is cancel-safe.
    async fn recv(&mut self) -> Option<ari::Event> {
        match self.first.take() {
            Some(event) => Some(event),
            None => self.inner.recv().await,
        }
    }
}

fn cause_of(failure: RingFailure) -> Cause {
    match failure {
        RingFailure::NoAnswer => Cause::NoAnswer,
        RingFailure::Busy => Cause::Busy,
        RingFailure::Unreachable => Cause::Unreachable,
        RingFailure::Other(what) => Cause::Failed(what),
    }
}

/// Places one try and runs it to its end.
pub async fn run_attempt<C, D, M>(
    template: Arc<CallShared<C, D>>,
    params: AttemptParams,
    mut mailbox: M,
    stop: CancellationToken,
) -> AttemptEnd
where
    C: CallControl + Clone,
    D: TicketDesk + Clone,
    M: CallMailbox,
{
    let channel = params.channel.clone();
    let control = &template.control;
    let not_reached = |cause: Cause, started: DateTime<Utc>| {
        let mut record = records::CallRecord::arrived(
            channel.clone(),
            channel.clone(),
            template.node.clone(),
            params.job.number.clone(),
            started,
        );
        record.dialled = Some(params.job.number.clone());
        record.language = Some(params.job.language.clone());
        record.ended_at = Utc::now();
        record.hangup_cause = Some(cause.as_str().to_owned());
        AttemptEnd::NotReached {
            cause,
            record: Some(Box::new(record)),
        }
    };
    let started = Utc::now();
    if tickets::accounts::agent::dial_string("number", &params.endpoint).is_err() {
        info!(endpoint = %params.endpoint, "outbound: the number cannot be dialled");
        control.forget_leg(&channel);
        return not_reached(Cause::Unreachable, started);
    }
    let ring_secs = u32::try_from(params.ring.as_secs().max(1)).unwrap_or(u32::MAX);
    let variables = vec![("HELPLINE_JOB".to_owned(), params.job.id.to_string())];
    let leg = OriginateLeg {
        channel: &channel,
        endpoint: &params.endpoint,
        timeout_secs: ring_secs,
        caller_id: &params.caller_id,
        app_args: "outbound",
        variables: &variables,
    };
    // The leg is its own owner: its mailbox was made before this request.
    if let Err(err) = control.originate(&leg, &channel).await {
        control.forget_leg(&channel);
        let cause = if err.to_string().contains("Allocation failed") {
            Cause::Unreachable
        } else {
            Cause::Failed(err.to_string())
        };
        info!(%err, "outbound: the call could not be placed");
        return not_reached(cause, started);
    }
    // Asterisk ends a call that rings out at the originate's timeout; this is the guard in case
    // its end is never heard.
    let guard = (params.ring + Duration::from_secs(10)).div_f64(params.speed.max(1.0));
    let answered = tokio::select! {
        answered = wait_answer(&mut mailbox, &channel) => answered,
        () = tokio::time::sleep(guard) => Err(Cause::NoAnswer),
        () = stop.cancelled() => Err(Cause::Interrupted),
    };
    let first = match answered {
        Ok(first) => first,
        Err(cause) => {
            if let Err(err) = control.hangup(&channel).await.filter_gone() {
                debug!(%err, "outbound: the unanswered leg was not hung up");
            }
            control.forget_leg(&channel);
            info!(cause = cause.as_str(), "outbound: not answered");
            return not_reached(cause, started);
        }
    };
    // Answered: the job's script, like any call, with a log of its own for this try.
    let kept = Arc::new(Kept::default());
    let shared = Arc::new(CallShared {
        control: template.control.clone(),
        desk: template.desk.clone(),
        stats: Arc::clone(&template.stats),
        recordings_dir: template.recordings_dir.clone(),
        progress: template.progress.clone(),
        log: Arc::clone(&kept) as Arc<dyn CallLog>,
        node: template.node.clone(),
        centre: super::super::ports::CallCentreLink::none(),
    });
    let call_params = CallParams {
        channel_id: channel.clone(),
        caller: params.job.number.clone(),
        caller_raw: None,
        started_at: params.started_at,
        script: params.script,
        speed: params.speed,
        resume: None,
        outbound: Some(OutboundStart {
            language: params.job.language.clone(),
            vars: params.job.variables.clone(),
        }),
    };
    let signals = CallSignals {
        lost: CancellationToken::new(),
        resync: Arc::new(tokio::sync::Notify::new()),
        stop,
    };
    let mailbox = Replay {
        first: Some(first),
        inner: mailbox,
    };
    let ended = run_call_to_end(shared, call_params, mailbox, signals).await;
    control.forget_leg(&channel);
    let mut record = kept.take();
    if let Some(record) = record.as_mut() {
        record.dialled = Some(params.job.number.clone());
    }
    match ended {
        Ok((_, call)) => AttemptEnd::Answered {
            call: Box::new(call),
            record,
        },
        Err(_) => AttemptEnd::NotReached {
            cause: Cause::Failed("the call's script could not start".to_owned()),
            record,
        },
    }
}

/// Waits for the leg's `StasisStart` (answered: returned) or its end before it (the cause).
async fn wait_answer<M: CallMailbox>(mailbox: &mut M, channel: &str) -> Result<ari::Event, Cause> {
    loop {
        let Some(event) = mailbox.recv().await else {
            return Err(Cause::Failed("the channel's mailbox closed".to_owned()));
        };
        match translate::leg_event(&event) {
            Some(LegEvent::Answered { channel: c }) if c == channel => return Ok(event),
            Some(LegEvent::Destroyed { channel: c, cause }) if c == channel => {
                return Err(cause_of(translate::ring_failure(cause)));
            }
            _ => {}
        }
    }
}
