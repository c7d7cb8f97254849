//! The engine's ports implemented over the real crates: [`AriControl`] over `ari::Client` (ARI errors
//! become "gone", "conflict" or "failed") and [`ServiceDesk`] over [`tickets::TicketService`] as the
//! [`TicketDesk`] (the IVR's draft becomes a `NewCallTicket`, the store's status what the IVR reads back).

use std::sync::Arc;

use tracing::warn;

use super::ports::{
    CallControl, ControlError, DeskError, Feedback, FeedbackReply, FetchedRecording, FiledTicket,
    OriginateLeg, RecordRequest, RecordingStore, StoredRecording, TicketDesk,
};
use super::translate;

/// Channel control over ARI. With the router ([`AriControl::with_router`]) it can also ring the
/// call centre's legs and make bridges, routing their events to the call that owns them.
#[derive(Debug, Clone)]
pub struct AriControl {
    client: ari::Client,
    /// The router, and the application legs are rung into.
    router: Option<(ari::Router, String)>,
}

impl AriControl {
    /// Controls channels through `client`.
    pub fn new(client: ari::Client) -> Self {
        Self {
            client,
            router: None,
        }
    }

    /// Also rings legs into the application `app` and routes the legs and bridges it makes
    /// through `router`.
    #[must_use]
    pub fn with_router(mut self, router: ari::Router, app: impl Into<String>) -> Self {
        self.router = Some((router, app.into()));
        self
    }

    fn router(&self) -> Result<(&ari::Router, &str), ControlError> {
        self.router
            .as_ref()
            .map(|(router, app)| (router, app.as_str()))
            .ok_or_else(|| ControlError::Failed("no ARI router to route a new leg".into()))
    }
}

fn route_error(err: ari::RouteError) -> ControlError {
    match err {
        ari::RouteError::AlreadyRouted(id) => ControlError::Conflict(format!("{id} is routed")),
        other => ControlError::Gone(other.to_string()),
    }
}

fn control_error(err: ari::AriError) -> ControlError {
    if err.is_gone() {
        ControlError::Gone(err.to_string())
    } else if err.status() == Some(409) {
        ControlError::Conflict(err.to_string())
    } else {
        ControlError::Failed(err.to_string())
    }
}

/// ARI takes whole seconds; round a duration up so a limit is never shorter than asked.
fn whole_seconds(duration: std::time::Duration) -> u32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

impl CallControl for AriControl {
    async fn answer(&self, channel: &str) -> Result<(), ControlError> {
        self.client.answer(channel).await.map_err(control_error)
    }

    async fn play(
        &self,
        channel: &str,
        playback_id: &str,
        media: &[ivr::Media],
        language: &str,
    ) -> Result<(), ControlError> {
        let media: Vec<ari::Media> = media.iter().map(translate::ari_media).collect();
        let language = (!language.is_empty()).then_some(language);
        self.client
            .play(channel, playback_id, &media, language)
            .await
            .map(drop)
            .map_err(control_error)
    }

    async fn stop_playback(&self, playback_id: &str) -> Result<(), ControlError> {
        self.client
            .stop_playback(playback_id)
            .await
            .map_err(control_error)
    }

    async fn record(&self, channel: &str, request: &RecordRequest<'_>) -> Result<(), ControlError> {
        let mut params = ari::RecordParams::new(request.name, "wav");
        params.max_duration_secs = Some(whole_seconds(request.max_duration));
        params.max_silence_secs =
            (!request.max_silence.is_zero()).then(|| whole_seconds(request.max_silence));
        params.if_exists = Some(ari::IfExists::Fail);
        params.beep = Some(request.beep);
        params.terminate_on = Some(match request.terminate_on {
            None => ari::TerminateOn::None,
            Some('#') => ari::TerminateOn::Hash,
            Some('*') => ari::TerminateOn::Star,
            // ARI can end a recording on #, * or any key; another single key means "any".
            Some(_) => ari::TerminateOn::Any,
        });
        self.client
            .record(channel, &params)
            .await
            .map(drop)
            .map_err(control_error)
    }

    async fn stop_recording(&self, name: &str) -> Result<(), ControlError> {
        self.client
            .stop_recording(name)
            .await
            .map_err(control_error)
    }

    async fn playback_live(&self, playback_id: &str) -> Result<bool, ControlError> {
        match self.client.get_playback(playback_id).await {
            Ok(playback) => Ok(!playback.state.is_final()),
            Err(err) if err.is_gone() => Ok(false),
            Err(err) => Err(control_error(err)),
        }
    }

