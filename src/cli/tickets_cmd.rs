//! `helpline db migrate`, `helpline token create`, `helpline tickets list|show|stats`: thin wrappers over
//! the ticket crate's CLI functions on the configured database.

use std::process::ExitCode;

use anyhow::Context as _;
use helpline::config::Config;

/// `helpline db …`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Create the database if needed and apply pending migrations.
    Migrate,
}

/// `helpline token …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token (shown once).
    Create {
        /// agent, supervisor, officer, admin or integration.
        #[arg(long)]
        role: String,
        /// The department of an officer token (e.g. JSV).
        #[arg(long)]
        department: Option<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "created on the command line")]
        label: String,
    },
}

/// `helpline tickets …`.
#[derive(Debug, clap::Subcommand)]
pub enum TicketsCommand {
    /// Tickets, newest first.
    List {
        /// Only this status (registered, assigned, in_progress, resolved, …).
        #[arg(long)]
        status: Option<String>,
        /// Only this department (e.g. JSV).
        #[arg(long)]
        department: Option<String>,
        /// Only this escalation level (1-4).
        #[arg(long)]
        level: Option<u8>,
        /// Only this caller's number.
        #[arg(long)]
        caller: Option<String>,
        /// Only open tickets past their due date.
        #[arg(long)]
        overdue: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// One ticket with its notes and audit trail.
    Show {
        /// The complaint number.
        number: String,
    },
    /// The headline figures.
    Stats {
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
    },
}

/// Opens the configured database, creating and migrating it if needed.
async fn store(config: &Config) -> anyhow::Result<tickets::Store> {
    let url = helpline::app::prepare_database_url(config.database.url.expose())?;
    let options = tickets::StoreOptions {
        max_connections: config.database.max_connections,
        ..tickets::StoreOptions::default()
    };
    tickets::Store::connect_with(&url, options)
        .await
        .with_context(|| format!("opening the ticket database {}", config.database.url))
}

/// An existing database for reading: a missing SQLite file is an error with a hint, not a new empty one.
async fn existing_store(config: &Config) -> anyhow::Result<tickets::Store> {
    let url = config.database.url.expose();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" && !std::path::Path::new(path).exists() {
            anyhow::bail!(
                "no ticket database at {path} (in this folder); run `helpline demo` or \
                 `helpline db migrate` here first, or set database.url / DATABASE_URL"
            );
        }
    }
    store(config).await
}

pub async fn db(config: &Config, command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Migrate => {
            let url = helpline::app::prepare_database_url(config.database.url.expose())?;
            let store = tickets::Store::open(&url, &tickets::StoreOptions::default())
                .await
                .with_context(|| format!("opening the ticket database {}", config.database.url))?;
            tickets::cli::db_migrate(&store, &mut std::io::stdout()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            role,
            department,
            label,
        } => {
            let store = store(config).await?;
            tickets::cli::token_create(
                &store,
                &role,
                department.as_deref(),
                &label,
                &mut std::io::stdout(),
            )
            .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tickets(config: &Config, command: TicketsCommand) -> anyhow::Result<ExitCode> {
    let store = existing_store(config).await?;
    let mut out = std::io::stdout();
    match command {
        TicketsCommand::List {
            status,
            department,
            level,
            caller,
            overdue,
            limit,
            offset,
        } => {
            let args = tickets::cli::ListArgs {
                status,
                department,
                level,
                caller,
                overdue,
                limit,
                offset,
            };
            tickets::cli::tickets_list(&store, &args, &mut out).await?;
        }
        TicketsCommand::Show { number } => {
            tickets::cli::tickets_show(&store, &number, &mut out).await?;
        }
        TicketsCommand::Stats { department } => {
            tickets::cli::tickets_stats(&store, department.as_deref(), &mut out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
