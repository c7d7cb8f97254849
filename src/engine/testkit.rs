//! Test doubles for the engine's unit tests: a [`FakeControl`] that logs every channel operation and answers
//! as configured, a [`FakeDesk`] that files tickets in memory, ARI event builders, and WAV generators.

use std::sync::{Arc, Mutex};

use super::ports::{
    CallControl, ControlError, DeskError, Feedback, FeedbackReply, FetchedRecording, FiledTicket,
    OriginateLeg, RecordRequest, TicketDesk,
};

/// Logs operations; `fetch_recording` answers from `recordings`; channels in `gone` answer "gone".
#[derive(Debug, Default)]
pub struct FakeControl {
    /// Shared so a test can keep reading it after the engine took the control.
    pub ops: Arc<Mutex<Vec<String>>>,
    pub recordings: Mutex<Vec<(String, Vec<u8>)>>,
    pub gone: Mutex<Vec<String>>,
    /// The next this many channel operations fail as if Asterisk answered 500.
    pub failures: Mutex<u32>,
    /// Endpoints an originate to fails with Asterisk's "Allocation failed" (no contact).
    pub unreachable: Mutex<Vec<String>>,
}

impl FakeControl {
    pub fn ops(&self) -> Vec<String> {
        self.ops.lock().unwrap().clone()
    }

    pub fn last_play(&self) -> Option<String> {
        self.ops().iter().rev().find_map(|op| {
            op.strip_prefix("play ")
                .map(|rest| rest.split(' ').next().unwrap().to_owned())
        })
    }

    /// Makes the next `n` channel operations fail.
    pub fn fail_next(&self, n: u32) {
        *self.failures.lock().unwrap() = n;
    }

    fn log(&self, channel: &str, op: String) -> Result<(), ControlError> {
        self.ops.lock().unwrap().push(op);
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(ControlError::Failed("500 Internal Server Error".into()));
        }
        if self.gone.lock().unwrap().iter().any(|c| c == channel) {
            return Err(ControlError::Gone("Channel not found".into()));
        }
        Ok(())
    }
}

impl CallControl for FakeControl {
    async fn answer(&self, channel: &str) -> Result<(), ControlError> {
        self.log(channel, format!("answer {channel}"))
    }

    async fn play(
        &self,
        channel: &str,
        playback_id: &str,
        media: &[ivr::Media],
        language: &str,
    ) -> Result<(), ControlError> {
        let uris: Vec<String> = media
            .iter()
            .map(|m| super::translate::ari_media(m).uri())
            .collect();
        self.log(
            channel,
            format!("play {playback_id} {language} {}", uris.join(",")),
        )
    }

    async fn stop_playback(&self, playback_id: &str) -> Result<(), ControlError> {
        self.log("", format!("stop {playback_id}"))
    }

    async fn record(&self, channel: &str, request: &RecordRequest<'_>) -> Result<(), ControlError> {
        self.log(channel, format!("record {}", request.name))
    }

    async fn stop_recording(&self, name: &str) -> Result<(), ControlError> {
        self.log("", format!("stop-recording {name}"))
    }

    async fn playback_live(&self, playback_id: &str) -> Result<bool, ControlError> {
        self.ops
            .lock()
            .unwrap()
            .push(format!("playback? {playback_id}"));
        Ok(false)
    }

    async fn recording_live(&self, name: &str) -> Result<bool, ControlError> {
        self.ops.lock().unwrap().push(format!("recording? {name}"));
        Ok(false)
    }

