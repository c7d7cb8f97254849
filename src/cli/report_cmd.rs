//! `helpline report`: the call-centre report of a period from the configured database — tables for a
//! person, `--csv SECTION` for a spreadsheet, `--json` for a program (the same document as
//! `GET /api/v1/reports/calls`). The ticket store's sections — disposal, escalations per department
//! and level — come through its own queries.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use helpline::config::Config;
use records::api::ReportDocument;
use records::render::{FromTickets, Section};
use records::{Granularity, RecordStore, ReportSpec};

/// `helpline report …`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// First day (local date, YYYY-MM-DD); default today.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day, included; default the first day.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Calls per `hour` or per `day` (default: hour for one day, else day).
    #[arg(long)]
    pub by: Option<Granularity>,
    /// Only calls that filed a complaint with this department (e.g. PWD).
    #[arg(long)]
    pub department: Option<String>,
    /// Only calls in this language (hi, en).
    #[arg(long)]
    pub language: Option<String>,
    /// Only this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only this agent.
    #[arg(long)]
    pub agent: Option<String>,
    /// One section as CSV: summary, series, outcomes, complaints, queues, agents, disposal,
    /// escalations.
    #[arg(long, value_name = "SECTION", conflicts_with = "json")]
    pub csv: Option<Section>,
    /// The whole report as JSON.
    #[arg(long)]
    pub json: bool,
}

impl ReportArgs {
    /// Today's report as tables (what `helpline report` prints without arguments).
    pub fn today() -> ReportArgs {
        ReportArgs {
            from: None,
            to: None,
            by: None,
            department: None,
            language: None,
            queue: None,
            agent: None,
            csv: None,
            json: false,
        }
    }
}

pub async fn report(config: &Config, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let tickets = super::tickets_cmd::existing_store(config).await?;
    let url = helpline::app::prepare_database_url(config.database.url.expose())?;
    let store = RecordStore::open(&url, &tickets::StoreOptions::default())
        .with_context(|| format!("opening the call records in {}", config.database.url))?;
    store
        .migrate()
        .await
        .with_context(|| format!("the call records in {}", config.database.url))?;

    let zone = config.records.time_zone;
    let now = Utc::now();
    let from_date = args.from.unwrap_or_else(|| records::api::today(zone, now));
    let to_date = args.to.unwrap_or(from_date);
    let (from, to) = records::api::period(zone, from_date, to_date).map_err(anyhow::Error::msg)?;
    let days = (to_date - from_date).num_days() + 1;
    let granularity = args.by.unwrap_or(if days == 1 {
        Granularity::Hour
    } else {
        Granularity::Day
    });
    if granularity == Granularity::Hour && days > records::api::MAX_HOURLY_DAYS {
        anyhow::bail!(
            "--by hour covers at most {} days; use --by day",
            records::api::MAX_HOURLY_DAYS
        );
    }
    // The queues' own targets, as the call centre counts them; a queue no longer declared is
    // counted against `[records] service_level_seconds`.
    let queues = helpline::app::load_queues(&config.ivr).unwrap_or_else(|err| {
        eprintln!("warning: {err}\nqueues counted against the default targets");
        None
    });
    let spec = ReportSpec {
        granularity,
        service_level_seconds: config.records.service_level_seconds,
        queues: helpline::app::report_targets(queues.as_ref()),
        department: args.department.clone(),
        language: args.language,
        queue: args.queue,
        agent: args.agent,
        ..ReportSpec::new(from, to, zone, now)
    };
    let report = store.report(spec).await.context("computing the report")?;
    let mut disposal = tickets
        .department_report(now)
        .await
        .context("reading disposal per department")?;
    if let Some(department) = &args.department {
        disposal.retain(|d| &d.code == department);
    }
    disposal.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.code.cmp(&b.code)));
    let escalations = records::escalation::escalations(&tickets, args.department.as_deref(), now)
        .await
        .context("reading escalations per department and level")?;

    let mut out = std::io::stdout().lock();
    if args.json {
        let document = ReportDocument {
            report,
            escalations,
        };
        serde_json::to_writer_pretty(&mut out, &document)?;
        use std::io::Write as _;
        writeln!(out)?;
    } else {
        let from_tickets = FromTickets {
            disposal: &disposal,
            escalations: &escalations,
        };
        match args.csv {
            Some(section) => records::render::write_csv(&report, &from_tickets, section, &mut out)?,
            None => records::render::write_tables(&report, &from_tickets, &mut out)?,
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
