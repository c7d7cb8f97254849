//! Pure translations between ARI and the IVR: an `ari::Event` on a call's channel becomes a [`CallEvent`]
//! (what the call task acts on), an `ivr::Media` becomes an ARI media URI, and playback ids are derived from
//! the channel and the IVR's playback tag so that an event overtaking the play request's reply still finds
//! its tag. No I/O here; everything is unit-tested.

use ari::Event;

/// What a call task acts on, taken from one ARI event; it borrows from the event, so nothing is copied on
/// the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent<'a> {
    /// A key pressed (`0-9`, `*`, `#`, `A-D`).
    Dtmf(char),
    /// A playback with this id ended (`failed`: a missing file, a hangup mid-playback …).
    PlaybackEnded { playback_id: &'a str, failed: bool },
    /// A recording ended normally; Asterisk's own durations in whole seconds.
    RecordingFinished {
        name: &'a str,
        duration_s: Option<i64>,
        talking_s: Option<i64>,
    },
    /// A recording failed.
    RecordingFailed { name: &'a str },
    /// Someone asked for the channel to be hung up (events about it may still follow).
    HangupRequested,
    /// The channel left the application: nothing more will be heard of it.
    StasisEnded,
}

/// Picks out of `event` what a call task needs; `None` for events it ignores (state changes, varsets …).
pub fn call_event(event: &Event) -> Option<CallEvent<'_>> {
    match event {
        Event::ChannelDtmfReceived(e) => {
            let mut chars = e.digit.chars();
            match (chars.next(), chars.next()) {
                (Some(key), None) if is_dtmf_key(key) => Some(CallEvent::Dtmf(key)),
                _ => None,
            }
        }
        Event::PlaybackFinished(e) => Some(CallEvent::PlaybackEnded {
            playback_id: &e.playback.id,
            failed: e.playback.state == ari::PlaybackState::Failed,
        }),
        Event::RecordingFinished(e) => Some(CallEvent::RecordingFinished {
            name: &e.recording.name,
            duration_s: e.recording.duration,
            talking_s: e.recording.talking_duration,
        }),
        Event::RecordingFailed(e) => Some(CallEvent::RecordingFailed {
            name: &e.recording.name,
        }),
        Event::ChannelHangupRequest(_) => Some(CallEvent::HangupRequested),
        Event::StasisEnd(_) => Some(CallEvent::StasisEnded),
        _ => None,
    }
}

