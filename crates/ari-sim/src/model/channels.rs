//! Channels: new ones (from a caller, originated, Local pairs), ringing, answer, Stasis entry and exit,
//! hangup and destruction, and the REST operations that move a channel on (continue, move, redirect).

use super::*;

impl Model {
    pub(super) fn new_unique_id(&mut self) -> String {
        self.unique_seq += 1;
        let epoch = self.wall_start.timestamp() + (self.now_ms() / 1000) as i64;
        format!("{epoch}.{}", self.unique_seq)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_channel(
        &self,
        id: String,
        name: String,
        state: &'static str,
        caller: (String, String),
        connected: (String, String),
        context: &str,
        exten: &str,
        kind: Kind,
        language: &str,
    ) -> Channel {
        Channel {
            id,
            name,
            state,
            protocol_id: String::new(),
            caller,
            connected,
            creationtime: self.now_stamp(),
            language: language.to_owned(),
            context: context.to_owned(),
            exten: exten.to_owned(),
            priority: 1,
            app_name: String::new(),
            app_data: String::new(),
            vars: HashMap::new(),
            kind,
            subscribers: Vec::new(),
            local_subscribers: Vec::new(),
            stasis: None,
            dialplan_stasis: false,
            origin: None,
            playing: None,
            queue: VecDeque::new(),
            recording: None,
            held_dtmf: Vec::new(),
            inbound: None,
            bridge: None,
            call: None,
            dialplan_generation: 0,
            snoops: Vec::new(),
            moh: None,
            moh_heard: false,
            muted: false,
            on_hold: false,
            progress_reported: false,
            hanging_up: false,
            stasis_status_pending: false,
            instance: 0,
        }
    }

    pub(super) fn originate(
        &mut self,
        id: Option<String>,
        p: Params,
        body: Option<Value>,
    ) -> RestReply {
        let Some(endpoint) = p.get("endpoint").filter(|e| !e.is_empty()) else {
            return RestReply::error(400, "Endpoint must be specified");
        };
        let app = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned);
        let extension = p
            .get("extension")
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        if app.is_none() && extension.is_none() {
            return RestReply::error(400, "Application or extension must be specified");
        }
        let timeout_s: i64 = match p.get("timeout").map(str::parse::<i64>) {
            None => 30,
            Some(Ok(t)) => t,
            Some(Err(_)) => return RestReply::error(400, "timeout must be an integer"),
        };
        let priority: u32 = match p.get("priority").map(str::parse::<u32>) {
            None => 1,
            Some(Ok(pr)) => pr,
            Some(Err(_)) => return RestReply::error(400, "priority must be an integer"),
        };
        let id = id.unwrap_or_else(|| self.new_unique_id());
        let other_id = p.get("otherChannelId").map(str::to_owned);
        if self.channels.contains_key(&id)
            || other_id
                .as_ref()
                .is_some_and(|o| self.channels.contains_key(o))
        {
            return RestReply::error(409, "Channel with given unique ID already exists");
        }
        let caller = p
            .get("callerId")
            .map(wire::parse_caller_id)
            .unwrap_or_default();
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let variables: Vec<(String, String)> = body
            .as_ref()
            .and_then(|b| b.get("variables"))
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let dialplan = extension.map(|e| {
            (
                p.get("context").unwrap_or("default").to_owned(),
                e,
                priority,
            )
        });
        let lang = self.config.default_language.clone();
        let (tech, rest) = endpoint.split_once('/').unwrap_or((endpoint, ""));
        let origin = Origin {
            app: app.clone(),
            args,
            dialplan,
            dialstring: rest.to_owned(),
            answered: false,
            phone: None,
        };
        let subscriber: Vec<String> = app.iter().cloned().collect();
        if tech.eq_ignore_ascii_case("Local") {
            let target = rest.trim_end_matches("/n");
            let (exten, context) = target.split_once('@').unwrap_or((target, "default"));
            let exists = self
                .config
                .dialplan
                .get(context)
                .is_some_and(|c| c.contains_key(exten));
            if !exists {
                return RestReply::json(500, json!({"error": "Allocation failed"}));
            }
            self.local_seq += 1;
            let base = format!("Local/{exten}@{context}-{:08x}", self.local_seq);
            let id2 = other_id.unwrap_or_else(|| format!("{id};2"));
            let mut one = self.new_channel(
                id.clone(),
                format!("{base};1"),
                "Down",
                caller.clone(),
                caller.clone(),
                context,
                exten,
                Kind::Local {
                    peer: id2.clone(),
                    half: 1,
                },
                &lang,
            );
            one.app_name = "AppDial2".to_owned();
            one.app_data = "(Outgoing Line)".to_owned();
            one.subscribers = subscriber.clone();
            one.origin = Some(origin);
            for (k, v) in &variables {
                one.vars.insert(k.clone(), v.clone());
            }
            let mut two = self.new_channel(
                id2.clone(),
                format!("{base};2"),
                "Ring",
                caller.clone(),
                caller.clone(),
                context,
                exten,
                Kind::Local {
                    peer: id.clone(),
                    half: 1 + 1,
                },
                &lang,
            );
            two.local_subscribers = subscriber.clone();
            two.subscribers = subscriber;
            let created = channel_json(&one);
            self.channels.insert(id.clone(), one);
            self.channels.insert(id2.clone(), two);
            if p.get("callerId").is_some() {
                self.emit_channel(
                    &id2,
                    "ChannelCallerId",
                    json!({"caller_presentation": 0, "caller_presentation_txt": "Presentation Allowed, Not Screened"}),
                );
                self.emit_channel(&id2, "ChannelConnectedLine", json!({}));
            }
            self.emit_dial(&id, "");
            if timeout_s > 0 {
                self.schedule(
                    timeout_s as u64 * 1000,
                    Timer::OriginateTimeout {
                        channel: id.clone(),
                    },
                );
            }
            self.run_dialplan(&id2);
            // Asterisk answers with the channel as it was created, whatever the dialplan did meanwhile.
            RestReply::json(200, created)
        } else {
            let request = Originate {
                id,
                caller,
                origin,
                variables,
                timeout_s,
            };
            self.originate_phone(tech, rest, request)
        }
    }

