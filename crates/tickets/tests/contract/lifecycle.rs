//! Filing, the lifecycle, refused transitions, escalation with a manual clock, idempotency under
//! concurrent retries, numbers unique across nodes, recordings.

use std::collections::HashSet;

use chrono::Duration;
use sha2::{Digest, Sha256};
use tickets::{
    Clock, ComplaintNumber, FeedbackReason, NewCallTicket, Page, Recording, RecordingAudio,
    StoreError, TicketFilter, TicketStatus, is_valid_complaint_number,
};

use crate::contract;
use crate::support::Env;

pub fn call(call_id: &str, department: &str) -> NewCallTicket {
    NewCallTicket {
        call_id: call_id.to_owned(),
        caller_number: "+919816012345".to_owned(),
        caller_raw: None,
        language: "hi".to_owned(),
        department_code: department.to_owned(),
        category: Some("water".to_owned()),
        district: Some("Shimla".to_owned()),
        recording: None,
        after_hours: false,
    }
}

async fn lifecycle_to_closed(env: Env) {
    let number = env
        .service
        .create_from_call(call("call-1", "JSV"))
        .await
        .unwrap();
    assert!(is_valid_complaint_number(&number.to_string()));
    let view = env.service.status(&number).await.unwrap().unwrap();
    assert_eq!(view.status, TicketStatus::Registered);
    assert_eq!(view.level, 1);
    assert_eq!(view.department_code, "JSV");
    assert_eq!(
        view.due_at,
        env.clock.now() + Duration::days(7),
        "JSV SLA is 7 days"
    );
    assert!(!view.pending_sync);

    let store = &env.store;
    let now = env.clock.now();
    let t = store
        .assign(number, "ee-shimla", "supervisor:asha", None, now)
        .await
        .unwrap();
    assert_eq!(
        (t.status, t.assigned_to.as_deref()),
        (TicketStatus::Assigned, Some("ee-shimla"))
    );
    store
        .change_status(number, TicketStatus::InProgress, "officer:ee", None, now)
        .await
        .unwrap();
    store
        .add_note(number, "officer:ee", "pipe replaced at ward 4", now)
        .await
        .unwrap();
    store
        .change_status(
            number,
            TicketStatus::Resolved,
            "officer:ee",
            Some("supply restored"),
            now,
        )
        .await
        .unwrap();
    let t = env.service.feedback(&number, true, None).await.unwrap();
    assert_eq!(t.status, TicketStatus::ClosedSatisfied);
    assert_eq!(t.feedback_satisfied, Some(true));

    let audit = store.audit_trail(number).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created", "assigned", "status", "status", "note", "status", "feedback"
        ]
    );
    let resolved = &audit[5];
    assert_eq!(resolved.from_value.as_deref(), Some("in_progress"));
    assert_eq!(resolved.to_value.as_deref(), Some("resolved"));
    assert_eq!(resolved.reason.as_deref(), Some("supply restored"));
    assert_eq!(resolved.actor, "officer:ee");
    assert_eq!(
        store.notes(number).await.unwrap()[0].text,
        "pipe replaced at ward 4"
    );

    let mut out = Vec::new();
    tickets::cli::tickets_show(store, &number.to_string(), &mut out)
        .await
        .unwrap();
    let shown = String::from_utf8(out).unwrap();
    for expected in [
        "closed_satisfied",
        "pipe replaced at ward 4",
        "feedback    satisfied",
        "ee-shimla",
        "supply restored",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing from:\n{shown}"
        );
    }

    let stats = store.stats(None, now).await.unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.disposed_share, 1.0);
    assert_eq!(stats.satisfied_share, 1.0);
    assert_eq!(stats.disposed_satisfied_share, 1.0);
    let open = env
        .service
        .create_from_call(call("call-2", "JSV"))
        .await
        .unwrap();
    assert!(env.service.status(&open).await.unwrap().is_some());
    let stats = store.stats(Some("JSV"), now).await.unwrap();
    assert_eq!(
        (
            stats.total,
            stats.disposed_share,
            stats.disposed_satisfied_share
        ),
        (2, 0.5, 0.5)
    );
    assert_eq!(store.stats(Some("PWR"), now).await.unwrap().total, 0);
}
contract!(lifecycle_to_closed);

