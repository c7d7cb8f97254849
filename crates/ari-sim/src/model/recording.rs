//! Recordings of a channel or a bridge: parameter checks, what the target hears captured as segments,
//! pause/mute, max duration and max silence, and the WAV file written when it ends; stored recordings.

use super::*;

impl Model {
    // ----- recordings -----

    pub(super) fn record(&mut self, target: Target, p: Params) -> RestReply {
        let Some(name) = p.get("name").filter(|n| !n.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "Recording name is required");
        };
        let Some(format) = p.get("format").filter(|f| !f.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "Recording format is required");
        };
        let number = |key: &str| -> Result<u64, ()> {
            match p.get(key).map(str::parse::<u64>) {
                None => Ok(0),
                Some(Ok(v)) => Ok(v),
                Some(Err(_)) => Err(()),
            }
        };
        let (Ok(max_duration_s), Ok(max_silence_s)) =
            (number("maxDurationSeconds"), number("maxSilenceSeconds"))
        else {
            return RestReply::error(
                400,
                "maxDurationSeconds and maxSilenceSeconds must be non-negative integers",
            );
        };
        let if_exists = p.get("ifExists").unwrap_or("fail").to_owned();
        if !matches!(if_exists.as_str(), "fail" | "overwrite" | "append") {
            return RestReply::error(400, "ifExists must be fail, overwrite or append");
        }
        let beep = match p.get("beep") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return RestReply::error(400, "beep must be true or false"),
        };
        let terminate_on = p.get("terminateOn").unwrap_or("none").to_owned();
        if terminate_on != "none"
            && terminate_on != "any"
            && !terminate_on.chars().all(crate::scenario::is_dtmf_digit)
        {
            return RestReply::error(400, "terminateOn must be none, any, or DTMF digits");
        }
        match &target {
            Target::Channel(cid) => match self.channels.get(cid) {
                None => return RestReply::error(404, CHANNEL_NOT_FOUND),
                Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
                Some(c) if c.recording.is_some() => {
                    return RestReply::error(409, "Channel is already being recorded");
                }
                Some(_) => {}
            },
            Target::Bridge(bid) => match self.bridges.get(bid) {
                None => return RestReply::error(404, "Bridge not found"),
                Some(b) if b.recording.is_some() => {
                    return RestReply::error(409, "Bridge is already being recorded");
                }
                Some(_) => {}
            },
        }
        if !matches!(format.as_str(), "wav" | "WAV") {
            // The simulator writes WAV only; Asterisk's other formats are reported unknown like "nosuchformat".
            return RestReply::error(422, "specified format is unknown on this system");
        }
        if name.contains("..") || name.starts_with('/') {
            return RestReply::error(400, "Invalid recording name");
        }
        let exists = self.stored.contains_key(&name) || self.recordings.contains_key(&name);
        if self.recordings.contains_key(&name) || (exists && if_exists == "fail") {
            return RestReply::error(
                409,
                &format!("Recording '{name}' already exists and can not be overwritten"),
            );
        }
        let now = self.now_ms();
        let beep_ms = if beep { 250 } else { 0 };
        let generation = self.generation();
        let rec = LiveRecording {
            name: name.clone(),
            format: format.to_lowercase(),
            target: target.clone(),
            started_ms: now + beep_ms,
            instance: generation,
            max_duration_s,
            max_silence_s,
            terminate_on,
            if_exists,
            generation,
            segments: Vec::new(),
            open: HashMap::new(),
            paused: false,
            paused_total_ms: 0,
            paused_since: None,
            muted: false,
            state: "recording",
        };
        let reply = {
            let mut j = self.recording_json(&rec, false);
            j["state"] = json!("queued");
            j
        };
        self.recordings.insert(name.clone(), rec);
        let listeners: Vec<String> = match &target {
            Target::Channel(cid) => {
                if let Some(c) = self.channels.get_mut(cid) {
                    c.recording = Some(name.clone());
                }
                if let Some(call) = self.channels.get(cid).and_then(|c| c.call)
                    && let Some(run) = self.calls.get_mut(&call)
                {
                    run.recordings.push(name.clone());
                }
                vec![cid.clone()]
            }
            Target::Bridge(bid) => {
                let b = self.bridges.get_mut(bid).expect("checked above");
                b.recording = Some(name.clone());
                b.channels.clone()
            }
        };
        // Measured only: a caller being recorded (the beep included) is not in dead air.
        for l in &listeners {
            if let Some(call) = self.channels.get(l).and_then(|c| c.call)
                && let Some(run) = self.calls.get_mut(&call)
            {
                run.recording_since.push((name.clone(), now));
            }
        }
        let apps = self.target_subscribers(&target);
        if let Some(r) = self.recordings.get(&name) {
            let event =
                json!({"type": "RecordingStarted", "recording": self.recording_json(r, false)});
            self.emit(&apps, event);
        }
        for l in listeners {
            let inbound = self.channels.get(&l).and_then(|c| c.inbound.clone());
            self.recording_voice(&name, &l, inbound, now);
        }
        if beep && let Target::Channel(cid) = &target {
            // The caller hears the beep; capture starts when it ends.
            let pseudo_id = format!("beep-{name}");
            self.notify_call_heard(cid, &pseudo_id, "sound:beep");
            self.mark_heard_finished(cid, &pseudo_id, beep_ms);
        }
        if max_duration_s > 0 {
            self.schedule(
                beep_ms + max_duration_s * 1000,
                Timer::RecordingMaxDuration { name, generation },
            );
        }
        RestReply::json(201, reply)
    }

    /// Channels whose audio a recording captures.
    pub(super) fn recording_listeners(&self, target: &Target) -> Vec<String> {
        match target {
            Target::Channel(c) => vec![c.clone()],
            Target::Bridge(b) => self
                .bridges
                .get(b)
                .map(|b| b.channels.clone())
                .unwrap_or_default(),
        }
    }

    /// Pause (time and audio stop counting) or mute (time runs, audio is silence), on or off.
    pub(super) fn pause_or_mute(&mut self, name: &str, pause: bool, on: bool) -> RestReply {
        let now = self.now_ms();
        let Some(rec) = self.recordings.get_mut(name) else {
            return RestReply::error(404, "Recording not found");
        };
        let was_capturing = rec.capturing();
        let rel = rec.rel(now);
        if pause {
            if on && !rec.paused {
                rec.paused = true;
                rec.paused_since = Some(now);
                rec.state = "paused";
            } else if !on && rec.paused {
                rec.paused = false;
                rec.paused_total_ms += rec.paused_since.take().map_or(0, |p| now.saturating_sub(p));
                rec.state = "recording";
            }
        } else {
            rec.muted = on;
        }
        if was_capturing && !rec.capturing() {
            close_voices(rec, rel);
            // Silence detection is suspended meanwhile.
            rec.generation += 1;
        } else if !was_capturing && rec.capturing() {
            let target = rec.target.clone();
            for listener in self.recording_listeners(&target) {
                let inbound = self.channels.get(&listener).and_then(|c| c.inbound.clone());
                self.recording_voice(name, &listener, inbound, now);
            }
        }
        RestReply::empty()
    }

    pub(super) fn recording_json(&self, r: &LiveRecording, _finished: bool) -> Value {
        json!({"name": r.name, "format": r.format, "state": r.state, "target_uri": r.target.uri()})
    }

    pub(super) fn finish_recording(&mut self, name: &str, end: RecordingEnd) {
        let Some(mut rec) = self.recordings.remove(name) else {
            return;
        };
        let now = self.now_ms();
        let mut rel = rec.rel(now);
        if rec.max_duration_s > 0 {
            rel = rel.min(rec.max_duration_s * 1000);
        }
        close_voices(&mut rec, rel);
        // Measured only: the callers it captured are no longer being recorded.
        for l in self.recording_listeners(&rec.target) {
            if let Some(call) = self.channels.get(&l).and_then(|c| c.call)
                && let Some(run) = self.calls.get_mut(&call)
                && let Some(i) = run.recording_since.iter().position(|(n, _)| n == name)
            {
                let (_, since) = run.recording_since.remove(i);
                run.covered.push((since, now));
            }
        }
        let apps = self.target_subscribers(&rec.target);
        match &rec.target {
            Target::Channel(c) => {
                if let Some(c) = self.channels.get_mut(c)
                    && c.recording.as_deref() == Some(name)
                {
                    c.recording = None;
                }
            }
            Target::Bridge(b) => {
                if let Some(b) = self.bridges.get_mut(b)
                    && b.recording.as_deref() == Some(name)
                {
                    b.recording = None;
                }
            }
        }
        if matches!(end, RecordingEnd::Canceled) {
            rec.state = "canceled";
            let event =
                json!({"type": "RecordingFinished", "recording": self.recording_json(&rec, true)});
            self.emit(&apps, event);
            return;
        }
        let mut samples = audio::render(&rec.segments, rel);
        audio::trim_trailing_silence(&mut samples);
        let path = self.recordings_dir.join(format!("{name}.{}", rec.format));
        let mut all = samples.clone();
        if rec.if_exists == "append"
            && let Some(existing) = self.stored.get(name)
            && let Some(mut before) = audio::read_samples(&existing.path)
        {
            before.extend_from_slice(&all);
            all = before;
        }
        let kept_ms = samples.len() as u64 * 1000 / u64::from(audio::RATE);
        let talking_ms: u64 = rec
            .segments
            .iter()
            .map(|s| {
                s.end_ms
                    .min(kept_ms)
                    .saturating_sub(s.start_ms.min(kept_ms))
            })
            .sum();
        // Measured only: the caller spoke their complaint into this recording of their channel.
        if talking_ms >= crate::scenario::SPOKEN_MS
            && let Target::Channel(c) = &rec.target
            && let Some(call) = self.channels.get(c).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
        {
            run.spoken_recordings.push(name.to_owned());
        }
        let written = audio::write_wav(&path, &all);
        rec.state = if written.is_ok() { "done" } else { "failed" };
        let mut recording = self.recording_json(&rec, true);
        match written {
            Ok(()) => {
                self.stored.insert(
                    name.to_owned(),
                    StoredRecording {
                        format: rec.format.clone(),
                        path,
                    },
                );
                recording["duration"] = json!(kept_ms / 1000);
                if rec.max_silence_s > 0 {
                    recording["talking_duration"] = json!(talking_ms / 1000);
                    recording["silence_duration"] =
                        json!(kept_ms.saturating_sub(talking_ms) / 1000);
                }
                self.emit(
                    &apps,
                    json!({"type": "RecordingFinished", "recording": recording}),
                );
            }
            Err(e) => {
                recording["cause"] = json!(format!("cannot write {}: {e}", path.display()));
                self.emit(
                    &apps,
                    json!({"type": "RecordingFailed", "recording": recording}),
                );
            }
        }
    }

    pub(super) fn copy_recording(&mut self, name: &str, p: Params) -> RestReply {
        let Some(dest) = p.get("destinationRecordingName").filter(|d| !d.is_empty()) else {
            return RestReply::error(400, "destinationRecordingName is required");
        };
        let Some(src) = self.stored.get(name).cloned() else {
            return RestReply::error(404, "Recording not found");
        };
        if dest.contains("..") || dest.starts_with('/') {
            return RestReply::error(400, "Invalid destination recording name");
        }
        if self.stored.contains_key(dest) {
            return RestReply::error(
                409,
                "A recording with the same name already exists on the system",
            );
        }
        let path = self.recordings_dir.join(format!("{dest}.{}", src.format));
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match std::fs::copy(&src.path, &path) {
            Ok(_) => {
                self.stored.insert(
                    dest.to_owned(),
                    StoredRecording {
                        format: src.format.clone(),
                        path,
                    },
                );
                RestReply::json(200, json!({"name": dest, "format": src.format}))
            }
            Err(e) => RestReply::error(500, &format!("copy failed: {e}")),
        }
    }
}