    /// A `Dial` event about an originated channel, to the originating app.
    pub(super) fn emit_dial(&mut self, channel: &str, status: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        let Some(origin) = &c.origin else { return };
        let apps = c.subscribers.clone();
        let event = json!({"type": "Dial", "dialstatus": status, "forward": "", "dialstring": origin.dialstring,
                           "peer": channel_json(c)});
        self.emit(&apps, event);
    }

    pub(super) fn set_state(&mut self, channel: &str, state: &'static str) {
        let changed = match self.channels.get_mut(channel) {
            Some(c) if c.state != state => {
                c.state = state;
                true
            }
            _ => false,
        };
        if changed {
            self.emit_state_change(channel);
        }
    }

    pub(super) fn local_peer(&self, channel: &str) -> Option<(String, u8)> {
        match &self.channels.get(channel)?.kind {
            Kind::Local { peer, half } => Some((peer.clone(), *half)),
            _ => None,
        }
    }

    /// Rings: on a Local `;2`, the `;1` side hears ringing.
    pub(super) fn ring(&mut self, channel: &str) {
        if let Some((peer, 2)) = self.local_peer(channel)
            && self.channels.get(&peer).is_some_and(|c| c.state == "Down")
        {
            self.set_state(&peer, "Ringing");
            self.emit_dial(&peer, "RINGING");
        }
    }

    /// Media on an unanswered Local `;2` is early media: the `;1` side's dial reports `PROGRESS` (once).
    pub(super) fn early_media(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.state == "Up" {
            return;
        }
        if let Some((peer, 2)) = self.local_peer(channel)
            && let Some(p) = self.channels.get_mut(&peer)
            && !p.progress_reported
        {
            p.progress_reported = true;
            self.emit_dial(&peer, "PROGRESS");
        }
    }

