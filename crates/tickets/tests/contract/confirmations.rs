//! Confirmation calls (issue 15): a row written with the change to `resolved`, each try's end on the
//! audit trail, the citizen's verdict and the policy after the last try applied with the ticket's
//! change, cancelled when the ticket leaves `resolved` another way.

use chrono::Duration;
use tickets::store::GiveUp;
use tickets::{Clock, ConfirmationState, FeedbackReason, Page, StoreError, TicketStatus};

use crate::contract;
use crate::lifecycle::{call, walk};
use crate::support::Env;

const TO_RESOLVED: [TicketStatus; 3] = [
    TicketStatus::Assigned,
    TicketStatus::InProgress,
    TicketStatus::Resolved,
];

async fn resolved(env: &Env, key: &str) -> tickets::ComplaintNumber {
    let number = env
        .service
        .create_from_call(call(key, "JSV"))
        .await
        .unwrap();
    walk(&env.store, number, &TO_RESOLVED, env.clock.now()).await;
    number
}

fn actions(audit: &[tickets::AuditEntry]) -> Vec<(&str, Option<&str>)> {
    audit
        .iter()
        .map(|a| (a.action.as_str(), a.to_value.as_deref()))
        .collect()
}

async fn resolving_schedules_a_call_and_a_retry_waits(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let number = resolved(&env, "c-1").await;
    let due = store.due_confirmations(now, 10).await.unwrap();
    assert_eq!(due.len(), 1, "{due:?}");
    let c = &due[0];
    assert_eq!(
        (c.number, c.round, c.state, c.attempts),
        (number, 1, ConfirmationState::Pending, 0)
    );
    assert_eq!(
        (
            c.caller_number.as_str(),
            c.language.as_str(),
            c.department_code.as_str()
        ),
        ("+919816012345", "hi", "JSV")
    );
    assert_eq!(c.resolved_at, now);

    store.confirmation_dialling(c.id, 1, now).await.unwrap();
    let next = now + Duration::hours(4);
    store
        .confirmation_not_reached(c.id, 1, "no_answer", next, now)
        .await
        .unwrap();
    assert!(store.due_confirmations(now, 10).await.unwrap().is_empty());
    let again = store.due_confirmations(next, 10).await.unwrap();
    assert_eq!(
        (again[0].attempts, again[0].last_cause.as_deref()),
        (1, Some("no_answer"))
    );
    let audit = store.audit_trail(number).await.unwrap();
    assert_eq!(
        actions(&audit).last(),
        Some(&("confirmation_call", Some("no_answer")))
    );
    assert!(
        audit
            .last()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("try 1")
    );

    // Pressed 1 on the next try: closed satisfied, the row done, nothing more due.
    let t = store
        .confirmation_verdict(c.id, 2, true, None, next)
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::ClosedSatisfied);
    assert_eq!(t.feedback_satisfied, Some(true));
    let rows = store.confirmations_of(number).await.unwrap();
    assert_eq!(
        (rows[0].state, rows[0].attempts),
        (ConfirmationState::Satisfied, 2)
    );
    assert!(store.due_confirmations(next, 10).await.unwrap().is_empty());
    // A second verdict for the same call is refused, and changes nothing.
    let err = store
        .confirmation_verdict(c.id, 2, false, None, next)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowedNow(_)), "{err}");
    assert_eq!(
        store.ticket(number).await.unwrap().unwrap().status,
        TicketStatus::ClosedSatisfied
    );
}
contract!(resolving_schedules_a_call_and_a_retry_waits);

async fn not_satisfied_reopens_and_escalates_with_the_reason(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let number = resolved(&env, "c-2").await;
    // The department's L2 officer takes the escalated complaint, as with any escalation.
    let l2 = store
        .create_officer(
            &tickets::OfficerInput {
                name: Some("SE Shimla".to_owned()),
                department_code: Some("JSV".to_owned()),
                level: Some(2),
                phone: Some("98160 12345".to_owned()),
                nodal: Some(false),
                reminder_channel: Some(tickets::ReminderChannel::Sms),
                active: None,
            },
            "admin:root",
            now,
        )
        .await
        .unwrap();
    let c = store.due_confirmations(now, 10).await.unwrap().remove(0);
    let t = store
        .confirmation_verdict(c.id, 1, false, Some(FeedbackReason::PartiallyResolved), now)
        .await
        .unwrap();
    assert_eq!(
        (t.status, t.level, t.reopen_count),
        (TicketStatus::Reopened, 2, 1)
    );
    assert_eq!(
        (t.officer_id, t.assigned_to.as_deref()),
        (Some(l2.id), Some("SE Shimla"))
    );
    assert_eq!(t.feedback_reason, Some(FeedbackReason::PartiallyResolved));
    assert_eq!(t.due_at, now + Duration::days(7), "the SLA clock restarts");
    let audit = store.audit_trail(number).await.unwrap();
    let tail: Vec<_> = actions(&audit).into_iter().rev().take(2).collect();
    assert_eq!(
        tail,
        [("escalated", Some("L2")), ("feedback", Some("reopened"))]
    );
    assert!(
        audit
            .last()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("partially_resolved"),
        "{audit:?}"
    );
    assert_eq!(
        store.confirmations_of(number).await.unwrap()[0].state,
        ConfirmationState::Reopened
    );
    // Resolved again: a second round, its own call.
    walk(
        store,
        number,
        &[TicketStatus::InProgress, TicketStatus::Resolved],
        now,
    )
    .await;
    let rounds = store.confirmations_of(number).await.unwrap();
    assert_eq!(
        rounds
            .iter()
            .map(|r| (r.round, r.state))
            .collect::<Vec<_>>(),
        [
            (1, ConfirmationState::Reopened),
            (2, ConfirmationState::Pending)
        ]
    );
}
contract!(not_satisfied_reopens_and_escalates_with_the_reason);

