//! The report's escalations section on both backends: tickets filed over seven weeks in three
//! departments are escalated by the daily job (and a few by hand), some resolved; the complaints and
//! overdue ones per department and level are then computed again here by following the same rules on
//! the generated tickets — due after the department's SLA, one level up when the job finds the due
//! date passed, never above L4 — and compared with `records::escalation::escalations`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use records::escalation::{LevelFigures, escalations};
use tickets::{ComplaintNumber, TicketRecord, TicketSource, TicketStatus};

mod support;
use support::{Rng, databases};

const DEPARTMENTS: usize = 3;

struct Generated {
    number: ComplaintNumber,
    department: String,
    created: DateTime<Utc>,
    /// Escalated by a supervisor at the end.
    by_hand: bool,
    /// Resolved at the end.
    resolved: bool,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0)
        .single()
        .expect("valid")
}

#[tokio::test]
async fn escalations_per_department_and_level_are_the_ticket_stores_as_its_rules_make_them() {
    let now = start() + Duration::days(50);
    let mut rng = Rng(1100);
    for (url, options) in databases("escalations").await {
        let store = tickets::Store::connect_with(&url, options)
            .await
            .expect("tickets");
        let departments: Vec<tickets::Department> = store
            .departments()
            .await
            .expect("departments")
            .into_iter()
            .take(DEPARTMENTS)
            .collect();
        assert_eq!(departments.len(), DEPARTMENTS, "seeded departments");
        let sla: BTreeMap<String, i64> = departments
            .iter()
            .map(|d| (d.code.clone(), i64::from(d.sla_days)))
            .collect();
        let generated: Vec<Generated> = (0..240)
            .map(|i| Generated {
                number: ComplaintNumber::from_payload(100_000_000 + i).expect("a number"),
                department: departments[rng.below(DEPARTMENTS as u64) as usize]
                    .code
                    .clone(),
                created: start() + Duration::minutes(rng.below(49 * 24 * 60) as i64),
                by_hand: i % 11 == 1,
                resolved: i % 7 == 0,
            })
            .collect();
        let records: Vec<TicketRecord> = generated
            .iter()
            .map(|g| TicketRecord {
                number: g.number,
                call_id: Some(format!("call-{}", g.number.as_digits())),
                source: TicketSource::Ivr,
                caller_number: "9816000000".into(),
                caller_raw: None,
                language: "hi".into(),
                department_code: g.department.clone(),
                category: None,
                district: None,
                description: None,
                recording: None,
                after_hours: false,
                created_at: g.created,
                created_by: "system:ivr".into(),
                filed_by: None,
                evidence_problem: None,
            })
            .collect();
        store.insert_tickets(&records, false).await.expect("insert");
        // The escalation job, once a day at 04:00 UTC, last run four days before `now`: what fell
        // due since is overdue.
        let runs: Vec<DateTime<Utc>> = (1..=46).map(|d| start() + Duration::days(d)).collect();
        for at in &runs {
            store.escalate_overdue(*at).await.expect("escalation job");
        }
        // The job's rules, followed on the generated tickets: (level, due) after the last run.
        let after_job = |g: &Generated| {
            let sla = Duration::days(sla[&g.department]);
            let (mut level, mut due) = (1u8, g.created + sla);
            for at in runs.iter().filter(|at| **at > g.created) {
                if due < *at && level < 4 {
                    level += 1;
                    due = *at + sla;
                }
            }
            (level, due)
        };
        let by_hand_at = now - Duration::hours(1);
        for g in &generated {
            if g.by_hand {
                let raised = store
                    .escalate(
                        g.number,
                        "supervisor",
                        "the citizen called again",
                        by_hand_at,
                    )
                    .await;
                // At L4 already, a hand escalation is refused.
                assert_eq!(raised.is_ok(), after_job(g).0 < 4, "{raised:?}");
            }
            if g.resolved {
                store
                    .assign(g.number, "officer", "supervisor", None, now)
                    .await
                    .expect("assign");
                for to in [TicketStatus::InProgress, TicketStatus::Resolved] {
                    store
                        .change_status(g.number, to, "officer", None, now)
                        .await
                        .expect("status");
                }
            }
        }

        let mut want: BTreeMap<(String, u8), (u64, u64)> = BTreeMap::new();
        for g in &generated {
            let (mut level, mut due) = after_job(g);
            if g.by_hand && level < 4 {
                level += 1;
                due = by_hand_at + Duration::days(sla[&g.department]);
            }
            let overdue = !g.resolved && due < now;
            let row = want.entry((g.department.clone(), level)).or_default();
            row.0 += 1;
            row.1 += u64::from(overdue);
        }
        let name: BTreeMap<&str, &str> = departments
            .iter()
            .map(|d| (d.code.as_str(), d.name.as_str()))
            .collect();
        let want: Vec<LevelFigures> = want
            .into_iter()
            .map(
                |((department, level), (complaints, overdue))| LevelFigures {
                    name: name[department.as_str()].to_owned(),
                    department,
                    level,
                    complaints,
                    overdue,
                },
            )
            .collect();
        let got = escalations(&store, None, now).await.expect("escalations");
        assert_eq!(got, want, "{url}");
        // Enough of every kind for the comparison to mean something.
        assert!(
            got.iter().any(|l| l.level == 4) && got.iter().any(|l| l.level == 2 && l.overdue > 0),
            "{got:#?}"
        );
        let one = &departments[1].code;
        let mine = escalations(&store, Some(one), now).await.expect("one");
        assert!(!mine.is_empty());
        assert_eq!(
            mine,
            want.iter()
                .filter(|l| &l.department == one)
                .cloned()
                .collect::<Vec<_>>()
        );
        store.close().await;
    }
}
