//! What the `helpline` command line runs for `db migrate`, `token create`, and `tickets
//! list|show|stats`. Each function takes parsed arguments and a store, and writes plain text to `out`
//! (the CLI passes stdout); argument parsing and `anyhow` stay in the binary.

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::error::TicketError;
use crate::model::{Page, Role, Ticket, TicketFilter, TicketStatus};
use crate::number::ComplaintNumber;
use crate::store::Store;
use crate::tokens::{CreatedToken, create_token};
use crate::validate;

/// Errors of the CLI helpers: the ticket system's, or writing the output.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Ticket(#[from] TicketError),
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

/// `helpline db migrate`: applies pending migrations; prints what was applied.
pub async fn db_migrate(store: &Store, out: &mut dyn Write) -> Result<Vec<i64>, CliError> {
    let applied = store.migrate().await?;
    if applied.is_empty() {
        writeln!(
            out,
            "database is up to date (schema version {})",
            crate::store::SCHEMA_VERSION
        )?;
    } else {
        writeln!(out, "applied migrations: {applied:?}")?;
    }
    Ok(applied)
}

/// `helpline token create --role ROLE [--department CODE] --label TEXT`: prints the token ONCE.
pub async fn token_create(
    store: &Store,
    role: &str,
    department: Option<&str>,
    label: &str,
    out: &mut dyn Write,
) -> Result<CreatedToken, CliError> {
    let role: Role = role
        .parse()
        .map_err(|e: crate::model::UnknownValue| CliError::Usage(e.to_string()))?;
    let created = create_token(store, role, department, label, Utc::now()).await?;
    writeln!(
        out,
        "token id {} ({} {}{})",
        created.info.id,
        created.info.role,
        created.info.label,
        created
            .info
            .department_code
            .as_deref()
            .map(|d| format!(", department {d}"))
            .unwrap_or_default()
    )?;
    writeln!(out, "{}", created.token)?;
    writeln!(
        out,
        "This is the only time the token is shown; only its SHA-256 is stored."
    )?;
    Ok(created)
}

/// `helpline token list`: live tokens (ids, roles, labels — the secrets are not stored).
pub async fn token_list(store: &Store, out: &mut dyn Write) -> Result<usize, CliError> {
    let tokens = store.live_tokens().await?;
    for t in &tokens {
        writeln!(
            out,
            "{:>5}  {:<12} {:<6} {:<16}  {}",
            t.id,
            t.role,
            t.department_code.as_deref().unwrap_or("-"),
            short_time(t.created_at),
            t.label
        )?;
    }
    writeln!(out, "{} live tokens", tokens.len())?;
    Ok(tokens.len())
}

/// `helpline token revoke ID`: the token stops working at once.
pub async fn token_revoke(store: &Store, id: i64, out: &mut dyn Write) -> Result<(), CliError> {
    if store.revoke_token(id, Utc::now()).await? {
        writeln!(out, "token {id} revoked")?;
        Ok(())
    } else {
        Err(CliError::Usage(format!("no live token with id {id}")))
    }
}

/// Arguments of `helpline tickets list`.
#[derive(Debug, Clone, Default)]
pub struct ListArgs {
    pub status: Option<String>,
    pub department: Option<String>,
    pub level: Option<u8>,
    pub caller: Option<String>,
    pub overdue: bool,
    pub limit: u32,
    pub offset: u64,
}