async fn refused_transitions_say_why(env: Env) {
    let number = env
        .service
        .create_from_call(call("call-r", "PWR"))
        .await
        .unwrap();
    let now = env.clock.now();
    let store = &env.store;
    let err = store
        .change_status(number, TicketStatus::Resolved, "x", None, now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("registered cannot become resolved"),
        "{err}"
    );
    assert!(err.to_string().contains("assigned"), "{err}");

    let err = env.service.feedback(&number, true, None).await.unwrap_err();
    assert!(err.to_string().contains("only on resolved"), "{err}");

    walk(
        store,
        number,
        &[
            TicketStatus::Assigned,
            TicketStatus::InProgress,
            TicketStatus::Resolved,
        ],
        now,
    )
    .await;
    let err = store
        .assign(number, "other", "s", None, now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reopen it first"), "{err}");
    let t = env
        .service
        .feedback(&number, false, Some(FeedbackReason::NotResolved))
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::ClosedUnsatisfied);
    assert_eq!(t.feedback_reason, Some(FeedbackReason::NotResolved));
    // Not satisfied: the ticket can be reopened and worked again.
    let t = store
        .change_status(
            number,
            TicketStatus::Reopened,
            "s",
            Some("citizen unhappy"),
            now,
        )
        .await
        .unwrap();
    assert_eq!((t.reopen_count, t.feedback_satisfied), (1, None));
    walk(
        store,
        number,
        &[TicketStatus::InProgress, TicketStatus::Resolved],
        now,
    )
    .await;
    let t = env.service.feedback(&number, true, None).await.unwrap();
    let err = store
        .change_status(t.number, TicketStatus::Reopened, "s", None, now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("none (final)"), "{err}");

    let unknown = ComplaintNumber::from_payload(999_999_999).unwrap();
    assert!(matches!(
        store
            .change_status(unknown, TicketStatus::Assigned, "s", None, now)
            .await,
        Err(StoreError::TicketNotFound(_))
    ));
    assert!(env.service.status(&unknown).await.unwrap().is_none());

    let err = env
        .service
        .create_from_call(call("call-x", "NOPE"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NOPE"), "{err}");
}
contract!(refused_transitions_say_why);

async fn escalation_follows_the_clock(env: Env) {
    let water = env
        .service
        .create_from_call(call("esc-1", "JSV"))
        .await
        .unwrap(); // SLA 7 days
    let police = env
        .service
        .create_from_call(call("esc-2", "POL"))
        .await
        .unwrap(); // SLA 3 days
    let done = env
        .service
        .create_from_call(call("esc-3", "POL"))
        .await
        .unwrap();
    let now = env.clock.now();
    walk(
        &env.store,
        done,
        &[
            TicketStatus::Assigned,
            TicketStatus::InProgress,
            TicketStatus::Resolved,
        ],
        now,
    )
    .await;

    assert!(
        env.service
            .escalate_overdue(env.clock.now())
            .await
            .unwrap()
            .is_empty()
    );
    env.clock.advance(Duration::days(4));
    let raised = env.service.escalate_overdue(env.clock.now()).await.unwrap();
    assert_eq!(
        raised,
        vec![(police, 2)],
        "only the police ticket is past its 3 days"
    );
    assert!(
        env.service
            .escalate_overdue(env.clock.now())
            .await
            .unwrap()
            .is_empty(),
        "not twice"
    );
    // Counted once, by department and the level raised to; none before the day began.
    assert_eq!(
        env.store
            .escalations_since(env.clock.now() - Duration::hours(1))
            .await
            .unwrap(),
        vec![("POL".to_owned(), 2, 1)]
    );
    assert!(
        env.store
            .escalations_since(env.clock.now() + Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );

    let overdue_filter = TicketFilter {
        overdue_at: Some(env.clock.now()),
        ..Default::default()
    };
    assert_eq!(
        env.store
            .list_tickets(&overdue_filter, Page::default())
            .await
            .unwrap()
            .1,
        0
    );

    env.clock.advance(Duration::days(4));
    let raised: HashSet<_> = env
        .service
        .escalate_overdue(env.clock.now())
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(raised, HashSet::from([(water, 2), (police, 3)]));
    for _ in 0..3 {
        env.clock.advance(Duration::days(8));
        env.service.escalate_overdue(env.clock.now()).await.unwrap();
    }
    let t = env.store.ticket(police).await.unwrap().unwrap();
    assert_eq!(t.level, 4, "L4 is the top");
    assert!(
        env.store.ticket(done).await.unwrap().unwrap().level == 1,
        "resolved tickets are not escalated"
    );
    let audit = env.store.audit_trail(police).await.unwrap();
    let escalations: Vec<_> = audit.iter().filter(|a| a.action == "escalated").collect();
    assert_eq!(escalations.len(), 3);
    assert_eq!(escalations[0].from_value.as_deref(), Some("L1"));
    assert_eq!(escalations[0].to_value.as_deref(), Some("L2"));
    assert!(
        escalations[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("overdue")
    );
    assert_eq!(escalations[0].actor, "system:escalation");

    // Still overdue at L4: visible in the overdue list and the stats.
    let overdue_filter = TicketFilter {
        overdue_at: Some(env.clock.now()),
        ..Default::default()
    };
    let (overdue, total) = env
        .store
        .list_tickets(&overdue_filter, Page::default())
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert!(overdue.iter().all(|t| t.level == 4));
    assert_eq!(
        env.store
            .stats(None, env.clock.now())
            .await
            .unwrap()
            .overdue,
        2
    );

    // The SLA is configurable per department and applies to new due dates.
    env.store.set_department_sla("JSV", 2).await.unwrap();
    let fresh = env
        .service
        .create_from_call(call("esc-4", "JSV"))
        .await
        .unwrap();
    let view = env.service.status(&fresh).await.unwrap().unwrap();
    assert_eq!(view.due_at, env.clock.now() + Duration::days(2));
}
contract!(escalation_follows_the_clock);

async fn concurrent_retries_make_one_ticket(env: Env) {
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let service = env.service.clone();
        tasks.push(tokio::spawn(async move {
            service.create_from_call(call("same-call", "HLT")).await
        }));
    }
    let mut numbers = HashSet::new();
    for task in tasks {
        numbers.insert(task.await.unwrap().unwrap());
    }
    assert_eq!(numbers.len(), 1, "every retry got the same number");
    let filter = TicketFilter {
        caller_number: Some("+919816012345".into()),
        ..Default::default()
    };
    let (tickets, total) = env
        .store
        .list_tickets(&filter, Page::default())
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(tickets[0].call_id.as_deref(), Some("same-call"));
    // And a retry long after still answers the same.
    let again = env
        .service
        .create_from_call(call("same-call", "HLT"))
        .await
        .unwrap();
    assert!(numbers.contains(&again));
}
contract!(concurrent_retries_make_one_ticket);

async fn numbers_unique_across_nodes(env: Env) {
    let other = env.another_node("b").await;
    let mut tasks = Vec::new();
    for i in 0..150 {
        for (node, service) in [("a", env.service.clone()), ("b", other.clone())] {
            tasks.push(tokio::spawn(async move {
                service
                    .create_from_call(call(&format!("{node}-{i}"), "EDU"))
                    .await
            }));
        }
    }
    let mut numbers = HashSet::new();
    for task in tasks {
        assert!(
            numbers.insert(task.await.unwrap().unwrap()),
            "a number was handed out twice"
        );
    }
    assert_eq!(numbers.len(), 300);
    let (_, total) = env
        .store
        .list_tickets(&TicketFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(total, 300);
}
contract!(numbers_unique_across_nodes);

async fn recordings_are_kept_as_evidence(env: Env) {
    let audio = b"RIFF\x24\x00\x00\x00WAVEfmt fake audio for the test".to_vec();
    let sha = hex::encode(Sha256::digest(&audio));
    let mut c = call("rec-1", "FCS");
    c.recording = Some(Recording {
        audio: RecordingAudio::Bytes(audio.clone()),
        duration_ms: 4200,
        sha256: Some(sha.clone()),
    });
    let number = env.service.create_from_call(c).await.unwrap();
    let t = env.store.ticket(number).await.unwrap().unwrap();
    let rec = t.recording.unwrap();
    assert_eq!(rec.file_name, format!("{number}.wav"));
    assert_eq!(
        (rec.sha256.as_str(), rec.duration_ms, rec.bytes),
        (sha.as_str(), 4200, audio.len() as u64)
    );
    assert_eq!(
        std::fs::read(env.service.recordings_dir().join(&rec.file_name)).unwrap(),
        audio
    );

    // From a file path too.
    let path = env.dir.join("from-engine.wav");
    std::fs::write(&path, &audio).unwrap();
    let mut c = call("rec-2", "FCS");
    c.recording = Some(Recording {
        audio: RecordingAudio::File(path.clone()),
        duration_ms: 4200,
        sha256: None,
    });
    let second = env.service.create_from_call(c).await.unwrap();
    assert!(
        env.service
            .recordings_dir()
            .join(format!("{second}.wav"))
            .exists()
    );
    assert!(path.exists(), "the engine's file is left alone");

    // Evidence that cannot be kept (checksum mismatch, a spooled file that vanished) never costs
    // the citizen the complaint: it is filed without audio and the audit trail says why.
    let problems = [
        (
            RecordingAudio::Bytes(audio),
            Some("00".repeat(32)),
            "SHA-256 mismatch",
        ),
        (
            RecordingAudio::File(env.dir.join("gone.wav")),
            None,
            "gone.wav",
        ),
    ];
    for (i, (audio, sha256, why)) in problems.into_iter().enumerate() {
        let mut c = call(&format!("rec-bad-{i}"), "FCS");
        c.recording = Some(Recording {
            audio,
            duration_ms: 4200,
            sha256,
        });
        let number = env.service.create_from_call(c).await.unwrap();
        let t = env.store.ticket(number).await.unwrap().unwrap();
        assert!(t.recording.is_none());
        assert!(
            !env.service
                .recordings_dir()
                .join(format!("{number}.wav"))
                .exists()
        );
        let created = &env.store.audit_trail(number).await.unwrap()[0];
        let reason = created.reason.as_deref().unwrap();
        assert!(
            reason.contains("recording not kept") && reason.contains(why),
            "{reason}"
        );
    }
}
contract!(recordings_are_kept_as_evidence);

/// Issue 9: a ticket filed without its recording (the audio not fetched or not kept: a full disk) gets it
/// attached when the same complaint is filed again with it, once; the caller learns when it is kept, so
/// it deletes its own copy (Asterisk's) only then.
async fn a_recording_found_later_is_attached_to_its_ticket(env: Env) {
    let audio = b"RIFF\x24\x00\x00\x00WAVEfmt the complaint, found again".to_vec();
    let mut first = call("ivr-c9-record_complaint-1", "REV");
    first.recording = Some(Recording {
        audio: RecordingAudio::File(env.dir.join("spool-was-full.wav")),
        duration_ms: 5000,
        sha256: None,
    });
    let filed = env.service.file_from_call(first).await.unwrap();
    assert!(filed.created && !filed.recording_kept, "{filed:?}");
    assert!(
        env.store
            .ticket(filed.number)
            .await
            .unwrap()
            .unwrap()
            .recording
            .is_none()
    );

    let mut again = call("ivr-c9-record_complaint-1", "GAD");
    again.caller_number = "unknown".to_owned();
    again.recording = Some(Recording {
        audio: RecordingAudio::Bytes(audio.clone()),
        duration_ms: 5000,
        sha256: None,
    });
    let second = env.service.file_from_call(again.clone()).await.unwrap();
    assert_eq!(
        second.number, filed.number,
        "the same complaint, the same ticket"
    );
    assert!(!second.created && second.recording_kept, "{second:?}");
    let t = env.store.ticket(filed.number).await.unwrap().unwrap();
    assert_eq!(
        t.department_code, "REV",
        "nothing but the recording changes"
    );
    assert_eq!(t.caller_number, "+919816012345");
    let rec = t.recording.expect("attached");
    assert_eq!(rec.bytes, audio.len() as u64);
    assert_eq!(
        std::fs::read(env.service.recordings_dir().join(&rec.file_name)).unwrap(),
        audio
    );
    let trail = env.store.audit_trail(filed.number).await.unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "recording_attached")
            .count(),
        1
    );

    // A third filing finds it kept and attaches nothing more.
    let third = env.service.file_from_call(again).await.unwrap();
    assert!(third.recording_kept);
    let trail = env.store.audit_trail(filed.number).await.unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "recording_attached")
            .count(),
        1
    );
}
contract!(a_recording_found_later_is_attached_to_its_ticket);

