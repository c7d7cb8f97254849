//! Simulated callers: a scenario's steps run against a SIP-like channel that entered through the dialplan
//! (waiting for prompts, pressing keys, speaking, hanging up), and the `CallResult` each run yields.

use super::*;
use crate::scenario::{MAX_REPORTED_SILENCES, REPORTED_SILENCE_MS, Silence};

impl Model {
    // ----- simulated callers -----

    pub(super) fn place_call(&mut self, scenario: Scenario) -> u64 {
        let call = self.next_call;
        self.next_call += 1;
        self.stats.calls_placed += 1;
        let id = self.new_unique_id();
        let lang = scenario
            .language
            .clone()
            .unwrap_or_else(|| self.config.default_language.clone());
        let name = format!("PJSIP/citizen-{:08x}", self.pjsip_seq);
        self.pjsip_seq = self.pjsip_seq.wrapping_add(1);
        let mut chan = self.new_channel(
            id.clone(),
            name,
            "Ring",
            (scenario.caller_name.clone(), scenario.caller.clone()),
            (String::new(), String::new()),
            &scenario.context,
            &scenario.extension,
            Kind::Sip,
            &lang,
        );
        chan.protocol_id = format!("{call}-{}@127.0.0.1", std::process::id());
        chan.call = Some(call);
        self.channels.insert(id.clone(), chan);
        let now = self.now_ms();
        self.calls.insert(
            call,
            CallRun {
                id: call,
                scenario,
                channel: id.clone(),
                started_ms: now,
                step: 0,
                wait: CallWait::Nothing,
                generation: 0,
                heard: Vec::new(),
                cursor: 0,
                digits_sent: String::new(),
                recordings: Vec::new(),
                answered_ms: None,
                failure: None,
                hung_up_by: None,
                transferred_to: None,
                voice_generation: 0,
                digits_pending: 0,
                covered: Vec::new(),
                recording_since: Vec::new(),
                spoken_recordings: Vec::new(),
                left_ms: None,
                answer_replays: false,
                prompts_answered: Vec::new(),
            },
        );
        let exists = self.channels.get(&id).is_some_and(|c| {
            self.config
                .dialplan
                .get(&c.context)
                .is_some_and(|ctx| ctx.contains_key(&c.exten))
        });
        if !exists {
            if let Some(run) = self.calls.get_mut(&call) {
                run.failure =
                    Some("the dialled extension does not exist in the dialplan".to_owned());
                run.hung_up_by = Some(HungUpBy::Network);
            }
            self.hangup(&id, 1, HangupHow::Dialplan);
            return call;
        }
        self.advance_call(call);
        if self.channels.contains_key(&id) {
            self.run_dialplan(&id);
        }
        call
    }

