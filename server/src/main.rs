//! `eventhub`: serve (default), worker, migrate, seed-demo, create-user, and the operator's
//! commands: backup, restore, reset, check-config, health.
use anyhow::{Context, Result};
use app::auth::{NewUser, Role};
use app::i18n::Locale;
use clap::{Parser, Subcommand};
use server::ops::{backup, instances, production, reset, restore};
use server::{AppState, config::Config, db::Db};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "eventhub",
    about = "EventHub: event discovery and ticketing",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site and the APIs (the default).
    Serve,
    /// Run job workers (mail, …) without the site, until SIGTERM or Ctrl-C; each finishes the
    /// job it holds before exiting. /healthz and /metrics answer on EVENTHUB_WORKER_ADDR.
    Worker {
        /// How many (default: EVENTHUB_WORKERS, at least 1).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo accounts and print their credentials.
    SeedDemo {
        /// Do nothing when the database already has users.
        #[arg(long)]
        if_empty: bool,
    },
    /// Create a user, e.g. the first admin.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["user", "agent", "admin"], default_value = "user")]
        role: String,
        /// A file holding the password, or `-` for standard input.
        #[arg(long)]
        password_file: PathBuf,
    },
    /// Write a backup (database, media, manifest) while the server keeps serving.
    Backup {
        /// The archive to write (default: EVENTHUB_BACKUP_DIR/eventhub-<time>.tar.gz).
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Restore a backup into EVENTHUB_DATABASE_URL and the data dir (stop the server first).
    Restore {
        file: PathBuf,
        /// Replace a database that already holds users or events.
        #[arg(long)]
        force: bool,
    },
    /// Delete all data: events, bookings, tickets, accounts, jobs, mail, images (stop the
    /// server first).
    Reset {
        /// Do not ask.
        #[arg(long)]
        yes: bool,
        /// Keep the admin accounts (and their two-factor sign-in and the platform settings).
        #[arg(long)]
        keep_admins: bool,
    },
    /// Print the effective settings (secrets hidden) and the production checks.
    CheckConfig,
    /// Ask the local server's /healthz (for container health checks); exit 0 when it answers.
    Health {
        /// What to ask (default: http://EVENTHUB_ADDR/healthz).
        #[arg(long)]
        url: Option<String>,
    },
}

fn main() -> Result<()> {
    // `.env` in the working directory, read before any thread starts; a variable already in
    // the environment keeps its value.
    let dotenv = match dotenvy::from_path(".env") {
        Ok(()) => Some(PathBuf::from(".env")),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("cannot read .env: {e}"),
    };
    let cli = Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run(cli, dotenv))
}

async fn run(cli: Cli, dotenv: Option<PathBuf>) -> Result<()> {
    if let Some(Command::Health { url }) = &cli.command {
        return health(url.clone()).await;
    }
    let mut config = Config::from_env()?;
    // The long-lived processes keep a log file each; one-off commands write to stderr.
    let file = match cli.command {
        None | Some(Command::Serve) => Some("eventhub.log"),
        Some(Command::Worker { .. }) => Some("worker.log"),
        Some(_) => None,
    };
    let _logs = server::logs::init(&config.logs, file)?;
    if let Some(path) = dotenv {
        tracing::info!(file = %path.display(), "settings read from .env (the environment wins)");
    }
    // Workers run beside the site only in `serve`: `worker` starts its own, and a one-off
    // command would exit holding the jobs it claimed until their leases ran out.
    let workers = std::mem::take(&mut config.workers);
    if matches!(cli.command, None | Some(Command::Serve)) {
        config.workers = workers;
    }
    let command = cli.command.unwrap_or(Command::Serve);
    // The operator's commands that must not start the services (nor migrate first).
    match command {
        Command::CheckConfig => return check_config(&config).await,
        Command::Backup { to } => return backup_now(&config, to).await,
        Command::Restore { file, force } => return restore_from(&config, &file, force).await,
        Command::Reset { yes, keep_admins } => return reset_all(&config, yes, keep_admins).await,
        _ => {}
    }
    if config.production {
        let problems = production::settings_problems(&config);
        if let Some(refusal) = production::refusal(&problems) {
            anyhow::bail!(refusal);
        }
    }
    tracing::info!(?config, "configuration");
    let state = AppState::new(config).await?;
    match command {
        Command::Serve => {
            if state.config.production {
                let problems = production::problems(&state.config, &state.db).await?;
                if let Some(refusal) = production::refusal(&problems) {
                    anyhow::bail!(refusal);
                }
            }
            join_the_others(&state).await?;
            backup::spawn(
                state.config.backups.clone(),
                state.db.clone(),
                state.config.database_url.clone(),
                state.config.data_dir.clone(),
                state.shutdown.child_token(),
            );
            let workers = state.workers.clone();
            let grace = state.config.shutdown_grace;
            let served = serve(state).await;
            // They were told to stop with the server; each finishes the job it holds, within
            // the grace (a job cut off runs again elsewhere once its lease ends).
            if tokio::time::timeout(grace, workers.stop()).await.is_err() {
                tracing::warn!(?grace, "a job was still running after the grace: exiting");
            }
            served
        }
        Command::Worker { count } => work(state, count.unwrap_or(workers).max(1)).await,
        Command::Migrate => {
            println!("migrations applied ({})", state.db.engine());
            Ok(())
        }
        Command::SeedDemo { if_empty } => {
            if !server::demo::seed(&state.accounts, &state.events, &state.bookings, if_empty)
                .await?
            {
                println!("the database already has users; demo data not loaded");
            }
            Ok(())
        }
        Command::CreateUser {
            email,
            name,
            role,
            password_file,
        } => create_user(&state, email, name, &role, &password_file).await,
        Command::CheckConfig
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Reset { .. } => {
            unreachable!("answered above")
        }
        Command::Health { .. } => unreachable!("answered first"),
    }
}

