//! Playbacks and DTMF: media resolved to real lengths, queued per channel or bridge, started, continued,
//! stopped, controlled and finished; digits sent on a leg, held while that leg plays, received on the far
//! end (with a recording's `terminateOn`).

use super::*;

impl Model {
    // ----- playbacks -----

    pub(super) fn play(&mut self, target: Target, id: Option<String>, p: Params) -> RestReply {
        let Some(media) = p.get("media").filter(|m| !m.is_empty()) else {
            return RestReply::error(400, "media is required");
        };
        let lang = match &target {
            Target::Channel(cid) => match self.channels.get(cid) {
                None => return RestReply::error(404, CHANNEL_NOT_FOUND),
                Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
                Some(c) => c.language.clone(),
            },
            Target::Bridge(bid) => match self.bridges.contains_key(bid) {
                false => return RestReply::error(404, "Bridge not found"),
                true => self.config.default_language.clone(),
            },
        };
        let lang = p
            .get("lang")
            .filter(|l| !l.is_empty())
            .map_or(lang, str::to_owned);
        let id = id.unwrap_or_else(|| new_uuid(&mut self.unique_seq));
        if self.playbacks.contains_key(&id) {
            return RestReply::error(409, "Playback with given id already exists");
        }
        let playback = Playback {
            id: id.clone(),
            media: media.split(',').map(str::to_owned).collect(),
            index: 0,
            target: target.clone(),
            language: lang,
            state: "queued",
            generation: 0,
            item_started_ms: 0,
            item_duration_ms: None,
            paused_elapsed_ms: None,
            audio: None,
            stuck: false,
        };
        let reply_json = playback_json(&playback);
        self.playbacks.insert(id.clone(), playback);
        let busy = match &target {
            Target::Channel(cid) => {
                let c = self.channels.get_mut(cid).expect("checked above");
                if c.playing.is_some() {
                    c.queue.push_back(id.clone());
                    true
                } else {
                    c.playing = Some(id.clone());
                    false
                }
            }
            Target::Bridge(bid) => {
                let b = self.bridges.get_mut(bid).expect("checked above");
                if b.playing.is_some() {
                    b.queue.push_back(id.clone());
                    true
                } else {
                    b.playing = Some(id.clone());
                    false
                }
            }
        };
        if busy {
            return RestReply::json(201, reply_json);
        }
        self.start_playback(&id);
        match self.playbacks.get(&id) {
            Some(pb) => RestReply::json(201, playback_json(pb)),
            None => RestReply::json(201, reply_json),
        }
    }

    pub(super) fn start_playback(&mut self, id: &str) {
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.state = "playing";
        let target = pb.target.clone();
        let event = json!({"type": "PlaybackStarted", "playback": playback_json(pb)});
        let apps = self.target_subscribers(&target);
        self.emit(&apps, event);
        self.start_item(id);
    }

    pub(super) fn start_item(&mut self, id: &str) {
        let now = self.now_ms();
        let stored: HashMap<String, PathBuf> = HashMap::new();
        let Some(pb) = self.playbacks.get(id) else {
            return;
        };
        let uri = pb.media[pb.index].clone();
        let lang = pb.language.clone();
        let target = pb.target.clone();
        let stored_paths = &self.stored;
        let resolved = self.sounds.resolve(&uri, &lang, |name| {
            stored_paths
                .get(name)
                .map(|s| s.path.clone())
                .or_else(|| stored.get(name).cloned())
        });
        let answered = match &target {
            Target::Channel(c) => self.channels.get(c).is_some_and(|c| c.state == "Up"),
            Target::Bridge(_) => true,
        };
        let generation = self.generation();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.generation = generation;
        pb.item_started_ms = now;
        pb.paused_elapsed_ms = None;
        let (duration, audio) = match resolved {
            Resolved::Plays(sound) => (Some(sound.duration_ms), Some(sound.audio)),
            Resolved::Endless(audio) => (None, Some(audio)),
            Resolved::Fails => {
                self.finish_playback(id, "failed", true);
                return;
            }
            Resolved::UnknownScheme if !answered => {
                pb.stuck = true;
                (None, None)
            }
            Resolved::UnknownScheme => {
                self.finish_playback(id, "failed", true);
                return;
            }
        };
        pb.item_duration_ms = duration;
        pb.audio = audio.clone();
        if let Target::Bridge(b) = &target {
            // Everyone in the bridge hears it.
            let members = self
                .bridges
                .get(b)
                .map(|b| b.channels.clone())
                .unwrap_or_default();
            for member in members {
                self.notify_call_heard(&member, id, &uri);
            }
        }
        if let Target::Channel(c) = &target {
            let c = c.clone();
            self.early_media(&c);
            self.hear_from(&c, audio);
            self.notify_call_heard(&c, id, &uri);
        }
        if let Some(ms) = duration {
            self.schedule(
                ms,
                Timer::PlaybackItemEnd {
                    playback: id.to_owned(),
                    generation,
                },
            );
        }
    }

