//! The transactional outbox (issue 15): every change writes its event in its own transaction, a
//! refused change writes none, deliveries are planned once, claimed by one node at a time under a
//! lease, recorded only by their lease's owner, and a dead one is retried by an administrator with
//! an audit entry.

use std::time::Duration;

use chrono::Duration as Span;
use tickets::outbox::{DeliveryAudit, DeliveryState, EventKind, EventPayload};
use tickets::{Clock, Page, StoreError, TicketStatus};

use crate::contract;
use crate::lifecycle::call;
use crate::support::Env;

fn kinds(events: &[tickets::outbox::OutboxEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

async fn every_change_writes_its_event(env: Env) {
    let number = env
        .service
        .create_from_call(call("call-1", "JSV"))
        .await
        .unwrap();
    let store = &env.store;
    let now = env.clock.now();
    store
        .assign(number, "ee-shimla", "supervisor:asha", None, now)
        .await
        .unwrap();
    // Re-assigning keeps the status: no event.
    store
        .assign(number, "ee-solan", "supervisor:asha", None, now)
        .await
        .unwrap();
    // A refused change writes nothing.
    let refused = store
        .change_status(number, TicketStatus::ClosedSatisfied, "x", None, now)
        .await;
    assert!(matches!(refused, Err(StoreError::InvalidTransition { .. })));
    store
        .escalate(number, "supervisor:asha", "citizen called twice", now)
        .await
        .unwrap();
    store
        .change_status(number, TicketStatus::InProgress, "officer:ee", None, now)
        .await
        .unwrap();
    store
        .change_status(
            number,
            TicketStatus::Resolved,
            "officer:ee",
            Some("pipe fixed"),
            now,
        )
        .await
        .unwrap();
    store
        .change_status(number, TicketStatus::Reopened, "agent:1", None, now)
        .await
        .unwrap();
    store
        .change_status(number, TicketStatus::InProgress, "officer:ee", None, now)
        .await
        .unwrap();
    store
        .change_status(number, TicketStatus::Resolved, "officer:ee", None, now)
        .await
        .unwrap();
    store
        .feedback(number, true, None, "citizen", now)
        .await
        .unwrap();

    let events = store.ticket_events(&number.to_string()).await.unwrap();
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::Registered,
            EventKind::StatusChanged,
            EventKind::Escalated,
            EventKind::StatusChanged,
            EventKind::Resolved,
            EventKind::Reopened,
            EventKind::StatusChanged,
            EventKind::Resolved,
            EventKind::StatusChanged,
        ]
    );
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
    for event in &events {
        assert_eq!(event.caller_number, "+919816012345");
        assert_eq!(event.language, "hi");
        let body: EventPayload = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(body.id, event.id);
        assert_eq!(body.kind, event.kind);
        assert_eq!(body.ticket.number, number.to_string());
        assert!(
            !event.payload.contains("9816012345"),
            "a webhook body carries no caller number: {}",
            event.payload
        );
    }
    let registered: EventPayload = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(registered.ticket.department_code, "JSV");
    assert_eq!(registered.ticket.due_at, now + Span::days(7));
    let escalated: EventPayload = serde_json::from_str(&events[2].payload).unwrap();
    assert_eq!(
        (
            escalated.change.from.as_deref(),
            escalated.change.to.as_str()
        ),
        (Some("L1"), "L2")
    );
    assert_eq!(escalated.ticket.level, 2);
    let resolved: EventPayload = serde_json::from_str(&events[4].payload).unwrap();
    assert_eq!(resolved.change.reason.as_deref(), Some("pipe fixed"));
    let closed: EventPayload = serde_json::from_str(&events[8].payload).unwrap();
    assert_eq!(closed.ticket.status, TicketStatus::ClosedSatisfied);

    // The escalation job's raise has its event too.
    let other = env
        .service
        .create_from_call(call("call-2", "JSV"))
        .await
        .unwrap();
    let raised = store.escalate_overdue(now + Span::days(8)).await.unwrap();
    assert_eq!(raised, vec![(other, 2)]);
    let events = store.ticket_events(&other.to_string()).await.unwrap();
    assert_eq!(
        kinds(&events),
        vec![EventKind::Registered, EventKind::Escalated]
    );
}
contract!(every_change_writes_its_event);

