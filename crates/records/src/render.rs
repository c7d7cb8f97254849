//! A [`Report`] for people (aligned tables, as `helpline report` prints it) and for spreadsheets (CSV,
//! one section at a time). Disposal and satisfaction per department ([`DepartmentFigures`]) and
//! escalations per department and level ([`LevelFigures`]) come from the ticket store
//! ([`FromTickets`]), beside the call figures.

use std::io::Write;

use tickets::model::DepartmentFigures;

use crate::escalation::LevelFigures;
use crate::report::Report;

/// The ticket store's sections of a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct FromTickets<'a> {
    pub disposal: &'a [DepartmentFigures],
    pub escalations: &'a [LevelFigures],
}

/// One part of a report, as a CSV table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The headline call figures, one row per figure.
    Summary,
    /// Calls per hour or day.
    Series,
    /// Calls by outcome.
    Outcomes,
    /// Complaints filed in calls, per department.
    Complaints,
    /// Queue figures.
    Queues,
    /// Agent figures.
    Agents,
    /// Disposal and satisfaction per department (all complaints, from the ticket store).
    Disposal,
    /// Complaints and overdue ones per department and level (all complaints, from the ticket store).
    Escalations,
}

impl Section {
    pub const ALL: [(&'static str, Section); 8] = [
        ("summary", Section::Summary),
        ("series", Section::Series),
        ("outcomes", Section::Outcomes),
        ("complaints", Section::Complaints),
        ("queues", Section::Queues),
        ("agents", Section::Agents),
        ("disposal", Section::Disposal),
        ("escalations", Section::Escalations),
    ];
}

impl std::str::FromStr for Section {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Section::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, section)| *section)
            .ok_or_else(|| {
                let names: Vec<&str> = Section::ALL.iter().map(|(n, _)| *n).collect();
                format!("{s:?} is not a section: {}", names.join(", "))
            })
    }
}

/// A table: a header and rows of cells, rendered aligned or as CSV.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// How many leading columns are text (names, times: left-aligned); the rest are figures.
    text_columns: usize,
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn seconds(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0))
}

fn hours(ms: i64) -> String {
    format!("{:.2}", ms as f64 / 3_600_000.0)
}

fn table(report: &Report, tickets: &FromTickets, section: Section) -> Table {
    let c = &report.calls;
    match section {
        Section::Summary => Table {
            header: vec!["figure", "value"],
            rows: [
                ("calls", c.calls.to_string()),
                ("answered", c.answered.to_string()),
                ("served without an agent", c.contained.to_string()),
                ("IVR containment", percent(c.containment)),
                ("complaints filed", c.complaints_filed.to_string()),
                ("average call (s)", seconds(c.average_duration_ms)),
            ]
            .into_iter()
            .map(|(k, v)| vec![k.to_owned(), v])
            .collect(),
            text_columns: 1,
        },
        Section::Series => Table {
            header: vec![
                "start",
                "calls",
                "contained",
                "complaints",
                "to agent",
                "abandoned",
            ],
            rows: report
                .series
                .iter()
                .map(|r| {
                    vec![
                        r.start.format("%Y-%m-%d %H:%M").to_string(),
                        r.calls.to_string(),
                        r.contained.to_string(),
                        r.complaints_filed.to_string(),
                        r.to_agent.to_string(),
                        r.abandoned.to_string(),
                    ]
                })
                .collect(),
            text_columns: 1,
        },
        Section::Outcomes => Table {
            header: vec!["outcome", "calls"],
            rows: c
                .outcomes
                .iter()
                .map(|o| vec![o.outcome.to_owned(), o.calls.to_string()])
                .collect(),
            text_columns: 1,
        },
        Section::Complaints => Table {
            header: vec!["department", "complaints filed"],
            rows: report
                .complaints_by_department
                .iter()
                .map(|d| vec![d.department.clone(), d.complaints_filed.to_string()])
                .collect(),
            text_columns: 1,
        },
        Section::Queues => Table {
            header: vec![
                "queue",
                "target (s)",
                "offered",
                "answered",
                "in target",
                "abandoned",
                "short abandons",
                "overflowed",
                "refused",
                "moved out",
                "service level",
                "ASA (s)",
                "AHT (s)",
                "longest wait (s)",
                "ring no answer",
                "transferred",
                "call-backs offered",
                "call-backs accepted",
                "call-backs given up",
            ],
            rows: report
                .queues
                .iter()
                .map(|q| {
                    vec![
                        q.queue.clone(),
                        q.service_level_seconds.to_string(),
                        q.offered.to_string(),
                        q.answered.to_string(),
                        q.answered_within_target.to_string(),
                        q.abandoned.to_string(),
                        q.abandoned_short.to_string(),
                        q.overflowed.to_string(),
                        q.refused.to_string(),
                        q.moved_out.to_string(),
                        percent(q.service_level),
                        seconds(q.average_speed_of_answer_ms),
                        seconds(q.average_handle_time_ms),
                        seconds(Some(q.longest_wait_ms)),
                        q.ring_no_answer.to_string(),
                        q.transferred.to_string(),
                        q.callbacks_offered.to_string(),
                        q.callbacks_accepted.to_string(),
                        q.callbacks_failed.to_string(),
                    ]
                })
                .collect(),
            text_columns: 1,
        },
        Section::Agents => Table {
            header: vec![
                "agent",
                "answered",
                "ring no answer",
                "logged in (h)",
                "paused (h)",
                "talk (h)",
                "wrap-up (h)",
                "AHT (s)",
                "pauses",
            ],
            rows: report
                .agents
                .iter()
                .map(|a| {
                    let pauses: Vec<String> = a
                        .paused_by_reason
                        .iter()
                        .map(|p| format!("{} {}", p.reason, hours(p.ms)))
                        .collect();
                    vec![
                        a.agent.clone(),
                        a.calls_answered.to_string(),
                        a.ring_no_answer.to_string(),
                        hours(a.logged_in_ms),
                        hours(a.paused_ms),
                        hours(a.talk_ms),
                        hours(a.wrapup_ms),
                        seconds(a.average_handle_time_ms),
                        pauses.join("; "),
                    ]
                })
                .collect(),
            text_columns: 1,
        },
        Section::Disposal => Table {
            text_columns: 2,
            header: vec![
                "department",
                "name",
                "complaints",
                "disposed",
                "disposed %",
                "satisfied % of closed",
                "disposed satisfied %",
                "overdue",
            ],
            rows: tickets
                .disposal
                .iter()
                .map(|d| {
                    let closed = d.closed_satisfied + d.closed_unsatisfied;
                    vec![
                        d.code.clone(),
                        d.name.clone(),
                        d.total.to_string(),
                        d.disposed.to_string(),
                        percent((d.total > 0).then_some(d.disposed_share)),
                        percent((closed > 0).then_some(d.satisfied_share)),
                        percent((d.total > 0).then_some(d.disposed_satisfied_share)),
                        d.overdue.to_string(),
                    ]
                })
                .collect(),
        },
        Section::Escalations => Table {
            text_columns: 3,
            header: vec!["department", "name", "level", "complaints", "overdue"],
            rows: tickets
                .escalations
                .iter()
                .map(|l| {
                    vec![
                        l.department.clone(),
                        l.name.clone(),
                        format!("L{}", l.level),
                        l.complaints.to_string(),
                        l.overdue.to_string(),
                    ]
                })
                .collect(),
        },
    }
}

