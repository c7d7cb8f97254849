//! Bad input never breaks the IVR: mangled scripts give a report (never a panic, every problem
//! on a real line), and random event sequences drive `Call` without a panic, without a Play after
//! the caller has gone, and without dead air.

mod common;

use std::time::Duration;

use common::*;
use ivr::{Action, Call, CallContext, Input, Script, TicketStatus, TicketStatusView};

/// A small deterministic generator (no dependency, same sequence on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mangle(text: &str, rng: &mut Lcg) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for _ in 0..=rng.below(3) {
        let i = rng.below(lines.len());
        match rng.below(6) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            2 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            3 => {
                let cut = rng.below(lines[i].len() + 1);
                let cut = (0..=cut)
                    .rev()
                    .find(|c| lines[i].is_char_boundary(*c))
                    .unwrap_or(0);
                lines[i].truncate(cut);
            }
            4 => {
                let junk = ["\"", "{", "]", "=", "[steps.", "type = \"menu\"", "ß", "#"];
                lines[i].push_str(junk[rng.below(junk.len())]);
            }
            _ => {
                lines[i] = lines[i]
                    .replace("goodbye", "goodbey")
                    .replace("\"6s\"", "\"0s\"")
            }
        }
    }
    lines.join("\n")
}

#[test]
fn mangled_scripts_are_reported_never_a_panic() {
    let text = std::fs::read_to_string(repo().join("ivr-scripts/1100.toml")).unwrap();
    let mut rng = Lcg(1100);
    let mut refused = 0;
    for round in 0..400 {
        let mangled = mangle(&text, &mut rng);
        let line_count = mangled.lines().count() + 1;
        match Script::from_toml("mangled.toml", &mangled, &validators()) {
            Ok(_) => {}
            Err(report) => {
                refused += 1;
                assert!(
                    report.has_errors(),
                    "round {round}: refused without an error\n{report}"
                );
                for d in &report.diagnostics {
                    assert!(d.line >= 1 && d.line <= line_count, "round {round}: {d}");
                    assert!(d.col >= 1, "round {round}: {d}");
                }
            }
        }
    }
    assert!(
        refused > 100,
        "the mangling should break most scripts ({refused} refused)"
    );
}

fn random_input(rng: &mut Lcg, last_tag: u32, recording: &str) -> Input {
    match rng.below(12) {
        0..=3 => Input::Dtmf(b"0123456789*#"[rng.below(12)] as char),
        4 | 5 => Input::PlaybackFinished { tag: last_tag },
        6 => Input::PlaybackFailed {
            tag: rng.below(4) as u32,
        },
        7 => {
            if rng.below(4) == 0 {
                Input::Reprompt
            } else {
                Input::Timeout
            }
        }
        8 => Input::RecordingFinished {
            name: recording.to_owned(),
            duration_ms: rng.below(60_000) as u64,
            has_speech: rng.below(2) == 0,
        },
        9 => match rng.below(3) {
            0 => Input::TicketCreated {
                number: "1234567890".into(),
            },
            1 => Input::TicketFailed,
            _ => Input::RecordingFailed {
                name: recording.to_owned(),
            },
        },
        10 => match rng.below(5) {
            0 => Input::LookupResult(None),
            1 => Input::LookupFailed,
            2 => Input::FeedbackStored,
            3 => Input::FeedbackRefused,
            _ => Input::LookupResult(Some(TicketStatusView {
                number: "1234567890".into(),
                status: TicketStatus::ALL[rng.below(TicketStatus::ALL.len())],
                department: "PWR".into(),
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 9),
            })),
        },
        _ => {
            let roll = rng.below(8);
            if roll == 0 {
                Input::Hangup
            } else if roll == 1 {
                Input::QueueOverflow
            } else {
                Input::Dtmf('1')
            }
        }
    }
}

#[test]
fn random_events_never_break_a_call() {
    let script = script_1100();
    let mut rng = Lcg(181);
    for call_no in 0..300 {
        let started_at = if call_no % 3 == 0 { NIGHT } else { OPEN };
        let ctx = CallContext {
            call_id: format!("c{call_no}"),
            caller: "9800000001".into(),
            caller_raw: None,
            started_at: chrono::DateTime::parse_from_rfc3339(started_at).unwrap(),
        };
        let mut now = std::time::Instant::now();
        let (mut call, mut actions) = Call::start(script.clone(), ctx, now);
        let (mut last_tag, mut recording, mut hung_up) = (0, String::new(), false);
        let mut awaiting_store = false;
        for _ in 0..200 {
            for action in &actions {
                match action {
                    Action::Play { tag, .. } => {
                        assert!(!hung_up, "call {call_no}: Play after the hangup");
                        last_tag = *tag;
                    }
                    Action::Record { name, .. } => {
                        assert!(!hung_up, "call {call_no}: Record after the hangup");
                        recording.clone_from(name);
                    }
                    Action::Hangup { .. } | Action::Transfer { .. } => {
                        assert!(!hung_up, "call {call_no}: {action:?} after the hangup");
                        assert!(
                            call.is_finished(),
                            "call {call_no}: {action:?} but not finished"
                        );
                    }
                    _ => {}
                }
            }
            if let Some(last) = actions
                .iter()
                .rev()
                .find(|a| !matches!(a, Action::Entered { .. }))
            {
                awaiting_store = matches!(
                    last,
                    Action::CreateTicket(_)
                        | Action::LookupTicket { .. }
                        | Action::SubmitFeedback { .. }
                );
            }
            if call.is_finished() {
                break;
            }
            assert!(
                // In the queue, the call centre keeps the time.
                hung_up || awaiting_store || call.is_queued() || call.deadline().is_some(),
                "call {call_no}: waiting with no timer at step {}",
                call.step_name()
            );
            let input = random_input(&mut rng, last_tag, &recording);
            if input == Input::Timeout {
                now = call.deadline().unwrap_or(now);
            } else {
                now += Duration::from_millis(rng.below(3000) as u64);
            }
            hung_up |= input == Input::Hangup;
            actions = call.handle(input, now);
        }
    }
}