    /// Answers a channel; on a Local `;2` this answers the `;1` side too, which then enters its app.
    pub(super) fn answer(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.state == "Up" {
            return;
        }
        self.set_state(channel, "Up");
        let now = self.now_ms();
        if let Some(call) = self.channels.get(channel).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
            && run.answered_ms.is_none()
        {
            run.answered_ms = Some(now.saturating_sub(run.started_ms));
        }
        if let Some((peer, 2)) = self.local_peer(channel) {
            self.originated_answered(&peer);
        }
    }

    /// An originated channel was answered by the far end: `Up`, `Dial ANSWER`, then Stasis or dialplan.
    pub(super) fn originated_answered(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.origin.as_ref().is_none_or(|o| o.answered) {
            return;
        }
        self.set_state(channel, "Up");
        self.emit_dial(channel, "ANSWER");
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        let Some(origin) = c.origin.as_mut() else {
            return;
        };
        origin.answered = true;
        let origin = origin.clone();
        if let Some(app) = origin.app {
            let mut data = app.clone();
            for a in &origin.args {
                data.push(',');
                data.push_str(a);
            }
            c.app_name = "Stasis".to_owned();
            c.app_data = data;
            self.emit_varset(channel, "STASISSTATUS", "");
            self.enter_stasis(channel, &app, origin.args.clone(), false);
            self.phone_answered(channel);
            self.callback_answered(channel);
        } else if let Some((context, exten, priority)) = origin.dialplan {
            c.context = context;
            c.exten = exten;
            c.priority = priority;
            self.phone_answered(channel);
            self.callback_answered(channel);
            self.run_dialplan_at(channel, priority);
        }
    }

    pub(super) fn enter_stasis(
        &mut self,
        channel: &str,
        app: &str,
        args: Vec<String>,
        from_dialplan: bool,
    ) -> bool {
        if !self.app_connected(app) {
            return false;
        }
        let Some(c) = self.channels.get_mut(channel) else {
            return false;
        };
        c.stasis = Some(app.to_owned());
        c.dialplan_stasis = from_dialplan;
        if !c.subscribers.iter().any(|s| s == app) {
            c.subscribers.push(app.to_owned());
        }
        let event = json!({"type": "StasisStart", "args": args, "channel": channel_json(c)});
        self.emit(&[app.to_owned()], event);
        true
    }

    /// Leaves Stasis: `StasisEnd` to the app (which then hears nothing more of the channel), then
    /// `STASISSTATUS=SUCCESS` to whoever else listens.
    pub(super) fn leave_stasis(&mut self, channel: &str, into_dialplan: bool) {
        let Some(c) = self.channels.get_mut(channel) else {
            return;
        };
        let Some(app) = c.stasis.take() else { return };
        let event = json!({"type": "StasisEnd", "channel": channel_json(c)});
        // The app that originated the channel keeps hearing it (up to ChannelDestroyed); an app that only
        // had it through Stasis hears nothing more.
        if c.origin.as_ref().and_then(|o| o.app.as_deref()) != Some(app.as_str())
            && !c.local_subscribers.contains(&app)
        {
            c.subscribers.retain(|s| *s != app);
        }
        // An originated channel sent on into the dialplan reports its status when that ends.
        let deferred = into_dialplan && !c.dialplan_stasis && c.origin.is_some();
        c.stasis_status_pending |= deferred;
        self.emit(&[app], event);
        if !deferred {
            self.emit_varset(channel, "STASISSTATUS", "SUCCESS");
        }
    }

    pub(super) fn rest_hangup(&mut self, id: &str, p: Params) -> RestReply {
        if !self.channels.contains_key(id) {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        }
        let cause = if let Some(code) = p.get("reason_code") {
            match code.parse::<u32>() {
                Ok(c) => c,
                Err(_) => return RestReply::error(400, "Invalid reason_code"),
            }
        } else if let Some(reason) = p.get("reason") {
            match wire::reason_cause(reason) {
                Some(c) => c,
                None => return RestReply::error(400, "Invalid reason for hangup provided"),
            }
        } else {
            16
        };
        self.hangup(id, cause, HangupHow::Rest);
        RestReply::empty()
    }