    pub(super) fn item_ended(&mut self, id: &str) {
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        if pb.index + 1 < pb.media.len() {
            pb.index += 1;
            let target = pb.target.clone();
            let event = json!({"type": "PlaybackContinuing", "playback": playback_json(pb)});
            let apps = self.target_subscribers(&target);
            self.emit(&apps, event);
            self.start_item(id);
        } else {
            self.finish_playback(id, "done", true);
        }
    }

    /// Ends a playback; `next` starts the channel's next queued playback.
    pub(super) fn finish_playback(&mut self, id: &str, state: &'static str, next: bool) {
        let Some(mut pb) = self.playbacks.remove(id) else {
            return;
        };
        pb.state = state;
        let apps = self.target_subscribers(&pb.target);
        let event = json!({"type": "PlaybackFinished", "playback": playback_json(&pb)});
        self.emit(&apps, event);
        match &pb.target {
            Target::Channel(cid) => {
                let cid = cid.clone();
                self.hear_from(&cid, None);
                self.notify_call_finished(&cid, id, state);
                let Some(c) = self.channels.get_mut(&cid) else {
                    return;
                };
                if c.playing.as_deref() == Some(id) {
                    c.playing = None;
                }
                let held: Vec<(char, u64)> = c.held_dtmf.drain(..).collect();
                let next_id = if next { c.queue.pop_front() } else { None };
                self.send_dtmf_now(&cid, held);
                if let Some(next_id) = next_id {
                    if let Some(c) = self.channels.get_mut(&cid) {
                        c.playing = Some(next_id.clone());
                    }
                    self.start_playback(&next_id);
                }
            }
            Target::Bridge(bid) => {
                let members = self
                    .bridges
                    .get(bid)
                    .map(|b| b.channels.clone())
                    .unwrap_or_default();
                for member in members {
                    self.notify_call_finished(&member, id, state);
                }
                let Some(b) = self.bridges.get_mut(bid) else {
                    return;
                };
                if b.playing.as_deref() == Some(id) {
                    b.playing = None;
                }
                if next
                    && b.playing.is_none()
                    && let Some(next_id) = b.queue.pop_front()
                {
                    b.playing = Some(next_id.clone());
                    self.start_playback(&next_id);
                }
            }
        }
    }

    pub(super) fn stop_playback(&mut self, id: &str) -> RestReply {
        let Some(pb) = self.playbacks.get(id) else {
            return RestReply::error(404, "Playback not found");
        };
        if pb.state == "queued" {
            match pb.target.clone() {
                Target::Channel(c) => {
                    if let Some(c) = self.channels.get_mut(&c) {
                        c.queue.retain(|q| q != id);
                    }
                }
                Target::Bridge(b) => {
                    if let Some(b) = self.bridges.get_mut(&b) {
                        b.queue.retain(|q| q != id);
                    }
                }
            }
            self.playbacks.remove(id);
        } else {
            self.finish_playback(id, "done", true);
        }
        RestReply::empty()
    }

