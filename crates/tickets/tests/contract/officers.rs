//! Officers and their reminders (issue 15): officers made, changed and deactivated in the account
//! audit; tickets assigned by officer id, old free text kept readable (and adopted by a new
//! officer of that name); escalation handing a ticket to the next level's officer; one reminder
//! per ticket per milestone — to the assigned officer or the nodal one, by call or by SMS through
//! the outbox — never twice across nodes, its tries claimed once, acknowledged on the audit trail.

use std::time::Duration as StdDuration;

use chrono::Duration;
use tickets::outbox::EventKind;
use tickets::{Clock, Milestone, OfficerInput, ReminderChannel, StoreError, TicketStatus};

use crate::contract;
use crate::lifecycle::call;
use crate::support::Env;

fn officer(name: &str, level: u8, nodal: bool, channel: ReminderChannel) -> OfficerInput {
    OfficerInput {
        name: Some(name.to_owned()),
        department_code: Some("JSV".to_owned()),
        level: Some(level),
        phone: Some("98160 12345".to_owned()),
        nodal: Some(nodal),
        reminder_channel: Some(channel),
        active: None,
    }
}

/// `input` made an officer by an administrator.
async fn make(
    store: &tickets::Store,
    input: OfficerInput,
    now: chrono::DateTime<chrono::Utc>,
) -> tickets::Officer {
    store
        .create_officer(&input, "admin:root", now)
        .await
        .unwrap()
}

const DAY: StdDuration = StdDuration::from_secs(86_400);

async fn officers_are_kept_audited_and_assigned_by_id(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    // An earlier build's free text stays readable; a new officer of that name adopts it.
    let old = env
        .service
        .create_from_call(call("o-1", "JSV"))
        .await
        .unwrap();
    store
        .assign(old, "EE Shimla", "supervisor:asha", None, now)
        .await
        .unwrap();
    let t = store.ticket(old).await.unwrap().unwrap();
    assert_eq!(
        (t.assigned_to.as_deref(), t.officer_id),
        (Some("EE Shimla"), None)
    );
    let ee = make(
        store,
        officer("EE Shimla", 1, false, ReminderChannel::Call),
        now,
    )
    .await;
    assert_eq!(ee.phone, "+919816012345");
    let t = store.ticket(old).await.unwrap().unwrap();
    assert_eq!(t.officer_id, Some(ee.id));

    // Bad fields: every problem at once; an unknown department named.
    let bad = OfficerInput {
        level: Some(7),
        phone: Some("x".into()),
        ..officer("", 1, false, ReminderChannel::Call)
    };
    let err = store.create_officer(&bad, "admin:root", now).await;
    assert!(
        matches!(&err, Err(tickets::store::OfficerError::Invalid(p)) if p.0.len() == 3),
        "{err:?}"
    );
    let elsewhere = OfficerInput {
        department_code: Some("XYZ".into()),
        ..officer("Nobody", 1, false, ReminderChannel::Call)
    };
    assert!(matches!(
        store.create_officer(&elsewhere, "admin:root", now).await,
        Err(tickets::store::OfficerError::Store(
            StoreError::UnknownDepartment(_)
        ))
    ));

    // Assigned by id: the id on the ticket, the name shown; another department's refused.
    let fresh = env
        .service
        .create_from_call(call("o-2", "JSV"))
        .await
        .unwrap();
    let t = store
        .assign_officer(fresh, ee.id, "supervisor:asha", None, now)
        .await
        .unwrap();
    assert_eq!(
        (t.status, t.officer_id, t.assigned_to.as_deref()),
        (TicketStatus::Assigned, Some(ee.id), Some("EE Shimla"))
    );
    let power = env
        .service
        .create_from_call(call("o-3", "PWR"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .assign_officer(power, ee.id, "supervisor:asha", None, now)
            .await,
        Err(StoreError::NotAllowedNow(_))
    ));

    // Escalation hands the ticket to the next level's officer (the nodal one first).
    let se = make(
        store,
        officer("SE Shimla", 2, false, ReminderChannel::Call),
        now,
    )
    .await;
    let se_nodal = make(
        store,
        officer("SE Nodal", 2, true, ReminderChannel::Sms),
        now,
    )
    .await;
    let t = store
        .escalate(fresh, "supervisor:asha", "slow", now)
        .await
        .unwrap();
    assert_eq!((t.level, t.officer_id), (2, Some(se_nodal.id)));
    // The overdue job too; a level without an officer keeps the assignment.
    store
        .deactivate_officer(se_nodal.id, "admin:root", now)
        .await
        .unwrap();
    let later = t.due_at + Duration::seconds(1);
    store.escalate_overdue(later).await.unwrap();
    let t = store.ticket(fresh).await.unwrap().unwrap();
    assert_eq!((t.level, t.officer_id), (3, Some(se_nodal.id)));
    let old_t = store.ticket(old).await.unwrap().unwrap();
    assert_eq!(
        (old_t.level, old_t.officer_id, old_t.assigned_to.as_deref()),
        (2, Some(se.id), Some("SE Shimla"))
    );

    // Listed by department; deactivated ones kept; every change in the account audit.
    let listed = store.officers(Some("JSV")).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(!listed.iter().find(|o| o.id == se_nodal.id).unwrap().active);
    let changed = store
        .update_officer(
            ee.id,
            &OfficerInput {
                reminder_channel: Some(ReminderChannel::Sms),
                ..OfficerInput::default()
            },
            "admin:root",
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.reminder_channel, changed.name.as_str()),
        (ReminderChannel::Sms, "EE Shimla")
    );
    let audit = store.account_events(20).await.unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .filter(|e| {
            e.subject
                .as_deref()
                .is_some_and(|s| s.starts_with("officer:"))
        })
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "officer_updated",
            "officer_deactivated",
            "officer_created",
            "officer_created",
            "officer_created"
        ]
    );
    assert!(
        audit.iter().any(|e| e
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("adopted 1 ticket"))),
        "{audit:?}"
    );
}
contract!(officers_are_kept_audited_and_assigned_by_id);