/// `helpline tickets list`: one line per ticket, newest first, then the total.
pub async fn tickets_list(
    store: &Store,
    args: &ListArgs,
    out: &mut dyn Write,
) -> Result<u64, CliError> {
    let now = Utc::now();
    let status = args
        .status
        .as_deref()
        .map(str::parse::<TicketStatus>)
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(level) = args.level {
        if !(crate::model::MIN_LEVEL..=crate::model::MAX_LEVEL).contains(&level) {
            return Err(CliError::Usage(format!(
                "--level must be 1..=4, got {level}"
            )));
        }
    }
    let filter = TicketFilter {
        status,
        department_code: args
            .department
            .as_deref()
            .map(validate::department_code)
            .transpose()?,
        level: args.level,
        caller_number: args
            .caller
            .as_deref()
            .map(validate::caller_number)
            .transpose()?,
        created_from: None,
        created_to: None,
        overdue_at: args.overdue.then_some(now),
    };
    let limit = if args.limit == 0 {
        50
    } else {
        args.limit.min(1000)
    };
    let (tickets, total) = store
        .list_tickets(
            &filter,
            Page {
                limit,
                offset: args.offset,
            },
        )
        .await?;
    writeln!(
        out,
        "{:<10}  {:<18}  {:<5}  {:<2}  {:<16}  {:<16}  caller",
        "number", "status", "dept", "lv", "created", "due"
    )?;
    for t in &tickets {
        writeln!(
            out,
            "{:<10}  {:<18}  {:<5}  L{}  {:<16}  {:<16}{} {}",
            t.number,
            t.status,
            t.department_code,
            t.level,
            short_time(t.created_at),
            short_time(t.due_at),
            if t.is_overdue(now) { "!" } else { " " },
            t.caller_number
        )?;
    }
    writeln!(out, "{} of {total} tickets", tickets.len())?;
    Ok(total)
}

/// `helpline tickets show NUMBER`: the ticket, its notes and its audit trail.
pub async fn tickets_show(
    store: &Store,
    number: &str,
    out: &mut dyn Write,
) -> Result<Ticket, CliError> {
    let number = ComplaintNumber::parse(number)
        .map_err(|e| CliError::Usage(format!("{number:?} is not a complaint number: {e}")))?;
    let ticket = store
        .ticket(number)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no ticket {number}")))?;
    let t = &ticket;
    writeln!(
        out,
        "complaint {}  ({} via {})",
        t.number, t.status, t.source
    )?;
    writeln!(
        out,
        "department  {} — {}",
        t.department_code, t.department_name
    )?;
    writeln!(
        out,
        "level       L{}   due {}{}",
        t.level,
        t.due_at.to_rfc3339(),
        if t.is_overdue(Utc::now()) {
            "  OVERDUE"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "caller      {}  language {}",
        t.caller_number, t.language
    )?;
    for (label, value) in [
        ("category", &t.category),
        ("district", &t.district),
        ("assigned", &t.assigned_to),
        ("call", &t.call_id),
        ("text", &t.description),
    ] {
        if let Some(v) = value {
            writeln!(out, "{label:<11} {v}")?;
        }
    }
    if let Some(r) = &t.recording {
        writeln!(
            out,
            "recording   {} ({} ms, {} bytes, sha256 {})",
            r.file_name, r.duration_ms, r.bytes, r.sha256
        )?;
    }
    if let Some(s) = t.feedback_satisfied {
        let reason = t
            .feedback_reason
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        writeln!(
            out,
            "feedback    {}{reason}",
            if s { "satisfied" } else { "not satisfied" }
        )?;
    }
    for note in store.notes(number).await? {
        writeln!(
            out,
            "note        {} {}: {}",
            short_time(note.at),
            note.author,
            note.text
        )?;
    }
    writeln!(out, "audit:")?;
    for a in store.audit_trail(number).await? {
        writeln!(
            out,
            "  {}  {:<22} {:<13} {} -> {}{}",
            short_time(a.at),
            a.actor,
            a.action,
            a.from_value.as_deref().unwrap_or("-"),
            a.to_value.as_deref().unwrap_or("-"),
            a.reason.map(|r| format!("  ({r})")).unwrap_or_default()
        )?;
    }
    Ok(ticket)
}

/// `helpline tickets stats [--department CODE]`: the headline figures; without a department, then a
/// table of them per department (departments with tickets only), most tickets first.
pub async fn tickets_stats(
    store: &Store,
    department: Option<&str>,
    out: &mut dyn Write,
) -> Result<crate::model::TicketStats, CliError> {
    let department = department.map(validate::department_code).transpose()?;
    let stats = store.stats(department.as_deref(), Utc::now()).await?;
    writeln!(out, "tickets      {}", stats.total)?;
    writeln!(out, "disposed     {:.1}%", stats.disposed_share * 100.0)?;
    writeln!(
        out,
        "satisfied    {:.1}% of closed",
        stats.satisfied_share * 100.0
    )?;
    writeln!(
        out,
        "disposed to the citizen's satisfaction {:.1}%",
        stats.disposed_satisfied_share * 100.0
    )?;
    writeln!(out, "overdue      {}", stats.overdue)?;
    for (status, count) in &stats.by_status {
        writeln!(out, "  {status:<18} {count}")?;
    }
    for (level, count) in &stats.by_level {
        writeln!(out, "  L{level:<17} {count}")?;
    }
    if department.is_none() {
        let mut report = store.department_report(Utc::now()).await?;
        report.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.code.cmp(&b.code)));
        writeln!(out)?;
        write_department_table(&report, out)?;
    }
    Ok(stats)
}

