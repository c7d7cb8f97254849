//! ARI REST routing: turns a request (method, path segments, parameters) into a model operation and
//! its reply, and answers the read-only resources (asterisk info, applications, endpoints, sounds) and
//! channel variables. Status codes and error texts are Asterisk's.

use super::*;

impl Model {
    /// Starts (`Some(class)`) or stops music on hold on a channel itself. No event: ARI has none for it.
    pub(super) fn channel_moh(&mut self, channel: &str, class: Option<String>) {
        if let Some(c) = self.channels.get_mut(channel) {
            c.moh = class;
        }
        self.refresh_moh(channel);
    }

    /// Starts (`Some(class)`) or stops a bridge's music on hold: an announcer joins (a mixing bridge's
    /// members see it in `BRIDGEPEER`), every member hears it.
    pub(super) fn bridge_moh(&mut self, bridge: &str, class: Option<String>) {
        let Some(b) = self.bridges.get(bridge) else {
            return;
        };
        let changed = match (&b.moh, &class) {
            (None, Some(class)) => {
                self.local_seq += 1;
                let announcer = format!("Announcer/ARI_MOH-{:08x};2", self.local_seq);
                Some(Some((class.clone(), announcer)))
            }
            (Some(_), None) => Some(None),
            // Already playing (another class is not switched to), or already stopped.
            _ => None,
        };
        let Some(moh) = changed else {
            return;
        };
        let Some(b) = self.bridges.get_mut(bridge) else {
            return;
        };
        b.moh = moh;
        let members = b.channels.clone();
        self.update_bridge_peers(bridge);
        for member in members {
            self.refresh_moh(&member);
        }
    }

    /// A simulated caller hears `moh:<class>` while music on hold plays to their channel (its own, or its
    /// bridge's).
    pub(super) fn refresh_moh(&mut self, channel: &str) {
        let Some(c) = self.channels.get(channel) else {
            return;
        };
        if c.call.is_none() {
            return;
        }
        let class = c.moh.clone().or_else(|| {
            c.bridge
                .as_ref()
                .and_then(|b| self.bridges.get(b))
                .and_then(|b| b.moh.as_ref().map(|(class, _)| class.clone()))
        });
        let heard = c.moh_heard;
        let pseudo_id = format!("moh-{channel}");
        match class {
            Some(class) if !heard => {
                if let Some(c) = self.channels.get_mut(channel) {
                    c.moh_heard = true;
                }
                self.notify_call_heard(channel, &pseudo_id, &format!("moh:{class}"));
            }
            None if heard => {
                if let Some(c) = self.channels.get_mut(channel) {
                    c.moh_heard = false;
                }
                self.notify_call_finished(channel, &pseudo_id, "done");
            }
            _ => {}
        }
    }

    // ----- REST routing -----

