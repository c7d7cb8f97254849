//! Every path of the shipped `ivr-scripts/1100.toml`, as a table of scenarios: what the caller
//! does (keys pressed while a prompt plays or after it, silence, speech, hangups, and what the
//! ticket store answers) → every action the IVR takes, in order. No runtime, no simulator: the
//! engine's own end-to-end tests drive the same script through ARI.
//!
//! Caller tokens: `listen` (the prompt plays to its end), `press:KEYS` (keys pressed now: during a
//! prompt they barge in), `wait` (the caller does nothing until the IVR's timer fires), `speak` /
//! `silent` / `rec-failed` (how the recording ends), `ticket:N` / `ticket-failed`,
//! `found:STATUS,DEPT[,DUE]` / `not-found` / `lookup-failed`, `feedback-ok` / `feedback-failed` /
//! `feedback-refused`, `hangup`.

mod common;

use common::*;

struct Scenario {
    name: &'static str,
    at: &'static str,
    caller: &'static str,
    expect: &'static [&'static str],
    finished: bool,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "complaint_hindi",
        at: OPEN,
        caller: "listen listen press:1 listen press:1 listen press:1 listen speak listen press:1 ticket:1234567890 listen listen press:2 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "play[hi] choose_language",
            "play[hi] main_menu",
            "play[hi] category_menu",
            "play[hi] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[hi] record_confirm",
            "ticket dept=JSV lang=hi callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[hi] complaint_registered your_number_is digits:1234567890 number_again digits:1234567890 note_number",
            "play[hi] anything_else",
            "play[hi] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "complaint_english_typed_ahead",
        at: OPEN,
        caller: "press:2 listen press:13 listen speak press:1 ticket:2345678901 listen listen press:2 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=PWD lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[en] complaint_registered your_number_is digits:2345678901 number_again digits:2345678901 note_number",
            "play[en] anything_else",
            "play[en] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "rerecord_then_listen_then_keep",
        at: OPEN,
        caller: "press:21 listen press:5 listen speak listen press:2 listen speak listen press:3 listen press:1 ticket:3456789012",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "play[en] recording:ivr-c1-record_complaint-2 record_confirm",
            "ticket dept=EDU lang=en callback=false recording=ivr-c1-record_complaint-2 hung_up=false",
            "play[en] complaint_registered your_number_is digits:3456789012 number_again digits:3456789012 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "rerecord_limit_keeps_last",
        at: OPEN,
        caller: "press:212 listen speak press:2 listen speak press:2 listen speak press:2 ticket:3456789012",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-3 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=PWR lang=en callback=false recording=ivr-c1-record_complaint-3 hung_up=false",
            "play[en] complaint_registered your_number_is digits:3456789012 number_again digits:3456789012 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "silent_then_speech",
        at: OPEN,
        caller: "press:216 listen silent listen speak press:1 ticket:4567890123",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] no_speech record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-2 hung_up=false",
            "play[en] complaint_registered your_number_is digits:4567890123 number_again digits:4567890123 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "silent_three_times_goes_to_agent",
        at: OPEN,
        caller: "press:216 listen silent listen silent listen silent listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] no_speech record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "play[en] no_speech record_instructions",
            "record ivr-c1-record_complaint-3 beep=true stop=Some('#')",
            "play[en] record_failed",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=REV complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "recording_failed_goes_to_an_officer_without_we_could_not_hear_you",
        at: OPEN,
        caller: "press:216 listen rec-failed listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_failed",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=REV complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "a_failed_re_record_keeps_the_first_take",
        at: OPEN,
        caller: "press:216 listen speak press:2 listen rec-failed ticket:4567890123",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[en] complaint_registered your_number_is digits:4567890123 number_again digits:4567890123 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "two_complaints_in_one_call_have_their_own_recordings",
        at: OPEN,
        caller: "press:216 listen speak press:1 ticket:4567890123 listen press:1 listen press:1 listen press:7 listen silent listen speak press:1 ticket:5678901234",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=REV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[en] complaint_registered your_number_is digits:4567890123 number_again digits:4567890123 note_number",
            "play[en] anything_else",
            "stop",
            "play[en] main_menu",
            "play[en] category_menu",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-2 beep=true stop=Some('#')",
            "play[en] no_speech record_instructions",
            "record ivr-c1-record_complaint-3 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=POL lang=en callback=false recording=ivr-c1-record_complaint-3 hung_up=false",
            "play[en] complaint_registered your_number_is digits:5678901234 number_again digits:5678901234 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "confirm_unanswered_keeps_recording",
        at: OPEN,
        caller: "press:217 listen speak listen wait listen wait listen wait ticket:5678901234",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "play[en] no_input record_confirm",
            "play[en] no_input record_confirm",
            "ticket dept=POL lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[en] complaint_registered your_number_is digits:5678901234 number_again digits:5678901234 note_number",
        ],
        finished: false,
    },
    Scenario {
        name: "hangup_while_recording_speech",
        at: OPEN,
        caller: "press:218 listen hangup speak ticket:6789012345",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "ticket dept=FCS lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=true",
        ],
        finished: true,
    },
    Scenario {
        name: "hangup_while_recording_silence",
        at: OPEN,
        caller: "press:218 listen hangup silent",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
        ],
        finished: true,
    },
    Scenario {
        name: "hangup_at_confirm",
        at: OPEN,
        caller: "press:219 listen speak hangup ticket:7890123456",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "ticket dept=GAD lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=true",
        ],
        finished: true,
    },
    Scenario {
        name: "hangup_at_main_menu",
        at: OPEN,
        caller: "listen listen press:1 hangup",
        expect: &[
            "answer",
            "play[hi] welcome",
            "play[hi] choose_language",
            "play[hi] main_menu",
        ],
        finished: true,
    },
    Scenario {
        name: "hangup_during_ticket",
        at: OPEN,
        caller: "press:211 listen speak press:1 hangup ticket:1234567890",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=JSV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
        ],
        finished: true,
    },
    Scenario {
        name: "ticket_failure_goes_to_agent",
        at: OPEN,
        caller: "press:211 listen speak press:1 ticket-failed listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] category_menu",
            "stop",
            "play[en] record_instructions",
            "record ivr-c1-record_complaint-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=JSV lang=en callback=false recording=ivr-c1-record_complaint-1 hung_up=false",
            "play[en] ticket_failed",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=JSV complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "status_found",
        at: OPEN,
        caller: "press:22 listen press:1234567890# found:in_progress,PWR,2026-12-09 listen listen press:2 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] status_intro digits:1234567890 status_in_progress department_is dept_pwr",
            "play[en] due_date_is num_9 month_12 num_2 num_thousand num_26",
            "play[en] anything_else",
            "stop",
            "play[en] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "status_found_resolved_no_due",
        at: OPEN,
        caller: "press:22 listen press:1234567890 found:resolved,JSV listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] status_intro digits:1234567890 status_resolved department_is dept_jsv",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "status_short_number_then_timeout",
        at: OPEN,
        caller: "press:22 listen press:12345 wait listen wait listen press:0123456789# listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "play[en] invalid_number enter_complaint_number",
            "play[en] no_input enter_complaint_number",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "status_not_found",
        at: OPEN,
        caller: "press:22 listen press:1234567890# not-found listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] not_found",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "status_service_down",
        at: OPEN,
        caller: "press:22 listen press:1234567890# lookup-failed listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] service_unavailable",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[1234567890]",
        ],
        finished: true,
    },
    Scenario {
        name: "feedback_satisfied",
        at: OPEN,
        caller: "press:23 listen press:1234567890# found:resolved,EDU listen press:1 feedback-ok listen listen press:2 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] feedback_menu",
            "feedback 1234567890 satisfied=true reason=None",
            "play[en] feedback_thanks",
            "play[en] anything_else",
            "play[en] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "feedback_from_another_phone_is_taken_after_the_registered_numbers_last_digits",
        at: OPEN,
        caller: "press:23 listen press:1234567890# found:resolved,EDU listen press:1 feedback-refused listen press:2345 feedback-ok listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] feedback_menu",
            "feedback 1234567890 satisfied=true reason=None",
            "play[en] feedback_verify",
            "feedback 1234567890 satisfied=true reason=None check=2345",
            "play[en] feedback_thanks",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "feedback_refused_twice_is_explained_and_changes_nothing",
        at: OPEN,
        caller: "press:23 listen press:1234567890# found:resolved,EDU listen press:2 listen press:3 feedback-refused listen press:9999 feedback-refused listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "lookup 1234567890",
            "play[en] feedback_menu",
            "play[en] feedback_reason_menu",
            "feedback 1234567890 satisfied=false reason=Some(\"too_slow\")",
            "play[en] feedback_verify",
            "feedback 1234567890 satisfied=false reason=Some(\"too_slow\") check=9999",
            "play[en] feedback_refused",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "feedback_unsatisfied_with_reason",
        at: OPEN,
        caller: "press:23 press:1234567890# found:resolved,EDU press:2 listen press:3 feedback-ok listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "stop",
            "lookup 1234567890",
            "play[en] feedback_menu",
            "stop",
            "play[en] feedback_reason_menu",
            "feedback 1234567890 satisfied=false reason=Some(\"too_slow\")",
            "play[en] feedback_thanks",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "feedback_not_yet_resolved",
        at: OPEN,
        caller: "press:23 press:1234567890# found:assigned,REV listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "stop",
            "lookup 1234567890",
            "play[en] feedback_only_resolved status_assigned",
            "play[en] anything_else",
        ],
        finished: false,
    },
    Scenario {
        name: "feedback_store_down",
        at: OPEN,
        caller: "press:23 press:1234567890# found:resolved,EDU press:1 feedback-failed listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] enter_complaint_number",
            "stop",
            "lookup 1234567890",
            "play[en] feedback_menu",
            "stop",
            "feedback 1234567890 satisfied=true reason=None",
            "play[en] service_unavailable",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=EDU complaints=[1234567890]",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_181",
        at: OPEN,
        caller: "press:241 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] connecting",
            "transfer integrated-helplines/181",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_1077",
        at: OPEN,
        caller: "press:242 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] connecting",
            "transfer integrated-helplines/1077",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_hrtc",
        at: OPEN,
        caller: "press:243 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] connecting",
            "transfer integrated-helplines/hrtc",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_gst",
        at: OPEN,
        caller: "press:244 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] connecting",
            "transfer integrated-helplines/gst",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_nasha",
        at: OPEN,
        caller: "press:245 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] connecting",
            "transfer integrated-helplines/nasha",
        ],
        finished: true,
    },
    Scenario {
        name: "integrated_back_to_main",
        at: OPEN,
        caller: "press:24* listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "stop",
            "play[en] main_menu",
        ],
        finished: false,
    },
    Scenario {
        name: "agent",
        at: OPEN,
        caller: "press:20 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        // Keys pressed in the queue (the call-back offer's) are the call centre's: when the caller
        // is given back they do not cut the next prompt short.
        name: "agent_overflow_records_the_complaint",
        at: OPEN,
        caller: "press:20 listen press:1 overflow listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
            "play[en] agents_busy",
            "play[en] record_instructions",
            "record ivr-c1-busy_record-1 beep=true stop=Some('#')",
        ],
        finished: false,
    },
    Scenario {
        name: "star_repeats_menu",
        at: OPEN,
        caller: "press:2 listen press:* listen press:0 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "play[en] main_menu",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "main_menu_no_input_goes_to_agent",
        at: OPEN,
        caller: "press:2 listen wait listen wait listen wait listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "play[en] no_input main_menu",
            "play[en] no_input main_menu",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "main_menu_invalid_goes_to_agent",
        at: OPEN,
        caller: "press:2 listen press:7 listen press:8 listen press:9 listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "play[en] invalid_choice main_menu",
            "play[en] invalid_choice main_menu",
            "play[en] connecting_agent",
            "enqueue grievance lang=en dept=- complaints=[]",
        ],
        finished: true,
    },
    Scenario {
        name: "language_no_input_defaults_to_hindi",
        at: OPEN,
        caller: "listen listen wait listen wait listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "play[hi] choose_language",
            "play[hi] no_input choose_language",
            "play[hi] main_menu",
        ],
        finished: false,
    },
    Scenario {
        name: "after_hours_callback",
        at: NIGHT,
        caller: "listen listen press:1 listen listen speak listen press:1 ticket:8901234567 listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "play[hi] choose_language",
            "play[hi] after_hours",
            "play[hi] record_instructions",
            "record ivr-c1-after_hours_record-1 beep=true stop=Some('#')",
            "play[hi] record_confirm",
            "ticket dept=GAD lang=hi callback=true recording=ivr-c1-after_hours_record-1 hung_up=false",
            "play[hi] complaint_registered your_number_is digits:8901234567 number_again digits:8901234567 callback_promise",
            "play[hi] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "after_hours_english_typed_ahead",
        at: NIGHT,
        caller: "press:2 listen listen speak press:1 ticket:8901234567 listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] after_hours",
            "play[en] record_instructions",
            "record ivr-c1-after_hours_record-1 beep=true stop=Some('#')",
            "play[en] record_confirm",
            "stop",
            "ticket dept=GAD lang=en callback=true recording=ivr-c1-after_hours_record-1 hung_up=false",
            "play[en] complaint_registered your_number_is digits:8901234567 number_again digits:8901234567 callback_promise",
            "play[en] goodbye",
            "hangup (caller finished)",
        ],
        finished: true,
    },
    Scenario {
        name: "holiday_is_after_hours",
        at: HOLIDAY,
        caller: "press:1 listen listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[hi] after_hours",
            "play[hi] record_instructions",
            "record ivr-c1-after_hours_record-1 beep=true stop=Some('#')",
        ],
        finished: false,
    },
    Scenario {
        name: "after_hours_silent",
        at: NIGHT,
        caller: "press:1 listen listen silent listen silent listen silent listen",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[hi] after_hours",
            "play[hi] record_instructions",
            "record ivr-c1-after_hours_record-1 beep=true stop=Some('#')",
            "play[hi] no_speech record_instructions",
            "record ivr-c1-after_hours_record-2 beep=true stop=Some('#')",
            "play[hi] no_speech record_instructions",
            "record ivr-c1-after_hours_record-3 beep=true stop=Some('#')",
            "play[hi] call_again",
            "hangup (out of hours, no complaint recorded)",
        ],
        finished: true,
    },
    Scenario {
        name: "after_hours_hangup_while_recording",
        at: NIGHT,
        caller: "press:1 listen listen hangup speak ticket:9012345678",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[hi] after_hours",
            "play[hi] record_instructions",
            "record ivr-c1-after_hours_record-1 beep=true stop=Some('#')",
            "ticket dept=GAD lang=hi callback=true recording=ivr-c1-after_hours_record-1 hung_up=true",
        ],
        finished: true,
    },
    Scenario {
        name: "hangup_during_goodbye",
        at: OPEN,
        caller: "press:24 listen wait listen wait listen wait hangup",
        expect: &[
            "answer",
            "play[hi] welcome",
            "stop",
            "play[en] main_menu",
            "stop",
            "play[en] integrated_menu",
            "play[en] no_input integrated_menu",
            "play[en] no_input integrated_menu",
            "play[en] goodbye",
        ],
        finished: true,
    },
];

