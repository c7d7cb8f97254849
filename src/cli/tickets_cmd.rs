//! `helpline db migrate`, `helpline user add|list|disable|passwd`, `helpline token
//! create|list|revoke`, `helpline tickets list|show|stats`: thin wrappers over
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
    /// Create an API token (shown once) for a user or for an integration.
    Create {
        /// The user (login) the token acts as, with their role.
        #[arg(
            long,
            conflicts_with = "integration",
            required_unless_present = "integration"
        )]
        user: Option<String>,
        /// The integration (portal, whatsapp-bot, …) the token is for.
        #[arg(long)]
        integration: Option<String>,
        /// An integration's scope, repeatable: tickets:file, tickets:read_own, tickets:status,
        /// tickets:personal_data (default: the first three).
        #[arg(long = "scope", requires = "integration")]
        scopes: Vec<String>,
        /// What the token is for (default: its owner).
        #[arg(long)]
        label: Option<String>,
        /// Lifetime: 90d, 12h, 30m (default accounts.token_days, at most 366d).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// Tokens not revoked: owners, roles, expiry (never the secrets).
    List,
    /// Revoke a token: its next request answers 401.
    Revoke {
        /// The token's id (from `token list`).
        id: i64,
    },
}

/// `helpline user …`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is asked for (or read from --password-file).
    Add {
        /// The login name (a-z, 0-9, '.', '_', '-').
        login: String,
        /// The person's name, as the audit trail shows it.
        #[arg(long)]
        name: String,
        /// agent, supervisor, officer or admin.
        #[arg(long)]
        role: String,
        /// An officer's department (e.g. JSV).
        #[arg(long)]
        department: Option<String>,
        /// Read the password from the first line of this file ("-": standard input).
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Every user.
    List,
    /// Make an agent or a supervisor an agent of the call centre (or change their profile).
    Agent {
        login: String,
        /// Languages they take calls in, comma-separated: hi, en.
        #[arg(long, value_delimiter = ',', required = true)]
        languages: Vec<String>,
        /// The phone their calls ring unless they log in with another (e.g. PJSIP/agent-101).
        #[arg(long)]
        phone: Option<String>,
        /// Departments they take calls for, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        departments: Vec<String>,
        /// Helplines whose calls they take, comma-separated: 1100, 181, 1077, hrtc … (default: all).
        #[arg(long, value_delimiter = ',')]
        helplines: Vec<String>,
    },
    /// Every agent profile.
    Agents,
    /// Disable a user: no more logins, sessions end, tokens stop.
    Disable { login: String },
    /// Set a user's password (their sessions end).
    Passwd {
        login: String,
        /// Read the password from the first line of this file ("-": standard input).
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
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

/// `helpline notifications …`: the outbox's dead letters (SMS, webhooks).
#[derive(Debug, clap::Subcommand)]
pub enum NotificationsCommand {
    /// Notifications that failed their last try, the latest first.
    Dead {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Tries a dead letter again now (on the ticket's audit trail, with your name).
    Retry {
        /// The delivery's id (from `helpline notifications dead`).
        id: i64,
        /// Why (for the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
    /// What the outbox owes, has delivered, and its dead letters.
    Status,
}

pub async fn notifications(
    config: &Config,
    command: NotificationsCommand,
) -> anyhow::Result<ExitCode> {
    let store = existing_store(config).await?;
    let mut out = std::io::stdout();
    match command {
        NotificationsCommand::Dead { limit } => {
            if !(1..=1000).contains(&limit) {
                anyhow::bail!("--limit must be 1..=1000");
            }
            tickets::cli::notifications_dead(&store, limit, &mut out).await?;
        }
        NotificationsCommand::Retry { id, reason } => {
            let actor = cli_actor();
            tickets::cli::notifications_retry(&store, id, &actor, reason.as_deref(), &mut out)
                .await?;
        }
        NotificationsCommand::Status => {
            tickets::cli::notifications_status(&store, &mut out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `helpline officers …`: the officers tickets are assigned to and reminded.
#[derive(Debug, clap::Subcommand)]
pub enum OfficersCommand {
    /// The officers, by department and level (active ones unless --all).
    List {
        #[arg(long)]
        department: Option<String>,
        /// The deactivated ones too.
        #[arg(long)]
        all: bool,
    },
    /// A new officer (in the account audit, with your name).
    Add {
        #[arg(long)]
        name: String,
        /// The department's code (e.g. PWD).
        #[arg(long)]
        department: String,
        /// 1 … 4: the escalation level whose tickets they hold.
        #[arg(long)]
        level: u8,
        /// Their phone (normalised to E.164, e.g. +919816012345).
        #[arg(long)]
        phone: String,
        /// The department's nodal officer (reminded of tickets nobody is assigned).
        #[arg(long)]
        nodal: bool,
        /// call (default) or sms.
        #[arg(long, default_value = "call")]
        remind_by: tickets::ReminderChannel,
    },
    /// Changes what the options name.
    Update {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        level: Option<u8>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        nodal: Option<bool>,
        #[arg(long)]
        remind_by: Option<tickets::ReminderChannel>,
        /// true to reactivate.
        #[arg(long)]
        active: Option<bool>,
    },
    /// No longer assigned, escalated to or reminded (their tickets keep their name).
    Deactivate { id: i64 },
}

pub async fn officers(config: &Config, command: OfficersCommand) -> anyhow::Result<ExitCode> {
    let store = existing_store(config).await?;
    let mut out = std::io::stdout();
    let actor = cli_actor();
    match command {
        OfficersCommand::List { department, all } => {
            tickets::cli::officers_list(&store, department.as_deref(), all, &mut out).await?;
        }
        OfficersCommand::Add {
            name,
            department,
            level,
            phone,
            nodal,
            remind_by,
        } => {
            let input = tickets::OfficerInput {
                name: Some(name),
                department_code: Some(department),
                level: Some(level),
                phone: Some(phone),
                nodal: Some(nodal),
                reminder_channel: Some(remind_by),
                active: None,
            };
            tickets::cli::officers_save(&store, None, &input, &actor, &mut out).await?;
        }
        OfficersCommand::Update {
            id,
            name,
            department,
            level,
            phone,
            nodal,
            remind_by,
            active,
        } => {
            let input = tickets::OfficerInput {
                name,
                department_code: department,
                level,
                phone,
                nodal,
                reminder_channel: remind_by,
                active,
            };
            tickets::cli::officers_save(&store, Some(id), &input, &actor, &mut out).await?;
        }
        OfficersCommand::Deactivate { id } => {
            let input = tickets::OfficerInput {
                active: Some(false),
                ..tickets::OfficerInput::default()
            };
            tickets::cli::officers_save(&store, Some(id), &input, &actor, &mut out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
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
pub(super) async fn existing_store(config: &Config) -> anyhow::Result<tickets::Store> {
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

/// Who is at the keyboard, for the account audit: `cli:` and the operating-system user.
fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    // Whatever the environment holds, the audit gets a short plain name.
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(32)
        .collect();
    format!("cli:{user}")
}

/// A password from `file` (its first line; `-` = standard input), else asked for twice on the
/// terminal without echo; never from the command line.
fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    use std::io::{BufRead as _, IsTerminal as _};
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    match file {
        Some(path) if path.as_os_str() == "-" => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            Ok(first_line(&line))
        }
        Some(path) => {
            let text = ivr::check::read_regular_file(path, 4096).map_err(|e| {
                anyhow::anyhow!("reading the password file {}: {e}", path.display())
            })?;
            Ok(first_line(&text))
        }
        None if std::io::stdin().is_terminal() => {
            let password = rpassword::prompt_password("password: ")?;
            let again = rpassword::prompt_password("password again: ")?;
            anyhow::ensure!(password == again, "the passwords differ");
            Ok(password)
        }
        None => anyhow::bail!(
            "no terminal to ask the password on: pass --password-file FILE (or - for standard input)"
        ),
    }
}

pub async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = store(config).await?;
    let mut out = std::io::stdout();
    match command {
        TokenCommand::Create {
            user,
            integration,
            scopes,
            label,
            expires_in,
        } => {
            let args = tickets::cli::TokenCreateArgs {
                user,
                integration,
                scopes,
                label,
                expires_in: expires_in
                    .or_else(|| Some(format!("{}d", config.accounts.token_ttl.as_secs() / 86_400))),
            };
            tickets::cli::token_create(&store, &args, &cli_actor(), &mut out).await?;
        }
        TokenCommand::List => {
            tickets::cli::token_list(&store, &mut out).await?;
        }
        TokenCommand::Revoke { id } => {
            tickets::cli::token_revoke(&store, id, &cli_actor(), &mut out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = store(config).await?;
    let hasher = tickets::accounts::Hasher::default();
    let mut out = std::io::stdout();
    match command {
        UserCommand::Add {
            login,
            name,
            role,
            department,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let args = tickets::cli::UserAddArgs {
                login,
                display_name: name,
                role,
                department,
            };
            tickets::cli::user_add(&store, &hasher, &args, &password, &cli_actor(), &mut out)
                .await?;
        }
        UserCommand::List => {
            tickets::cli::user_list(&store, &mut out).await?;
        }
        UserCommand::Agent {
            login,
            languages,
            phone,
            departments,
            helplines,
        } => {
            let input = tickets::accounts::agent::AgentProfileInput {
                phone,
                languages,
                departments,
                helplines,
            };
            tickets::cli::user_agent(&store, &login, &input, &cli_actor(), &mut out).await?;
        }
        UserCommand::Agents => {
            tickets::cli::user_agents(&store, &mut out).await?;
        }
        UserCommand::Disable { login } => {
            tickets::cli::user_disable(&store, &login, &cli_actor(), &mut out).await?;
        }
        UserCommand::Passwd {
            login,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            tickets::cli::user_passwd(&store, &hasher, &login, &password, &cli_actor(), &mut out)
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
