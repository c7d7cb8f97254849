//! Endpoints and the simulated phones behind them: the registry (the configuration's endpoints, changed at
//! run time by the `/sim` API), originating a PJSIP channel to one, and what each phone then does, as the
//! captured SIP phones did (`../shared/ari-traces`, "ACD flows"): ring and answer, be busy (486), have no
//! contact (the originate fails), never respond (cause 19 at the originate timeout, or the SIP
//! transaction's 408 at 32 s), hang up themselves (a BYE), hold and unhold (re-INVITEs).

use super::*;

/// How long a SIP INVITE nobody answers lives before its transaction times out (Timer B, 64 × T1).
const SIP_TRANSACTION_TIMEOUT_MS: u64 = 32_000;

/// The INVITEs the simulated phones received that are kept for `/sim/invites` (the oldest go first).
pub(crate) const INVITES_KEPT: usize = 1024;

/// What an originate to a phone carries, parsed and checked by `Model::originate`.
pub(super) struct Originate {
    pub id: String,
    pub caller: (String, String),
    pub origin: Origin,
    pub variables: Vec<(String, String)>,
    pub timeout_s: i64,
}

/// The key of an endpoint in `Model::endpoints`: Asterisk matches technologies without regard to case.
pub(super) fn endpoint_key(technology: &str, resource: &str) -> String {
    let mut key = technology.to_ascii_lowercase();
    key.push('/');
    key.push_str(resource);
    key
}

/// The `Dial` status a failed outbound call reports for its cause.
pub(super) fn dial_status(cause: u32) -> &'static str {
    match cause {
        17 => "BUSY",
        20 | 27 => "CHANUNAVAIL",
        34 | 38 | 41 => "CONGESTION",
        _ => "NOANSWER",
    }
}

impl Model {
    /// The endpoint a `technology/resource` spec names.
    pub(super) fn endpoint(&self, technology: &str, resource: &str) -> Option<&EndpointConfig> {
        self.endpoints.get(&endpoint_key(technology, resource))
    }

    /// Originates a channel to `technology/resource` (or `technology/number@resource`, a number through a
    /// trunk). Like Asterisk, the reply (the channel `Down`) comes first; the INVITE goes out after it.
    pub(super) fn originate_phone(
        &mut self,
        technology: &str,
        dialstring: &str,
        request: Originate,
    ) -> RestReply {
        let resource = dialstring
            .split_once('@')
            .map_or(dialstring, |(_, trunk)| trunk);
        let Some(config) = self.endpoint(technology, resource).cloned() else {
            return RestReply::json(500, json!({"error": "Allocation failed"}));
        };
        let Originate {
            id,
            caller,
            mut origin,
            variables,
            timeout_s,
        } = request;
        // A number dialled through a trunk may be a simulated caller's, waiting for its call-back.
        let callback = dialstring
            .split_once('@')
            .and_then(|(user, _)| self.callback_attempt(user, &id, dialstring));
        let behaviour = match &callback {
            Some((_, answer)) => answer.clone(),
            None => config.behaviour.clone(),
        };
        if behaviour == EndpointBehaviour::Unreachable {
            // An AOR without a contact: no channel is made, no event follows.
            return RestReply::json(500, json!({"error": "Allocation failed"}));
        }
        let name = format!(
            "{}/{}-{:08x}",
            config.technology, config.resource, self.pjsip_seq
        );
        self.pjsip_seq = self.pjsip_seq.wrapping_add(1);
        let lang = self.config.default_language.clone();
        let mut chan = self.new_channel(
            id.clone(),
            name,
            "Down",
            caller.clone(),
            caller,
            &config.context,
            "s",
            Kind::Sip,
            &lang,
        );
        chan.app_name = "AppDial2".to_owned();
        chan.app_data = "(Outgoing Line)".to_owned();
        chan.subscribers = origin.app.iter().cloned().collect();
        chan.protocol_id = new_uuid(&mut self.unique_seq);
        chan.instance = self.generation();
        let mut headers = BTreeMap::new();
        for (name, value) in variables {
            // `PJSIP_HEADER(add,X-…)` goes into the INVITE; everything else is a channel variable.
            match name
                .strip_prefix("PJSIP_HEADER(add,")
                .and_then(|h| h.strip_suffix(')'))
            {
                Some(header) => {
                    headers.insert(header.to_owned(), value);
                }
                None => {
                    chan.vars.insert(name, value);
                }
            }
        }
        // A caller's phone that will answer is theirs from its first ring.
        let callee = callback
            .filter(|_| matches!(behaviour, EndpointBehaviour::Answer { .. }))
            .map(|(call, _)| call);
        chan.call = callee;
        origin.phone = Some(behaviour);
        chan.origin = Some(origin);
        let instance = chan.instance;
        let reply = channel_json(&chan);
        let now = self.now_ms();
        self.invites.push_back(crate::Invite {
            channel_id: id.clone(),
            endpoint: format!("{}/{}", config.technology, config.resource),
            dialstring: dialstring.to_owned(),
            caller_name: chan.caller.0.clone(),
            caller_number: chan.caller.1.clone(),
            headers,
            at_ms: now,
        });
        if self.invites.len() > INVITES_KEPT {
            self.invites.pop_front();
        }
        self.channels.insert(id.clone(), chan);
        if let Some(call) = callee {
            self.callback_rings(call, &id);
        }
        self.schedule(
            0,
            Timer::EndpointDials {
                channel: id.clone(),
                instance,
            },
        );
        if timeout_s > 0 {
            self.schedule(
                timeout_s as u64 * 1000,
                Timer::OriginateTimeout { channel: id },
            );
        }
        RestReply::json(200, reply)
    }

