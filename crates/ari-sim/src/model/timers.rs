//! What happens when a timer is due: playbacks and recordings ending, DTMF arriving, phones answering,
//! ringing out or hanging up, dialplan steps, simulated callers' next steps.

use super::*;

impl Model {
    pub(super) fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::PlaybackItemEnd {
                playback,
                generation,
            } => {
                if self
                    .playbacks
                    .get(&playback)
                    .is_some_and(|p| p.generation == generation && p.state == "playing")
                {
                    self.item_ended(&playback);
                }
            }
            Timer::RecordingMaxDuration { name, generation } => {
                let now = self.now_ms();
                let Some(rec) = self.recordings.get(&name) else {
                    return;
                };
                if rec.instance != generation {
                    return;
                }
                let max = rec.max_duration_s * 1000;
                let rel = rec.rel(now);
                if rec.paused || rel + 5 < max {
                    // Paused time does not count: try again when the rest would be up.
                    let wait = max.saturating_sub(rel).max(50);
                    self.schedule(wait, Timer::RecordingMaxDuration { name, generation });
                } else {
                    self.finish_recording(&name, RecordingEnd::Done);
                }
            }
            Timer::RecordingSilence { name, generation } => {
                if self
                    .recordings
                    .get(&name)
                    .is_some_and(|r| r.generation == generation && r.open.is_empty() && !r.paused)
                {
                    self.finish_recording(&name, RecordingEnd::Done);
                }
            }
            Timer::DtmfArrives {
                channel,
                digit,
                duration_ms,
            } => {
                if self
                    .channels
                    .get(&channel)
                    .is_some_and(|c| c.playing.is_some())
                {
                    if let Some(c) = self.channels.get_mut(&channel) {
                        c.held_dtmf.push((digit, duration_ms));
                    }
                } else {
                    self.dtmf_sent_from(&channel, digit, duration_ms);
                }
            }
            Timer::OriginateTimeout { channel } => {
                if self
                    .channels
                    .get(&channel)
                    .is_some_and(|c| c.origin.as_ref().is_some_and(|o| !o.answered))
                {
                    self.hangup(&channel, 19, HangupHow::Timeout);
                }
            }
            Timer::EndpointDials { channel, instance } => self.endpoint_dials(&channel, instance),
            Timer::EndpointAnswers { channel } => self.originated_answered(&channel),
            Timer::SipTimeout { channel, instance } => self.sip_timeout(&channel, instance),
            Timer::PhoneHangsUp { channel, instance } => self.phone_hangs_up(&channel, instance),
            Timer::PhoneHolds {
                channel,
                instance,
                on,
            } => self.phone_holds(&channel, instance, on),
            Timer::DialplanNext {
                channel,
                generation,
            } => {
                let Some(c) = self.channels.get(&channel) else {
                    return;
                };
                if c.dialplan_generation != generation || c.stasis.is_some() {
                    return;
                }
                let next = c.priority + 1;
                if c.app_name == "Playback" {
                    let pseudo_id = format!("dialplan-{channel}-{}", c.priority);
                    self.notify_call_finished(&channel, &pseudo_id, "done");
                    self.hear_from(&channel, None);
                    self.emit_varset(&channel, "PLAYBACKSTATUS", "SUCCESS");
                }
                self.run_dialplan_at(&channel, next);
            }
            Timer::CallStep { call, generation } => {
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|r| r.generation == generation)
                {
                    if let Some(run) = self.calls.get_mut(&call) {
                        run.step += 1;
                        run.wait = CallWait::Nothing;
                    }
                    self.advance_call(call);
                }
            }
            Timer::CallTimeout { call, generation } => self.call_timed_out(call, generation),
            Timer::CallReactionHangup { call, channel } => self.reaction_hangs_up(call, &channel),
            Timer::CallVoiceEnds { call, generation } => {
                let Some(run) = self.calls.get(&call) else {
                    return;
                };
                if run.voice_generation != generation {
                    return;
                }
                let channel = run.channel.clone();
                self.set_inbound(&channel, None);
            }
            Timer::CallDtmf {
                call,
                digit,
                duration_ms,
                press_step,
            } => {
                let now = self.now_ms();
                let Some(run) = self.calls.get_mut(&call) else {
                    return;
                };
                if press_step {
                    run.digits_pending = run.digits_pending.saturating_sub(1);
                }
                run.keys_at
                    .push((digit, now.saturating_sub(run.started_ms)));
                let channel = run.channel.clone();
                self.dtmf_received(&channel, digit, duration_ms);
            }
        }
    }
}
