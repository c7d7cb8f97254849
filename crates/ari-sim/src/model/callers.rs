//! Simulated callers: a scenario's steps run against a SIP-like channel that entered through the dialplan
//! (waiting for prompts, pressing keys, speaking, hanging up), waiting in a queue for an agent, reacting
//! to a prompt (the call-back offer), answering the call-back on a new channel, and the `CallResult` each
//! run yields.

use super::*;
use crate::scenario::{MAX_REPORTED_SILENCES, REPORTED_SILENCE_MS, Silence};

impl Model {
    // ----- simulated callers -----

    pub(super) fn place_call(&mut self, scenario: Scenario) -> u64 {
        let call = self.next_call;
        self.next_call += 1;
        self.stats.calls_placed += 1;
        // A citizen who only waits for a call-back does not dial in.
        let dials_in = !matches!(scenario.steps.first(), Some(Step::AwaitCallback { .. }));
        let id = if dials_in {
            self.new_unique_id()
        } else {
            String::new()
        };
        if dials_in {
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
        }
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
                keys_at: Vec::new(),
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
                first_channel: id.clone(),
                reactions: Vec::new(),
                abandoned: false,
                connected_ms: None,
                bridged_with: Vec::new(),
                callbacks: Vec::new(),
                offline_since: None,
                bridged_since: None,
                callback_deadline: None,
                last_cause: 16,
            },
        );
        if !dials_in {
            self.advance_call(call);
            return call;
        }
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
                    run.digits_pending = digits.chars().count();
                    run.wait = CallWait::Timer;
                    let at = self.press_keys(call, &digits, gap_ms, duration_ms, true);
                    self.schedule(at, Timer::CallStep { call, generation });
                    return;
                }
                Step::WaitAgent {
                    timeout_seconds, ..
                } => {
                    let connected = self
                        .channels
                        .get(&channel)
                        .and_then(|c| c.bridge.as_ref())
                        .and_then(|b| self.bridges.get(b))
                        .filter(|b| b.bridge_type == "mixing")
                        .is_some_and(|b| !other_parties(b, &channel, &self.channels).is_empty());
                    if connected {
                        run.step += 1;
                        continue;
                    }
                    run.wait = CallWait::Agent;
                    self.schedule(
                        secs(timeout_seconds),
                        Timer::CallTimeout { call, generation },
                    );
                    return;
                }
                Step::OnPrompt { .. } => {
                    run.reactions.push((run.step, false));
                    run.step += 1;
                    continue;
                }
                Step::AwaitCallback {
                    timeout_seconds, ..
                } => {
                    if self.channels.contains_key(&channel) {
                        // The caller hangs up to wait for the call-back; their channel ending brings
                        // them back to this step, off the line.
                        run.hung_up_by = Some(HungUpBy::Caller);
                        self.hangup(&channel, 16, HangupHow::Caller);
                        return;
                    }
                    run.wait = CallWait::Callback;
                    run.offline_since.get_or_insert(now);
                    let deadline = *run
                        .callback_deadline
                        .get_or_insert(now + secs(timeout_seconds));
                    let key = number_key(&run.scenario.caller);
                    self.callbacks_waiting.entry(key).or_insert(call);
                    self.schedule(
                        deadline.saturating_sub(now),
                        Timer::CallTimeout { call, generation },
                    );
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
        let mut previous_done = None;
        if let Some(last) = run.heard.last_mut()
            && last.playback_id == playback
            && last.finished_ms.is_none()
        {
            last.finished_ms = Some(now.saturating_sub(run.started_ms));
            last.state = "done".to_owned();
            if !run.reactions.is_empty() {
                previous_done = Some(last.media_uri.clone());
            }
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
        if let Some(uri) = previous_done {
            self.prompt_played(call, &uri);
        }
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
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
        let mut played = None;
        if let Some(h) = run
            .heard
            .iter_mut()
            .rev()
            .find(|h| h.playback_id == playback && h.finished_ms.is_none())
        {
            h.finished_ms = Some(now.saturating_sub(run.started_ms));
            h.state = state.to_owned();
            if state == "done" && !run.reactions.is_empty() {
                played = Some(h.media_uri.clone());
            }
        }
        if let Some(uri) = played {
            self.prompt_played(call, &uri);
        }
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if run.wait == CallWait::PromptEnd && queue_empty {
            run.step += 1;
            run.wait = CallWait::Nothing;
            self.advance_call(call);
        }
    }

    pub(super) fn finish_call(&mut self, call: u64, cause: u32) {
        let Some(mut run) = self.calls.remove(&call) else {
            return;
        };
        let now = self.now_ms();
        let key = number_key(&run.scenario.caller);
        if self.callbacks_waiting.get(&key) == Some(&call) {
            self.callbacks_waiting.remove(&key);
        }
        for since in [run.offline_since.take(), run.bridged_since.take()]
            .into_iter()
            .flatten()
        {
            run.covered.push((since, now));
        }
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
        } else if only_waiting_left || run.abandoned {
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
            channel_id: run.first_channel,
            caller: run.scenario.caller.clone(),
            heard,
            digits_sent: run.digits_sent,
            keys_at: run.keys_at,
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
            connected_ms: run.connected_ms,
            bridged_with: run.bridged_with,
            abandoned: run.abandoned,
            callbacks: run.callbacks,
        };
        for waiter in self.waiters.remove(&call).unwrap_or_default() {
            let _ = waiter.send(Ok(result.clone()));
        }
        self.results.insert(call, result);
    }
}