    /// Runs the caller's steps until one has to wait.
    pub(super) fn advance_call(&mut self, call: u64) {
        loop {
            let generation = self.generation();
            let now = self.now_ms();
            let Some(run) = self.calls.get_mut(&call) else {
                return;
            };
            run.generation = generation;
            let channel = run.channel.clone();
            let Some(step) = run.scenario.steps.get(run.step).cloned() else {
                // Every step ran: stay on the line until the other side hangs up (bounded).
                run.wait = CallWait::Hangup;
                let ms = (self.config.max_call_seconds * 1000.0) as u64;
                self.schedule(ms, Timer::CallTimeout { call, generation });
                return;
            };
            match step {
                Step::WaitPrompt {
                    sound,
                    timeout_seconds,
                } => {
                    if let Some(index) = run.heard[run.cursor..]
                        .iter()
                        .position(|h| prompt_matches(sound.as_deref(), &h.media_uri))
                    {
                        let uri = run.heard[run.cursor + index].media_uri.clone();
                        run.prompts_answered.push((run.step, uri));
                        run.cursor += index + 1;
                        run.step += 1;
                        continue;
                    }
                    if let Some(step) = replayed(run) {
                        // Asked again while busy: back to what the caller did after it the first time.
                        run.cursor = run.heard.len();
                        run.step = step + 1;
                        continue;
                    }
                    run.wait = CallWait::Prompt(sound);
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
                Step::WaitPromptEnd { timeout_seconds } => {
                    if self
                        .channels
                        .get(&channel)
                        .is_none_or(|c| c.playing.is_none())
                    {
                        run.step += 1;
                        continue;
                    }
                    run.wait = CallWait::PromptEnd;
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
                Step::Press {
                    digits,
                    gap_ms,
                    duration_ms,
                } => {
                    run.digits_sent.push_str(&digits);
                    run.digits_pending = digits.chars().count();
                    run.wait = CallWait::Timer;
                    // Pressing: from the first key down to the last key up.
                    let keys = digits.chars().count() as u64;
                    let pressing = keys * duration_ms + keys.saturating_sub(1) * gap_ms;
                    run.covered.push((now, now + pressing));
                    let mut at = 0;
                    for d in digits.chars() {
                        at += duration_ms;
                        self.schedule(
                            at,
                            Timer::CallDtmf {
                                call,
                                digit: d,
                                duration_ms,
                            },
                        );
                        at += gap_ms;
                    }
                    self.schedule(at, Timer::CallStep { call, generation });
                    return;
                }
                Step::Speak { seconds } => {
                    let seed = seed_of(&format!("{call}-{}", run.step));
                    self.call_voice(
                        call,
                        &channel,
                        Audio::Speech { seed },
                        secs(seconds),
                        generation,
                    );
                    return;
                }
                Step::SpeakWav { path } => match crate::media::read_wav(&path) {
                    Some(sound) => {
                        self.call_voice(call, &channel, sound.audio, sound.duration_ms, generation);
                        return;
                    }
                    None => {
                        run.failure = Some(format!(
                            "step {} (speak_wav): cannot read {} as a WAV file",
                            run.step + 1,
                            path.display()
                        ));
                        run.hung_up_by = Some(HungUpBy::Caller);
                        self.hangup(&channel, 16, HangupHow::Caller);
                        return;
                    }
                },
                Step::Silence { seconds } | Step::Wait { seconds } => {
                    run.wait = CallWait::Timer;
                    self.schedule(secs(seconds), Timer::CallStep { call, generation });
                    return;
                }
                Step::Hangup => {
                    run.step += 1;
                    run.hung_up_by = Some(HungUpBy::Caller);
                    self.hangup(&channel, 16, HangupHow::Caller);
                    return;
                }
                Step::AnswerReplays => {
                    run.answer_replays = true;
                    run.step += 1;
                    continue;
                }
                Step::WaitHangup { timeout_seconds } => {
                    run.wait = CallWait::Hangup;
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
            }
        }
    }

    pub(super) fn call_voice(
        &mut self,
        call: u64,
        channel: &str,
        audio: Audio,
        ms: u64,
        generation: u64,
    ) {
        let voice_generation = self.generation();
        if let Some(run) = self.calls.get_mut(&call) {
            run.wait = CallWait::Timer;
            run.voice_generation = voice_generation;
        }
        self.set_inbound(channel, Some(audio));
        self.schedule(
            ms,
            Timer::CallVoiceEnds {
                call,
                generation: voice_generation,
            },
        );
        self.schedule(ms, Timer::CallStep { call, generation });
    }

    pub(super) fn notify_call_heard(&mut self, channel: &str, playback: &str, uri: &str) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        let language = match self.playbacks.get(playback) {
            Some(p) => p.language.clone(),
            None => self
                .channels
                .get(channel)
                .map(|c| c.language.clone())
                .unwrap_or_default(),
        };
        // The previous item of a multi-media playback is done when the next begins.
        if let Some(last) = run.heard.last_mut()
            && last.playback_id == playback
            && last.finished_ms.is_none()
        {
            last.finished_ms = Some(now.saturating_sub(run.started_ms));
            last.state = "done".to_owned();
        }
        run.heard.push(HeardMedia {
            media_uri: uri.to_owned(),
            language,
            playback_id: playback.to_owned(),
            started_ms: now.saturating_sub(run.started_ms),
            finished_ms: None,
            state: "playing".to_owned(),
        });
        let hanging_up = self.channels.get(channel).is_none_or(|c| c.hanging_up);
        if let CallWait::Prompt(sound) = &run.wait
            && prompt_matches(sound.as_deref(), uri)
            && !hanging_up
        {
            run.prompts_answered.push((run.step, uri.to_owned()));
            run.cursor = run.heard.len();
            run.step += 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        } else if matches!(run.wait, CallWait::Prompt(_) | CallWait::Hangup)
            && !hanging_up
            && let Some(step) = replayed(run)
        {
            // Asked again: back to what the caller did after hearing this the first time (the pending
            // wait's timeout belongs to the old generation and no longer fires).
            run.cursor = run.heard.len();
            run.step = step + 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        }
    }

    /// A media the caller hears whose end is already known (the recording beep).
    pub(super) fn mark_heard_finished(&mut self, channel: &str, playback: &str, after_ms: u64) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(h) = run
            .heard
            .iter_mut()
            .rev()
            .find(|h| h.playback_id == playback)
        {
            h.finished_ms = Some(now.saturating_sub(run.started_ms) + after_ms);
            h.state = "done".to_owned();
        }
    }

    pub(super) fn notify_call_finished(&mut self, channel: &str, playback: &str, state: &str) {
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let now = self.now_ms();
        let queue_empty = self
            .channels
            .get(channel)
            .is_some_and(|c| c.queue.is_empty() && !c.hanging_up);
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(h) = run
            .heard
            .iter_mut()
            .rev()
            .find(|h| h.playback_id == playback && h.finished_ms.is_none())
        {
            h.finished_ms = Some(now.saturating_sub(run.started_ms));
            h.state = state.to_owned();
        }
        if run.wait == CallWait::PromptEnd && queue_empty {
            run.step += 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        }
    }

    pub(super) fn finish_call(&mut self, call: u64, cause: u32) {
        let Some(run) = self.calls.remove(&call) else {
            return;
        };
        let now = self.now_ms();
        let steps = run.scenario.steps.len();
        // A press whose digits have all gone out is done even if its trailing gap had not elapsed.
        let mut step = run.step;
        if run.digits_pending == 0
            && matches!(run.scenario.steps.get(step), Some(Step::Press { .. }))
        {
            step += 1;
        }
        let only_waiting_left = run.scenario.steps[step.min(steps)..]
            .iter()
            .all(|s| matches!(s, Step::WaitHangup { .. }));
        let outcome = if let Some(reason) = run.failure.clone() {
            CallOutcome::Failed { reason }
        } else if only_waiting_left {
            CallOutcome::Completed
        } else {
            let label = run.scenario.steps[run.step].label();
            CallOutcome::Failed {
                reason: format!("the call ended during step {} ({label})", run.step + 1),
            }
        };
        match outcome {
            CallOutcome::Completed => self.stats.calls_completed += 1,
            CallOutcome::Failed { .. } => self.stats.calls_failed += 1,
        }
        let mut heard = run.heard;
        for h in &mut heard {
            if h.finished_ms.is_none() && h.state == "playing" {
                h.state = "failed".to_owned();
                h.finished_ms = Some(now.saturating_sub(run.started_ms));
            }
        }
        // Dead air: inside the call (answered → hung up or gone elsewhere), what no prompt, recording or
        // key press covers.
        let mut silences = Vec::new();
        if let Some(answered) = run.answered_ms {
            let from = run.started_ms + answered;
            let to = run.left_ms.map_or(now, |left| left.min(now)).max(from);
            let mut spans: Vec<(u64, u64)> = heard
                .iter()
                .map(|h| {
                    let start = run.started_ms + h.started_ms;
                    (
                        start,
                        run.started_ms + h.finished_ms.unwrap_or(now - run.started_ms),
                    )
                })
                .chain(run.covered.iter().copied())
                .chain(run.recording_since.iter().map(|(_, since)| (*since, now)))
                .collect();
            silences = crate::scenario::dead_air(from, to, &mut spans)
                .into_iter()
                .map(|(start, ms)| Silence {
                    start_ms: start - run.started_ms,
                    ms,
                })
                .collect();
        }
        let longest = silences
            .iter()
            .copied()
            .reduce(|a, b| if b.ms > a.ms { b } else { a });
        silences.retain(|s| s.ms >= REPORTED_SILENCE_MS);
        if silences.len() > MAX_REPORTED_SILENCES {
            let mut by_length: Vec<u64> = silences.iter().map(|s| s.ms).collect();
            by_length.sort_unstable_by(|a, b| b.cmp(a));
            let shortest_kept = by_length[MAX_REPORTED_SILENCES - 1];
            silences.retain(|s| s.ms >= shortest_kept);
            silences.truncate(MAX_REPORTED_SILENCES);
        }
        let result = CallResult {
            call_id: run.id,
            scenario: run.scenario.name.clone(),
            channel_id: run.channel,
            caller: run.scenario.caller.clone(),
            heard,
            digits_sent: run.digits_sent,
            recordings: run.recordings,
            hung_up_by: run.hung_up_by.unwrap_or(HungUpBy::Network),
            transferred_to: run.transferred_to,
            cause,
            cause_txt: cause_txt(cause).to_owned(),
            answered_ms: run.answered_ms,
            duration_ms: now.saturating_sub(run.started_ms),
            outcome,
            longest_silence_ms: longest.map_or(0, |s| s.ms),
            longest_silence_start_ms: longest.map(|s| s.start_ms),
            silences,
            spoken_recordings: run.spoken_recordings,
            started_unix_ms: self.unix_ms_at(run.started_ms),
        };
        for waiter in self.waiters.remove(&call).unwrap_or_default() {
            let _ = waiter.send(Ok(result.clone()));
        }
        self.results.insert(call, result);
    }
}

/// With `answer_replays`: the `wait_prompt` step whose prompt has started again since the caller last
/// waited (the latest such prompt heard); the answers after it are forgotten.
fn replayed(run: &mut CallRun) -> Option<usize> {
    if !run.answer_replays {
        return None;
    }
    let at = run.heard[run.cursor..].iter().rev().find_map(|h| {
        run.prompts_answered
            .iter()
            .rposition(|(_, uri)| *uri == h.media_uri)
    })?;
    let (step, _) = run.prompts_answered[at];
    // That prompt stays answered (it may come back once more); what came after is to be done again.
    run.prompts_answered.truncate(at + 1);
    Some(step)
}
