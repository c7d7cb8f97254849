//! What the `helpline` command line runs for `db migrate`, `user add|list|disable|passwd`, `token
//! create|list|revoke`, `tickets list|show|stats`, `notifications dead|retry|status` and `officers
//! list|add|update|deactivate`. Each function takes parsed arguments and a store, and writes plain text to `out`
//! (the CLI passes stdout); argument parsing and `anyhow` stay in the binary.

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::accounts::{self, AccountError, Hasher, NewUser, Scope, User};
use crate::error::TicketError;
use crate::model::{Page, Role, Ticket, TicketFilter, TicketStatus};
use crate::number::ComplaintNumber;
use crate::store::Store;
use crate::tokens::{CreatedToken, NewTokenFor, create_token, owner_name, parse_ttl, revoke_token};
use crate::validate;

/// Errors of the CLI helpers: the ticket system's, or writing the output.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Ticket(#[from] TicketError),
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
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

/// Arguments of `helpline token create`: for a user, or for an integration with its scopes.
#[derive(Debug, Clone, Default)]
pub struct TokenCreateArgs {
    pub user: Option<String>,
    pub integration: Option<String>,
    pub scopes: Vec<String>,
    pub label: Option<String>,
    /// `90d`, `12h`, `30m`; `None`: 90 days.
    pub expires_in: Option<String>,
}

/// `helpline token create (--user LOGIN | --integration NAME [--scope S]…) [--expires-in 90d]`:
/// prints the token ONCE.
pub async fn token_create(
    store: &Store,
    args: &TokenCreateArgs,
    actor: &str,
    out: &mut dyn Write,
) -> Result<CreatedToken, CliError> {
    let scopes = args
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    let owner = match (&args.user, &args.integration) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(CliError::Usage(
                "name the token's owner: --user LOGIN or --integration NAME".into(),
            ));
        }
        (Some(_), None) if !scopes.is_empty() => {
            return Err(CliError::Usage(
                "--scope is for integration tokens; a user's token has the user's role".into(),
            ));
        }
        (Some(login), None) => NewTokenFor::User(login.clone()),
        (None, Some(name)) => NewTokenFor::Integration {
            name: name.clone(),
            scopes,
        },
    };
    let ttl = args.expires_in.as_deref().map(parse_ttl).transpose()?;
    let created = create_token(store, owner, args.label.as_deref(), ttl, actor, Utc::now()).await?;
    let info = &created.info;
    writeln!(
        out,
        "token id {} for {} ({}{}{}), expires {}",
        info.id,
        owner_name(&info.owner),
        info.role,
        info.department_code
            .as_deref()
            .map(|d| format!(", department {d}"))
            .unwrap_or_default(),
        if info.scopes.is_empty() {
            String::new()
        } else {
            format!(", scopes {}", Scope::join_public(&info.scopes))
        },
        info.expires_at
            .map(short_time)
            .unwrap_or_else(|| "never".into())
    )?;
    writeln!(out, "{}", created.token)?;
    writeln!(
        out,
        "This is the only time the token is shown; only its SHA-256 is stored."
    )?;
    Ok(created)
}

/// `helpline token list`: tokens not revoked (ids, owners, roles, expiry — the secrets are not
/// stored).
pub async fn token_list(store: &Store, out: &mut dyn Write) -> Result<usize, CliError> {
    let tokens = store.live_tokens().await?;
    let now = Utc::now();
    writeln!(
        out,
        "{:>5}  {:<24} {:<12} {:<6} {:<16}  {:<16}  label",
        "id", "owner", "role", "dept", "created", "expires"
    )?;
    for t in &tokens {
        let expires = match t.expires_at {
            Some(at) if at <= now => format!("{} (expired)", short_time(at)),
            Some(at) => short_time(at),
            None => "never".to_owned(),
        };
        writeln!(
            out,
            "{:>5}  {:<24} {:<12} {:<6} {:<16}  {:<16}  {}",
            t.id,
            owner_name(&t.owner),
            t.role,
            t.department_code.as_deref().unwrap_or("-"),
            short_time(t.created_at),
            expires,
            t.label
        )?;
    }
    writeln!(out, "{} tokens not revoked", tokens.len())?;
    Ok(tokens.len())
}

