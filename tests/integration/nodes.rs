//! Several nodes (issue 5 §4): two engines, each beside its own simulated Asterisk, sharing one
//! PostgreSQL. Every complaint number is unique and every ticket is there once.

use std::collections::HashSet;
use std::time::Duration;

use ari_sim::CallOutcome;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_postgresql_number_every_complaint_once() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::create(&url).await;
    let database_url = schema.database_url();
    // One after the other: the first migrates the fresh schema.
    let a = TestNode::start_on_database("node-a", &database_url, "02:fc:00:00:00:0a").await;
    let b = TestNode::start_on_database("node-b", &database_url, "02:fc:00:00:00:0b").await;

    let per_node = 15u32;
    let mut placed = Vec::new();
    for n in 0..per_node {
        for (node, name) in [(&a, "a"), (&b, "b")] {
            let caller = format!("96{}{n:07}", if name == "a" { 1 } else { 2 });
            let department = (n % 9 + 1).to_string();
            let id = node
                .sim
                .place_call(scenario(&caller, registration("2", &department, 2.0)))
                .await
                .unwrap();
            placed.push((name, caller, id));
        }
    }
    let mut numbers = HashSet::new();
    for (name, caller, id) in placed {
        let node = if name == "a" { &a } else { &b };
        let result = node
            .sim
            .call_result(id, Duration::from_secs(120))
            .await
            .unwrap();
        assert_eq!(
            result.outcome,
            CallOutcome::Completed,
            "node {name}, {caller}: {result:#?}"
        );
        let number = number_read_back(&result).unwrap();
        assert!(
            numbers.insert(number.clone()),
            "complaint number {number} given twice"
        );
        // Either node's store sees every ticket: one database.
        let ticket = b
            .node
            .tickets()
            .ticket(number.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ticket.caller_number, format!("+91{caller}"));
    }
    let (tickets, total) = a
        .node
        .tickets()
        .store()
        .list_tickets(
            &tickets::TicketFilter::default(),
            tickets::Page {
                limit: 1000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, u64::from(per_node) * 2, "every ticket present once");
    let distinct: HashSet<_> = tickets.iter().map(|t| t.number).collect();
    assert_eq!(distinct.len(), tickets.len());
    let call_ids: HashSet<_> = tickets.iter().filter_map(|t| t.call_id.clone()).collect();
    assert_eq!(call_ids.len(), tickets.len(), "one ticket per call");
    a.stop().await;
    b.stop().await;
    schema.drop_now().await;
}