    async fn recording_live(&self, name: &str) -> Result<bool, ControlError> {
        match self.client.get_live_recording(name).await {
            Ok(recording) => Ok(!recording.state.is_final()),
            Err(err) if err.is_gone() => Ok(false),
            Err(err) => Err(control_error(err)),
        }
    }

    async fn fetch_recording(&self, name: &str) -> Result<Vec<u8>, ControlError> {
        self.client
            .stored_recording_file(name)
            .await
            .map(|b| b.to_vec())
            .map_err(control_error)
    }

    async fn delete_recording(&self, name: &str) -> Result<(), ControlError> {
        self.client
            .delete_stored_recording(name)
            .await
            .map_err(control_error)
    }

    async fn continue_in_dialplan(
        &self,
        channel: &str,
        target: Option<(&str, &str)>,
    ) -> Result<(), ControlError> {
        let target = match target {
            Some((context, extension)) => ari::DialplanTarget {
                context: Some(context.to_owned()),
                extension: Some(extension.to_owned()),
                priority: Some(1),
                label: None,
            },
            None => ari::DialplanTarget {
                context: None,
                extension: Some(super::ports::FALLBACK_EXTENSION.to_owned()),
                priority: Some(1),
                label: None,
            },
        };
        self.client
            .continue_in_dialplan(channel, &target)
            .await
            .map_err(control_error)
    }

    async fn hangup(&self, channel: &str) -> Result<(), ControlError> {
        self.client
            .hangup(channel, None)
            .await
            .map_err(control_error)
    }

    async fn start_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.client
            .start_moh(channel, None)
            .await
            .map_err(control_error)
    }

    async fn stop_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.client.stop_moh(channel).await.map_err(control_error)
    }

    async fn originate(&self, leg: &OriginateLeg<'_>, owner: &str) -> Result<(), ControlError> {
        let (router, app) = self.router()?;
        // Routed before the request: its events may overtake the reply. A leg that is its own
        // owner (a call-back's agent leg) had its mailbox made by whoever runs it.
        if leg.channel != owner {
            router
                .register_alias(leg.channel, owner)
                .map_err(route_error)?;
        }
        let params = ari::Originate {
            channel_id: leg.channel.to_owned(),
            endpoint: leg.endpoint.to_owned(),
            app: Some(app.to_owned()),
            app_args: Some(leg.app_args.to_owned()),
            dialplan: None,
            caller_id: Some(leg.caller_id.to_owned()),
            timeout_secs: Some(i32::try_from(leg.timeout_secs).unwrap_or(i32::MAX)),
            other_channel_id: None,
            originator: Some(owner.to_owned()),
            variables: leg.variables.iter().cloned().collect(),
        };
        match self.client.originate(&params).await {
            Ok(_) => Ok(()),
            Err(err) => {
                router.unregister(leg.channel);
                Err(control_error(err))
            }
        }
    }

    fn forget_leg(&self, channel: &str) {
        if let Some((router, _)) = &self.router {
            router.unregister(channel);
        }
    }

    async fn create_bridge(&self, bridge: &str, owner: &str) -> Result<(), ControlError> {
        let (router, _) = self.router()?;
        match router.register_bridge(bridge, owner) {
            // A retry of our own creation: it is routed already.
            Ok(()) | Err(ari::RouteError::AlreadyRouted(_)) => {}
            Err(err) => return Err(route_error(err)),
        }
        let result = self
            .client
            .create_bridge(bridge, &[ari::BridgeType::Mixing], None)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                router.unregister_bridge(bridge);
                Err(control_error(err))
            }
        }
    }

    async fn add_to_bridge(&self, bridge: &str, channels: &[&str]) -> Result<(), ControlError> {
        self.client
            .add_channels(bridge, channels)
            .await
            .map_err(control_error)
    }

    fn adopt_leg(
        &self,
        channel: &str,
        bridge: Option<&str>,
        owner: &str,
    ) -> Result<(), ControlError> {
        let (router, _) = self.router()?;
        let taken = |r: Result<(), ari::RouteError>| match r {
            Ok(()) | Err(ari::RouteError::AlreadyRouted(_)) => Ok(()),
            Err(err) => Err(route_error(err)),
        };
        taken(router.register_alias(channel, owner))?;
        if let Some(bridge) = bridge {
            taken(router.register_bridge(bridge, owner))?;
        }
        Ok(())
    }

    async fn channel_live(&self, channel: &str) -> Result<bool, ControlError> {
        match self.client.get_channel(channel).await {
            Ok(_) => Ok(true),
            Err(err) if err.is_gone() => Ok(false),
            Err(err) => Err(control_error(err)),
        }
    }

    async fn hold(&self, channel: &str, on: bool) -> Result<(), ControlError> {
        let result = if on {
            self.client.hold(channel).await
        } else {
            self.client.unhold(channel).await
        };
        result.map_err(control_error)
    }

    async fn set_variable(
        &self,
        channel: &str,
        name: &str,
        value: &str,
    ) -> Result<(), ControlError> {
        self.client
            .set_variable(channel, name, value)
            .await
            .map_err(control_error)
    }

    async fn snoop(
        &self,
        channel: &str,
        snoop: &str,
        whisper: bool,
        owner: &str,
    ) -> Result<(), ControlError> {
        let (router, app) = self.router()?;
        router.register_alias(snoop, owner).map_err(route_error)?;
        let params = ari::Snoop {
            snoop_id: snoop.to_owned(),
            spy: ari::SnoopDirection::Both,
            whisper: if whisper {
                ari::SnoopDirection::Out
            } else {
                ari::SnoopDirection::None
            },
            app: app.to_owned(),
            app_args: Some("snoop".to_owned()),
        };
        match self.client.snoop(channel, &params).await {
            Ok(_) => Ok(()),
            Err(err) => {
                router.unregister(snoop);
                Err(control_error(err))
            }
        }
    }

    async fn remove_from_bridge(&self, bridge: &str, channel: &str) -> Result<(), ControlError> {
        self.client
            .remove_channels(bridge, &[channel])
            .await
            .map_err(control_error)
    }

    async fn destroy_bridge(&self, bridge: &str) -> Result<(), ControlError> {
        let result = self.client.destroy_bridge(bridge).await;
        // A mixing bridge says BridgeDestroyed (which unroutes it); not waiting for that.
        if let Some((router, _)) = &self.router {
            router.unregister_bridge(bridge);
        }
        result.map_err(control_error)
    }
}