async fn serve(state: AppState) -> Result<()> {
    state.sessions.spawn_cleanup();
    server::serve::run(state).await
}

/// `eventhub worker`: `count` job workers until SIGTERM or Ctrl-C, with `/healthz`,
/// `/readyz` and `/metrics` on `EVENTHUB_WORKER_ADDR`.
/// Registers this process among the others on its database (`ops::instances`): says so when
/// one of them cannot see the images this one keeps (production refuses to start).
async fn join_the_others(state: &AppState) -> Result<()> {
    let me = instances::Instance::this(&state.config);
    let conflicts = instances::media_conflicts(&me, &state.db).await?;
    if !conflicts.is_empty() {
        let message = instances::conflict_message(&me, &conflicts);
        if state.config.production {
            anyhow::bail!("EVENTHUB_ENV=production refuses to start: {message}");
        }
        tracing::warn!("{message}");
    }
    instances::spawn(state.db.clone(), me, state.shutdown.child_token());
    Ok(())
}

async fn work(state: AppState, count: usize) -> Result<()> {
    join_the_others(&state).await?;
    let probes = match state.config.worker_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
                format!("EVENTHUB_WORKER_ADDR {addr} cannot be bound: choose another or `off`")
            })?;
            let addr = listener.local_addr()?;
            let router = server::worker_router(state.clone());
            let stop = state.shutdown.child_token();
            Some((
                addr,
                tokio::spawn(async move {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move { stop.cancelled().await })
                        .await
                }),
            ))
        }
        None => None,
    };
    let workers = server::jobs::Workers::start(
        &state.jobs,
        state.job_handlers.clone(),
        count,
        state.shutdown.child_token(),
    );
    server::mail::reminders::start(
        state.db.clone(),
        state.config.reminders,
        state.shutdown.child_token(),
    );
    match &probes {
        Some((addr, _)) => {
            println!("EventHub runs {count} job workers; health and metrics on http://{addr}")
        }
        None => println!("EventHub runs {count} job workers"),
    }
    server::serve::stop_signal().await;
    state.shutdown.cancel();
    workers.stop().await;
    if let Some((_, task)) = probes {
        let _ = task.await;
    }
    Ok(())
}

async fn create_user(
    state: &AppState,
    email: String,
    name: String,
    role: &str,
    password_file: &std::path::Path,
) -> Result<()> {
    let mut password = String::new();
    if password_file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut password)
            .context("cannot read the password from stdin")?;
    } else {
        password = std::fs::read_to_string(password_file)
            .with_context(|| format!("cannot read {}", password_file.display()))?;
    }
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let role = Role::from_code(role).expect("clap checked the role");
    let new = NewUser {
        email,
        display_name: name,
        password,
    };
    match state.accounts.create(new, role, Locale::En).await {
        Ok(user) => {
            println!(
                "created {} {} (id {})",
                user.role.code(),
                user.email,
                user.id
            );
            Ok(())
        }
        Err(app::error::AppError::Invalid(fields)) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(field, problem)| format!("  {field}: {}", problem.text(Locale::En)))
                .collect();
            anyhow::bail!("cannot create the user:\n{}", lines.join("\n"))
        }
        Err(e) => anyhow::bail!("cannot create the user: {}", e.text(Locale::En)),
    }
}