#[test]
fn every_path_of_1100() {
    let script = script_1100();
    let mut failures = Vec::new();
    for s in SCENARIOS {
        let mut caller = Caller::start(script.clone(), s.at);
        for token in s.caller.split_whitespace() {
            caller.act(token);
        }
        let got = caller.take_log();
        // The IVR's part is over once the call is in the call centre's queue.
        let done = caller.call.is_finished() || caller.call.is_queued();
        if got != s.expect || done != s.finished {
            failures.push(format!(
                "{}: finished={} (want {})\n  got:  {got:#?}\n  want: {:#?}",
                s.name, done, s.finished, s.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Hangs up after every prefix of every scenario: after the hangup the IVR never plays, records,
/// transfers or hangs up again; it files the ticket owed for a recording that holds speech (and
/// nothing else), and then it is finished.
#[test]
fn a_hangup_at_any_point_of_any_path_ends_the_call_cleanly() {
    let script = script_1100();
    let mut checked = 0;
    for s in SCENARIOS {
        let tokens: Vec<&str> = s.caller.split_whitespace().collect();
        for cut in 0..=tokens.len() {
            let mut caller = Caller::start(script.clone(), s.at);
            for token in &tokens[..cut] {
                caller.act(token);
            }
            if caller.call.is_finished() {
                continue;
            }
            let before = caller.take_log();
            let was_recording = caller.recording_in_progress();
            caller.hangup_now();
            if was_recording {
                // Asterisk ends the recording with what was said; here: speech.
                caller.speak();
            }
            let filing = caller.log.iter().any(|l| l.starts_with("ticket "));
            if !caller.call.is_finished() {
                caller.act("ticket:1234567890");
            }
            let after = caller.take_log();
            let at = format!("{} cut after {cut} tokens ({:?})", s.name, before.last());
            assert!(caller.call.is_finished(), "{at}: not finished, {after:?}");
            for line in &after {
                assert!(
                    line.starts_with("ticket ") && line.ends_with("hung_up=true"),
                    "{at}: `{line}` after the hangup"
                );
                assert!(
                    !line.contains("recording=none"),
                    "{at}: a ticket without speech"
                );
            }
            assert_eq!(filing, !after.is_empty(), "{at}");
            // Speech recorded in a complaint step is always filed.
            if was_recording {
                assert_eq!(
                    after.len(),
                    1,
                    "{at}: the recording with speech must become a ticket"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 250, "only {checked} cuts checked");
}

/// Never dead air: after every caller action on every path, unless the IVR is waiting for the
/// ticket store, a timer is running (a prompt's guard, a menu's timeout, a recording's limit).
#[test]
fn a_timer_always_runs_while_the_caller_waits() {
    let script = script_1100();
    for s in SCENARIOS {
        let mut caller = Caller::start(script.clone(), s.at);
        for token in s.caller.split_whitespace() {
            caller.act(token);
            // In the queue the call centre keeps the time.
            if caller.call.is_finished() || caller.call.is_queued() {
                break;
            }
            let last = caller.log.last().cloned().unwrap_or_default();
            let awaiting_store = ["ticket ", "lookup ", "feedback "]
                .iter()
                .any(|p| last.starts_with(p));
            assert!(
                awaiting_store || caller.call.deadline().is_some(),
                "{}: after `{token}` nothing is timed (last action `{last}`)",
                s.name
            );
        }
    }
}

#[test]
fn scenario_names_are_unique() {
    let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SCENARIOS.len());
}
