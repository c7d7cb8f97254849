//! How fast the IVR state machine runs, with no I/O: 10,000 calls held at once, each driven
//! through the whole 1100 complaint path (welcome → language → menu → category → recording →
//! confirm → ticket → number read back → goodbye), interleaved step by step as an engine would.
//!
//! `cargo bench -p ivr` prints calls per second, inputs per second and the size of a call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ivr::{Action, Call, CallContext, Input, Script, Validators};

const CALLS: usize = 10_000;

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ivr-scripts/1100.toml");
    let text = std::fs::read_to_string(path).expect("ivr-scripts/1100.toml is readable");
    let validators = Validators::new().with("complaint_number", |s| s.len() == 10);
    let script = Arc::new(Script::from_toml(path, &text, &validators).expect("1100.toml is valid"));
    let started_at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+05:30")
        .expect("a valid timestamp");

    let clock = Instant::now();
    let mut now = Instant::now();
    let mut calls = Vec::with_capacity(CALLS);
    let mut last_tag = vec![0u32; CALLS];
    let mut recording = vec![String::new(); CALLS];
    let mut inputs = 0u64;
    for i in 0..CALLS {
        let ctx = CallContext {
            call_id: format!("1795921121.{i}"),
            caller: format!("98{i:08}"),
            caller_raw: None,
            started_at,
        };
        let (call, actions) = Call::start(script.clone(), ctx, now);
        note(&actions, &mut last_tag[i], &mut recording[i]);
        calls.push(call);
    }
    // What each caller does, one step at a time for all calls in turn.
    let plan: &[&str] = &[
        "end", "end", "1", "end", "1", "end", "3", "end", "speech", "end", "1", "ticket", "end",
        "end", "2", "end",
    ];
    for step in plan {
        now += Duration::from_secs(2);
        for (i, call) in calls.iter_mut().enumerate() {
            let input = match *step {
                "end" => Input::PlaybackFinished { tag: last_tag[i] },
                "speech" => Input::RecordingFinished {
                    name: std::mem::take(&mut recording[i]),
                    duration_ms: 20_000,
                    has_speech: true,
                },
                "ticket" => Input::TicketCreated {
                    number: format!("{:010}", 1_000_000_000 + i),
                },
                key => Input::Dtmf(key.chars().next().expect("a key")),
            };
            let actions = call.handle(input, now);
            inputs += 1;
            note(&actions, &mut last_tag[i], &mut recording[i]);
        }
    }
    let elapsed = clock.elapsed();
    let finished = calls.iter().filter(|c| c.is_finished()).count();
    assert_eq!(finished, CALLS, "every call reaches its goodbye");
    println!("{CALLS} concurrent calls through the 1100 complaint path in {elapsed:.2?}");
    println!(
        "  {:.0} calls/s, {:.0} inputs/s, size_of::<Call>() = {} bytes",
        CALLS as f64 / elapsed.as_secs_f64(),
        inputs as f64 / elapsed.as_secs_f64(),
        std::mem::size_of::<Call>()
    );
}

fn note(actions: &[Action], last_tag: &mut u32, recording: &mut String) {
    for action in actions {
        match action {
            Action::Play { tag, .. } => *last_tag = *tag,
            Action::Record { name, .. } => recording.clone_from(name),
            _ => {}
        }
    }
}