/// Issue 11: several nodes starting at once on one brand-new database (a SQLite file, a PostgreSQL
/// schema) wait for each other rather than fail (a clean CI run once failed here with SQLite's
/// `database is locked`): exactly one of them applies the migrations, the others find them applied,
/// every one ends up with a usable store. Several rounds, each on a fresh database.
async fn nodes_starting_together_migrate_once(env: Env) {
    const NODES: usize = 6;
    const ROUNDS: usize = 4;
    let everything: Vec<i64> = (1..=tickets::store::SCHEMA_VERSION).collect();
    for round in 0..ROUNDS {
        let (url, options, _guard) = crate::support::fresh_database(&env).await;
        let mut nodes = tokio::task::JoinSet::new();
        for _ in 0..NODES {
            let (url, options) = (url.clone(), options.clone());
            nodes.spawn(async move {
                let store = tickets::Store::open(&url, &options).await?;
                let applied = store.migrate().await?;
                Ok::<_, StoreError>((store, applied))
            });
        }
        let mut applied_by = Vec::new();
        for result in nodes.join_all().await {
            let (store, applied) =
                result.unwrap_or_else(|e| panic!("round {round}: a node failed to start: {e}"));
            assert!(store.department("JSV").await.unwrap().is_some());
            if !applied.is_empty() {
                applied_by.push(applied);
            }
            assert!(
                store.migrate().await.unwrap().is_empty(),
                "round {round}: already migrated"
            );
            store.close().await;
        }
        assert_eq!(
            applied_by,
            vec![everything.clone()],
            "round {round}: one node applied every migration, once"
        );
    }
}
contract!(nodes_starting_together_migrate_once);

