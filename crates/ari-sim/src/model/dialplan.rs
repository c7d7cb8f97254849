//! The dialplan: running a channel's context from a priority (the applications the simulator knows), its
//! waits, and what a channel hears from its far end.

use super::*;

impl Model {
    pub(super) fn run_dialplan(&mut self, channel: &str) {
        self.run_dialplan_at(channel, 1);
    }

    /// Executes the dialplan from `priority` until an application blocks (Stasis, Wait, Playback) or the
    /// channel hangs up.
    pub(super) fn run_dialplan_at(&mut self, channel: &str, mut priority: u32) {
        loop {
            let Some(c) = self.channels.get(channel) else {
                return;
            };
            let app = self
                .config
                .dialplan
                .get(&c.context)
                .and_then(|ctx| ctx.get(&c.exten))
                .and_then(|apps| apps.get(priority.saturating_sub(1) as usize))
                .cloned();
            let Some(app) = app else {
                // Falling off the end of the extension hangs up.
                self.hangup(channel, 16, HangupHow::Dialplan);
                return;
            };
            let (name, raw_data) = app.name_and_data();
            let data = substitute(&raw_data, c);
            let Some(c) = self.channels.get_mut(channel) else {
                return;
            };
            c.priority = priority;
            c.app_name = name.to_owned();
            c.app_data = data.clone();
            self.emit_channel(
                channel,
                "ChannelDialplan",
                json!({"dialplan_app": name, "dialplan_app_data": data}),
            );
            match app {
                DialplanApp::NoOp { .. } => {}
                DialplanApp::Stasis { name, args } => {
                    self.emit_varset(channel, "STASISSTATUS", "");
                    if self.enter_stasis(channel, &name, args, true) {
                        return;
                    }
                    if let Some(c) = self.channels.get_mut(channel) {
                        c.vars
                            .insert("STASISSTATUS".to_owned(), "FAILED".to_owned());
                    }
                    self.emit_varset(channel, "STASISSTATUS", "FAILED");
                }
                DialplanApp::Set { name, value } => {
                    let value = match self.channels.get(channel) {
                        Some(c) => substitute(&value, c),
                        None => return,
                    };
                    self.set_channel_variable(channel, &name, value);
                }
                DialplanApp::Answer => self.answer(channel),
                DialplanApp::Ringing => self.ring(channel),
                DialplanApp::Wait { seconds } => {
                    self.dialplan_wait(channel, (seconds * 1000.0) as u64);
                    return;
                }
                DialplanApp::Playback { sound } => {
                    self.answer(channel);
                    let lang = self
                        .channels
                        .get(channel)
                        .map(|c| c.language.clone())
                        .unwrap_or_default();
                    let duration = self.sounds.sound(&sound, &lang).map(|s| {
                        self.hear_from(channel, Some(s.audio.clone()));
                        s.duration_ms
                    });
                    // A simulated caller hears dialplan prompts too (as `sound:<name>`).
                    let pseudo_id = format!("dialplan-{channel}-{priority}");
                    self.notify_call_heard(channel, &pseudo_id, &format!("sound:{sound}"));
                    if duration.is_none() {
                        self.notify_call_finished(channel, &pseudo_id, "failed");
                    }
                    if let Some(c) = self.channels.get_mut(channel) {
                        let status = if duration.is_some() {
                            "SUCCESS"
                        } else {
                            "FAILED"
                        };
                        c.vars
                            .insert("PLAYBACKSTATUS".to_owned(), status.to_owned());
                    }
                    if let Some(ms) = duration {
                        self.dialplan_wait(channel, ms);
                        return;
                    }
                    self.emit_varset(channel, "PLAYBACKSTATUS", "FAILED");
                }
                DialplanApp::Hangup => {
                    self.hangup(channel, 16, HangupHow::Dialplan);
                    return;
                }
            }
            priority += 1;
        }
    }

    pub(super) fn dialplan_wait(&mut self, channel: &str, ms: u64) {
        let generation = self.generation();
        if let Some(c) = self.channels.get_mut(channel) {
            c.dialplan_generation = generation;
        }
        self.schedule(
            ms,
            Timer::DialplanNext {
                channel: channel.to_owned(),
                generation,
            },
        );
    }

    // ----- audio flow -----

    /// The audio `channel` sends (a playback on it, or nothing) reaches whoever is at its far end: the Local
    /// peer, or the other members of its bridge.
    pub(super) fn hear_from(&mut self, channel: &str, audio: Option<Audio>) {
        let mut listeners = Vec::new();
        if let Some((peer, _)) = self.local_peer(channel) {
            listeners.push(peer);
        }
        for listener in listeners {
            self.set_inbound(&listener, audio.clone());
        }
    }

    /// What `channel` hears changed; recordings of it (or of its bridge) follow.
    pub(super) fn set_inbound(&mut self, channel: &str, audio: Option<Audio>) {
        let now = self.now_ms();
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        c.inbound = audio.clone().map(|a| (now, a, 0));
        let inbound = c.inbound.clone();
        let snoops = c.snoops.clone();
        let mut recs = Vec::new();
        if let Some(r) = &c.recording {
            recs.push(r.clone());
        }
        if let Some(b) = c.bridge.as_ref().and_then(|b| self.bridges.get(b))
            && let Some(r) = &b.recording
        {
            recs.push(r.clone());
        }
        for rec in recs {
            self.recording_voice(&rec, channel, inbound.clone(), now);
        }
        // A snoop spying on what the channel sends hears it too.
        for snoop in snoops {
            let spies = self.channels.get(&snoop).is_some_and(
                |s| matches!(&s.kind, Kind::Snoop { spy, .. } if spy == "in" || spy == "both"),
            );
            if spies {
                self.set_inbound(&snoop, audio.clone());
            }
        }
    }
}