    /// The live channel `channel` of this `instance`, not being torn down.
    fn phone_channel(&self, channel: &str, instance: u64) -> Option<&Channel> {
        self.channels
            .get(channel)
            .filter(|c| c.instance == instance && !c.hanging_up)
    }

    /// The INVITE reaches the phone: `Dial` (no status yet), then what the phone answers.
    pub(super) fn endpoint_dials(&mut self, channel: &str, instance: u64) {
        let Some(phone) = self
            .phone_channel(channel, instance)
            .and_then(|c| c.origin.as_ref())
            .and_then(|o| o.phone.clone())
        else {
            return;
        };
        self.emit_dial(channel, "");
        match phone {
            EndpointBehaviour::Answer { after_seconds, .. } => {
                self.set_state(channel, "Ringing");
                self.emit_dial(channel, "RINGING");
                self.schedule(
                    secs(after_seconds),
                    Timer::EndpointAnswers {
                        channel: channel.to_owned(),
                    },
                );
            }
            EndpointBehaviour::RingOut => {
                self.set_state(channel, "Ringing");
                self.emit_dial(channel, "RINGING");
            }
            EndpointBehaviour::Busy => {
                self.hangup(channel, 17, HangupHow::Sip { tech_cause: 486 });
            }
            EndpointBehaviour::NoResponse => self.schedule(
                SIP_TRANSACTION_TIMEOUT_MS,
                Timer::SipTimeout {
                    channel: channel.to_owned(),
                    instance,
                },
            ),
            // Refused at the originate: no channel was made.
            EndpointBehaviour::Unreachable => {}
        }
    }

    /// The INVITE's transaction timed out (nobody ever answered it): cause 18, SIP 408.
    pub(super) fn sip_timeout(&mut self, channel: &str, instance: u64) {
        if self
            .phone_channel(channel, instance)
            .is_some_and(|c| c.origin.as_ref().is_some_and(|o| !o.answered))
        {
            self.hangup(channel, 18, HangupHow::Sip { tech_cause: 408 });
        }
    }