    pub(super) fn rest(&mut self, request: RestRequest) -> RestReply {
        let RestRequest {
            method,
            segments,
            params,
            body,
        } = request;
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let p = Params(&params);
        match (method.as_str(), seg.as_slice()) {
            ("GET", ["asterisk", "info"]) => self.asterisk_info(),
            ("GET", ["asterisk", "ping"]) => RestReply::json(
                200,
                json!({"asterisk_id": self.config.asterisk_id, "ping": "pong", "timestamp": self.now_stamp()}),
            ),
            ("GET", ["applications"]) => {
                let mut names: Vec<String> = self.apps.keys().cloned().collect();
                names.sort();
                let list: Vec<Value> = names.iter().map(|n| self.app_json(n)).collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["applications", name]) => match self.apps.contains_key(*name) {
                true => RestReply::json(200, self.app_json(name)),
                false => RestReply::error(404, "Application not found"),
            },
            ("POST", ["applications", name, "subscription"]) => self.app_subscribe(name, p, true),
            ("DELETE", ["applications", name, "subscription"]) => {
                self.app_subscribe(name, p, false)
            }
            ("GET", ["endpoints"]) => RestReply::json(200, Value::Array(self.endpoints_json(None))),
            ("GET", ["endpoints", tech]) => {
                let list = self.endpoints_json(Some(tech));
                if list.is_empty() {
                    RestReply::error(404, "No endpoints found")
                } else {
                    RestReply::json(200, Value::Array(list))
                }
            }
            ("GET", ["endpoints", tech, resource]) => match self.endpoint(tech, resource) {
                Some(e) => RestReply::json(200, self.endpoint_json(e)),
                None => RestReply::error(404, "Endpoint not found"),
            },
            ("GET", ["sounds"]) => {
                let list: Vec<Value> = self
                    .sounds
                    .list()
                    .into_iter()
                    .filter(|(_, langs)| p.get("lang").is_none_or(|l| langs.iter().any(|x| x == l)))
                    .map(|(id, langs)| sound_json(&id, &langs))
                    .collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["sounds", rest @ ..]) if !rest.is_empty() => {
                let id = rest.join("/");
                match self.sounds.list().into_iter().find(|(n, _)| *n == id) {
                    Some((id, langs)) => RestReply::json(200, sound_json(&id, &langs)),
                    None => RestReply::error(404, "Sound not found"),
                }
            }
            ("GET", ["channels"]) => {
                let mut list: Vec<&Channel> = self.channels.values().collect();
                list.sort_by(|a, b| a.creationtime.cmp(&b.creationtime).then(b.id.cmp(&a.id)));
                RestReply::json(
                    200,
                    Value::Array(list.into_iter().map(channel_json).collect()),
                )
            }
            ("POST", ["channels"]) => {
                let id = p.get("channelId").map(str::to_owned);
                self.originate(id, p, body)
            }
            ("POST", ["channels", "create"]) => RestReply::error(
                501,
                "channels/create is not modelled by the simulator; originate instead",
            ),
            ("POST", ["channels", id]) => self.originate(Some((*id).to_owned()), p, body),
            ("GET", ["channels", id]) => match self.channels.get(*id) {
                Some(c) => RestReply::json(200, channel_json(c)),
                None => RestReply::error(404, CHANNEL_NOT_FOUND),
            },
            ("DELETE", ["channels", id]) => self.rest_hangup(id, p),
            ("POST", ["channels", id, "answer"]) => self.in_stasis(id, |m, id| {
                m.answer(id);
                RestReply::empty()
            }),
            ("POST", ["channels", id, "ring"]) => self.in_stasis(id, |m, id| {
                m.ring(id);
                RestReply::empty()
            }),
            ("DELETE", ["channels", id, "ring"]) => self.in_stasis(id, |_, _| RestReply::empty()),
            ("POST", ["channels", id, "progress"]) => self.in_stasis(id, |_, _| RestReply::empty()),
            ("POST", ["channels", id, "moh"]) => {
                let class = p.get("mohClass").unwrap_or("default").to_owned();
                self.in_stasis(id, |m, id| {
                    m.channel_moh(id, Some(class));
                    RestReply::empty()
                })
            }
            ("DELETE", ["channels", id, "moh"]) => self.in_stasis(id, |m, id| {
                m.channel_moh(id, None);
                RestReply::empty()
            }),
            ("POST" | "DELETE", ["channels", id, "hold"]) => {
                let on = method == "POST";
                self.in_stasis(id, |m, id| {
                    if let Some(c) = m.channels.get_mut(id) {
                        c.on_hold = on;
                    }
                    RestReply::empty()
                })
            }
            ("POST" | "DELETE", ["channels", id, "mute"]) => {
                let on = method == "POST";
                self.in_stasis(id, |m, id| {
                    if let Some(c) = m.channels.get_mut(id) {
                        c.muted = on;
                    }
                    RestReply::empty()
                })
            }
            ("POST" | "DELETE", ["channels", id, "silence"]) => {
                self.in_stasis(id, |_, _| RestReply::empty())
            }
            ("POST", ["channels", id, "continue"]) => self.continue_dialplan(id, p),
            ("POST", ["channels", id, "move"]) => self.move_channel(id, p),
            ("POST", ["channels", id, "redirect"]) => self.redirect(id, p),
            ("POST", ["channels", id, "play"]) => {
                let pid = p.get("playbackId").map(str::to_owned);
                self.play(Target::Channel((*id).to_owned()), pid, p)
            }
            ("POST", ["channels", id, "play", pid]) => self.play(
                Target::Channel((*id).to_owned()),
                Some((*pid).to_owned()),
                p,
            ),
            ("POST", ["channels", id, "record"]) => {
                self.record(Target::Channel((*id).to_owned()), p)
            }
            ("POST", ["channels", id, "dtmf"]) => self.rest_dtmf(id, p),
            ("GET", ["channels", id, "variable"]) => self.get_variable(id, p),
            ("POST", ["channels", id, "variable"]) => self.set_variable(id, p),
            ("POST", ["channels", id, "snoop"]) => {
                let sid = p.get("snoopId").map(str::to_owned);
                self.snoop(id, sid, p)
            }
            ("POST", ["channels", id, "snoop", sid]) => self.snoop(id, Some((*sid).to_owned()), p),
            ("GET", ["bridges"]) => {
                let list: Vec<Value> = self.bridges.values().map(bridge_json).collect();
                RestReply::json(200, Value::Array(list))
            }
            ("POST", ["bridges"]) => {
                let id = p.get("bridgeId").map(str::to_owned);
                self.create_bridge(id, p)
            }
            ("POST", ["bridges", id]) => self.create_bridge(Some((*id).to_owned()), p),
            ("GET", ["bridges", id]) => match self.bridges.get(*id) {
                Some(b) => RestReply::json(200, bridge_json(b)),
                None => RestReply::error(404, "Bridge not found"),
            },
            ("DELETE", ["bridges", id]) => self.destroy_bridge(id),
            ("POST", ["bridges", id, "addChannel"]) => self.bridge_add(id, p),
            ("POST", ["bridges", id, "removeChannel"]) => self.bridge_remove_rest(id, p),
            ("POST", ["bridges", id, "play"]) => {
                let pid = p.get("playbackId").map(str::to_owned);
                self.play(Target::Bridge((*id).to_owned()), pid, p)
            }
            ("POST", ["bridges", id, "play", pid]) => {
                self.play(Target::Bridge((*id).to_owned()), Some((*pid).to_owned()), p)
            }
            ("POST", ["bridges", id, "record"]) => self.record(Target::Bridge((*id).to_owned()), p),
            ("POST" | "DELETE", ["bridges", id, "moh"]) => {
                if !self.bridges.contains_key(*id) {
                    return RestReply::error(404, "Bridge not found");
                }
                let class = p.get("mohClass").unwrap_or("default").to_owned();
                self.bridge_moh(id, (method == "POST").then_some(class));
                RestReply::empty()
            }
            ("GET", ["playbacks", id]) => match self.playbacks.get(*id) {
                Some(pb) => RestReply::json(200, playback_json(pb)),
                None => RestReply::error(404, "Playback not found"),
            },
            ("DELETE", ["playbacks", id]) => self.stop_playback(id),
            ("POST", ["playbacks", id, "control"]) => self.control_playback(id, p),
            ("GET", ["recordings", "stored"]) => {
                let list: Vec<Value> = self
                    .stored
                    .iter()
                    .map(|(n, s)| json!({"name": n, "format": s.format}))
                    .collect();
                RestReply::json(200, Value::Array(list))
            }
            ("GET", ["recordings", "stored", name]) => match self.stored.get(*name) {
                Some(s) => RestReply::json(200, json!({"name": name, "format": s.format})),
                None => RestReply::error(404, "Recording not found"),
            },
            ("GET", ["recordings", "stored", name, "file"]) => match self.stored.get(*name) {
                Some(s) => RestReply {
                    status: 200,
                    body: ReplyBody::File(s.path.clone()),
                },
                None => RestReply::error(404, "Recording not found"),
            },
            ("DELETE", ["recordings", "stored", name]) => match self.stored.remove(*name) {
                Some(s) => {
                    let _ = std::fs::remove_file(&s.path);
                    RestReply::empty()
                }
                None => RestReply::error(404, "Recording not found"),
            },
            ("POST", ["recordings", "stored", name, "copy"]) => self.copy_recording(name, p),
            ("GET", ["recordings", "live", name]) => match self.recordings.get(*name) {
                Some(r) => RestReply::json(200, self.recording_json(r, false)),
                None => RestReply::error(404, "Recording not found"),
            },
            ("DELETE", ["recordings", "live", name]) => {
                if self.recordings.contains_key(*name) {
                    self.finish_recording(name, RecordingEnd::Canceled);
                    RestReply::empty()
                } else {
                    RestReply::error(404, "Recording not found")
                }
            }
            ("POST", ["recordings", "live", name, "stop"]) => {
                if self.recordings.contains_key(*name) {
                    self.finish_recording(name, RecordingEnd::Done);
                    RestReply::empty()
                } else {
                    RestReply::error(404, "Recording not found")
                }
            }
            ("POST" | "DELETE", ["recordings", "live", name, op @ ("pause" | "mute")]) => {
                let on = method == "POST";
                self.pause_or_mute(name, *op == "pause", on)
            }
            (
                _,
                [
                    "asterisk" | "applications" | "endpoints" | "sounds" | "channels" | "bridges"
                    | "playbacks" | "recordings",
                    ..,
                ],
            ) => RestReply::error(405, "Method not allowed or resource not modelled"),
            _ => RestReply::error(404, "Resource not found"),
        }
    }

