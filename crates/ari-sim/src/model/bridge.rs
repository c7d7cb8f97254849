//! Snoop channels and bridges: creation, members entering and leaving (with `BRIDGEPEER`), destruction.

use super::*;

impl Model {
    // ----- snoop -----

    pub(super) fn snoop(&mut self, target: &str, id: Option<String>, p: Params) -> RestReply {
        let Some(app) = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "app is required");
        };
        for (name, value) in [("spy", p.get("spy")), ("whisper", p.get("whisper"))] {
            if let Some(v) = value
                && !matches!(v, "none" | "both" | "out" | "in")
            {
                return RestReply::error(400, &format!("Invalid {name} direction"));
            }
        }
        if !self.channels.contains_key(target) {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        }
        let id = id.unwrap_or_else(|| self.new_unique_id());
        if self.channels.contains_key(&id) {
            return RestReply::error(409, "Channel with given unique ID already exists");
        }
        // Asterisk numbers snoop channels from 0, across every channel spied on.
        let seq = self.snoop_seq;
        self.snoop_seq = self.snoop_seq.wrapping_add(1);
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let lang = self.config.default_language.clone();
        let mut chan = self.new_channel(
            id.clone(),
            format!("Snoop/{target}-{seq:08x}"),
            "Up",
            (String::new(), String::new()),
            (String::new(), String::new()),
            "default",
            "s",
            Kind::Snoop {
                target: target.to_owned(),
                spy: p.get("spy").unwrap_or("none").to_owned(),
            },
            &lang,
        );
        chan.instance = self.generation();
        // The reply shows the snoop as it was made; in Stasis it runs `Stasis(app,args)`.
        let reply = channel_json(&chan);
        chan.app_name = "Stasis".to_owned();
        chan.app_data = std::iter::once(app.clone())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(",");
        self.channels.insert(id.clone(), chan);
        if let Some(t) = self.channels.get_mut(target) {
            t.snoops.push(id.clone());
        }
        let spy = p.get("spy").unwrap_or("none");
        if spy == "in" || spy == "both" {
            let heard = self
                .channels
                .get(target)
                .and_then(|t| t.inbound.as_ref().map(|(_, a, _)| a.clone()));
            self.set_inbound(&id, heard);
        }
        // Audiohooks on the spied channel make its bridge re-read its peers.
        if let Some(bridge) = self.channels.get(target).and_then(|t| t.bridge.clone()) {
            self.update_bridge_peers(&bridge);
        }
        if !self.enter_stasis(&id, &app, args, false) {
            // No app to hand the snoop to: Asterisk tears it down at once.
            self.channels.remove(&id);
            if let Some(t) = self.channels.get_mut(target) {
                t.snoops.retain(|s| *s != id);
            }
            return RestReply::json(500, json!({"error": "Allocation failed"}));
        }
        RestReply::json(200, reply)
    }

    // ----- bridges -----

    pub(super) fn create_bridge(&mut self, id: Option<String>, p: Params) -> RestReply {
        let id = id.unwrap_or_else(|| new_uuid(&mut self.unique_seq));
        let types = p.get("type").unwrap_or("mixing");
        let holding = types.split(',').any(|t| t == "holding");
        for t in types.split(',') {
            if !matches!(
                t,
                "mixing"
                    | "holding"
                    | "dtmf_events"
                    | "proxy_media"
                    | "video_sfu"
                    | "video_single"
                    | "sdp_label"
            ) {
                return RestReply::error(400, "Invalid bridge type");
            }
        }
        if let Some(b) = self.bridges.get(&id) {
            // Asterisk answers an existing id with the bridge (update semantics).
            return RestReply::json(200, bridge_json(b));
        }
        let bridge = Bridge {
            id: id.clone(),
            name: p.get("name").unwrap_or_default().to_owned(),
            bridge_type: if holding { "holding" } else { "mixing" }.to_owned(),
            technology: if holding {
                "holding_bridge"
            } else {
                "simple_bridge"
            },
            channels: Vec::new(),
            creationtime: self.now_stamp(),
            subscribers: Vec::new(),
            recording: None,
            playing: None,
            queue: VecDeque::new(),
            moh: None,
        };
        let reply = bridge_json(&bridge);
        self.bridges.insert(id, bridge);
        RestReply::json(200, reply)
    }

    pub(super) fn destroy_bridge(&mut self, id: &str) -> RestReply {
        let Some(b) = self.bridges.get(id) else {
            return RestReply::error(404, "Bridge not found");
        };
        for c in b.channels.clone() {
            self.bridge_leave(id, &c);
        }
        if let Some(rec) = self.bridges.get(id).and_then(|b| b.recording.clone()) {
            self.finish_recording(&rec, RecordingEnd::Done);
        }
        if let Some(b) = self.bridges.get_mut(id) {
            let queued: Vec<String> = b.queue.drain(..).collect();
            for pb in queued {
                self.playbacks.remove(&pb);
            }
        }
        if let Some(pb) = self.bridges.get(id).and_then(|b| b.playing.clone()) {
            self.finish_playback(&pb, "done", false);
        }
        if let Some(b) = self.bridges.remove(id) {
            let apps = b.subscribers.clone();
            self.emit(
                &apps,
                json!({"type": "BridgeDestroyed", "bridge": bridge_json(&b)}),
            );
        }
        RestReply::empty()
    }

    pub(super) fn bridge_add(&mut self, id: &str, p: Params) -> RestReply {
        let Some(list) = p.get("channel").filter(|c| !c.is_empty()) else {
            return RestReply::error(400, "channel is required");
        };
        if !self.bridges.contains_key(id) {
            return RestReply::error(404, "Bridge not found");
        }
        let ids: Vec<String> = list.split(',').map(str::to_owned).collect();
        for cid in &ids {
            match self.channels.get(cid) {
                None => return RestReply::error(400, "Channel not found"),
                Some(c) if c.stasis.is_none() => return RestReply::error(422, NOT_IN_STASIS),
                Some(_) => {}
            }
        }
        for cid in ids {
            if let Some(old) = self.channels.get(&cid).and_then(|c| c.bridge.clone()) {
                if old == id {
                    continue;
                }
                self.bridge_leave(&old, &cid);
            }
            let app = self.channels.get(&cid).and_then(|c| c.stasis.clone());
            let Some(b) = self.bridges.get_mut(id) else {
                break;
            };
            b.channels.push(cid.clone());
            if let Some(app) = app
                && !b.subscribers.contains(&app)
            {
                b.subscribers.push(app);
            }
            let apps = b.subscribers.clone();
            let bridge = bridge_json(b);
            if let Some(c) = self.channels.get_mut(&cid) {
                c.bridge = Some(id.to_owned());
            }
            let event = json!({"type": "ChannelEnteredBridge", "bridge": bridge, "channel": self.channel_json(&cid)});
            self.emit(&apps, event);
            self.update_bridge_peers(id);
            // Three or more in a mixing bridge: Asterisk moves it from the two-party technology to
            // softmix (and leaves it there).
            if let Some(b) = self.bridges.get_mut(id)
                && b.bridge_type == "mixing"
                && b.channels.len() >= 3
            {
                b.technology = "softmix";
            }
            self.refresh_moh(&cid);
            self.notify_bridged(id);
            // A recording of the bridge hears the newcomer from now on.
            let inbound = self.channels.get(&cid).and_then(|c| c.inbound.clone());
            if let Some(rec) = self.bridges.get(id).and_then(|b| b.recording.clone()) {
                let now = self.now_ms();
                self.recording_voice(&rec, &cid, inbound, now);
            }
        }
        RestReply::empty()
    }

    pub(super) fn bridge_remove_rest(&mut self, id: &str, p: Params) -> RestReply {
        let Some(list) = p.get("channel").filter(|c| !c.is_empty()) else {
            return RestReply::error(400, "channel is required");
        };
        let Some(b) = self.bridges.get(id) else {
            return RestReply::error(404, "Bridge not found");
        };
        let ids: Vec<String> = list.split(',').map(str::to_owned).collect();
        for cid in &ids {
            if !self.channels.contains_key(cid) {
                return RestReply::error(400, "Channel not found");
            }
            if !b.channels.contains(cid) {
                return RestReply::error(422, "Channel not in this bridge");
            }
        }
        for cid in ids {
            self.bridge_leave(id, &cid);
        }
        RestReply::empty()
    }

    pub(super) fn bridge_leave(&mut self, id: &str, channel: &str) {
        let Some(b) = self.bridges.get_mut(id) else {
            return;
        };
        if !b.channels.iter().any(|c| c == channel) {
            return;
        }
        b.channels.retain(|c| c != channel);
        let apps = b.subscribers.clone();
        let bridge = bridge_json(b);
        let empty = b.channels.is_empty();
        let recording = b.recording.clone();
        if let Some(c) = self.channels.get_mut(channel) {
            c.bridge = None;
        }
        self.set_bridge_var(channel, "BRIDGEPEER", None);
        self.set_bridge_var(channel, "BRIDGEPVTCALLID", None);
        let event = json!({"type": "ChannelLeftBridge", "bridge": bridge, "channel": self.channel_json(channel)});
        self.emit(&apps, event);
        if let Some(rec) = &recording {
            let now = self.now_ms();
            self.recording_voice(rec, channel, None, now);
        }
        self.update_bridge_peers(id);
        self.refresh_moh(channel);
        self.notify_unbridged(id, channel);
        if empty && let Some(rec) = recording {
            // A bridge recording ends when the last channel leaves.
            self.finish_recording(&rec, RecordingEnd::Done);
        }
        if empty
            && let Some(b) = self.bridges.get_mut(id)
            && b.bridge_type == "holding"
        {
            // Captured: a holding bridge left empty is no longer the app's; deleting it later raises
            // no `BridgeDestroyed`.
            b.subscribers.clear();
        }
    }

    /// Asterisk re-reads a bridge's peers whenever it changes (a member joins or leaves, a snoop attaches
    /// to one, a phone holds, music on hold joins): every member of a mixing bridge of two or more is set
    /// `BRIDGEPEER` (the other's name, or the others' comma-separated, the latest to join first) and
    /// `BRIDGEPVTCALLID` (the other's SIP Call-ID in a two-party bridge, else cleared), each set published
    /// even when unchanged. A holding bridge, or one member alone, sets nothing.
    pub(super) fn update_bridge_peers(&mut self, id: &str) {
        let Some(b) = self.bridges.get(id) else {
            return;
        };
        if b.bridge_type == "holding" {
            return;
        }
        let members = b.channels.clone();
        let announcer = b.moh.as_ref().map(|(_, name)| name.clone());
        if members.len() + usize::from(announcer.is_some()) < 2 {
            return;
        }
        let names: Vec<(String, Option<String>)> = members
            .iter()
            .map(|m| match self.channels.get(m) {
                Some(c) => (c.name.clone(), pvt_call_id(c)),
                None => (String::new(), None),
            })
            .collect();
        let last = members.len().saturating_sub(1);
        for (index, member) in members.iter().enumerate() {
            let others: Vec<usize> = std::iter::once(last)
                .chain(0..last)
                .filter(|o| *o != index)
                .collect();
            let mut peers: Vec<&str> = announcer.iter().map(String::as_str).collect();
            peers.extend(others.iter().map(|o| names[*o].0.as_str()));
            let value = peers.join(",");
            let pvt = match (announcer.is_none(), others.as_slice()) {
                (true, [other]) => names[*other].1.clone(),
                _ => None,
            };
            self.set_bridge_var(member, "BRIDGEPEER", Some(value));
            self.set_bridge_var(member, "BRIDGEPVTCALLID", pvt);
        }
    }

    /// `pbx_builtin_setvar_helper` for the bridge variables: a value is set and published; none deletes
    /// the variable, published as `""` only when it had a value.
    pub(super) fn set_bridge_var(&mut self, channel: &str, var: &str, value: Option<String>) {
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        match value {
            Some(value) => {
                self.emit_varset(channel, var, &value);
                if let Some(c) = self.channels.get_mut(channel) {
                    c.vars.insert(var.to_owned(), value);
                }
            }
            None => {
                let had_value = c.vars.remove(var).is_some_and(|v| !v.is_empty());
                if had_value {
                    self.emit_varset(channel, var, "");
                }
            }
        }
    }
}

/// What `BRIDGEPVTCALLID` tells a channel's bridge peer about it: a SIP channel's Call-ID.
fn pvt_call_id(c: &Channel) -> Option<String> {
    (c.kind == Kind::Sip && !c.protocol_id.is_empty()).then(|| c.protocol_id.clone())
}