/// `helpline token revoke ID`: the token stops working at once.
pub async fn token_revoke(
    store: &Store,
    id: i64,
    actor: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match revoke_token(store, id, actor, Utc::now()).await {
        Ok(()) => {
            writeln!(out, "token {id} revoked")?;
            Ok(())
        }
        Err(AccountError::NotFound(m)) => Err(CliError::Usage(m)),
        Err(e) => Err(e.into()),
    }
}

/// `helpline notifications dead`: the dead letters, the latest first (no caller numbers).
pub async fn notifications_dead(
    store: &Store,
    limit: u32,
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let page = Page { limit, offset: 0 };
    let dead = store
        .deliveries(crate::outbox::DeliveryState::Dead, page)
        .await?;
    writeln!(
        out,
        "{:<8} {:<24} {:<22} {:<12} {:>5}  {:<20}  last error",
        "id", "target", "event", "ticket", "tries", "failed at"
    )?;
    for d in &dead {
        writeln!(
            out,
            "{:<8} {:<24} {:<22} {:<12} {:>5}  {:<20}  {}",
            d.id,
            d.target,
            d.event.kind,
            d.event.ticket_number,
            d.attempts,
            d.updated_at.format("%Y-%m-%d %H:%M:%S"),
            crate::caller::Escaped(d.last_error.as_deref().unwrap_or("-"))
        )?;
    }
    Ok(dead.len())
}