async fn after_the_last_try_the_policy_never_satisfied(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let closed = resolved(&env, "c-3").await;
    let flagged = resolved(&env, "c-4").await;
    let due = store.due_confirmations(now, 10).await.unwrap();
    let id_of = |n| due.iter().find(|c| c.number == n).unwrap().id;

    let t = store
        .confirmation_given_up(id_of(closed), 3, "busy", GiveUp::CloseUnverified, now)
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::ClosedUnverified);
    assert_eq!(t.feedback_satisfied, None, "no verdict was given");
    let audit = store.audit_trail(closed).await.unwrap();
    assert_eq!(
        actions(&audit).last(),
        Some(&("status", Some("closed_unverified")))
    );

    let t = store
        .confirmation_given_up(id_of(flagged), 3, "no_answer", GiveUp::CallBack, now)
        .await
        .unwrap();
    assert_eq!(t.status, TicketStatus::Resolved, "left for a person to ask");
    let list = store
        .confirmations_in_state(ConfirmationState::CallBack, Page::default())
        .await
        .unwrap();
    assert_eq!(list.iter().map(|c| c.number).collect::<Vec<_>>(), [flagged]);
    assert_eq!(list[0].last_cause.as_deref(), Some("no_answer"));
    // The agent reaches the citizen and records their feedback: off the list.
    env.service.feedback(&flagged, true, None).await.unwrap();
    assert!(
        store
            .confirmations_in_state(ConfirmationState::CallBack, Page::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.confirmations_of(flagged).await.unwrap()[0].state,
        ConfirmationState::Cancelled
    );
    // Closed unverified can still be reopened by the citizen's complaint.
    walk(store, closed, &[TicketStatus::Reopened], now).await;
}
contract!(after_the_last_try_the_policy_never_satisfied);

async fn leaving_resolved_another_way_cancels_the_call(env: Env) {
    let store = &env.store;
    let now = env.clock.now();
    let number = resolved(&env, "c-5").await;
    let c = store.due_confirmations(now, 10).await.unwrap().remove(0);
    walk(store, number, &[TicketStatus::Reopened], now).await;
    assert!(store.due_confirmations(now, 10).await.unwrap().is_empty());
    let err = store.confirmation_dialling(c.id, 1, now).await.unwrap_err();
    assert!(matches!(err, StoreError::NotAllowedNow(_)), "{err}");
    let err = store
        .confirmation_not_reached(c.id, 1, "busy", now, now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowedNow(_)), "{err}");
    assert_eq!(
        store.confirmations_of(number).await.unwrap()[0].state,
        ConfirmationState::Cancelled
    );
}
contract!(leaving_resolved_another_way_cancels_the_call);

/// The agents' call-back list over the API: the complaints no try reached, with the number to
/// call; an officer sees their own department's only; a bad state is refused by name.
async fn the_call_back_list_over_the_api(env: Env) {
    use crate::api::{Api, token};
    use axum::http::StatusCode;
    use tickets::Role;

    let store = &env.store;
    let now = env.clock.now();
    let flagged = resolved(&env, "c-6").await;
    let c = store.due_confirmations(now, 10).await.unwrap().remove(0);
    store
        .confirmation_given_up(c.id, 3, "no_answer", GiveUp::CallBack, now)
        .await
        .unwrap();
    let api = Api::new(&env);
    let supervisor = token(&env, Role::Supervisor, None).await;
    let (s, v) = api.call("GET", "/confirmations", &supervisor, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 1, "{v}");
    let item = &v["items"][0];
    assert_eq!(item["number"], flagged.to_string());
    assert_eq!(
        (
            item["state"].as_str(),
            item["attempts"].as_u64(),
            item["last_cause"].as_str()
        ),
        (Some("call_back"), Some(3), Some("no_answer"))
    );
    assert_eq!(item["caller_number"], "+919816012345");
    let (_, v) = api
        .call("GET", "/confirmations?state=pending", &supervisor, None)
        .await;
    assert_eq!(v["total"], 0, "{v}");
    let other = token(&env, Role::Officer, Some("PWD")).await;
    let (s, v) = api.call("GET", "/confirmations", &other, None).await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(0)), "{v}");
    let own = token(&env, Role::Officer, Some("JSV")).await;
    let (_, v) = api.call("GET", "/confirmations", &own, None).await;
    assert_eq!(v["total"], 1, "{v}");
    let (s, v) = api
        .call("GET", "/confirmations?state=happy", &supervisor, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}
contract!(the_call_back_list_over_the_api);
