//! A call-back keeping the citizen's place (virtual hold), as its own task: the citizen hung up in the
//! queue; when their slot reaches the head the call centre reserves an agent and rings them first
//! (`Ring`), and only once the agent answers is the citizen called (`PlaceCallback`). The citizen hears
//! who is calling ("this is the CM Helpline calling you back…"), then the two legs are bridged
//! (`Connect`). While the citizen's phone rings the agent hears music. Either side hanging up ends the
//! other. Everything that happens is reported to the centre like a caller's legs.
//!
//! One sequential task, like a call's: the agent's leg has a mailbox of its own (made before its
//! originate goes out); the citizen's leg and the bridge are routed to it.

use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::call::CallMailbox;
use super::ports::{
    CallCentreLink, CallControl, ControlError, LegReport, OriginateLeg, QueueOrder, RingFailure,
};
use super::translate::{self, LegEvent};

/// What a call-back starts from.
#[derive(Debug)]
pub struct CallbackParams {
    /// The call it is for (the citizen's original call id): the centre's name for it.
    pub call_id: String,
    /// The agent's leg: its channel id (the ring attempt) and the mailbox its events come to.
    pub agent_leg: String,
    /// The citizen's number, normalised (shown to the agent's phone).
    pub number: String,
    /// The language the citizen chose.
    pub language: String,
    pub orders: mpsc::Receiver<QueueOrder>,
}

/// The longest a call-back task lives without an order or an event (the centre forgot it).
const IDLE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
struct Legs {
    agent_up: bool,
    citizen: Option<String>,
    citizen_up: bool,
    /// The greeting playing to the citizen before they are reported answered.
    greeting: Option<String>,
    bridge: Option<String>,
    over: bool,
}

/// Runs one call-back to its end.
pub async fn run_callback<C: CallControl, M: CallMailbox>(
    control: &C,
    centre: &CallCentreLink,
    mut params: CallbackParams,
    mut mailbox: M,
) {
    let call_id = params.call_id.clone();
    let report = |report: LegReport| {
        let call_id = call_id.clone();
        async move {
            if !centre.report(&call_id, report.clone()).await {
                warn!(?report, "the call centre did not take a call-back's report");
            }
        }
    };
    let mut legs = Legs::default();
    let mut orders_open = true;
    while !legs.over {
        tokio::select! {
            order = params.orders.recv(), if orders_open => match order {
                Some(order) => on_order(control, &params, &mut legs, order, &report).await,
                None => {
                    // The centre let the call-back go: nothing more will be asked.
                    orders_open = false;
                    if !legs.agent_up && legs.citizen.is_none() {
                        break;
                    }
                }
            },
            event = mailbox.recv() => match event {
                Some(event) => on_event(control, &params, &mut legs, &event, &report).await,
                None => break,
            },
            () = tokio::time::sleep(IDLE) => {
                warn!(call = %params.call_id, "call-back idle too long: ending it");
                break;
            }
        }
    }
    // No leg outlives the call-back.
    for leg in [Some(params.agent_leg.clone()), legs.citizen.clone()]
        .into_iter()
        .flatten()
    {
        if let Err(err) = control.hangup(&leg).await
            && !err.is_gone()
        {
            debug!(%leg, %err, "call-back leg not hung up");
        }
        control.forget_leg(&leg);
    }
    if let Some(bridge) = legs.bridge.take() {
        let _ = control.destroy_bridge(&bridge).await;
    }
    debug!(call = %params.call_id, "call-back ended");
}