/// `helpline notifications retry ID`: a dead letter pending again, on the ticket's audit trail.
pub async fn notifications_retry(
    store: &Store,
    id: i64,
    actor: &str,
    reason: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match store
        .retry_dead_delivery(id, actor, reason, Utc::now())
        .await
    {
        Ok(d) => {
            writeln!(
                out,
                "delivery {id} ({} of {} for ticket {}) will be tried again now",
                d.target, d.event.kind, d.event.ticket_number
            )?;
            Ok(())
        }
        Err(
            crate::error::StoreError::DeliveryNotFound(_)
            | crate::error::StoreError::NotAllowedNow(_),
        ) => Err(CliError::Usage(format!(
            "delivery {id} is not a dead letter (see `helpline notifications dead`)"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `helpline notifications status`: what the outbox owes.
pub async fn notifications_status(store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let c = store.outbox_counts().await?;
    writeln!(
        out,
        "owed {}, delivered {}, dead letters {}",
        c.backlog, c.delivered, c.dead
    )?;
    Ok(())
}

/// Arguments of `helpline user add`.
#[derive(Debug, Clone)]
pub struct UserAddArgs {
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub department: Option<String>,
}

/// `helpline user add LOGIN --name NAME --role ROLE [--department CODE]` (the password comes
/// from a prompt or a file, never the command line).
pub async fn user_add(
    store: &Store,
    hasher: &Hasher,
    args: &UserAddArgs,
    password: &str,
    actor: &str,
    out: &mut dyn Write,
) -> Result<User, CliError> {
    let role: Role = args
        .role
        .parse()
        .map_err(|e: crate::model::UnknownValue| CliError::Usage(e.to_string()))?;
    let user = accounts::create_user(
        store,
        hasher,
        NewUser {
            login: args.login.clone(),
            display_name: args.display_name.clone(),
            role,
            department_code: args.department.clone(),
            password: password.to_owned(),
        },
        actor,
        Utc::now(),
    )
    .await?;
    writeln!(out, "user {} created: {}", user.id, user.audit_name())?;
    Ok(user)
}

/// `helpline user list`.
pub async fn user_list(store: &Store, out: &mut dyn Write) -> Result<usize, CliError> {
    let users = store.users().await?;
    writeln!(
        out,
        "{:>5}  {:<20} {:<12} {:<6} {:<9}  name",
        "id", "login", "role", "dept", "state"
    )?;
    for u in &users {
        writeln!(
            out,
            "{:>5}  {:<20} {:<12} {:<6} {:<9}  {}",
            u.id,
            u.login,
            u.role,
            u.department_code.as_deref().unwrap_or("-"),
            if u.disabled { "disabled" } else { "active" },
            u.display_name
        )?;
    }
    writeln!(out, "{} users", users.len())?;
    Ok(users.len())
}

/// `helpline user agent LOGIN --languages hi,en [--phone PJSIP/agent-101] [--departments JSV,PWD]
/// [--helplines 1100,181]`: sets (replaces) the user's agent profile.
pub async fn user_agent(
    store: &Store,
    login: &str,
    input: &accounts::agent::AgentProfileInput,
    actor: &str,
    out: &mut dyn Write,
) -> Result<accounts::agent::AgentProfile, CliError> {
    let profile =
        accounts::agent::set_agent_profile(store, login, input, actor, Utc::now()).await?;
    writeln!(out, "agent profile of {} set", profile.login)?;
    write_agent_profiles(std::slice::from_ref(&profile), out)?;
    Ok(profile)
}

/// `helpline user agents`: every enabled user's agent profile.
pub async fn user_agents(store: &Store, out: &mut dyn Write) -> Result<usize, CliError> {
    let profiles = store.agent_profiles().await?;
    write_agent_profiles(&profiles, out)?;
    writeln!(out, "{} agents", profiles.len())?;
    Ok(profiles.len())
}

fn write_agent_profiles(
    profiles: &[accounts::agent::AgentProfile],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use accounts::agent::list_or_all as all;
    writeln!(
        out,
        "{:<20} {:<24} {:<6} {:<16} helplines",
        "login", "phone", "langs", "departments"
    )?;
    for p in profiles {
        writeln!(
            out,
            "{:<20} {:<24} {:<6} {:<16} {}",
            p.login,
            p.phone.as_deref().unwrap_or("-"),
            p.languages.join(","),
            all(&p.departments),
            all(&p.helplines)
        )?;
    }
    Ok(())
}

/// `helpline user disable LOGIN`: no more logins; sessions end, tokens stop working.
pub async fn user_disable(
    store: &Store,
    login: &str,
    actor: &str,
    out: &mut dyn Write,
) -> Result<User, CliError> {
    let user = accounts::disable_user(store, login, actor, Utc::now()).await?;
    writeln!(
        out,
        "user {} disabled: sessions ended, tokens stopped",
        user.login
    )?;
    Ok(user)
}

/// `helpline user passwd LOGIN`: a new password; the user's sessions end.
pub async fn user_passwd(
    store: &Store,
    hasher: &Hasher,
    login: &str,
    password: &str,
    actor: &str,
    out: &mut dyn Write,
) -> Result<User, CliError> {
    let user = accounts::set_password(store, hasher, login, password, actor, Utc::now()).await?;
    writeln!(
        out,
        "password of {} changed; their sessions ended",
        user.login
    )?;
    Ok(user)
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
    if let Some(level) = args.level
        && !(crate::model::MIN_LEVEL..=crate::model::MAX_LEVEL).contains(&level)
    {
        return Err(CliError::Usage(format!(
            "--level must be 1..=4, got {level}"
        )));
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
        overdue_at: args.overdue.then_some(now),
        ..TicketFilter::default()
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

/// `helpline officers list [--department D] [--all]`: the officers, by department and level.
pub async fn officers_list(
    store: &Store,
    department: Option<&str>,
    all: bool,
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let officers: Vec<_> = store
        .officers(department)
        .await?
        .into_iter()
        .filter(|o| all || o.active)
        .collect();
    writeln!(
        out,
        "{:<6} {:<6} {:<5} {:<16} {:<6} {:<6} {:<8} name",
        "id", "dept", "level", "phone", "nodal", "remind", "active"
    )?;
    for o in &officers {
        writeln!(
            out,
            "{:<6} {:<6} L{:<4} {:<16} {:<6} {:<6} {:<8} {}",
            o.id,
            o.department_code,
            o.level,
            o.phone,
            if o.nodal { "yes" } else { "-" },
            o.reminder_channel,
            if o.active { "yes" } else { "no" },
            crate::caller::Escaped(&o.name)
        )?;
    }
    Ok(officers.len())
}

/// `helpline officers add|update|deactivate`: one officer created or changed (in the account
/// audit, with `actor`); prints it. `id` `None` creates.
pub async fn officers_save(
    store: &Store,
    id: Option<i64>,
    input: &crate::officers::OfficerInput,
    actor: &str,
    out: &mut dyn Write,
) -> Result<crate::officers::Officer, CliError> {
    use crate::store::OfficerError;
    let saved = match id {
        None => store.create_officer(input, actor, Utc::now()).await,
        Some(id) => store.update_officer(id, input, actor, Utc::now()).await,
    };
    let officer = match saved {
        Ok(o) => o,
        Err(OfficerError::Store(e)) => return Err(e.into()),
        Err(OfficerError::Invalid(problems)) => return Err(CliError::Usage(problems.to_string())),
        Err(OfficerError::NotFound(id)) => {
            return Err(CliError::Usage(format!(
                "no officer {id} (see `helpline officers list --all`)"
            )));
        }
    };
    writeln!(
        out,
        "officer {}: {} ({} L{}, {}, reminded by {}{}{})",
        officer.id,
        crate::caller::Escaped(&officer.name),
        officer.department_code,
        officer.level,
        officer.phone,
        officer.reminder_channel,
        if officer.nodal { ", nodal" } else { "" },
        if officer.active { "" } else { ", inactive" }
    )?;
    Ok(officer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[tokio::test]
    async fn commands_print_what_they_did() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let url = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let mut out = Vec::new();
        assert_eq!(
            db_migrate(&store, &mut out).await.unwrap(),
            (1..=crate::store::SCHEMA_VERSION).collect::<Vec<_>>()
        );
        assert!(db_migrate(&store, &mut out).await.unwrap().is_empty());
        let hasher = Hasher::default();
        let officer = UserAddArgs {
            login: "ee.shimla".into(),
            display_name: "Er. Sharma".into(),
            role: "officer".into(),
            department: Some("JSV".into()),
        };
        let user = user_add(
            &store,
            &hasher,
            &officer,
            "long enough secret",
            "cli:root",
            &mut out,
        )
        .await
        .unwrap();
        assert_eq!(user.audit_name(), "officer:ee.shimla (Er. Sharma)");
        let again = user_add(
            &store,
            &hasher,
            &officer,
            "long enough secret",
            "cli:root",
            &mut out,
        );
        assert!(matches!(
            again.await,
            Err(CliError::Account(AccountError::Conflict(_)))
        ));
        let no_department = UserAddArgs {
            login: "ee2".into(),
            department: None,
            ..officer.clone()
        };
        assert!(matches!(
            user_add(
                &store,
                &hasher,
                &no_department,
                "long enough secret",
                "cli:root",
                &mut out
            )
            .await,
            Err(CliError::Account(AccountError::Invalid { .. }))
        ));
        let root = UserAddArgs {
            role: "root".into(),
            ..no_department
        };
        assert!(matches!(
            user_add(
                &store,
                &hasher,
                &root,
                "long enough secret",
                "cli:root",
                &mut out
            )
            .await,
            Err(CliError::Usage(_))
        ));

        let agent = UserAddArgs {
            login: "asha".into(),
            role: "agent".into(),
            department: None,
            ..officer.clone()
        };
        user_add(
            &store,
            &hasher,
            &agent,
            "long enough secret",
            "cli:root",
            &mut out,
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        let profile = accounts::agent::AgentProfileInput {
            phone: Some("PJSIP/agent-101".into()),
            languages: vec!["hi".into()],
            ..Default::default()
        };
        user_agent(&store, "asha", &profile, "cli:root", &mut out)
            .await
            .unwrap();
        assert!(matches!(
            user_agent(&store, "ee.shimla", &profile, "cli:root", &mut out).await,
            Err(CliError::Account(AccountError::Invalid { .. }))
        ));
        assert_eq!(user_agents(&store, &mut out).await.unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("agent profile of asha set")
                && text.contains("PJSIP/agent-101")
                && text.contains("1 agents"),
            "{text}"
        );

        let mut out = Vec::new();
        let for_user = TokenCreateArgs {
            user: Some("ee.shimla".into()),
            expires_in: Some("30d".into()),
            ..Default::default()
        };
        let created = token_create(&store, &for_user, "cli:root", &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains(&created.token)
                && text.contains("only time")
                && text.contains("user ee.shimla (officer, department JSV)"),
            "{text}"
        );
        let expires = created.info.expires_at.unwrap() - Utc::now();
        assert!((29..=30).contains(&expires.num_days()), "{expires}");
        let bot = TokenCreateArgs {
            integration: Some("whatsapp".into()),
            ..Default::default()
        };
        let bot = token_create(&store, &bot, "cli:root", &mut out)
            .await
            .unwrap();
        assert_eq!(bot.info.scopes, Scope::DEFAULT.to_vec());
        for bad in [
            TokenCreateArgs::default(),
            TokenCreateArgs {
                user: Some("ee.shimla".into()),
                scopes: vec!["tickets:file".into()],
                ..Default::default()
            },
        ] {
            assert!(matches!(
                token_create(&store, &bad, "cli:root", &mut out).await,
                Err(CliError::Usage(_))
            ));
        }
        let bad_scope = TokenCreateArgs {
            integration: Some("sms".into()),
            scopes: vec!["tickets:feedback".into()],
            ..Default::default()
        };
        assert!(
            token_create(&store, &bad_scope, "cli:root", &mut out)
                .await
                .is_err()
        );

        let mut out = Vec::new();
        assert_eq!(token_list(&store, &mut out).await.unwrap(), 2);
        let listed = String::from_utf8(out).unwrap();
        assert!(
            listed.contains("user ee.shimla")
                && listed.contains("integration whatsapp")
                && !listed.contains(&created.token),
            "{listed}"
        );
        token_revoke(&store, created.info.id, "cli:root", &mut Vec::new())
            .await
            .unwrap();
        let again = token_revoke(&store, created.info.id, "cli:root", &mut Vec::new()).await;
        assert!(matches!(again, Err(CliError::Usage(_))));
        assert_eq!(token_list(&store, &mut Vec::new()).await.unwrap(), 1);

        let mut out = Vec::new();
        user_passwd(
            &store,
            &hasher,
            "ee.shimla",
            "another long secret",
            "cli:root",
            &mut out,
        )
        .await
        .unwrap();
        user_disable(&store, "EE.Shimla", "cli:root", &mut out)
            .await
            .unwrap();
        assert!(
            user_disable(&store, "ee.shimla", "cli:root", &mut out)
                .await
                .is_err()
        );
        let mut out = Vec::new();
        assert_eq!(user_list(&store, &mut out).await.unwrap(), 2);
        assert!(String::from_utf8(out).unwrap().contains("disabled"));
        let audit: Vec<String> = store
            .account_events(20)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.actor, e.action))
            .collect();
        for expected in [
            "cli:root user_created",
            "cli:root token_created",
            "cli:root token_revoked",
            "cli:root password_set",
            "cli:root user_disabled",
        ] {
            assert!(audit.iter().any(|a| a == expected), "{expected}: {audit:?}");
        }

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
    }
}