impl RecordingStore for AriControl {
    async fn list_stored(&self) -> Result<Vec<StoredRecording>, ControlError> {
        self.client
            .list_stored_recordings()
            .await
            .map(|list| {
                list.into_iter()
                    .map(|r| StoredRecording {
                        name: r.name,
                        format: r.format,
                    })
                    .collect()
            })
            .map_err(control_error)
    }

    async fn fetch_stored(&self, name: &str) -> Result<Vec<u8>, ControlError> {
        self.fetch_recording(name).await
    }

    async fn delete_stored(&self, name: &str) -> Result<(), ControlError> {
        self.delete_recording(name).await
    }
}

/// The IVR's name for a stored ticket's status (the same lifecycle, one enum per crate).
pub fn ivr_status(status: tickets::TicketStatus) -> ivr::TicketStatus {
    use tickets::TicketStatus as T;
    match status {
        T::Registered => ivr::TicketStatus::Registered,
        T::Assigned => ivr::TicketStatus::Assigned,
        T::InProgress => ivr::TicketStatus::InProgress,
        T::Resolved => ivr::TicketStatus::Resolved,
        T::ClosedSatisfied => ivr::TicketStatus::ClosedSatisfied,
        T::ClosedUnsatisfied => ivr::TicketStatus::ClosedUnsatisfied,
        T::Reopened => ivr::TicketStatus::Reopened,
        T::ClosedUnverified => ivr::TicketStatus::ClosedUnverified,
    }
}

/// The ticket store as the IVR's desk.
#[derive(Debug, Clone)]
pub struct ServiceDesk {
    service: tickets::TicketService,
    /// Told how long each filing took (metrics), if anyone asked.
    filing: Option<crate::metrics::FilingTimer>,
}

impl ServiceDesk {
    /// Files and looks up through `service`.
    pub fn new(service: tickets::TicketService) -> Self {
        Self {
            service,
            filing: None,
        }
    }

    /// The same desk timing every filing, until the ticket is durable.
    #[must_use]
    pub fn with_filing_timer(mut self, timer: crate::metrics::FilingTimer) -> Self {
        self.filing = Some(timer);
        self
    }
}