async fn on_order<C: CallControl, F, Fut>(
    control: &C,
    params: &CallbackParams,
    legs: &mut Legs,
    order: QueueOrder,
    report: &F,
) where
    F: Fn(LegReport) -> Fut,
    Fut: Future<Output = ()>,
{
    match order {
        QueueOrder::Ring {
            attempt,
            phone,
            timeout,
            ..
        } => {
            // The agent is told whom they call back (their phone's display; the desktop shows more).
            let caller_id = format!("\"Call-back\" <{}>", params.number);
            let variables = vec![
                ("HELPLINE_CALL".to_owned(), params.call_id.clone()),
                ("HELPLINE_CALLBACK".to_owned(), params.number.clone()),
            ];
            let leg = OriginateLeg {
                channel: &attempt,
                endpoint: &phone,
                timeout_secs: u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX),
                caller_id: &caller_id,
                app_args: "agent",
                variables: &variables,
            };
            // The agent's leg is its own owner: its mailbox is this task's.
            if let Err(err) = control.originate(&leg, &params.agent_leg).await {
                info!(%phone, %err, "call-back: the agent's phone could not be rung");
                let failure = ring_failure_of(&err);
                report(LegReport::RingFailed { attempt, failure }).await;
                legs.over = true;
            }
        }
        QueueOrder::CancelRing { attempt } => {
            let _ = control.hangup(&attempt).await;
            if attempt == params.agent_leg {
                legs.over = true;
            }
        }
        QueueOrder::PlaceCallback {
            attempt,
            endpoint,
            timeout,
        } => {
            legs.citizen = Some(attempt.clone());
            // Music for the agent while the citizen's phone rings.
            let _ = control.start_moh(&params.agent_leg).await;
            let caller_id = "\"CM Helpline\" <1100>";
            let variables = vec![("HELPLINE_CALL".to_owned(), params.call_id.clone())];
            let leg = OriginateLeg {
                channel: &attempt,
                endpoint: &endpoint,
                timeout_secs: u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX),
                caller_id,
                app_args: "callback",
                variables: &variables,
            };
            if let Err(err) = control.originate(&leg, &params.agent_leg).await {
                info!(%endpoint, %err, "call-back: the citizen's phone could not be rung");
                control.forget_leg(&attempt);
                legs.citizen = None;
                let _ = control.stop_moh(&params.agent_leg).await;
                report(LegReport::CallbackLeg {
                    attempt,
                    failure: Some(ring_failure_of(&err)),
                })
                .await;
            }
        }
        QueueOrder::Connect { .. } => {
            let Some(citizen) = legs.citizen.clone().filter(|_| legs.citizen_up) else {
                return;
            };
            let bridge = format!("br-{citizen}");
            let _ = control.stop_moh(&params.agent_leg).await;
            let made = control.create_bridge(&bridge, &params.agent_leg).await;
            let added = match made {
                Ok(()) => {
                    let channels = [params.agent_leg.as_str(), citizen.as_str()];
                    control.add_to_bridge(&bridge, &channels).await
                }
                Err(err) => Err(err),
            };
            match added {
                Ok(()) => {
                    info!(call = %params.call_id, "call-back connected");
                    legs.bridge = Some(bridge);
                    report(LegReport::Connected {
                        attempt: params.agent_leg.clone(),
                    })
                    .await;
                }
                Err(err) => {
                    warn!(%err, "call-back: the legs could not be bridged");
                    report(LegReport::CallEnded { by_agent: false }).await;
                    legs.over = true;
                }
            }
        }
        // The agent hangs up from the desk — talking, or while the citizen's phone still rings —:
        // the call-back ends; the loop's end hangs up both legs.
        QueueOrder::Hangup if legs.agent_up => {
            info!(call = %params.call_id, "call-back: the agent hangs up from the desk");
            report(LegReport::CallEnded { by_agent: true }).await;
            legs.over = true;
        }
        // Nothing else applies to a call-back (its citizen is not waiting on the line).
        other => debug!(?other, "order not for a call-back"),
    }
}

fn ring_failure_of(err: &ControlError) -> RingFailure {
    if err.to_string().contains("Allocation failed") {
        RingFailure::Unreachable
    } else {
        RingFailure::Other(err.to_string())
    }
}

async fn on_event<C: CallControl, F, Fut>(
    control: &C,
    params: &CallbackParams,
    legs: &mut Legs,
    event: &ari::Event,
    report: &F,
) where
    F: Fn(LegReport) -> Fut,
    Fut: Future<Output = ()>,
{
    if let ari::Event::PlaybackFinished(e) = event {
        if legs.greeting.as_deref() == Some(e.playback.id.as_str())
            && let Some(attempt) = legs.citizen.clone()
        {
            legs.greeting = None;
            legs.citizen_up = true;
            report(LegReport::CallbackLeg {
                attempt,
                failure: None,
            })
            .await;
        }
        return;
    }
    let Some(leg_event) = translate::leg_event(event) else {
        return;
    };
    let agent = params.agent_leg.as_str();
    let citizen = legs.citizen.as_deref();
    match leg_event {
        LegEvent::Answered { channel } if channel == agent => {
            legs.agent_up = true;
            report(LegReport::RingAnswered {
                attempt: agent.to_owned(),
            })
            .await;
        }
        LegEvent::Answered { channel } if Some(channel) == citizen => {
            // Who is calling, before the agent speaks.
            let id = format!("pbq-cb-{channel}");
            legs.greeting = Some(id.clone());
            let media = [ivr::Media::Prompt("callback_greeting".to_owned())];
            if control
                .play(channel, &id, &media, &params.language)
                .await
                .is_err()
            {
                legs.greeting = None;
                legs.citizen_up = true;
                report(LegReport::CallbackLeg {
                    attempt: channel.to_owned(),
                    failure: None,
                })
                .await;
            }
        }
        LegEvent::Destroyed { channel, cause } if channel == agent && !legs.agent_up => {
            control.forget_leg(channel);
            let failure = translate::ring_failure(cause);
            report(LegReport::RingFailed {
                attempt: agent.to_owned(),
                failure,
            })
            .await;
            legs.over = true;
        }
        LegEvent::Destroyed { channel, cause } if Some(channel) == citizen && !legs.citizen_up => {
            control.forget_leg(channel);
            legs.citizen = None;
            legs.greeting = None;
            let _ = control.stop_moh(agent).await;
            report(LegReport::CallbackLeg {
                attempt: channel.to_owned(),
                failure: Some(translate::ring_failure(cause)),
            })
            .await;
        }
        LegEvent::HangupRequested { channel } | LegEvent::Left { channel }
            if channel == agent && legs.agent_up =>
        {
            report(LegReport::CallEnded { by_agent: true }).await;
            legs.over = true;
        }
        LegEvent::HangupRequested { channel } | LegEvent::Left { channel }
            if Some(channel) == citizen =>
        {
            if legs.bridge.is_some() {
                report(LegReport::CallEnded { by_agent: false }).await;
                legs.over = true;
            } else if !legs.citizen_up || legs.greeting.is_some() {
                // Hung up during the greeting: not reached.
                legs.citizen = None;
                legs.greeting = None;
                report(LegReport::CallbackLeg {
                    attempt: channel.to_owned(),
                    failure: Some(RingFailure::NoAnswer),
                })
                .await;
            }
        }
        _ => {}
    }
}