    pub(super) fn control_playback(&mut self, id: &str, p: Params) -> RestReply {
        let Some(op) = p.get("operation") else {
            return RestReply::error(400, "operation is required");
        };
        let now = self.now_ms();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return RestReply::error(404, "Playback not found");
        };
        if pb.state != "playing" && pb.state != "paused" {
            return RestReply::error(409, "Playback not in a state to be controlled");
        }
        match op {
            "pause" if pb.state == "playing" => {
                pb.paused_elapsed_ms = Some(now.saturating_sub(pb.item_started_ms));
                pb.state = "paused";
                pb.generation += 1;
            }
            "unpause" if pb.state == "paused" => {
                let elapsed = pb.paused_elapsed_ms.take().unwrap_or(0);
                pb.state = "playing";
                pb.item_started_ms = now.saturating_sub(elapsed);
                self.reschedule_item(id, now);
            }
            "pause" | "unpause" => {}
            "restart" => {
                pb.item_started_ms = now;
                pb.paused_elapsed_ms = pb.paused_elapsed_ms.map(|_| 0);
                self.reschedule_item(id, now);
            }
            "forward" | "reverse" => {
                let skip = 3000;
                pb.item_started_ms = if op == "forward" {
                    pb.item_started_ms.saturating_sub(skip)
                } else {
                    (pb.item_started_ms + skip).min(now)
                };
                if let Some(e) = pb.paused_elapsed_ms.as_mut() {
                    *e = if op == "forward" {
                        *e + skip
                    } else {
                        e.saturating_sub(skip)
                    };
                }
                self.reschedule_item(id, now);
            }
            _ => return RestReply::error(400, "Invalid operation"),
        }
        RestReply::empty()
    }

    pub(super) fn reschedule_item(&mut self, id: &str, now: u64) {
        let generation = self.generation();
        let Some(pb) = self.playbacks.get_mut(id) else {
            return;
        };
        pb.generation = generation;
        if pb.state != "playing" {
            return;
        }
        if let Some(duration) = pb.item_duration_ms {
            let end = pb.item_started_ms + duration;
            self.schedule(
                end.saturating_sub(now),
                Timer::PlaybackItemEnd {
                    playback: id.to_owned(),
                    generation,
                },
            );
        }
    }

    // ----- DTMF -----

    pub(super) fn rest_dtmf(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if c.stasis.is_none() {
            return RestReply::error(409, NOT_IN_STASIS);
        }
        let Some(dtmf) = p.get("dtmf").filter(|d| !d.is_empty()) else {
            return RestReply::error(400, "DTMF is required");
        };
        let number = |name: &str, default: u64| -> Result<u64, RestReply> {
            match p.get(name).map(str::parse::<u64>) {
                None => Ok(default),
                Some(Ok(v)) => Ok(v),
                Some(Err(_)) => Err(RestReply::error(400, &format!("{name} must be an integer"))),
            }
        };
        let (before, between, duration) = match (
            number("before", 0),
            number("between", 100),
            number("duration", 100),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return RestReply::error(e.status, "invalid DTMF timing");
            }
        };
        let digits: Vec<char> = dtmf
            .chars()
            .filter(|c| crate::scenario::is_dtmf_digit(*c))
            .collect();
        if digits.is_empty() {
            return RestReply::error(400, "DTMF is required");
        }
        let playing = c.playing.is_some();
        if playing {
            // Asterisk queues DTMF behind the channel's own playback.
            if let Some(c) = self.channels.get_mut(id) {
                c.held_dtmf.extend(digits.iter().map(|d| (*d, duration)));
            }
        } else {
            let mut at = before + 100;
            for d in digits {
                at += duration;
                self.schedule(
                    at,
                    Timer::DtmfArrives {
                        channel: id.to_owned(),
                        digit: d,
                        duration_ms: duration,
                    },
                );
                at += between;
            }
        }
        RestReply::empty()
    }

    pub(super) fn send_dtmf_now(&mut self, from: &str, digits: Vec<(char, u64)>) {
        let mut at = 100;
        for (d, duration) in digits {
            at += duration;
            self.schedule(
                at,
                Timer::DtmfArrives {
                    channel: from.to_owned(),
                    digit: d,
                    duration_ms: duration,
                },
            );
            at += 100;
        }
    }

    /// A digit sent *from* `from` arrives at its far end (a Local peer; nothing hears a phone's DTMF).
    pub(super) fn dtmf_sent_from(&mut self, from: &str, digit: char, duration_ms: u64) {
        if let Some((peer, _)) = self.local_peer(from) {
            self.dtmf_received(&peer, digit, duration_ms);
        }
    }

    /// `channel` receives a digit: the event, then a recording's terminateOn.
    pub(super) fn dtmf_received(&mut self, channel: &str, digit: char, duration_ms: u64) {
        self.emit_channel(
            channel,
            "ChannelDtmfReceived",
            json!({"digit": digit.to_string(), "duration_ms": duration_ms}),
        );
        let Some(name) = self.channels.get(channel).and_then(|c| c.recording.clone()) else {
            return;
        };
        let terminates = self.recordings.get(&name).is_some_and(|r| {
            r.terminate_on == "any" || (r.terminate_on != "none" && r.terminate_on.contains(digit))
        });
        if terminates {
            self.finish_recording(&name, RecordingEnd::Done);
        }
    }
}