/// Moves a ticket through `steps` (assigning an officer for `assigned`), failing the test on refusal.
pub async fn walk(
    store: &tickets::Store,
    number: ComplaintNumber,
    steps: &[TicketStatus],
    now: chrono::DateTime<chrono::Utc>,
) {
    for step in steps {
        if *step == TicketStatus::Assigned {
            store
                .assign(number, "officer-1", "supervisor:test", None, now)
                .await
                .unwrap();
        } else {
            store
                .change_status(number, *step, "officer:test", None, now)
                .await
                .unwrap();
        }
    }
}

/// Issue 9 (DPDP Act, 2023): a citizen's recording is kept as long as its complaint needs it — while
/// open, resolved or reopened — and deleted a set time after closure (180 days satisfied, 365 not, by
/// default), with the audit trail saying so. The ticket itself stays.
async fn recordings_are_deleted_a_set_time_after_closure(env: Env) {
    let with_audio = |key: &str| {
        let mut c = call(key, "JSV");
        c.recording = Some(Recording {
            audio: RecordingAudio::Bytes(b"RIFF\x24\x00\x00\x00WAVEfmt a citizen's voice".to_vec()),
            duration_ms: 3000,
            sha256: None,
        });
        c
    };
    let store = &env.store;
    let mut numbers = Vec::new();
    for (key, satisfied) in [
        ("keep-sat", Some(true)),
        ("keep-unsat", Some(false)),
        ("open", None),
    ] {
        let number = env.service.create_from_call(with_audio(key)).await.unwrap();
        let now = env.clock.now();
        store
            .assign(number, "ee", "supervisor:asha", None, now)
            .await
            .unwrap();
        for to in [TicketStatus::InProgress, TicketStatus::Resolved] {
            store
                .change_status(number, to, "officer:ee", None, now)
                .await
                .unwrap();
        }
        if let Some(satisfied) = satisfied {
            env.service
                .feedback(&number, satisfied, None)
                .await
                .unwrap();
        }
        numbers.push(number);
    }
    let file_of = |n: ComplaintNumber| env.service.recordings_dir().join(format!("{n}.wav"));
    assert_eq!(
        env.service.apply_retention(env.clock.now()).await.unwrap(),
        0
    );

    env.clock.advance(Duration::days(181));
    assert_eq!(
        env.service.apply_retention(env.clock.now()).await.unwrap(),
        1
    );
    let satisfied = store.ticket(numbers[0]).await.unwrap().unwrap();
    assert_eq!(satisfied.status, TicketStatus::ClosedSatisfied);
    assert!(satisfied.recording.is_none() && !file_of(numbers[0]).exists());
    let trail = store.audit_trail(numbers[0]).await.unwrap();
    let deleted = trail
        .iter()
        .find(|e| e.action == "recording_deleted")
        .unwrap();
    assert!(
        deleted.reason.as_deref().unwrap().contains("180 days"),
        "{deleted:?}"
    );
    assert!(file_of(numbers[1]).exists(), "not satisfied: kept longer");

    env.clock.advance(Duration::days(185));
    assert_eq!(
        env.service.apply_retention(env.clock.now()).await.unwrap(),
        1
    );
    assert!(
        store
            .ticket(numbers[1])
            .await
            .unwrap()
            .unwrap()
            .recording
            .is_none()
    );
    assert!(
        store
            .ticket(numbers[2])
            .await
            .unwrap()
            .unwrap()
            .recording
            .is_some()
            && file_of(numbers[2]).exists(),
        "a complaint not closed keeps its evidence however old"
    );
    assert_eq!(
        env.service.apply_retention(env.clock.now()).await.unwrap(),
        0,
        "nothing twice"
    );
}
contract!(recordings_are_deleted_a_set_time_after_closure);