impl Model {
    /// Presses `digits` on the caller's channel, the first key down now; returns when the last is up (ms).
    fn press_keys(
        &mut self,
        call: u64,
        digits: &str,
        gap_ms: u64,
        duration_ms: u64,
        press_step: bool,
    ) -> u64 {
        let now = self.now_ms();
        if let Some(run) = self.calls.get_mut(&call) {
            run.digits_sent.push_str(digits);
            // Pressing: from the first key down to the last key up.
            let keys = digits.chars().count() as u64;
            let pressing = keys * duration_ms + keys.saturating_sub(1) * gap_ms;
            run.covered.push((now, now + pressing));
        }
        let mut at = 0;
        for digit in digits.chars() {
            at += duration_ms;
            self.schedule(
                at,
                Timer::CallDtmf {
                    call,
                    digit,
                    duration_ms,
                    press_step,
                },
            );
            at += gap_ms;
        }
        at
    }

    /// A prompt played to its end: an `on_prompt` reaction waiting for it fires (once).
    fn prompt_played(&mut self, call: u64, uri: &str) {
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        let steps = &run.scenario.steps;
        let Some(reaction) = run.reactions.iter_mut().find(|(step, fired)| {
            !*fired
                && matches!(&steps[*step], Step::OnPrompt { sound, .. }
                            if prompt_matches(Some(sound), uri))
        }) else {
            return;
        };
        reaction.1 = true;
        let Step::OnPrompt {
            press,
            hangup_after_seconds,
            gap_ms,
            duration_ms,
            ..
        } = steps[reaction.0].clone()
        else {
            return;
        };
        let channel = run.channel.clone();
        let at = self.press_keys(call, &press, gap_ms, duration_ms, false);
        if let Some(after) = hangup_after_seconds {
            self.schedule(
                at + secs(after),
                Timer::CallReactionHangup { call, channel },
            );
        }
    }

    /// An `on_prompt` reaction's caller hangs up (still on the channel it was on).
    pub(super) fn reaction_hangs_up(&mut self, call: u64, channel: &str) {
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if run.channel != channel || self.channels.get(channel).is_none_or(|c| c.hanging_up) {
            return;
        }
        run.hung_up_by = Some(HungUpBy::Caller);
        self.hangup(channel, 16, HangupHow::Caller);
    }

    /// A wait of the caller's ran out: `wait_agent` with `abandon` hangs up as intended; any other fails
    /// with what had been heard, and the caller gives up (or, off the line, stops waiting).
    pub(super) fn call_timed_out(&mut self, call: u64, generation: u64) {
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if run.generation != generation {
            return;
        }
        let step = run.step;
        match run.scenario.steps.get(step) {
            Some(Step::WaitAgent { abandon: true, .. }) => run.abandoned = true,
            Some(current) => {
                let label = current.label();
                let heard: Vec<&str> = run.heard.iter().map(|h| h.media_uri.as_str()).collect();
                run.failure = Some(format!(
                    "step {} ({label}) timed out; heard so far: [{}]",
                    step + 1,
                    heard.join(", ")
                ));
            }
            None => {}
        }
        let channel = run.channel.clone();
        if self.channels.contains_key(&channel) {
            if let Some(run) = self.calls.get_mut(&call) {
                run.hung_up_by = Some(HungUpBy::Caller);
            }
            self.hangup(&channel, 16, HangupHow::Caller);
        } else {
            let cause = run.last_cause;
            self.finish_call(call, cause);
        }
    }

    /// The caller's channel is gone: a later `await_callback` step takes the call, off the line, to
    /// wait there (unless a step failed); otherwise the call ends.
    pub(super) fn call_channel_ended(&mut self, call: u64, cause: u32) {
        let now = self.now_ms();
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        let from = run.step.min(run.scenario.steps.len());
        let callback = run.scenario.steps[from..]
            .iter()
            .position(|s| matches!(s, Step::AwaitCallback { .. }));
        match callback {
            Some(offset) if run.failure.is_none() => {
                run.step = from + offset;
                run.channel.clear();
                run.wait = CallWait::Nothing;
                run.hung_up_by = None;
                run.last_cause = cause;
                run.offline_since.get_or_insert(now);
                self.advance_call(call);
            }
            _ => self.finish_call(call, cause),
        }
    }