    async fn fetch_recording(&self, name: &str) -> Result<Vec<u8>, ControlError> {
        self.ops.lock().unwrap().push(format!("fetch {name}"));
        self.recordings
            .lock()
            .unwrap()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| ControlError::Gone("Recording not found".into()))
    }

    async fn delete_recording(&self, name: &str) -> Result<(), ControlError> {
        self.ops.lock().unwrap().push(format!("delete {name}"));
        Ok(())
    }

    async fn continue_in_dialplan(
        &self,
        channel: &str,
        target: Option<(&str, &str)>,
    ) -> Result<(), ControlError> {
        let to = target
            .map(|(c, e)| format!("{c},{e}"))
            .unwrap_or_else(|| "back".into());
        self.log(channel, format!("continue {channel} {to}"))
    }

    async fn hangup(&self, channel: &str) -> Result<(), ControlError> {
        self.log(channel, format!("hangup {channel}"))
    }

    async fn start_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.log(channel, format!("moh {channel}"))
    }

    async fn stop_moh(&self, channel: &str) -> Result<(), ControlError> {
        self.log(channel, format!("moh-stop {channel}"))
    }

    async fn originate(&self, leg: &OriginateLeg<'_>, owner: &str) -> Result<(), ControlError> {
        let result = self.log(
            owner,
            format!("originate {} {} for {owner}", leg.channel, leg.endpoint),
        );
        if self
            .unreachable
            .lock()
            .unwrap()
            .iter()
            .any(|e| e == leg.endpoint)
        {
            return Err(ControlError::Failed("500 Allocation failed".into()));
        }
        result
    }

    fn forget_leg(&self, channel: &str) {
        self.ops.lock().unwrap().push(format!("forget {channel}"));
    }

    async fn create_bridge(&self, bridge: &str, owner: &str) -> Result<(), ControlError> {
        self.log(owner, format!("bridge {bridge}"))
    }

    async fn add_to_bridge(&self, bridge: &str, channels: &[&str]) -> Result<(), ControlError> {
        self.log("", format!("bridge-add {bridge} {}", channels.join(",")))
    }

    async fn remove_from_bridge(&self, bridge: &str, channel: &str) -> Result<(), ControlError> {
        self.log("", format!("bridge-remove {bridge} {channel}"))
    }

    async fn destroy_bridge(&self, bridge: &str) -> Result<(), ControlError> {
        self.log("", format!("bridge-destroy {bridge}"))
    }

    fn adopt_leg(
        &self,
        channel: &str,
        bridge: Option<&str>,
        owner: &str,
    ) -> Result<(), ControlError> {
        let bridge = bridge.unwrap_or("-");
        self.log(owner, format!("adopt {channel} {bridge} for {owner}"))
    }

    async fn channel_live(&self, channel: &str) -> Result<bool, ControlError> {
        self.ops.lock().unwrap().push(format!("live? {channel}"));
        Ok(!self.gone.lock().unwrap().iter().any(|c| c == channel))
    }

    async fn hold(&self, channel: &str, on: bool) -> Result<(), ControlError> {
        let what = if on { "hold" } else { "unhold" };
        self.log(channel, format!("{what} {channel}"))
    }

    async fn set_variable(
        &self,
        channel: &str,
        name: &str,
        value: &str,
    ) -> Result<(), ControlError> {
        self.log(channel, format!("var {channel} {name}={value}"))
    }

    async fn snoop(
        &self,
        channel: &str,
        snoop: &str,
        whisper: bool,
        owner: &str,
    ) -> Result<(), ControlError> {
        let how = if whisper { "whisper" } else { "listen" };
        self.log(owner, format!("snoop {snoop} on {channel} {how}"))
    }
}

/// Files tickets in memory, numbering them from `1000000000` with a fake (not Verhoeff) last digit.
#[derive(Debug, Default)]
pub struct FakeDesk {
    pub filed: Mutex<Vec<(ivr::TicketDraft, Option<FetchedRecording>)>>,
    /// How long a lookup takes (a slow database).
    pub delay: Mutex<std::time::Duration>,
    /// Files tickets without keeping their recordings (the ticket store's disk is full).
    pub drops_recordings: std::sync::atomic::AtomicBool,
}