    /// Hangs a channel up with everything Asterisk reports on the way (request, media ending, leaving its
    /// bridge and Stasis, destruction), then its Local peer and snoops.
    pub(super) fn hangup(&mut self, id: &str, cause: u32, how: HangupHow) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        if c.hanging_up {
            return;
        }
        c.hanging_up = true;
        let c = &*c;
        let kind = c.kind.clone();
        let snoops = c.snoops.clone();
        let unanswered_origin = c.origin.as_ref().is_some_and(|o| !o.answered);
        if let Some(run) = c.call.and_then(|call| self.calls.get_mut(&call))
            && run.hung_up_by.is_none()
        {
            run.hung_up_by = Some(match how {
                HangupHow::Caller => HungUpBy::Caller,
                _ => HungUpBy::Network,
            });
        }
        let is_local_two = matches!(kind, Kind::Local { half: 2, .. });
        let is_sip = kind == Kind::Sip;
        // An answered outbound PJSIP leg reports its RTP statistics before Asterisk's BYE (the inbound
        // simulated citizen's channel, not captured so, does not).
        let outbound_sip_up = is_sip && c.state == "Up" && c.origin.is_some();
        let tech_cause = match how {
            HangupHow::Sip { tech_cause } => Some(tech_cause),
            // The originate gave up on a PJSIP phone: Asterisk CANCELs it (480).
            HangupHow::Timeout if is_sip => Some(480),
            _ => None,
        };
        match how {
            HangupHow::Rest => {
                if outbound_sip_up {
                    self.emit_rtp_qos(id);
                }
                self.emit_channel(
                    id,
                    "ChannelHangupRequest",
                    json!({"cause": 32, "soft": true}),
                );
            }
            HangupHow::Caller => {
                self.emit_rtp_qos(id);
                self.emit_channel(id, "ChannelHangupRequest", json!({}));
            }
            HangupHow::Peer => {
                self.emit_channel(id, "ChannelHangupRequest", json!({"cause": cause}))
            }
            HangupHow::Timeout => {
                if is_local_two {
                    self.emit_channel(id, "ChannelHangupRequest", json!({"cause": cause}));
                }
            }
            // A PJSIP channel's `Hangup()` ends it without a hangup request; its STASISSTATUS (if it
            // continued from Stasis) and RTP statistics come first.
            HangupHow::Dialplan if is_sip => {
                self.flush_stasis_status(id);
                if outbound_sip_up {
                    self.emit_rtp_qos(id);
                }
            }
            HangupHow::Dialplan => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "soft": true}),
            ),
            HangupHow::Sip { tech_cause } => self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "tech_cause": tech_cause}),
            ),
        }
        if unanswered_origin {
            match how {
                HangupHow::Rest | HangupHow::Peer => self.emit_dial(id, "NOANSWER"),
                HangupHow::Sip { .. } => self.emit_dial(id, dial_status(cause)),
                _ => {}
            }
        }
        if let Some(c) = self.channels.get_mut(id) {
            c.dialplan_generation += 1;
            if let Some(o) = c.origin.as_mut() {
                o.answered = true;
            }
        }
        // Media on the channel ends: playbacks fail, a recording keeps what it has.
        self.end_channel_media(id);
        if let Some(bridge) = self.channels.get(id).and_then(|c| c.bridge.clone()) {
            self.bridge_leave(&bridge, id);
        }
        if self.channels.get(id).is_some_and(|c| c.stasis.is_some()) {
            self.leave_stasis(id, false);
        }
        self.flush_stasis_status(id);
        for snoop in snoops {
            self.hangup(&snoop, 16, HangupHow::Peer);
        }
        if is_local_two && how != HangupHow::Dialplan {
            // The Local channel's own dialplan side hangs up after Stasis returns.
            self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": 16, "soft": true}),
            );
        }
        let destroy_cause = match how {
            HangupHow::Caller => 16,
            _ => cause,
        };
        self.destroy(id, destroy_cause, tech_cause);
        if let Kind::Local { peer, .. } = kind
            && self.channels.contains_key(&peer)
        {
            if how == HangupHow::Timeout {
                self.hangup(&peer, cause, HangupHow::Timeout);
            } else {
                self.hangup(&peer, 16, HangupHow::Peer);
            }
        }
    }

    /// Fails the channel's playbacks, finishes its recording, removes held DTMF.
    pub(super) fn end_channel_media(&mut self, id: &str) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        let playing = c.playing.take();
        let queued: Vec<String> = c.queue.drain(..).collect();
        let recording = c.recording.take();
        c.held_dtmf.clear();
        if let Some(pb) = playing {
            let stuck = self.playbacks.get(&pb).is_some_and(|p| p.stuck);
            if stuck {
                self.playbacks.remove(&pb);
            } else {
                self.finish_playback(&pb, "failed", false);
            }
        }
        for pb in queued {
            self.playbacks.remove(&pb);
        }
        if let Some(name) = recording {
            self.finish_recording(&name, RecordingEnd::Done);
        }
    }

    /// An originated channel continued into the dialplan reports `STASISSTATUS=SUCCESS` as it ends.
    pub(super) fn flush_stasis_status(&mut self, id: &str) {
        if let Some(c) = self.channels.get_mut(id)
            && std::mem::take(&mut c.stasis_status_pending)
        {
            self.emit_varset(id, "STASISSTATUS", "SUCCESS");
        }
    }

    pub(super) fn destroy(&mut self, id: &str, cause: u32, tech_cause: Option<u32>) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        // An originated channel ends back in its dialing application.
        if c.origin.is_some() {
            "AppDial2".clone_into(&mut c.app_name);
            "(Outgoing Line)".clone_into(&mut c.app_data);
        } else {
            c.app_name.clear();
            c.app_data.clear();
        }
        let mut extra = json!({"cause": cause, "cause_txt": cause_txt(cause)});
        if let Some(tech_cause) = tech_cause {
            extra["tech_cause"] = json!(tech_cause);
        }
        self.emit_channel(id, "ChannelDestroyed", extra);
        let Some(c) = self.channels.remove(id) else {
            return;
        };
        for snoop in &c.snoops {
            self.hangup(snoop, 16, HangupHow::Peer);
        }
        if let Kind::Snoop { target, .. } = &c.kind
            && let Some(t) = self.channels.get_mut(target)
        {
            t.snoops.retain(|s| s != id);
        }
        if let Some(call) = c.call {
            self.call_channel_ended(call, cause);
        }
    }

    pub(super) fn continue_dialplan(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if c.stasis.is_none() {
            return RestReply::error(409, NOT_IN_STASIS);
        }
        let priority = match p.get("priority").map(str::parse::<u32>) {
            None => None,
            Some(Ok(pr)) => Some(pr),
            Some(Err(_)) => return RestReply::error(400, "priority must be an integer"),
        };
        let context = p.get("context").map(str::to_owned);
        let extension = p.get("extension").map(str::to_owned);
        // Sent to another context (a transfer to another helpline, an agent queue): out of the IVR.
        let now = self.now_ms();
        if let Some(ctx) = &context
            && let Some(call) = c.call
            && let Some(run) = self.calls.get_mut(&call)
            && *ctx != run.scenario.context
        {
            run.left_ms.get_or_insert(now);
        }
        self.leave_stasis(id, true);
        let Some(c) = self.channels.get_mut(id) else {
            return RestReply::empty();
        };
        let next = if context.is_some() || extension.is_some() {
            if let Some(ctx) = context {
                c.context = ctx;
            }
            if let Some(ext) = extension {
                c.exten = ext;
            }
            priority.unwrap_or(1)
        } else {
            priority.unwrap_or(c.priority + 1)
        };
        self.run_dialplan_at(id, next);
        RestReply::empty()
    }

    /// Moves a channel from its Stasis app to another one.
    pub(super) fn move_channel(&mut self, id: &str, p: Params) -> RestReply {
        let Some(app) = p.get("app").filter(|a| !a.is_empty()).map(str::to_owned) else {
            return RestReply::error(400, "app is required");
        };
        match self.channels.get(id) {
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
            Some(_) => {}
        }
        if !self.app_connected(&app) {
            return RestReply::error(422, "Application not found");
        }
        let args: Vec<String> = p
            .get("appArgs")
            .filter(|a| !a.is_empty())
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let from_dialplan = self.channels.get(id).is_some_and(|c| c.dialplan_stasis);
        let Some(c) = self.channels.get_mut(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        if let Some(old) = c.stasis.take() {
            let event = json!({"type": "StasisEnd", "channel": channel_json(c)});
            if c.origin.as_ref().and_then(|o| o.app.as_deref()) != Some(old.as_str())
                && !c.local_subscribers.contains(&old)
            {
                c.subscribers.retain(|s| *s != old);
            }
            self.emit(&[old], event);
        }
        self.enter_stasis(id, &app, args, from_dialplan);
        RestReply::empty()
    }

    /// Redirects (transfers) a channel to another endpoint: it leaves Stasis and this Asterisk.
    pub(super) fn redirect(&mut self, id: &str, p: Params) -> RestReply {
        let Some(endpoint) = p
            .get("endpoint")
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
        else {
            return RestReply::error(400, "Required parameter 'endpoint' not provided");
        };
        match self.channels.get(id) {
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => return RestReply::error(409, NOT_IN_STASIS),
            Some(_) => {}
        }
        let Some((tech, resource)) = endpoint
            .split_once('/')
            .filter(|(t, r)| !t.is_empty() && !r.is_empty())
        else {
            return RestReply::error(
                400,
                &format!("Endpoint parameter '{endpoint}' does not contain tech/resource"),
            );
        };
        let (channel_tech, is_sip) = match self.channels.get(id) {
            Some(c) => (
                c.name.split('/').next().unwrap_or_default().to_owned(),
                c.kind == Kind::Sip,
            ),
            None => return RestReply::error(404, CHANNEL_NOT_FOUND),
        };
        if !tech.eq_ignore_ascii_case(&channel_tech) {
            return RestReply::error(
                422,
                &format!(
                    "Endpoint technology '{tech}' does not match channel technology '{channel_tech}'"
                ),
            );
        }
        if !tech.eq_ignore_ascii_case("Local") && self.endpoint(tech, resource).is_none() {
            return RestReply::error(422, "Endpoint not found");
        }
        let now = self.now_ms();
        if let Some(call) = self.channels.get(id).and_then(|c| c.call)
            && let Some(run) = self.calls.get_mut(&call)
        {
            run.transferred_to = Some(endpoint.clone());
            run.left_ms.get_or_insert(now);
        }
        // A SIP channel is redirected with a 302 (its Contact the target's): cause 23.
        let (cause, tech_cause) = if is_sip { (23, Some(302)) } else { (16, None) };
        if let Some(c) = self.channels.get_mut(id) {
            c.hanging_up = true;
        }
        if let Some(tech_cause) = tech_cause {
            self.emit_channel(
                id,
                "ChannelHangupRequest",
                json!({"cause": cause, "tech_cause": tech_cause}),
            );
        }
        self.end_channel_media(id);
        if let Some(bridge) = self.channels.get(id).and_then(|c| c.bridge.clone()) {
            self.bridge_leave(&bridge, id);
        }
        self.leave_stasis(id, false);
        self.destroy(id, cause, tech_cause);
        RestReply::empty()
    }

    // ----- dialplan -----
}
