//! Per-department figures ("disposal and satisfaction rates per department"): exact counts and
//! shares over tickets in several departments and statuses, overdue at a chosen instant, and the
//! CLI's aligned tables.

use chrono::Duration;
use tickets::{Clock, ComplaintNumber, DepartmentFigures, FeedbackReason, TicketStatus};

use crate::contract;
use crate::lifecycle::call;
use crate::support::Env;

/// Files a call ticket in `department` now and walks it along the lifecycle to `to`.
async fn ticket_in(
    env: &Env,
    call_id: &str,
    department: &str,
    to: TicketStatus,
) -> ComplaintNumber {
    use TicketStatus::*;
    let number = env
        .service
        .create_from_call(call(call_id, department))
        .await
        .unwrap();
    let (store, now) = (&env.store, env.clock.now());
    if to == Registered {
        return number;
    }
    store
        .assign(number, "officer-1", "supervisor:test", None, now)
        .await
        .unwrap();
    if to == Assigned {
        return number;
    }
    for step in [InProgress, Resolved] {
        store
            .change_status(number, step, "officer:test", None, now)
            .await
            .unwrap();
        if to == step {
            return number;
        }
    }
    match to {
        ClosedSatisfied => {
            env.service.feedback(&number, true, None).await.unwrap();
        }
        ClosedUnsatisfied => {
            env.service
                .feedback(&number, false, Some(FeedbackReason::TooSlow))
                .await
                .unwrap();
        }
        other => panic!("ticket_in does not drive to {other}"),
    }
    assert_eq!(store.ticket(number).await.unwrap().unwrap().status, to);
    number
}

async fn department_name(env: &Env, code: &str) -> String {
    env.store.department(code).await.unwrap().unwrap().name
}

async fn department_report_counts_and_shares(env: Env) {
    use TicketStatus::*;
    let t0 = env.clock.now();
    // JSV (SLA 7 days): five tickets at t0, one in each of five statuses.
    for (i, status) in [
        Registered,
        InProgress,
        Resolved,
        ClosedSatisfied,
        ClosedUnsatisfied,
    ]
    .into_iter()
    .enumerate()
    {
        ticket_in(&env, &format!("jsv-{i}"), "JSV", status).await;
    }
    // PWR (SLA 5 days): one closed satisfied at t0, one registered four days later (due t0 + 9d).
    ticket_in(&env, "pwr-0", "PWR", ClosedSatisfied).await;
    env.clock.advance(Duration::days(4));
    ticket_in(&env, "pwr-1", "PWR", Registered).await;
    // REV (SLA 15 days): one registered at t0 + 4d.
    ticket_in(&env, "rev-0", "REV", Registered).await;

    // Eight days in: JSV's two open tickets (due t0 + 7d) are overdue, nothing else is.
    let report = env
        .store
        .department_report(t0 + Duration::days(8))
        .await
        .unwrap();
    let expected = vec![
        DepartmentFigures {
            code: "JSV".into(),
            name: department_name(&env, "JSV").await,
            total: 5,
            disposed: 3,
            closed_satisfied: 1,
            closed_unsatisfied: 1,
            overdue: 2,
            disposed_share: 0.6,
            satisfied_share: 0.5,
            disposed_satisfied_share: 0.2,
        },
        DepartmentFigures {
            code: "PWR".into(),
            name: department_name(&env, "PWR").await,
            total: 2,
            disposed: 1,
            closed_satisfied: 1,
            closed_unsatisfied: 0,
            overdue: 0,
            disposed_share: 0.5,
            satisfied_share: 1.0,
            disposed_satisfied_share: 0.5,
        },
        DepartmentFigures {
            code: "REV".into(),
            name: department_name(&env, "REV").await,
            total: 1,
            disposed: 0,
            closed_satisfied: 0,
            closed_unsatisfied: 0,
            overdue: 0,
            disposed_share: 0.0,
            satisfied_share: 0.0,
            disposed_satisfied_share: 0.0,
        },
    ];
    assert_eq!(report, expected, "departments without tickets are left out");
    assert!(
        report[0].name.starts_with("Jal Shakti"),
        "{}",
        report[0].name
    );

    // Twenty days in, every open ticket is overdue; the overall figures agree with the rows.
    let later = t0 + Duration::days(20);
    let report = env.store.department_report(later).await.unwrap();
    let overdue: Vec<(&str, u64)> = report
        .iter()
        .map(|d| (d.code.as_str(), d.overdue))
        .collect();
    assert_eq!(overdue, [("JSV", 2), ("PWR", 1), ("REV", 1)]);
    let overall = env.store.stats(None, later).await.unwrap();
    assert_eq!(
        (overall.total, overall.overdue),
        (
            report.iter().map(|d| d.total).sum(),
            report.iter().map(|d| d.overdue).sum()
        )
    );
    assert_eq!(
        (
            overall.disposed_share,
            overall.satisfied_share,
            overall.disposed_satisfied_share
        ),
        (0.5, 2.0 / 3.0, 0.25),
        "8 tickets: 4 disposed, 2 of 3 closed satisfied"
    );

    // The CLI: the overall figures, then one row per department, most tickets first, aligned.
    let mut out = Vec::new();
    tickets::cli::tickets_stats(&env.store, None, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("dept"))
        .collect();
    assert_eq!(table.len(), 4, "header and three rows:\n{text}");
    assert!(
        table.iter().all(|l| l.len() == table[0].len()),
        "columns line up:\n{text}"
    );
    let cells = |line: &str| -> Vec<String> {
        // The overdue column depends on the wall clock (the CLI reports "now"); leave it out.
        let mut cells: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        cells.pop();
        cells
    };
    assert_eq!(cells(table[1]), ["JSV", "5", "60.0%", "50.0%", "20.0%"]);
    assert_eq!(cells(table[2]), ["PWR", "2", "50.0%", "100.0%", "50.0%"]);
    assert_eq!(
        cells(table[3]),
        ["REV", "1", "0.0%", "-", "0.0%"],
        "no closed tickets: '-', not 0%"
    );

    // With a department filter there is no table.
    let mut out = Vec::new();
    tickets::cli::tickets_stats(&env.store, Some("PWR"), &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("dept"), "{text}");
    assert!(text.contains("tickets      2"), "{text}");

    // `tickets list` columns line up however long each status name is.
    let mut out = Vec::new();
    tickets::cli::tickets_list(&env.store, &tickets::cli::ListArgs::default(), &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let dept_column = header.find("dept").unwrap();
    let rows: Vec<&str> = lines.filter(|l| l.contains("+91")).collect();
    assert_eq!(rows.len(), 8, "{text}");
    for row in rows {
        let code = &row[dept_column..dept_column + 3];
        assert!(
            ["JSV", "PWR", "REV"].contains(&code),
            "misaligned row {row:?} in\n{text}"
        );
    }
}
contract!(department_report_counts_and_shares);

async fn department_report_of_an_empty_database_is_empty(env: Env) {
    let report = env.store.department_report(env.clock.now()).await.unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut out = Vec::new();
    tickets::cli::tickets_stats(&env.store, None, &mut out)
        .await
        .unwrap();
    assert!(String::from_utf8(out).unwrap().contains("(no tickets yet)"));
}
contract!(department_report_of_an_empty_database_is_empty);
