//! Media: starting and stopping playbacks, and script media items rendered with the call's
//! variables (templates, digits, numbers and dates from our own prompts).

use std::time::Instant;

use chrono::NaiveDate;

use super::state::{CallState, Playing};
use super::{Action, Media};
use crate::say;
use crate::script::{MediaItem, Script};

impl CallState {
    /// Starts a playback; with nothing to play (templates that rendered to nothing), carries on
    /// as if it had played.
    pub(super) fn play(
        &mut self,
        script: &Script,
        media: Vec<Media>,
        barge_in: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.hung_up {
            return;
        }
        if media.is_empty() {
            self.after_playback(script, now, out);
            return;
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        self.playing = Some(Playing { tag, barge_in });
        self.deadline = Some(now + script.max_prompt);
        out.push(Action::Play {
            tag,
            media,
            language: self.language.clone(),
        });
    }

    pub(super) fn stop_playback(&mut self, out: &mut Vec<Action>) {
        if let Some(p) = self.playing.take() {
            out.push(Action::StopPlayback { tag: p.tag });
            self.deadline = None;
        }
    }

    /// Turns script media items into playable media, with variables filled in.
    pub(super) fn render(&self, script: &Script, items: &[MediaItem]) -> Vec<Media> {
        let mut media = Vec::with_capacity(items.len());
        for item in items {
            match item {
                MediaItem::Prompt(id) => media.push(Media::Prompt(id.clone())),
                MediaItem::Template(template) => {
                    if let Some(id) = self.fill_template(template)
                        && script.has_prompt(&id)
                    {
                        media.push(Media::Prompt(id));
                    }
                }
                MediaItem::Digits(var) => {
                    let digits: String = self
                        .var(var)
                        .unwrap_or_default()
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    if !digits.is_empty() {
                        media.push(Media::Digits(digits));
                    }
                }
                MediaItem::Number(var) => {
                    if let Some(n) = self.var(var).and_then(|v| v.trim().parse::<u32>().ok()) {
                        media.extend(say::number(n).into_iter().map(Media::Prompt));
                    }
                }
                MediaItem::Date(var) => {
                    if let Some(d) = self
                        .var(var)
                        .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
                    {
                        media.extend(say::date(d).into_iter().map(Media::Prompt));
                    }
                }
            }
        }
        media
    }

    /// `status_{status}` → `status_open`; `None` if a variable is unset.
    pub(super) fn fill_template(&self, template: &str) -> Option<String> {
        let mut out = String::with_capacity(template.len() + 8);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}')? + open;
            let value = self.var(&rest[open + 1..close])?;
            if value.is_empty() {
                return None;
            }
            out.extend(value.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            }));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// `{var}` in a `set` value or a department → its value; other text as is.
    pub(super) fn expand(&self, value: &str) -> String {
        match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Some(var) => self.var(var).unwrap_or_default().to_owned(),
            None => value.to_owned(),
        }
    }
}