    pub(super) fn in_stasis(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut Model, &str) -> RestReply,
    ) -> RestReply {
        match self.channels.get(id) {
            None => RestReply::error(404, CHANNEL_NOT_FOUND),
            Some(c) if c.stasis.is_none() => RestReply::error(409, NOT_IN_STASIS),
            Some(_) => f(self, id),
        }
    }

    pub(super) fn asterisk_info(&self) -> RestReply {
        let start = wire::timestamp(self.wall_start);
        RestReply::json(
            200,
            json!({
                "build": {"os": "Linux", "kernel": "(simulated)", "machine": "x86_64", "options": "OPTIONAL_API",
                          "date": start, "user": "ari-sim"},
                "system": {"version": "22.10.1", "entity_id": self.config.asterisk_id},
                "config": {"name": "", "default_language": self.config.default_language,
                           "setid": {"user": "", "group": ""}},
                "status": {"startup_time": start, "last_reload_time": start}
            }),
        )
    }

    pub(super) fn app_json(&self, name: &str) -> Value {
        let mut channel_ids: Vec<&String> = self
            .channels
            .values()
            .filter(|c| c.subscribers.iter().any(|s| s == name))
            .map(|c| &c.id)
            .collect();
        channel_ids.sort();
        let mut bridge_ids: Vec<&String> = self
            .bridges
            .values()
            .filter(|b| b.subscribers.iter().any(|s| s == name))
            .map(|b| &b.id)
            .collect();
        bridge_ids.sort();
        let endpoint_ids: Vec<String> = self
            .apps
            .get(name)
            .map(|a| a.subscribed_endpoints.iter().cloned().collect())
            .unwrap_or_default();
        json!({
            "name": name, "channel_ids": channel_ids, "bridge_ids": bridge_ids,
            "endpoint_ids": endpoint_ids, "device_names": [], "events_allowed": [], "events_disallowed": []
        })
    }

    pub(super) fn app_subscribe(&mut self, name: &str, p: Params, on: bool) -> RestReply {
        if !self.apps.contains_key(name) {
            return RestReply::error(404, "Application not found");
        }
        let Some(sources) = p.get("eventSource") else {
            return RestReply::error(400, "eventSource is required");
        };
        for source in sources.split(',') {
            let Some((kind, id)) = source.split_once(':') else {
                return RestReply::error(400, "Invalid event source URI scheme");
            };
            let found = match kind {
                "channel" => self.channels.contains_key(id),
                "bridge" => self.bridges.contains_key(id),
                "endpoint" => id.contains('/'),
                "deviceState" => true,
                _ => return RestReply::error(400, "Invalid event source URI scheme"),
            };
            if !found {
                return RestReply::error(422, "Event source does not exist");
            }
            let app = name.to_owned();
            match kind {
                "channel" => {
                    if let Some(c) = self.channels.get_mut(id) {
                        set_member(&mut c.subscribers, &app, on);
                    }
                }
                "bridge" => {
                    if let Some(b) = self.bridges.get_mut(id) {
                        set_member(&mut b.subscribers, &app, on);
                    }
                }
                "endpoint" => {
                    if let Some(a) = self.apps.get_mut(name) {
                        if on {
                            a.subscribed_endpoints.insert(id.to_owned());
                        } else {
                            a.subscribed_endpoints.remove(id);
                        }
                    }
                }
                _ => {}
            }
        }
        RestReply::json(200, self.app_json(name))
    }

    // ----- variables -----

    pub(super) fn get_variable(&mut self, id: &str, p: Params) -> RestReply {
        let Some(c) = self.channels.get(id) else {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        };
        let Some(var) = p.get("variable").filter(|v| !v.is_empty()) else {
            return RestReply::error(400, "Variable name is required");
        };
        // A name ending in `)` is a dialplan function: one that cannot be read is a 500 (captured:
        // `PJSIP_HEADER(read,…)` on an outbound channel, whose INVITE headers are not there to read).
        if var.ends_with(')') {
            let value = match var {
                "CALLERID(num)" => Some(c.caller.1.clone()),
                "CALLERID(name)" => Some(c.caller.0.clone()),
                "CALLERID(all)" => Some(format!("\"{}\" <{}>", c.caller.0, c.caller.1)),
                "CHANNEL(language)" => Some(c.language.clone()),
                "CHANNEL(name)" => Some(c.name.clone()),
                "CHANNEL(uniqueid)" => Some(c.id.clone()),
                _ => None,
            };
            return match value {
                Some(value) => RestReply::json(200, json!({ "value": value })),
                None => RestReply::error(500, "Unable to read provided function"),
            };
        }
        let value = match var {
            "UNIQUEID" => Some(c.id.clone()),
            "EXTEN" => Some(c.exten.clone()),
            _ => c.vars.get(var).cloned(),
        };
        match value {
            Some(value) => RestReply::json(200, json!({ "value": value })),
            None => RestReply::error(404, "Provided variable was not found"),
        }
    }

    pub(super) fn set_variable(&mut self, id: &str, p: Params) -> RestReply {
        if !self.channels.contains_key(id) {
            return RestReply::error(404, CHANNEL_NOT_FOUND);
        }
        let Some(var) = p.get("variable").filter(|v| !v.is_empty()) else {
            return RestReply::error(400, "Variable name is required");
        };
        let value = p.get("value").unwrap_or_default().to_owned();
        self.set_channel_variable(id, var, value);
        RestReply::empty()
    }

    /// Sets a variable (`ChannelVarset`), or writes a function (`NAME(args)`: no event, as Asterisk's
    /// `pbx_builtin_setvar_helper`): `CHANNEL(language)` changes the channel's language, the others (e.g.
    /// `PJSIP_HEADER(add,…)` on a channel already dialled) are accepted and have no effect here.
    pub(super) fn set_channel_variable(&mut self, id: &str, var: &str, value: String) {
        let Some(c) = self.channels.get_mut(id) else {
            return;
        };
        if var.ends_with(')') {
            if var == "CHANNEL(language)" {
                c.language = value;
            }
            return;
        }
        c.vars.insert(var.to_owned(), value.clone());
        self.emit_varset(id, var, &value);
    }
}