/// `eventhub check-config`: the settings as the server reads them, then each check. In
/// production mode a failed check makes it exit non-zero, as the server would refuse.
async fn check_config(config: &Config) -> Result<()> {
    println!("{config:#?}");
    let mode = if config.production {
        "production"
    } else {
        "development"
    };
    let problems = match Db::connect_with(&config.database_url, config.db_limits).await {
        Ok(db) => match production::problems(config, &db).await {
            Ok(problems) => problems,
            // A database not migrated yet has no accounts to check.
            Err(_) => production::settings_problems(config),
        },
        Err(e) => {
            println!("database: cannot connect ({e:#})");
            production::settings_problems(config)
        }
    };
    println!("\nmode: {mode} (EVENTHUB_ENV)");
    if problems.is_empty() {
        println!("production checks: all pass");
        return Ok(());
    }
    println!(
        "production checks: {} failing (a production server refuses to start):",
        problems.len()
    );
    for problem in &problems {
        println!("  - {problem}");
    }
    if config.production {
        anyhow::bail!("{} unsafe settings for production", problems.len());
    }
    Ok(())
}

async fn backup_now(config: &Config, to: Option<PathBuf>) -> Result<()> {
    let db = Db::connect_with(&config.database_url, config.db_limits).await?;
    let to = to.unwrap_or_else(|| {
        config
            .backups
            .dir
            .join(backup::archive_name(chrono::Utc::now()))
    });
    let written = backup::create(&db, &config.database_url, &config.data_dir, &to).await?;
    println!(
        "backup written to {} ({} bytes): {}; {} media files",
        written.path.display(),
        written.bytes,
        server::ops::summary(&written.manifest.counts),
        written.manifest.media_files
    );
    Ok(())
}

async fn restore_from(config: &Config, file: &std::path::Path, force: bool) -> Result<()> {
    let restored = restore::restore(&config.database_url, &config.data_dir, file, force).await?;
    println!(
        "restored {} (EventHub {}, {} backup of {}): {}; {} media files; the counts match \
         the manifest",
        file.display(),
        restored.manifest.version,
        restored.manifest.engine,
        restored.manifest.created_at.to_rfc3339(),
        server::ops::summary(&restored.counts),
        restored.media_files
    );
    Ok(())
}

async fn reset_all(config: &Config, yes: bool, keep_admins: bool) -> Result<()> {
    if !yes {
        confirm_reset(config, keep_admins)?;
    }
    let db = Db::connect_with(&config.database_url, config.db_limits).await?;
    db.migrate().await?;
    let cleared = reset::reset(&db, &config.data_dir, keep_admins).await?;
    println!(
        "reset: removed {}; {} image and mail files",
        server::ops::summary(&cleared.removed),
        cleared.files_removed
    );
    if keep_admins {
        println!("kept {} admin accounts", cleared.admins_kept);
    }
    Ok(())
}

/// Asks on the terminal; without one, `--yes` is required.
fn confirm_reset(config: &Config, keep_admins: bool) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("reset deletes all data: add --yes to confirm when not at a terminal");
    }
    eprintln!(
        "This deletes every event, booking, ticket, account{} and uploaded image in {}.\n\
         Type reset to go on:",
        if keep_admins {
            " (but the admins')"
        } else {
            ""
        },
        server::config::redact_url(&config.database_url)
    );
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "reset" {
        anyhow::bail!("not confirmed: nothing was deleted");
    }
    Ok(())
}

/// `eventhub health`: GET the local `/healthz`; any failure exits non-zero.
async fn health(url: Option<String>) -> Result<()> {
    let url = url.unwrap_or_else(|| {
        let addr = std::env::var("EVENTHUB_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
        // A server bound to every interface answers on the loopback one.
        let addr = addr
            .replacen("0.0.0.0:", "127.0.0.1:", 1)
            .replacen("[::]:", "[::1]:", 1);
        format!("http://{addr}/healthz")
    });
    let answer = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url} does not answer"))?;
    if !answer.status().is_success() {
        anyhow::bail!("{url} answered {}", answer.status());
    }
    println!("{url}: {}", answer.status());
    Ok(())
}