impl TicketDesk for ServiceDesk {
    async fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> Result<FiledTicket, DeskError> {
        let audio = recording.and_then(|r| {
            r.path.as_ref().map(|path| tickets::Recording {
                audio: tickets::RecordingAudio::File(path.clone()),
                duration_ms: r.duration_ms,
                sha256: None,
            })
        });
        if let (Some(r), None) = (recording, &audio) {
            warn!(recording = %r.name, "filing without audio: the recording stays stored on Asterisk");
        }
        let ticket = tickets::NewCallTicket {
            // Keyed by the complaint, not the call: N complaints in a call are N tickets, and a
            // retried filing of one of them (after a failure, a hangup, a restart) finds its ticket.
            call_id: draft.idempotency_key.clone(),
            caller_number: draft.caller.clone(),
            caller_raw: draft.caller_raw.clone(),
            language: draft.language.clone(),
            department_code: draft.department.clone(),
            category: None,
            district: None,
            recording: audio,
            after_hours: draft.callback_requested,
        };
        let started = std::time::Instant::now();
        let filed = self.service.file_from_call(ticket).await;
        if let Some(timer) = &self.filing {
            timer.observe(started.elapsed());
        }
        let filed = filed.map_err(|e| DeskError(e.to_string()))?;
        // The service keeps its own copy beside the ticket; the engine's spool file is no longer needed.
        if let Some(path) = recording.and_then(|r| r.path.as_ref())
            && let Err(err) = tokio::fs::remove_file(path).await
        {
            warn!(path = %path.display(), %err, "could not remove the spooled recording");
        }
        Ok(FiledTicket {
            number: filed.number.to_string(),
            recording_kept: filed.recording_kept,
        })
    }

    async fn filed_without_recording(&self, key: &str) -> Result<bool, DeskError> {
        match self.service.store().ticket_by_call(key).await {
            Ok(ticket) => Ok(ticket.is_some_and(|t| t.recording.is_none())),
            Err(e) => Err(DeskError(e.to_string())),
        }
    }

    async fn lookup(&self, number: &str) -> Result<Option<ivr::TicketStatusView>, DeskError> {
        // The IVR validated the check digit; a number that still does not parse is simply not found.
        let Ok(parsed) = tickets::ComplaintNumber::parse(number) else {
            return Ok(None);
        };
        let view = self
            .service
            .status(&parsed)
            .await
            .map_err(|e| DeskError(e.to_string()))?;
        Ok(view.map(|v| ivr::TicketStatusView {
            number: v.number.to_string(),
            status: ivr_status(v.status),
            department: v.department_code,
            due: Some(v.due_at.date_naive()),
        }))
    }

    async fn feedback(&self, feedback: &Feedback<'_>) -> Result<FeedbackReply, DeskError> {
        let number = feedback.number;
        let parsed = tickets::ComplaintNumber::parse(number)
            .map_err(|e| DeskError(format!("complaint number {number}: {e}")))?;
        // The script's reason values are the store's names; anything else is kept as "other".
        let reason = feedback.reason.map(|text| {
            text.parse::<tickets::FeedbackReason>()
                .unwrap_or(tickets::FeedbackReason::Other)
        });
        let claim = tickets::complainant::Claim {
            caller: feedback.caller,
            digits: feedback.check_digits,
        };
        match self
            .service
            .feedback_by_phone(&parsed, feedback.satisfied, reason, claim)
            .await
        {
            Ok(tickets::PhoneFeedback::Stored(_)) => Ok(FeedbackReply::Stored),
            Ok(tickets::PhoneFeedback::Refused) => Ok(FeedbackReply::Refused),
            Err(e) => Err(DeskError(e.to_string())),
        }
    }
}

/// Shares one desk between engines in one process (the multi-node test, the demo).
impl<D: TicketDesk> TicketDesk for Arc<D> {
    fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> impl Future<Output = Result<FiledTicket, DeskError>> + Send {
        D::file(self, draft, recording)
    }

    fn lookup(
        &self,
        number: &str,
    ) -> impl Future<Output = Result<Option<ivr::TicketStatusView>, DeskError>> + Send {
        D::lookup(self, number)
    }

    fn filed_without_recording(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<bool, DeskError>> + Send {
        D::filed_without_recording(self, key)
    }

    fn feedback(
        &self,
        feedback: &Feedback<'_>,
    ) -> impl Future<Output = Result<FeedbackReply, DeskError>> + Send {
        D::feedback(self, feedback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_status_maps_to_the_ivr_status_of_the_same_name() {
        for status in tickets::TicketStatus::ALL {
            assert_eq!(ivr_status(*status).slug(), status.as_str());
        }
    }

    #[test]
    fn record_limits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(std::time::Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(std::time::Duration::from_secs(4)), 4);
        assert_eq!(whole_seconds(std::time::Duration::ZERO), 0);
    }
}