impl TicketDesk for FakeDesk {
    async fn file(
        &self,
        draft: &ivr::TicketDraft,
        recording: Option<&FetchedRecording>,
    ) -> Result<FiledTicket, DeskError> {
        let mut filed = self.filed.lock().unwrap();
        filed.push((draft.clone(), recording.cloned()));
        Ok(FiledTicket {
            number: format!("{}", 1_000_000_000 + filed.len()),
            // Kept when we had a copy to give.
            recording_kept: recording.is_some_and(|r| r.path.is_some())
                && !self
                    .drops_recordings
                    .load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    async fn lookup(&self, _number: &str) -> Result<Option<ivr::TicketStatusView>, DeskError> {
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        Ok(None)
    }

    async fn feedback(&self, feedback: &Feedback<'_>) -> Result<FeedbackReply, DeskError> {
        // The fake's complainant is 9816000001 (the test calls' number), or whoever keys 0001.
        let ok = feedback.caller == "9816000001" || feedback.check_digits == Some("0001");
        Ok(if ok {
            FeedbackReply::Stored
        } else {
            FeedbackReply::Refused
        })
    }
}

fn stamp() -> &'static str {
    "2026-11-29T05:00:00.000+0000"
}

pub fn channel_json(id: &str, caller: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": "PJSIP/trunk-00000001", "state": "Up", "protocol_id": "",
        "caller": {"name": "", "number": caller}, "connected": {"name": "", "number": ""},
        "accountcode": "", "dialplan": {"context": "from-citizens", "exten": "1100", "priority": 2,
        "app_name": "Stasis", "app_data": "ivr-1100"}, "creationtime": stamp(), "language": "en"
    })
}

fn event(mut body: serde_json::Value, kind: &str) -> ari::Event {
    body["type"] = kind.into();
    body["application"] = "ivr-1100".into();
    body["timestamp"] = stamp().into();
    ari::parse_event(body.to_string().as_bytes()).unwrap()
}

pub fn stasis_start(channel: &str, asterisk_id: &str) -> ari::Event {
    let mut body = serde_json::json!({"args": [], "channel": channel_json(channel, "9816000001")});
    body["asterisk_id"] = asterisk_id.into();
    event(body, "StasisStart")
}

pub fn dtmf(channel: &str, digit: char) -> ari::Event {
    event(
        serde_json::json!({"digit": digit.to_string(), "duration_ms": 100,
            "channel": channel_json(channel, "")}),
        "ChannelDtmfReceived",
    )
}

pub fn playback_finished(channel: &str, playback_id: &str) -> ari::Event {
    event(
        serde_json::json!({"playback": {"id": playback_id, "media_uri": "sound:x",
            "target_uri": format!("channel:{channel}"), "state": "done"}}),
        "PlaybackFinished",
    )
}

pub fn recording_finished(channel: &str, name: &str, seconds: i64) -> ari::Event {
    event(
        serde_json::json!({"recording": {"name": name, "format": "wav",
            "target_uri": format!("channel:{channel}"), "state": "done", "duration": seconds,
            "talking_duration": seconds, "silence_duration": 0}}),
        "RecordingFinished",
    )
}

pub fn hangup_request(channel: &str) -> ari::Event {
    event(
        serde_json::json!({"cause": 16, "channel": channel_json(channel, "")}),
        "ChannelHangupRequest",
    )
}

pub fn channel_destroyed(channel: &str, cause: i32) -> ari::Event {
    event(
        serde_json::json!({"cause": cause, "cause_txt": "", "channel": channel_json(channel, "")}),
        "ChannelDestroyed",
    )
}

pub fn stasis_end(channel: &str) -> ari::Event {
    event(
        serde_json::json!({"channel": channel_json(channel, "")}),
        "StasisEnd",
    )
}

/// An 8 kHz mono 16-bit WAV: `loud` → a 440 Hz tone (speech to the analyser), else silence.
pub fn wav(seconds: f64, loud: bool) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for i in 0..(seconds * 8000.0) as usize {
            let sample = if loud {
                ((i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 12000.0) as i16
            } else {
                0
            };
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
    }
    cursor.into_inner()
}