    /// An originate to `user@trunk` for a caller waiting for a call-back: what their phone does with
    /// this attempt (`answers`, the last repeating; none: answered after 1 s), recorded on the call.
    pub(super) fn callback_attempt(
        &mut self,
        user: &str,
        channel_id: &str,
        dialstring: &str,
    ) -> Option<(u64, EndpointBehaviour)> {
        let call = *self.callbacks_waiting.get(&number_key(user))?;
        let now = self.now_ms();
        let run = self.calls.get_mut(&call)?;
        let Some(Step::AwaitCallback { answers, .. }) = run.scenario.steps.get(run.step) else {
            return None;
        };
        let answer = answers
            .get(run.callbacks.len())
            .or(answers.last())
            .cloned()
            .unwrap_or_else(|| EndpointBehaviour::answer(1.0));
        run.callbacks.push(CallbackAttempt {
            channel_id: channel_id.to_owned(),
            dialstring: dialstring.to_owned(),
            at_ms: now.saturating_sub(run.started_ms),
            answer: answer.clone(),
        });
        Some((call, answer))
    }

    /// The call-back's channel `channel` rings for the waiting caller: it is theirs from now on.
    pub(super) fn callback_rings(&mut self, call: u64, channel: &str) {
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        run.channel = channel.to_owned();
        if run.first_channel.is_empty() {
            channel.clone_into(&mut run.first_channel);
        }
        let key = number_key(&run.scenario.caller);
        if self.callbacks_waiting.get(&key) == Some(&call) {
            self.callbacks_waiting.remove(&key);
        }
    }

    /// The caller answered the call-back on `channel`: back on the line, on to the next step.
    pub(super) fn callback_answered(&mut self, channel: &str) {
        let now = self.now_ms();
        let Some(call) = self.channels.get(channel).and_then(|c| c.call) else {
            return;
        };
        let Some(run) = self.calls.get_mut(&call) else {
            return;
        };
        if run.wait != CallWait::Callback {
            return;
        }
        run.answered_ms
            .get_or_insert(now.saturating_sub(run.started_ms));
        if let Some(since) = run.offline_since.take() {
            run.covered.push((since, now));
        }
        run.step += 1;
        run.wait = CallWait::Nothing;
        self.advance_call(call);
    }

    /// Members of mixing bridge `bridge` who are simulated callers now share it with others: they are
    /// on the line (`wait_agent` is over), and whom they met is noted.
    pub(super) fn notify_bridged(&mut self, bridge: &str) {
        let Some(b) = self.bridges.get(bridge) else {
            return;
        };
        if b.bridge_type != "mixing" {
            return;
        }
        let now = self.now_ms();
        let mut connected = Vec::new();
        for member in &b.channels {
            let Some(call) = self.channels.get(member).and_then(|c| c.call) else {
                continue;
            };
            let others = other_parties(b, member, &self.channels);
            let Some(run) = self.calls.get_mut(&call) else {
                continue;
            };
            if others.is_empty() || run.channel != *member {
                continue;
            }
            run.connected_ms
                .get_or_insert(now.saturating_sub(run.started_ms));
            run.bridged_since.get_or_insert(now);
            for name in others {
                if !run.bridged_with.iter().any(|n| n == name) {
                    run.bridged_with.push(name.to_owned());
                }
            }
            if run.wait == CallWait::Agent {
                run.step += 1;
                run.wait = CallWait::Nothing;
                connected.push(call);
            }
        }
        for call in connected {
            self.advance_call(call);
        }
    }
}

impl Model {
    /// Members of bridge `bridge` who are simulated callers and no longer share it with anyone (or
    /// `left`, who just left it): their time on the line with someone ends here.
    pub(super) fn notify_unbridged(&mut self, bridge: &str, left: &str) {
        let now = self.now_ms();
        let alone: Vec<u64> = match self.bridges.get(bridge) {
            Some(b) => b
                .channels
                .iter()
                .filter(|m| other_parties(b, m, &self.channels).is_empty())
                .map(String::as_str)
                .chain(std::iter::once(left))
                .filter_map(|m| self.channels.get(m).and_then(|c| c.call))
                .collect(),
            None => Vec::new(),
        };
        for call in alone {
            if let Some(run) = self.calls.get_mut(&call)
                && let Some(since) = run.bridged_since.take()
            {
                run.covered.push((since, now));
            }
        }
    }
}

/// The names of the channels `channel` shares bridge `b` with, snoops left out.
fn other_parties<'a>(
    b: &Bridge,
    channel: &str,
    channels: &'a HashMap<String, Channel>,
) -> Vec<&'a str> {
    b.channels
        .iter()
        .filter(|m| *m != channel)
        .filter_map(|m| channels.get(m))
        .filter(|c| !matches!(c.kind, Kind::Snoop { .. }))
        .map(|c| c.name.as_str())
        .collect()
}

/// How a caller's number is matched to the number a call-back dials: its last ten digits (an Indian
/// number however it is written: `09816000001`, `+91 98160 00001`), or all of it when shorter.
pub(super) fn number_key(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        number.to_owned()
    } else {
        digits[digits.len().saturating_sub(10)..].to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_by_their_last_ten_digits() {
        assert_eq!(number_key("9816000001"), "9816000001");
        assert_eq!(number_key("+91 98160 00001"), "9816000001");
        assert_eq!(number_key("09816000001"), "9816000001");
        assert_eq!(number_key("1077"), "1077");
        assert_eq!(number_key("sipp"), "sipp");
    }
}