    /// An originated phone answered: what it will do on its own afterwards is scheduled.
    pub(super) fn phone_answered(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        let instance = c.instance;
        let Some(EndpointBehaviour::Answer {
            hangup_after_seconds,
            hold_after_seconds,
            unhold_after_seconds,
            ..
        }) = c.origin.as_ref().and_then(|o| o.phone.clone())
        else {
            return;
        };
        if let Some(after) = hangup_after_seconds {
            self.schedule(
                secs(after),
                Timer::PhoneHangsUp {
                    channel: channel.to_owned(),
                    instance,
                },
            );
        }
        if let Some(hold) = hold_after_seconds {
            self.schedule(
                secs(hold),
                Timer::PhoneHolds {
                    channel: channel.to_owned(),
                    instance,
                    on: true,
                },
            );
            if let Some(unhold) = unhold_after_seconds {
                self.schedule(
                    secs(hold) + secs(unhold),
                    Timer::PhoneHolds {
                        channel: channel.to_owned(),
                        instance,
                        on: false,
                    },
                );
            }
        }
    }

    /// The phone sends a BYE.
    pub(super) fn phone_hangs_up(&mut self, channel: &str, instance: u64) {
        if self.phone_channel(channel, instance).is_some() {
            self.hangup(channel, 16, HangupHow::Caller);
        }
    }

    /// The phone re-INVITEs `a=sendonly` (hold) or `a=sendrecv` (unhold): the bridge re-reads its peers,
    /// then `ChannelHold` (with the music class) or `ChannelUnhold`. The channel stays bridged.
    pub(super) fn phone_holds(&mut self, channel: &str, instance: u64, on: bool) {
        let Some(c) = self.phone_channel(channel, instance) else {
            return;
        };
        if c.on_hold == on {
            return;
        }
        let bridge = c.bridge.clone();
        if let Some(c) = self.channels.get_mut(channel) {
            c.on_hold = on;
        }
        if let Some(bridge) = bridge {
            self.update_bridge_peers(&bridge);
        }
        if on {
            self.emit_channel(channel, "ChannelHold", json!({"musicclass": "default"}));
        } else {
            self.emit_channel(channel, "ChannelUnhold", json!({}));
        }
    }

    /// A SIP channel's RTP statistics, set just before it hangs up (`RTPAUDIOQOS*`), and on each channel
    /// bridged with it (`RTPAUDIOQOS*BRIDGED`).
    pub(super) fn emit_rtp_qos(&mut self, channel: &str) {
        let peers: Vec<String> = self
            .channels
            .get(channel)
            .and_then(|c| c.bridge.as_ref())
            .and_then(|b| self.bridges.get(b))
            .map(|b| {
                b.channels
                    .iter()
                    .filter(|m| *m != channel)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for (var, value) in RTP_QOS {
            self.emit_varset(channel, var, value);
            if !peers.is_empty() {
                let bridged = format!("{var}BRIDGED");
                for peer in &peers {
                    self.emit_varset(peer, &bridged, value);
                }
            }
        }
    }

    /// Every endpoint (of one technology) as ARI shows it, with the channels on it.
    pub(super) fn endpoints_json(&self, tech: Option<&str>) -> Vec<Value> {
        self.endpoints
            .values()
            .filter(|e| tech.is_none_or(|t| e.technology.eq_ignore_ascii_case(t)))
            .map(|e| self.endpoint_json(e))
            .collect()
    }

    pub(super) fn endpoint_json(&self, e: &EndpointConfig) -> Value {
        let prefix = format!("{}/{}-", e.technology, e.resource);
        let mut ids: Vec<&String> = self
            .channels
            .values()
            .filter(|c| c.name.starts_with(&prefix))
            .map(|c| &c.id)
            .collect();
        ids.sort();
        let state = match e.behaviour {
            EndpointBehaviour::Unreachable => "offline",
            _ => "online",
        };
        json!({"technology": e.technology, "resource": e.resource, "state": state, "channel_ids": ids})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keys_ignore_the_technologys_case_and_dial_statuses_follow_the_cause() {
        assert_eq!(endpoint_key("PJSIP", "agent-101"), "pjsip/agent-101");
        assert_eq!(
            endpoint_key("pjsip", "agent-101"),
            endpoint_key("PJSIP", "agent-101")
        );
        assert_ne!(
            endpoint_key("PJSIP", "Agent-101"),
            endpoint_key("PJSIP", "agent-101")
        );
        assert_eq!(dial_status(17), "BUSY");
        assert_eq!(dial_status(18), "NOANSWER");
        assert_eq!(dial_status(20), "CHANUNAVAIL");
    }
}