/// The per-department table of `tickets stats`. "-" where a share has nothing to divide (no
/// tickets closed with feedback yet), so it is not mistaken for 0 %.
fn write_department_table(
    report: &[crate::model::DepartmentFigures],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let percent = |share: f64| format!("{:.1}%", share * 100.0);
    let code_width = report
        .iter()
        .map(|d| d.code.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    writeln!(
        out,
        "{:<code_width$}  {:>7}  {:>8}  {:>19}  {:>18}  {:>7}",
        "dept", "tickets", "disposed", "satisfied of closed", "disposed satisfied", "overdue"
    )?;
    for d in report {
        let satisfied = if d.closed_satisfied + d.closed_unsatisfied == 0 {
            "-".to_owned()
        } else {
            percent(d.satisfied_share)
        };
        writeln!(
            out,
            "{:<code_width$}  {:>7}  {:>8}  {:>19}  {:>18}  {:>7}",
            d.code,
            d.total,
            percent(d.disposed_share),
            satisfied,
            percent(d.disposed_satisfied_share),
            d.overdue
        )?;
    }
    if report.is_empty() {
        writeln!(out, "(no tickets yet)")?;
    }
    Ok(())
}

fn short_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[tokio::test]
    async fn commands_print_what_they_did() {
        let dir = std::env::temp_dir().join(format!("tickets-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut out = Vec::new();
        assert_eq!(db_migrate(&store, &mut out).await.unwrap(), vec![1, 2]);
        assert!(db_migrate(&store, &mut out).await.unwrap().is_empty());
        let created = token_create(&store, "officer", Some("JSV"), "ee shimla", &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains(&created.token) && text.contains("only time"),
            "{text}"
        );
        assert!(matches!(
            token_create(&store, "officer", None, "x", &mut out).await,
            Err(CliError::Ticket(_))
        ));
        assert!(matches!(
            token_create(&store, "root", None, "x", &mut out).await,
            Err(CliError::Usage(_))
        ));

        let mut out = Vec::new();
        assert_eq!(token_list(&store, &mut out).await.unwrap(), 1);
        let listed = String::from_utf8(out).unwrap();
        assert!(
            listed.contains("ee shimla") && !listed.contains(&created.token),
            "{listed}"
        );
        token_revoke(&store, created.info.id, &mut Vec::new())
            .await
            .unwrap();
        let again = token_revoke(&store, created.info.id, &mut Vec::new()).await;
        assert!(matches!(again, Err(CliError::Usage(_))));
        assert_eq!(token_list(&store, &mut Vec::new()).await.unwrap(), 0);

        let mut out = Vec::new();
        assert_eq!(
            tickets_list(&store, &ListArgs::default(), &mut out)
                .await
                .unwrap(),
            0
        );
        assert!(String::from_utf8(out).unwrap().contains("0 of 0 tickets"));
        let bad = ListArgs {
            status: Some("done".into()),
            ..Default::default()
        };
        assert!(matches!(
            tickets_list(&store, &bad, &mut Vec::new()).await,
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            tickets_show(&store, "123", &mut Vec::new()).await,
            Err(CliError::Usage(_))
        ));
        let mut out = Vec::new();
        let stats = tickets_stats(&store, Some("JSV"), &mut out).await.unwrap();
        assert_eq!(stats.total, 0);
        assert!(String::from_utf8(out).unwrap().contains("disposed"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