async fn after_hours_complaints_wait_on_the_call_back_list_until_marked_called_back(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let after_hours = env
        .service
        .create_from_call(NewCallTicket {
            after_hours: true,
            ..call("night-1", "JSV")
        })
        .await
        .unwrap();
    let by_day = env
        .service
        .create_from_call(call("day-1", "JSV"))
        .await
        .unwrap();
    let due = TicketFilter {
        callback_due: true,
        ..Default::default()
    };
    let listed = |filter: TicketFilter| async move {
        let (tickets, total) = store.list_tickets(&filter, Page::default()).await.unwrap();
        assert_eq!(usize::try_from(total).unwrap(), tickets.len());
        tickets.into_iter().map(|t| t.number).collect::<Vec<_>>()
    };
    assert_eq!(listed(due.clone()).await, [after_hours]);
    let day = TicketFilter {
        after_hours: Some(false),
        ..Default::default()
    };
    assert_eq!(listed(day).await, [by_day]);

    // Only a flagged ticket is called back, and only once.
    assert!(matches!(
        store
            .called_back(
                by_day,
                tickets::CallbackOutcome::Reached,
                None,
                "user:7",
                now
            )
            .await,
        Err(StoreError::NotAllowedNow(_))
    ));
    store
        .called_back(
            after_hours,
            tickets::CallbackOutcome::Reached,
            Some("spoke to her; the tanker came"),
            "user:7",
            now,
        )
        .await
        .unwrap();
    assert!(listed(due).await.is_empty());
    let again = store
        .called_back(
            after_hours,
            tickets::CallbackOutcome::NoAnswer,
            None,
            "user:8",
            now,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::NotAllowedNow(ref m)) if m.contains("user:7")),
        "{again:?}"
    );
    let audit = store.audit_trail(after_hours).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.to_value.as_deref(),
            last.reason.as_deref()
        ),
        (
            "called_back",
            "user:7",
            Some("reached"),
            Some("spoke to her; the tanker came")
        )
    );
    // Still flagged as filed after hours, for the record.
    assert!(
        store
            .ticket(after_hours)
            .await
            .unwrap()
            .unwrap()
            .after_hours
    );
}
contract!(after_hours_complaints_wait_on_the_call_back_list_until_marked_called_back);