async fn one_reminder_per_milestone_to_the_right_officer(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let ee = make(
        store,
        officer("EE Shimla", 1, false, ReminderChannel::Call),
        now,
    )
    .await;
    let nodal = make(
        store,
        officer("Nodal JSV", 1, true, ReminderChannel::Sms),
        now,
    )
    .await;
    let assigned = env
        .service
        .create_from_call(call("r-1", "JSV"))
        .await
        .unwrap();
    store
        .assign_officer(assigned, ee.id, "supervisor:asha", None, now)
        .await
        .unwrap();
    let nobody = env
        .service
        .create_from_call(call("r-2", "JSV"))
        .await
        .unwrap();
    // No officer in the department: nobody to remind, nothing written.
    let unowned = env
        .service
        .create_from_call(call("r-3", "PWR"))
        .await
        .unwrap();
    let due = store.ticket(assigned).await.unwrap().unwrap().due_at;

    // Long before the due time: nothing owed.
    assert_eq!(
        store.schedule_reminders(now, DAY).await.unwrap(),
        tickets::store::Scheduled::default()
    );
    // Within a day of it: "nearing" — a call to the assigned officer, an SMS to the nodal one.
    let near = due - Duration::hours(12);
    let done = store.schedule_reminders(near, DAY).await.unwrap();
    assert_eq!((done.calls, done.sms), (1, 1));
    // Again, and from another node: never twice.
    assert_eq!(
        store.schedule_reminders(near, DAY).await.unwrap(),
        tickets::store::Scheduled::default()
    );
    let other = env.another_node("b").await;
    assert_eq!(
        other.store().schedule_reminders(near, DAY).await.unwrap(),
        tickets::store::Scheduled::default()
    );
    let r = store.reminders_of(assigned).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (
            r[0].milestone,
            r[0].channel,
            r[0].officer_id,
            r[0].state.as_str()
        ),
        (Milestone::Nearing, ReminderChannel::Call, ee.id, "pending")
    );
    let sms = store.reminders_of(nobody).await.unwrap();
    assert_eq!(
        (sms[0].officer_id, sms[0].channel, sms[0].state.as_str()),
        (nodal.id, ReminderChannel::Sms, "sent")
    );
    assert!(store.reminders_of(unowned).await.unwrap().is_empty());
    // The SMS reminder is an outbox event to the nodal officer's phone.
    let events = store.ticket_events(&nobody.to_string()).await.unwrap();
    let reminder = events
        .iter()
        .find(|e| e.kind == EventKind::OfficerReminder)
        .expect("an officer_reminder event");
    assert_eq!(reminder.caller_number, "+919816012345");
    assert!(
        reminder.payload.contains("\"to\":\"nearing\""),
        "{}",
        reminder.payload
    );

    // The call: claimed once per try (a second node's claim of the same try refused).
    let calls = store.due_reminder_calls(near, 10).await.unwrap();
    assert_eq!(calls.len(), 1);
    let id = calls[0].id;
    store.reminder_dialling(id, 1, near).await.unwrap();
    assert!(matches!(
        other.store().reminder_dialling(id, 1, near).await,
        Err(StoreError::NotAllowedNow(_))
    ));
    let next = near + Duration::hours(1);
    store
        .reminder_not_reached(id, 1, "no_answer", next, near)
        .await
        .unwrap();
    assert!(store.due_reminder_calls(near, 10).await.unwrap().is_empty());
    assert_eq!(store.due_reminder_calls(next, 10).await.unwrap().len(), 1);
    store.reminder_dialling(id, 2, next).await.unwrap();
    store.reminder_acknowledged(id, 2, next).await.unwrap();
    assert!(matches!(
        store.reminder_acknowledged(id, 2, next).await,
        Err(StoreError::NotAllowedNow(_))
    ));
    let audit = store.audit_trail(assigned).await.unwrap();
    let trail: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action.starts_with("reminder"))
        .map(|a| (a.action.as_str(), a.actor.as_str()))
        .collect();
    let officer_actor = format!("officer:{}", ee.id);
    assert_eq!(
        trail,
        [
            ("reminder", "system:reminder"),
            ("reminder_call", "system:reminder"),
            ("reminder_acknowledged", officer_actor.as_str()),
        ]
    );

    // Past the due time: the "overdue" milestone, once more (before the escalation moves it).
    let late = due + Duration::hours(30);
    let done = store.schedule_reminders(late, DAY).await.unwrap();
    assert_eq!((done.calls, done.sms), (1, 1));
    let r = store.reminders_of(assigned).await.unwrap();
    assert_eq!(
        r.iter().map(|r| r.milestone).collect::<Vec<_>>(),
        [Milestone::Nearing, Milestone::Overdue]
    );
    // Given up after the last try: logged on the audit trail.
    let id = r[1].id;
    store.reminder_dialling(id, 1, late).await.unwrap();
    store.reminder_given_up(id, 1, "busy", late).await.unwrap();
    let last = store.audit_trail(assigned).await.unwrap();
    let last = last.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.to_value.as_deref()),
        ("reminder_call", Some("given_up"))
    );
    assert!(store.reminders_of(assigned).await.unwrap()[1].state == "given_up");

    // A ticket closed before its call goes out: not dialled, cancelled.
    store.escalate_overdue(late).await.unwrap();
    let closed = env
        .service
        .create_from_call(call("r-4", "JSV"))
        .await
        .unwrap();
    store
        .assign_officer(closed, ee.id, "supervisor:asha", None, now)
        .await
        .unwrap();
    let due4 = store.ticket(closed).await.unwrap().unwrap().due_at;
    store
        .update_officer(
            nodal.id,
            &OfficerInput {
                active: Some(false),
                ..OfficerInput::default()
            },
            "admin:root",
            now,
        )
        .await
        .unwrap();
    let at = due4 - Duration::hours(1);
    store.schedule_reminders(at, DAY).await.unwrap();
    let pending = store.reminders_of(closed).await.unwrap();
    assert_eq!(pending.len(), 1);
    for step in [TicketStatus::InProgress, TicketStatus::Resolved] {
        store
            .change_status(closed, step, "officer:ee", None, at)
            .await
            .unwrap();
    }
    assert!(
        store
            .due_reminder_calls(at, 10)
            .await
            .unwrap()
            .iter()
            .all(|r| r.number != closed)
    );
    assert!(store.reminder_dialling(pending[0].id, 1, at).await.is_err());
    assert_eq!(
        store.reminders_of(closed).await.unwrap()[0].state,
        "cancelled"
    );
}
contract!(one_reminder_per_milestone_to_the_right_officer);