/// What happened to one of the call centre's legs of a call (an agent's phone rung for the caller),
/// from one event naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegEvent<'a> {
    /// The leg entered the application: the phone answered.
    Answered { channel: &'a str },
    /// The leg is destroyed, with the Q.850 cause (before an answer: why it did not answer).
    Destroyed { channel: &'a str, cause: i32 },
    /// Someone hung the leg up (the agent, or us).
    HangupRequested { channel: &'a str },
    /// The leg left the application.
    Left { channel: &'a str },
}

/// Picks out of `event` what the call task needs about one of its legs.
pub fn leg_event(event: &Event) -> Option<LegEvent<'_>> {
    match event {
        Event::StasisStart(e) => Some(LegEvent::Answered {
            channel: &e.channel.id,
        }),
        Event::ChannelDestroyed(e) => Some(LegEvent::Destroyed {
            channel: &e.channel.id,
            cause: e.cause,
        }),
        Event::ChannelHangupRequest(e) => Some(LegEvent::HangupRequested {
            channel: &e.channel.id,
        }),
        Event::StasisEnd(e) => Some(LegEvent::Left {
            channel: &e.channel.id,
        }),
        _ => None,
    }
}

/// Why a phone rung did not answer, from the Q.850 cause its channel ended with (the traces
/// `agent_busy`: 17; `agent_no_response`: 19 at the originate's timeout, 18 at the SIP timeout).
pub fn ring_failure(cause: i32) -> super::ports::RingFailure {
    use super::ports::RingFailure;
    match cause {
        17 | 21 => RingFailure::Busy,
        16 | 18 | 19 => RingFailure::NoAnswer,
        1 | 3 | 20 | 27 | 34 | 38 | 41 => RingFailure::Unreachable,
        other => RingFailure::Other(format!("hangup cause {other}")),
    }
}

/// Whether `key` is a key of a phone keypad.
pub fn is_dtmf_key(key: char) -> bool {
    key.is_ascii_digit() || matches!(key, '*' | '#' | 'A'..='D')
}

/// The ARI media of something the IVR wants played. Our prompts live under `sounds/<lang>/helpline/`.
pub fn ari_media(media: &ivr::Media) -> ari::Media {
    match media {
        ivr::Media::Prompt(id) => ari::Media::Sound(format!("helpline/{id}")),
        ivr::Media::Digits(digits) => ari::Media::Digits(digits.clone()),
        ivr::Media::Recording(name) => ari::Media::Recording(name.clone()),
    }
}

/// The playback id for the IVR's playback `tag` on `channel`: chosen by us, so an event that arrives before
/// the play request's reply is matched all the same.
pub fn playback_id(channel: &str, tag: u32) -> String {
    format!("pb-{tag}-{channel}")
}

/// The IVR tag of one of this channel's playbacks, or `None` for an id that is not ours.
pub fn playback_tag(channel: &str, playback_id: &str) -> Option<u32> {
    let rest = playback_id.strip_prefix("pb-")?;
    let (tag, chan) = rest.split_once('-')?;
    if chan != channel {
        return None;
    }
    tag.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Event {
        ari::event::parse_event(json.to_string().as_bytes()).unwrap()
    }

    fn channel(id: &str) -> serde_json::Value {
        serde_json::json!({
            "id": id, "name": "PJSIP/trunk-00000001", "state": "Up", "protocol_id": "",
            "caller": {"name": "", "number": "9816000001"}, "connected": {"name": "", "number": ""},
            "accountcode": "", "dialplan": {"context": "from-citizens", "exten": "1100", "priority": 2,
            "app_name": "Stasis", "app_data": "ivr-1100"}, "creationtime": "2026-11-29T05:00:00.000+0000",
            "language": "en"
        })
    }

    fn base(kind: &str) -> serde_json::Value {
        serde_json::json!({"type": kind, "application": "ivr-1100",
            "timestamp": "2026-11-29T05:00:01.000+0000", "asterisk_id": "00:00:00:00:00:01"})
    }

    fn with(mut v: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
        v[key] = value;
        v
    }

    #[test]
    fn dtmf_keys_become_dtmf_and_junk_is_ignored() {
        let dtmf = |digit: &str| {
            let e = with(base("ChannelDtmfReceived"), "digit", digit.into());
            let e = with(with(e, "duration_ms", 120.into()), "channel", channel("c1"));
            match call_event(&event(e)) {
                Some(CallEvent::Dtmf(key)) => Some(key),
                _ => None,
            }
        };
        assert_eq!(dtmf("5"), Some('5'));
        assert_eq!(dtmf("#"), Some('#'));
        assert_eq!(dtmf("*"), Some('*'));
        assert_eq!(dtmf("x"), None);
        assert_eq!(dtmf("12"), None);
    }

    #[test]
    fn playback_and_recording_ends_carry_their_ids() {
        let pb = serde_json::json!({"id": "pb-3-c1", "media_uri": "sound:helpline/welcome",
            "target_uri": "channel:c1", "language": "hi", "state": "failed"});
        let e = event(with(base("PlaybackFinished"), "playback", pb));
        assert_eq!(
            call_event(&e),
            Some(CallEvent::PlaybackEnded {
                playback_id: "pb-3-c1",
                failed: true
            })
        );
        let rec = serde_json::json!({"name": "ivr-c1-record-1", "format": "wav",
            "target_uri": "channel:c1", "state": "done", "duration": 2, "talking_duration": 2,
            "silence_duration": 0});
        let e = event(with(base("RecordingFinished"), "recording", rec));
        assert_eq!(
            call_event(&e),
            Some(CallEvent::RecordingFinished {
                name: "ivr-c1-record-1",
                duration_s: Some(2),
                talking_s: Some(2)
            })
        );
    }

    #[test]
    fn hangup_and_stasis_end_are_seen_and_chatter_ignored() {
        let hangup = with(base("ChannelHangupRequest"), "channel", channel("c1"));
        assert_eq!(call_event(&event(hangup)), Some(CallEvent::HangupRequested));
        let end = with(base("StasisEnd"), "channel", channel("c1"));
        assert_eq!(call_event(&event(end)), Some(CallEvent::StasisEnded));
        let state = with(base("ChannelStateChange"), "channel", channel("c1"));
        assert_eq!(call_event(&event(state)), None);
    }

    #[test]
    fn media_uris_follow_the_sounds_layout() {
        let uri = |m: ivr::Media| ari_media(&m).uri();
        assert_eq!(
            uri(ivr::Media::Prompt("welcome".into())),
            "sound:helpline/welcome"
        );
        assert_eq!(uri(ivr::Media::Digits("0123".into())), "digits:0123");
        assert_eq!(uri(ivr::Media::Recording("r1".into())), "recording:r1");
    }

    #[test]
    fn playback_ids_round_trip_and_reject_other_channels() {
        let id = playback_id("caller-5af3b363;2", 7);
        assert_eq!(playback_tag("caller-5af3b363;2", &id), Some(7));
        assert_eq!(playback_tag("other", &id), None);
        assert_eq!(playback_tag("c1", "voice-complaint"), None);
        assert_eq!(
            playback_tag("1795921121.47", &playback_id("1795921121.47", 0)),
            Some(0)
        );
    }
}