/// Writes one section as CSV (a header row, then one row per line of the table).
pub fn write_csv(
    report: &Report,
    tickets: &FromTickets,
    section: Section,
    out: &mut dyn Write,
) -> Result<(), csv::Error> {
    let t = table(report, tickets, section);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&t.header)?;
    for row in &t.rows {
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the whole report as aligned tables, each with its title; empty sections say so.
pub fn write_tables(
    report: &Report,
    tickets: &FromTickets,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(
            &report
                .time_zone
                .parse::<chrono_tz::Tz>()
                .unwrap_or(chrono_tz::UTC),
        )
        .format("%Y-%m-%d %H:%M")
        .to_string()
    };
    writeln!(
        out,
        "Calls from {} to {} ({}), service level target {} s unless the queue has its own{}",
        local(report.from),
        local(report.to),
        report.time_zone,
        report.service_level_seconds,
        [
            ("department", &report.department),
            ("language", &report.language),
            ("queue", &report.queue),
            ("agent", &report.agent),
        ]
        .iter()
        .filter_map(|(what, value)| value.as_deref().map(|v| format!(", {what} {v}")))
        .collect::<String>()
    )?;
    let titled = [
        ("Summary", Section::Summary),
        ("Outcomes", Section::Outcomes),
        ("Calls by time", Section::Series),
        ("Complaints filed per department", Section::Complaints),
        ("Queues", Section::Queues),
        ("Agents", Section::Agents),
        (
            "Disposal and satisfaction per department (all complaints)",
            Section::Disposal,
        ),
        (
            "Escalations and overdue per department and level (all complaints)",
            Section::Escalations,
        ),
    ];
    for (title, section) in titled {
        writeln!(out)?;
        writeln!(out, "{title}")?;
        let mut t = table(report, tickets, section);
        if section == Section::Series {
            // For a person, the hours (or days) with calls; the CSV keeps every one, for charts.
            t.rows
                .retain(|row| row.get(1).is_some_and(|calls| calls != "0"));
        }
        if t.rows.is_empty() {
            writeln!(out, "  (none)")?;
            continue;
        }
        write_aligned(&t, out)?;
    }
    Ok(())
}

