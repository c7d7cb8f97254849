//! Nothing lost, nothing twice: the database goes away (SQLite: another process holds the write lock;
//! PostgreSQL: the network to it is cut), callers still get durable numbers from the journal, a node
//! restarted mid-outage keeps its journal, and replay moves everything in exactly once.

use std::sync::Arc;

use sqlx::Connection;
use tickets::store::InsertOutcome;
use tickets::{
    Clock, ComplaintNumber, Page, Store, TicketFilter, TicketRecord, TicketService, TicketSource,
    TicketStatus,
};

use crate::contract;
use crate::lifecycle::call;
use crate::support::{
    CutProxy, Env, Kind, eventually, postgres_url, reroute_postgres_url, service_config,
};

/// Something that can take the database away from a service and give it back.
enum Outage {
    SqliteLock(sqlx::SqliteConnection),
    Proxy(CutProxy),
}

impl Outage {
    async fn begin(&mut self) {
        match self {
            Outage::SqliteLock(conn) => {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            Outage::Proxy(proxy) => proxy.cut().await,
        }
    }

    async fn end(&mut self) {
        match self {
            Outage::SqliteLock(conn) => {
                sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
            }
            Outage::Proxy(proxy) => proxy.restore(),
        }
    }
}

/// A service whose database connection can be cut, plus the switch.
async fn cuttable(env: &Env) -> (TicketService, Outage, String) {
    match env.kind {
        Kind::Sqlite => {
            let lock = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
            (
                env.service.clone(),
                Outage::SqliteLock(lock),
                env.url.clone(),
            )
        }
        Kind::Postgres => {
            let url = postgres_url().unwrap();
            let (upstream, _) = reroute_postgres_url(&url, 0);
            let proxy = CutProxy::start(upstream).await;
            let (_, via_proxy) = reroute_postgres_url(&env.url, proxy.port);
            let store = Store::connect_with(&via_proxy, env.options.clone())
                .await
                .unwrap();
            let service = TicketService::with_clock(
                store,
                service_config(&env.dir, "cut"),
                Arc::new(env.clock.clone()),
            )
            .await
            .unwrap();
            (service, Outage::Proxy(proxy), via_proxy)
        }
    }
}

async fn journal_keeps_tickets_through_an_outage(env: Env) {
    let (service, mut outage, url) = cuttable(&env).await;
    let before = service
        .create_from_call(call("before", "JSV"))
        .await
        .unwrap();

    outage.begin().await;
    let during = service
        .create_from_call(call("during-1", "JSV"))
        .await
        .unwrap();
    let during2 = service
        .create_from_call(call("during-2", "PWR"))
        .await
        .unwrap();
    assert_ne!(during, during2);
    assert_ne!(during, before);
    assert_eq!(service.journal_len().await, 2, "both went to the journal");
    assert!(service.database_down());
    // A retry of the same call during the outage: same number, no second entry.
    assert_eq!(
        service
            .create_from_call(call("during-1", "JSV"))
            .await
            .unwrap(),
        during
    );
    assert_eq!(service.journal_len().await, 2);
    // The IVR can still tell the caller where the complaint stands.
    let view = service.status(&during).await.unwrap().unwrap();
    assert!(view.pending_sync);
    assert_eq!(view.status, TicketStatus::Registered);
    assert_eq!(view.department_code, "JSV");
    assert!(
        view.department_name.starts_with("Jal Shakti"),
        "{}",
        view.department_name
    );
    assert_eq!(view.due_at, env.clock.now() + chrono::Duration::days(7));
    // Replay while still down fails and keeps the journal.
    assert!(service.replay_journal().await.is_err());
    assert_eq!(service.journal_len().await, 2);

    // The node restarts mid-outage: its journal and its reserved numbers survive.
    drop(service);
    let (restarted, dir) = match env.kind {
        Kind::Sqlite => (env.store.clone(), service_config(&env.dir, "a")),
        Kind::Postgres => (
            Store::open(&url, &env.options).await.unwrap(),
            service_config(&env.dir, "cut"),
        ),
    };
    let service = TicketService::with_clock(restarted, dir, Arc::new(env.clock.clone()))
        .await
        .unwrap();
    assert_eq!(
        service.journal_len().await,
        2,
        "journal reloaded after restart"
    );
    assert_eq!(
        service
            .create_from_call(call("during-2", "PWR"))
            .await
            .unwrap(),
        during2
    );
    let during3 = service
        .create_from_call(call("during-3", "HLT"))
        .await
        .unwrap();
    assert!(
        ![before, during, during2].contains(&during3),
        "no number reused after restart"
    );

    outage.end().await;
    let report = service.replay_journal().await.unwrap();
    assert_eq!((report.created, report.merged), (3, 0));
    assert_eq!(service.journal_len().await, 0);
    assert_eq!(
        service.replay_journal().await.unwrap().created,
        0,
        "replay twice writes nothing twice"
    );

    for (number, call_id) in [
        (during, "during-1"),
        (during2, "during-2"),
        (during3, "during-3"),
    ] {
        let t = env.store.ticket(number).await.unwrap().unwrap();
        assert_eq!(t.call_id.as_deref(), Some(call_id));
        assert_eq!(t.status, TicketStatus::Registered);
        assert_eq!(
            t.created_at,
            env.clock.now(),
            "created_at is when the caller filed it"
        );
    }
    let (_, total) = env
        .store
        .list_tickets(&TicketFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(total, 4);
    // Back to normal: new tickets go straight to the database.
    let after = service
        .create_from_call(call("after", "JSV"))
        .await
        .unwrap();
    assert_eq!(service.journal_len().await, 0);
    assert!(env.store.ticket(after).await.unwrap().is_some());
}
contract!(journal_keeps_tickets_through_an_outage);

async fn a_call_journaled_and_also_stored_is_merged_not_duplicated(env: Env) {
    // The database took the ticket but the answer never came back (a timeout), and the retry was
    // journaled under a second number that the caller heard. Replay keeps ONE ticket, and the second
    // number still finds it.
    let stored = env
        .service
        .create_from_call(call("twice", "REV"))
        .await
        .unwrap();
    let heard = ComplaintNumber::from_payload(stored.payload() + 500).unwrap();
    let journaled = TicketRecord {
        number: heard,
        call_id: Some("twice".into()),
        source: TicketSource::Ivr,
        caller_number: "+919816012345".into(),
        caller_raw: None,
        language: "hi".into(),
        department_code: "REV".into(),
        category: None,
        district: None,
        description: None,
        recording: None,
        after_hours: false,
        created_at: env.clock.now(),
        created_by: "system:ivr".into(),
        filed_by: None,
        evidence_problem: None,
    };
    let outcomes = env
        .store
        .insert_tickets(std::slice::from_ref(&journaled), true)
        .await
        .unwrap();
    assert_eq!(outcomes, vec![InsertOutcome::Existing(stored)]);
    let via_alias = env.store.ticket(heard).await.unwrap().unwrap();
    assert_eq!(via_alias.number, stored);
    assert_eq!(
        env.service.status(&heard).await.unwrap().unwrap().number,
        stored
    );
    let (_, total) = env
        .store
        .list_tickets(&TicketFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(total, 1);
    let audit = env.store.audit_trail(stored).await.unwrap();
    let merged: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "merged_number")
        .collect();
    assert_eq!(merged.len(), 1);
    assert_eq!(
        merged[0].from_value.as_deref(),
        Some(heard.to_string().as_str())
    );
    // Replaying the same record again changes nothing.
    env.store
        .insert_tickets(std::slice::from_ref(&journaled), true)
        .await
        .unwrap();
    assert_eq!(
        env.store.audit_trail(stored).await.unwrap().len(),
        audit.len()
    );
}
contract!(a_call_journaled_and_also_stored_is_merged_not_duplicated);

async fn background_job_replays_and_escalates(env: Env) {
    let (service, mut outage, _) = cuttable(&env).await;
    let late = service
        .create_from_call(call("bg-late", "POL"))
        .await
        .unwrap();
    env.clock.advance(chrono::Duration::days(4));
    outage.begin().await;
    let journaled = service
        .create_from_call(call("bg-down", "JSV"))
        .await
        .unwrap();
    assert_eq!(service.journal_len().await, 1);
    outage.end().await;

    let shutdown = tokio_util::sync::CancellationToken::new();
    let job = service.spawn_background(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_millis(50),
        shutdown.clone(),
    );
    eventually(
        std::time::Duration::from_secs(20),
        "the background job to replay the journal and escalate the late ticket",
        || async {
            let journal = service.journal_len().await;
            let level = env.store.ticket(late).await.unwrap().map(|t| t.level);
            if journal == 0 && level == Some(2) {
                Ok(())
            } else {
                Err(format!(
                    "{journal} journaled, late ticket at level {level:?}"
                ))
            }
        },
    )
    .await;
    assert!(env.store.ticket(journaled).await.unwrap().is_some());
    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), job)
        .await
        .unwrap()
        .unwrap();
}
contract!(background_job_replays_and_escalates);