async fn deliveries_are_planned_once_claimed_once_and_kept_by_their_owner(env: Env) {
    let number = env
        .service
        .create_from_call(call("call-1", "JSV"))
        .await
        .unwrap();
    let store = &env.store;
    let now = env.clock.now();
    let events = store.unplanned_events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.ticket_number, number.to_string());
    let targets = vec!["sms".to_owned(), "webhook:portal".to_owned()];
    store
        .plan_deliveries(&event.id, &targets, now)
        .await
        .unwrap();
    // Another node planning it again adds nothing.
    store
        .plan_deliveries(&event.id, &targets, now)
        .await
        .unwrap();
    assert!(store.unplanned_events(10).await.unwrap().is_empty());
    assert_eq!(store.outbox_counts().await.unwrap().backlog, 2);

    let lease = Duration::from_secs(30);
    // Two nodes claim at once: each delivery goes to exactly one of them.
    let (a, b) = tokio::join!(
        store.claim_deliveries("node-a", now, lease, 10),
        store.claim_deliveries("node-b", now, lease, 10)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 2, "a: {a:?}, b: {b:?}");
    let mut all: Vec<_> = a
        .iter()
        .map(|d| ("node-a", d))
        .chain(b.iter().map(|d| ("node-b", d)))
        .collect();
    all.sort_by_key(|(_, d)| d.target.clone());
    assert_eq!(all[0].1.target, "sms");
    assert_eq!(all[0].1.attempts, 1);
    assert_eq!(all[0].1.event.id, event.id);
    // While leased, nobody else gets them.
    assert!(
        store
            .claim_deliveries("node-c", now + Span::seconds(29), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (sms_owner, sms) = all[0];
    let (hook_owner, hook) = all[1];
    // Not the owner: nothing written.
    assert!(
        !store
            .delivery_succeeded(sms.id, "node-c", "msg-1", None, now)
            .await
            .unwrap()
    );
    let audit = DeliveryAudit {
        action: "sms_sent",
        reason: "gateway message id msg-1".to_owned(),
    };
    assert!(
        store
            .delivery_succeeded(sms.id, sms_owner, "msg-1", Some(&audit), now)
            .await
            .unwrap()
    );
    let trail = store.audit_trail(number).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "sms_sent"
                && e.reason.as_deref() == Some("gateway message id msg-1")),
        "{trail:?}"
    );
    // A delivered one is never claimed again, nor recorded twice.
    assert!(
        !store
            .delivery_succeeded(sms.id, sms_owner, "msg-2", None, now)
            .await
            .unwrap()
    );

    // The webhook fails: retried later, then its lease owner crashes mid-try and its lease runs
    // out: another node takes it over and the first one's late outcome is not written.
    let retry_at = now + Span::seconds(5);
    assert!(
        store
            .delivery_failed(hook.id, hook_owner, "HTTP 500", Some(retry_at), None, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_deliveries("node-c", now + Span::seconds(4), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let taken = store
        .claim_deliveries("node-c", retry_at, lease, 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    assert_eq!(taken[0].last_error.as_deref(), Some("HTTP 500"));
    let later = retry_at + Span::seconds(31);
    let taken_over = store
        .claim_deliveries("node-d", later, lease, 10)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 1);
    assert_eq!(taken_over[0].attempts, 3);
    assert!(
        !store
            .delivery_succeeded(hook.id, "node-c", "200", None, later)
            .await
            .unwrap(),
        "a lease taken over is not the old owner's to record"
    );
    // The last try fails: dead.
    assert!(
        store
            .delivery_failed(hook.id, "node-d", "HTTP 500", None, None, later)
            .await
            .unwrap()
    );
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.backlog, counts.dead, counts.delivered), (0, 1, 1));
    let dead = store
        .deliveries(DeliveryState::Dead, Page::default())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].target, "webhook:portal");
    assert!(
        store
            .claim_deliveries("node-c", later + Span::hours(1), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "a dead letter is not tried again by itself"
    );

    // An administrator retries it: pending, due now, tries counted afresh, audited.
    let refused = store
        .retry_dead_delivery(sms.id, "user:admin", None, later)
        .await;
    assert!(matches!(refused, Err(StoreError::NotAllowedNow(_))));
    assert!(matches!(
        store
            .retry_dead_delivery(9999, "user:admin", None, later)
            .await,
        Err(StoreError::DeliveryNotFound(9999))
    ));
    let retried = store
        .retry_dead_delivery(hook.id, "user:admin", Some("portal fixed"), later)
        .await
        .unwrap();
    assert_eq!(
        (retried.state, retried.attempts),
        (DeliveryState::Pending, 0)
    );
    let trail = store.audit_trail(number).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "notification_retried"
            && e.actor == "user:admin"
            && e.to_value.as_deref() == Some("webhook:portal")),
        "{trail:?}"
    );
    let again = store
        .claim_deliveries("node-c", later, lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
}
contract!(deliveries_are_planned_once_claimed_once_and_kept_by_their_owner);