fn write_aligned(t: &Table, out: &mut dyn Write) -> std::io::Result<()> {
    let mut widths: Vec<usize> = t.header.iter().map(|h| h.chars().count()).collect();
    for row in &t.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut dyn Write| {
        let mut text = String::from(" ");
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            // Names and times left-aligned, figures right-aligned.
            let gap = if i == 0 { " " } else { "  " };
            if i < t.text_columns {
                text.push_str(&format!("{gap}{cell:<w$}"));
            } else {
                text.push_str(&format!("{gap}{cell:>w$}"));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&mut t.header.iter().copied(), out)?;
    for row in &t.rows {
        line(&mut row.iter().map(String::as_str), out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallRecord, FiledTicket, Outcome};
    use crate::report::{ReportBuilder, ReportSpec};

    fn report() -> Report {
        let from: chrono::DateTime<chrono::Utc> = "2026-12-01T18:30:00Z".parse().unwrap();
        let mut b = ReportBuilder::new(ReportSpec::new(
            from,
            from + chrono::Duration::days(1),
            chrono_tz::Asia::Kolkata,
            from,
        ));
        let mut r = CallRecord::arrived("a", "a", "n", "+919816012345", from);
        r.outcome = Outcome::ComplaintFiled;
        r.tickets.push(FiledTicket {
            number: "1".into(),
            department: "PWD, roads".into(),
        });
        b.call(&r);
        b.finish()
    }

    #[test]
    fn csv_quotes_what_needs_it_and_names_the_columns() {
        let mut out = Vec::new();
        write_csv(
            &report(),
            &FromTickets::default(),
            Section::Complaints,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "department,complaints filed\n\"PWD, roads\",1\n"
        );
        let mut out = Vec::new();
        write_csv(
            &report(),
            &FromTickets::default(),
            Section::Summary,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("IVR containment,100.0%\n"), "{text}");
    }

    #[test]
    fn queues_and_escalations_have_a_column_per_figure() {
        let from: chrono::DateTime<chrono::Utc> = "2026-12-01T18:30:00Z".parse().unwrap();
        let mut b = ReportBuilder::new(ReportSpec::new(
            from,
            from + chrono::Duration::days(1),
            chrono_tz::Asia::Kolkata,
            from,
        ));
        let at = from + chrono::Duration::hours(10);
        for (call, event) in [
            ("a", "ENTER_QUEUE"),
            ("a", "CONNECT"),
            ("b", "ENTER_QUEUE"),
            ("b", "ABANDON"),
            ("c", "FULL"),
        ] {
            let event = serde_json::from_value(serde_json::json!({
                "event": event, "call_id": call, "queue": "grievance", "agent": "asha",
                "position": 1, "hold_ms": 4_000, "wait_ms": 2_000,
            }))
            .unwrap();
            b.event(&crate::QueueLogEntry { at, event });
        }
        let report = b.finish();
        let escalations = [LevelFigures {
            department: "PWD".into(),
            name: "Public Works".into(),
            level: 2,
            complaints: 3,
            overdue: 1,
        }];
        let tickets = FromTickets {
            disposal: &[],
            escalations: &escalations,
        };
        let csv = |section| {
            let mut out = Vec::new();
            write_csv(&report, &tickets, section, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            csv(Section::Queues),
            "queue,target (s),offered,answered,in target,abandoned,short abandons,overflowed,\
             refused,moved out,service level,ASA (s),AHT (s),longest wait (s),ring no answer,\
             transferred,call-backs offered,call-backs accepted,call-backs given up\n\
             grievance,20,2,1,1,0,1,0,1,0,100.0%,4.0,-,4.0,0,0,0,0,0\n"
        );
        assert_eq!(
            csv(Section::Escalations),
            "department,name,level,complaints,overdue\nPWD,Public Works,L2,3,1\n"
        );
        let mut out = Vec::new();
        write_tables(&report, &tickets, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("(all complaints)\n  department  name          level  complaints  overdue\n  PWD         Public Works  L2              3        1\n"),
            "{text}"
        );
    }

    #[test]
    fn tables_are_aligned_and_empty_sections_say_so() {
        let mut out = Vec::new();
        write_tables(&report(), &FromTickets::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("Calls from 2026-12-02 00:00 to 2026-12-03 00:00 (Asia/Kolkata)"),
            "{text}"
        );
        assert!(text.contains("Queues\n  (none)\n"), "{text}");
        // The day's one call, not a row per empty hour.
        assert!(
            text.contains("Calls by time\n  start             calls  contained  complaints  to agent  abandoned\n  2026-12-02 00:00      1 "),
            "{text}"
        );
        assert!(
            text.contains("\n  calls                         1\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  IVR containment          100.0%\n"),
            "{text}"
        );
        assert!("summary".parse::<Section>().is_ok());
        assert!(
            "everything"
                .parse::<Section>()
                .unwrap_err()
                .contains("disposal")
        );
    }
}
